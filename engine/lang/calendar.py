"""The PRC national working-day calendar: statutory holidays, make-up working days (调休), date arithmetic.

This module owns everything about which days are working days:

* :class:`YearData` — one year's official arrangement (days off and make-up working days) and its source;
* :class:`HolidayCalendar` — an immutable set of known years answering ``is_working_day``,
  ``add_working_days``, ``working_days_between`` and ``arrangement_between``;
* :func:`builtin_calendar` — the years shipped in the ``chinesecalendar`` package (imported lazily);
* :func:`year_data_from_mapping` — parsing and validating a year supplied by a policy pack or a
  ``--calendar`` file.

A working day is a Monday–Friday that is not a statutory holiday, or a Saturday/Sunday that is a
make-up working day.  The calendar never guesses: any query that needs a day of a year it has no
official data for raises :class:`~engine.errors.CalendarError` (code ``calendar-year-unknown``)
instead of silently falling back to "weekends only".

It does say what is certain, though. A count of working days that runs from a known year into an unknown one
(:meth:`HolidayCalendar.add_working_days_bounded`) gives an :class:`UncertainDate`: not the date, but bounds on it
that hold whatever the unknown year's arrangement (a day holds at most one working day, so the r-th working day of
a year is not before its r-th day). Ten working days after 2026-12-23, with four of them left for 2027, fall on
2027-01-04 or later: results filed on 2026-12-30 are on time, whatever the State Council decides for 2027. A
comparison the bounds decide is answered; any other use raises the CalendarError.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, datetime
from itertools import accumulate, chain, compress
from typing import Any

from ..errors import CalendarError, Location, SkillcertError
from .expr import OutOfRange, UnknownValue

__all__ = [
    "YearData",
    "HolidayCalendar",
    "UncertainDate",
    "builtin_calendar",
    "known_years_text",
    "year_data_from_mapping",
]

_INVALID = "calendar-data-invalid"
_WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TOP_KEYS = ("year", "holidays", "workdays", "source", "note")
_RANGE_KEYS = ("from", "to", "name")

_DERIVED_MAX = 32  # calendars remembered by with_years, per calendar

_Fail = Callable[[str, str], SkillcertError]  # (entry path, message) -> error to raise


@dataclass(frozen=True)
class YearData:
    """One year's official holiday arrangement.

    ``holidays`` are the statutory days off (weekend days inside a holiday block may be listed too);
    ``workdays`` are the make-up working days (调休) that fall on a Saturday or Sunday.  Every date must
    lie in ``year`` and the two sets must not overlap; otherwise ``SkillcertError`` with code
    ``calendar-data-invalid`` is raised.  ``source`` says where the data came from.
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str

    def __post_init__(self) -> None:
        where = Location(file=self.source)
        if not 1 <= self.year <= 9999:
            raise SkillcertError(f"年份 {self.year} 超出范围", code=_INVALID, location=where)
        for name, days in (("holidays", self.holidays), ("workdays", self.workdays)):
            for d in sorted(days):
                if d.year != self.year:
                    raise SkillcertError(f"{name}: 日期 {d.isoformat()} 不在 {self.year} 年内",
                                         code=_INVALID, location=where)
        for d in sorted(self.workdays):
            if d.weekday() < 5:
                raise SkillcertError(
                    f"workdays: {d.isoformat()} 是{_WEEKDAY_NAMES[d.weekday()]},调休上班日应是星期六或星期日",
                    code=_INVALID, location=where)
        both = self.holidays & self.workdays
        if both:
            raise SkillcertError(f"{min(both).isoformat()} 同时出现在 holidays 和 workdays 中",
                                 code=_INVALID, location=where)


class _YearTable:
    """Precomputed lookup for one year: a working-day flag per day (index 0: 1 January)."""

    __slots__ = ("data", "start", "flags")

    def __init__(self, data: YearData) -> None:
        self.data = data
        self.start = date(data.year, 1, 1).toordinal()
        end = date(data.year, 12, 31).toordinal() + 1  # by ordinal: 9999-12-31 has no next day
        flags = [(ordinal - 1) % 7 < 5 for ordinal in range(self.start, end)]  # ordinal 1 is a Monday
        for day in data.holidays:
            flags[day.toordinal() - self.start] = False
        for day in data.workdays:  # a make-up working day is never a holiday too (YearData checks)
            flags[day.toordinal() - self.start] = True
        self.flags: tuple[bool, ...] = tuple(flags)


