"""How values are shown: the one place that turns engine values into text, for each reader.

* :func:`format_decimal` — an exact decimal as text, without exponent or trailing zeros (94.60 → ``94.6``);
* :func:`display_value` — a value for people in reports and messages (是/否, dates ISO, enum codes as labels);
* :func:`quote` — a value as the user wrote it, quoted in an error message and cut to a bounded length
  (``'two'``, ``true``, ``2025-06-30``), so that no input can flood a message;
* :func:`jsonable` / :func:`to_json` — JSON, with decimals as exact number tokens, never binary floats;
* :func:`number_problem` — whether a number given as input is within the engine's limits (see below).

Numbers given as input are bounded (:data:`MAX_INTEGER_DIGITS` digits before the point, :data:`MAX_DECIMAL_PLACES`
after it; :data:`MAX_NUMBER_TEXT` characters of text before any conversion). Input within these limits is held
exactly (at most 25 significant digits, below the 28 of Python's default decimal context, so inputs, their
comparisons and their sums are exact) and shown exactly; input beyond them is refused with a message saying the
limit, rather than silently rounded (2.99999999999999999999999999999999 years must never read as "3 years").

Spreadsheet cells are shown by :mod:`skillcert.tabular` (they have rules of their own: numbers stay numbers).
This module is a leaf: it imports nothing of the engine. Result objects are written through their ``as_dict()``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from typing import Any

__all__ = ["format_decimal", "display_value", "quote", "jsonable", "to_json", "int_text", "number_problem",
           "QUOTE_LIMIT", "MAX_INTEGER_DIGITS", "MAX_DECIMAL_PLACES", "MAX_NUMBER_TEXT"]

QUOTE_LIMIT = 60  # characters of a value quoted in a message

# Numbers given as input (facts, packs, test files). 15 integer digits hold any count, amount or year a policy
# speaks of (a trillion is 13); 10 decimal places more than any rate or score it sets. Together 25 significant
# digits: below the 28 of the decimal context, so an input is exact and stays exact when compared or added.
MAX_INTEGER_DIGITS = 15
MAX_DECIMAL_PLACES = 10
# Characters of a number's text (in a file, or a number given as text) looked at before converting it: converting
# a 3 MB integer costs minutes, so longer text is refused unread.
MAX_NUMBER_TEXT = 100
# Digits of an integer written out exactly; Python refuses to convert more than 4300 (and it costs quadratic time).
_MAX_INT_DIGITS_SHOWN = 4000
# Decimals further from 1 than this many powers of ten are shown in scientific notation (no megabyte of zeros).
_MAX_PLAIN_EXPONENT = 100
_INPUT_INT_BOUND = 10**MAX_INTEGER_DIGITS


def format_decimal(d: Decimal) -> str:
    """Exact, without exponent or trailing zeros: 94.60 → '94.6', 80.00 → '80', 0E-2 → '0'.

    Never rounded (the decimal context's 28 digits do not apply); a number beyond 10^±100 (never an input, which
    is bounded) is written exactly in scientific notation, 1E+999999999, rather than as a billion zeros.
    """
    if not d.is_finite():
        return str(d)
    if d == 0:
        return "0"
    digits = len(d.as_tuple().digits)
    normal = d.normalize(Context(prec=max(digits, 1), Emax=MAX_EMAX, Emin=MIN_EMIN))
    if abs(normal.adjusted()) > _MAX_PLAIN_EXPONENT:
        return str(normal)
    return format(normal, "f")


def int_text(n: int) -> str:
    """An integer's digits; one too long to write out (over 4000 digits) as its size and leading digits."""
    if n.bit_length() <= _MAX_INT_DIGITS_SHOWN * 3:  # 3 bits per digit is an under-estimate: exact digits
        try:
            return str(n)
        except ValueError:
            pass
    bits = abs(n).bit_length()
    top = abs(n) >> (bits - 64)
    log10 = math.log10(top) + (bits - 64) * math.log10(2)
    exponent = math.floor(log10)
    mantissa = 10 ** (log10 - exponent)
    sign = "-" if n < 0 else ""
    return f"{sign}{mantissa:.4f}…E+{exponent}(共 {exponent + 1} 位的整数,太长,不完整写出)"


def number_problem(value: int | Decimal) -> str:
    """Empty when a number given as input is within the limits; else what is wrong and the limit, in Chinese.

    Cheap for any size (no conversion to text): a huge integer is compared, a decimal's exponent is read.
    """
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        if -_INPUT_INT_BOUND < value < _INPUT_INT_BOUND:
            return ""
        return f"数值太大:最多 {MAX_INTEGER_DIGITS} 位整数"
    if not value.is_finite():
        return "应是有限数值"
    if value == 0:
        return ""
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        return f"数值太大:最多 {MAX_INTEGER_DIGITS} 位整数"
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if exponent < -MAX_DECIMAL_PLACES:
        places = -exponent - _trailing_zeros(digits)
        if places > MAX_DECIMAL_PLACES:
            return f"小数位太多:最多 {MAX_DECIMAL_PLACES} 位小数(不四舍五入,请按政策要求的精度填写)"
    return ""


