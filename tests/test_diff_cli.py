"""``skillcert diff``: the issue's acceptance test (band 80 → 85 and a deduction 0.4 → 0.5 on a copy of the Chongqing
pack, over a 10,000-row workbook, the count of changed outcomes cross-checked row by row with the library), no change
→ exit 0, JSON and XLSX output, the decision log's facts, and the old side read from a real git repository."""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import skillcert
from skillcert.analysis.rulediff import SHEET_HEADER, SHEET_NAME
from skillcert_testutil import POLICIES, run_cli

CHONGQING = POLICIES / "chongqing"
DECISION = "chongqing/renewal"
AS_OF = dt.date(2025, 5, 25)
ROWS = 10_000
BAND = ("renew_min_score: {value: 80,", "renew_min_score: {value: 85,")
DEDUCTION = ("- {per: 0.4, count: findings.posts_missing", "- {per: 0.5, count: findings.posts_missing")


def pack_copy(where: Path, replacements: Sequence[tuple[str, str]] = ()) -> Path:
    """A copy of the Chongqing pack folder (tests, examples and documents too), edited."""
    folder = where / "chongqing"
    shutil.copytree(CHONGQING, folder)
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    return folder


# ---- a population of institutions as a workbook


def population(n: int, seed: int) -> list[dict[str, Any]]:
    """Varied facts for chongqing/renewal: every route and timing, and findings dense enough that many scores lie
    near the bands (the mix of institutions under evaluation)."""
    rng = random.Random(seed)
    fields = skillcert.load(POLICIES).decision(DECISION).inputs["findings"].spec.fields
    occupations = ["4-01-05-01", "4-03-02-01", "4-03-02-02", "6-18-01-01", "4-10-01-02"]
    out = []
    for i in range(n):
        # most apply in time; some on the last day, some late, some after expiry; a few of the 2024 cohort
        expires = dt.date(2025, 6, 30) + dt.timedelta(days=rng.choices([0, 15, 31, 60, -25, -220], [6, 2, 2, 2, 1, 1])[0])
        applied = expires - dt.timedelta(days=rng.choices([60, 45, 40, 35, 31, 30, 29, 20, 3, -2],
                                                          [3, 5, 5, 5, 3, 2, 1, 1, 1, 1])[0])
        registered = rng.sample(occupations, rng.randint(1, 4))
        facts: dict[str, Any] = {
            "编号": f"CQ-{i + 1:05d}",
            "institution_name": f"重庆市第{i + 1}职业技能评价中心",
            "institution_kind": rng.choices(["social_org", "technical_school", "employer"], [6, 3, 1])[0],
            "registry_level": rng.choice(["city", "district"]),
            "registration_expires_on": expires,
            "applied_on": applied,
            "registered_occupations": registered,
            "assessed_occupations": [o for o in registered if rng.random() < 0.8],
        }
        if facts["institution_kind"] == "employer":
            facts["meets_renewal_conditions"] = rng.random() < 0.85
        if rng.random() < 0.03:
            facts["suspended_until"] = applied + dt.timedelta(days=rng.choice([-10, 5, 90]))
        roll = rng.random()
        if roll < 0.06:
            facts["after_rectification"] = True
        elif roll < 0.08:
            facts["rectification_overdue"] = True
        findings: dict[str, Any] = {}
        density = rng.choice([0.04, 0.1, 0.18, 0.25])
        for name, spec in fields.items():
            if rng.random() >= density:
                continue
            if spec.kind == "bool":
                findings[name] = True
            elif spec.kind == "integer":
                top = int(spec.max) if spec.max is not None else 6
                findings[name] = min(rng.choice([1, 1, 1, 2, 2, 3, 5]), top)
            elif spec.kind == "enum":
                findings[name] = rng.choice(list(spec.values))
        if "plans_rolled_back" in findings:
            findings["batches_conducted"] = rng.randint(5, 40)
        facts["findings"] = findings
        out.append(facts)
    return out


def write_workbook(path: Path, rows: list[dict[str, Any]]) -> Path:
    """The rows as ``skillcert batch`` reads them: dotted columns for the findings, lists as JSON cells, dates as
    ISO text, an empty cell where a fact is not given."""
    fields = sorted({f for r in rows for f in r["findings"]})
    top = ["编号", "institution_name", "institution_kind", "registry_level", "registration_expires_on", "applied_on",
           "suspended_until", "registered_occupations", "assessed_occupations", "meets_renewal_conditions",
           "after_rectification", "rectification_overdue"]
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("案例")
    sheet.append(top + [f"findings.{f}" for f in fields])

    def cell(value: Any) -> Any:
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, list):
            return json.dumps(value, ensure_ascii=False)
        return value
    for r in rows:
        sheet.append([cell(r.get(k)) for k in top] + [r["findings"].get(f) for f in fields])
    book.save(path)
    return path


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    rows = population(ROWS, seed=15)
    return write_workbook(tmp_path_factory.mktemp("cases") / "案例.xlsx", rows), rows


