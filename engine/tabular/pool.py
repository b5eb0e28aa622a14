"""The process pool: rows evaluated by N worker processes, results in input order.

Each worker rebuilds the caller's library from its picklable description (:class:`~skillcert.library.LibrarySpec`:
folder, plugins, extra holiday years, evaluator) and compiles the pack once. Workers are started with
:data:`START_METHOD` (a fresh interpreter or a clean fork server, never a fork of this process and its threads),
so that everything a worker needs comes from the spec and the task. As with any such pool, a Python script that
runs a batch with workers keeps its main code under ``if __name__ == "__main__":`` (a worker imports the script's
module to find what it defines; ``python -m skillcert`` and the ``skillcert`` command need nothing). The fork server imports the engine once
(:func:`prestart` starts it early); with ``spawn`` each worker imports it. Rows go out in chunks of :data:`CHUNK` as
they were read (lists of cells for XLSX, JSON Lines and YAML), or, for CSV files, as blocks of the file's bytes
cut where records end (:class:`~.reading.CsvBlock`: the worker parses them, nothing per row is pickled), at most a
few chunks per worker in flight, so memory stays bounded whatever the number of rows; workers also render and
encode the output rows and count their outcomes (see :func:`~.evaluation.chunk_finisher`: a chunk comes back as
CSV or JSON Lines text and a few counts), so the writing process only reads bytes and writes them.

How many workers (:func:`worker_count`): at most the CPU cores this process may use, and at most one per
:data:`CHUNK` rows. Workers ignore SIGINT (the run's process is interrupted, and stops them); whenever the run
ends without finishing — an interrupt, SIGTERM, an error — the workers are terminated and joined, none is left
behind. A worker that could not rebuild the library, or that died, is a :class:`WorkersFailed` error (exit 2).
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..errors import UsageError
from ..library import Library, LibrarySpec
from .evaluation import Finished, RowTask, chunk_finisher

__all__ = ["CHUNK", "IN_FLIGHT", "START_METHOD", "WorkersFailed", "chunks", "evaluate_in_pool", "map_in_pool", "prestart",
           "usable_cores", "worker_count"]

CHUNK = 500          # rows per task sent to a worker
IN_FLIGHT = 3        # chunks per worker submitted ahead
START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
_JOIN_SECONDS = 5    # waited for each terminated worker

_finish: Callable[[Any], Any] | None = None  # in a worker: the task's finisher of chunks
_init_error = ""  # in a worker: why the finisher could not be made


class WorkersFailed(UsageError):
    """The worker processes could not run: a worker could not rebuild the library, or died."""

    code = "workers-failed"


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity, where the system says)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def worker_count(asked: int, rows: int | None = None) -> int:
    """The workers to start for ``asked``: at most the usable cores, and at most one per :data:`CHUNK` of
    ``rows`` (when known)."""
    n = min(asked, usable_cores())
    if rows is not None:
        n = min(n, max(-(-rows // CHUNK), 1))
    return max(n, 1)


def _context() -> Any:
    context = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        context.set_forkserver_preload([__name__])  # workers are forked with the engine imported
    return context


def prestart() -> None:
    """Start the fork server now, so that its start-up overlaps the caller's (loading the packs, reading the
    header); the pool then forks its workers from it. Nothing to do with another start method."""
    if START_METHOD == "forkserver":
        from multiprocessing import forkserver

        _context()
        with contextlib.suppress(Exception):  # the pool will start it, or say why it cannot
            forkserver.ensure_running()


def _worker_init(make: Callable[[Any], Callable[[Any], Any]], task: Any) -> None:
    global _finish, _init_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the run's process is interrupted, and stops its workers
    try:
        _finish = make(task)
    except Exception as exc:  # said by the first chunk, in the run's process
        _init_error = str(exc) or type(exc).__name__


def _batch_finisher(task: tuple[LibrarySpec, RowTask]) -> Callable[[Any], Finished]:
    spec, row_task = task
    return chunk_finisher(Library.from_spec(spec), row_task)


def _worker_chunk(rows: Any) -> Any:
    finish = _finish
    if finish is None:
        raise WorkersFailed(f"工作进程无法重建政策库:{_init_error}")
    return finish(rows)


def chunks(rows: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """``rows`` in lists of ``size`` (the last one shorter)."""
    iterator = iter(rows)
    while True:
        chunk = list(itertools.islice(iterator, size))
        if not chunk:
            return
        yield chunk


def evaluate_in_pool(spec: LibrarySpec, task: RowTask, chunks: Iterable[Any], workers: int) -> Iterator[Finished]:
    """The finished ``chunks`` (lists of rows, or blocks of a CSV file's records; see
    :func:`~.evaluation.chunk_finisher`), evaluated by ``workers`` processes that rebuild the library ``spec``
    describes (:meth:`~skillcert.library.Library.spec`), in input order. Closing the iterator before its end
    terminates the workers."""
    return map_in_pool(_batch_finisher, (spec, task), chunks, workers)


def map_in_pool(make: Callable[[Any], Callable[[Any], Any]], task: Any, chunks: Iterable[Any],
                workers: int) -> Iterator[Any]:
    """``chunks`` mapped, in input order, by the function ``make(task)`` returns in each of ``workers`` processes
    (``make``: a module-level function, ``task`` picklable; made once per worker), at most :data:`IN_FLIGHT`
    chunks per worker ahead. Closing the iterator before its end terminates the workers."""
    window: collections.deque[Future[Any]] = collections.deque()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(),
                               initializer=_worker_init, initargs=(make, task))
    finished = False
    try:
        for chunk in chunks:
            window.append(pool.submit(_worker_chunk, chunk))
            if len(window) >= IN_FLIGHT * workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
        finished = True
    except BrokenProcessPool:
        raise WorkersFailed("工作进程意外退出(可能是内存不足或被系统终止;在 Python 脚本中调用时,脚本的主体须写在 "
                            "if __name__ == \"__main__\": 之下);请减少 --workers 后重试") from None
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:
            _stop(pool)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's workers now (an unfinished run): nothing left running, nothing left behind."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            if process.is_alive():
                process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(_JOIN_SECONDS)
