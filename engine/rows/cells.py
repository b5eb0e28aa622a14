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

Files read by spreadsheet programs never carry a live formula (OWASP "CSV injection"): in CSV and XLSX output
(renderings ``csv`` and ``typed``) a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading ``'`` (:func:`safe_text`), so Excel and WPS show it as the text it is. Only text is changed:
numbers and dates stay values, and text that is a plain decimal number (``-1.5``) or one character long cannot
run and is left as it is. (In CSV only the carried-over columns are checked: the result's own columns are the
engine's text — codes, labels, ``[outcome] …`` reasons, ``code: …`` errors — or numbers and dates.) XLSX cells also lose the control characters a worksheet cannot hold (NUL, ESC …:
replaced by U+FFFD) and are cut at the 32,767 characters a cell holds (only the engine's own text can be that
long: input cells are refused beyond :data:`~.limits.MAX_CELL_CHARS`). Data frames (rendering ``text``) and
JSON Lines keep text exactly as it came: they are data, not spreadsheets.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ..compiler.model import Decision
from ..runtime.result import DecisionResult
from ..values import format_decimal, jsonable, to_json

__all__ = ["RESULT_COLUMNS", "RENDERINGS", "output_columns", "result_row", "text_cell", "typed_cell", "reasons_text",
           "row_renderer", "cells_renderer", "safe_text", "xlsx_text"]

RESULT_COLUMNS = ("outcome", "outcome_label", "score")
REASONS = "reasons"
_EXACT_IN_A_SPREADSHEET = Decimal("0.0001")  # a score with at most 4 decimals is a number in XLSX
RENDERINGS = ("text", "csv", "typed", "json")
XLSX_CELL_CHARS = 32_767  # what one worksheet cell holds
_SCORES_KEPT = 4_096  # score texts kept by a renderer

_FORMULA_START = frozenset("=+-@\t\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NOT_IN_XLSX = re.compile(r"[\000-\010\013\014\016-\037]")  # what openpyxl refuses (IllegalCharacterError)


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


def safe_text(text: str) -> str:
    """Text for a spreadsheet cell that cannot start a formula: ``'`` before ``=``, ``+``, ``-``, ``@``, tab or CR
    (OWASP), unless the text is one character or a plain decimal number."""
    if len(text) > 1 and text[0] in _FORMULA_START and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def xlsx_text(text: str) -> str:
    """Text for an XLSX cell: no character a worksheet refuses, at most a cell's length, no formula."""
    if not text.isprintable():
        text = _NOT_IN_XLSX.sub("\ufffd", text)
    if len(text) > XLSX_CELL_CHARS:
        text = text[:XLSX_CELL_CHARS - 1] + "…"
    return safe_text(text)


def _csv_cell(value: Any) -> Any:
    cell = text_cell(value)
    return safe_text(cell) if cell.__class__ is str and cell and cell[0] in _FORMULA_START else cell


def _xlsx_cell(column: str, value: Any) -> Any:
    cell = typed_cell(column, value)
    return xlsx_text(cell) if cell.__class__ is str else cell


def _xlsx_reasons(value: Any) -> Any:
    cell = reasons_text(value)
    return xlsx_text(cell) if cell.__class__ is str else cell


def row_renderer(rendering: str, columns: Sequence[str]) -> Callable[[dict[str, Any]], Any]:
    """How an output row becomes what is written: ``text`` cells (data frames), ``csv`` cells (text that starts
    no formula), ``typed`` cells (XLSX) or a ``json`` line (JSON Lines, reasons structured)."""
    if rendering == "json":
        return lambda row: to_json(row, indent=None)
    cols = list(columns)
    if rendering == "typed":
        return lambda row: [_xlsx_reasons(row.get(c)) if c == REASONS else _xlsx_cell(c, row.get(c)) for c in cols]
    cell_of: list[Callable[[Any], Any]]
    if rendering == "csv":  # the carried-over columns (before the result's) hold the input's text
        carried = cols.index(RESULT_COLUMNS[0]) if RESULT_COLUMNS[0] in cols else len(cols)
        cell_of = [_csv_cell if i < carried else reasons_text if c == REASONS else text_cell
                   for i, c in enumerate(cols)]
    elif rendering == "text":
        cell_of = [reasons_text if c == REASONS else text_cell for c in cols]
    else:
        raise ValueError(f"unknown rendering {rendering!r}")
    pairs = list(zip(cell_of, cols, strict=True))
    return lambda row: [cell(row.get(c)) for cell, c in pairs]


def _reasons_lines(result: DecisionResult) -> str | None:
    """The reasons cell of a result (as :func:`reasons_text` gives it for the result's row)."""
    reasons = result.reasons
    if not reasons:
        return None
    return "\n".join(f"[{r.outcome or '-'}] {r.message}({r.rule})" for r in reasons)


def cells_renderer(rendering: str, decision: Decision, carried: Sequence[str]
                   ) -> Callable[[Sequence[Any], DecisionResult | None, str | None], Any]:
    """How one row is written from its carried-over cells (in the order of ``carried``, None for a cell not read)
    and its result or its error, for the renderings ``text``, ``csv`` and ``typed``: the very cells
    :func:`row_renderer` makes of :func:`result_row`'s row, without making that row (reasons go straight to their
    text lines)."""
    columns = output_columns(decision, carried)
    deadlines = tuple(decision.deadlines)
    empty = (None,) * (len(RESULT_COLUMNS) + len(deadlines) + 1)  # outcome … reasons of a row with an error

    scores: dict[Decimal, str] = {}  # a score's text, for text renderings (scores repeat: made once each)

    def score_text(score: Any) -> Any:
        if score.__class__ is not Decimal or not score.is_finite():
            return score
        text = scores.get(score)
        if text is None:
            text = format_decimal(score)
            if len(scores) < _SCORES_KEPT:
                scores[score] = text  # equal decimals (94.6, 94.60) have the one text
        return text

    as_text = rendering != "typed"

    def values(result: DecisionResult | None, error: str | None) -> Sequence[Any]:
        if result is None:
            return (*empty, error)
        dl = result.deadlines
        return (result.outcome, result.outcome_label, score_text(result.score) if as_text else result.score,
                *[dl.get(n) for n in deadlines], _reasons_lines(result), None)

    if rendering == "csv":  # the carried-over cells hold the input's text: guarded; the result's are the engine's
        def csv_row(cells: Sequence[Any], result: DecisionResult | None, error: str | None) -> list[Any]:
            return [*map(_csv_cell, cells), *map(text_cell, values(result, error))]
        return csv_row
    if rendering == "typed":
        def typed_row(cells: Sequence[Any], result: DecisionResult | None, error: str | None) -> list[Any]:
            return list(map(_xlsx_cell, columns, (*cells, *values(result, error))))
        return typed_row
    if rendering == "text":
        def text_row(cells: Sequence[Any], result: DecisionResult | None, error: str | None) -> list[Any]:
            return [*map(text_cell, cells), *map(text_cell, values(result, error))]
        return text_row
    raise ValueError(f"no cells renderer for rendering {rendering!r}")
