"""Issue 12: the working-day arithmetic from a table per run of known years is the arithmetic it replaced.

The reference below is the implementation before the table (a walk year by year over per-year running counts,
itself checked against a day-by-day walk in test_calendar.py), kept here verbatim in substance, over its own per-year
counts built from the same YearData. Every outcome is compared: the date, the UncertainDate (its bounds and its
error's message), or the error raised (class, code, message).
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Callable, Mapping
from datetime import MAXYEAR, MINYEAR, date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from skillcert.errors import CalendarError, SkillcertError
from skillcert.lang.calendar import HolidayCalendar, UncertainDate, YearData, builtin_calendar
from skillcert.lang.expr import OutOfRange

D = date

# -- the reference: the implementation before issue 12 ------------------------------------------------------


class OldYear:
    def __init__(self, data: YearData) -> None:
        self.start = D(data.year, 1, 1).toordinal()
        ndays = D(data.year, 12, 31).toordinal() - self.start + 1
        cum, running = [0], 0
        for ordinal in range(self.start, self.start + ndays):
            day = D.fromordinal(ordinal)
            working = day in data.workdays or (day not in data.holidays and day.weekday() < 5)
            running += working
            cum.append(running)
        self.cum = tuple(cum)
        self.total = running


class OldCalendar:
    def __init__(self, cal: HolidayCalendar) -> None:
        self.tables = {y: OldYear(cal.year_data(y)) for y in cal.known_years}
        self.unknown: Callable[[int, str], CalendarError] = cal._unknown

    def _out(self, context: str) -> OutOfRange:
        return OutOfRange("date-out-of-range", f"{context}超出可表示的日期范围(公元 1 年至 9999 年)")

    def _bound(self, ordinal: int, context: str) -> date:
        if not 1 <= ordinal <= D.max.toordinal():
            raise self._out(context)
        return D.fromordinal(ordinal)

    def add_working_days_bounded(self, d: date, n: int) -> date | UncertainDate:
        t = self.tables.get(d.year)
        if t is None:
            raise self.unknown(d.year, "")
        if n == 0:
            return d
        idx = d.toordinal() - t.start
        r = t.cum[idx + 1] + n if n > 0 else t.cum[idx] + n + 1
        y = d.year
        if r > t.total or r < 1:
            context = f"{d.isoformat()} {'之后' if n > 0 else '之前'}第 {abs(n)} 个工作日"
            while r > t.total:
                r -= t.total
                y += 1
                if y > MAXYEAR:
                    raise self._out(context)
                nxt = self.tables.get(y)
                if nxt is None:
                    return UncertainDate(self._bound(D(y, 1, 1).toordinal() + r - 1, context), None,
                                         self.unknown(y, context))
                t = nxt
            while r < 1:
                y -= 1
                if y < MINYEAR:
                    raise self._out(context)
                prev = self.tables.get(y)
                if prev is None:
                    return UncertainDate(None, self._bound(D(y, 12, 31).toordinal() + r, context),
                                         self.unknown(y, context))
                t = prev
                r += t.total
        j = bisect_left(t.cum, r)
        return D.fromordinal(t.start + j - 1)

    def add_working_days(self, d: date, n: int) -> date:
        result = self.add_working_days_bounded(d, n)
        if isinstance(result, UncertainDate):
            raise result.error
        return result

    def working_days_between(self, start: date, end: date) -> int:
        ts = self.tables.get(start.year)
        if ts is None:
            raise self.unknown(start.year, "")
        te = self.tables.get(end.year)
        if te is None:
            raise self.unknown(end.year, "")
        i_s = start.toordinal() - ts.start
        i_e = end.toordinal() - te.start
        if end >= start:
            return te.cum[i_e + 1] - ts.cum[i_s + 1] + self._span(start.year, end.year, start, end)
        return te.cum[i_e] - ts.cum[i_s] - self._span(end.year, start.year, start, end)

    def _span(self, y0: int, y1: int, start: date, end: date) -> int:
        if y0 == y1:
            return 0
        context = f"{start.isoformat()} 至 {end.isoformat()} 之间的工作日数"
        total = 0
        for y in range(y0, y1):
            t = self.tables.get(y)
            if t is None:
                raise self.unknown(y, context)
            total += t.total
        return total


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    """What a call gives, comparable: a value, an uncertain date's bounds and message, or the error raised."""
    try:
        value = call()
    except (SkillcertError, OutOfRange) as exc:
        return ("raised", type(exc).__name__, exc.code, exc.message)
    if isinstance(value, UncertainDate):
        return ("uncertain", value.low, value.high, type(value.error).__name__, value.error.message)
    return ("value", type(value).__name__, value)


