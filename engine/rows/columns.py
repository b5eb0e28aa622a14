"""Columns → facts: which column of a row is which input of the decision, and how its cells become values.

A column is an input by its name (``kind``), by a dotted path into a record input (``record.field``) or by the
input's Chinese label, as staff spreadsheets usually head their columns. Any other column (ids, names) is carried
over to the output unchanged. Cells of spreadsheets and CSV files are text: they are converted by the type the
input declares (``true`` / ``是`` for a bool, ``2025-06-30`` or a spreadsheet date for a date, JSON for a list or a
record, an enum's Chinese label for its code); anything unclear is left as it is, for the facts' validation to
report with the input's name and label. An empty cell is left out: the input's default applies.

This is the one module that reads the inputs' declarations for rows (names, labels, types); ``evaluate_many``,
batch files and the Dask adapter all go through it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import weakref
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from ..compiler.model import Decision
from ..lang.types import VType

__all__ = ["ERROR_KEY", "ColumnPlan", "column_plan", "carried_columns", "row_facts", "input_label", "input_type"]

ERROR_KEY = "__error__"  # a row that could not be read carries its message under this key

# How a column maps to the facts: the path of the input (one name, or a record input and its fields) and the
# converter of its cells (None for a field the declaration does not know: the cell is kept as it is).
ColumnPlan = tuple[tuple[str, ...], Callable[[Any], Any] | None]

# The plans of the columns seen so far, per decision (beside it: compiled decisions are frozen).
_PLANS: weakref.WeakKeyDictionary[Decision, dict[str, ColumnPlan | None]] = weakref.WeakKeyDictionary()

_TRUE = {"true", "1", "是", "yes", "y", "t", "对", "有"}
_FALSE = {"false", "0", "否", "no", "n", "f", "无", "没有"}
_INT = re.compile(r"^[+-]?\d+$")


def input_label(decision: Decision, name: str) -> str:
    """The Chinese label of an input."""
    return decision.inputs[name].label


def input_type(decision: Decision, name: str) -> VType:
    """The declared type of an input (enum labels, record fields …)."""
    return decision.inputs[name].type


def column_plan(decision: Decision, key: str) -> ColumnPlan | None:
    """How a column maps to the facts, or None for a carried-over column (cached per decision)."""
    plans = _PLANS.get(decision)
    if plans is None:
        plans = _PLANS[decision] = {}
    if key not in plans:
        plans[key] = _plan(decision, key)
    return plans[key]


def _plan(decision: Decision, key: str) -> ColumnPlan | None:
    path = tuple(key.split("."))
    if path[0] not in decision.inputs:
        by_label = {i.label: name for name, i in decision.inputs.items()}
        if key not in by_label:
            return None
        path = (by_label[key],)
    vtype: VType | None = input_type(decision, path[0])
    for part in path[1:]:
        vtype = vtype.field(part) if vtype is not None and vtype.kind == "record" else None
    return path, (_converter(vtype) if vtype is not None else None)


def carried_columns(decision: Decision, columns: Iterable[Any]) -> list[str]:
    """The columns that are not inputs of the decision (ids, names), in order: carried over to the output."""
    return [str(c) for c in columns if c is not None and c != ERROR_KEY and column_plan(decision, str(c)) is None]


def row_facts(decision: Decision, row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a raw row into the decision's facts (converted, nested) and the other columns (carried over)."""
    facts: dict[str, Any] = {}
    passthrough: dict[str, Any] = {}
    plans = _PLANS.get(decision) or {}
    for key, value in row.items():
        if key is None:
            continue
        plan = plans[key] if key in plans else column_plan(decision, str(key))
        if plan is None:
            passthrough[str(key)] = value
            continue
        if value is None or value == "" or (value.__class__ is str and not value.strip()):
            continue  # an empty cell: the input's default applies
        path, convert = plan
        converted = convert(value) if convert is not None else value
        if len(path) == 1:
            facts[path[0]] = converted
            continue
        node = facts
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[path[-1]] = converted
    return facts, passthrough


# --------------------------------------------------------------------------------------------------
# Cells by declared type


def _converter(vtype: VType) -> Callable[[Any], Any]:
    """The converter of a cell for an input of this type."""
    kind = vtype.kind
    on_text = _TEXT.get(kind, _keep)
    if kind == "enum":
        on_text = _enum_text(vtype)

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            return on_text(value, value.strip())
        if isinstance(value, dt.datetime):  # a spreadsheet date comes as a datetime at midnight
            return value.date() if value.time() == dt.time() else value
        if isinstance(value, float):  # a spreadsheet number: exact, as it is shown
            return int(value) if value.is_integer() and kind == "integer" else Decimal(repr(value))
        return value
    return convert


def _keep(value: str, text: str) -> Any:
    return value


def _bool(value: str, text: str) -> Any:
    low = text.lower()
    return True if low in _TRUE else False if low in _FALSE else value


def _integer(value: str, text: str) -> Any:
    return int(text) if _INT.match(text) else value


def _decimal(value: str, text: str) -> Any:
    try:
        return Decimal(text)
    except InvalidOperation:
        return value


def _json(value: str, text: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError:
        return value


def _stripped(value: str, text: str) -> Any:
    return text


def _enum_text(vtype: VType) -> Callable[[str, str], Any]:
    codes = set(vtype.values)
    by_label: dict[str, str] = {}
    for code, label in vtype.labels:
        by_label.setdefault(label, code)

    def convert(value: str, text: str) -> Any:
        # a code stands for itself; a Chinese label (as staff type them) for its code
        return text if text in codes else by_label.get(text, text)
    return convert


_TEXT: dict[str, Callable[[str, str], Any]] = {
    "bool": _bool, "integer": _integer, "decimal": _decimal, "list": _json, "record": _json, "mapping": _json,
    "date": _stripped,
}
