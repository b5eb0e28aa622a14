"""The built-in expression functions: dates, working days, lists, text and exact decimals.

They are registered through the ``skillcert_expr_functions`` hook by the built-in plugin, like any
third-party function. Every function is total on the types the checker lets through and never uses
binary floats; dates that need the holiday calendar get the evaluation context as first argument.
"""

from __future__ import annotations

import calendar as _pycal
import datetime as dt
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .expr import FunctionSpec
from .types import ANY, DATE, INTEGER, TEXT, VType, unify

__all__ = ["BUILTIN_FUNCTIONS"]


def add_days(d: dt.date, n: int) -> dt.date:
    return d + dt.timedelta(days=int(n))


def add_months(d: dt.date, n: int) -> dt.date:
    """Calendar months; the day is clamped to the month's end (2024-01-31 + 1 month = 2024-02-29)."""
    months = d.year * 12 + (d.month - 1) + int(n)
    year, month = divmod(months, 12)
    last = _pycal.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(d.day, last))


def add_years(d: dt.date, n: int) -> dt.date:
    return add_months(d, 12 * int(n))


def add_working_days(ctx: Any, d: dt.date, n: int) -> dt.date:
    result: dt.date = ctx.calendar.add_working_days(d, int(n))
    return result


def working_days_between(ctx: Any, a: dt.date, b: dt.date) -> int:
    result: int = ctx.calendar.working_days_between(a, b)
    return result


def is_working_day(ctx: Any, d: dt.date) -> bool:
    result: bool = ctx.calendar.is_working_day(d)
    return result


def days_between(a: dt.date, b: dt.date) -> int:
    return (b - a).days


