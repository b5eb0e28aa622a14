"""How values are shown: the one place that turns engine values into text, for each reader.

* :func:`format_decimal` — an exact decimal as text, without exponent or trailing zeros (94.60 → ``94.6``);
* :func:`display_value` — a value for people in reports and messages (是/否, dates ISO, enum codes as labels);
* :func:`quote` — a value as the user wrote it, quoted in an error message and cut to a bounded length
  (``'two'``, ``true``, ``2025-06-30``), so that no input can flood a message;
* :func:`jsonable` / :func:`to_json` — JSON, with decimals as exact number tokens, never binary floats.

Spreadsheet cells are shown by :mod:`skillcert.tabular` (they have rules of their own: numbers stay numbers).
This module is a leaf: it imports nothing of the engine. Result objects are written through their ``as_dict()``.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

__all__ = ["format_decimal", "display_value", "quote", "jsonable", "to_json", "QUOTE_LIMIT"]

QUOTE_LIMIT = 60  # characters of a value quoted in a message


def format_decimal(d: Decimal) -> str:
    """Exact, without exponent or trailing zeros: 94.60 → '94.6', 80.00 → '80', 0E-2 → '0'."""
    if d == 0:
        return "0"
    return format(d.normalize(), "f")


def display_value(value: Any, vtype: Any = None, empty: str = "—") -> str:
    """A value for people: dates ISO, decimals exact, booleans 是/否, lists joined with 、, enum codes as labels.

    ``vtype`` is the value's :class:`~skillcert.lang.types.VType` when known (for enum labels).
    """
    if value is None:
        return empty
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        item_t = vtype.item if vtype is not None and vtype.kind == "list" else None
        return "、".join(display_value(v, item_t, empty) for v in value) if value else "(无)"
    if vtype is not None and vtype.kind == "enum":
        label = vtype.label_of(value)
        if label:
            return str(label)
    return str(value)


def quote(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """A value as the user wrote it, for an error message: 1.5, 2025-06-30, 'two', true, null, [1, 2].

    Text longer than ``limit`` characters is cut with an ellipsis, so a huge input never floods a message.
    """
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, Decimal):
        text = format_decimal(value) if value.is_finite() else str(value)
    elif isinstance(value, dt.date):
        text = value.isoformat()
    elif isinstance(value, str):
        inner = value if len(value) <= limit else value[: max(limit - 1, 1)] + "…"
        return f"'{inner}'"
    elif isinstance(value, (list, dict, tuple)):
        text = json.dumps(jsonable(value), ensure_ascii=False, default=str)
    else:
        text = str(value)
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


def jsonable(value: Any) -> Any:
    """Plain JSON values, with decimals as exact strings (for callers that need json.dumps)."""
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return jsonable(as_dict())
    return value


def to_json(value: Any, indent: int | None = 2) -> str:
    """JSON text in which decimals are number tokens written exactly; key order kept, so output is stable."""
    parts: list[str] = []
    _write(value, parts, indent, 0)
    return "".join(parts)


def _write(value: Any, out: list[str], indent: int | None, level: int) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, Decimal):
        out.append(format_decimal(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):  # never produced by the engine; kept for third-party plugins
        out.append(json.dumps(value))
    elif isinstance(value, dt.date):
        out.append(json.dumps(value.isoformat()))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        out.append("{")
        first = True
        for k, v in value.items():
            if not first:
                out.append(",")
            first = False
            _newline(out, indent, level + 1)
            out.append(json.dumps(str(k), ensure_ascii=False))
            out.append(": " if indent is not None else ":")
            _write(v, out, indent, level + 1)
        _newline(out, indent, level)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _newline(out, indent, level + 1)
            _write(v, out, indent, level + 1)
        _newline(out, indent, level)
        out.append("]")
    elif callable(getattr(value, "as_dict", None)):
        _write(value.as_dict(), out, indent, level)
    else:
        out.append(json.dumps(str(value), ensure_ascii=False))


def _newline(out: list[str], indent: int | None, level: int) -> None:
    if indent is not None:
        out.append("\n" + " " * (indent * level))
