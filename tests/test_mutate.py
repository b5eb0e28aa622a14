"""``skillcert test --mutate``: mutants of each kind are made and killed by the case that pins them, survivors are
reported with their clause and a suggested case, the packs' explanations of equivalent mutants are honoured (and
stale ones reported), the score is exact, the exit codes hold, and the original decision is untouched."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from skillcert import load
from skillcert.analysis.mutate import (
    KINDS,
    DecisionMutation,
    MutantResult,
    MutationReport,
    PackMutation,
    build,
    generate,
    percent,
    run_mutation,
)
from skillcert.errors import SkillcertError
from skillcert.runtime import fastpath
from skillcert.runtime.evaluate import evaluate_checked
from skillcert_testutil import run_cli

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"

HEADER = """decision: chongqing/renewal
base:
  as_of: 2025-05-25
  facts:
    institution_kind: social_org
    registry_level: city
    registration_expires_on: 2025-06-30
    applied_on: 2025-05-20
    registered_occupations: ["4-01-05-01"]
    assessed_occupations: ["4-01-05-01"]
cases:
"""

NO_FINDINGS = """  - id: no-findings
    note: 没有发现问题 → 96 分
    want: {outcome: renew, score: 96}
"""


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    """A copy of the Chongqing pack without its tests and explanations: each test writes the cases it needs."""
    folder = tmp_path / "packs" / "chongqing"
    shutil.copytree(POLICIES / "chongqing", folder, ignore=shutil.ignore_patterns("tests", "mutants.yaml"))
    (folder / "tests").mkdir()
    return folder


def write_cases(pack: Path, cases: str) -> Path:
    path = pack / "tests" / "renewal.yaml"
    path.write_text(HEADER + cases, encoding="utf-8")
    return path


def only_result(report: MutationReport) -> MutantResult:
    results = [r for p in report.packs for d in p.decisions for r in d.results]
    assert len(results) == 1, [r.mutant.id for r in results]
    return results[0]


# one mutant of each kind, and the case on its boundary that pins it
PINNED = [
    ("param:apply_lead_days+1", """  - id: applied-on-last-day
    note: 届满30日前的最后一天(2025-05-31)申请 → 按期
    facts: {applied_on: 2025-05-31}
    want: {outcome: renew}
"""),
    ("amount:total.posts#1.per+1", """  - id: two-posts-missing
    note: 缺2岗位,每个扣0.4 → 95.2
    facts: {findings: {posts_missing: 2}}
    want: {score: 95.2}
"""),
    ("cmp:rules.late_application.when#1:>→>=", """  - id: applied-on-last-day
    note: 截止日当天申请不算逾期
    facts: {applied_on: 2025-05-31}
    want: {outcome: renew}
"""),
    ("drop:rules.late_application.when#1.4", """  - id: after-expiry
    note: 届满后申请只是不予受理,不再按逾期申请处理
    facts: {applied_on: 2025-07-02}
    want: {outcome: not_accepted, reasons: [after_expiry]}
"""),
    ("line:total.posts#1", """  - id: one-post-missing
    note: 缺1岗位扣0.4 → 95.6
    facts: {findings: {posts_missing: 1}}
    want: {score: 95.6}