# -- the calendars ------------------------------------------------------------------------------------------


def year(y: int, holidays: Mapping[int, tuple[int, ...]] | None = None, workdays: tuple[D, ...] = (),
         *, all_off: bool = False) -> YearData:
    """A made-up year: a few holidays (month -> days), optional make-up weekend days, or every day off."""
    if all_off:
        first = D(y, 1, 1).toordinal()
        days = frozenset(D.fromordinal(o) for o in range(first, D(y, 12, 31).toordinal() + 1))
        return YearData(y, days, frozenset(), "test all off")
    hol = frozenset(D(y, m, d) for m, ds in (holidays or {1: (1,), 10: (1, 2, 3, 4, 5)}).items() for d in ds)
    return YearData(y, hol, frozenset(workdays), f"test {y}")


def first_weekend_day(y: int, month: int) -> D:
    d = D(y, month, 1)
    while d.weekday() < 5:
        d = D.fromordinal(d.toordinal() + 1)
    return d


def base() -> HolidayCalendar:
    builtin = builtin_calendar()
    return HolidayCalendar({y: builtin.year_data(y) for y in builtin.known_years if y <= 2026})


def calendars() -> list[tuple[str, HolidayCalendar, list[tuple[D, D]]]]:
    """(name, calendar, date ranges to draw from): the edges of every known run and the unknown years around it."""
    b = base()
    y2027 = year(2027, {1: (1,), 2: (8, 9, 10, 11, 12)}, (first_weekend_day(2027, 2),))
    override = YearData(2024, frozenset({D(2024, 1, 1)}), frozenset(), "override.yaml")
    return [
        ("2004–2026", b, [(D(2003, 1, 1), D(2027, 12, 31))]),
        ("2004–2026 + 2027 (pack)", b.with_years([y2027]), [(D(2003, 1, 1), D(2028, 12, 31))]),
        ("2004–2026 + 2029 (gap)", b.with_years([year(2029)]), [(D(2003, 1, 1), D(2030, 12, 31))]),
        ("2004–2026 + 2027 + 2031, 2024 replaced (--calendar)", b.with_years([y2027, year(2031), override]),
         [(D(2003, 6, 1), D(2032, 6, 30))]),
        ("2004–2026 + 2002 (gap before)", b.with_years([year(2002)]), [(D(2001, 6, 1), D(2005, 12, 31))]),
        ("2004–2026 + 2027 all days off + 2028", b.with_years([year(2027, all_off=True), year(2028)]),
         [(D(2025, 6, 1), D(2029, 12, 31))]),
        ("years 1–2 and 9998–9999", HolidayCalendar({1: year(1), 2: year(2), 9998: year(9998), 9999: year(9999)}),
         [(D(1, 1, 1), D(3, 12, 31)), (D(9997, 1, 1), D(9999, 12, 31))]),
        ("year 3 alone", HolidayCalendar({3: year(3)}), [(D(1, 1, 1), D(4, 12, 31))]),
        ("year 9997 alone", HolidayCalendar({9997: year(9997)}), [(D(9996, 1, 1), D(9999, 12, 31))]),
        ("nothing known", HolidayCalendar({}), [(D(2024, 1, 1), D(2024, 12, 31))]),
    ]


CALENDARS = calendars()
REFERENCES = [OldCalendar(cal) for _, cal, _ in CALENDARS]


