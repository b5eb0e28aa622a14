"""One raw row → one output row: the row's facts (see :mod:`.columns`) evaluated, a bad row's error kept in its
own row so that the run goes on.

The same step for every caller: :meth:`skillcert.library.Library.evaluate_many`, ``skillcert batch`` in this
process or in worker processes, and the Dask adapter. What evaluates is anything with the library's ``decision``
and ``evaluate`` methods (:class:`Evaluator`), so this layer stands below the library.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

from ..compiler.model import Decision
from ..errors import Problem, SkillcertError
from ..runtime.evaluate import check_period
from ..runtime.result import DecisionResult
from .cells import result_row
from .columns import ERROR_KEY, row_facts

__all__ = ["Evaluator", "checked_decision", "evaluate_row"]


class Evaluator(Protocol):
    def decision(self, decision_id: str) -> Decision: ...

    def evaluate(self, decision_id: str, facts: Mapping[str, Any], *, as_of: dt.date | None = None,
                 allow_out_of_period: bool = False, detail: bool = True) -> DecisionResult: ...


def checked_decision(evaluator: Evaluator, decision_id: str, as_of: dt.date | None,
                     allow_out_of_period: bool) -> Decision:
    """The decision of a run, refused up front (before any row) when unknown or outside its period."""
    decision = evaluator.decision(decision_id)
    check_period(decision, as_of or dt.date.today(), allow_out_of_period)
    return decision


def evaluate_row(evaluator: Evaluator, decision: Decision, row: dict[str, Any], as_of: dt.date | None,
                 allow_out_of_period: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The output row of one raw row (see :func:`~.cells.result_row`), and the facts it was evaluated with."""
    if ERROR_KEY in row:
        return result_row(decision, {}, None, str(row[ERROR_KEY])), {}
    facts, passthrough = row_facts(decision, row)
    try:
        result = evaluator.evaluate(decision.id, facts, as_of=as_of, allow_out_of_period=allow_out_of_period,
                                    detail=False)
    except SkillcertError as exc:
        detail = ";".join(_problem_text(p) for p in exc.problems) if exc.problems else exc.message
        return result_row(decision, passthrough, None, f"{exc.code}: {detail}"), facts
    return result_row(decision, passthrough, result, None), facts


def _problem_text(problem: Problem) -> str:
    return f"{problem.message}" + (f"({problem.hint})" if problem.hint else "")
