"""Make the packs' Word templates (policies/<region>/documents/*.docx) with python-docx.

The committed .docx files are the source staff edit in Word or WPS; this script is how they were first made and
how to make them again after a change of layout (it overwrites them). The tags are docxtpl's: ``{{ name }}`` for a
value, ``{%p for … %}`` / ``{%p if … %}`` on a paragraph of its own for repeated or optional paragraphs,
``{%tr for … %}`` in a table row for repeated rows. The layout (A4, margins, 22 × 28 grid, faces and sizes) comes
from skillcert.documents.layout, so the templates and the checks in tests/test_documents.py use the same values.

    .venv/bin/python tools/make_document_templates.py [POLICIES]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from skillcert.documents.layout import (
    BODY_FONT,
    BODY_SIZE_PT,
    HEADING_FONT,
    TITLE_FONT,
    TITLE_SIZE_PT,
    char_spacing_twentieths,
    page_setup,
    set_font,
)

ROOT = Path(__file__).resolve().parent.parent
FOOTER = "验证码：{{ verification_code }}"
TABLE_SIZE_PT = 10.5   # 五号, for the cells of forms
INDENT = Pt(BODY_SIZE_PT * 2)   # first line indented two characters


class Doc:
    """A document being written: paragraphs of the three kinds official documents use, and tables."""

    def __init__(self, *, landscape: bool = False) -> None:
        self.doc = Document()
        page_setup(self.doc.sections[0], landscape=landscape)
        normal = self.doc.styles["Normal"]
        set_font(normal, BODY_FONT, BODY_SIZE_PT, condensed=char_spacing_twentieths())
        normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
        # single spacing: one line of the grid a line (python-docx's default, 1.15, spreads 22 lines over 25)
        normal.paragraph_format.line_spacing = 1.0
        _chinese_language(self.doc)
        self.form_style = _form_style(self.doc)
        footer = self.doc.sections[0].footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        set_font(footer.add_run(FOOTER), BODY_FONT, 12)

    def _para(self, text: str, face: str, size: float, *, align: Any = None, indent: bool = False,
              bold: bool = False) -> Any:
        p = self.doc.add_paragraph()
        if align is not None:
            p.alignment = align
        if indent:
            p.paragraph_format.first_line_indent = INDENT
        if text:
            set_font(p.add_run(text), face, size, bold=bold)
        return p

    def title(self, text: str) -> None:
        self._para(text, TITLE_FONT, TITLE_SIZE_PT, align=WD_ALIGN_PARAGRAPH.CENTER)

    def head(self, title: str) -> None:
        """The title, the document number when there is one, and an empty line."""
        self.title(title)
        self.number()
        self.blank()

    def problems(self, line: str = "{{ p.number }}．{{ p.text }}（{{ p.clause }}）。") -> None:
        """The problems found, one paragraph each, numbered, with item and clause."""
        self.tag("{%p for p in problems %}")
        self.body(line)
        self.tag("{%p endfor %}")

    def number(self) -> None:
        """The document number under the title, when one is given (its paragraph goes when it is empty)."""
        self.tag("{%p if document_number %}")
        self._para("{{ document_number }}", BODY_FONT, BODY_SIZE_PT, align=WD_ALIGN_PARAGRAPH.CENTER)
        self.tag("{%p endif %}")

    def blank(self) -> None:
        self._para("", BODY_FONT, BODY_SIZE_PT)

    def body(self, text: str) -> None:
        self._para(text, BODY_FONT, BODY_SIZE_PT, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True)

    def line(self, text: str, align: Any = None) -> None:
        self._para(text, BODY_FONT, BODY_SIZE_PT, align=align)

    def heading(self, text: str) -> None:
        self._para(text, HEADING_FONT, BODY_SIZE_PT, indent=True)

    def tag(self, text: str) -> None:
        """A paragraph holding only a docxtpl paragraph tag (it disappears when rendered)."""
        self._para(text, BODY_FONT, BODY_SIZE_PT)

    def signature(self, office: str = "{{ issuing_office }}", date: str = "{{ signed_on }}") -> None:
        """GB/T 9704 7.3.5: one line down, the issuing office right-aligned two characters in from the margin,
        the date under it four characters in (the seal covers both). Kept on one page with the paragraph before it
        (GB/T 9704 7.3.5.4: a signature never stands on a page of its own)."""
        start = self.mark() - 1
        self.blank()
        self._para(office, BODY_FONT, BODY_SIZE_PT, align=WD_ALIGN_PARAGRAPH.RIGHT).paragraph_format.right_indent = \
            Pt(BODY_SIZE_PT * 2)
        self.date_line(date)
        self.keep_together(start)

    def mark(self) -> int:
        """Where the next paragraph goes (for :meth:`keep_together`)."""
        return len(self.doc.paragraphs)

    def keep_together(self, start: int) -> None:
        """Keep the paragraphs from ``start`` on to the last on one page (each kept with the next)."""
        for p in self.doc.paragraphs[max(start, 0):-1]:
            p.paragraph_format.keep_with_next = True

    def date_line(self, date: str = "年　　月　　日") -> None:
        """A date four characters in from the right margin (blank ones are filled in by hand)."""
        p = self._para(date, BODY_FONT, BODY_SIZE_PT, align=WD_ALIGN_PARAGRAPH.RIGHT)
        p.paragraph_format.right_indent = Pt(BODY_SIZE_PT * 4)

    def table(self, header: list[list[str]], row: list[str], *, loop: str, total: list[str] | None = None,
              merges: list[tuple[int, int, int, int]] = (), widths_mm: list[float] | None = None,
              left: tuple[int, ...] = (), total_span: int = 1) -> None:
        """A form: header rows, one row repeated by ``loop`` (``for … in …``), an optional total row whose label
        spans ``total_span`` columns."""
        cols = len(row)
        table = self.doc.add_table(rows=0, cols=cols)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER

        def add(cells: list[str], bold: bool = False, aligned: tuple[int, ...] = ()) -> None:
            r = table.add_row()
            keep = OxmlElement("w:cantSplit")   # a row stays whole on one page (a form's row is read across)
            r._tr.get_or_add_trPr().append(keep)
            for i, (cell, text) in enumerate(zip(r.cells, cells, strict=True)):
                p = cell.paragraphs[0]
                p.style = self.form_style
                p.alignment = WD_ALIGN_PARAGRAPH.LEFT if i in aligned else WD_ALIGN_PARAGRAPH.CENTER
                if text:
                    set_font(p.add_run(text), BODY_FONT, TABLE_SIZE_PT, bold=bold)

        for h in header:
            add(h, bold=True)
        add([f"{{%tr for {loop} %}}"] + [""] * (cols - 1))
        add(row, aligned=left)   # a column of labels reads better from the left (its indent shows the level)
        add(["{%tr endfor %}"] + [""] * (cols - 1))
        if total is not None:
            add(total, bold=True)
            if total_span > 1:
                merges = [*merges, (len(header) + 3, 0, len(header) + 3, total_span - 1)]
        for r1, c1, r2, c2 in merges:
            table.cell(r1, c1).merge(table.cell(r2, c2))
            kept = table.cell(r1, c1).paragraphs
            for extra in kept[1:]:   # merging joins the cells' paragraphs: keep the first, with text
                if not extra.text:
                    extra._element.getparent().remove(extra._element)
        if widths_mm:  # Word reads the cells' widths, LibreOffice the grid's: set both
            from docx.shared import Mm

            table.autofit = False
            for column, w in zip(table.columns, widths_mm, strict=True):
                column.width = Mm(w)
            for r in table.rows:   # a merged cell is as wide as the columns it spans
                column = 0
                for tc in r._tr.tc_lst:
                    span = tc.grid_span
                    tc.width = Mm(sum(widths_mm[column:column + span]))
                    column += span
        _repeat_header(table, len(header))

    def save(self, path: Path) -> None:
        from docx.opc.constants import RELATIONSHIP_TYPE as RT

        path.parent.mkdir(parents=True, exist_ok=True)
        package = self.doc.part.package  # python-docx's default carries a thumbnail of another document: drop it
        for rid, rel in list(package.rels.items()):
            if rel.reltype == RT.THUMBNAIL:
                package.rels.pop(rid)
        self.doc.save(str(path))
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


FORM_STYLE = "Form Text"


def _form_style(doc: Any) -> Any:
    """The paragraph style of a form's cells: 五号, not condensed, single-spaced and off the grid, so that a row of
    small print is one small line high. A style rather than each run's size: the paragraph mark takes its size
    from the style, and with the body's 三号 an empty or one-line cell would stand a body line high."""
    from docx.enum.style import WD_STYLE_TYPE

    style = doc.styles.add_style(FORM_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    set_font(style, BODY_FONT, TABLE_SIZE_PT, condensed=0)
    style.paragraph_format.line_spacing = 1.0
    style.paragraph_format.first_line_indent = Pt(0)
    off = OxmlElement("w:snapToGrid")   # a form's small print keeps its own line height, not the grid's
    off.set(qn("w:val"), "0")
    p_pr = style.element.get_or_add_pPr()
    p_pr.insert_element_before(off, "w:spacing", "w:ind", "w:contextualSpacing", "w:jc")
    return style


def _chinese_language(doc: Any) -> None:
    """The document's default language for east-Asian text: Simplified Chinese (python-docx's template says
    en-US), so that line breaking and the fall-back faces follow Chinese rules."""
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    r_pr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = r_pr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        r_pr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _repeat_header(table: Any, rows: int) -> None:
    for r in table.rows[:rows]:
        tr_pr = r._tr.get_or_add_trPr()
        el = OxmlElement("w:tblHeader")
        el.set(qn("w:val"), "true")
        tr_pr.append(el)


# ---------------------------------------------------------------------------------------------- Chongqing


def chongqing_rectification_notice() -> Doc:
    """附件6 整改通知书(模板), its structure kept; the problems, the period's end date and the signature filled."""
    d = Doc()
    d.head("整改通知书")
    d.line("{{ institution_name }}：")
    d.body("{{ as_of }}，经对你单位开展延续备案评估，发现存在以下问题：")
    d.problems()
    d.body("即日起，你单位须立即对上述存在的问题进行整改，整改期为6个月（自{{ facts.notice_issued_on or as_of }}"
           "至{{ deadlines.rectification_ends }}），整改期内暂停职业技能等级认定工作。整改完成后，经评估合格再进行"
           "续期备案。若逾期未整改或未按要求完成整改，将视情况对你单位采取终止职业技能等级评价机构备案等措施。")
    d.body("特此通知。")
    d.signature("{{ issuing_office }}（盖章）")
    return d


def chongqing_renewal_receipt() -> Doc:
    """延续备案回执: §三(二) says one is issued; its wording is the pack's drafting."""
    d = Doc()
    d.head("职业技能等级认定机构延续备案回执")
    d.line("{{ institution_name }}：")
    d.body("你单位于{{ facts.applied_on }}提交的职业技能等级认定机构延续备案申请材料收悉。"
           "{% if score %}经延续备案评估，你单位评估得分为{{ score }}分，{% else %}经审核，你单位{% endif %}"
           "符合延续备案条件，予以延续备案。")
    d.body("延续备案的职业（工种）范围：{{ renewed_occupations }}。"
           "{% if dropped_occupations %}备案有效期内未开展认定的职业（工种）{{ dropped_occupations }}"
           "不列入续期备案范围。{% endif %}续期备案只限原有认定范围，不新增职业（工种）或等级。")
    d.body("评估和审核：{{ evaluator }}。")
    d.body("特此回执。")
    d.signature("{{ issuing_office }}（盖章）")
    return d


def chongqing_evaluation_form() -> Doc:
    """附件3 重庆市职业技能等级认定机构延续备案评估表, filled: items, subtotals, total and 评估结论."""
    d = Doc()
    d.title("重庆市职业技能等级认定机构延续备案评估表")
    d.blank()
    d.line("机构名称：{{ institution_name }}")
    d.line("评估日期：{{ as_of }}")
    d.tag("{%p if scorecard_items %}")
    # 依据 only where it changes: the items of one group share their group's clause (one line a row, not three)
    # 依据 only where it changes (the items of a group share their group's clause), without the 附件3 the header
    # names: one line a row, not three
    d.table([["评估类别／评估项目", "满分", "扣分", "加分", "得分", "依据（附件3）"]],
            ["{{ '　' * row.level }}{{ row.label }}", "{{ row.max }}", "{{ row.deduction }}", "{{ row.award }}",
             "{{ row.score }}", "{% if loop.first or row.clause != loop.previtem.clause %}"
                                "{{ row.clause | replace('附件3 ', '') }}{% endif %}"],
            loop="row in scorecard_items",
            total=["合计", "{{ score_max }}", "", "", "{{ score }}", ""],
            widths_mm=[58, 15, 15, 15, 15, 38], left=(0, 5))
    d.line("分类小计：{% for s in subtotals %}{{ s.label }}{{ s.score }}分（满分{{ s.max }}分）"
           "{% if not loop.last %}；{% endif %}{% endfor %}。")
    d.tag("{%p else %}")
    d.line("本机构为用人单位评价机构，按资料审核办理，不按本表评分。")
    d.tag("{%p endif %}")
    d.blank()
    panel = d.mark()   # the panel's opinion and signatures on one page
    d.heading("评估组意见")
    d.line("机构评估得分：{{ score }}分")
    d.line("评估组成员签字：")
    d.blank()
    d.date_line()
    d.line("综合评价　符合：80分及以上；整改：79分—60分；不予备案：60分以下。")
    d.line("本次评估结论为：{% if outcome == 'renew' %}符合{% elif outcome == 'rectify' %}整改"
           "{% elif outcome == 'deny' %}不予备案{% else %}{{ outcome_label }}{% endif %}（{{ outcome_label }}）")
    d.line("评估专家签字：")
    d.line("组长（签名）：")
    d.blank()
    d.line("成员（签名）：")
    d.blank()
    d.date_line()
    d.keep_together(panel)
    return d


# ---------------------------------------------------------------------------------------------- Nanning


def nanning_rectification_order() -> Doc:
    """责令限期整改通知书 under 第二十七条: the findings with their articles, the escalation stated."""
    d = Doc()
    d.head("责令限期整改通知书")
    d.line("{{ institution_name }}：")
    d.body("{{ as_of }}，经检查，你单位在职业技能等级认定评价工作中存在下列情形：")
    d.problems()
    d.body("根据《南宁市职业技能等级认定评价机构管理实施细则（试行）》第二十七条规定，现责令你单位于"
           "{{ rectify_by }}前完成整改，并将整改情况书面报送{{ issuing_office }}。")
    d.tag("{%p if outcome == 'interview_and_credit' %}")
    d.body("你单位对此前责令限期整改的问题未整改或整改不符合要求。依据第二十七条规定，对你单位主要负责人进行约谈，"
           "并将相关情况推送至市公共信用信息平台。")
    d.tag("{%p else %}")
    d.body("逾期不整改或整改不符合要求的，依据第二十七条规定，对你单位主要负责人进行约谈，"
           "并将相关情况推送至市公共信用信息平台。")
    d.tag("{%p endif %}")
    d.body("特此通知。")
    d.signature()
    return d


# ---------------------------------------------------------------------------------------------- Hebei


def hebei_data_table() -> Doc:
    """附件3 职业技能等级认定数据汇总表, filled from the pack's data_table (landscape: 16 columns)."""
    d = Doc(landscape=True)
    d.title("{{ institution_name }}职业技能等级认定数据汇总表")
    d.line("机构名称（盖章）：{{ institution_name }}")
    d.line("日期：{{ signed_on }}")
    levels = ["五级", "四级", "三级", "二级", "一级", "合计"]
    ids = ["5", "4", "3", "2", "1", "total"]
    header1 = ["序号", "年度", "职业（工种）"] + ["认定人次"] + [""] * 5 + ["获证人次"] + [""] * 5 + ["获证率（%）"]
    header2 = ["", "", ""] + levels + levels + [""]
    row = (["{{ loop.index }}", "{{ r.year }}", "{{ r.occupation }}"]
           + [f"{{{{ r.assessed_{i} }}}}" for i in ids] + [f"{{{{ r.certified_{i} }}}}" for i in ids]
           + ["{{ r.rate }}"])
    total = (["合计", "", ""] + [f"{{{{ t.assessed_{i} }}}}" for i in ids]
             + [f"{{{{ t.certified_{i} }}}}" for i in ids] + ["{{ t.rate }}"])
    d.tag("{%p set t = tables.data_table.total %}")
    d.table([header1, header2], row, loop="r in tables.data_table.rows", total=total,
            merges=[(0, 0, 1, 0), (0, 1, 1, 1), (0, 2, 1, 2), (0, 3, 0, 8), (0, 9, 0, 14), (0, 15, 1, 15)],
            widths_mm=[12, 14, 53] + [12] * 12 + [18], total_span=3)
    d.blank()
    d.line("负责人（签字）：　　　　　　　　　　经办人（签字）：")
    d.line("获证率＝获证人次÷认定人次，按百分比保留两位小数；认定人次为0的行不计获证率。")
    return d


# ---------------------------------------------------------------------------------------------- Shanxi


def shanxi_evaluation_opinion() -> Doc:
    """评估意见 for one institution (§三(三), §四): the pack's drafting."""
    d = Doc()
    d.head("职业技能等级认定评价机构评估意见")
    d.line("评价机构：{{ institution_name }}")
    d.line("机构类型：{{ facts.institution_kind }}（{{ facts.registry_level }}）")
    d.line("公布备案日期：{{ facts.registered_on }}（{{ cohort }}年度备案）")
    d.line("评估日期：{{ facts.evaluation_on or as_of }}")
    d.line("评估结果：{{ facts.evaluation_result or '未评分' }}")
    d.line("评估主体：{{ evaluator }}")
    d.blank()
    d.heading("一、评估意见")
    d.body("{{ outcome_label }}。")
    d.heading("二、依据")
    d.tag("{%p for r in reasons %}")
    d.body("{{ loop.index }}．{{ r.message }}（{{ r.clause }}）。")
    d.tag("{%p endfor %}")
    d.tag("{%p if deadlines.rectification_due %}")
    d.heading("三、整改要求")
    d.body("请于{{ deadlines.rectification_due }}前完成整改，整改后再视情况决定是否准予延续备案或恢复评价活动。")
    d.tag("{%p endif %}")
    d.tag("{%p if deadlines.grace_until %}")
    d.body("评估期间备案时间已到期，原则上认定工作可暂时延续至{{ deadlines.grace_until }}。")
    d.tag("{%p endif %}")
    d.body("本评估意见报省人力资源和社会保障厅，由省厅作出决定并向社会公布。")
    d.signature()
    return d


_SHANXI_OPINIONS = [("terminate", "终止备案"), ("defer_renewal", "暂不予延续备案"), ("renew", "同意延续备案"),
                    ("suspend", "暂停评价活动"), ("normal", "正常评价")]


def shanxi_opinion_summary() -> Doc:
    """附件3 2020-2021年度备案机构评估意见汇总表, from a batch (``scope: batch``): one row per institution, then
    the opinions counted by institution kind. The seed names the form only; its columns are the pack's drafting."""
    d = Doc()
    d.title("2020-2021年度备案机构评估意见汇总表")
    d.line("报送单位：{{ issuing_office }}")
    d.line("日期：{{ signed_on }}")
    short = "".join(f"{{% {'if' if i == 0 else 'elif'} r.outcome == '{code}' %}}{label}"
                    for i, (code, label) in enumerate(_SHANXI_OPINIONS)) + "{% else %}{{ r.outcome_label }}{% endif %}"
    d.table([["序号", "机构类型", "机构名称", "备案年度", "评估意见", "依据"]],
            ["{{ r.number }}", "{{ r.group }}", "{{ r.institution_name or r.id }}", "{{ r.cohort }}", short,
             "{{ r.clauses }}"],
            loop="r in rows", widths_mm=[12, 34, 32, 18, 30, 30], left=(2,))
    d.blank()
    d.heading("按{{ group_label }}汇总")
    d.table([["{{ group_label }}", "合计"] + [label for _, label in _SHANXI_OPINIONS]],
            ["{{ g.label }}", "{{ g.total }}"] + [f"{{{{ g.by_outcome.{code} }}}}" for code, _ in _SHANXI_OPINIONS],
            loop="g in groups", total=["合计", "{{ total }}"] + [f"{{{{ by_outcome.{code} }}}}"
                                                                for code, _ in _SHANXI_OPINIONS],
            widths_mm=[36, 15] + [21] * 5)
    d.blank()
    d.line("2020年度备案的机构：终止备案、同意延续备案或暂不予延续备案；2021年度备案的机构：终止备案、暂停评价活动"
           "或正常评价（§三（三））。")
    return d


TEMPLATES: dict[str, Callable[[], Doc]] = {
    "chongqing/documents/rectification-notice.docx": chongqing_rectification_notice,
    "chongqing/documents/renewal-receipt.docx": chongqing_renewal_receipt,
    "chongqing/documents/evaluation-form.docx": chongqing_evaluation_form,
    "nanning/documents/rectification-order.docx": nanning_rectification_order,
    "hebei/documents/data-table.docx": hebei_data_table,
    "shanxi/documents/evaluation-opinion.docx": shanxi_evaluation_opinion,
    "shanxi/documents/opinion-summary.docx": shanxi_opinion_summary,
}


def main(argv: list[str]) -> int:
    policies = Path(argv[0]) if argv else ROOT / "policies"
    for rel, make in TEMPLATES.items():
        make().save(policies / rel)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
