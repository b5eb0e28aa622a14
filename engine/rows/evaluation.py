"""One raw row → one output row: the row's facts (see :mod:`.columns`) evaluated, a bad row's error kept in its
own row so that the run goes on.

Whatever goes wrong with one row stays in that row: an engine error (bad facts, a row a reader could not read, a
cell that cannot be a value) is its ``error`` as ``code: message``; any other exception — from conversion,
evaluation, a plugin — is ``row-failed: …`` with the exception's message, never the end of the run. Only
interrupts (``KeyboardInterrupt``, ``SystemExit``) stop a run. The row's carried-over cells (ids, names) are kept
whenever they can be read, so that a failed row can be found.

The same step for every caller: :meth:`skillcert.library.Library.evaluate_many`, ``skillcert batch`` in this
process or in worker processes, and the Dask adapter. What evaluates is anything with the library's ``decision``
and ``evaluate`` methods (:class:`Evaluator`), so this layer stands below the library.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ..compiler.model import Decision
from ..errors import Problem, SkillcertError
from ..runtime.evaluate import check_period
from ..runtime.result import DecisionResult
from .cells import result_row
from .columns import ERROR_KEY, HeaderRows, RowError, carried_cells, row_facts

__all__ = ["Evaluator", "checked_decision", "evaluate_row", "evaluate_cells", "failed_text", "error_text", "MAX_ERROR_CHARS"]

MAX_ERROR_CHARS = 2_000  # an unexpected exception's message, as quoted in its row


class Evaluator(Protocol):
    def decision(self, decision_id: str, *, as_of: dt.date | None = None,
                 allow_out_of_period: bool = True) -> Decision: ...

    def evaluate(self, decision_id: str, facts: Mapping[str, Any], *, as_of: dt.date | None = None,
                 allow_out_of_period: bool = False, detail: bool = True, checked: bool = False
                 ) -> DecisionResult: ...


def checked_decision(evaluator: Evaluator, decision_id: str, as_of: dt.date | None,
                     allow_out_of_period: bool) -> Decision:
    """The decision of a run (of its versions, the one in force at the as-of date), refused up front (before any
    row) when unknown or outside its period."""
    day = as_of or dt.date.today()
    decision = evaluator.decision(decision_id, as_of=day, allow_out_of_period=allow_out_of_period)
    check_period(decision, day, allow_out_of_period)
    return decision


def evaluate_row(evaluator: Evaluator, decision: Decision, row: dict[Any, Any], as_of: dt.date | None,
                 allow_out_of_period: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The output row of one raw row (see :func:`~.cells.result_row`), and the facts it was evaluated with."""
    try:
        return _evaluate_row(evaluator, decision, row, as_of, allow_out_of_period)
    except Exception as exc:  # e.g. an output row that cannot be made: still one row, with its error
        return result_row(decision, _carried(decision, row), None, failed_text(exc)), {}


def _evaluate_row(evaluator: Evaluator, decision: Decision, row: dict[Any, Any], as_of: dt.date | None,
                  allow_out_of_period: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    unread = row.get(ERROR_KEY)
    if unread is not None and unread.__class__ is RowError:
        return result_row(decision, _carried(decision, row), None, str(unread)), {}
    try:
        facts, passthrough = row_facts(decision, row)
    except SkillcertError as exc:
        return result_row(decision, _carried(decision, row), None, error_text(exc)), {}
    except Exception as exc:
        return result_row(decision, _carried(decision, row), None, failed_text(exc)), {}
    try:
        result = evaluator.evaluate(decision.id, facts, as_of=as_of, allow_out_of_period=allow_out_of_period,
                                    detail=False)
    except SkillcertError as exc:
        return result_row(decision, passthrough, None, error_text(exc)), facts
    except Exception as exc:
        return result_row(decision, passthrough, None, failed_text(exc)), facts
    return result_row(decision, passthrough, result, None), facts


def evaluate_cells(evaluator: Evaluator, rows: HeaderRows, cells: Sequence[Any], unread: RowError | None,
                   as_of: dt.date | None, allow_out_of_period: bool, group_by: str | None = None
                   ) -> tuple[DecisionResult | None, str | None, Any]:
    """One row of a header's cells (see :class:`~.columns.HeaderRows`; ``unread``: why a reader could not read it):
    its result or its error (the ``error`` cell :func:`evaluate_row` writes for it), and the value of the input
    ``group_by`` in the facts it was evaluated with (None when not given, or when the row has no facts). The row's
    carried-over cells are the caller's (:meth:`~.columns.HeaderRows.carried`).

    Facts the columns have checked themselves (:meth:`~.columns.HeaderRows.checked`) are evaluated as they are
    (the library's trusted entry, ``checked=True``); any other row takes the usual path, whose facts check says
    what is wrong."""
    if unread is not None:
        return None, str(unread), None
    decision = rows.decision
    try:
        facts = rows.checked(cells)
        trusted = facts is not None
        if facts is None:
            facts = rows.facts(cells)
    except SkillcertError as exc:
        return None, error_text(exc), None
    except Exception as exc:
        return None, failed_text(exc), None
    group = None
    try:
        if group_by is not None:
            group = rows.given(cells, group_by) if trusted else facts.get(group_by)
        result = evaluator.evaluate(decision.id, facts, as_of=as_of, allow_out_of_period=allow_out_of_period,
                                    detail=False, checked=trusted)
    except SkillcertError as exc:
        return None, error_text(exc), group
    except Exception as exc:
        return None, failed_text(exc), group
    return result, None, group


def failed_text(exc: BaseException) -> str:
    """The error cell of a row that failed unexpectedly: ``row-failed:`` and the exception's message (bounded)."""
    try:
        message = f"{type(exc).__name__}: {exc}"
    except Exception:  # an exception whose message cannot be made
        message = type(exc).__name__
    if len(message) > MAX_ERROR_CHARS:
        message = message[:MAX_ERROR_CHARS] + "…"
    return f"row-failed: 这一行未能处理({message})"


def error_text(exc: SkillcertError) -> str:
    """A row's error as the output's ``error`` cell says it: the code, then each problem (or the message)."""
    detail = ";".join(_problem_text(p) for p in exc.problems) if exc.problems else exc.message
    return f"{exc.code}: {detail}"


def _carried(decision: Decision, row: dict[Any, Any]) -> dict[str, Any]:
    try:
        return carried_cells(decision, row)
    except Exception:
        return {}


def _problem_text(problem: Problem) -> str:
    return f"{problem.message}" + (f"({problem.hint})" if problem.hint else "")