def outcome(library: skillcert.Library, facts: dict[str, Any]) -> str:
    rule_facts = {k: v for k, v in facts.items() if k not in ("编号", "institution_name")}
    try:
        return library.evaluate(DECISION, rule_facts, as_of=AS_OF, detail=False).outcome
    except skillcert.SkillcertError as exc:
        return f"(error {exc.code})"


def diff_json(*argv: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run_cli(["diff", *argv, "--format", "json", "--as-of", AS_OF.isoformat()])
    assert code in (0, 1), err
    data: dict[str, Any] = json.loads(out)
    return code, data


# ---- the acceptance test


def test_band_and_deduction_change_over_ten_thousand_rows(tmp_path: Path, cases: tuple[Path, list[Any]]) -> None:
    workbook, rows = cases
    new = pack_copy(tmp_path / "draft", [BAND, DEDUCTION])
    code, out, err = run_cli(["diff", str(CHONGQING), str(new), "--cases", str(workbook), "--as-of",
                              AS_OF.isoformat()])
    assert code == 1, err

    # both changes, each with its clause
    assert "参数 renew_min_score(予以延续备案的最低分):80分 → 85分〔依据:§三(二)2 “80分及以上”〕" in out
    assert ("评分项 posts(岗位设置和人员配备) 的扣分“缺一岗位及人员”:每项 0.4 分 → 0.5 分"
            "〔依据:附件3 内部管理·岗位和履职〕") in out
    assert "规则 score_band 的分档界限 80 → 85(随参数 renew_min_score)" in out

    # the exact number of rows whose outcome changes, cross-checked by evaluating both packs row by row
    old_library, new_library = skillcert.load(POLICIES), skillcert.load(new.parent)
    by_row = sum(outcome(old_library, r) != outcome(new_library, r) for r in rows)
    assert by_row > 100  # the population does reach the moved bound
    _, without = diff_json(str(CHONGQING), str(new))  # the packs' own test cases and examples alone
    _, with_cases = diff_json(str(CHONGQING), str(new), "--cases", str(workbook))
    impact = with_cases["impact"][0]
    assert impact["total"] == without["impact"][0]["total"] + ROWS
    assert impact["changed"] == without["impact"][0]["changed"] + by_row
    assert with_cases["rows_changed"] == impact["changed"]
    assert f"结论改变 {impact['changed']:,} 行" in out

    # the flips: concrete cases that go one way before and another now
    assert "结论翻转的例子 chongqing/renewal" in out
    assert with_cases["flips"][DECISION]
    assert all(f["old"]["outcome"] != f["new"]["outcome"] for f in with_cases["flips"][DECISION])


def test_an_unchanged_copy_gives_no_change_and_exit_0(tmp_path: Path, cases: tuple[Path, list[Any]]) -> None:
    workbook, _ = cases
    same = pack_copy(tmp_path / "same", [("  notes: |\n", "  # 只改注释\n  notes: |\n")])
    code, out, err = run_cli(["diff", str(CHONGQING), str(same), "--cases", str(workbook), "--as-of",
                              AS_OF.isoformat()])
    assert code == 0, err
    assert "  规则没有变化" in out
    assert "结论改变 0 行" in out
    assert "结论翻转的例子" not in out


def test_rules_changed_but_no_outcome_changed_is_exit_0(tmp_path: Path) -> None:
    relabelled = pack_copy(tmp_path / "relabelled", [("label: 予以延续备案的最低分", "label: 延续的最低分"),
                                                     ("  version: 1.0.0\n", "  version: 1.0.1\n")])
    code, data = diff_json(str(CHONGQING), str(relabelled))
    assert code == 0
    assert [(c["kind"], c["part"]) for c in data["changes"]] == [("pack-metadata-changed", "version"),
                                                                ("parameter-changed", "label")]
    assert data["rows_changed"] == 0 and data["rows_compared"] > 50
    assert data["flips"] == {DECISION: []} or data["flips"] == {}


def test_json_names_each_change_and_the_impact(tmp_path: Path) -> None:
    new = pack_copy(tmp_path / "draft", [BAND])
    code, data = diff_json(str(CHONGQING), str(new))
    assert code == 1
    assert data["old"] == str(CHONGQING) and data["new"] == str(new)
    assert data["packs"][0]["id"] == "chongqing"
    assert [(c["kind"], c["element"], c["clause"]) for c in data["changes"]] == [
        ("parameter-changed", "renew_min_score", "§三(二)2 “80分及以上”"),
        ("band-changed", "score_band", "§三(二)2"), ("band-changed", "after_rectification_band", "§三(二)2、附件6")]
    assert data["impact"][0]["decision"] == DECISION
    assert data["rows_changed"] == data["impact"][0]["changed"] > 0


def test_xlsx_has_the_rule_changes_first_then_the_impact_and_the_flips(tmp_path: Path) -> None:
    new = pack_copy(tmp_path / "draft", [BAND, DEDUCTION])
    target = tmp_path / "影响.xlsx"
    code, _, err = run_cli(["diff", str(CHONGQING), str(new), "-o", str(target), "--flips", "3"])
    assert code == 1, err
    assert f"已写入 {target}" in err
    book = openpyxl.load_workbook(target, read_only=True)
    names = book.sheetnames
    assert names[0] == SHEET_NAME and names[-1] == "翻转示例" and len(names) > 3
    rules = [list(r) for r in book[SHEET_NAME].iter_rows(values_only=True)]
    assert rules[0] == SHEET_HEADER
    assert [r[2] for r in rules[1:]] == ["parameter-changed", "score-line-changed", "band-changed", "band-changed"]
    assert rules[1][6] == "§三(二)2 “80分及以上”" and rules[1][7:] == [80, 85]
    flips = list(book["翻转示例"].iter_rows(values_only=True))
    assert flips[0][0] == "决定" and 1 <= len(flips) - 1 <= 3
    book.close()


def test_the_decision_logs_facts_are_compared_too(tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    from skillcert.audit.event import new_event
    from skillcert.audit.store import LogStore

    library = skillcert.load(POLICIES)
    facts = {"institution_kind": "social_org", "registry_level": "city", "registration_expires_on": "2025-06-30",
             "applied_on": "2025-05-20", "registered_occupations": ["4-01-05-01"],
             "findings": {"skill_room_defects": 5, "theory_room_defects": 3}}   # 96 − 10 − 3 = 83: renew, then rectify
    result = library.evaluate(DECISION, facts, as_of=AS_OF)
    assert result.outcome == "renew"
    store = LogStore.sqlite(tmp_path / "data" / "decision-log.sqlite3")
    store.append([new_event(decision=DECISION, as_of=AS_OF, source="api", pack_version=result.pack_version,
                            pack_digest=result.pack_digest, outcome=result.outcome, score=result.score, facts=facts,
                            result=json.dumps(result.to_json(), ensure_ascii=False, default=str))
                  for _ in range(3)])
    store.close()
    new = pack_copy(tmp_path / "draft", [BAND])
    _, plain = diff_json(str(CHONGQING), str(new))
    _, logged = diff_json(str(CHONGQING), str(new), "--log", str(tmp_path / "data"))
    assert logged["impact"][0]["total"] == plain["impact"][0]["total"] + 3
    assert logged["impact"][0]["changed"] == plain["impact"][0]["changed"] + 3
    code, _, err = run_cli(["diff", str(CHONGQING), str(new), "--log", str(tmp_path / "nowhere")])
    assert code == 2 and "diff-no-log" in err


def test_a_folder_of_packs_is_compared_pack_by_pack(tmp_path: Path) -> None:
    pack_copy(tmp_path / "root", [BAND])
    shutil.copytree(POLICIES / "shanxi", tmp_path / "root" / "shanxi")
    target = tmp_path / "影响.xlsx"
    code, data = diff_json(str(POLICIES), str(tmp_path / "root"), "-o", str(target))
    assert code == 1
    names = openpyxl.load_workbook(target, read_only=True).sheetnames
    assert names[0] == SHEET_NAME and names[-1] == "翻转示例"
    assert "概要 chongqing·renewal" in names and "概要 shanxi·evaluation" in names
    ids = [p["id"] for p in data["packs"]]
    assert ids[:2] == ["chongqing", "fuzhou"] and "shanxi" in ids
    removed = {c["scope"] for c in data["changes"] if c["kind"] == "decision-removed"}
    assert {c["scope"] for c in data["changes"] if c["kind"] == "pack-removed"} == {"fuzhou", "hebei", "nanning"}
    assert all(d.split("/")[0] in ("fuzhou", "hebei", "nanning") for d in removed)
    assert {i["decision"] for i in data["impact"]} == {DECISION} | {
        d.id for d in skillcert.load(POLICIES).decisions("shanxi")}


@pytest.mark.parametrize(("argv", "code"), [
    (["diff", str(CHONGQING)], "usage-error"),
    (["diff", str(CHONGQING), str(POLICIES / "shanxi")], "diff-different-packs"),
    (["diff", str(CHONGQING), str(POLICIES / "nowhere")], "diff-no-pack"),
    (["diff", str(CHONGQING), str(POLICIES.parent / "docs")], "diff-no-pack"),
    (["diff", str(CHONGQING), str(CHONGQING), "--cases", "missing.xlsx"], "diff-no-cases"),
    (["diff", str(CHONGQING), str(CHONGQING), "-o", "out.csv"], "usage-error"),
    (["diff", str(CHONGQING), str(CHONGQING), "--since", "HEAD"], "usage-error"),
])
def test_what_cannot_run_exits_2_with_a_stable_code(argv: list[str], code: str) -> None:
    exit_code, out, err = run_cli(argv)
    assert exit_code == 2
    assert out == ""
    assert err.startswith(f"skillcert: {code}: "), err
    assert "Traceback" not in err


# ---- the old side from git history


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=测试", "-c", "user.email=t@example.org", "-c", "init.defaultBranch=main",
                    *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    temp = tmp_path / "temp"  # where the old side is written: to see it removed
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    root = tmp_path / "repo"
    (root / "policies").mkdir(parents=True)
    git(root, "init", "-q")
    pack_copy(root / "policies")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "政策包 1.0.0")
    git(root, "tag", "v1.0.0")
    return root


def test_since_reads_the_old_pack_from_git_history(repo: Path) -> None:
    folder = repo / "policies" / "chongqing"
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    (folder / "pack.yaml").write_text(text.replace(*DEDUCTION, 1), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "扣分 0.5")
    (folder / "pack.yaml").write_text(text.replace(*DEDUCTION, 1).replace(*BAND, 1), encoding="utf-8")  # not committed

    code, out, err = run_cli(["diff", str(folder), "--since", "v1.0.0"])
    assert code == 1, err
    assert f"旧:{folder}@v1.0.0" in out
    assert "参数 renew_min_score" in out and "每项 0.4 分 → 0.5 分" in out

    code, data = diff_json(str(folder), "--rev", "HEAD")  # the last commit already has the deduction
    assert [c["kind"] for c in data["changes"]] == ["parameter-changed", "band-changed", "band-changed"]
    code, data = diff_json(str(repo / "policies"), "--since", "HEAD")  # a folder of packs
    assert [c["kind"] for c in data["changes"]][0] == "parameter-changed"
    assert list((repo.parent / "temp").iterdir()) == []  # the old side was removed


def test_git_errors_exit_2_with_a_stable_code(repo: Path, tmp_path: Path) -> None:
    folder = repo / "policies" / "chongqing"
    later = pack_copy(repo / "later")  # in the work tree, not in any commit
    outside = pack_copy(tmp_path / "outside")
    for argv, code in [([str(folder), "--since", "v9.9.9"], "git-unknown-revision"),
                       ([str(folder), "--since=--output=x"], "git-unknown-revision"),
                       ([str(later), "--since", "v1.0.0"], "git-path-not-in-revision"),
                       ([str(outside), "--since", "v1.0.0"], "git-not-a-repository")]:
        exit_code, out, err = run_cli(["diff", *argv])
        assert exit_code == 2, (argv, err)
        assert err.startswith(f"skillcert: {code}: "), err
        assert "Traceback" not in err
    assert list((repo.parent / "temp").iterdir()) == []


def test_the_log_file_is_not_created_when_missing(tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    code, _, err = run_cli(["diff", str(CHONGQING), str(CHONGQING), "--log", str(tmp_path)])
    assert code == 2 and "diff-no-log" in err
    assert not (tmp_path / "decision-log.sqlite3").exists()


def test_a_pack_with_errors_exits_2_naming_them(tmp_path: Path) -> None:
    broken = pack_copy(tmp_path / "broken", [("renew_min_score: {value: 80,", "renew_min_score: {value: 八十,")])
    code, out, err = run_cli(["diff", str(CHONGQING), str(broken)])
    assert code == 2 and out == ""
    assert err.startswith("skillcert: pack-invalid: ") and "pack.yaml:" in err


def test_a_folder_of_facts_files_is_a_population_too(tmp_path: Path) -> None:
    folder = tmp_path / "事实"
    folder.mkdir()
    shutil.copy(CHONGQING / "examples" / "renewal-social-org.yaml", folder / "甲.yaml")
    new = pack_copy(tmp_path / "draft", [DEDUCTION])
    _, plain = diff_json(str(CHONGQING), str(new))
    _, with_folder = diff_json(str(CHONGQING), str(new), "--cases", str(folder))
    assert with_folder["impact"][0]["total"] == plain["impact"][0]["total"] + 1
    assert with_folder["rows_changed"] == plain["rows_changed"]  # 94.6 → 94.4: renew all the same
