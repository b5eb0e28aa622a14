"""The built-in expression functions: dates, working days, lists, text and exact decimals.

They are registered through the ``skillcert_expr_functions`` hook by the built-in plugin, like any
third-party function. Every function is total on the types the checker lets through and never uses
binary floats; dates that need the holiday calendar get the evaluation context as first argument.

Whatever they are given, they fail with a message and not a Python error: a value of the wrong kind (possible
where the checker saw "any") raises ``TypeError`` with a Chinese message, which the expression turns into
``expression-failed`` naming itself; a date before year 1 or after 9999 raises ``date-out-of-range``. The list
functions are linear (hash-based, order kept, with a linear scan only for unhashable elements such as records)
and the others at most n log n, so 40,000 items take milliseconds, not minutes.
"""

from __future__ import annotations

import calendar as _pycal
import datetime as dt
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .expr import FunctionSpec, OutOfRange, check_number, describe_value, is_number
from .types import ANY, DATE, INTEGER, TEXT, VType, unify

__all__ = ["BUILTIN_FUNCTIONS"]


def _date_range(what: str) -> OutOfRange:
    return OutOfRange("date-out-of-range", f"{what}超出可表示的日期范围(公元 1 年至 9999 年)")


def _date(d: Any, fn: str) -> dt.date:
    if d.__class__ is dt.date or isinstance(d, dt.date):
        return d
    raise TypeError(f"{fn}() 的日期参数应是日期,实际是 {describe_value(d)}")


def _int(n: Any, fn: str) -> int:
    if n.__class__ is int:
        return n
    if is_number(n) and (isinstance(n, int) or (n.is_finite() and n == n.to_integral_value())):
        return int(n)
    raise TypeError(f"{fn}() 的数量参数应是整数,实际是 {describe_value(n)}"
                    + (f" {n}" if is_number(n) else ""))


def add_days(d: dt.date, n: int) -> dt.date:
    if d.__class__ is not dt.date:
        d = _date(d, "add_days")
    if n.__class__ is not int:
        n = _int(n, "add_days")
    try:
        return d + dt.timedelta(days=n)
    except OverflowError:
        raise _date_range(f"{d.isoformat()} 加 {n} 天") from None


def add_months(d: dt.date, n: int) -> dt.date:
    """Calendar months; the day is clamped to the month's end (2024-01-31 + 1 month = 2024-02-29)."""
    if d.__class__ is not dt.date:
        d = _date(d, "add_months")
    if n.__class__ is not int:
        n = _int(n, "add_months")
    return _shift_months(d, n, "个月")


def add_years(d: dt.date, n: int) -> dt.date:
    if d.__class__ is not dt.date:
        d = _date(d, "add_years")
    if n.__class__ is not int:
        n = _int(n, "add_years")
    return _shift_months(d, 12 * n, "年", n)


def _shift_months(d: dt.date, months: int, unit: str, shown: int | None = None) -> dt.date:
    total = d.year * 12 + (d.month - 1) + months
    year, month = divmod(total, 12)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise _date_range(f"{d.isoformat()} 加 {months if shown is None else shown} {unit}")
    last = _pycal.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(d.day, last))


def add_working_days(ctx: Any, d: dt.date, n: int) -> Any:
    """The n-th working day after (before) ``d``; an :class:`~.calendar.UncertainDate` when the count runs into a
    year whose holidays are not known (comparisons it decides still work, anything else raises)."""
    d, n = _date(d, "add_working_days"), _int(n, "add_working_days")
    return ctx.calendar.add_working_days_bounded(d, n)


def working_days_between(ctx: Any, a: dt.date, b: dt.date) -> int:
    result: int = ctx.calendar.working_days_between(_date(a, "working_days_between"),
                                                    _date(b, "working_days_between"))
    return result


def is_working_day(ctx: Any, d: dt.date) -> bool:
    result: bool = ctx.calendar.is_working_day(_date(d, "is_working_day"))
    return result


def days_between(a: dt.date, b: dt.date) -> int:
    return (_date(b, "days_between") - _date(a, "days_between")).days


def earliest(values: list[Any]) -> Any:
    present = [v for v in _list(values, "earliest") if v is not None]
    return min(present) if present else None


def latest(values: list[Any]) -> Any:
    present = [v for v in _list(values, "latest") if v is not None]
    return max(present) if present else None


def max_gap_days(start: dt.date, dates: list[dt.date], end: dt.date) -> int:
    """Longest run of days between consecutive events of: start, the dates (sorted, those inside
    [start, end] only), end. Boundaries count as events."""
    points = _events(start, dates, end, "max_gap_days")
    return max((b - a).days for a, b in zip(points, points[1:], strict=False))


