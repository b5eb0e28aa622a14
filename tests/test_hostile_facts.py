"""Hostile and messy facts (web forms, APIs): every one is refused with a clear Chinese message naming the field
or the file position and a stable code, exit 2 — never a traceback, an internal error, a silently rounded or
ambiguous value, or a run away in time or memory. One test per family of mistakes, on the command line and in the
library."""

from __future__ import annotations

import datetime as dt
import io
import sys
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import skillcert
from skillcert.compiler.model import DEFAULT_MAX_ITEMS, Decision
from skillcert.errors import FactsError, SkillcertError, did_you_mean
from skillcert.runtime.facts import MAX_PROBLEMS, validate_facts
from skillcert.source.loader import MAX_FILE_BYTES, load_text
from skillcert.values import (
    MAX_DECIMAL_PLACES,
    MAX_INTEGER_DIGITS,
    MAX_NUMBER_TEXT,
    QUOTE_LIMIT,
    format_decimal,
    int_text,
    quote,
    to_json,
)
from skillcert_testutil import MINI, POLICIES, mini_facts, pack_variant, run_cli

SUPERVISION = POLICIES / "nanning" / "examples" / "supervision-findings.yaml"
SUPERVISION_FACTS = SUPERVISION.read_text(encoding="utf-8")
EVALUATE_SUPERVISION = ["evaluate", "nanning/supervision"]
AS_OF = ["--as-of", "2023-05-18"]


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def evaluate_supervision(tmp_path: Path, text: str, name: str = "facts.yaml") -> tuple[int, str, str]:
    return run_cli([*EVALUATE_SUPERVISION, write(tmp_path, name, text), *AS_OF])


