"""skillcert.analysis.tester: running a pack's YAML cases, comparing results, and reporting coverage."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import skillcert
from skillcert.analysis.tester import check_case_file, load_cases, run_case, run_paths
from skillcert.errors import UsageError
from skillcert_testutil import MINI, PACKS, POLICIES, run_cli

HEADER = "decision: mini/check\nbase:\n  as_of: 2025-05-25\n  facts: {kind: org, expires_on: 2025-06-30, " \
         "applied_on: 2025-05-20, person_times: 150}\ncases:\n"


def mini_copy(tmp_path: Path, cases: str) -> Path:
    """A copy of the mini pack under tmp_path/packs/mini with one test file holding ``cases``."""
    folder = tmp_path / "packs" / "mini"
    folder.mkdir(parents=True)
    shutil.copy(MINI / "pack.yaml", folder / "pack.yaml")
    (folder / "tests").mkdir()
    (folder / "tests" / "cases.yaml").write_text(HEADER + cases, encoding="utf-8")
    return folder


def test_bundled_pack_cases_all_pass() -> None:
    report = run_paths([str(POLICIES / "chongqing")])
    assert report.problems == []
    assert report.outcomes and all(o.passed for o in report.outcomes), [o.failures for o in report.outcomes]
    assert report.ok


def test_mini_pack_cases_all_pass_and_coverage_lists_what_no_case_exercises() -> None:
    report = run_paths([str(MINI)])
    assert report.ok
    missing = report.coverage["mini/check"].missing()
    assert missing["rules"] == ["revoked", "basic", "bank_size", "decision_overdue"]
    assert missing["items"] == ["posts", "duties", "cameras", "standards"]
    assert missing["outcomes"] == ["refuse", "ineligible", "overdue", "fail"]
    text = report.render()
    assert "revoked" in text and "7 passed, 0 failed" in text


def test_cases_merge_their_facts_over_the_base(tmp_path: Path) -> None:
    folder = mini_copy(tmp_path, "  - note: 合并\n    facts: {findings: {defects: 45}}\n    want: {score: 80}\n")
    [case], problems = load_cases(folder / "tests" / "cases.yaml")
    assert problems == []
    assert case.facts["kind"] == "org"
    assert case.facts["findings"] == {"defects": 45}
    assert case.name == "case1"


def test_unset_leaves_a_base_fact_out_without_touching_other_cases(tmp_path: Path) -> None:
    folder = mini_copy(tmp_path, "  - note: 去掉必填项\n    unset: [applied_on]\n    want_error: facts-invalid\n"
                                 "  - note: 其他用例仍有该项\n    want: {outcome: pass}\n")
    first, second = load_cases(folder / "tests" / "cases.yaml")[0]
    assert "applied_on" not in first.facts and "applied_on" in second.facts
    assert run_paths([str(folder)]).ok


def test_messages_include_matches_fragments_of_reason_messages(tmp_path: Path) -> None:
    folder = mini_copy(tmp_path, "  - note: 理由文字\n    want: {messages_include: [得分 98]}\n")
    report = run_paths([str(folder)])
    assert report.ok, report.render()


@pytest.mark.parametrize(
    ("want", "fragment"),
    [
        ("{outcome: fail}", "outcome:期望 fail,实际 pass"),
        ("{score: 97}", "score:期望 97,实际 98"),
        ("{scores: {internal: 9}}", "scores.internal:期望 9,实际 10"),
        ("{scores: {nothing: 1}}", "scores.nothing"),
        ("{items: {posts: 3}}", "items.posts:期望 3,实际 4"),
        ("{deadlines: {decision_due: 2025-06-19}}", "deadlines.decision_due:期望 2025-06-19,实际 2025-06-18"),
        ("{reasons: [late_application]}", "reasons:期望 ['late_application'],实际 ['score_band']"),
        ("{reasons_include: [basic]}", "reasons_include:没有 basic"),
        ("{warnings_include: [有效期]}", "warnings_include"),
        ("{values: {route: review}}", "values.route"),
        ("{messages_include: [不存在的文字]}", "messages_include:没有包含「不存在的文字」的理由"),
    ],
)
def test_a_failing_expectation_is_reported(tmp_path: Path, want: str, fragment: str) -> None:
    folder = mini_copy(tmp_path, f"  - note: 应当失败\n    want: {want}\n")
    report = run_paths([str(folder)])
    assert not report.ok
    [outcome] = report.outcomes
    assert any(fragment in f for f in outcome.failures), outcome.failures


def test_want_error_passes_on_that_code_and_fails_on_another(tmp_path: Path) -> None:
    folder = mini_copy(tmp_path, (
        "  - note: 期望的错误\n    facts: {person_times: -1}\n    want_error: facts-invalid\n"
        "  - note: 另一种错误\n    as_of: 2024-08-01\n    want_error: facts-invalid\n"
        "  - note: 没有错误\n    want_error: out-of-period\n"))
    report = run_paths([str(folder)])
    assert [o.passed for o in report.outcomes] == [True, False, False]
    assert "out-of-period" in report.outcomes[1].failures[0]
    assert "pass" in report.outcomes[2].failures[0]


def test_unexpected_error_is_a_failure_naming_its_code(tmp_path: Path) -> None:
    folder = mini_copy(tmp_path, "  - note: 意外\n    facts: {aplied: 1}\n    want: {outcome: pass}\n")
    [outcome] = run_paths([str(folder)]).outcomes
    assert not outcome.passed
    assert "facts-invalid" in outcome.failures[0]


def test_skillcert_test_exits_1_when_a_case_fails(tmp_path: Path) -> None:
    folder = mini_copy(tmp_path, "  - note: 应当失败\n    want: {outcome: fail}\n")
    code, out, _ = run_cli(["test", str(folder)])
    assert code == 1
    assert "0 passed, 1 failed" in out
    assert "cases.yaml" in out


def test_skillcert_test_exits_0_on_the_test_packs() -> None:
    code, out, _ = run_cli(["test", str(PACKS)])
    assert code == 0, out


def test_test_file_against_the_schema_is_a_problem(tmp_path: Path) -> None:
    folder = mini_copy(tmp_path, "  - note: 拼错的键\n    wnat: {outcome: pass}\n")
    cases, problems = load_cases(folder / "tests" / "cases.yaml")
    assert cases == []
    assert problems[0].code == "unknown-key"
    assert problems[0].location.line == 7
    assert problems[0].hint == "did you mean 'want'?"


def test_duplicate_case_ids_are_a_problem(tmp_path: Path) -> None:
    folder = mini_copy(tmp_path, "  - {id: same, note: a, want: {outcome: pass}}\n"
                                 "  - {id: same, note: b, want: {outcome: pass}}\n")
    _, problems = load_cases(folder / "tests" / "cases.yaml")
    assert problems and {p.code for p in problems} == {"duplicate-id"}
    assert 7 in {p.location.line for p in problems}  # the second case with that id


def test_check_case_file_locates_bad_case_facts(tmp_path: Path) -> None:
    folder = mini_copy(tmp_path, "  - note: 拼错的事实\n    facts: {aplied_on: 2025-05-20}\n    want: {outcome: pass}\n")
    problems = check_case_file(folder / "tests" / "cases.yaml", skillcert.load(folder.parent))
    assert [(p.code, p.location.line) for p in problems] == [("facts-invalid", 7)]
    assert "did you mean 'applied_on'?" in str(problems[0])


def test_unknown_decision_in_a_test_file_is_a_problem(tmp_path: Path) -> None:
    folder = mini_copy(tmp_path, "  - note: x\n    want: {outcome: pass}\n")
    path = folder / "tests" / "cases.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("mini/check", "mini/chek"), encoding="utf-8")
    problems = check_case_file(path, skillcert.load(folder.parent))
    assert [p.code for p in problems] == ["unknown-decision"]
    assert "did you mean 'check'?" in problems[0].message


def test_run_case_returns_the_result(tmp_path: Path) -> None:
    folder = mini_copy(tmp_path, "  - note: x\n    want: {outcome: pass, score: 98}\n")
    [case], _ = load_cases(folder / "tests" / "cases.yaml")
    outcome = run_case(case, skillcert.load(folder.parent))
    assert outcome.passed
    assert outcome.result is not None and outcome.result.outcome == "pass"


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        run_paths([str(tmp_path / "nowhere")])


def test_folder_without_test_files_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        run_paths([str(tmp_path)])


def test_values_compare_numbers_by_value_and_name_the_differing_cell() -> None:
    from skillcert.analysis.tester import _canon, _differences

    assert _canon({"rate": 100}) == _canon({"rate": __import__("decimal").Decimal("100.00")})
    diffs = _differences(_canon({"rows": [{"a": 1, "b": 2}]}), _canon({"rows": [{"a": 1, "b": 3}]}), "table")
    assert diffs == ["table.rows[0].b:期望 2,实际 3"]


def test_a_date_written_unquoted_in_messages_include_matches_its_iso_text(tmp_path: Path) -> None:
    folder = mini_copy(tmp_path, "  - note: 日期片段\n    facts: {expires_on: 2025-04-30}\n"
                                 "    want: {messages_include: [2025-03-31]}\n")
    report = run_paths([str(folder)])
    assert report.ok, report.render()


def test_a_quoted_as_of_is_the_same_day_and_a_day_that_does_not_exist_is_a_problem_at_its_line(
        tmp_path: Path) -> None:
    folder = mini_copy(tmp_path, '  - note: 引号中的日期\n    as_of: "2025-05-26"\n    want: {outcome: pass}\n'
                                 '  - note: 不存在的日期\n    as_of: "2025-02-30"\n    want: {outcome: pass}\n')
    cases, problems = load_cases(folder / "tests" / "cases.yaml")
    assert [c.as_of for c in cases] == [dt.date(2025, 5, 26)]
    assert [(p.code, p.location.line if p.location else None) for p in problems] == [("date-invalid", 10)]
    assert "2025-02-30" in problems[0].message
    code, out, err = run_cli(["test", str(folder)])
    assert code == 1 and "internal-error" not in out + err and "date-invalid" in out + err


def test_a_base_as_of_that_is_no_day_is_one_problem_not_one_per_case(tmp_path: Path) -> None:
    folder = mini_copy(tmp_path, "  - note: 一\n    want: {outcome: pass}\n  - note: 二\n    want: {outcome: pass}\n")
    path = folder / "tests" / "cases.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("as_of: 2025-05-25", 'as_of: "2025-13-01"'),
                    encoding="utf-8")
    cases, problems = load_cases(path)
    assert cases == [] and [p.code for p in problems] == ["date-invalid"]
