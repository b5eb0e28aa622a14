"""Tests for skillcert.lang.calendar: PRC working days with statutory holidays and make-up days (调休)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from skillcert.errors import CalendarError, SkillcertError
from skillcert.lang.calendar import (
    HolidayCalendar,
    UncertainDate,
    YearData,
    builtin_calendar,
    known_years_text,
    year_data_from_mapping,
)
from skillcert.lang.expr import OutOfRange

D = date


def known_to_2026() -> HolidayCalendar:
    """The built-in data up to 2026, as chinesecalendar 1.11 ships it: the tests below about unknown years keep their
    meaning when a later release of the package adds 2027."""
    builtin = builtin_calendar()
    return HolidayCalendar({y: builtin.year_data(y) for y in builtin.known_years if y <= 2026})


@pytest.fixture(scope="module")
def cal() -> HolidayCalendar:
    return known_to_2026()


def year_2027() -> dict[str, Any]:
    """A made-up but well-formed 2027 arrangement."""
    return {
        "year": 2027,
        "holidays": [
            "2027-01-01",
            {"from": "2027-02-06", "to": "2027-02-12", "name": "春节"},
            D(2027, 10, 1),
            {"from": D(2027, 10, 2), "to": D(2027, 10, 7)},
        ],
        "workdays": ["2027-02-14", D(2027, 10, 9)],
        "note": "test data",
    }


# -- the built-in data ------------------------------------------------------------------------------------


def test_builtin_calendar_knows_2004_to_2026() -> None:
    known = builtin_calendar().known_years
    assert known >= frozenset(range(2004, 2027))
    assert known == frozenset(range(2004, max(known) + 1))  # no gap
    assert builtin_calendar().year_data(2024).source.startswith("chinesecalendar ")


def test_known_years_are_said_with_their_source() -> None:
    text = known_years_text(known_to_2026())
    assert text.startswith("法定节假日安排已知年份:2004–2026(chinesecalendar ")
    extra = YearData(2031, frozenset({D(2031, 1, 1)}), frozenset(), "--calendar 2031.yaml")
    assert known_years_text(known_to_2026().with_years([extra])).endswith(";2031(--calendar 2031.yaml)")
    assert known_years_text().startswith("法定节假日安排已知年份:2004–")  # the built-in calendar
    assert known_to_2026().known_years_text == "2004–2026"
    assert known_years_text(HolidayCalendar({})) == "法定节假日安排已知年份:无"


def test_builtin_calendar_is_cached() -> None:
    assert builtin_calendar() is builtin_calendar()


def test_importing_the_module_does_not_import_chinesecalendar() -> None:
    root = Path(__file__).resolve().parent.parent
    code = "import sys, skillcert.lang.calendar; print('chinese_calendar' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(root), "PATH": ""})
    assert out.stdout.strip() == "False"


# -- single days ------------------------------------------------------------------------------------------


def test_make_up_saturday_is_a_working_day(cal: HolidayCalendar) -> None:
    assert D(2024, 10, 12).weekday() == 5
    assert cal.is_working_day(D(2024, 10, 12))
    assert not cal.is_holiday(D(2024, 10, 12))


def test_make_up_sunday_is_a_working_day(cal: HolidayCalendar) -> None:
    assert D(2024, 9, 29).weekday() == 6
    assert cal.is_working_day(D(2024, 9, 29))


def test_holiday_monday_is_not_a_working_day(cal: HolidayCalendar) -> None:
    assert D(2025, 6, 2).weekday() == 0  # 端午节 2025
    assert not cal.is_working_day(D(2025, 6, 2))
    assert cal.is_holiday(D(2025, 6, 2))


def test_ordinary_weekend_is_not_working_and_not_a_holiday(cal: HolidayCalendar) -> None:
    assert not cal.is_working_day(D(2024, 11, 16))
    assert not cal.is_holiday(D(2024, 11, 16))


def test_ordinary_weekday_is_a_working_day(cal: HolidayCalendar) -> None:
    assert cal.is_working_day(D(2024, 11, 13))


# -- add_working_days -------------------------------------------------------------------------------------


def test_twenty_working_days_across_national_day_2024(cal: HolidayCalendar) -> None:
    # 9-29 (Sun) and 10-12 (Sat) are make-up days; 10-01..10-07 are off.
    assert cal.add_working_days(D(2024, 9, 27), 20) == D(2024, 10, 30)


def test_twenty_working_days_across_dragon_boat_2025(cal: HolidayCalendar) -> None:
    # 端午 2025-05-31..06-02 off.
    assert cal.add_working_days(D(2025, 5, 20), 20) == D(2025, 6, 18)


def test_the_arrangement_between_two_dates_lists_the_days_off_and_make_up_days_crossed(
        cal: HolidayCalendar) -> None:
    # 2024 National Day: 10-01..10-07 off, 09-29 (Sun) and 10-12 (Sat) worked; the start itself is not crossed.
    days_off, make_up = cal.arrangement_between(D(2024, 9, 27), D(2024, 10, 30))
    assert days_off == [D(2024, 10, d) for d in range(1, 8)]
    assert make_up == [D(2024, 9, 29), D(2024, 10, 12)]
    assert cal.arrangement_between(D(2024, 10, 30), D(2024, 9, 27)) == (days_off, make_up)  # either order
    assert cal.arrangement_between(D(2024, 10, 1), D(2024, 10, 1)) == ([], [])
    assert cal.arrangement_between(D(2024, 9, 30), D(2024, 10, 1)) == ([D(2024, 10, 1)], [])  # the end is crossed


def test_the_arrangement_across_an_unknown_year_is_an_error_not_a_guess(cal: HolidayCalendar) -> None:
    last = max(cal.known_years)
    with pytest.raises(CalendarError):
        cal.arrangement_between(D(last, 12, 1), D(last + 1, 1, 10))


def test_twenty_working_days_backwards_counts_make_up_days(cal: HolidayCalendar) -> None:
    # 2022-10-08 (Sat) and 10-09 (Sun) are make-up working days and count.
    assert cal.add_working_days(D(2022, 10, 17), -20) == D(2022, 9, 14)


def test_zero_working_days_returns_the_date_itself(cal: HolidayCalendar) -> None:
    assert cal.add_working_days(D(2024, 10, 3), 0) == D(2024, 10, 3)
    assert cal.add_working_days(D(2024, 11, 13), 0) == D(2024, 11, 13)


def test_one_working_day_after_a_holiday_block_is_the_first_day_back(cal: HolidayCalendar) -> None:
    assert cal.add_working_days(D(2024, 9, 30), 1) == D(2024, 10, 8)
    assert cal.add_working_days(D(2024, 10, 3), 1) == D(2024, 10, 8)


def test_one_working_day_before_a_non_working_day_is_the_last_day_before(cal: HolidayCalendar) -> None:
    assert cal.add_working_days(D(2024, 10, 3), -1) == D(2024, 9, 30)
    assert cal.add_working_days(D(2024, 11, 17), -1) == D(2024, 11, 15)


def test_walk_crosses_year_boundaries(cal: HolidayCalendar) -> None:
    # 2024-12-31 (Tue) -> 2025-01-01 is New Year's Day, so the first working day is 01-02.
    assert cal.add_working_days(D(2024, 12, 31), 1) == D(2025, 1, 2)
    assert cal.add_working_days(D(2025, 1, 2), -1) == D(2024, 12, 31)
    # A very long walk, through several whole years, stays consistent.
    far = cal.add_working_days(D(2005, 3, 1), 4000)
    assert cal.add_working_days(far, -4000) == D(2005, 3, 1)
    assert cal.working_days_between(D(2005, 3, 1), far) == 4000


def test_forward_then_backward_round_trip_on_working_days(cal: HolidayCalendar) -> None:
    start = D(2024, 9, 2)
    for offset in range(0, 120):
        d = D.fromordinal(start.toordinal() + offset)
        if not cal.is_working_day(d):
            continue
        for n in (1, 5, 20, 60):
            assert cal.add_working_days(cal.add_working_days(d, n), -n) == d
            assert cal.add_working_days(cal.add_working_days(d, -n), n) == d


def test_add_working_days_agrees_with_a_day_by_day_walk(cal: HolidayCalendar) -> None:
    d = D(2023, 12, 20)
    for n in (1, 2, 3, 10, 37):
        day, left = d, n
        while left:
            day = D.fromordinal(day.toordinal() + 1)
            left -= cal.is_working_day(day)
        assert cal.add_working_days(d, n) == day
        day, left = d, n
        while left:
            day = D.fromordinal(day.toordinal() - 1)
            left -= cal.is_working_day(day)
        assert cal.add_working_days(d, -n) == day


# -- working_days_between ---------------------------------------------------------------------------------


def test_working_days_between_counts_the_half_open_interval(cal: HolidayCalendar) -> None:
    assert cal.working_days_between(D(2024, 9, 27), D(2024, 10, 30)) == 20
    assert cal.working_days_between(D(2025, 5, 20), D(2025, 6, 18)) == 20
    assert cal.working_days_between(D(2024, 11, 13), D(2024, 11, 13)) == 0
    assert cal.working_days_between(D(2024, 11, 15), D(2024, 11, 17)) == 0  # Fri -> Sun
    assert cal.working_days_between(D(2024, 11, 15), D(2024, 11, 18)) == 1  # Fri -> Mon


def test_working_days_between_is_negative_backwards(cal: HolidayCalendar) -> None:
    assert cal.working_days_between(D(2022, 10, 17), D(2022, 9, 14)) == -20
    assert cal.working_days_between(D(2024, 10, 30), D(2024, 9, 27)) == -20
    assert cal.working_days_between(D(2024, 11, 18), D(2024, 11, 15)) == -1  # Mon -> Fri


def test_working_days_between_backwards_from_a_weekend(cal: HolidayCalendar) -> None:
    # Backwards the count is of [end, start): from Saturday back to the Friday before is one working day.
    assert cal.working_days_between(D(2024, 11, 16), D(2024, 11, 15)) == -1
    assert cal.add_working_days(D(2024, 11, 16), -1) == D(2024, 11, 15)


def test_working_days_between_across_years(cal: HolidayCalendar) -> None:
    assert cal.working_days_between(D(2024, 12, 31), D(2025, 1, 2)) == 1
    assert cal.working_days_between(D(2025, 1, 2), D(2024, 12, 31)) == -1
    total_2024 = cal.working_days_between(D(2023, 12, 31), D(2024, 12, 31))
    assert total_2024 == sum(cal.is_working_day(D.fromordinal(o))
                             for o in range(D(2024, 1, 1).toordinal(), D(2025, 1, 1).toordinal()))


def test_working_days_between_is_the_inverse_of_add_working_days(cal: HolidayCalendar) -> None:
    for start in (D(2024, 9, 27), D(2024, 10, 5), D(2024, 11, 16), D(2022, 10, 8)):
        for n in (-45, -20, -3, -1, 0, 1, 3, 20, 45):
            assert cal.working_days_between(start, cal.add_working_days(start, n)) == n


def test_adding_the_distance_lands_on_the_last_working_day_up_to_the_end(cal: HolidayCalendar) -> None:
    a = D(2024, 9, 20)
    for b in (D(2024, 10, 3), D(2024, 10, 6), D(2024, 10, 8), D(2024, 10, 12), D(2024, 10, 13)):
        k = cal.working_days_between(a, b)
        last = b
        while not cal.is_working_day(last):
            last = D.fromordinal(last.toordinal() - 1)
        assert cal.add_working_days(a, k) == last


# -- unknown years ----------------------------------------------------------------------------------------


def test_unknown_year_raises_calendar_error_naming_the_year(cal: HolidayCalendar) -> None:
    with pytest.raises(CalendarError) as info:
        cal.is_working_day(D(2027, 3, 1))
    assert info.value.code == "calendar-year-unknown"
    assert "2027" in str(info.value)
    assert "2004–2026" in str(info.value)
    assert "--calendar" in str(info.value)


@pytest.mark.parametrize("query", [
    lambda c: c.is_holiday(D(2003, 10, 1)),
    lambda c: c.add_working_days(D(2027, 1, 4), 0),
    lambda c: c.add_working_days(D(2027, 1, 4), 3),
    lambda c: c.working_days_between(D(2026, 6, 1), D(2027, 1, 4)),
    lambda c: c.working_days_between(D(2003, 12, 1), D(2004, 1, 5)),
    lambda c: c.year_data(2030),
])
def test_every_query_touching_an_unknown_year_raises(cal: HolidayCalendar, query: Any) -> None:
    with pytest.raises(CalendarError):
        query(cal)


def test_walk_from_2026_into_2027_raises(cal: HolidayCalendar) -> None:
    assert cal.add_working_days(D(2026, 12, 28), 3) == D(2026, 12, 31)  # still inside 2026: fine
    with pytest.raises(CalendarError) as info:
        cal.add_working_days(D(2026, 12, 20), 20)
    assert info.value.code == "calendar-year-unknown"
    assert "2027 年" in str(info.value)
    assert "2026-12-20" in str(info.value)


def test_walk_backwards_from_2004_into_2003_raises(cal: HolidayCalendar) -> None:
    with pytest.raises(CalendarError, match="2003"):
        cal.add_working_days(D(2004, 1, 10), -20)


def test_between_through_a_gap_year_raises() -> None:
    cal = known_to_2026().with_years([year_data_from_mapping({**year_2027(), "year": 2029, "holidays": [
        "2029-01-01"], "workdays": []}, "x.yaml")])
    with pytest.raises(CalendarError, match="2027"):
        cal.working_days_between(D(2026, 6, 1), D(2029, 6, 1))


# -- adding years -----------------------------------------------------------------------------------------


def test_with_years_adds_a_year_and_the_walk_continues_into_it(cal: HolidayCalendar) -> None:
    extended = cal.with_years([year_data_from_mapping(year_2027(), "policies/x/holidays.yaml:3")])
    assert extended.known_years == frozenset(range(2004, 2028))
    assert cal.known_years == frozenset(range(2004, 2027))  # the original is unchanged
    assert extended.year_data(2027).source == "policies/x/holidays.yaml:3"
    assert not extended.is_working_day(D(2027, 1, 1))
    assert extended.is_working_day(D(2027, 2, 14))  # make-up Sunday
    assert not extended.is_working_day(D(2027, 2, 8))  # Monday inside 春节
    # 2026-12-31 (Thu) + 1: 2027-01-01 is a holiday, 01-02/03 the weekend -> Monday 01-04.
    assert extended.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)
    # 2027-02-05 (Fri) + 1: 02-06..12 off, 02-13 Sat off, 02-14 Sun is a make-up day.
    assert extended.add_working_days(D(2027, 2, 5), 1) == D(2027, 2, 14)
    assert extended.add_working_days(D(2027, 2, 14), -1) == D(2027, 2, 5)
    assert extended.working_days_between(D(2026, 12, 31), D(2027, 2, 14)) == 20 + 5 + 1  # Jan, Feb 1-5, 02-14


def test_with_years_overrides_existing_data_for_that_year(cal: HolidayCalendar) -> None:
    assert not cal.is_working_day(D(2024, 10, 1))
    replacement = year_data_from_mapping({"year": 2024, "holidays": ["2024-01-01"]}, "override.yaml")
    changed = cal.with_years([replacement])
    assert changed.is_working_day(D(2024, 10, 1))
    assert not changed.is_working_day(D(2024, 10, 12))  # the old make-up Saturday is gone
    assert changed.year_data(2024).source == "override.yaml"
    assert changed.add_working_days(D(2024, 9, 27), 20) == D(2024, 10, 25)
    assert cal.add_working_days(D(2024, 9, 27), 20) == D(2024, 10, 30)


def test_calendar_rejects_a_key_that_does_not_match_the_year() -> None:
    data = YearData(2027, frozenset({D(2027, 1, 1)}), frozenset(), "x")
    with pytest.raises(SkillcertError) as info:
        HolidayCalendar({2028: data})
    assert info.value.code == "calendar-data-invalid"


# -- year_data_from_mapping -------------------------------------------------------------------------------


def test_year_data_from_mapping_expands_ranges_and_parses_dates() -> None:
    data = year_data_from_mapping(year_2027(), "cal.yaml")
    assert data.year == 2027
    assert len(data.holidays) == 1 + 7 + 7
    assert D(2027, 2, 9) in data.holidays
    assert data.workdays == frozenset({D(2027, 2, 14), D(2027, 10, 9)})
    assert data.source == "cal.yaml"


def invalid(mapping: Any) -> SkillcertError:
    with pytest.raises(SkillcertError) as info:
        year_data_from_mapping(mapping, "policies/x/holidays.yaml:3")
    assert info.value.code == "calendar-data-invalid"
    assert "policies/x/holidays.yaml:3" in str(info.value)
    return info.value


def test_rejects_a_date_outside_the_year() -> None:
    err = invalid({**year_2027(), "holidays": ["2027-01-01", "2026-12-31"]})
    assert "holidays[1]" in err.message and "2026-12-31" in err.message


def test_rejects_a_range_reaching_outside_the_year() -> None:
    err = invalid({**year_2027(), "holidays": [{"from": "2027-12-30", "to": "2028-01-02"}]})
    assert "holidays[0]" in err.message and "2028-01-02" in err.message


def test_rejects_a_workday_on_a_weekday() -> None:
    err = invalid({**year_2027(), "workdays": ["2027-02-14", "2027-02-15"]})
    assert "workdays[1]" in err.message and "2027-02-15" in err.message and "星期一" in err.message


def test_rejects_a_day_that_is_both_holiday_and_workday() -> None:
    err = invalid({**year_2027(), "workdays": ["2027-10-02"]})
    assert "workdays[0]" in err.message and "2027-10-02" in err.message and "holidays[3]" in err.message


@pytest.mark.parametrize("bad", ["2027-02-30", "next monday", "2027/01/01", "20270101", 20270101, None])
def test_rejects_an_unparseable_date(bad: object) -> None:
    err = invalid({**year_2027(), "holidays": ["2027-01-01", bad]})
    assert "holidays[1]" in err.message and repr(bad) in err.message


def test_rejects_an_unparseable_range_end() -> None:
    err = invalid({**year_2027(), "holidays": [{"from": "2027-02-06", "to": "soon"}]})
    assert "holidays[0].to" in err.message and "'soon'" in err.message


def test_rejects_a_backwards_range() -> None:
    err = invalid({**year_2027(), "holidays": [{"from": "2027-02-12", "to": "2027-02-06"}]})
    assert "holidays[0]" in err.message


@pytest.mark.parametrize("mapping, fragment", [
    ({"holidays": ["2027-01-01"]}, "year"),
    ({"year": "2027", "holidays": ["2027-01-01"]}, "year"),
    ({"year": True, "holidays": ["2027-01-01"]}, "year"),
    ({"year": 2027}, "holidays"),
    ({"year": 2027, "holidays": []}, "holidays"),
    ({"year": 2027, "holidays": "2027-01-01"}, "holidays"),
    ({"year": 2027, "holidays": ["2027-01-01"], "workday": ["2027-02-14"]}, "workday"),
    ({"year": 2027, "holidays": [{"from": "2027-01-01"}]}, "holidays[0]"),
    ({"year": 2027, "holidays": [{"from": "2027-01-01", "to": "2027-01-01", "until": 1}]}, "until"),
    ({"year": 2027, "holidays": ["2027-01-01"], "workdays": [{"from": "2027-02-13", "to": "2027-02-14"}]},
     "workdays[0]"),
])
def test_rejects_malformed_structure(mapping: dict[str, Any], fragment: str) -> None:
    assert fragment in invalid(mapping).message


def test_rejects_a_non_mapping() -> None:
    invalid(["2027-01-01"])


def test_year_data_itself_rejects_inconsistent_sets() -> None:
    with pytest.raises(SkillcertError, match="calendar|2026-12-31|同时") as info:
        YearData(2027, frozenset({D(2026, 12, 31)}), frozenset(), "x")
    assert info.value.code == "calendar-data-invalid"
    with pytest.raises(SkillcertError):
        YearData(2027, frozenset({D(2027, 2, 13)}), frozenset({D(2027, 2, 13)}), "x")
    with pytest.raises(SkillcertError):
        YearData(2027, frozenset(), frozenset({D(2027, 2, 15)}), "x")


# -- counts into an unknown year: bounds that hold whatever its arrangement ---------------------------------


def test_a_count_into_an_unknown_year_is_an_uncertain_date_with_a_lower_bound(cal: HolidayCalendar) -> None:
    """2026-12-23 (Wednesday): 24, 25, 28, 29, 30, 31 December are six working days; the four left are in 2027,
    and the fourth working day of a year is not before its fourth day."""
    due = cal.add_working_days_bounded(D(2026, 12, 23), 10)
    assert isinstance(due, UncertainDate)
    assert (due.low, due.high) == (D(2027, 1, 4), None)
    assert "2027 年的法定节假日安排未知" in due.error.message and "2026-12-23 之后第 10 个工作日" in due.error.message
    assert str(due) == "2027-01-04 或之后的某日(节假日安排未知)"
    assert cal.add_working_days_bounded(D(2026, 12, 23), 6) == D(2026, 12, 31)  # still inside 2026: a date


def test_a_count_back_into_an_unknown_year_has_an_upper_bound(cal: HolidayCalendar) -> None:
    """2004-01-05 (Monday): only 2 January is a working day of 2004 before it; the ninth from the end of 2003 is
    not after 23 December."""
    due = cal.add_working_days_bounded(D(2004, 1, 5), -10)
    assert isinstance(due, UncertainDate) and (due.low, due.high) == (None, D(2003, 12, 23))
    assert str(due) == "2003-12-23 或之前的某日(节假日安排未知)"


def test_the_strict_count_still_raises(cal: HolidayCalendar) -> None:
    with pytest.raises(CalendarError):
        cal.add_working_days(D(2026, 12, 23), 10)
    with pytest.raises(CalendarError, match="2031"):  # no bound from a start whose own year is unknown
        cal.add_working_days_bounded(D(2031, 5, 20), 20)


@pytest.mark.parametrize(("compare", "expected"), [
    (lambda u: D(2026, 12, 30) > u, False),   # reflected: date returns NotImplemented, u.__lt__ answers
    (lambda u: D(2026, 12, 30) <= u, True),
    (lambda u: D(2027, 1, 4) <= u, True),
    (lambda u: D(2027, 1, 4) > u, False),
    (lambda u: u >= D(2027, 1, 4), True),
    (lambda u: u < D(2027, 1, 4), False),
    (lambda u: u == D(2026, 12, 31), False),
    (lambda u: u != D(2026, 12, 31), True),
    (lambda u: D(2026, 12, 31) == u, False),
    (lambda u: u == "2027-01-05", False),
    (lambda u: u == u, True),
    (lambda u: u is None, False),
])
def test_comparisons_the_bounds_decide_are_answered(cal: HolidayCalendar, compare: Any, expected: bool) -> None:
    assert compare(cal.add_working_days_bounded(D(2026, 12, 23), 10)) is expected


@pytest.mark.parametrize("use", [
    lambda u: D(2027, 1, 10) > u,
    lambda u: u < D(2027, 1, 5),
    lambda u: u == D(2027, 1, 5),
    lambda u: u != D(2027, 3, 1),
    lambda u: u + 1,
    lambda u: u - D(2026, 1, 1),
    lambda u: D(2026, 1, 1) - u,
    lambda u: u.year,
    lambda u: u.isoformat(),
    lambda u: u.toordinal(),
    lambda u: hash(u),
    lambda u: {u},
    lambda u: int(u),
])
def test_any_other_use_of_an_uncertain_date_raises_the_calendar_error(cal: HolidayCalendar, use: Any) -> None:
    due = cal.add_working_days_bounded(D(2026, 12, 23), 10)
    with pytest.raises(CalendarError) as info:
        use(due)
    assert info.value is due.error and info.value.code == "calendar-year-unknown"


def test_a_count_past_9999_is_out_of_range() -> None:
    last = YearData(9999, frozenset({D(9999, 1, 1)}), frozenset(), "test")
    cal = known_to_2026().with_years([last])
    assert cal.add_working_days_bounded(D(9999, 12, 30), 1) == D(9999, 12, 31)
    with pytest.raises(OutOfRange) as info:
        cal.add_working_days_bounded(D(9999, 12, 30), 5)
    assert info.value.code == "date-out-of-range" and "9999-12-30 之后第 5 个工作日" in info.value.message
    with pytest.raises(CalendarError):  # the strict count: an unknown year 10000 is still an unknown year
        cal.add_working_days(D(2026, 12, 30), 5)