class _Run:
    """The working-day table of a run of consecutive known years ``first``..``last``: the arithmetic in O(1).

    ``cum[i]`` is the number of working days among the run's first ``i`` days (day 0 is 1 January of ``first``),
    so a day's working-day index — the working days before it in the run — is ``cum[i]`` and ``cum[-1]`` is the
    run's ``total``; ``days[k]`` is the run's working day of index ``k``.
    """

    __slots__ = ("first", "last", "start", "cum", "days", "total")

    def __init__(self, years: list[_YearTable]) -> None:
        self.first = years[0].data.year
        self.last = years[-1].data.year
        self.start = years[0].start
        flags = list(chain.from_iterable(t.flags for t in years))
        cum = list(accumulate(flags, initial=0))  # ints: 0 + True is 1
        days = list(map(date.fromordinal, compress(range(self.start, self.start + len(flags)), flags)))
        self.cum: list[int] = cum
        self.days: list[date] = days
        self.total = cum[-1]


def _format_years(years: Iterable[int]) -> str:
    """``2004–2026、2030`` — consecutive years collapsed into ranges."""
    ordered = sorted(years)
    if not ordered:
        return "无"
    parts: list[str] = []
    lo = prev = ordered[0]
    for y in ordered[1:]:
        if y != prev + 1:
            parts.append(str(lo) if lo == prev else f"{lo}–{prev}")
            lo = y
        prev = y
    parts.append(str(lo) if lo == prev else f"{lo}–{prev}")
    return "、".join(parts)


class UncertainDate(UnknownValue):
    """A date known only by bounds: the result of a working-day count that ran into a year whose holidays are not
    known. ``low`` / ``high`` (either may be None: no bound) hold whatever that year's arrangement turns out to be.

    Compared with a date (or another uncertain date) it answers True or False when the bounds decide, and raises
    its :class:`CalendarError` otherwise (``date < u`` reaches here: ``date`` returns NotImplemented for it). Any
    other use — arithmetic, a function, its year, a hash — raises the error too. In a result it is null, with the
    warning that names the deadline. ``is None`` is False: the date exists, it is only not known.
    """

    __slots__ = ("low", "high")

    error: CalendarError

    def __init__(self, low: date | None, high: date | None, error: CalendarError) -> None:
        super().__init__(error)
        self.low = low
        self.high = high

    @staticmethod
    def _bounds(other: object) -> tuple[date | None, date | None] | None:
        if isinstance(other, UncertainDate):
            return other.low, other.high
        if isinstance(other, date) and not isinstance(other, datetime):
            return other, other
        return None

    def _compare(self, other: object, strict: bool) -> bool:
        """self < other (strict) or self <= other, when the bounds decide; else the error."""
        bounds = self._bounds(other)
        if bounds is None:
            raise self.error
        lo, hi = bounds
        if self.high is not None and lo is not None and (self.high < lo if strict else self.high <= lo):
            return True
        if self.low is not None and hi is not None and (self.low >= hi if strict else self.low > hi):
            return False
        raise self.error

    def __lt__(self, other: object) -> bool:
        return self._compare(other, True)

    def __le__(self, other: object) -> bool:
        return self._compare(other, False)

    def __gt__(self, other: object) -> bool:
        return not self._compare(other, False)

    def __ge__(self, other: object) -> bool:
        return not self._compare(other, True)

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        bounds = self._bounds(other)
        if bounds is None:
            return False  # a date is never equal to a text, a number or None
        lo, hi = bounds
        if (self.high is not None and lo is not None and self.high < lo) or \
                (self.low is not None and hi is not None and self.low > hi):
            return False
        raise self.error

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        raise self.error

    def __getattr__(self, name: str) -> Any:
        if name in _DATE_ATTRIBUTES:  # its year, month, weekday …: not known
            raise self.error
        raise AttributeError(name)

    def __str__(self) -> str:
        if self.low is not None and self.high is None:
            return f"{self.low.isoformat()} 或之后的某日(节假日安排未知)"
        if self.high is not None and self.low is None:
            return f"{self.high.isoformat()} 或之前的某日(节假日安排未知)"
        return "未知日期(节假日安排未知)"

    def __repr__(self) -> str:
        return f"UncertainDate(low={self.low}, high={self.high})"