@st.composite
def cases(draw: st.DrawFn) -> tuple[int, D, D, int]:
    i = draw(st.integers(0, len(CALENDARS) - 1))
    ranges = CALENDARS[i][2]
    lo, hi = ranges[draw(st.integers(0, len(ranges) - 1))]
    day = st.integers(lo.toordinal(), hi.toordinal()).map(D.fromordinal)
    # near a year's end or start half the time: where the counts cross from one year to the next
    edge = st.builds(lambda y, k: D.fromordinal(D(y, 1, 1).toordinal() + k),
                     st.integers(lo.year + 1, hi.year) if hi.year > lo.year else st.just(lo.year),
                     st.integers(-12, 12)).filter(lambda d: lo <= d <= hi)
    d = draw(st.one_of(day, edge))
    e = draw(st.one_of(day, st.integers(-60, 60).map(lambda k: D.fromordinal(
        min(max(d.toordinal() + k, lo.toordinal()), hi.toordinal())))))
    n = draw(st.one_of(st.integers(-400, 400), st.integers(-3, 3), st.integers(-3000, 3000)))
    return i, d, e, n


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(cases())
def test_the_table_gives_what_the_year_by_year_walk_gave(case: tuple[int, D, D, int]) -> None:
    i, d, e, n = case
    cal, old = CALENDARS[i][1], REFERENCES[i]
    assert outcome(lambda: cal.add_working_days_bounded(d, n)) == outcome(lambda: old.add_working_days_bounded(d, n))
    assert outcome(lambda: cal.add_working_days(d, n)) == outcome(lambda: old.add_working_days(d, n))
    assert outcome(lambda: cal.working_days_between(d, e)) == outcome(lambda: old.working_days_between(d, e))
    assert outcome(lambda: cal.working_days_between(e, d)) == outcome(lambda: old.working_days_between(e, d))


@pytest.mark.parametrize("index", range(len(CALENDARS)), ids=[name for name, _, _ in CALENDARS])
def test_every_day_of_every_known_run_and_its_neighbours(index: int) -> None:
    """Exhaustively, for every start day drawn from the calendar's ranges, a few counts that end exactly at a run's
    edges or one past them."""
    _, cal, ranges = CALENDARS[index]
    old = REFERENCES[index]
    for lo, hi in ranges:
        for o in range(lo.toordinal(), hi.toordinal() + 1, 7 if hi.year - lo.year > 5 else 1):
            d = D.fromordinal(o)
            for n in (-261, -260, -250, -1, 0, 1, 250, 260, 261):
                assert outcome(functools.partial(cal.add_working_days_bounded, d, n)) == \
                    outcome(functools.partial(old.add_working_days_bounded, d, n))


def test_counts_to_the_exact_last_and_first_working_day_of_a_run() -> None:
    cal, old = CALENDARS[0][1], REFERENCES[0]
    start = D(2026, 6, 1)
    to_end = cal.working_days_between(start, D(2026, 12, 31))
    assert cal.add_working_days(start, to_end) == D(2026, 12, 31)
    assert isinstance(cal.add_working_days_bounded(start, to_end + 1), UncertainDate)
    assert outcome(lambda: cal.add_working_days_bounded(start, to_end + 1)) == \
        outcome(lambda: old.add_working_days_bounded(start, to_end + 1))
    begin = D(2004, 3, 1)
    back = cal.working_days_between(begin, D(2004, 1, 1))  # 2004-01-01 is a holiday: back to the first working day
    assert outcome(lambda: cal.add_working_days_bounded(begin, back)) == \
        outcome(lambda: old.add_working_days_bounded(begin, back))
    assert isinstance(cal.add_working_days_bounded(begin, back - 1), UncertainDate)


def test_with_years_gives_the_same_calendar_for_the_same_years() -> None:
    b = base()
    extra = year(2027)
    first = b.with_years([extra])
    assert b.with_years([extra]) is first  # remembered: its table is built once
    assert b.with_years((year(2027),)) is first  # equal data
    assert b.with_years([year(2027, {1: (1, 2)})]) is not first
    assert b.with_years([]).known_years == b.known_years
    assert b.known_years == frozenset(range(2004, 2027))  # the original is unchanged


def test_an_unknown_year_between_names_the_first_gap_after_the_earlier_day() -> None:
    cal = base().with_years([year(2029), year(2031)])
    with pytest.raises(CalendarError) as info:
        cal.working_days_between(D(2031, 6, 1), D(2026, 6, 1))
    assert info.value.message.startswith("2027 年")
    assert "2031-06-01 至 2026-06-01 之间的工作日数" in info.value.message
    with pytest.raises(CalendarError) as info:
        cal.working_days_between(D(2029, 6, 1), D(2031, 6, 1))
    assert info.value.message.startswith("2030 年")
