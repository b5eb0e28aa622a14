"""The process pool: rows evaluated by N worker processes, results in input order.

Each worker rebuilds the caller's library from its picklable description (:class:`~skillcert.library.LibrarySpec`:
folder, plugins, extra holiday years, evaluator) and compiles the pack once. Rows go out in chunks, at most a
few chunks per worker in flight, so memory stays bounded whatever the number of rows; workers also render the
output rows (see :mod:`skillcert.rows.cells`), so the writing process only writes.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from ..library import Library, LibrarySpec
from .evaluation import Done, RowTask, row_finisher

__all__ = ["CHUNK", "evaluate_in_pool"]

CHUNK = 500          # rows per task sent to a worker
IN_FLIGHT = 3        # chunks per worker submitted ahead

_finish: Callable[[dict[str, Any]], Done] | None = None  # in a worker: the task's finisher


def _worker_init(spec: LibrarySpec, task: RowTask) -> None:
    global _finish
    _finish = row_finisher(Library.from_spec(spec), task)


def _worker_chunk(rows: list[dict[str, Any]]) -> list[Done]:
    assert _finish is not None
    finish = _finish
    return [finish(row) for row in rows]


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def evaluate_in_pool(spec: LibrarySpec, task: RowTask, rows: Iterable[dict[str, Any]],
                     workers: int) -> Iterator[Done]:
    """The finished rows of ``rows``, evaluated by ``workers`` processes that rebuild the library ``spec``
    describes (:meth:`~skillcert.library.Library.spec`), in input order."""
    window: collections.deque[Future[list[Done]]] = collections.deque()
    with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init, initargs=(spec, task)) as pool:
        for chunk in _chunks(rows, CHUNK):
            window.append(pool.submit(_worker_chunk, chunk))
            if len(window) >= IN_FLIGHT * workers:
                yield from window.popleft().result()
        while window:
            yield from window.popleft().result()