"""),
]


def test_every_kind_is_pinned_by_one_of_the_cases_above() -> None:
    assert sorted({mutant_id.split(":", 1)[0] for mutant_id, _ in PINNED}) == sorted(KINDS)


@pytest.mark.parametrize(("mutant_id", "case"), PINNED, ids=[m for m, _ in PINNED])
def test_a_mutant_is_killed_by_the_case_on_its_boundary_and_survives_without_it(pack: Path, mutant_id: str,
                                                                                case: str) -> None:
    write_cases(pack, case)
    killed = only_result(run_mutation([str(pack)], only=mutant_id, search=False))
    assert (killed.mutant.id, killed.status, killed.killed_by) == (mutant_id, "killed", case.split("id: ")[1].split()[0])
    write_cases(pack, NO_FINDINGS)
    assert only_result(run_mutation([str(pack)], only=mutant_id, search=False)).status == "survived"


def test_each_kind_is_generated_for_the_bundled_packs() -> None:
    library = load(POLICIES)
    kinds = {m.kind for d in library.decisions() for m in generate(library.decision(d.id), library.env.functions)}
    assert kinds == set(KINDS)
    fuzhou = generate(library.decision("fuzhou/application"), library.env.functions)
    assert "drop:rules.basic_conditions.require.2" in {m.id for m in fuzhou}  # a condition of an `all`


def test_mutant_ids_are_stable_and_unique() -> None:
    library = load(POLICIES)
    d = library.decision("chongqing/renewal")
    first = [m.id for m in generate(d, library.env.functions)]
    assert first == [m.id for m in generate(d, library.env.functions)]
    assert len(first) == len(set(first))
    assert {"param:renew_min_score+1", "param:renew_min_score-1", "param:rollback_max_ratio+1",
            "cmp:rules.score_band.bands#1.min:>=→>"} <= set(first)


def test_one_unit_is_the_values_own_precision() -> None:
    library = load(POLICIES)
    changes = {m.id: m.change for m in generate(library.decision("chongqing/renewal"), library.env.functions)}
    assert changes["param:renew_min_score+1"].endswith("80 分 → 81 分")
    assert changes["param:rollback_max_ratio-1"].endswith("0.10 → 0.09")
    assert changes["param:transitional_deadline+1"].endswith("2024-10-15 → 2024-10-16")
    assert changes["amount:total.posts#1.per-1"].startswith("评分项 posts(岗位设置和人员配备)第 1 条扣分 per 0.4 → 0.3")


def test_a_survivor_is_reported_with_its_clause_and_a_suggested_case(pack: Path) -> None:
    write_cases(pack, NO_FINDINGS)
    report = run_mutation([str(pack)], only="amount:total.posts#1.per+1")
    survivor = only_result(report)
    assert survivor.status == "survived"
    assert survivor.mutant.clause == "附件3 内部管理·岗位和履职"
    assert survivor.suggestion is not None
    assert survivor.suggestion.base_case == "no-findings"
    assert set(survivor.suggestion.facts) == {"findings.posts_missing"}
    assert survivor.suggestion.want["outcome"] == "renew" and "score" in survivor.suggestion.want
    text = report.render()
    assert "条款 附件3 内部管理·岗位和履职:" in text and "存活 amount:total.posts#1.per+1" in text
    assert "建议用例:以用例 no-findings 为基础,findings.posts_missing:" in text
    assert not report.ok


def test_an_explained_mutant_is_not_a_survivor(pack: Path) -> None:
    write_cases(pack, NO_FINDINGS)
    (pack / "mutants.yaml").write_text('mutants:\n  renewal:\n    - id: "amount:total.posts#1.per+1"\n'
                                       "      reason: 仅为测试\n", encoding="utf-8")
    report = run_mutation([str(pack)], only="amount:total.posts#1.per+1", search=False)
    result = only_result(report)
    assert (result.status, result.reason) == ("explained", "仅为测试")
    assert report.ok and report.packs[0].score == ("100", True)


def test_a_stale_explanation_is_reported_at_its_line(pack: Path) -> None:
    write_cases(pack, NO_FINDINGS)
    (pack / "mutants.yaml").write_text("mutants:\n  renewal:\n    - id: param:no_such_parameter+1\n"
                                       "      reason: 参数已删去\n", encoding="utf-8")
    report = run_mutation([str(pack)], search=False)
    stale = [p for p in report.problems if p.code == "stale-mutant"]
    assert len(stale) == 1 and "param:no_such_parameter+1" in stale[0].message
    assert stale[0].location.file.endswith("mutants.yaml") and stale[0].location.line == 3
    assert not report.ok


def test_an_explanation_of_a_mutant_a_case_kills_is_reported(pack: Path) -> None:
    write_cases(pack, PINNED[1][1])
    (pack / "mutants.yaml").write_text('mutants:\n  renewal:\n    - id: "amount:total.posts#1.per+1"\n'
                                       "      reason: 以为等价\n", encoding="utf-8")
    report = run_mutation([str(pack)], only="amount:total.posts#1.per+1", search=False)
    assert only_result(report).status == "killed"
    assert [p.code for p in report.problems] == ["explained-but-killed"] and not report.ok


def test_the_search_finds_a_boundary_two_facts_away(pack: Path) -> None:
    write_cases(pack, NO_FINDINGS)
    survivor = only_result(run_mutation([str(pack)], only="param:rollback_max_ratio+1"))
    assert survivor.suggestion is not None
    facts = survivor.suggestion.facts
    assert set(facts) == {"findings.plans_rolled_back", "findings.batches_conducted"}
    # more than 10 % of the batches, and not more than 11 %: where 0.10 and 0.11 part
    assert Fraction(10, 100) < Fraction(facts["findings.plans_rolled_back"], facts["findings.batches_conducted"]) \
        <= Fraction(11, 100)


def test_validate_reports_a_stale_explanation_as_a_finding(pack: Path) -> None:
    write_cases(pack, NO_FINDINGS)
    (pack / "mutants.yaml").write_text("mutants:\n  renewal:\n    - id: param:renew_min_score+1\n"
                                       "      reason: 仍然存在\n    - id: param:no_such_parameter+1\n"
                                       "      reason: 参数已删去\n  no_such_decision:\n    - id: param:x+1\n"
                                       "      reason: 决定已删去\n", encoding="utf-8")
    code, out, err = run_cli(["validate", str(pack)])
    assert code == 1, out + err
    lines = [line for line in out.splitlines() + err.splitlines() if "stale-mutant" in line]
    assert len(lines) == 2, lines
    assert "mutants.yaml:5:7: stale-mutant:" in lines[0] and "param:no_such_parameter+1" in lines[0]
    assert "no_such_decision" in lines[1]
    assert "renew_min_score" not in "".join(lines)


def test_the_bundled_explanations_pass_validate() -> None:
    code, out, err = run_cli(["validate", str(POLICIES / "chongqing"), str(POLICIES / "shanxi")])
    assert code == 0, out + err


def test_an_explanation_file_is_checked_against_its_schema(pack: Path) -> None:
    write_cases(pack, NO_FINDINGS)
    (pack / "mutants.yaml").write_text("mutants:\n  renewal:\n    - id: param:renew_min_score+1\n",
                                       encoding="utf-8")
    report = run_mutation([str(pack)], only="param:renew_min_score+1", search=False)
    assert report.problems and not report.ok


@pytest.mark.parametrize(("killed", "of", "expected"), [
    (195, 195, ("100", True)), (184, 200, ("92", True)), (7, 8, ("87.5", True)), (1, 3, ("33.33", False)),
    (2, 3, ("66.66", False)), (199, 200, ("99.5", True)), (0, 0, ("100", True)), (0, 5, ("0", True)),
])
def test_the_score_is_exact_or_cut_down_never_rounded_up(killed: int, of: int, expected: tuple[str, bool]) -> None:
    assert percent(killed, of) == expected


def test_explained_mutants_leave_the_denominator() -> None:
    library = load(POLICIES)
    mutants = generate(library.decision("nanning/filing"), library.env.functions)[:4]
    decision = DecisionMutation("nanning/filing", 1, [MutantResult(mutants[0], "killed", killed_by="a"),
                                                      MutantResult(mutants[1], "killed", killed_by="a"),
                                                      MutantResult(mutants[2], "explained", reason="等价"),
                                                      MutantResult(mutants[3], "survived")])
    pack = PackMutation("nanning", [decision])
    assert pack.score == ("66.66", False)
    assert pack.as_dict()["score"] == {"killed": 2, "of": 3, "percent": "66.66", "exact": False}


def test_bundled_packs_score_100_percent_with_every_equivalent_explained() -> None:
    code, out, err = run_cli(["test", "--mutate", str(POLICIES), "--format", "json", "--no-suggest"])
    assert code == 0, out + err
    report = json.loads(out)
    assert report["ok"] and not report["problems"]
    assert sorted(p["pack"] for p in report["packs"]) == ["chongqing", "fuzhou", "hebei", "nanning", "shanxi"]
    for p in report["packs"]:
        assert p["survived"] == 0 and p["score"]["percent"] == "100", p["pack"]
        for d in p["decisions"]:
            for m in d["mutants"]:
                assert m["status"] == "killed" and m["killed_by"] or m["status"] == "explained" and m["reason"]


def test_exit_1_with_survivors_and_the_text_report(pack: Path) -> None:
    write_cases(pack, NO_FINDINGS)
    code, out, err = run_cli(["test", "--mutate", str(pack), "--no-suggest"])
    assert code == 1, err
    assert "变异得分" in out and "存活 " in out


@pytest.mark.parametrize("argv", [["test", "--mutate", "no/such/folder"], ["test", "--mutate", "--format", "json",
                                                                         "no/such/folder"]])
def test_a_bad_path_exits_2_with_a_chinese_message(argv: list[str]) -> None:
    code, out, err = run_cli(argv)
    assert code == 2 and out == ""
    assert "路径不存在:no/such/folder" in err and "Traceback" not in err


def test_a_case_failing_on_the_pack_itself_exits_2(pack: Path) -> None:
    write_cases(pack, "  - id: wrong\n    note: 错误的期望\n    want: {score: 95}\n")
    code, _, err = run_cli(["test", "--mutate", str(pack)])
    assert code == 2
    assert "在原政策包上未通过" in err and "wrong" in err


def test_each_version_of_a_decision_is_mutated_with_its_own_cases(pack: Path) -> None:
    text = (pack / "pack.yaml").read_text(encoding="utf-8")
    old = (text.replace("\n  version: 1.0.0\n", "\n  version: 0.9.0\n")
           .replace("\n  valid_from: 2024-09-01\n", "\n  valid_from: 2023-01-01\n")
           .replace("\n  valid_until: null\n", "\n  valid_until: 2024-08-31\n"))
    (pack / "pack-0.9.0.yaml").write_text(old, encoding="utf-8")
    write_cases(pack, NO_FINDINGS + """  - id: under-the-old-version
    note: 2024-05 评估,适用 0.9.0 版
    as_of: 2024-05-25
    facts: {applied_on: 2024-05-20}
    want: {outcome: renew, score: 96}