def _events(start: dt.date, dates: list[dt.date], end: dt.date, fn: str) -> list[dt.date]:
    if start.__class__ is not dt.date:
        start = _date(start, fn)
    if end.__class__ is not dt.date:
        end = _date(end, fn)
    present = [d for d in (dates if dates.__class__ is list else _list(dates, fn)) if d is not None]
    for d in present:
        if d.__class__ is not dt.date:
            _date(d, fn)
    return [start] + sorted(d for d in present if start <= d <= end) + [end]


def gap_over_years(start: dt.date, dates: list[dt.date], end: dt.date, years: int) -> dict[str, Any] | None:
    """The first stretch between consecutive events — start, the dates inside [start, end] sorted, end — that
    lasts longer than ``years`` calendar years, as ``{start, end, days}``; None when there is none.

    "Longer than" means the next event comes after the same date ``years`` later: from 2021-03-15 the next
    event on 2023-03-15 closes the gap in time, one on 2023-03-16 does not (a whole two-year stretch,
    2021-03-16 up to 2023-03-16, passed without an event). Boundaries count as events.
    """
    points = _events(start, dates, end, "gap_over_years")
    if years.__class__ is not int:
        years = _int(years, "gap_over_years")
    for a, b in zip(points, points[1:], strict=False):
        if add_years(a, years) < b:
            return {"start": a, "end": b, "days": (b - a).days}
    return None


def find(records: list[dict[str, Any]], field: str, value: Any, *more: Any) -> dict[str, Any] | None:
    """The first record whose ``field`` equals ``value`` (and each further field/value pair); None if none."""
    if len(more) % 2:
        raise ValueError("find() 的字段和值应成对给出")
    if records.__class__ is not list:
        records = _list(records, "find")
    if not more:  # one field: the common case, without the pairs
        for r in records:
            if (r.__class__ is dict or isinstance(r, dict)) and r.get(field) == value:
                return r
        return None
    pairs = [(field, value)] + list(zip(more[::2], more[1::2], strict=True))
    for r in records:
        if (r.__class__ is dict or isinstance(r, dict)) and all(r.get(f) == v for f, v in pairs):
            return r
    return None


def get(mapping: dict[str, Any], key: Any, default: Any) -> Any:
    """``mapping[key]``, or ``default`` when the key is absent (keys are compared as text: 5 finds '5')."""
    if not isinstance(mapping, dict):
        return default
    return mapping.get(str(key), default)


def _list(values: Any, fn: str) -> list[Any]:
    if isinstance(values, list):
        return values
    raise TypeError(f"{fn}() 需要列表,实际是 {describe_value(values)}")


class _Members:
    """Membership in a list in constant time: hashable elements in a set, records and lists by a hashable key made
    of their contents, anything else (never met in facts) in a list.

    ``x in members`` is exactly ``x in values`` (equality, with 1 == 1.0 and True == 1 as in Python), only faster.
    """

    __slots__ = ("hashed", "keyed", "other")

    def __init__(self, values: Iterable[Any] = ()) -> None:
        self.hashed: set[Any] = set()
        self.keyed: set[Any] = set()
        self.other: list[Any] = []
        for v in values:
            self.add(v)

    def add(self, v: Any) -> None:
        try:
            self.hashed.add(v)
            return
        except TypeError:  # unhashable: a record, a list
            pass
        try:
            self.keyed.add(_key(v))
        except TypeError:
            self.other.append(v)

    def __contains__(self, v: Any) -> bool:
        try:
            if v in self.hashed:
                return True
        except TypeError:
            try:
                if _key(v) in self.keyed:
                    return True
            except TypeError:
                pass
        return bool(self.other) and v in self.other


_RECORD, _LIST = object(), object()


def _key(v: Any) -> Any:
    """A hashable stand-in for a record or a list, equal exactly when the values are equal."""
    if isinstance(v, dict):
        return _RECORD, frozenset((k, _key(x)) for k, x in v.items())
    if isinstance(v, list):
        return _LIST, tuple(_key(x) for x in v)
    hash(v)  # TypeError for anything else unhashable
    return v


def count(values: list[Any], value: Any) -> int:
    values = _list(values, "count")
    return values.count(value)


def _sum(values: list[Any]) -> Any:
    total: Any = 0
    for v in _list(values, "sum"):
        if v is None:
            continue
        if not is_number(v):
            raise TypeError(f"sum() 只能对数值求和,列表中有 {describe_value(v)}")
        total = total + v
    return check_number(total)


def intersect(a: list[Any], b: list[Any]) -> list[Any]:
    """Elements of a that are also in b, in a's order, without repeats."""
    return _select(a if a.__class__ is list else _list(a, "intersect"),
                   b if b.__class__ is list else _list(b, "intersect"), True)