def earliest(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def latest(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def max_gap_days(start: dt.date, dates: list[dt.date], end: dt.date) -> int:
    """Longest run of days between consecutive events of: start, the dates (sorted, those inside
    [start, end] only), end. Boundaries count as events."""
    points = _events(start, dates, end)
    return max((b - a).days for a, b in zip(points, points[1:], strict=False))


def _events(start: dt.date, dates: list[dt.date], end: dt.date) -> list[dt.date]:
    return [start] + sorted(d for d in dates if d is not None and start <= d <= end) + [end]


def gap_over_years(start: dt.date, dates: list[dt.date], end: dt.date, years: int) -> dict[str, Any] | None:
    """The first stretch between consecutive events — start, the dates inside [start, end] sorted, end — that
    lasts longer than ``years`` calendar years, as ``{start, end, days}``; None when there is none.

    "Longer than" means the next event comes after the same date ``years`` later: from 2021-03-15 the next
    event on 2023-03-15 closes the gap in time, one on 2023-03-16 does not (a whole two-year stretch,
    2021-03-16 up to 2023-03-16, passed without an event). Boundaries count as events.
    """
    points = _events(start, dates, end)
    for a, b in zip(points, points[1:], strict=False):
        if add_years(a, int(years)) < b:
            return {"start": a, "end": b, "days": (b - a).days}
    return None


def find(records: list[dict[str, Any]], field: str, value: Any, *more: Any) -> dict[str, Any] | None:
    """The first record whose ``field`` equals ``value`` (and each further field/value pair); None if none."""
    pairs = [(field, value)] + list(zip(more[::2], more[1::2], strict=False))
    if len(more) % 2:
        raise ValueError("find() 的字段和值应成对给出")
    for r in records:
        if isinstance(r, dict) and all(r.get(f) == v for f, v in pairs):
            return r
    return None


def get(mapping: dict[str, Any], key: Any, default: Any) -> Any:
    """``mapping[key]``, or ``default`` when the key is absent (keys are compared as text: 5 finds '5')."""
    if not isinstance(mapping, dict):
        return default
    return mapping.get(str(key), default)


def count(values: list[Any], value: Any) -> int:
    return sum(1 for v in values if v == value)


def _sum(values: list[Any]) -> Any:
    total: Any = 0
    for v in values:
        if v is not None:
            total = total + v
    return total


def intersect(a: list[Any], b: list[Any]) -> list[Any]:
    """Elements of a that are also in b, in a's order, without repeats."""
    seen: list[Any] = []
    for v in a:
        if v in b and v not in seen:
            seen.append(v)
    return seen


def difference(a: list[Any], b: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for v in a:
        if v not in b and v not in seen:
            seen.append(v)
    return seen


def unique(values: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def pluck(records: list[dict[str, Any]], field: str) -> list[Any]:
    return [r.get(field) for r in records]


_SPACE = re.compile(r"\s+")


def length(text: str) -> int:
    return len(text)


def length_no_space(text: str) -> int:
    """Characters, white space (including full-width spaces and line breaks) not counted."""
    return len(_SPACE.sub("", text))


def found_terms(text: str, terms: Iterable[str]) -> list[str]:
    return [t for t in terms if t and t in text]


def contains_any(text: str, terms: Iterable[str]) -> bool:
    return bool(found_terms(text, terms))


def _num(x: Any) -> Decimal:
    return x if isinstance(x, Decimal) else Decimal(x)


def round_half_up(x: Any, places: int) -> Decimal:
    return _num(x).quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)


def ratio(a: Any, b: Any) -> Decimal | None:
    """a / b exactly; None when b is 0 (no ratio rather than an error)."""
    if b == 0:
        return None
    return _num(a) / _num(b)


def percent(a: Any, b: Any, places: int) -> Decimal | None:
    if b == 0:
        return None
    return round_half_up(_num(a) * 100 / _num(b), places)


def coalesce(*values: Any) -> Any:
    for v in values:
        if v is not None:
            return v
    return None


def _min(*values: Any) -> Any:
    return min(values)


def _max(*values: Any) -> Any:
    return max(values)


def _abs(x: Any) -> Any:
    return abs(x)


def _len(x: Any) -> int:
    return len(x)


def year(d: dt.date) -> int:
    return d.year


def month(d: dt.date) -> int:
    return d.month


def day(d: dt.date) -> int:
    return d.day


# ---- result types


def _same(i: int) -> Any:
    def f(args: list[VType]) -> VType:
        return args[i] if len(args) > i else ANY
    return f


def _item_of(i: int) -> Any:
    def f(args: list[VType]) -> VType:
        item = args[i].item if len(args) > i and args[i].kind == "list" else None
        return item.with_nullable(True) if item is not None else ANY
    return f


def _unified(args: list[VType]) -> VType:
    return unify(args)


def _pluck_type(args: list[VType]) -> VType:
    return VType("list", item=ANY)


def _get_type(args: list[VType]) -> VType:
    if args and args[0].kind == "mapping" and args[0].item is not None:
        return unify([args[0].item] + args[2:3])
    return ANY


def _gap_record(args: list[VType]) -> VType:
    return VType("record", fields=(("start", DATE), ("end", DATE), ("days", INTEGER)), nullable=True)


def _text_list(args: list[VType]) -> VType:
    return VType("list", item=TEXT)

BUILTIN_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("add_days", add_days, ("date", "integer"), "date", "add_days(日期, 天数):加减自然日"),
    FunctionSpec("add_months", add_months, ("date", "integer"), "date", "add_months(日期, 月数):加减月份,月末对齐"),
    FunctionSpec("add_years", add_years, ("date", "integer"), "date", "add_years(日期, 年数)"),
    FunctionSpec("add_working_days", add_working_days, ("date", "integer"), "date",
                 "add_working_days(日期, 工作日数):按国家法定节假日与调休加减工作日", needs_context=True),
    FunctionSpec("working_days_between", working_days_between, ("date", "date"), "integer",
                 "working_days_between(起, 止):两日之间的工作日数", needs_context=True),
    FunctionSpec("is_working_day", is_working_day, ("date",), "bool", "is_working_day(日期)", needs_context=True),
    FunctionSpec("days_between", days_between, ("date", "date"), "integer", "days_between(起, 止):相差天数"),
    FunctionSpec("year", year, ("date",), "integer", "year(日期)"),
    FunctionSpec("month", month, ("date",), "integer", "month(日期)"),
    FunctionSpec("day", day, ("date",), "integer", "day(日期)"),
    FunctionSpec("earliest", earliest, ("list",), _item_of(0), "earliest(日期列表):最早的一天,空列表为 None"),
    FunctionSpec("latest", latest, ("list",), _item_of(0), "latest(日期列表):最晚的一天,空列表为 None"),
    FunctionSpec("max_gap_days", max_gap_days, ("date", "list", "date"), "integer",
                 "max_gap_days(起点, 日期列表, 终点):相邻两次事件之间最长的天数"),
    FunctionSpec("gap_over_years", gap_over_years, ("date", "list", "date", "integer"), _gap_record,
                 "gap_over_years(起点, 日期列表, 终点, 年数):相邻两次事件间隔超过若干整年的第一段 {start, end, days},没有则为 None"),
    FunctionSpec("find", find, ("list", "text", "any", "any*"), _item_of(0),
                 "find(记录列表, '字段', 值, ['字段2', 值2 …]):各字段都等于给定值的第一条记录,没有则为 None"),
    FunctionSpec("get", get, ("any", "any", "any"), _get_type,
                 "get(映射, 键, 缺省值):映射中该键的值,没有则为缺省值"),
    FunctionSpec("len", _len, ("any",), "integer", "len(列表或文字)"),
    FunctionSpec("count", count, ("list", "any"), "integer", "count(列表, 值):值出现的次数"),
    FunctionSpec("sum", _sum, ("list",), "decimal", "sum(数值列表)"),
    FunctionSpec("intersect", intersect, ("list", "list"), _same(0), "intersect(a, b):同时在 a 与 b 中的元素"),
    FunctionSpec("difference", difference, ("list", "list"), _same(0), "difference(a, b):在 a 中而不在 b 中的元素"),
    FunctionSpec("unique", unique, ("list",), _same(0), "unique(列表):去重,保持顺序"),
    FunctionSpec("pluck", pluck, ("list", "text"), _pluck_type, "pluck(记录列表, '字段'):取每条记录的字段"),
    FunctionSpec("length", length, ("text",), "integer", "length(文字):字符数"),
    FunctionSpec("length_no_space", length_no_space, ("text",), "integer", "length_no_space(文字):不计空白的字符数"),
    FunctionSpec("contains_any", contains_any, ("text", "list"), "bool", "contains_any(文字, 词语列表)"),
    FunctionSpec("found_terms", found_terms, ("text", "list"), _text_list,
                 "found_terms(文字, 词语列表):文字中出现的词语"),
    FunctionSpec("min", _min, ("any", "any*"), _unified, "min(a, b, …)"),
    FunctionSpec("max", _max, ("any", "any*"), _unified, "max(a, b, …)"),
    FunctionSpec("abs", _abs, ("number",), _same(0), "abs(数值)"),
    FunctionSpec("round_half_up", round_half_up, ("number", "integer"), "decimal",
                 "round_half_up(数值, 小数位数):四舍五入"),
    FunctionSpec("ratio", ratio, ("number", "number"), "decimal", "ratio(a, b):a/b 精确值;b 为 0 时为 None"),
    FunctionSpec("percent", percent, ("number", "number", "integer"), "decimal",
                 "percent(a, b, 位数):百分比,四舍五入;b 为 0 时为 None"),
    FunctionSpec("coalesce", coalesce, ("any", "any*"), _unified, "coalesce(a, b, …):第一个非空值"),
)