def assert_refused(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2, err
    assert out == ""
    assert err.startswith("skillcert: ")
    assert "internal-error" not in err and "Traceback" not in err
    assert len(err) < 3000, "a message must stay short whatever the input"
    for fragment in fragments:
        assert fragment in err


def with_retention(years: str) -> str:
    assert "paper_retention_years: 3\n" in SUPERVISION_FACTS
    return SUPERVISION_FACTS.replace("paper_retention_years: 3\n", f"paper_retention_years: {years}\n")


@pytest.fixture(scope="module")
def mini() -> Decision:
    return skillcert.load(MINI.parent).decision("mini/check")


def problems_of(decision: Decision, facts: Any, source: Any = None) -> list[str]:
    with pytest.raises(FactsError) as info:
        validate_facts(decision, facts, source)
    assert info.value.code == "facts-invalid"
    return [str(p) for p in info.value.problems]


# ---- 1. exact means exact: more precision than allowed is refused, never rounded


def test_a_decimal_with_more_places_than_allowed_is_refused_not_rounded(tmp_path: Path) -> None:
    code, out, err = evaluate_supervision(tmp_path, with_retention("2.99999999999999999999999999999999"))
    assert_refused(code, out, err, "facts-invalid", "paper_retention_years(纸质材料保存年限)",
                   f"最多 {MAX_DECIMAL_PLACES} 位小数", "2.99999999999999999999999999999999", "facts.yaml:8:")
    assert "3 年" not in err


@pytest.mark.parametrize("given", ["2.99999999999999999999999999999999", Decimal("2.99999999999999999999999999999999"),
                                   "0.12345678901", Decimal("1E-11")])
def test_a_decimal_beyond_the_allowed_places_is_refused_in_the_library(mini: Decision, given: Any) -> None:
    (problem,) = problems_of(mini, mini_facts(fee=given))
    assert problem.startswith("fee: facts-invalid: fee(收费标准(元)):小数位太多")


@pytest.mark.parametrize("given", ["2.9999999999", "2.50000000000000000000", Decimal("123456789012345.0123456789")])
def test_decimals_within_the_limits_are_kept_and_shown_exactly(mini: Decision, given: Any) -> None:
    checked = validate_facts(mini, mini_facts(fee=given))
    assert checked["fee"] == Decimal(str(given))
    shown = format_decimal(checked["fee"])
    assert Decimal(shown) == Decimal(str(given)) and "E" not in shown


def test_display_never_rounds_to_the_decimal_context() -> None:
    assert format_decimal(Decimal("2.99999999999999999999999999999999")) == "2.99999999999999999999999999999999"
    assert format_decimal(Decimal("94.60")) == "94.6"
    assert format_decimal(Decimal("-1.0E+999999999")) == "-1E+999999999"  # not a billion zeros, not an error
    assert to_json(Decimal("1E-999999")) == "1E-999999"


# ---- 2. numbers: bounded before any costly conversion, decimal only


def test_a_huge_integer_in_a_facts_file_is_refused_unconverted(tmp_path: Path) -> None:
    code, out, err = evaluate_supervision(
        tmp_path, SUPERVISION_FACTS.replace("candidates_trained_by_own_entity: 12",
                                            "candidates_trained_by_own_entity: " + "9" * 3_000_000))
    assert_refused(code, out, err, "number-too-long", f"{MAX_NUMBER_TEXT} 个字符", "facts.yaml:")


@pytest.mark.parametrize("field", ["person_times", "fee"])
def test_a_huge_integer_from_the_api_is_refused_unconverted(mini: Decision, field: str) -> None:
    (problem,) = problems_of(mini, mini_facts(**{field: 1 << 10_000_000}))  # a 3-million-digit integer
    assert f"最多 {MAX_INTEGER_DIGITS} 位整数" in problem
    assert len(problem) < 300


@pytest.mark.parametrize("given", ["1" * 16, "-1" + "0" * 15, "1e15", "-1.0e+999999999", "NaN", "Infinity",
                                   "9" * (MAX_NUMBER_TEXT + 1)])
def test_numbers_out_of_range_are_refused_naming_the_field(mini: Decision, given: str) -> None:
    (problem,) = problems_of(mini, mini_facts(fee=given))
    assert problem.startswith("fee: facts-invalid: fee(收费标准(元))")
    assert len(problem) < 300


@pytest.mark.parametrize("text", ["-1.0e+999999999", "1.0e+16", "'-1.0e+999999999'"])
def test_huge_exponents_in_a_facts_file_are_facts_invalid_not_an_overflow(tmp_path: Path, text: str) -> None:
    code, out, err = evaluate_supervision(tmp_path, with_retention(text))
    assert_refused(code, out, err, "facts-invalid", "paper_retention_years(纸质材料保存年限)", "最多 15 位整数")


@pytest.mark.parametrize(("name", "text", "decimal"), [
    ("facts.yaml", "paper_retention_years: 0x1F\n", "31"),
    ("facts.yaml", "paper_retention_years: 0o17\n", "15"),
    ("facts.yaml", "paper_retention_years: 0b101\n", "5"),
    ("facts.json", '{"paper_retention_years": 0x1F}', "31"),
])
def test_hexadecimal_octal_and_binary_integers_are_refused_with_their_decimal_value(
        tmp_path: Path, name: str, text: str, decimal: str) -> None:
    code, out, err = run_cli([*EVALUATE_SUPERVISION, write(tmp_path, name, text), *AS_OF])
    assert_refused(code, out, err, "yaml-number", f"请写成十进制数 {decimal}", f"{name}:1:")


def test_long_integers_are_written_out_or_summarised_never_an_error() -> None:
    assert int_text(10**20) == "1" + "0" * 20
    huge = 7**30000
    for text in (int_text(huge), quote(huge), to_json([huge])):
        assert "25353 位" in text
    assert len(quote(-huge)) <= QUOTE_LIMIT


# ---- 3. keys: reported exactly as given; any declared name works


@pytest.mark.parametrize("key", ["a[1]", "literal_x", "function-x", "lax-y", "[key]", "model_config", "x_fee",
                                 "copy", "k" * 500])
def test_unknown_keys_are_reported_exactly_as_given(mini: Decision, key: str) -> None:
    (problem,) = problems_of(mini, {**mini_facts(), key: 1})
    assert problem.startswith(f"{key if len(key) <= 80 else quote(key)}: facts-invalid: 未知的输入 ")
    assert quote(key, 200) in problem


@pytest.mark.parametrize("key", ["a[1]", "literal_x", "function-x"])
def test_unknown_nested_keys_are_reported_exactly_as_given(mini: Decision, key: str) -> None:
    (problem,) = problems_of(mini, mini_facts(findings={key: 1}))
    assert problem.startswith(f"findings.{key}: facts-invalid: 未知的输入 'findings.{key}'")


def test_unknown_keys_in_a_facts_file_exit_2_at_their_line(tmp_path: Path) -> None:
    code, out, err = evaluate_supervision(tmp_path, SUPERVISION_FACTS + "a[1]: 1\nliteral_x: 2\nfunction-x: 3\n")
    assert_refused(code, out, err, "未知的输入 'a[1]'", "未知的输入 'literal_x'", "未知的输入 'function-x'")


RESERVED_INPUTS = """\
      model_config: {type: integer, label: 模型配置数, min: 0, default: 0}
      copy: {type: text, label: 副本说明, default: ""}
      model_fields: {type: bool, label: 字段, default: false}
      validate: {type: bool, label: 核验, default: null}
      settings:
        type: record
        label: 设置
        default: {}
        fields:
          model_dump: {type: integer, label: 导出数, default: 0}
          schema: {type: text, label: 模式, default: ""}
"""


@pytest.fixture(scope="module")
def reserved(tmp_path_factory: pytest.TempPathFactory) -> Decision:
    folder = pack_variant(tmp_path_factory.mktemp("packs"), MINI, "reserved", [
        ("      fee: {type: decimal", RESERVED_INPUTS + "      fee: {type: decimal"),
    ])
    return skillcert.load(folder.parent).decision("reserved/check")


def test_inputs_named_like_pydantic_attributes_are_validated_like_any_other(reserved: Decision) -> None:
    checked = validate_facts(reserved, mini_facts(model_config=3, copy="副本", settings={"model_dump": 2}))
    assert checked["model_config"] == 3 and checked["copy"] == "副本" and checked["model_fields"] is False
    assert checked["settings"] == {"model_dump": 2, "schema": ""}
    assert "x_model_config" not in checked
    (problem,) = problems_of(reserved, mini_facts(model_config=-1))
    assert problem == "model_config: facts-invalid: model_config(模型配置数) 应不小于 0,收到 -1"
    (problem,) = problems_of(reserved, mini_facts(x_model_config=1))
    assert "未知的输入 'x_model_config'" in problem
    (problem,) = problems_of(reserved, mini_facts(settings={"schema": 5}))
    assert problem.startswith("settings.schema: facts-invalid: settings.schema(模式) 应是文字")


# ---- 4. text and streams: encoding, size and messages bounded


class _Endless(io.RawIOBase):
    """A stream of ``a: 1`` lines that never ends, counting what was read from it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = len(buffer)
        buffer[:n] = (b"a: 1\n" * (n // 5 + 1))[:n]
        self.read_bytes += n
        return n


def test_invalid_utf8_on_stdin_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO("institution_level: 自治区\n".encode("gbk")), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, err = run_cli([*EVALUATE_SUPERVISION, "-", *AS_OF])
    assert_refused(code, out, err, "<stdin>", "file-encoding", "UTF-8")


def test_oversized_stdin_is_refused_at_the_limit_without_reading_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = _Endless()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8"))
    code, out, err = run_cli([*EVALUATE_SUPERVISION, "-", *AS_OF])
    assert_refused(code, out, err, "input-too-large")
    assert raw.read_bytes <= MAX_FILE_BYTES + 64 * 1024


def test_a_huge_unknown_enum_value_costs_little_memory_and_is_quoted_short(mini: Decision) -> None:
    tracemalloc.start()
    try:
        (problem,) = problems_of(mini, mini_facts(kind="x" * 2_000_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40_000_000
    assert len(problem) < 500 and "…" in problem


def test_did_you_mean_skips_names_nobody_would_mistype() -> None:
    assert did_you_mean("x" * 10_000_000, ["x", "xx"]) == ""
    assert did_you_mean("socal_org", ["social_org", "y" * 10_000_000]) == "did you mean 'social_org'?"


@pytest.mark.parametrize("facts", [
    {"note": "长" * 4_000_000},
    {"person_times": "9" * 4_000_000},
    {"k" * 4_000_000: 1},
    {"findings": {"k" * 4_000_000: 1}},
    {"materials": ["m" * 4_000_000, 5]},
])
def test_a_huge_value_is_never_echoed_whole(mini: Decision, facts: dict[str, Any]) -> None:
    with pytest.raises(FactsError) as info:
        validate_facts(mini, {**mini_facts(), **facts})
    assert len(str(info.value)) < 2000


def test_a_huge_value_in_a_facts_file_is_never_echoed_whole(tmp_path: Path) -> None:
    code, out, err = evaluate_supervision(tmp_path, SUPERVISION_FACTS + "assessed_outside_venue: " + "v" * 3_000_000 + "\n")
    assert_refused(code, out, err, "facts-invalid", "assessed_outside_venue(在备案场所外开展评价) 应是 true 或 false")
    code, out, err = evaluate_supervision(tmp_path, SUPERVISION_FACTS + "x" * 1_000_000 + ": 1\n")
    assert_refused(code, out, err, "yaml-syntax", "第 17 行的键超过 1024 个字符", "facts.yaml:17:1:")


def test_many_bad_items_list_a_bounded_number_of_problems(mini: Decision) -> None:
    with pytest.raises(FactsError) as info:
        validate_facts(mini, mini_facts(materials=list(range(5000))))
    assert len(info.value.problems) == MAX_PROBLEMS + 1
    assert "还有 4900 处问题未列出" in str(info.value.problems[-1])
    assert "5000 处问题" in info.value.message


# ---- 5. ambiguous facts: a keyed list holds each key once


HEBEI_FACTS = """\
institution_kind: social_org
registration_expires_on: 2023-12-31
published_scope:
  - {occupation: 电工, max_level: 3}
  - {occupation: 育婴员, max_level: 4}
  - {occupation: 电工, max_level: 5}
"""


def test_a_key_listed_twice_is_refused_naming_both_entries(tmp_path: Path) -> None:
    code, out, err = run_cli(["evaluate", "hebei/renewal", write(tmp_path, "f.yaml", HEBEI_FACTS),
                              "--as-of", "2023-10-01"])
    assert_refused(code, out, err, "facts-invalid", "f.yaml:6:5:", "published_scope(技能人才评价工作网公示的备案范围)",
                   "published_scope[0] 与 published_scope[2]", "occupation = '电工'")


def test_the_order_of_a_keyed_list_can_no_longer_decide_the_outcome() -> None:
    library = skillcert.load()
    scope = [{"occupation": "电工", "max_level": 3}, {"occupation": "电工", "max_level": 5}]
    for order in (scope, scope[::-1]):
        facts = {"institution_kind": "social_org", "registration_expires_on": "2023-12-31",
                 "published_scope": order}
        with pytest.raises(FactsError) as info:
            library.evaluate("hebei/renewal", facts, as_of=dt.date(2023, 10, 1))
        assert "published_scope[0] 与 published_scope[1]" in str(info.value)


def test_a_key_of_several_fields_is_unique_as_a_whole() -> None:
    d = skillcert.load().decision("hebei/renewal")
    base = {"institution_kind": "social_org", "registration_expires_on": "2023-12-31"}
    banks = [{"occupation": "电工", "level": 4, "theory_sets": 5, "skill_sets": 5},
             {"occupation": "电工", "level": 3, "theory_sets": 5, "skill_sets": 5}]
    validate_facts(d, {**base, "question_banks": banks})  # same occupation, other level: fine
    (problem,) = problems_of(d, {**base, "question_banks": [banks[0], banks[0]]})
    assert "question_banks[0] 与 question_banks[1] 的 occupation = '电工'、level = 4 相同" in problem


def test_nested_keyed_lists_are_checked_too() -> None:
    d = skillcert.load().decision("fuzhou/application")
    occupation = {"code": "4-01-02-02", "name": "电子商务师", "kind": "skill",
                  "banks": [{"level": 4}, {"level": 4}]}
    problems = problems_of(d, {"occupations": [occupation]}, None)
    assert any("occupations[0].banks[0] 与 occupations[0].banks[1] 的 level = 4 相同" in p for p in problems)


# ---- 6. list and mapping sizes are bounded per input


def test_a_list_beyond_the_default_limit_is_refused_before_evaluation(mini: Decision) -> None:
    (problem,) = problems_of(mini, mini_facts(materials=["m"] * (DEFAULT_MAX_ITEMS + 1)))
    assert problem == (f"materials: facts-invalid: materials(已提交材料) 最多 {DEFAULT_MAX_ITEMS} 项,"
                       f"收到 {DEFAULT_MAX_ITEMS + 1} 项")
    validate_facts(mini, mini_facts(materials=["m"] * DEFAULT_MAX_ITEMS))


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory) -> Decision:
    folder = pack_variant(tmp_path_factory.mktemp("packs"), MINI, "bounded", [
        ("      materials: {type: list, label: 已提交材料, items: {type: text}, default: null}",
         "      materials: {type: list, label: 已提交材料, max_items: 3, items: {type: text}, default: null}\n"
         "      levels:\n"
         "        type: mapping\n"
         "        label: 各等级人次\n"
         "        max_items: 2\n"
         "        keys: {type: enum, values: {'1': 一级, '2': 二级, '3': 三级}}\n"
         "        items: {type: integer, min: 0}\n"
         "        default: {}"),
    ])
    return skillcert.load(folder.parent).decision("bounded/check")


def test_a_pack_may_set_the_limit_of_a_list_or_mapping(bounded: Decision) -> None:
    validate_facts(bounded, mini_facts(materials=["a", "b", "c"], levels={"1": 1, "2": 2}))
    (problem,) = problems_of(bounded, mini_facts(materials=["a", "b", "c", "d"]))
    assert problem == "materials: facts-invalid: materials(已提交材料) 最多 3 项,收到 4 项"
    (problem,) = problems_of(bounded, mini_facts(levels={"1": 1, "2": 2, "3": 3}))
    assert problem == "levels: facts-invalid: levels(各等级人次) 最多 2 项,收到 3 项"


def test_a_bad_mapping_key_is_named_with_its_codes(bounded: Decision) -> None:
    (problem,) = problems_of(bounded, mini_facts(levels={"9": 1}))
    assert problem.startswith("levels.9: facts-invalid: levels.9(各等级人次) 的键 '9' 不在可选值中:1(一级)、2(二级)")


def test_a_list_beyond_its_limit_in_a_facts_file_exits_2(tmp_path: Path) -> None:
    facts = SUPERVISION_FACTS.replace("public_notice_missing: [complaint_channel]",
                                      "public_notice_missing: [" + ", ".join(["fee_standard"] * 10_001) + "]")
    code, out, err = evaluate_supervision(tmp_path, facts)
    assert_refused(code, out, err, "facts-invalid", "最多 10000 项,收到 10001 项")


def test_loading_keeps_numbers_exact_and_bounded() -> None:
    assert load_text("a: 2.99999999999999999999999999999999\n").data["a"] == \
        Decimal("2.99999999999999999999999999999999")
    with pytest.raises(SkillcertError) as info:
        load_text("a: " + "1" * (MAX_NUMBER_TEXT + 1) + "\n")
    assert info.value.code == "number-too-long"


@pytest.mark.parametrize(("text", "expected"), [
    ('{"paper_retention_years"：3}', "facts.json:1:25: json-syntax: JSON 语法错误:第 1 行第 25 列是全角冒号“：”"),
    ('{"irregular_marking": true，"paper_retention_years": 3}', "facts.json:1:27: json-syntax: JSON 语法错误:第 1 行第 27 列是全角逗号“，”"),
    ('{"irregular_marking": true "paper_retention_years": 3}', "facts.json:1:28: json-syntax: JSON 语法错误:第 1 行第 28 列:缺少半角逗号 ','"),
])
def test_json_syntax_errors_are_explained_in_chinese_at_their_character(tmp_path: Path, text: str,
                                                                         expected: str) -> None:
    code, out, err = run_cli([*EVALUATE_SUPERVISION, write(tmp_path, "facts.json", text), *AS_OF])
    assert_refused(code, out, err, expected)
