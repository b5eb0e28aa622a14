"""The rows of one batch run: a :class:`RowTask` says, picklably, what to do with each row (evaluate it, render
it for the output, find its group for the summary); :func:`row_finisher` makes the function that does it in a given
process, this one or a worker (:mod:`.pool`). Each row goes through :func:`skillcert.rows.evaluation.evaluate_row`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..library import Library
from ..rows.cells import row_renderer
from ..rows.evaluation import evaluate_row
from .summary import group_key

__all__ = ["RowTask", "Done", "row_finisher"]


@dataclass(frozen=True)
class RowTask:
    """What to do with each row of one run, picklable (it is sent to worker processes)."""

    decision_id: str
    as_of: dt.date | None
    allow_out_of_period: bool
    columns: tuple[str, ...]      # the output columns
    rendering: str                # how output rows are written: "text", "typed" or "json" (see .cells)
    group_by: str | None = None   # the input the summary counts by


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

    def finish(row: dict[str, Any]) -> Done:
        out, facts = evaluate_row(library, decision, row, as_of, allow)
        group = key(facts.get(group_by)) if group_by is not None else None
        return render(out), out["outcome"], bool(out["error"]), group
    return finish
