"""Mistakes policy staff make in packs: each reported by ``skillcert validate`` at the pack's own line with a stable
code and a Chinese message — never a crash, never blamed on the facts of every later evaluation, and one file's
YAML error never hides the problems of the other files checked in the same run."""

from __future__ import annotations

from pathlib import Path

import pytest
import skillcert
from skillcert.compiler.pipeline import check_pack
from skillcert.errors import SkillcertError
from skillcert.source.loader import load_text
from skillcert_testutil import POLICIES, SMALL, pack_variant, problem_lines, run_cli

INPUT = "      posts_missing: {type: integer, label: 缺少的岗位数, min: 0, default: 0}\n"
PARAMETER = "      lead_days: {value: 30, label: 届满前申请的天数, source: §一}\n"


def variant(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    return pack_variant(tmp_path, SMALL, "small", list(replacements))


def only_problem(folder: Path) -> str:
    lines = problem_lines(folder)
    assert len(lines) == 1, lines
    return lines[0]


# ---- a required line left out: the schema says which, nothing crashes


REQUIRED_META = ["title", "jurisdiction", "issuer", "version", "valid_from"]


@pytest.mark.parametrize("key", REQUIRED_META)
def test_a_missing_metadata_line_is_a_missing_key_not_a_crash(tmp_path: Path, key: str) -> None:
    text = (SMALL / "pack.yaml").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines(keepends=True) if x.startswith(f"  {key}:"))
    folder = variant(tmp_path, (line, ""))
    assert only_problem(folder) == f"small/pack.yaml:3:3: missing-key: 缺少必需的键 '{key}'"


@pytest.mark.parametrize("region", ["chongqing", "shanxi"])
def test_a_list_input_without_its_items_is_a_schema_problem_not_an_assertion(tmp_path: Path, region: str) -> None:
    text = (POLICIES / region / "pack.yaml").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    at = next(i for i, x in enumerate(lines) if x.strip() == "type: list")
    items = next(i for i in range(at, at + 6) if lines[i].lstrip().startswith("items:"))
    folder = tmp_path / region
    folder.mkdir()
    (folder / "pack.yaml").write_text("".join(lines[:items] + lines[items + 1:]), encoding="utf-8")
    _, problems = check_pack(folder)
    assert problems and {p.code for p in problems} <= {"schema", "missing-key"}, problems


# ---- declarations that no facts could satisfy: at the declaration, not at every evaluation


@pytest.mark.parametrize(("declaration", "at", "expected"), [
    ("{type: integer, label: 额外, min: 0, default: many}", "many", "bad-default: 缺省值 应是整数,写的是 'many'"),
    ("{type: integer, label: 额外, min: 0, default: -1}", "-1", "bad-default: 缺省值 -1 小于最小值 0"),
    ("{type: integer, label: 额外, min: 0, max: 5, default: 6}", "6}", "bad-default: 缺省值 6 大于最大值 5"),
    ("{type: decimal, label: 额外, max: 0.5, default: 0.75}", "0.75", "bad-default: 缺省值 0.75 大于最大值 0.5"),
    ("{type: enum, label: 额外, values: {a: 甲, b: 乙}, default: c}", "c}", "bad-default: 缺省值 'c' 不在可选值中(a、b)"),
    ("{type: enum, label: 额外, values: {'1': 甲, '2': 乙}, default: 1}", "1}", "bad-default: 缺省值 1 不在可选值中(1、2)"),
    ("{type: date, label: 额外, default: 明天}", "明天", "bad-default: 缺省值 应是日期 YYYY-MM-DD,写的是 '明天'"),
    ("{type: text, label: 额外, default: 2024-01-01}", "2024-01-01", "bad-default: 缺省值 应是文字,写的是 2024-01-01(数字或日期作文字时请加引号)"),
    ("{type: list, label: 额外, items: {type: integer, min: 0}, default: [1, -2]}", "-2",
     "bad-default: 缺省值中 [1] -2 小于最小值 0"),
    ("{type: record, label: 额外, fields: {n: {type: integer}}, default: {m: 1}}", "1}}",
     "bad-default: 缺省值中 m 未知的字段 'm'"),
    ("{type: record, label: 额外, fields: {n: {type: integer}}, default: {}}", "{}}", "bad-default: 缺省值 缺少必填字段 'n'"),
    ("{type: integer, label: 额外, min: 5, max: 1, default: 3}", "5,", "bad-range: 最小值 min 5 大于最大值 max 1:没有值能满足"),
])
def test_a_default_or_range_no_facts_can_meet_is_reported_at_its_line(tmp_path: Path, declaration: str, at: str,
                                                                         expected: str) -> None:
    line = f"      extra: {declaration}\n"
    folder = variant(tmp_path, (INPUT, INPUT + line))
    problems = problem_lines(folder)
    assert f"small/pack.yaml:24:{line.index(at) + 1}: {expected}" in problems, problems
    assert all(":24:" in p for p in problems), problems


