"""The rows of one batch run: a :class:`RowTask` says, picklably, what to do with each row (evaluate it, render
it for the output, find its group for the summary); :func:`row_finisher` makes the function that does it in a given
process, this one or a worker (:mod:`.pool`). Each row goes through :func:`skillcert.rows.evaluation.evaluate_row`.

Whatever fails in one row — rendering and grouping included — is that row's error (``row-failed``), written in
its place; the run goes on. In files whose rows have their own keys (JSON Lines, YAML), a key that is neither an
input nor one of the output's carried columns (those of the first row) would be lost from a CSV or XLSX output:
the row is an error naming it (``row-unknown-column``) instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..compiler.model import Decision
from ..library import Library
from ..rows.cells import result_row, row_renderer
from ..rows.columns import carried_cells
from ..rows.evaluation import evaluate_row, failed_text
from .summary import group_key

__all__ = ["RowTask", "Done", "row_finisher"]


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


# A finished row: what the writer writes (already rendered, so that workers do that work too), its outcome,
# whether it has an error, and the heading of its group in the summary (None when not grouping).
Done = tuple[Any, Any, bool, str | None]


def row_finisher(library: Library, task: RowTask) -> Callable[[dict[str, Any]], Done]:
    """The function that evaluates and renders one raw row of ``task`` with ``library``."""
    decision = library.decision(task.decision_id)
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
