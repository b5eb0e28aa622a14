"""The layout of official documents after GB/T 9704 (党政机关公文格式): A4, the margins and the 22 × 28 grid,
title and body faces and sizes, and the east-Asian font set on every run so that Word and WPS show the right face.

The templates are made with these values (``tools/make_document_templates.py``) and every rendered document passes
through :func:`ensure_east_asian_fonts`, so a run added by a template loop, or typed into a template in an editor
that left the east-Asian face unset, still carries one.
"""

from __future__ import annotations

import math
from typing import Any

from docx.enum.section import WD_ORIENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

__all__ = ["PAGE_WIDTH_MM", "PAGE_HEIGHT_MM", "MARGINS_MM", "LINES_PER_PAGE", "CHARS_PER_LINE", "TITLE_FONT",
           "TITLE_SIZE_PT", "BODY_FONT", "BODY_SIZE_PT", "HEADING_FONT", "LATIN_FONT", "page_setup", "set_font",
           "ensure_east_asian_fonts", "line_pitch_twips", "char_spacing_twentieths"]

PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297                            # A4
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}      # 版心 156 mm × 225 mm
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28
TITLE_FONT, TITLE_SIZE_PT = "方正小标宋简体", 22                     # 二号
BODY_FONT, BODY_SIZE_PT = "仿宋_GB2312", 16                          # 三号
HEADING_FONT = "黑体"                                                # 一级标题
LATIN_FONT = "Times New Roman"                                       # digits and Latin letters

_TWIPS_PER_MM = 1440 / 25.4


def line_pitch_twips(landscape: bool = False) -> int:
    """The grid's line pitch: the type area's height shared by 22 lines."""
    height = (PAGE_WIDTH_MM if landscape else PAGE_HEIGHT_MM) - MARGINS_MM["top"] - MARGINS_MM["bottom"]
    return round(height * _TWIPS_PER_MM / LINES_PER_PAGE)


def char_spacing_twentieths(landscape: bool = False) -> int:
    """How much each character is condensed (``w:spacing``, 1/20 pt) for 28 of them to fill the type area's width.

    The 28 characters come from the character pitch rather than from Word's character grid (``linesAndChars``):
    LibreOffice draws a CJK glyph wider than that grid's pitch across two cells, which halves the line.
    156 mm is 442.2 pt, 15.79 pt a character: 16 pt condensed by 0.25 pt (rounded down to a whole 1/20 pt, so
    the 28th character still fits).
    """
    width = (PAGE_HEIGHT_MM if landscape else PAGE_WIDTH_MM) - MARGINS_MM["left"] - MARGINS_MM["right"]
    pitch_pt = width / 25.4 * 72 / CHARS_PER_LINE
    return math.floor((pitch_pt - BODY_SIZE_PT) * 20)


def page_setup(section: Any, *, landscape: bool = False) -> None:
    """A4 with the official margins and the 22 × 28 grid (landscape: the same margins, for wide forms)."""
    width, height = (PAGE_HEIGHT_MM, PAGE_WIDTH_MM) if landscape else (PAGE_WIDTH_MM, PAGE_HEIGHT_MM)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(width), Mm(height)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    sect_pr = section._sectPr
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(line_pitch_twips(landscape)))
    grid.attrib.pop(qn("w:charSpace"), None)


def set_font(run_or_style: Any, east_asia: str, size_pt: float | None = None, *, bold: bool | None = None,
             condensed: int | None = None) -> None:
    """A run's (or a style's) faces: the east-Asian one named, digits and Latin letters in Times New Roman;
    ``condensed``: the character spacing in 1/20 pt (:func:`char_spacing_twentieths` for the body)."""
    font = run_or_style.font
    font.name = LATIN_FONT
    if size_pt is not None:
        font.size = Pt(size_pt)
    if bold is not None:
        font.bold = bold
    r_pr = run_or_style.element.get_or_add_rPr()
    _rfonts(r_pr).set(qn("w:eastAsia"), east_asia)
    if condensed is not None:
        spacing = r_pr.find(qn("w:spacing"))
        if spacing is None:
            spacing = OxmlElement("w:spacing")
            r_pr.append(spacing)
        spacing.set(qn("w:val"), str(condensed))


def _rfonts(r_pr: Any) -> Any:
    rfonts = r_pr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        r_pr.insert(0, rfonts)
    return rfonts


def ensure_east_asian_fonts(document: Any, default: str = BODY_FONT) -> int:
    """Give every run of the body, tables, headers and footers an east-Asian face (``w:eastAsia``) if it has none.

    Returns how many runs were given one. A run's own face is kept; one without takes its paragraph style's, else
    ``default``: WPS shows a run with no east-Asian face in its own default (宋体), whatever the style says.
    """
    parts = [document.element.body]
    for section in document.sections:
        for hf in (section.header, section.footer, section.first_page_header, section.first_page_footer):
            if hf.is_linked_to_previous:
                continue
            parts.append(hf._element)
    fixed = 0
    for part in parts:
        for run in part.iter(qn("w:r")):
            r_pr = run.find(qn("w:rPr"))
            if r_pr is None:
                r_pr = OxmlElement("w:rPr")
                run.insert(0, r_pr)
            rfonts = _rfonts(r_pr)
            if not rfonts.get(qn("w:eastAsia")):
                rfonts.set(qn("w:eastAsia"), _style_face(document, run) or default)
                fixed += 1
    return fixed


def _style_face(document: Any, run: Any) -> str | None:
    paragraph = run.getparent()
    p_pr = paragraph.find(qn("w:pPr")) if paragraph is not None else None
    style_el = p_pr.find(qn("w:pStyle")) if p_pr is not None else None
    if style_el is None:
        return None
    style_id = style_el.get(qn("w:val"))
    for style in document.styles:
        if getattr(style, "style_id", None) == style_id:
            r_pr = style.element.find(qn("w:rPr"))
            rfonts = r_pr.find(qn("w:rFonts")) if r_pr is not None else None
            face = rfonts.get(qn("w:eastAsia")) if rfonts is not None else None
            return str(face) if face else None
    return None