def _trailing_zeros(digits: tuple[int, ...]) -> int:
    n = 0
    for d in reversed(digits):
        if d:
            break
        n += 1
    return n


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
    if isinstance(value, int):
        return int_text(value)
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
        text = format_decimal(value)
    elif isinstance(value, int):
        text = int_text(value)
    elif isinstance(value, dt.date):
        text = value.isoformat()
    elif isinstance(value, str):
        inner = value if len(value) <= limit else value[: max(limit - 1, 1)] + "…"
        return f"'{inner}'"
    elif isinstance(value, (list, dict, tuple)):
        text = _short_json(value, limit)
    else:
        text = str(value)
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


def _short_json(value: Any, limit: int) -> str:
    """JSON of a list or mapping, built only as far as ``limit`` characters (a huge list is not written out)."""
    parts: list[str] = []
    size = 0

    def add(text: str) -> bool:
        nonlocal size
        parts.append(text)
        size += len(text)
        return size <= limit

    def walk(v: Any) -> bool:
        if isinstance(v, dict):
            if not add("{"):
                return False
            for i, (k, item) in enumerate(v.items()):
                key = json.dumps(str(k)[:limit], ensure_ascii=False)
                if not add((", " if i else "") + key + ": ") or not walk(item):
                    return False
            return add("}")
        if isinstance(v, (list, tuple)):
            if not add("["):
                return False
            for i, item in enumerate(v):
                if (i and not add(", ")) or not walk(item):
                    return False
            return add("]")
        if isinstance(v, str):
            return add(json.dumps(v[:limit], ensure_ascii=False))
        if isinstance(v, int) and not isinstance(v, bool):
            return add(int_text(v))
        return add(json.dumps(jsonable(v), ensure_ascii=False, default=str))

    walk(value)
    return "".join(parts)


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
    """JSON text in which decimals are number tokens written exactly; key order kept, so output is stable.

    Written by the standard library's C encoder: decimals are first put in as a marker (a string holding only NUL,
    which no other string of the value may then hold) and their exact text put back in their place afterwards.
    A value holding anything else than plain JSON values, decimals and dates (a NUL in a string, a key that is not
    a string, an integer too long to write, an object with ``as_dict``) is written by :func:`_write` instead, which
    gives the same text for the plain ones — ten times slower.
    """
    numbers: list[str] = []
    try:
        plain = _plain(value, numbers)
    except _Unusual:
        parts: list[str] = []
        _write(value, parts, indent, 0)
        return "".join(parts)
    text = json.dumps(plain, ensure_ascii=False, indent=indent,
                      separators=(",", ": ") if indent is not None else (",", ":"))
    if not numbers:
        return text
    pieces = text.split(_MARK_JSON)
    out = [pieces[0]]
    for number, piece in zip(numbers, pieces[1:], strict=True):
        out.append(number)
        out.append(piece)
    return "".join(out)


_MARK = "\x00"              # a decimal's place in the value given to json.dumps …
_MARK_JSON = '"\\u0000"'   # … and in its text: a whole JSON string of one NUL, which only a marker can be
_PLAIN_INT = 1 << 63        # integers below this are written by the encoder exactly as int_text writes them


# The text of decimals written lately: results repeat a few values (maxima, deductions, scores). Equal decimals
# have one text (format_decimal normalises: 94.60 and 94.6 are both "94.6"), so the value is the key.
_DECIMAL_TEXT: dict[Decimal, str] = {}
_DECIMAL_TEXT_MAX = 4096


class _Unusual(Exception):
    """A value :func:`to_json` leaves to :func:`_write`."""


def _plain(value: Any, numbers: list[str]) -> Any:
    """``value`` with decimals replaced by markers (their text appended to ``numbers`` in order) and dates by
    their ISO text; :class:`_Unusual` for anything the C encoder would not write as :func:`_write` does."""
    cls = value.__class__
    if cls is str:
        if _MARK in value:
            raise _Unusual
        return value
    if cls is Decimal:
        text = _DECIMAL_TEXT.get(value) if value.is_finite() else None
        if text is None:
            text = format_decimal(value)
            if value.is_finite():
                if len(_DECIMAL_TEXT) >= _DECIMAL_TEXT_MAX:
                    _DECIMAL_TEXT.clear()
                _DECIMAL_TEXT[value] = text
        numbers.append(text)
        return _MARK
    if cls is dict:
        out = {}
        for k, v in value.items():
            if k.__class__ is not str or _MARK in k:
                raise _Unusual
            out[k] = _plain(v, numbers)
        return out
    if cls is list or cls is tuple:
        return [_plain(v, numbers) for v in value]
    if value is None or cls is bool or cls is float:
        return value
    if cls is int:
        if -_PLAIN_INT < value < _PLAIN_INT:
            return value
        raise _Unusual
    if cls is dt.date:
        return value.isoformat()
    raise _Unusual


def _write(value: Any, out: list[str], indent: int | None, level: int) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, Decimal):
        out.append(format_decimal(value))
    elif isinstance(value, int):
        text = int_text(value)
        out.append(text if text.lstrip("-").isdigit() else json.dumps(text, ensure_ascii=False))
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
