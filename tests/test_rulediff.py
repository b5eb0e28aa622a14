"""The rule diff (skillcert.analysis.rulediff): each kind of change to the Chongqing pack is found, named by its
stable kind and its clause; edits that do not change the compiled model (comments, key order, quoting, whitespace,
80 against 80.0) are not changes; decisions added or removed are; JSON, text and sheet forms."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from skillcert.analysis.rulediff import KIND_LABELS, SHEET_HEADER, Change, RuleDiff, rule_diff
from skillcert.compiler.model import Pack
from skillcert.compiler.pipeline import compile_pack
from skillcert_testutil import POLICIES

CHONGQING = POLICIES / "chongqing"
DECISION = "chongqing/renewal"


@pytest.fixture(scope="module")
def original() -> Pack:
    return compile_pack(CHONGQING)


def edited(tmp_path: Path, replacements: Sequence[tuple[str, str]]) -> Pack:
    """A copy of the Chongqing pack (documents too) with each text replacement applied once, compiled."""
    folder = tmp_path / "edited" / "chongqing"
    shutil.copytree(CHONGQING, folder)
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    for old, new in replacements:
        assert text.count(old) >= 1, old
        text = text.replace(old, new, 1)
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    return compile_pack(folder)


def diff(original: Pack, tmp_path: Path, *replacements: tuple[str, str]) -> RuleDiff:
    return rule_diff([(original, edited(tmp_path, replacements))])


# ---- what is not a change

COSMETIC = {
    "comments": [("    inputs:\n", "    # 输入(注释)\n    inputs:   # 行尾注释\n"),
                 ("      renew_min_score:", "      # 分档线\n      renew_min_score:")],
    "key order": [("renew_min_score: {value: 80, unit: 分, label: 予以延续备案的最低分, source: §三(二)2 “80分及以上”}",
                   "renew_min_score: {source: §三(二)2 “80分及以上”, label: 予以延续备案的最低分, unit: 分, value: 80}"),
                  ("                label: 岗位设置和人员配备\n                    max: 4",
                   "                max: 4\n                    label: 岗位设置和人员配备")],
    "quoting": [("label: 予以延续备案的最低分", "label: \"予以延续备案的最低分\""),
                ("when: accepted and route == 'scorecard'\n", "when: \"accepted and route == 'scorecard'\"\n"),
                ("outcome: deferred\n", "outcome: 'deferred'\n")],
    "whitespace": [("expr: registration_expires_on <= transitional_expiry_cutoff",
                    "expr:   \"registration_expires_on<=transitional_expiry_cutoff\""),
                   ("when: accepted and route == 'scorecard' and rectification_overdue",
                    "when: \"accepted  and route=='scorecard'   and  rectification_overdue\"")],
    "equal numbers": [("renew_min_score: {value: 80,", "renew_min_score: {value: 80.0,"),
                      ("- {per: 0.4, count: findings.posts_missing", "- {per: 0.40, count: findings.posts_missing"),
                      ("                    max: 4\n                    source: 附件3 内部管理·岗位和履职",
                       "                    max: 4.00\n                    source: 附件3 内部管理·岗位和履职"),
                      ("- {points: 2, when: findings.ineligible_candidates_found >= 1,",
                       "- {points: 2.0, when: findings.ineligible_candidates_found >= 1.0,")],
}


@pytest.mark.parametrize("edit", list(COSMETIC))
def test_an_edit_that_leaves_the_compiled_rules_alone_is_no_change(original: Pack, tmp_path: Path,
                                                                   edit: str) -> None:
    result = diff(original, tmp_path, *COSMETIC[edit])
    assert result.changes == [], [c.description for c in result.changes]
    assert result.packs[0].old is not None and result.packs[0].new is not None
    assert result.packs[0].old.digest != result.packs[0].new.digest  # the text did change
    assert "规则没有变化" in "\n".join(result.text_lines())


def test_the_same_pack_compiled_twice_has_no_change(original: Pack) -> None:
    assert rule_diff([(original, compile_pack(CHONGQING))]).changes == []


# ---- what is: (edits, then each expected change as kind, element, part, clause, old, new)

CASES: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str, str, str, Any, Any]]]] = {
    "a parameter, and the bands that read it": (
        [("renew_min_score: {value: 80,", "renew_min_score: {value: 85,")],
        [("parameter-changed", "renew_min_score", "value", "§三(二)2 “80分及以上”", 80, 85),
         ("band-changed", "score_band", "bands", "§三(二)2", "分≥80 renew、60≤分<80 rectify、分<60 deny",
          "分≥85 renew、60≤分<85 rectify、分<60 deny"),
         ("band-changed", "after_rectification_band", "bands", "§三(二)2、附件6", "分≥80 renew、分<80 terminate",
          "分≥85 renew、分<85 terminate")]),
    "a deduction per finding": (
        [("- {per: 0.4, count: findings.posts_missing", "- {per: 0.5, count: findings.posts_missing")],
        [("score-line-changed", "total:internal/posts_duties/posts", "per", "附件3 内部管理·岗位和履职", "0.4",
          "0.5")]),
    "a fixed deduction": (
        [("- {points: 0.5, when: findings.no_duty_records", "- {points: 1, when: findings.no_duty_records")],
        [("score-line-changed", "total:internal/posts_duties/duties", "points", "附件3 内部管理·岗位和履职", "0.5",
          "1")]),
    "a deduction's condition": (
        [("when: findings.ineligible_candidates_found >= 1,", "when: findings.ineligible_candidates_found > 1,")],
        [("score-line-changed", "total:implementation/eligibility", "when", "附件3 评价组织实施·申报条件抽查",
          "findings.ineligible_candidates_found >= 1", "findings.ineligible_candidates_found > 1")]),
    "a deduction removed": (
        [("                      - {points: 0.5, when: findings.no_duty_records, label: 无履职记录}\n", "")],
        [("score-line-removed", "total:internal/posts_duties/duties", "", "附件3 内部管理·岗位和履职",
          "扣 0.5 分,当 findings.no_duty_records", None)]),
    "a band bound on a new parameter": (
        [("      rectification_months:", "      deny_below_score: {value: 55, unit: 分, label: 不予续期的分数线, source: 草案}\n"
                                        "      rectification_months:"),
         ("- {below: rectify_min_score, outcome: deny,", "- {below: deny_below_score, outcome: deny,"),
         ("- {min: rectify_min_score, below: renew_min_score, outcome: rectify,",
          "- {min: deny_below_score, below: renew_min_score, outcome: rectify,")],
        [("parameter-added", "deny_below_score", "", "草案", None, 55),
         ("band-changed", "score_band", "bands", "§三(二)2", "分≥80 renew、60≤分<80 rectify、分<60 deny",
          "分≥80 renew、55≤分<80 rectify、分<55 deny")]),
    "a derived value's logic": (
        [("expr: registration_expires_on <= transitional_expiry_cutoff",
          "expr: registration_expires_on < transitional_expiry_cutoff")],
        [("derived-changed", "transitional_cohort", "expr", "§四(四)",
          "registration_expires_on <= transitional_expiry_cutoff",
          "registration_expires_on < transitional_expiry_cutoff")]),
    "a trigger's condition": (
        [("when: accepted and route == 'scorecard' and rectification_overdue",
          "when: accepted and rectification_overdue")],
        [("rule-changed", "overdue_rectification", "when", "附件6",
          "accepted and route == 'scorecard' and rectification_overdue", "accepted and rectification_overdue")]),
    "a trigger's outcome": (
        [("    outcome: deny\n        message: 用人单位评价", "    outcome: rectify\n        message: 用人单位评价")],
        [("rule-changed", "employer_refused", "outcome", "§三(二)1(本包解读)", "deny", "rectify")]),
    "a deadline from working days to days": (
        [("working_days: \"employer_review_working_days", "days: \"employer_review_working_days")],
        [("deadline-changed", "decision_due", "rule", "§三(二)1、§三(二)2",
          "自 applied_on 起 employer_review_working_days if route == 'document_review' else "
          "scorecard_decision_working_days 个工作日",
          "自 applied_on 起 employer_review_working_days if route == 'document_review' else "
          "scorecard_decision_working_days 日")]),
    "a deadline added": (
        [("    deadlines:\n", "    deadlines:\n      review_by: {label: 复核期限, from: applied_on, days: apply_lead_days, "
                           "source: 草案}\n")],
        [("deadline-added", "review_by", "", "草案", None, "自 applied_on 起 apply_lead_days 日")]),
    "an input's allowed values": (
        [("values: {city: 市属, district: 区县属}", "values: {city: 市属, district: 区县属, town: 乡镇属}")],
        [("input-changed", "registry_level", "values", "§四(一)", {"city": "市属", "district": "区县属"},
          {"city": "市属", "district": "区县属", "town": "乡镇属"})]),
    "an input's default": (
        [("uses_own_question_bank: {type: bool, label: 使用自建试题资源, default: false",
          "uses_own_question_bank: {type: bool, label: 使用自建试题资源, default: true")],
        [("input-changed", "uses_own_question_bank", "default", "§二", False, True)]),
    "an input field's bound": (
        [("posts_missing: {type: integer, label: 缺少的岗位及人员数, min: 0, max: 10,",
          "posts_missing: {type: integer, label: 缺少的岗位及人员数, min: 0, max: 12,")],
        [("input-changed", "findings.posts_missing", "max", "附件3", 10, 12)]),
    "an input field added": (
        [("          posts_missing: {", "          spare_flag: {type: bool, label: 备用, default: false}\n"
                                      "          posts_missing: {")],
        [("input-added", "findings.spare_flag", "", "附件3", None, "bool")]),
    "an outcome's label": (
        [("deny: {label: 不予续期备案,", "deny: {label: 不予延续,")],
        [("outcome-changed", "deny", "label", "§三(二)2", "不予续期备案", "不予延续")]),
    "the precedence": (
        [("precedence: [deferred, deemed_withdrawn,", "precedence: [deemed_withdrawn, deferred,")],
        [("precedence-changed", "", "precedence", "关于做好职业技能等级认定机构延续备案工作的通知(征求意见稿)",
          "deferred > deemed_withdrawn > not_accepted > treat_as_new > [deny、rectify、renew、terminate]",
          "deemed_withdrawn > deferred > not_accepted > treat_as_new > [deny、rectify、renew、terminate]")]),
    "the period of validity": (
        [("  valid_from: 2024-09-01\n", "  valid_from: 2024-10-01\n")],
        [("pack-validity-changed", "", "valid_from", "", "2024-09-01", "2024-10-01")]),
    "the version": (
        [("  version: 1.0.0\n", "  version: 1.1.0\n")],
        [("pack-metadata-changed", "", "version", "", "1.0.0", "1.1.0")]),
    "a document's outcomes": (
        [("outcomes: [renew, rectify, deny, terminate]", "outcomes: [renew, rectify, deny]")],
        [("document-changed", "evaluation_form", "outcomes", "附件3", ["renew", "rectify", "deny", "terminate"],
          ["renew", "rectify", "deny"])]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_change_is_found_with_its_kind_and_clause(original: Pack, tmp_path: Path, case: str) -> None:
    edits, expected = CASES[case]
    result = diff(original, tmp_path, *edits)
    got = [(c.kind, c.element, c.part, c.clause, c.as_json()["old"], c.as_json()["new"]) for c in result.changes]
    want = [(k, e, p, cl, json.loads(json.dumps(o)), json.loads(json.dumps(n))) for k, e, p, cl, o, n in expected]
    assert got == want
    for change in result.changes:
        assert change.kind in KIND_LABELS
        assert change.description and change.text().startswith(change.description)


def test_the_band_change_says_which_parameter_moved_the_bound(original: Pack, tmp_path: Path) -> None:
    result = diff(original, tmp_path, ("renew_min_score: {value: 80,", "renew_min_score: {value: 85,"))
    band = next(c for c in result.changes if c.kind == "band-changed")
    assert "界限 80 → 85(随参数 renew_min_score)" in band.description
    assert result.touches_scoring(DECISION)


def test_a_changed_template_is_found_by_its_digest(original: Pack, tmp_path: Path) -> None:
    pack = edited(tmp_path, [])
    template = Path(pack.decisions["renewal"].documents["renewal_receipt"].path)
    with zipfile.ZipFile(template, "a") as docx:  # one more part: the same document to Word, other bytes
        docx.writestr("customXml/note.xml", "<note/>")
    result = rule_diff([(original, compile_pack(template.parent.parent))])
    assert [(c.kind, c.element, c.part) for c in result.changes] == [("document-changed", "renewal_receipt", "digest")]
    change = result.changes[0]
    assert change.old.startswith("sha256:") and change.new.startswith("sha256:") and change.old != change.new
    assert not result.touches_scoring(DECISION)


def test_decisions_added_and_removed_are_changes(original: Pack, tmp_path: Path) -> None:
    renamed = edited(tmp_path, [("decisions:\n  renewal:\n", "decisions:\n  extension:\n")])
    result = rule_diff([(original, renamed)])
    assert [(c.scope, c.kind) for c in result.changes] == [("chongqing/renewal", "decision-removed"),
                                                           ("chongqing/extension", "decision-added")]
    assert result.decisions_in_common() == []
    added = rule_diff([(None, original)])
    assert [c.kind for c in added.changes] == ["pack-added", "decision-added"]
    removed = rule_diff([(original, None)])
    assert [c.kind for c in removed.changes] == ["pack-removed", "decision-removed"]


def test_text_groups_the_changes_per_decision_with_their_clauses(original: Pack, tmp_path: Path) -> None:
    result = diff(original, tmp_path, ("renew_min_score: {value: 80,", "renew_min_score: {value: 85,"),
                  ("  version: 1.0.0\n", "  version: 1.1.0\n"))
    lines = result.text_lines()
    assert lines[0].startswith("政策包 chongqing:1.0.0(sha256:") and "→ 1.1.0(sha256:" in lines[0]
    assert lines[1] == "  政策包 chongqing:1 处变化"
    assert lines[2] == "    · 政策包的版本:1.0.0 → 1.1.0"
    assert lines[3].startswith("  决定 chongqing/renewal(") and lines[3].endswith(":3 处变化")
    assert lines[4] == ("    · 参数 renew_min_score(予以延续备案的最低分):80分 → 85分〔依据:§三(二)2 “80分及以上”〕")


def test_json_and_sheet_rows_carry_every_change(original: Pack, tmp_path: Path) -> None:
    result = diff(original, tmp_path, ("- {per: 0.4, count: findings.posts_missing",
                                       "- {per: 0.5, count: findings.posts_missing"))
    data = json.loads(json.dumps(result.as_json()))
    assert data["packs"][0]["old"]["decisions"] == [DECISION]
    assert data["changes"] == [{
        "scope": DECISION, "kind": "score-line-changed", "element": "total:internal/posts_duties/posts",
        "part": "per", "description": "评分项 posts(岗位设置和人员配备) 的扣分“缺一岗位及人员”:每项 0.4 分 → 0.5 分",
        "clause": "附件3 内部管理·岗位和履职", "old": "0.4", "new": "0.5"}]
    header, rows = result.sheet_rows()
    assert header == SHEET_HEADER
    assert rows == [[DECISION, "扣分/加分", "score-line-changed", "total:internal/posts_duties/posts", "per",
                     data["changes"][0]["description"], "附件3 内部管理·岗位和履职", "0.4", "0.5"]]


def test_every_change_kind_has_a_chinese_label() -> None:
    assert all(label and not label.isascii() for label in KIND_LABELS.values())
    assert Change("x", "parameter-changed", "p", "value", "d", "").text() == "d"


def test_a_condition_dropped_from_a_rules_requirements_shows_both_trees(tmp_path: Path) -> None:
    fuzhou = POLICIES / "fuzhou"
    folder = tmp_path / "edited" / "fuzhou"
    shutil.copytree(fuzhou, folder)
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    dropped = "            - {id: credit, check: good_credit, message: 社会信用不良或有违法违规、失信等不良记录, source: 一(一)1}\n"
    assert dropped in text
    (folder / "pack.yaml").write_text(text.replace(dropped, "", 1), encoding="utf-8")
    result = rule_diff([(compile_pack(fuzhou), compile_pack(folder))])
    [change] = [c for c in result.changes if c.part == "require"]
    assert change.kind == "rule-changed" and change.scope == "fuzhou/application"
    assert "good_credit" in change.old and "good_credit" not in change.new
    assert change.old.startswith("all(registered_in_fuzhou; main_business_training; sound_finance_and_management; ")
    assert "any(trained_and_evaluated_total >= min_person_times; recognized_brand)" in change.new