""")
    report = run_mutation([str(pack)], only="param:renew_min_score+1", search=False)
    decisions = {d.decision: d.cases for p in report.packs for d in p.decisions}
    assert decisions == {"chongqing/renewal@0.9.0": 1, "chongqing/renewal@1.0.0": 1}


def test_the_original_decision_and_its_generated_code_are_untouched() -> None:
    library = load(POLICIES)
    decision = library.decision("chongqing/renewal")
    functions = library.env.functions
    facts = library.check_facts("chongqing/renewal", {
        "institution_kind": "social_org", "registry_level": "city", "registration_expires_on": "2025-06-30",
        "applied_on": "2025-05-20", "registered_occupations": ["4-01-05-01"],
        "findings": {"posts_missing": 2, "complaints_unhandled": 1, "plans_rolled_back": 2, "batches_conducted": 10}})
    as_of = dt.date(2025, 5, 25)
    before_source = fastpath.generated_source(decision, functions, detail=True)
    before = evaluate_checked(decision, facts, as_of, functions=functions).to_json()
    parameters = dict(decision.parameter_values)
    changed = 0
    for m in generate(decision, functions)[::3]:  # every kind, in a third of the time
        mutant = build(decision, m, functions)
        assert mutant is not decision
        for _ in range(fastpath.THRESHOLD + 1):  # far enough for the mutant's own generated function
            try:
                result = evaluate_checked(mutant, facts, as_of, functions=functions).to_json()
            except SkillcertError:
                result = None
        changed += result != before
    assert changed > 8  # the mutants did differ on these facts …
    # … and the original still has its own generated code, values and result
    assert fastpath.generated_source(decision, functions, detail=True) == before_source
    assert dict(decision.parameter_values) == parameters
    for _ in range(fastpath.THRESHOLD + 1):
        assert evaluate_checked(decision, facts, as_of, functions=functions).to_json() == before
    assert library.evaluate("chongqing/renewal", facts, as_of=as_of).to_json() == before
