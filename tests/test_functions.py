"""skillcert.lang.functions: the built-in expression functions (dates, working days, lists, text, decimals)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from skillcert.errors import CalendarError
from skillcert.lang.functions import (
    BUILTIN_FUNCTIONS,
    _sum,
    add_days,
    add_months,
    contains_any,
    count,
    difference,
    found_terms,
    intersect,
    pluck,
    unique,
)
from skillcert.lang.types import DATE, VType
from skillcert_testutil import ROOT, builtin_functions, compile_text, evaluate_text

D = dt.date


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        # calendar days, months and years
        ("add_days(d, 30)", {"d": D(2025, 6, 1)}, D(2025, 7, 1)),
        ("add_days(d, -30)", {"d": D(2025, 6, 30)}, D(2025, 5, 31)),
        ("add_months(d, 1)", {"d": D(2024, 1, 31)}, D(2024, 2, 29)),
        ("add_months(d, 1)", {"d": D(2023, 1, 31)}, D(2023, 2, 28)),
        ("add_months(d, -1)", {"d": D(2024, 3, 31)}, D(2024, 2, 29)),
        ("add_months(d, 6)", {"d": D(2025, 8, 31)}, D(2026, 2, 28)),
        ("add_months(d, 1)", {"d": D(2024, 12, 15)}, D(2025, 1, 15)),
        ("add_years(d, 1)", {"d": D(2024, 2, 29)}, D(2025, 2, 28)),
        ("add_years(d, 4)", {"d": D(2024, 2, 29)}, D(2028, 2, 29)),
        ("add_years(d, -3)", {"d": D(2025, 5, 20)}, D(2022, 5, 20)),
        ("days_between(a, b)", {"a": D(2024, 1, 1), "b": D(2024, 3, 1)}, 60),
        ("days_between(b, a)", {"a": D(2024, 1, 1), "b": D(2024, 3, 1)}, -60),
        ("year(d)", {"d": D(2024, 10, 15)}, 2024),
        ("month(d)", {"d": D(2024, 10, 15)}, 10),
        ("day(d)", {"d": D(2024, 10, 15)}, 15),
        # working days on the PRC calendar (2024 National Day: 10-01..07 off, 09-29 and 10-12 worked)
        ("add_working_days(d, 20)", {"d": D(2024, 9, 27)}, D(2024, 10, 30)),
        ("add_working_days(d, 1)", {"d": D(2024, 9, 30)}, D(2024, 10, 8)),
        ("add_working_days(d, 1)", {"d": D(2024, 9, 28)}, D(2024, 9, 29)),
        ("add_working_days(d, -1)", {"d": D(2024, 10, 8)}, D(2024, 9, 30)),
        ("add_working_days(d, 0)", {"d": D(2024, 10, 3)}, D(2024, 10, 3)),
        ("working_days_between(a, b)", {"a": D(2024, 9, 27), "b": D(2024, 10, 30)}, 20),
        ("is_working_day(d)", {"d": D(2024, 10, 12)}, True),
        ("is_working_day(d)", {"d": D(2024, 10, 2)}, False),
        # lists
        ("earliest(ds)", {"ds": [D(2024, 3, 1), D(2023, 1, 1)]}, D(2023, 1, 1)),
        ("latest(ds)", {"ds": [D(2024, 3, 1), D(2023, 1, 1)]}, D(2024, 3, 1)),
        ("max_gap_days(a, ds, b)", {"a": D(2024, 1, 1), "b": D(2024, 3, 31),
                                    "ds": [D(2024, 3, 1), D(2023, 12, 1), D(2024, 1, 11)]}, 50),
        ("max_gap_days(a, ds, b)", {"a": D(2024, 1, 1), "b": D(2024, 1, 31), "ds": []}, 30),
        ("len(xs)", {"xs": ["a", "b", "c"]}, 3),
        ("len(t)", {"t": "重庆市"}, 3),
        ("count(xs, 'a')", {"xs": ["a", "b", "a"]}, 2),
        ("sum(ns)", {"ns": [Decimal("0.1"), Decimal("0.2")]}, Decimal("0.3")),
        ("intersect(xs, ys)", {"xs": ["a", "b", "b", "c"], "ys": ["c", "b"]}, ["b", "c"]),
        ("difference(xs, ys)", {"xs": ["a", "b", "a", "c"], "ys": ["c"]}, ["a", "b"]),
        ("unique(xs)", {"xs": ["c", "a", "c", "b"]}, ["c", "a", "b"]),
        ("pluck(rs, 'level')", {"rs": [{"level": 3}, {"level": 4}]}, [3, 4]),
        # text
        ("length(t)", {"t": "a b"}, 3),
        ("length_no_space(t)", {"t": "a b\u3000c\n d\t"}, 4),
        ("contains_any(t, ['虚假', '伪造'])", {"t": "提交伪造材料"}, True),
        ("contains_any(t, ['虚假'])", {"t": "材料齐全"}, False),
        ("found_terms(t, ['c', 'x', 'a'])", {"t": "abcabc"}, ["c", "a"]),
        # numbers
        ("min(n, 3, 2.5)", {"n": 4}, Decimal("2.5")),
        ("max(n, 3)", {"n": 4}, 4),
        ("abs(n)", {"n": Decimal("-0.4")}, Decimal("0.4")),
        ("round_half_up(n, 0)", {"n": Decimal("2.5")}, Decimal("3")),
        ("round_half_up(n, 1)", {"n": Decimal("2.45")}, Decimal("2.5")),
        ("round_half_up(n, 0)", {"n": Decimal("-2.5")}, Decimal("-3")),
        ("ratio(a, b)", {"a": 1, "b": 4}, Decimal("0.25")),
        ("ratio(a, b)", {"a": 1, "b": 0}, None),
        ("percent(a, b, 2)", {"a": 1, "b": 3}, Decimal("33.33")),
        ("percent(a, b, 1)", {"a": 1, "b": 0}, None),
        ("coalesce(n, m, 5)", {"n": None, "m": 0}, 0),
    ],
)
def test_builtin_function(text: str, values: dict[str, Any], expected: Any) -> None:
    result = evaluate_text(text, **values)
    assert result == expected
    assert type(result) is type(expected)


def test_sum_of_decimals_is_exact() -> None:
    result = evaluate_text("sum(ns)", ns=[Decimal("0.1")] * 10)
    assert result == Decimal("1.0") and isinstance(result, Decimal)


def test_empty_lists_give_none_for_earliest_and_latest() -> None:
    assert evaluate_text("earliest(ds)", ds=[D(2024, 1, 1)][:0]) is None
    assert evaluate_text("latest(ds)", ds=[D(2024, 1, 1)][:0]) is None


def test_working_days_in_an_unknown_year_raise_calendar_error() -> None:
    compiled, problems = compile_text("add_working_days(d, 20)", {"d": DATE})
    assert not problems and compiled is not None
    from skillcert_testutil import Ctx

    with pytest.raises(CalendarError) as info:
        compiled.evaluate(Ctx({"d": D(2031, 5, 20)}))
    assert info.value.code == "calendar-year-unknown"
    assert "2031" in info.value.message


def test_function_results_are_typed_for_the_checker() -> None:
    types = {"d": DATE, "ds": VType("list", item=DATE), "ts": VType("list", item=VType("text"))}
    for text, kind in [("add_days(d, 1)", "date"), ("earliest(ds)", "date"), ("days_between(d, d)", "integer"),
                       ("found_terms('x', ts)", "list"), ("ratio(1, 2)", "decimal"), ("contains_any('x', ts)", "bool")]:
        compiled, problems = compile_text(text, types)
        assert not problems, text
        assert compiled is not None and compiled.type.kind == kind, text


def test_builtin_function_names_are_unique() -> None:
    names = [f.name for f in BUILTIN_FUNCTIONS]
    assert len(names) == len(set(names))
    assert all(f.doc for f in BUILTIN_FUNCTIONS)


def test_every_function_the_pack_format_documents_exists() -> None:
    doc = (ROOT / "docs" / "pack-format.md").read_text(encoding="utf-8")
    table = doc[doc.index("| function | result |"):doc.index("### Derived values")]
    documented = set(re.findall(r"`([a-z_]+)\(", table))
    assert documented, "the function table was not found"
    assert documented <= set(builtin_functions())


@pytest.mark.parametrize(
    ("start", "dates", "end", "expected"),
    [
        # the next event on the same date two years later closes the gap in time; one day later does not
        (D(2021, 3, 15), [], D(2023, 3, 15), None),
        (D(2021, 3, 15), [], D(2023, 3, 16), (D(2021, 3, 15), D(2023, 3, 16), 731)),
        # the first gap that is too long is reported, in date order, whatever the order of the list
        (D(2020, 1, 1), [D(2023, 6, 1), D(2020, 6, 1)], D(2023, 12, 1),
         (D(2020, 6, 1), D(2023, 6, 1), 1095)),
        # dates outside [start, end] are not events
        (D(2020, 1, 1), [D(2019, 5, 1), D(2021, 6, 1), D(2024, 1, 1)], D(2023, 6, 1), None),
        # leap day: two years after 2020-02-29 is 2022-02-28
        (D(2020, 2, 29), [], D(2022, 3, 1), (D(2020, 2, 29), D(2022, 3, 1), 731)),
        (D(2020, 2, 29), [], D(2022, 2, 28), None),
    ],
)
def test_gap_over_years_finds_the_first_stretch_longer_than_whole_years(
        start: dt.date, dates: list[dt.date], end: dt.date, expected: tuple[dt.date, dt.date, int] | None) -> None:
    from skillcert.lang.functions import gap_over_years

    found = gap_over_years(start, dates, end, 2)
    if expected is None:
        assert found is None
    else:
        assert found == {"start": expected[0], "end": expected[1], "days": expected[2]}


# ---- issue 11: the list functions are linear and keep Python's equality


@pytest.mark.parametrize(("fn", "args", "expected"), [
    (intersect, ([1, True, "a", Decimal("1.0"), 2], [True, "a"]), [1, "a"]),            # 1 == True == 1.0
    (difference, ([1, 2, 2, 3, None], [3]), [1, 2, None]),
    (unique, ([{"a": 1}, {"a": True}, [1], [True], 1, True, None, None], ), [{"a": 1}, [1], 1, None]),
    (intersect, ([{"a": [1, {"b": 2}]}, 3, [4]], [{"a": [True, {"b": 2}]}, [4]]), [{"a": [1, {"b": 2}]}, [4]]),
    (difference, ([{"a": 1}, {"a": 2}, {"a": 1}], [{"a": 2}]), [{"a": 1}]),
    (unique, ([dt.date(2024, 1, 1), dt.date(2024, 1, 1)],), [dt.date(2024, 1, 1)]),
])
def test_list_functions_compare_as_python_does(fn: Any, args: tuple[Any, ...], expected: list[Any]) -> None:
    """The hash-based versions give exactly what the quadratic ones gave: first occurrences, in order."""
    assert fn(*args) == expected
    naive = {intersect: lambda a, b: [v for i, v in enumerate(a) if v in b and v not in a[:i]],
             difference: lambda a, b: [v for i, v in enumerate(a) if v not in b and v not in a[:i]],
             unique: lambda a: [v for i, v in enumerate(a) if v not in a[:i]]}[fn]
    assert fn(*args) == naive(*args)


def test_found_terms_with_many_terms_equals_the_term_by_term_search() -> None:
    terms = [f"词{i}" for i in range(200)] + ["词1", "", "职业资格", "资格证", "职业资格"]
    text = "本机构颁发职业资格证书,词1、词17 与词199。"
    assert found_terms(text, terms) == [t for t in terms if t and t in text]
    assert found_terms(text, terms[-5:]) == ["词1", "职业资格", "资格证", "职业资格"]
    assert contains_any(text, terms) and not contains_any("无关文字", terms)


@pytest.mark.parametrize(("call", "fragment"), [
    (lambda: pluck(["a", "b"], "x"), "pluck() 需要记录列表,第 1 项是 文字 text"),
    (lambda: found_terms("abc", ["a", 1]), "found_terms() 的词语应是文字,实际有 整数 integer"),
    (lambda: found_terms(5, ["a"]), "found_terms() 需要文字,实际是 整数 integer"),
    (lambda: add_days(dt.date(2024, 1, 1), "3"), "add_days() 的数量参数应是整数,实际是 文字 text"),
    (lambda: add_days(dt.date(2024, 1, 1), Decimal("1.5")), "add_days() 的数量参数应是整数,实际是 数值 decimal 1.5"),
    (lambda: add_months("2024-01-01", 1), "add_months() 的日期参数应是日期,实际是 文字 text"),
    (lambda: _sum([1, "2"]), "sum() 只能对数值求和,列表中有 文字 text"),
    (lambda: count("abc", "a"), "count() 需要列表,实际是 文字 text"),
])
def test_a_value_of_the_wrong_kind_is_a_type_error_in_chinese(call: Any, fragment: str) -> None:
    with pytest.raises(TypeError) as info:
        call()
    assert fragment in str(info.value)
