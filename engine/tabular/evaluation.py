"""One raw row → one output row: the row's facts (see :mod:`.columns`) evaluated by the library, a bad row's
error kept in its own row so that the run goes on.

The same step for every caller: ``skillcert batch`` in this process or in worker processes (:mod:`.pool`),
:func:`~skillcert.tabular.batch.evaluate_many` and the Dask adapter (:mod:`.dask`). A :class:`RowTask` says, picklably,
what to do with the rows of one run; :func:`row_finisher` makes the function that does it in a given process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..compiler.model import Decision
from ..errors import Problem, SkillcertError
from ..library import Library
from ..runtime.evaluate import check_period
from .cells import result_row, row_renderer
from .columns import row_facts
from .reading import ERROR_KEY
from .summary import group_key

__all__ = ["checked_decision", "evaluate_row", "RowTask", "Done", "row_finisher"]


def checked_decision(library: Library, decision_id: str, as_of: dt.date | None,
                     allow_out_of_period: bool) -> Decision:
    """The decision of a run, refused up front (before any row) when unknown or outside its period."""
    decision = library.decision(decision_id)
    check_period(decision, as_of or dt.date.today(), allow_out_of_period)
    return decision


def evaluate_row(library: Library, decision: Decision, row: dict[str, Any], as_of: dt.date | None,
                 allow_out_of_period: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The output row of one raw row (see :func:`~.cells.result_row`), and the facts it was evaluated with."""
    if ERROR_KEY in row:
        return result_row(decision, {}, None, str(row[ERROR_KEY])), {}
    facts, passthrough = row_facts(decision, row)
    try:
        result = library.evaluate(decision.id, facts, as_of=as_of, allow_out_of_period=allow_out_of_period,
                                  detail=False)
    except SkillcertError as exc:
        detail = ";".join(_problem_text(p) for p in exc.problems) if exc.problems else exc.message
        return result_row(decision, passthrough, None, f"{exc.code}: {detail}"), facts
    return result_row(decision, passthrough, result, None), facts


def _problem_text(problem: Problem) -> str:
    return f"{problem.message}" + (f"({problem.hint})" if problem.hint else "")


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