def test_a_bad_default_no_longer_blames_the_users_facts(tmp_path: Path) -> None:
    folder = variant(tmp_path, (INPUT, INPUT + "      extra: {type: integer, label: 额外, min: 0, default: -1}\n"))
    with pytest.raises(SkillcertError) as info:
        skillcert.load(folder.parent).decision("small/renewal")
    assert info.value.code == "pack-invalid"
    assert "bad-default" in str(info.value)


@pytest.mark.parametrize(("declaration", "expected"), [
    ("{type: list, label: 题库, unique_by: occupation, items: {type: record, fields: {occ: {type: text}}}}",
     "unknown-name: unique_by 指向的字段 'occupation' 未在 items 的 fields 中声明"),
    ("{type: list, label: 题库, unique_by: occ, items: {type: text}}",
     "bad-spec: unique_by 只用于记录的列表"),
    ("{type: integer, label: 题库, max_items: 3}",
     "bad-spec: max_items 只用于列表(list)或映射(mapping),这里的类型是 integer"),
])
def test_list_options_where_they_do_not_apply_are_reported(tmp_path: Path, declaration: str, expected: str) -> None:
    folder = variant(tmp_path, (INPUT, INPUT + f"      extra: {declaration}\n"))
    assert expected in only_problem(folder)


# ---- numbers in a pack: decimal, bounded, ASCII


@pytest.mark.parametrize(("value", "expected"), [
    ("0x1E", "25:26: yaml-number: 不接受十六进制整数 '0x1E':请写成十进制数 30"),
    ("0o36", "25:26: yaml-number: 不接受八进制整数 '0o36':请写成十进制数 30"),
    ("３０", "25:26: yaml-full-width: 第 25 行第 26 列的 '３０' 含全角数字或符号,请改为半角 30"),
    ("'３０'", "25:26: full-width-digit: 参数 'lead_days' 的值 '３０' 含全角数字,请改为半角 30"),
    ("30.00000000000000000000000001", "25:26: bad-number: 数值 30.00000000000000000000000001 小数位太多"),
])
def test_a_malformed_number_in_a_parameter_is_reported_where_it_is_written(tmp_path: Path, value: str,
                                                                           expected: str) -> None:
    folder = variant(tmp_path, (PARAMETER, f"      lead_days: {{value: {value}, label: 届满前申请的天数, source: §一}}\n"))
    first = problem_lines(folder)[0]  # (a quoted parameter is text: its uses are type errors too, listed after it)
    assert first.startswith(f"small/pack.yaml:{expected}")


# ---- YAML syntax: in Chinese, at the character, naming a full-width one