def difference(a: list[Any], b: list[Any]) -> list[Any]:
    """Elements of a that are not in b, in a's order, without repeats."""
    return _select(a if a.__class__ is list else _list(a, "difference"),
                   b if b.__class__ is list else _list(b, "difference"), False)


def _select(a: list[Any], b: list[Any], keep: bool) -> list[Any]:
    """The elements of ``a`` that are (``keep``) or are not in ``b``, first occurrences in order: linear."""
    if len(a) <= 8 and len(b) <= 8:  # a few codes: comparing them all is quicker than hashing
        out: list[Any] = []
        for v in a:
            if (v in b) is keep and v not in out:
                out.append(v)
        return out
    try:  # hashable elements (texts, numbers, dates): sets and dicts, at C speed
        members = set(b)
        return list(dict.fromkeys([v for v in a if (v in members) is keep]))
    except TypeError:  # a record or a list among them
        pass
    wanted = _Members(b)
    seen = _Members()
    out = []
    for v in a:
        if (v in wanted) is keep and v not in seen:
            seen.add(v)
            out.append(v)
    return out


def unique(values: list[Any]) -> list[Any]:
    """The elements without repeats, first occurrences in order: linear."""
    values = _list(values, "unique")
    try:
        return list(dict.fromkeys(values))
    except TypeError:  # a record or a list among them
        pass
    seen = _Members()
    out: list[Any] = []
    for v in values:
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


def pluck(records: list[dict[str, Any]], field: str) -> list[Any]:
    """Each record's ``field`` (None for an empty element)."""
    if records.__class__ is not list:
        records = _list(records, "pluck")
    if all(r.__class__ is dict for r in records):
        return [r.get(field) for r in records]
    out: list[Any] = []
    for i, r in enumerate(records):
        if isinstance(r, dict):
            out.append(r.get(field))
        elif r is None:
            out.append(None)
        else:
            raise TypeError(f"pluck() 需要记录列表,第 {i + 1} 项是 {describe_value(r)}")
    return out


_SPACE = re.compile(r"\s+")


def _text(text: Any, fn: str) -> str:
    if isinstance(text, str):
        return text
    raise TypeError(f"{fn}() 需要文字,实际是 {describe_value(text)}")


def length(text: str) -> int:
    return len(_text(text, "length"))


def length_no_space(text: str) -> int:
    """Characters, white space (including full-width spaces and line breaks) not counted."""
    return len(_SPACE.sub("", _text(text, "length_no_space")))


def found_terms(text: str, terms: Iterable[str]) -> list[str]:
    """The terms that occur in the text, in the terms' order (each as often as it is listed)."""
    if text.__class__ is not str:
        text = _text(text, "found_terms")
    if terms.__class__ is not list:
        terms = _list(terms, "found_terms")
    if len(terms) < _MANY_TERMS:
        try:
            return [t for t in terms if t and t in text]
        except TypeError:  # a term that is not a text: say so in Chinese
            _terms(terms, "found_terms")
            raise
    terms = _terms(terms, "found_terms")
    found = _occurring(text, terms)
    return [t for t in terms if t in found]


def contains_any(text: str, terms: Iterable[str]) -> bool:
    text = _text(text, "contains_any")
    terms = _terms(terms, "contains_any")
    if len(terms) < _MANY_TERMS:
        return any(t in text for t in terms)
    return bool(_occurring(text, terms))


def _terms(terms: Any, fn: str) -> list[str]:
    """The non-empty terms of a list of texts."""
    terms = _list(terms, fn)
    for t in terms:
        if t.__class__ is not str and t and not isinstance(t, str):
            raise TypeError(f"{fn}() 的词语应是文字,实际有 {describe_value(t)}")
    return [t for t in terms if t]


_MANY_TERMS = 32  # from here on (of one length), every substring of that length is looked up instead


def _occurring(text: str, terms: list[str]) -> set[str]:
    """The distinct terms that occur in the text. A few terms are searched for one by one (C speed); many terms of
    one length are looked up among the text's substrings of that length, so 40,000 terms cost one pass per length,
    not one pass each."""
    by_length: dict[int, set[str]] = {}
    for t in terms:
        by_length.setdefault(len(t), set()).add(t)
    found: set[str] = set()
    for size, group in by_length.items():
        if len(group) >= _MANY_TERMS and size * len(text) <= 8 * 1024 * 1024:
            found |= group.intersection(text[i:i + size] for i in range(len(text) - size + 1))
        else:
            found.update(t for t in group if t in text)
    return found


def _num(x: Any, fn: str = "") -> Decimal:
    if not is_number(x):
        raise TypeError(f"{fn}() 需要数值,实际是 {describe_value(x)}")
    return x if isinstance(x, Decimal) else Decimal(x)


