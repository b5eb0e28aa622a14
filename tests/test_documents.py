"""Documents (issue 13): each bundled document rendered for its pack's example and for edge cases, opened back with
python-docx (text, the east-Asian face on every run, page set-up, the verification code); verification of an
untouched and of a tampered file; the pack declarations and ``skillcert validate``'s template checks; PDF and PNG
where LibreOffice and poppler are installed (kept under build/test-artefacts/documents/)."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import docx
import pytest
import skillcert
import yaml
from docx.oxml.ns import qn
from docx.shared import Mm
from skillcert.compiler.pipeline import check_pack
from skillcert.documents import layout
from skillcert.documents.checks import check_templates
from skillcert.documents.context import without_marks
from skillcert.documents.inputs import split_facts
from skillcert.documents.pdf import soffice
from skillcert.documents.render import render_documents
from skillcert.documents.verification import CODE_PATTERN, check_document, read_document
from skillcert.errors import FactsError, SkillcertError

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
RECTIFY_EXAMPLE = POLICIES / "chongqing" / "examples" / "documents" / "renewal-rectify.yaml"
ARTEFACTS = ROOT / "build" / "test-artefacts" / "documents"
LIBRARY = skillcert.load(POLICIES)

INPUTS = {"institution_name": "重庆市渝新职业技能培训评价中心", "issuing_office": "重庆市人力资源和社会保障局",
          "signed_on": "2025-06-10"}


def _facts(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def _render(decision_id: str, facts: dict[str, Any], as_of: dt.date, inputs: dict[str, Any] | None = None
            ) -> tuple[skillcert.DecisionResult, dict[str, bytes]]:
    decision = LIBRARY.decision(decision_id)
    rule_facts, given = split_facts(decision, facts)
    result = LIBRARY.evaluate(decision_id, rule_facts, as_of=as_of)
    return result, render_documents(decision, result, rule_facts, {**given, **(inputs or {})})


def _open(blob: bytes) -> Any:
    return docx.Document(io.BytesIO(blob))


def _text(document: Any) -> str:
    body = [p.text for p in document.paragraphs]
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join(body + cells)


def _runs(document: Any) -> list[Any]:
    parts = [document.element.body] + [s.footer._element for s in document.sections]
    return [r for part in parts for r in part.iter(qn("w:r")) if "".join(t.text or "" for t in r.iter(qn("w:t")))]


def _east_asia(run: Any) -> str | None:
    rfonts = run.find(qn("w:rPr") + "/" + qn("w:rFonts"))
    return None if rfonts is None else rfonts.get(qn("w:eastAsia"))


def _verify(blob: bytes) -> Any:
    return check_document(read_document(blob),
                          lambda decision, facts, as_of: LIBRARY.evaluate(decision, facts, as_of=as_of))


def _check_official_layout(blob: bytes, *, landscape: bool = False) -> Any:
    """Fonts on every run, page set-up, the code in the footer and in the properties; returns the document."""
    document = _open(blob)
    runs = _runs(document)
    assert runs and all(_east_asia(r) for r in runs), "a run without an east-Asian face"
    faces = {_east_asia(r) for r in runs}
    assert layout.BODY_FONT in faces
    section = document.sections[0]
    width, height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
    assert abs(section.page_width - width) < Mm(0.5) and abs(section.page_height - height) < Mm(0.5)
    for side, mm in layout.MARGINS_MM.items():
        assert abs(getattr(section, f"{side}_margin") - Mm(mm)) < Mm(0.1), side
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:linePitch")) == str(layout.line_pitch_twips(landscape))
    footer = " ".join(p.text for p in section.footer.paragraphs)
    codes = CODE_PATTERN.findall(footer)
    assert len(codes) == 1
    assert document.core_properties.identifier == codes[0]
    assert read_document(blob).code == codes[0]
    return document


# ---------------------------------------------------------------- Chongqing


def test_rectification_notice_for_the_rectify_example_follows_annex_6() -> None:
    result, docs = _render("chongqing/renewal", _facts(RECTIFY_EXAMPLE), dt.date(2025, 6, 10))
    assert result.outcome == "rectify"
    assert set(docs) == {"rectification_notice", "evaluation_form"}
    document = _check_official_layout(docs["rectification_notice"])
    text = _text(document)
    assert text.startswith("整改通知书")
    assert "渝人社评〔2025〕12号" in text
    assert "重庆市渝新职业技能培训评价中心：" in text
    assert "2025年6月10日，经对你单位开展延续备案评估，发现存在以下问题：" in text
    assert "1．岗位设置和人员配备：缺一岗位及人员（共3处），扣1.2分（附件3 内部管理·岗位和履职）。" in text
    assert "7．" in text and "8．" not in text    # seven deductions, one by one
    assert "整改期为6个月（自2025年6月10日至2025年12月10日），整改期内暂停职业技能等级认定工作" in text
    assert "特此通知。" in text and "重庆市人力资源和社会保障局（盖章）" in text
    title = document.paragraphs[0].runs[0]
    assert _east_asia(title._r) == layout.TITLE_FONT and title.font.size.pt == layout.TITLE_SIZE_PT
    body = next(p for p in document.paragraphs if p.text.startswith("即日起"))
    assert all(_east_asia(r._r) == layout.BODY_FONT for r in body.runs)
    assert document.styles["Normal"].font.size.pt == layout.BODY_SIZE_PT
    assert "{{" not in text and "{%" not in text


def _findings(n: int) -> dict[str, Any]:
    """Findings giving exactly n deductions (n ≤ 20) with a score still in the rectify band."""
    lines: list[tuple[str, Any]] = [
        ("skill_room_defects", 4), ("cameras_missing", 1), ("posts_missing", 1), ("duties_unfulfilled", 1),
        ("no_duty_records", True), ("safety_notice_missing", True), ("no_ledger", True), ("unclear_accounts", True),
        ("irregular_receipts", True), ("no_annual_audit", True), ("annual_plans_missing", 1),
        ("publicity_items_missing", 1), ("theory_room_defects", 1), ("marking_batches_bad", 1),
        ("tally_batches_bad", 1), ("signature_batches_bad", 1), ("archive_roster_incomplete", True),
        ("no_destruction_plan", True), ("batches_without_supervisor", 1), ("late_report_batches", 1)]
    return dict(lines[:n])


def _numbered(text: str) -> list[str]:
    return [line for line in text.splitlines() if "．" in line[:3] and line.split("．")[0].isdigit()]


# No single item is worth more than 10 points and rectify needs more than 20 off: the fewest problems a Chongqing
# notice can list is three (10 + 10 + 0.25); Nanning's order shows the one-problem case.
@pytest.mark.parametrize("findings, n", [
    ({"skill_room_defects": 5, "question_source": "none", "no_destruction_plan": True}, 3),
    (_findings(20), 20),
])
def test_rectification_notice_lists_every_problem(findings: dict[str, Any], n: int) -> None:
    facts = {**_facts(RECTIFY_EXAMPLE), "findings": findings}
    result, docs = _render("chongqing/renewal", facts, dt.date(2025, 6, 10))
    assert result.outcome == "rectify", result.score
    numbered = _numbered(_text(_check_official_layout(docs["rectification_notice"])))
    assert len(numbered) == n
    assert numbered[0].startswith("1．" + ("技能评价场地和候考区" if n == 3 else "岗位设置和人员配备"))
    assert all("（附件3 " in line for line in numbered)


def test_an_order_with_one_problem() -> None:
    facts = {"irregular_marking": True}
    inputs = {**INPUTS, "rectify_by": "2023-06-30"}
    result, docs = _render("nanning/supervision", facts, dt.date(2023, 5, 18), inputs)
    assert result.outcome == "rectify"
    numbered = _numbered(_text(_check_official_layout(docs["rectification_order"])))
    assert numbered == ["1．阅卷管理不规范，评分标准不统一（第二十七条（三））。"]


def test_a_name_outside_gb2312_and_xml_characters_stay_as_written() -> None:
    name = "𠮷野家䶮職業技能培訓中心 & <R&D>"
    result, docs = _render("chongqing/renewal", _facts(RECTIFY_EXAMPLE), dt.date(2025, 6, 10),
                           {"institution_name": name})
    text = _text(_check_official_layout(docs["rectification_notice"]))
    assert f"{name}：" in text
    assert _verify(docs["rectification_notice"]).status == "match"


def test_characters_a_word_file_cannot_hold() -> None:
    # in a document input: refused, named; in the facts (a pasted cell): shown as U+FFFD, the file still verifies
    with pytest.raises(FactsError) as caught:
        _render("chongqing/renewal", _facts(RECTIFY_EXAMPLE), dt.date(2025, 6, 10), {"institution_name": "甲\x01乙"})
    assert caught.value.code == "document-input-invalid" and "institution_name(机构名称)" in str(caught.value)
    codes = ["4-01-05-01\x02", "4-03-02-01\ud800"]
    facts = {**_facts(RECTIFY_EXAMPLE), "registered_occupations": codes, "assessed_occupations": codes}
    _, docs = _render("chongqing/renewal", facts, dt.date(2025, 6, 10))
    for blob in docs.values():
        _check_official_layout(blob)
        assert _verify(blob).status == "match"


def test_a_missing_document_input_is_named_and_nothing_is_rendered() -> None:
    facts = {k: v for k, v in _facts(RECTIFY_EXAMPLE).items() if k != "institution_name"}
    with pytest.raises(FactsError) as caught:
        _render("chongqing/renewal", facts, dt.date(2025, 6, 10))
    assert caught.value.code == "document-input-missing"
    assert "institution_name(机构名称)" in str(caught.value) and "整改通知书" in str(caught.value)


def test_a_malformed_document_input_is_named() -> None:
    with pytest.raises(FactsError) as caught:
        _render("chongqing/renewal", _facts(RECTIFY_EXAMPLE), dt.date(2025, 6, 10), {"signed_on": "6月10日"})
    assert caught.value.code == "document-input-invalid"
    assert "signed_on(落款日期)" in str(caught.value)


def test_renewal_gives_the_receipt_and_the_filled_evaluation_form() -> None:
    facts = {**_facts(POLICIES / "chongqing" / "examples" / "renewal-social-org.yaml"), **INPUTS}
    result, docs = _render("chongqing/renewal", facts, dt.date(2025, 5, 25))
    assert result.outcome == "renew" and set(docs) == {"renewal_receipt", "evaluation_form"}
    receipt = _text(_check_official_layout(docs["renewal_receipt"]))
    assert "你单位于2025年5月20日提交" in receipt and "评估得分为94.6分" in receipt
    assert "延续备案的职业（工种）范围：4-01-05-01、4-03-02-01。" in receipt
    assert "4-03-02-02不列入续期备案范围" in receipt
    assert "市职业技能鉴定指导中心组织评估，市人力社保局审核并出具回执" in receipt
    document = _check_official_layout(docs["evaluation_form"])
    form = _text(document)
    assert "机构评估得分：94.6分" in form and "本次评估结论为：符合" in form
    rows = [[c.text for c in r.cells] for r in document.tables[0].rows]
    assert ["岗位设置和人员配备" in rows[i][0] for i in range(len(rows))].count(True) == 1
    posts = next(r for r in rows if r[0].strip() == "岗位设置和人员配备")
    assert posts[1:5] == ["4", "0.8", "", "3.2"]
    assert rows[-1][:5] == ["合计", "100", "", "", "94.6"]
    assert "评估组成员签字：" in form and "组长（签名）：" in form   # left blank for the panel


# ---------------------------------------------------------------- the packs' reading marks

NANNING_INPUTS = {"institution_name": "南宁市某评价机构", "issuing_office": "南宁市职业技能培训和鉴定指导中心",
                  "signed_on": "2023-05-19", "rectify_by": "2023-06-30"}
EMPLOYER = {"institution_kind": "employer", "registry_level": "district", "registration_expires_on": "2025-09-30",
            "applied_on": "2025-08-20", "registered_occupations": ["6-18-01-01"],
            "assessed_occupations": ["6-18-01-01"], "meets_renewal_conditions": False}

# For each rule or scorecard item whose message or clause carries its pack's reading mark: facts that fire it.
MARKED_CASES: list[tuple[str, str, dict[str, Any], dt.date, dict[str, Any]]] = [
    *[("nanning/supervision", rule, {**facts, "rectified_in_time": rectified}, dt.date(2023, 5, 18), NANNING_INPUTS)
      for rectified in (None, False)
      for rule, facts in [
          ("false_conclusion", {"false_conclusion_cases": ["forged_records"]}),
          ("public_notice", {"public_notice_missing": ["complaint_channel"]}),
          ("paper_retention", {"paper_retention_years": 2}),
          ("electronic_retention", {"electronic_retention_years": 3}),
          ("theory_room_video", {"theory_room_video": False}),
          ("skill_room_video", {"skill_room_video": False}),
          ("outside_venue", {"assessed_outside_venue": True}),
      ]],
    ("chongqing/renewal", "publicity",
     {**_facts(RECTIFY_EXAMPLE), "findings": {**_facts(RECTIFY_EXAMPLE)["findings"], "publicity_items_missing": 2}},
     dt.date(2025, 6, 10), {}),
    ("chongqing/renewal", "employer_refused", EMPLOYER, dt.date(2025, 9, 1), INPUTS),
]


def _marked_ids(decision_id: str) -> set[str]:
    """The rules and scorecard items of a decision whose own text (message, clause) carries a reading mark."""
    region, name = decision_id.split("/")
    pack = yaml.safe_load((POLICIES / region / "pack.yaml").read_text(encoding="utf-8"))
    marks = _marks(decision_id)
    decision = pack["decisions"][name]
    found = {r["id"] for r in decision.get("rules", []) if any(m in json.dumps(r, ensure_ascii=False) for m in marks)}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "id" in node and any(m in str(node.get("source", "")) for m in marks):
                found.add(node["id"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(decision.get("scorecards", {}))
    return found


def _marks(decision_id: str) -> list[str]:
    region = decision_id.split("/")[0]
    return list(yaml.safe_load((POLICIES / region / "pack.yaml").read_text(encoding="utf-8"))["pack"]["reading_marks"])


@pytest.mark.parametrize("decision_id, rule, facts, as_of, inputs", MARKED_CASES,
                         ids=[f"{c[0]}:{c[1]}:{c[2].get('rectified_in_time', '')}" for c in MARKED_CASES])
def test_documents_leave_out_the_packs_reading_marks(decision_id: str, rule: str, facts: dict[str, Any],
                                                    as_of: dt.date, inputs: dict[str, Any]) -> None:
    decision = LIBRARY.decision(decision_id)
    rule_facts, given = split_facts(decision, facts)
    result = LIBRARY.evaluate(decision_id, rule_facts, as_of=as_of)
    fired = {r.rule.split("[")[0] for r in result.reasons}
    deducted = {d.id for c in (result.scorecard["categories"] if result.scorecard else []) for d in c.walk()
                if d.score < d.max}
    assert rule in fired | deducted, (rule, fired, deducted)
    report = result.to_json()
    assert any(m in report for m in _marks(decision_id))    # the result keeps the pack's reading for staff
    every = [d for d in decision.documents.values() if d.scope == "case"]
    docs = render_documents(decision, result, rule_facts, {**given, **inputs}, documents=every)
    assert set(docs) == {d.id for d in every}
    for doc_id, blob in docs.items():
        text = _text(_open(blob))
        assert not any(m in text for m in _marks(decision_id)), (doc_id, text)
        assert "(" not in text and ")" not in text, doc_id      # Chinese text has full-width brackets


def test_every_marked_rule_has_a_case() -> None:
    """A rule or item given a reading mark in a decision that produces documents needs a case above."""
    for pack_file in sorted(POLICIES.glob("*/pack.yaml")):
        pack = yaml.safe_load(pack_file.read_text(encoding="utf-8"))
        for name, decision in pack["decisions"].items():
            decision_id = f"{pack_file.parent.name}/{name}"
            if decision.get("documents") and pack["pack"].get("reading_marks"):
                covered = {c[1] for c in MARKED_CASES if c[0] == decision_id}
                assert _marked_ids(decision_id) <= covered, decision_id


@pytest.mark.parametrize("text, expected", [
    ("第二十七条(七)(MARK)", "第二十七条(七)"),
    ("第十一条(“前20个工作日内”读作不晚于该日，MARK)", "第十一条"),
    ("附件3 公开公示(第5、6项为MARK)", "附件3 公开公示"),
    ("按第二十七条(七)处理（MARK）。", "按第二十七条(七)处理。"),
    ("(见第二十七条(七)，MARK)其余", "其余"),
    ("未括注的MARK", "未括注的"),
    ("(MARK", "("),
    ("没有标记(第十七条)", "没有标记(第十七条)"),
])
def test_without_marks_leaves_out_the_aside_that_holds_the_mark(text: str, expected: str) -> None:
    assert without_marks(text, ("MARK",)) == expected


# ---------------------------------------------------------------- Nanning, Hebei, Shanxi


@pytest.mark.parametrize("rectified, outcome, escalation", [
    (None, "rectify", "逾期不整改或整改不符合要求的"),
    (False, "interview_and_credit", "你单位对此前责令限期整改的问题未整改或整改不符合要求"),
])
def test_nanning_order_lists_the_article_27_findings_and_states_the_escalation(
        rectified: bool | None, outcome: str, escalation: str) -> None:
    facts = {**_facts(POLICIES / "nanning" / "examples" / "supervision-findings.yaml"), "rectified_in_time": rectified}
    inputs = {**INPUTS, "institution_name": "南宁市某评价机构", "issuing_office": "南宁市职业技能培训和鉴定指导中心",
              "signed_on": dt.date(2023, 5, 19), "rectify_by": "2023-06-30"}
    result, docs = _render("nanning/supervision", facts, dt.date(2023, 5, 18), inputs)
    assert result.outcome == outcome
    text = _text(_check_official_layout(docs["rectification_order"]))
    assert "1．阅卷管理不规范，评分标准不统一（第二十七条（三））。" in text
    assert "现责令你单位于2023年6月30日前完成整改" in text
    assert escalation in text and "2023年5月19日" in text


def test_nanning_order_needs_its_deadline() -> None:
    facts = _facts(POLICIES / "nanning" / "examples" / "supervision-findings.yaml")
    with pytest.raises(FactsError) as caught:
        _render("nanning/supervision", facts, dt.date(2023, 5, 18), INPUTS)
    assert "rectify_by(整改期限)" in str(caught.value)


def test_hebei_data_table_has_every_row_the_total_and_the_rates() -> None:
    facts = _facts(POLICIES / "hebei" / "examples" / "renewal-social-org.yaml")
    _, docs = _render("hebei/renewal", facts, dt.date(2023, 11, 10),
                      {"institution_name": "河北某职业培训学校", "signed_on": "2023-10-18"})
    document = _check_official_layout(docs["data_table"], landscape=True)
    rows = [[c.text for c in r.cells] for r in document.tables[0].rows]
    assert rows[2][:3] == ["1", "2021", "4-01-05-01 电子商务师"] and rows[2][-1] == "83.75"
    assert rows[5][-1] == ""                       # nothing assessed: no rate
    assert rows[-1][0] == "合计" and rows[-1][-1] == "85.87" and rows[-1][8] == "460"
    assert "河北某职业培训学校职业技能等级认定数据汇总表" in _text(document)


def test_shanxi_opinion_for_one_institution() -> None:
    facts = _facts(POLICIES / "shanxi" / "examples" / "evaluation-social-org.yaml")
    result, docs = _render("shanxi/evaluation", facts, dt.date(2023, 9, 20),
                           {**INPUTS, "institution_name": "山西某培训学校", "issuing_office": "太原市人力资源和社会保障局",
                            "signed_on": "2023-09-25"})
    assert result.outcome == "defer_renewal"
    text = _text(_check_official_layout(docs["evaluation_opinion"]))
    assert "评价机构：山西某培训学校" in text and "社会培训评价组织" in text
    assert "请于2023年11月20日前完成整改" in text and "暂时延续至2023年11月10日" in text
    assert "评估结果不达标准" in text


# ---------------------------------------------------------------- verification


def _rewrite(blob: bytes, change: Any) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, change(item.filename, src.read(item.filename)))
    return out.getvalue()


def test_verify_passes_on_an_untouched_document() -> None:
    _, docs = _render("chongqing/renewal", _facts(RECTIFY_EXAMPLE), dt.date(2025, 6, 10))
    check = _verify(docs["rectification_notice"])
    assert check.status == "match", check.lines
    assert "一致" in check.lines[-1]


def test_verify_detects_an_edited_deduction_in_the_embedded_data() -> None:
    _, docs = _render("chongqing/renewal", _facts(RECTIFY_EXAMPLE), dt.date(2025, 6, 10))
    blob = docs["rectification_notice"]
    data = read_document(blob).data
    assert data["result"]["deductions"]["posts"] == Decimal("1.2")
    edited = _rewrite(blob, lambda name, b: b.replace(b'"posts":1.2', b'"posts":0.4')
                      if name == "docProps/custom.xml" else b)
    assert edited != blob
    check = _verify(edited)
    assert check.status == "tampered" and "已被改动" in check.lines[0]


def test_verify_detects_an_edited_code_in_the_footer() -> None:
    _, docs = _render("chongqing/renewal", _facts(RECTIFY_EXAMPLE), dt.date(2025, 6, 10))
    blob = docs["rectification_notice"]
    code = read_document(blob).code.encode()

    def change(name: str, b: bytes) -> bytes:
        return b.replace(code, b"AAAA-BBBB-CCCC") if name.startswith("word/footer") else b
    check = _verify(_rewrite(blob, change))
    assert check.status == "tampered" and "AAAA-BBBB-CCCC" in check.lines[0]


def test_verify_detects_an_edited_word_of_the_body() -> None:
    _, docs = _render("chongqing/renewal", _facts(RECTIFY_EXAMPLE), dt.date(2025, 6, 10))
    blob = docs["rectification_notice"]
    edited = _rewrite(blob, lambda name, b: b.replace("扣1.2分".encode(), "扣0.4分".encode(), 1)
                      if name == "word/document.xml" else b)
    assert edited != blob
    check = _verify(edited)
    assert check.status == "tampered" and "正文已被改动" in check.lines[0]


def test_verify_says_which_pack_made_it_and_what_differs_now(tmp_path: Path) -> None:
    _, docs = _render("chongqing/renewal", _facts(RECTIFY_EXAMPLE), dt.date(2025, 6, 10))
    packs = tmp_path / "policies"
    shutil.copytree(POLICIES / "chongqing", packs / "chongqing")
    pack = packs / "chongqing" / "pack.yaml"
    text = pack.read_text(encoding="utf-8").replace("version: 1.0.0", "version: 1.1.0", 1)
    pack.write_text(text.replace("{value: 80, unit: 分, label: 予以延续备案的最低分",
                                 "{value: 75, unit: 分, label: 予以延续备案的最低分"), encoding="utf-8")
    newer = skillcert.load(packs)
    check = check_document(read_document(docs["rectification_notice"]),
                           lambda d, f, a: newer.evaluate(d, f, as_of=a))
    assert check.status == "differs"
    report = "\n".join(check.lines)
    assert "政策包 1.0.0 版" in report and "现有政策包为 1.1.0 版" in report
    assert "结论:文书为 rectify" in report and "现在为 renew" in report
    assert "期限 rectification_ends" in report


def test_a_file_that_is_not_a_skillcert_document_cannot_be_read() -> None:
    for blob in (b"not a zip", _rewrite(_render("chongqing/renewal", _facts(RECTIFY_EXAMPLE), dt.date(2025, 6, 10))
                                        [1]["evaluation_form"],
                                        lambda n, b: b if n != "docProps/custom.xml" else b"<x/>")):
        with pytest.raises(SkillcertError) as caught:
            read_document(blob)
        assert caught.value.code == "document-unreadable"


def test_the_embedded_data_holds_the_facts_inputs_and_result_in_short_properties() -> None:
    _, docs = _render("chongqing/renewal", _facts(RECTIFY_EXAMPLE), dt.date(2025, 6, 10))
    custom = zipfile.ZipFile(io.BytesIO(docs["rectification_notice"])).read("docProps/custom.xml").decode()
    assert "skillcert.code" in custom and "skillcert.data.000" in custom
    data = read_document(docs["rectification_notice"]).data
    assert data["facts"]["findings"]["posts_missing"] == 3 and "institution_name" not in data["facts"]
    assert data["inputs"]["institution_name"] == "重庆市渝新职业技能培训评价中心"
    assert data["result"]["outcome"] == "rectify" and data["as_of"] == "2025-06-10"
    assert json.loads(json.dumps(data, default=str))


# ---------------------------------------------------------------- declarations and template checks


def _pack_copy(tmp_path: Path, edit: Any) -> Path:
    folder = tmp_path / "chongqing"
    shutil.copytree(POLICIES / "chongqing", folder)
    pack = folder / "pack.yaml"
    pack.write_text(edit(pack.read_text(encoding="utf-8")), encoding="utf-8")
    return folder


@pytest.mark.parametrize("old, new, code", [
    ("outcomes: [rectify]\n", "outcomes: [rectfy]\n", "unknown-outcome"),
    ("template: documents/renewal-receipt.docx", "template: documents/receipt.docx", "document-template-missing"),
    ("inputs: [institution_name, issuing_office, signed_on]\n        description: 原文只规定",
     "inputs: [institution_nam, issuing_office, signed_on]\n        description: 原文只规定", "unknown-name"),
    # the shared names mean the same in every pack: the schema fixes their labels and types
    ("institution_name: {type: text, label: 机构名称,", "institution_name: {type: text, label: 单位名称,", "schema"),
    ("template: documents/renewal-receipt.docx", "template: ../pack.yaml", "schema"),
])
def test_document_declarations_are_checked_at_their_line(tmp_path: Path, old: str, new: str, code: str) -> None:
    folder = _pack_copy(tmp_path, lambda t: t.replace(old, new, 1))
    _, problems = check_pack(folder)
    found = [p for p in problems if p.code == code or (code == "schema" and "document" in p.location.path)]
    assert found and len(problems) == len(found), problems
    assert found[0].location.line > 0 and found[0].location.file.endswith("pack.yaml")


def _template(path: Path, texts: list[str], footer: str = "验证码：{{ verification_code }}") -> None:
    document = docx.Document()
    for t in texts:
        document.add_paragraph(t)
    document.sections[0].footer.paragraphs[0].text = footer
    document.save(str(path))


@pytest.mark.parametrize("texts, footer, code", [
    (["{{ institution_nam }}"], "验证码：{{ verification_code }}", "document-unknown-name"),
    (["{{ deadlines.rectification_end }}"], "验证码：{{ verification_code }}", "document-unknown-name"),
    (["{% if outcome == 'rectfy' %}x{% endif %}"], "验证码：{{ verification_code }}", "unknown-outcome"),
    (["{{ score }"], "验证码：{{ verification_code }}", "document-template-syntax"),
    (["{{ score }}"], "", "document-no-code"),
    (["{{ document_number }}{{ issuing_office }}"], "验证码：{{ verification_code }}", "document-input-unlisted"),
])
def test_validate_checks_each_template(tmp_path: Path, texts: list[str], footer: str, code: str) -> None:
    folder = _pack_copy(tmp_path, lambda t: t)
    _template(folder / "documents" / "evaluation-form.docx", texts, footer)
    pack, problems = check_pack(folder)
    assert pack is not None and not problems
    found = check_templates(pack)
    assert [p.code for p in found] == [code], found
    assert found[0].location.file.endswith("evaluation-form.docx")
    assert "延续备案评估表" in found[0].message


def test_a_template_that_is_not_a_word_file_is_reported(tmp_path: Path) -> None:
    folder = _pack_copy(tmp_path, lambda t: t)
    (folder / "documents" / "evaluation-form.docx").write_bytes(b"PK not really")
    pack, _ = check_pack(folder)
    assert pack is not None
    assert [p.code for p in check_templates(pack)] == ["document-template-invalid"]


def test_a_batch_template_sees_the_batch_names(tmp_path: Path) -> None:
    folder = tmp_path / "shanxi"
    shutil.copytree(POLICIES / "shanxi", folder)
    _template(folder / "documents" / "opinion-summary.docx",
              ["{%p for r in rows %}", "{{ r.institution_name }}", "{%p endfor %}", "{{ total }}{{ score }}"])
    pack, problems = check_pack(folder)
    assert pack is not None and not problems
    found = check_templates(pack)
    assert [(p.code, "'score'" in p.message) for p in found] == [("document-unknown-name", True)]


def test_bundled_templates_pass_the_checks() -> None:
    for region in LIBRARY.regions():
        assert check_templates(LIBRARY.pack(region)) == []


def test_bundled_templates_are_single_spaced_in_chinese_with_rows_kept_whole() -> None:
    for path in sorted(POLICIES.glob("*/documents/*.docx")):
        document = docx.Document(str(path))
        assert document.styles["Normal"].paragraph_format.line_spacing == 1.0, path.name   # one grid line a line
        lang = document.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}")
        assert lang.get(qn("w:eastAsia")) == "zh-CN", path.name
        for table in document.tables:
            for row in table.rows:
                assert row._tr.find(f"{qn('w:trPr')}/{qn('w:cantSplit')}") is not None, path.name
                for cell in row.cells:
                    assert all(p.style.name == "Form Text" for p in cell.paragraphs), path.name


def test_bundled_templates_carry_no_preview_of_another_document() -> None:
    templates = sorted((ROOT / "policies").glob("*/documents/*.docx"))
    assert len(templates) >= 7
    for path in templates:  # python-docx's default template brings a thumbnail a file browser would show
        assert not any("thumbnail" in n for n in zipfile.ZipFile(path).namelist()), path


def test_templates_run_sandboxed(tmp_path: Path) -> None:
    folder = _pack_copy(tmp_path, lambda t: t)
    _template(folder / "documents" / "evaluation-form.docx",
              ["{{ outcome.__class__.__mro__ }}", "{{ institution_name }}"])
    library = skillcert.load(tmp_path)
    facts, given = split_facts(library.decision("chongqing/renewal"), _facts(RECTIFY_EXAMPLE))
    result = library.evaluate("chongqing/renewal", facts, as_of=dt.date(2025, 6, 10))
    with pytest.raises(SkillcertError) as caught:
        render_documents(library.decision("chongqing/renewal"), result, facts, given)
    assert caught.value.code == "document-render"


# ---------------------------------------------------------------- PDF and PNG


DOCUMENT_EXAMPLES = [
    ("nanning/supervision", "nanning/examples/documents/supervision-rectify.yaml", dt.date(2023, 5, 18)),
    ("hebei/renewal", "hebei/examples/documents/renewal-data-table.yaml", dt.date(2023, 11, 10)),
    ("shanxi/evaluation", "shanxi/examples/documents/evaluation-opinion.yaml", dt.date(2023, 9, 20)),
]


def _every_document() -> list[tuple[str, bytes]]:
    out = []
    _, docs = _render("chongqing/renewal", _facts(RECTIFY_EXAMPLE), dt.date(2025, 6, 10))
    out += [(f"chongqing-{k}", v) for k, v in docs.items()]
    _, docs = _render("chongqing/renewal",
                      {**_facts(POLICIES / "chongqing" / "examples" / "renewal-social-org.yaml"), **INPUTS},
                      dt.date(2025, 5, 25))
    out.append(("chongqing-renewal_receipt", docs["renewal_receipt"]))
    for decision_id, example, as_of in DOCUMENT_EXAMPLES:   # each with its own document inputs
        _, docs = _render(decision_id, _facts(POLICIES / example), as_of)
        out += [(f"{decision_id.split('/')[0]}-{k}", v) for k, v in docs.items()]
    out.append(("shanxi-opinion_summary", _shanxi_summary()))
    return out


def _shanxi_summary() -> bytes:
    from skillcert.documents.render import BatchEntry, render_batch_document

    decision = LIBRARY.decision("shanxi/evaluation")
    base = _facts(POLICIES / "shanxi" / "examples" / "evaluation-social-org.yaml")
    entries = []
    for n, (kind, grade) in enumerate([("social_org", "below_standard"), ("employer", "pass"), ("school", "fail")]):
        facts = {**base, "institution_kind": kind, "evaluation_result": grade}
        result = LIBRARY.evaluate("shanxi/evaluation", facts, as_of=dt.date(2023, 9, 20))
        entries.append(BatchEntry(f"SX-{n + 1}", result, facts, {**INPUTS, "institution_name": f"机构{n + 1}"}))
    return render_batch_document(decision, decision.documents["opinion_summary"], entries)


def test_the_shanxi_summary_lists_every_row_and_counts_by_kind() -> None:
    document = _check_official_layout(_shanxi_summary())
    rows = [[c.text for c in r.cells] for r in document.tables[0].rows]
    assert [r[2] for r in rows[1:]] == ["机构1", "机构2", "机构3"]
    assert [r[4] for r in rows[1:]] == ["暂不予延续备案", "同意延续备案", "终止备案"]


def test_every_document_converts_to_pdf_and_png() -> None:
    if soffice() is None or shutil.which("pdftoppm") is None:
        pytest.skip("LibreOffice or poppler is not installed: "
                    "apt-get install libreoffice-writer poppler-utils fonts-noto-cjk")
    from skillcert.documents.pdf import to_pdf

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for name, blob in _every_document():
        for stale in ARTEFACTS.glob(f"{name}-*.png"):   # pages of an earlier, longer rendering
            stale.unlink()
        path = ARTEFACTS / f"{name}.docx"
        path.write_bytes(blob)
        pdf = to_pdf(path, ARTEFACTS)
        assert pdf.read_bytes().startswith(b"%PDF")
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(ARTEFACTS / name)], check=True, timeout=120)
        assert list(ARTEFACTS.glob(f"{name}*.png"))
        pages = _pdf_pages(pdf)
        assert all(CODE_PATTERN.search(page) for page in pages), f"{name}: a page without the code in its footer"
        for first, last in [("特此通知", "日"), ("评估组意见", "成员（签名）")]:   # blocks kept on one page
            holding = [page for page in pages if first in page]
            assert all(last in page.split(first, 1)[1] for page in holding), f"{name}: {first}… split"
        assert len(pages) <= PAGES.get(name, 2), (name, len(pages))
    # the grid's 22 lines: the Chongqing notice's first page holds title, number, addressee and 16 lines of text
    notice = _pdf_pages(ARTEFACTS / "chongqing-rectification_notice.pdf")[0]
    assert sum(1 for line in notice.splitlines() if line.strip()) >= 19, notice


PAGES = {"chongqing-evaluation_form": 4, "hebei-data_table": 1, "shanxi-opinion_summary": 1}


def _pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, timeout=120, capture_output=True)
    return text.stdout.decode("utf-8").split("\f")[:-1]