def _raise(self: UncertainDate, *args: object) -> Any:
    raise self.error


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
              "__neg__", "__pos__", "__abs__", "__int__", "__index__", "__float__", "__iter__",
              "__contains__", "__getitem__"):
    setattr(UncertainDate, _name, _raise)

_DATE_ATTRIBUTES = frozenset({"year", "month", "day", "toordinal", "weekday", "isoweekday", "isoformat",
                              "isocalendar", "replace", "strftime", "timetuple", "ctime"})


class HolidayCalendar:
    """Working days on the PRC national calendar. Immutable.

    Built from a mapping ``year -> YearData``; only those years are known.  Every query that needs a day
    of an unknown year raises :class:`CalendarError`.
    """

    __slots__ = ("_tables", "_known", "_known_text", "_runs", "_derived")

    _tables: dict[int, _YearTable]
    _known: frozenset[int]
    _known_text: str
    _runs: dict[int, _Run]  # year -> its run's table, filled on first use
    _derived: dict[tuple[YearData, ...], HolidayCalendar]  # with_years(extra), remembered

    def __init__(self, years: Mapping[int, YearData]) -> None:
        tables: dict[int, _YearTable] = {}
        for key, data in years.items():
            if key != data.year:
                raise SkillcertError(f"年份键 {key} 与数据中的 year {data.year} 不一致",
                                     code=_INVALID, location=Location(file=data.source))
            tables[key] = _YearTable(data)
        self._init(tables)

    def _init(self, tables: dict[int, _YearTable]) -> None:
        self._tables = tables
        self._known = frozenset(tables)
        self._known_text = _format_years(tables)
        self._runs = {}
        self._derived = {}

    @property
    def known_years(self) -> frozenset[int]:
        """The years for which official data is known."""
        return self._known

    @property
    def known_years_text(self) -> str:
        """The known years for people, consecutive years as ranges: ``2004–2026``, ``2004–2026、2031``."""
        return self._known_text

    def year_data(self, year: int) -> YearData:
        """The data (and its ``source``) behind ``year``; raises :class:`CalendarError` if unknown."""
        return self._table(year, "").data

    def with_years(self, extra: Iterable[YearData]) -> HolidayCalendar:
        """A calendar with ``extra`` years added; an extra year replaces this calendar's data for it.

        The same ``extra`` again gives the same (immutable) calendar, with its tables already built: a
        ``--calendar`` year is added for every evaluation.
        """
        key = tuple(extra)
        new = self._derived.get(key)
        if new is not None:
            return new
        tables = dict(self._tables)
        for data in key:
            tables[data.year] = _YearTable(data)
        new = HolidayCalendar.__new__(HolidayCalendar)
        new._init(tables)
        if len(self._derived) >= _DERIVED_MAX:
            self._derived.clear()
        self._derived[key] = new
        return new

    # -- queries ---------------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """True for a Monday–Friday that is not a statutory holiday, or a make-up working Saturday/Sunday."""
        t = self._tables.get(d.year)
        if t is None:
            raise self._unknown(d.year, "")
        return t.flags[d.toordinal() - t.start]

    def is_holiday(self, d: date) -> bool:
        """True if ``d`` is a statutory day off listed in the year's data (ordinary weekends are not)."""
        t = self._tables.get(d.year)
        if t is None:
            raise self._unknown(d.year, "")
        return d in t.data.holidays

    def add_working_days(self, d: date, n: int) -> date:
        """Count working days from ``d``.

        ``n > 0``: the n-th working day after ``d`` (``d`` itself is not counted, working or not);
        ``n < 0``: the |n|-th working day before ``d``; ``n == 0``: ``d`` itself, unchanged.
        Raises :class:`CalendarError` if ``d``'s year or any year the count passes through is unknown.
        """
        result = self.add_working_days_bounded(d, n)
        if isinstance(result, UncertainDate):
            raise result.error
        return result

    def add_working_days_bounded(self, d: date, n: int) -> date | UncertainDate:
        """Like :meth:`add_working_days`, but a count that runs from a known year into an unknown one gives an
        :class:`UncertainDate` with the bound that holds whatever that year's arrangement: counting forward, the
        r-th working day of the unknown year is on or after its r-th day; counting back, the r-th last on or before
        its r-th last day. ``d``'s own year must be known (:class:`CalendarError` otherwise); a date before year 1
        or after 9999 raises :class:`~.expr.OutOfRange` (``date-out-of-range``).

        Two look-ups in the table of ``d``'s run of consecutive known years (:class:`_Run`), whatever ``n``.
        """
        run = self._runs.get(d.year)
        if run is None:
            run = self._run(d.year, "")
        if n == 0:
            return d
        # r: the 1-based rank, within the run, of the working day we want.
        if n > 0:
            r = run.cum[d.toordinal() - run.start + 1] + n
            if r <= run.total:
                return run.days[r - 1]
            # past the run: the (r - total)-th working day of the unknown year after it, on or after its own such day
            y = run.last + 1
            context = f"{d.isoformat()} 之后第 {n} 个工作日"
            if y > MAXYEAR:
                raise OutOfRange("date-out-of-range", f"{context}超出可表示的日期范围(公元 1 年至 9999 年)")
            return UncertainDate(self._bound(date(y, 1, 1).toordinal() + r - run.total - 1, context), None,
                                 self._unknown(y, context))
        r = run.cum[d.toordinal() - run.start] + n + 1
        if r >= 1:
            return run.days[r - 1]
        # before the run: the (1 - r)-th last working day of the unknown year before it, on or before its such day
        y = run.first - 1
        context = f"{d.isoformat()} 之前第 {-n} 个工作日"
        if y < MINYEAR:
            raise OutOfRange("date-out-of-range", f"{context}超出可表示的日期范围(公元 1 年至 9999 年)")
        return UncertainDate(None, self._bound(date(y, 12, 31).toordinal() + r, context), self._unknown(y, context))

    @staticmethod
    def _bound(ordinal: int, context: str) -> date:
        if not 1 <= ordinal <= date.max.toordinal():
            raise OutOfRange("date-out-of-range", f"{context}超出可表示的日期范围(公元 1 年至 9999 年)")
        return date.fromordinal(ordinal)

    def working_days_between(self, start: date, end: date) -> int:
        """Signed working-day distance from ``start`` to ``end``; the exact inverse of ``add_working_days``.

        * ``end >= start``: the number of working days ``x`` with ``start < x <= end``;
        * ``end < start``: minus the number of working days ``x`` with ``end <= x < start``.

        Hence ``working_days_between(a, add_working_days(a, n)) == n`` for every ``n``, and
        ``add_working_days(a, working_days_between(a, b)) == b`` whenever ``b`` is a working day.  For a
        non-working ``b`` that walk stops at the nearest working day on ``a``'s side of ``b`` (the last
        working day <= ``b`` if ``b > a``, the first working day >= ``b`` if ``b < a``), or at ``a`` itself
        when the distance is 0.  Note the result is not antisymmetric when exactly one end is a
        non-working day: from Saturday back to the Friday before is -1, from that Friday to Saturday is 0.
        Every year from ``start`` to ``end`` must be known.  A subtraction in the table of their run of years.
        """
        rs = self._runs.get(start.year)
        if rs is None:
            rs = self._run(start.year, "")
        re_ = self._runs.get(end.year)
        if re_ is None:
            re_ = self._run(end.year, "")
        if rs is not re_:  # an unknown year lies between: the first one after the earlier end's run
            context = f"{start.isoformat()} 至 {end.isoformat()} 之间的工作日数"
            raise self._unknown(min(rs.last, re_.last) + 1, context)
        cum = rs.cum
        i_s = start.toordinal() - rs.start
        i_e = end.toordinal() - rs.start
        if end >= start:
            return cum[i_e + 1] - cum[i_s + 1]
        return cum[i_e] - cum[i_s]

    def arrangement_between(self, start: date, end: date) -> tuple[list[date], list[date]]:
        """What the official arrangement changes between two dates, ``start`` excluded and ``end`` included (either
        order): the statutory days off listed in the years' data, and the make-up working days (调休), each in
        order. This is what a working-day count from ``start`` to ``end`` went across, beyond ordinary weekends.
        Every year between must be known (:class:`CalendarError` otherwise)."""
        low, high = (start, end) if start <= end else (end, start)
        days_off: list[date] = []
        make_up: list[date] = []
        for year in range(low.year, high.year + 1):
            data = self._table(year, f"{low.isoformat()} 至 {high.isoformat()} 之间的节假日安排").data
            days_off.extend(d for d in data.holidays if low < d <= high)
            make_up.extend(d for d in data.workdays if low < d <= high)
        return sorted(days_off), sorted(make_up)

    # -- helpers ---------------------------------------------------------------------------------------

    def _run(self, year: int, context: str) -> _Run:
        """The table of the run of consecutive known years holding ``year``, built on first use and then shared by
        every year of the run; :class:`CalendarError` if ``year`` is unknown."""
        run = self._runs.get(year)
        if run is not None:
            return run
        tables = self._tables
        if year not in tables:
            raise self._unknown(year, context)
        first = last = year
        while first - 1 in tables:
            first -= 1
        while last + 1 in tables:
            last += 1
        run = _Run([tables[y] for y in range(first, last + 1)])
        for y in range(first, last + 1):
            self._runs[y] = run
        return run

    def _table(self, year: int, context: str) -> _YearTable:
        t = self._tables.get(year)
        if t is None:
            raise self._unknown(year, context)
        return t

    def _unknown(self, year: int, context: str) -> CalendarError:
        message = (f"{year} 年的法定节假日安排未知(已知年份:{self._known_text});"
                   "可在政策包或 --calendar 文件中补充该年数据")
        if context:
            message += f"(计算 {context}时需要该年数据)"
        return CalendarError(message)

    def __repr__(self) -> str:
        return f"HolidayCalendar(known_years={self._known_text})"


