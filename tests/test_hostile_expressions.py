"""Issue 11: hostile and messy expressions never crash `validate` and never reach the user as an internal error.

Size and nesting are measured before anything recursive sees an expression; numbers are written as plain decimals;
the functions' arguments are type-checked down to a list's items; and whatever reaches a function at run time
(where the checker saw "any"), it answers or fails with an EvaluationError naming the expression.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from skillcert.errors import EvaluationError
from skillcert.lang.calendar import HolidayCalendar, YearData
from skillcert.lang.expr import MAX_DEPTH, MAX_NODES
from skillcert.lang.types import ANY, DATE, INTEGER, TEXT, VType
from skillcert_hostile import write_pack
from skillcert_testutil import Ctx, builtin_functions, compile_text, problem_lines

TYPES: dict[str, VType] = {"x": INTEGER, "s": TEXT, "d": DATE, "flag": VType("bool")}


def problems(text: str, types: dict[str, VType] | None = None) -> list[tuple[str, str, int]]:
    _, found = compile_text(text, TYPES if types is None else types)
    return [(p.code, p.message, p.offset) for p in found]


def line_of(root: Path, key: str) -> int:
    text = (root / "hostile" / "pack.yaml").read_text(encoding="utf-8")
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.strip().startswith(key))


# ---- size and nesting, measured before any recursion


@pytest.mark.parametrize("text", [
    " + ".join(["x"] * 500),        # 500 terms: a left-nested tree 499 deep
    "-" * 1500 + "x",               # 1,500 unary minus
    "not " * 900 + "flag",          # 900 not
    "-" * 3999 + "x",               # the parser's own recursion limit
    "x" + ".a" * 1300,              # attributes nested 1,300 deep
    "[" * 150 + "x" + "]" * 150,    # lists 150 deep (the tokenizer stops at 200)
    "max(" * 120 + "x" + ", 1)" * 120,
])
def test_expressions_too_large_or_too_deep_are_refused_without_recursion_error(text: str) -> None:
    found = problems(text)
    assert [code for code, _, _ in found] == ["expr-too-large"], found
    assert f"{MAX_DEPTH} 层" in found[0][1] or f"{MAX_NODES} 个节点" in found[0][1]


def test_too_large_is_reported_even_with_little_stack_left() -> None:
    """The checker runs deep inside the compiler; the measure before it is a loop and needs no stack."""
    def at_depth(n: int) -> list[tuple[str, str, int]]:
        return at_depth(n - 1) if n else problems("not " * 900 + "flag")
    limit = sys.getrecursionlimit()
    depth = len(__import__("inspect").stack())
    assert [c for c, _, _ in at_depth(limit - depth - 60)] == ["expr-too-large"]


def test_the_place_of_too_deep_is_inside_the_expression() -> None:
    text = "x + " + "-" * 60 + "x"
    [(code, _, offset)] = problems(text)
    assert code == "expr-too-large" and 4 <= offset < len(text)


def test_a_long_chain_of_terms_in_a_pack_is_reported_at_its_line(tmp_path: Path) -> None:
    root = write_pack(tmp_path, parameters={"p": "{value: 2, label: 数, source: 通知}"},
                      derived={"big": " + ".join(["p"] * 500)}, when="big > p")
    lines = problem_lines(root / "hostile")
    assert len(lines) == 1 and "expr-too-large" in lines[0], lines
    assert lines[0].startswith(f"hostile/pack.yaml:{line_of(root, 'big:')}:")


# ---- numbers as plain decimals


@pytest.mark.parametrize("text", ["0x10", "0X1", "0o17", "0b101", "1_000", "1_0.5", "0.000_1", "1e1_0"])
def test_numbers_not_written_as_plain_decimals_are_refused(text: str) -> None:
    found = problems(f"x > {text}")
    assert [c for c, _, _ in found] == ["expr-not-allowed"], found
    assert f"数字 `{text}` 请按普通十进制书写" in found[0][1]
    assert found[0][2] == 4


@pytest.mark.parametrize(("text", "value"), [("x > 0", False), ("x + 1.5", Decimal("1.5")), ("x + 1e0", Decimal(1)),
                                             ("x + .5", Decimal("0.5")), ("x + 1.", Decimal(1))])
def test_plain_decimals_are_exact(text: str, value: Any) -> None:
    compiled, found = compile_text(text, TYPES)
    assert not found and compiled is not None
    assert compiled.evaluate(Ctx({"x": 0})) == value


# ---- the functions' arguments, checked down to a list's items


@pytest.mark.parametrize(("text", "want"), [
    ("pluck(names, 'x')", "pluck() 第 1 个参数应为 列表 list[记录 record],实际是 列表 list[文字 text]"),
    ("find(names, 'x', 1)", "find() 第 1 个参数应为 列表 list[记录 record]"),
    ("sum(names)", "sum() 第 1 个参数应为 列表 list[数值 number]"),
    ("found_terms(s, dates)", "found_terms() 第 2 个参数应为 列表 list[文字 text],实际是 列表 list[日期 date]"),
    ("max_gap_days(d, names, d)", "max_gap_days() 第 2 个参数应为 列表 list[日期 date]"),
    ("len(x)", "len() 第 1 个参数应为 文字 text或列表 list或"),
    ("min(x, s)", "min() 的参数类型不一致:整数 integer、文字 text"),
])
def test_function_arguments_of_the_wrong_kind_are_reported(text: str, want: str) -> None:
    types = {**TYPES, "names": VType("list", item=TEXT), "dates": VType("list", item=DATE)}
    found = problems(text, types)
    assert any(code == "type-mismatch" and want in message for code, message, _ in found), found


def test_arguments_of_the_right_kind_pass() -> None:
    people = VType("list", item=VType("record", fields=(("name", TEXT), ("born", DATE))))
    types = {**TYPES, "people": people, "names": VType("list", item=TEXT), "anything": ANY,
             "maybe": VType("list", item=TEXT.with_nullable())}
    for text in ["pluck(people, 'name')", "find(people, 'name', s)", "found_terms(s, names)", "len(names)",
                 "len(s)", "pluck(anything, 'x')", "found_terms(s, maybe)", "max_gap_days(d, pluck(people, 'born'), d)",
                 "coalesce(s, 'x')", "min(x, 1.5)"]:
        assert problems(text, types) == [], text


def test_pluck_over_texts_in_a_pack_is_reported_by_validate_at_its_line(tmp_path: Path) -> None:
    root = write_pack(tmp_path, inputs={"names": "{type: list, label: 名单, default: [], items: {type: text}}"},
                      derived={"codes": "pluck(names, 'code')"}, when="len(codes) > 0")
    lines = problem_lines(root / "hostile")
    assert len(lines) == 1 and "type-mismatch" in lines[0], lines
    assert lines[0].startswith(f"hostile/pack.yaml:{line_of(root, 'codes:')}:")


# ---- every function total on what the checker lets through


UNCERTAIN = HolidayCalendar({2098: YearData(2098, frozenset({dt.date(2098, 1, 1)}), frozenset(), "测试")}) \
    .add_working_days_bounded(dt.date(2098, 12, 23), 10)  # on or after 2099-01-04, 2099 unknown
HOSTILE: list[Any] = [None, True, 0, -1, 10**30, Decimal("2.5"), Decimal("1E+99"), "", "abc",
                      dt.date(9999, 12, 31), dt.date(1, 1, 1), [], [None, "a", 1], [{"a": 1}, "x"], {"a": [1]},
                      UNCERTAIN]


def _calls() -> list[tuple[str, int]]:
    out = []
    for name, spec in builtin_functions().items():
        fixed = [p for p in spec.params if not p.endswith("*")]
        out.append((name, len(fixed)))
    return sorted(out)


@pytest.mark.parametrize(("name", "arity"), _calls())
def test_every_function_answers_or_fails_with_an_evaluation_error_on_any_values(name: str, arity: int) -> None:
    """Arguments typed "any" reach the function as they come: a date past 9999, a text for a number, a record in a
    list of texts. Never AttributeError, IndexError, OverflowError… as an internal error."""
    args = [f"a{i}" for i in range(arity)]
    compiled, found = compile_text(f"{name}({', '.join(args)})", {a: ANY for a in args})
    assert compiled is not None and not found
    values = HOSTILE if arity <= 2 else HOSTILE[::3]
    for combo in itertools.product(values, repeat=arity):
        for reference in (False, True):
            ctx = Ctx(dict(zip(args, combo, strict=True)))
            ctx.reference = reference  # type: ignore[attr-defined]
            try:
                compiled.evaluate(ctx)
            except EvaluationError as exc:
                assert exc.code in ("expression-failed", "value-too-large", "date-out-of-range",
                                    "calendar-year-unknown"), (combo, exc.code)
                if exc.code != "calendar-year-unknown":  # the calendar names the year and the count
                    assert f"`{name}(" in exc.message, exc.message


@pytest.mark.parametrize(("text", "code", "fragment"), [
    ("add_days(d, x)", "date-out-of-range", "9999-12-31 加 1 天超出可表示的日期范围"),
    ("add_months(d, x)", "date-out-of-range", "9999-12-31 加 1 个月超出"),
    ("add_years(d, x)", "date-out-of-range", "9999-12-31 加 1 年超出"),
])
def test_date_arithmetic_past_9999_is_date_out_of_range(text: str, code: str, fragment: str) -> None:
    compiled, found = compile_text(text, TYPES)
    assert compiled is not None and not found
    with pytest.raises(EvaluationError) as info:
        compiled.evaluate(Ctx({"d": dt.date(9999, 12, 31), "x": 1}))
    assert info.value.code == code and fragment in info.value.message
    assert info.value.message.startswith(f"表达式 `{text}` 无法计算")


@pytest.mark.parametrize("text", ["a + b", "a - b", "a * b", "a / b", "-a", "+a", "a < b", "a >= b", "a == b",
                                  "a in b", "a not in b", "not a", "a.x", "a if b else a", "a and b", "a or b",
                                  "a is None", "[a, b]"])
def test_every_operator_answers_or_fails_with_an_evaluation_error_on_any_values(text: str) -> None:
    compiled, found = compile_text(text, {"a": ANY, "b": ANY})
    assert compiled is not None and not found
    for a, b in itertools.product(HOSTILE, repeat=2):
        results = []
        for reference in (False, True):
            ctx = Ctx({"a": a, "b": b})
            ctx.reference = reference  # type: ignore[attr-defined]
            try:
                results.append(("value", compiled.evaluate(ctx)))
            except EvaluationError as exc:
                assert exc.code in ("expression-failed", "value-too-large", "calendar-year-unknown"), (a, b, exc.code)
                if exc.code != "calendar-year-unknown":  # the uncertain date's own error, naming the year
                    assert f"`{text}`" in exc.message
                results.append((exc.code, exc.message))
        assert results[0] == results[1], (a, b)