@pytest.mark.parametrize(("replace", "by", "expected"), [
    ("  issuer: 测试", "  issuer： 测试", "6:9: yaml-syntax: YAML 语法错误:第 6 行第 9 列是全角冒号“：”,请改为半角冒号 ':' 并在其后加空格"),
    ("    title: 延续备案", "    title： 延续备案", "15:10: yaml-syntax: YAML 语法错误:第 15 行第 10 列是全角冒号“：”"),
    ("  version: 0.1.0", "\tversion: 0.1.0", "7:1: yaml-syntax: YAML 语法错误:第 7 行第 1 列是制表符(Tab)"),
    ("  version: 0.1.0", "   version: 0.1.0", "7:4: yaml-syntax: YAML 语法错误:第 7 行第 4 列:这一行缩进 3 个空格,比上一行(2 个)多"),
    ("  version: 0.1.0", " version: 0.1.0", "7:2: yaml-syntax: YAML 语法错误:第 7 行第 2 列:这一行缩进 1 个空格"),
    ("values: {employer: 用人单位, social_org: 社会培训评价组织}", "values: {employer: 用人单位， social_org: 社会培训评价组织}",
     "20:32: yaml-syntax: YAML 语法错误:第 20 行第 32 列是全角逗号“，”,请改为半角逗号 ','"),
    ("sources:\n    notice:", "sources:\n　　notice:", "9:1: yaml-syntax: YAML 语法错误:第 9 行第 1 列是全角空格“　”,请改为半角空格"),
])
def test_common_yaml_mistakes_are_explained_in_chinese_at_their_character(tmp_path: Path, replace: str, by: str,
                                                                          expected: str) -> None:
    folder = variant(tmp_path, (replace, by))
    assert only_problem(folder).startswith(f"small/pack.yaml:{expected}")


def test_a_full_width_comma_between_plain_items_is_refused_where_written() -> None:
    with pytest.raises(SkillcertError) as info:
        load_text("materials: [application_form，work_summary]\n", "f.yaml")
    assert info.value.code == "yaml-full-width"
    assert str(info.value).startswith("f.yaml:1:29: 第 1 行第 29 列是全角逗号“，”")
    assert load_text("label: {a: 逾期申请，按新设立受理}\n").data == {"label": {"a": "逾期申请，按新设立受理"}}


def test_one_files_yaml_error_does_not_hide_the_others(tmp_path: Path) -> None:
    folder = tmp_path / "hebei"
    folder.mkdir()
    for sub in ("tests", "examples"):
        (folder / sub).mkdir()
    pack = (POLICIES / "hebei" / "pack.yaml").read_text(encoding="utf-8")
    (folder / "pack.yaml").write_text(pack.replace("  issuer: ", "  issuer： ", 1), encoding="utf-8")
    tests = (POLICIES / "hebei" / "tests" / "renewal.yaml").read_text(encoding="utf-8")
    (folder / "tests" / "renewal.yaml").write_text(tests.replace("cases:\n", "cases:\n\t\n", 1), encoding="utf-8")
    (folder / "tests" / "other.yaml").write_text("decision: hebei/renewal\ncases: [{note: x, want: {}}]\nextra: 1\n",
                                                 encoding="utf-8")
    (folder / "examples" / "renewal-a.yaml").write_text("registration_expires_on: ２０２３\n", encoding="utf-8")
    code, out, err = run_cli(["validate", str(folder)])
    assert code == 1, err
    lines = out.splitlines()
    assert len(lines) == 4, out
    assert "renewal-a.yaml:1:26: yaml-full-width" in lines[0]
    assert "pack.yaml:6:9: yaml-syntax" in lines[1] and "全角冒号" in lines[1]
    assert "other.yaml:3:1: unknown-key" in lines[2]
    assert "renewal.yaml:44:1: yaml-syntax" in lines[3] and "制表符" in lines[3]
    assert "4 个问题(4 个文件)" in err


@pytest.mark.parametrize("value", ["2024-01-01", "85", "true", "0x10", "[a, b]"])
@pytest.mark.parametrize("where", [
    ("        outcome: refuse\n", "        outcome: {value}\n"),
    ("{min: pass_min, outcome: pass,", "{{min: pass_min, outcome: {value},"),
    ("    default_outcome: pending\n", "    default_outcome: {value}\n"),
])
def test_an_outcome_written_as_a_date_or_number_is_a_pack_problem_not_a_crash(
        tmp_path: Path, value: str, where: tuple[str, str]) -> None:
    from skillcert_testutil import MINI

    old, new = where
    folder = pack_variant(tmp_path, MINI, "variant", [(old, new.format(value=value))])
    lines = problem_lines(folder)
    assert lines and not any("internal-error" in line for line in lines)