def known_years_text(calendar: HolidayCalendar | None = None) -> str:
    """Which holiday years a calendar knows and where they come from, one line for ``skillcert list`` /
    ``--version``: ``法定节假日安排已知年份:2004–2026(chinesecalendar 1.10.0)``. Without a calendar, the built-in
    one. Years outside it: a working-day count that needs them is left empty with a warning, or decided by bounds.
    """
    cal = calendar if calendar is not None else builtin_calendar()
    by_source: dict[str, list[int]] = {}
    for y in sorted(cal.known_years):
        by_source.setdefault(cal.year_data(y).source, []).append(y)
    if not by_source:
        return "法定节假日安排已知年份:无"
    parts = [f"{_format_years(years)}({source})" for source, years in by_source.items()]
    return "法定节假日安排已知年份:" + ";".join(parts)


@functools.cache
def builtin_calendar() -> HolidayCalendar:
    """The official arrangements shipped in the ``chinesecalendar`` package (2004 onwards), cached.

    The package is imported here, not at module import, so that starting the CLI stays fast.
    """
    try:
        package = importlib.import_module("chinese_calendar")
        constants = importlib.import_module("chinese_calendar.constants")
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise CalendarError("未安装 chinesecalendar 包,无法取得内置的法定节假日数据;"
                            "请安装它,或用 --calendar 文件提供节假日数据") from exc
    version = str(getattr(package, "__version__", "?"))
    source = f"chinesecalendar {version}"
    holidays: dict[int, set[date]] = {}
    workdays: dict[int, set[date]] = {}
    raw_holidays: Mapping[date, object] = constants.holidays
    raw_workdays: Mapping[date, object] = constants.workdays
    for d in raw_holidays:
        holidays.setdefault(d.year, set()).add(d)
    for d in raw_workdays:
        workdays.setdefault(d.year, set()).add(d)
    years = {
        y: YearData(y, frozenset(holidays.get(y, ())), frozenset(workdays.get(y, ())), source)
        for y in range(min(holidays), max(holidays) + 1)
    }
    return HolidayCalendar(years)