def round_half_up(x: Any, places: int) -> Decimal:
    places = _int(places, "round_half_up")
    if abs(places) > 28:  # the decimal context's precision: no more places can be told apart
        raise ValueError(f"round_half_up() 的小数位数 {places} 超出 ±28")
    return _num(x, "round_half_up").quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def ratio(a: Any, b: Any) -> Decimal | None:
    """a / b exactly; None when b is 0 (no ratio rather than an error)."""
    a, b = _num(a, "ratio"), _num(b, "ratio")
    if b == 0:
        return None
    result: Decimal = check_number(a / b)
    return result


def percent(a: Any, b: Any, places: int) -> Decimal | None:
    a, b = _num(a, "percent"), _num(b, "percent")
    if b == 0:
        return None
    return round_half_up(check_number(a * 100 / b), places)


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
    if is_number(x):
        return abs(x)
    raise TypeError(f"abs() 需要数值,实际是 {describe_value(x)}")


def _len(x: Any) -> int:
    if isinstance(x, (str, list, dict)):
        return len(x)
    raise TypeError(f"len() 需要文字或列表,实际是 {describe_value(x)}")


def year(d: dt.date) -> int:
    return (d if d.__class__ is dt.date else _date(d, "year")).year


def month(d: dt.date) -> int:
    return (d if d.__class__ is dt.date else _date(d, "month")).month


def day(d: dt.date) -> int:
    return (d if d.__class__ is dt.date else _date(d, "day")).day


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
    FunctionSpec("max_gap_days", max_gap_days, ("date", "list[date]", "date"), "integer",
                 "max_gap_days(起点, 日期列表, 终点):相邻两次事件之间最长的天数"),
    FunctionSpec("gap_over_years", gap_over_years, ("date", "list[date]", "date", "integer"), _gap_record,
                 "gap_over_years(起点, 日期列表, 终点, 年数):相邻两次事件间隔超过若干整年的第一段 {start, end, days},没有则为 None"),
    FunctionSpec("find", find, ("list[record]", "text", "any", "any*"), _item_of(0),
                 "find(记录列表, '字段', 值, ['字段2', 值2 …]):各字段都等于给定值的第一条记录,没有则为 None"),
    FunctionSpec("get", get, ("any", "any", "any"), _get_type,
                 "get(映射, 键, 缺省值):映射中该键的值,没有则为缺省值"),
    FunctionSpec("len", _len, ("text|list|mapping|record",), "integer", "len(列表或文字)"),
    FunctionSpec("count", count, ("list", "any"), "integer", "count(列表, 值):值出现的次数"),
    FunctionSpec("sum", _sum, ("list[number]",), "decimal", "sum(数值列表)"),
    FunctionSpec("intersect", intersect, ("list", "list"), _same(0), "intersect(a, b):同时在 a 与 b 中的元素"),
    FunctionSpec("difference", difference, ("list", "list"), _same(0), "difference(a, b):在 a 中而不在 b 中的元素"),
    FunctionSpec("unique", unique, ("list",), _same(0), "unique(列表):去重,保持顺序"),
    FunctionSpec("pluck", pluck, ("list[record]", "text"), _pluck_type, "pluck(记录列表, '字段'):取每条记录的字段"),
    FunctionSpec("length", length, ("text",), "integer", "length(文字):字符数"),
    FunctionSpec("length_no_space", length_no_space, ("text",), "integer", "length_no_space(文字):不计空白的字符数"),
    FunctionSpec("contains_any", contains_any, ("text", "list[text]"), "bool", "contains_any(文字, 词语列表)"),
    FunctionSpec("found_terms", found_terms, ("text", "list[text]"), _text_list,
                 "found_terms(文字, 词语列表):文字中出现的词语"),
    FunctionSpec("min", _min, ("any", "any*"), _unified, "min(a, b, …)", same_type=True),
    FunctionSpec("max", _max, ("any", "any*"), _unified, "max(a, b, …)", same_type=True),
    FunctionSpec("abs", _abs, ("number",), _same(0), "abs(数值)"),
    FunctionSpec("round_half_up", round_half_up, ("number", "integer"), "decimal",
                 "round_half_up(数值, 小数位数):四舍五入"),
    FunctionSpec("ratio", ratio, ("number", "number"), "decimal", "ratio(a, b):a/b 精确值;b 为 0 时为 None"),
    FunctionSpec("percent", percent, ("number", "number", "integer"), "decimal",
                 "percent(a, b, 位数):百分比,四舍五入;b 为 0 时为 None"),
    FunctionSpec("coalesce", coalesce, ("any", "any*"), _unified, "coalesce(a, b, …):第一个非空值",
                 same_type=True),
)
