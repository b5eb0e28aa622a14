"""The rows of one batch run: a :class:`RowTask` says, picklably, what to do with each row (evaluate it, render
it for the output, find its group for the summary); :func:`chunk_finisher` makes the function that does it for a
chunk of rows in a given process, this one or a worker (:mod:`.pool`), and hands back what the writer writes for
the whole chunk (:func:`~.writers.chunk_encoder`: CSV text, JSON Lines text, XLSX cells), so that the writing
process only writes. Rows of a file with a header (CSV, XLSX) are lists of cells, split by converters compiled
once per column (:class:`skillcert.rows.columns.HeaderRows`, :func:`skillcert.rows.evaluation.evaluate_cells`);
rows with their own keys (JSON Lines, YAML) are mappings
(:func:`skillcert.rows.evaluation.evaluate_row`). Both give the same cells for the same row.

Whatever fails in one row — rendering and grouping included — is that row's error (``row-failed``), written in
its place; the run goes on. In files whose rows have their own keys (JSON Lines, YAML), a key that is neither an
input nor one of the output's carried columns (those of the first row) would be lost from a CSV or XLSX output:
the row is an error naming it (``row-unknown-column``) instead.

A caller that keeps each row's decision (the server's decision log) gives :func:`chunk_finisher` a :data:`RowSeen`:
every row of a file with a header is then evaluated in full — the result a single case gets, not the batch's
shorter one — and handed to it, in order, with its facts and its carried-over cells; a row with an error is handed
with its error. That is the only evaluation of the row: the output row is rendered from the same result.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..compiler.model import Decision
from ..library import Library
from ..rows.cells import cells_renderer, result_row, row_renderer
from ..rows.columns import HeaderRows, carried_cells
from ..rows.evaluation import evaluate_cells, evaluate_row, failed_text
from ..runtime.result import DecisionResult
from .reading import CsvBlock, block_rows
from .summary import group_key
from .writers import chunk_encoder

__all__ = ["RowTask", "Done", "Mark", "Finished", "RowSeen", "row_finisher", "chunk_finisher"]


@dataclass(frozen=True)
class RowTask:
    """What to do with each row of one run, picklable (it is sent to worker processes)."""

    decision_id: str
    as_of: dt.date | None
    allow_out_of_period: bool
    columns: tuple[str, ...]      # the output columns
    rendering: str                # how output rows are written: "csv", "typed", "json" … (see .cells)
    group_by: str | None = None   # the input the summary counts by
    keyed: bool = False           # rows have their own keys (JSON Lines, YAML): a key outside the columns is an error
    header: tuple[str, ...] | None = None  # rows are lists of cells under these column names ("": no column)


# A finished row: what the writer writes (already rendered, so that workers do that work too), its outcome,
# whether it has an error, and the heading of its group in the summary (None when not grouping).
Done = tuple[Any, Any, bool, str | None]
# What the summary counts of a finished row: its outcome, whether it has an error, its group.
Mark = tuple[Any, bool, str | None]
# A finished chunk: what the writer writes for all its rows (see .writers.chunk_encoder), and its marks with how
# many rows have each (in the order the marks first come: the summary lists equal counts in that order). A block
# of a CSV file that was not cut where a record ends comes back as itself without its data, and no marks: the
# rows from there are read in order (see .reading.csv_blocks).
Finished = tuple[Any, list[tuple[Mark, int]]]
# A row as it is finished, for a caller that keeps each one: its carried-over cells (by output column), then its
# facts and full result, or (None, None, its error text).
RowSeen = Callable[[Mapping[str, Any], Mapping[str, Any] | None, DecisionResult | None, str | None], None]


def chunk_finisher(library: Library, task: RowTask, seen: RowSeen | None = None) -> Callable[[Any], Finished]:
    """The function that evaluates, renders and encodes one chunk of ``task`` with ``library``: a list of raw rows,
    or a block of a CSV file's records (:class:`~.reading.CsvBlock`), read here; for XLSX output, ``(the sheet row
    of the first, the rows)``. ``seen`` is handed every row of a task with a header (see the module doc)."""
    finish = row_finisher(library, task, seen)
    encode = chunk_encoder(task.rendering)
    names = list(task.header or ())

    def finish_chunk(rows: Any) -> Finished:
        start = 0
        if rows.__class__ is tuple:  # (the output row of the first, rows): XLSX sheet rows carry their number
            start, rows = rows
        if rows.__class__ is CsvBlock:
            block = rows
            rows = block_rows(block, names)
            if rows is None:
                return dataclasses.replace(block, data=b""), []
        done = list(map(finish, rows))
        marks = collections.Counter([d[1:] for d in done])
        return encode([d[0] for d in done], start), list(marks.items())
    return finish_chunk


def row_finisher(library: Library, task: RowTask, seen: RowSeen | None = None) -> Callable[[Any], Done]:
    """The function that evaluates and renders one raw row of ``task`` with ``library``: a mapping, or for a task
    with a header a list of cells (or ``(cells, RowError)`` for a row a reader could not read). ``seen``: see the
    module doc; rows with their own keys (no header) are not handed to it, a :class:`ValueError`."""
    if task.header is not None:
        return _cells_finisher(library, task, task.header, seen)
    if seen is not None:
        raise ValueError("rows are handed to a RowSeen only from a file with a header")
    decision = library.decision(task.decision_id, as_of=task.as_of)  # the version in force then
    render = row_renderer(task.rendering, task.columns)
    group_by = task.group_by
    key = group_key(decision, group_by)
    as_of, allow = task.as_of, task.allow_out_of_period

    known = frozenset(task.columns)
    keyed = task.keyed

    def finish(row: dict[str, Any]) -> Done:
        try:
            out, facts = evaluate_row(library, decision, row, as_of, allow)
            if keyed and not known.issuperset(out):
                return _failed(decision, render, row, _unknown_keys(row, out, known))
            group = key(facts.get(group_by)) if group_by is not None else None
            return render(out), out["outcome"], bool(out["error"]), group
        except Exception as exc:
            return _failed(decision, render, row, failed_text(exc))
    return finish


class _InFull:
    """The library as :func:`evaluate_cells` uses it, for rows that are handed on: each evaluated in full (a
    single case's result), its facts kept for the caller."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self.facts: Mapping[str, Any] | None = None

    def decision(self, decision_id: str, *, as_of: dt.date | None = None,
                 allow_out_of_period: bool = True) -> Decision:
        return self.library.decision(decision_id, as_of=as_of, allow_out_of_period=allow_out_of_period)

    def evaluate(self, decision_id: str, facts: Mapping[str, Any], *, as_of: dt.date | None = None,
                 allow_out_of_period: bool = False, detail: bool = True, checked: bool = False) -> DecisionResult:
        self.facts = facts
        return self.library.evaluate(decision_id, facts, as_of=as_of, allow_out_of_period=allow_out_of_period,
                                     checked=checked)


def _cells_finisher(library: Library, task: RowTask, header: Sequence[str],
                    seen: RowSeen | None = None) -> Callable[[Any], Done]:
    decision = library.decision(task.decision_id, as_of=task.as_of)  # the version in force then
    rows = HeaderRows(decision, header)
    group_by = task.group_by
    key = group_key(decision, group_by)
    as_of, allow = task.as_of, task.allow_out_of_period
    render: Callable[[Any, DecisionResult | None, str | None], Any]
    if task.rendering == "json":  # structured: the output row as result_row makes it
        as_json = row_renderer("json", task.columns)

        def json_row(cells: Sequence[Any] | None, result: DecisionResult | None, error: str | None) -> Any:
            passthrough = rows.passthrough(cells) if cells is not None else {}
            return as_json(result_row(decision, passthrough, result, error))
        render = json_row
        carried: Callable[[Sequence[Any]], Any] = lambda cells: cells  # noqa: E731 - passthrough() picks them
        nothing: Any = None
    else:
        render = cells_renderer(task.rendering, decision, rows.carried_names)
        carried = rows.carried
        nothing = (None,) * len(rows.carried_names)

    evaluator: Library | _InFull = library if seen is None else _InFull(library)

    def finish(row: Any) -> Done:
        cells, unread = (row, None) if row.__class__ is list else row
        done: Done
        try:
            result, error, value = evaluate_cells(evaluator, rows, cells, unread, as_of, allow, group_by)
            group = key(value) if group_by is not None else None
            if result is None:
                done = render(carried(cells), None, error), None, True, group
            else:
                done = render(carried(cells), result, None), result.outcome, False, group
        except Exception as exc:  # rendering or grouping: the row's error, with its carried cells if they render
            result, error = None, failed_text(exc)
            try:
                done = render(carried(cells), None, error), None, True, None
            except Exception:
                done = render(nothing, None, error), None, True, None
        if seen is not None:  # outside the try: what the caller's function raises is not this row's error
            facts = evaluator.facts if isinstance(evaluator, _InFull) and result is not None else None
            seen(rows.passthrough(cells), facts, result, error)
        return done
    return finish


def _unknown_keys(row: dict[str, Any], out: dict[str, Any], known: frozenset[str]) -> str:
    extra = "、".join(f"'{k}'" for k in out if k not in known)
    return (f"row-unknown-column: 这一行的键 {extra} 既不是输入,也不是第一行已有的列,输出中没有它的位置;"
            "请改正拼写,或在第一行也写出它")


def _failed(decision: Decision, render: Callable[[dict[str, Any]], Any], row: dict[str, Any], error: str) -> Done:
    """A row that failed after its evaluation: its error, with its carried-over cells if they can be rendered."""
    try:
        return render(result_row(decision, carried_cells(decision, row), None, error)), None, True, None
    except Exception:  # the carried cells themselves cannot be written: the error alone
        return render(result_row(decision, {}, None, error)), None, True, None