# -- parsing a year from a policy pack or a --calendar file ------------------------------------------------


def year_data_from_mapping(data: Mapping[str, Any], source: str) -> YearData:
    """Parse and validate one year of holiday data.

    Accepted shape (as loaded from YAML/JSON)::

        {"year": 2027,
         "holidays": ["2027-01-01", {"from": "2027-02-06", "to": "2027-02-12", "name": "春节"}, ...],
         "workdays": ["2027-02-14", ...],          # optional: make-up working Saturdays/Sundays
         "note": "国办发明电〔2026〕…"}               # optional, free text

    Dates may be ``datetime.date`` objects or ``YYYY-MM-DD`` strings.  Every date must lie in ``year``,
    every workday must be a Saturday or Sunday, and no day may be both a holiday and a workday.  Any
    problem raises ``SkillcertError`` (code ``calendar-data-invalid``) whose message names the entry,
    e.g. ``holidays[2]``; ``source`` (e.g. ``"policies/x/holidays.yaml:3"``) becomes its location.
    """

    def fail(path: str, message: str) -> SkillcertError:
        text = f"{path}: {message}" if path else message
        return SkillcertError(text, code=_INVALID, location=Location(file=source, path=path))

    if not isinstance(data, Mapping):
        raise fail("", f"节假日数据应是一个映射(含 year、holidays、workdays),实际是 {type(data).__name__}")
    for key in data:
        if key not in _TOP_KEYS:
            raise fail(str(key), f"未知字段 {key!r};可用字段:{'、'.join(_TOP_KEYS)}")
    if "year" not in data:
        raise fail("year", "缺少年份")
    year = data["year"]
    if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
        raise fail("year", f"年份应是整数,实际是 {year!r}")
    if "holidays" not in data:
        raise fail("holidays", f"缺少 {year} 年的法定节假日列表")
    note = data.get("note")
    if note is not None and not isinstance(note, str):
        raise fail("note", f"note 应是文字,实际是 {note!r}")

    holidays: dict[date, str] = {}  # day -> entry path that listed it first
    for path, day in _entries(data["holidays"], "holidays", year, fail, allow_ranges=True):
        holidays.setdefault(day, path)
    if not holidays:
        raise fail("holidays", f"{year} 年的法定节假日列表为空")

    workdays: dict[date, str] = {}
    for path, day in _entries(data.get("workdays", []), "workdays", year, fail, allow_ranges=False):
        if day.weekday() < 5:
            raise fail(path, f"{day.isoformat()} 是{_WEEKDAY_NAMES[day.weekday()]},"
                             "调休上班日应是星期六或星期日")
        if day in holidays:
            raise fail(path, f"{day.isoformat()} 同时出现在 {holidays[day]} 中;同一天不能既放假又调休上班")
        workdays.setdefault(day, path)

    return YearData(year, frozenset(holidays), frozenset(workdays), source)


