"""Result → output row and cells: the output columns, the output row of a result, and the one renderer of cells.

Output columns, for every output: the carried-over columns of the input (ids, names) first, then ``outcome``,
``outcome_label``, ``score``, ``deadlines.<name>`` for each deadline of the decision, ``reasons``, ``error``.

An output row (:func:`result_row`) keeps values as they are: decimals, dates, and reasons as a list of
``{"rule", "outcome", "message"}``. JSON Lines output writes it so (structured reasons, exact decimals).

Spreadsheet-like outputs — CSV, XLSX and the Dask adapter's data frames — share one renderer of cells
(:func:`text_cell`): empty for nothing, exact decimals as text (``94.6``, never a binary float), dates ISO,
lists and records as JSON text, and **reasons as text, one line per reason**: ``[outcome] message(rule)``
(``[-]`` for a reason without an outcome). Text lines were chosen over JSON because these outputs are read by
people, in a spreadsheet; a program that needs the reasons structured reads JSON Lines or calls
``evaluate_many``. XLSX keeps the cells a spreadsheet can hold typed (:func:`typed_cell`): dates as dates, and a
score that a spreadsheet number holds exactly as a number; everything else as :func:`text_cell`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ..compiler.model import Decision
from ..runtime.result import DecisionResult
from ..values import format_decimal, jsonable, to_json

__all__ = ["RESULT_COLUMNS", "output_columns", "result_row", "text_cell", "typed_cell", "reasons_text",
           "row_renderer"]

RESULT_COLUMNS = ("outcome", "outcome_label", "score")
REASONS = "reasons"
_EXACT_IN_A_SPREADSHEET = Decimal("0.0001")  # a score with at most 4 decimals is a number in XLSX


def output_columns(decision: Decision, passthrough: Sequence[str]) -> list[str]:
    """The columns of the output, in order: the carried-over ones, then the result's."""
    return [*passthrough, *RESULT_COLUMNS, *(f"deadlines.{n}" for n in decision.deadlines), REASONS, "error"]


def result_row(decision: Decision, passthrough: dict[str, Any], result: DecisionResult | None,
               error: str | None) -> dict[str, Any]:
    """One output row: the carried-over columns, then outcome, label, score, each deadline, reasons, error."""
    row: dict[str, Any] = dict(passthrough)
    if result is not None:
        row["outcome"] = result.outcome
        row["outcome_label"] = result.outcome_label
        row["score"] = result.score
        for name in decision.deadlines:
            row[f"deadlines.{name}"] = result.deadlines.get(name)
        row[REASONS] = [{"rule": r.rule, "outcome": r.outcome, "message": r.message} for r in result.reasons]
        row["error"] = None
    else:
        row.update({"outcome": None, "outcome_label": None, "score": None})
        for name in decision.deadlines:
            row[f"deadlines.{name}"] = None
        row[REASONS] = []
        row["error"] = error
    return row


def text_cell(value: Any) -> Any:
    """A cell of a CSV file or a data frame: None for nothing, decimals exact as text, dates ISO, lists JSON."""
    if value is None or value.__class__ is str:
        return value
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        if not value and isinstance(value, list):
            return None
        return json.dumps(jsonable(value), ensure_ascii=False)
    return value


def reasons_text(reasons: Any) -> Any:
    """The reasons cell: one line per reason, ``[outcome] message(rule)``; None when there is none."""
    if not reasons:
        return None
    if not isinstance(reasons, list):
        return text_cell(reasons)
    return "\n".join(f"[{r['outcome'] or '-'}] {r['message']}({r['rule']})" for r in reasons)


def typed_cell(column: str, value: Any) -> Any:
    """A cell of an XLSX sheet: dates stay dates, an exactly representable score a number, the rest text."""
    if isinstance(value, dt.date):
        return value
    if column == "score" and isinstance(value, Decimal) and value == value.quantize(_EXACT_IN_A_SPREADSHEET):
        return float(value)
    return text_cell(value)


def row_renderer(rendering: str, columns: Sequence[str]) -> Callable[[dict[str, Any]], Any]:
    """How an output row becomes what is written: ``text`` cells (CSV, data frames), ``typed`` cells (XLSX) or
    a ``json`` line (JSON Lines, reasons structured)."""
    if rendering == "json":
        return lambda row: to_json(row, indent=None)
    cols = list(columns)
    if rendering == "typed":
        return lambda row: [reasons_text(row.get(c)) if c == REASONS else typed_cell(c, row.get(c)) for c in cols]
    if rendering != "text":
        raise ValueError(f"unknown rendering {rendering!r}")
    cell_of = [reasons_text if c == REASONS else text_cell for c in cols]
    pairs = list(zip(cell_of, cols, strict=True))
    return lambda row: [cell(row.get(c)) for cell, c in pairs]
