"""Issue 11: nothing a semi-trusted pack or a web form sends runs away in time or memory.

Values grown by operators stop at the limits of :mod:`skillcert.lang.expr` with ``value-too-large`` naming the
expression, identically in both evaluators; a decision has a budget of steps and seconds
(``evaluation-budget``); chains of names nested too deep are refused when the pack is compiled; the list functions
are linear.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from skillcert.compiler.dependencies import MAX_DEPENDENCY_NESTING
from skillcert.lang.expr import (
    MAX_COMPUTED_DIGITS,
    MAX_DECIMAL_EXPONENT,
    MAX_LIST_LENGTH,
    MAX_TEXT_LENGTH,
)
from skillcert.lang.functions import contains_any, count, difference, found_terms, intersect, unique
from skillcert.runtime import context
from skillcert_hostile import both, write_pack
from skillcert_testutil import problem_codes, problem_lines

TEXT = "{type: text, label: 文字, default: abcdefghij}"


def doubling(n: int, first: str, step: str = "{0} + {0}") -> dict[str, str]:
    """d2 = step(d1) … dn = step(d(n-1)), d1 = first."""
    out = {"d1": first}
    for i in range(2, n + 1):
        out[f"d{i}"] = step.format(f"d{i - 1}")
    return out


# ---- values grown by operators stop at the limits, both evaluators alike


def test_text_doubled_forty_times_stops_at_the_text_limit(tmp_path: Path) -> None:
    root = write_pack(tmp_path, inputs={"t": TEXT}, derived=doubling(40, "t"), when="length(d40) > 0")
    assert problem_codes(root / "hostile") == []  # nothing a type check can see: text + text is text
    answer = both(root)
    assert str(answer).startswith("value-too-large: 规则 r(通知):表达式 `d15 + d15` 无法计算")
    assert f"超过 {MAX_TEXT_LENGTH} 个" in str(answer)


def test_list_doubled_forty_times_stops_at_the_list_limit(tmp_path: Path) -> None:
    root = write_pack(tmp_path, derived=doubling(40, "[flag, flag]"), when="len(d40) > 0")
    answer = both(root)
    assert answer.startswith("value-too-large:") and f"超过 {MAX_LIST_LENGTH} 项" in answer
    assert "`d17 + d17`" in answer


def test_parameter_squared_again_and_again_stops_at_the_integer_limit(tmp_path: Path) -> None:
    root = write_pack(tmp_path, parameters={"p": "{value: 999999999999999, label: 大数, source: 通知}"},
                      derived=doubling(40, "p", "{0} * {0}"), when="d40 > 0")
    answer = both(root)
    assert str(answer).startswith("value-too-large:") and f"{MAX_COMPUTED_DIGITS} 位整数" in str(answer)
    assert "`d3 * d3`" in str(answer)  # d4 = d3 * d3: 10^15 → 10^30 → 10^60 → 10^120


def test_decimal_squared_again_and_again_stops_at_the_exponent_limit(tmp_path: Path) -> None:
    root = write_pack(tmp_path, parameters={"p": "{value: 0.0000000001, label: 小数, source: 通知}"},
                      derived=doubling(40, "p", "{0} * {0}"), when="d40 > 0")
    answer = both(root)
    assert answer.startswith("value-too-large:") and f"±{MAX_DECIMAL_EXPONENT}" in answer


def test_sums_of_ordinary_numbers_are_untouched(tmp_path: Path) -> None:
    root = write_pack(tmp_path, parameters={"p": "{value: 999999999999999, label: 大数, source: 通知}"},
                      derived=doubling(20, "p"), when="d20 > p")
    assert both(root) == "outcome: bad"


# ---- numbers only where numbers are needed, even where the checker saw "any"


@pytest.mark.parametrize(("expr", "operator"), [
    ("first_name * n", "*"), ("n * first_name", "*"), ("first_name - n", "-"), ("first_name / n", "/"),
    ("first_name + n", "+"), ("-first_name", "取负号"),
])
def test_text_where_a_number_is_needed_is_refused_at_run_time(tmp_path: Path, expr: str, operator: str) -> None:
    """`earliest(pluck(…))` is typed "any": the type check cannot refuse `*` on it, the evaluation does."""
    root = write_pack(tmp_path, inputs={
        "people": "{type: list, label: 人员, default: [], items: {type: record, label: 人员, "
                  "fields: {name: {type: text, label: 姓名}}}}",
        "n": "{type: integer, label: 次数, default: 3}",
    }, derived={"first_name": "earliest(pluck(people, 'name'))", "product": expr}, when="product is None")
    assert problem_codes(root / "hostile") == []
    answer = both(root, {"people": [{"name": "张三"}]})
    assert answer.startswith("expression-failed: 规则 r(通知):表达式 `") and "文字 text" in answer
    assert operator in answer
    assert "张三张三" not in answer


def test_a_list_and_a_number_in_one_conditional_are_refused_when_the_pack_is_compiled(tmp_path: Path) -> None:
    root = write_pack(tmp_path, parameters={"p": "{value: 3, label: 次数, source: 通知}"},
                      derived={"mixed": "[p, p] if flag else p", "product": "mixed * p"}, when="product > p")
    lines = problem_lines(root / "hostile")
    assert any("type-mismatch: if 的两个分支类型不同:列表 list[整数 integer] 与 整数 integer" in line
               for line in lines), lines


def test_coalesce_of_a_text_and_a_number_is_refused_when_the_pack_is_compiled(tmp_path: Path) -> None:
    root = write_pack(tmp_path, inputs={"note": "{type: text, label: 备注, default: null}"},
                      parameters={"p": "{value: 3, label: 次数, source: 通知}"},
                      derived={"product": "coalesce(note, 1) * p"}, when="product > p")
    lines = problem_lines(root / "hostile")
    assert any("type-mismatch: coalesce() 的参数类型不一致:文字 text、整数 integer" in line for line in lines), lines


def test_a_list_times_an_unknown_value_is_refused_when_the_pack_is_compiled(tmp_path: Path) -> None:
    root = write_pack(tmp_path, inputs={
        "people": "{type: list, label: 人员, default: [], items: {type: record, label: 人员, "
                  "fields: {name: {type: text, label: 姓名}}}}"},
        derived={"product": "[flag] * earliest(pluck(people, 'name'))"}, when="len(product) > 0")
    assert "type-mismatch" in problem_codes(root / "hostile")


# ---- a budget per decision


def loops_pack(tmp_path: Path) -> Path:
    text = (write_pack(tmp_path, inputs={
        "xs": "{type: list, label: 列表, default: [], items: {type: integer, label: 数}}"}) / "hostile" / "pack.yaml")
    pack = text.read_text(encoding="utf-8")
    pack += ("      - id: pairs\n"
             "        kind: each\n"
             "        over: xs\n"
             "        as: x\n"
             "        name: \"{x}\"\n"
             "        require:\n"
             "          each: xs\n"
             "          as: y\n"
             "          name: \"{y}\"\n"
             "          require: {check: x >= 0 and y >= 0, message: 负数}\n"
             "        outcome: bad\n"
             "        source: 通知\n")
    text.write_text(pack, encoding="utf-8")
    return tmp_path


def test_nested_loops_over_a_long_list_stop_with_evaluation_budget(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root = loops_pack(tmp_path)
    assert problem_codes(root / "hostile") == []
    assert both(root, {"xs": list(range(20))}) == "outcome: ok"  # 400 steps
    monkeypatch.setattr(context, "MAX_EVALUATION_STEPS", 20_000)
    answer = both(root, {"xs": list(range(1000))})  # a million steps
    assert str(answer).startswith("evaluation-budget: 规则 pairs(通知):计算量超出上限")
    assert "上限 20000" in str(answer) and "`x >= 0 and y >= 0`" in str(answer)


def test_the_budget_also_has_a_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = loops_pack(tmp_path)
    monkeypatch.setattr(context, "MAX_EVALUATION_SECONDS", 0.0)
    answer = both(root, {"xs": list(range(100))})
    assert answer.startswith("evaluation-budget: 规则 pairs(通知):计算时间超出上限"), answer
    assert both(root, {"xs": list(range(10))}) == "outcome: ok"  # under one slice of steps: the clock is not read


def test_a_normal_decision_is_far_inside_the_budget() -> None:
    assert context.MAX_EVALUATION_STEPS >= 1000 * 1000
    assert context.MAX_EVALUATION_SECONDS >= 10


# ---- chains of names


@pytest.mark.parametrize("length", [3000, 60])
def test_a_long_chain_of_derived_values_is_refused_when_the_pack_is_compiled(tmp_path: Path, length: int) -> None:
    """Declared last-first, so that typing the first one would recurse through all the others."""
    chain = dict(reversed(list(doubling(length, "1 if flag else 0", "{0} + 1").items())))
    root = write_pack(tmp_path, derived=chain, when=f"d{length} > 0")
    lines = problem_lines(root / "hostile")
    assert len(lines) == 1 and "dependency-too-deep: 依赖链过深" in lines[0], lines
    assert f"上限 {MAX_DEPENDENCY_NESTING} 层" in lines[0] and f"d{length} → d{length - 1}" in lines[0]


def test_a_chain_within_the_limit_evaluates_in_both_evaluators(tmp_path: Path) -> None:
    chain = dict(reversed(list(doubling(45, "1 if flag else 0", "{0} + 1").items())))
    root = write_pack(tmp_path, derived=chain, when="d45 > 0")
    assert problem_codes(root / "hostile") == []
    assert both(root, {"flag": True}) == "outcome: bad"


# ---- the list functions are linear


class Counted(str):
    """Text that counts how often it is hashed or compared: the work a list function does, without a clock."""

    calls = 0

    def __hash__(self) -> int:
        Counted.calls += 1
        return str.__hash__(self)

    def __eq__(self, other: object) -> bool:
        Counted.calls += 1
        return str.__eq__(self, other)


def work(fn: object, *args: object) -> tuple[object, int]:
    """The result of ``fn(*args)`` and how many hashes and comparisons of items it took."""
    Counted.calls = 0
    result = fn(*args)  # type: ignore[operator]
    return result, Counted.calls


@pytest.mark.parametrize("n", [2_000, 8_000])
def test_list_functions_do_work_proportional_to_their_lists(n: int) -> None:
    """Quadratic intersect/difference/unique took 90 s on 40,000 items; the work now grows with n, not n²."""
    a = [Counted(f"4-{i:05d}") for i in range(n)]
    b = a[n // 2:] + [Counted(f"5-{i:05d}") for i in range(n // 2)]
    cases: list[tuple[object, tuple[list[Counted], ...], int]] = [
        (intersect, (a, b), n // 2), (difference, (a, b), n // 2), (unique, (a + b,), n + n // 2),
        (difference, (a, []), n), (intersect, (a, a[:1]), 1), (difference, ([], a), 0),
        (difference, (a + a, a[:3]), n - 3)]
    for fn, args, size in cases:
        result, calls = work(fn, *args)
        assert isinstance(result, list) and len(result) == size
        assert calls <= 8 * sum(len(x) for x in args), (fn, calls)  # a quadratic one would make about n² / 2


def test_list_functions_over_forty_thousand_items_give_the_right_answers() -> None:
    a = [f"4-{i:05d}" for i in range(40_000)]
    b = a[20_000:] + [f"5-{i:05d}" for i in range(20_000)]
    records = [{"code": x, "levels": [1, 2]} for x in a]
    for fn, args, size in [(intersect, (a, b), 20_000), (difference, (a, b), 20_000), (unique, (a + b,), 60_000),
                           (intersect, (records, records[::-1]), 40_000), (unique, (records + records,), 40_000),
                           (difference, (records, records[:10]), 39_990)]:
        result = fn(*args)  # type: ignore[operator]
        assert isinstance(result, list) and len(result) == size
    assert count(a + a, "4-00007") == 2
    text = "".join(a[:5000])
    assert found_terms(text, a) == a[:5000]
    assert contains_any(text, b) is False