def _entries(raw: object, name: str, year: int, fail: _Fail,
             *, allow_ranges: bool) -> Iterator[tuple[str, date]]:
    """Yield ``(entry path, day)`` for every day listed (ranges expanded), checking each lies in ``year``."""
    if raw is None:
        return
    if isinstance(raw, (str, bytes)) or not isinstance(raw, (list, tuple)):
        raise fail(name, f"应是日期列表,实际是 {raw!r}")
    for i, entry in enumerate(raw):
        path = f"{name}[{i}]"
        if isinstance(entry, Mapping):
            if not allow_ranges:
                raise fail(path, f"调休上班日应逐日列出,不接受区间 {dict(entry)!r}")
            for key in entry:
                if key not in _RANGE_KEYS:
                    raise fail(path, f"区间中的未知字段 {key!r};可用字段:{'、'.join(_RANGE_KEYS)}")
            if "from" not in entry or "to" not in entry:
                raise fail(path, f"区间需要 from 和 to 两个日期:{dict(entry)!r}")
            label = entry.get("name")
            if label is not None and not isinstance(label, str):
                raise fail(path, f"区间的 name 应是文字,实际是 {label!r}")
            first = _parse_date(entry["from"], f"{path}.from", fail)
            last = _parse_date(entry["to"], f"{path}.to", fail)
            if first > last:
                raise fail(path, f"区间的 from {first.isoformat()} 晚于 to {last.isoformat()}")
            for day in (first, last):
                if day.year != year:
                    raise fail(path, f"日期 {day.isoformat()} 不在 {year} 年内")
            for ordinal in range(first.toordinal(), last.toordinal() + 1):
                yield path, date.fromordinal(ordinal)
        else:
            day = _parse_date(entry, path, fail)
            if day.year != year:
                raise fail(path, f"日期 {day.isoformat()} 不在 {year} 年内")
            yield path, day


def _parse_date(value: object, path: str, fail: _Fail) -> date:
    if isinstance(value, datetime):
        raise fail(path, f"应是日期而不是带时间的时刻:{value.isoformat()}")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise fail(path, f"无法解析日期 {value!r}(应为 YYYY-MM-DD)")
