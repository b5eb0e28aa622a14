"""XLSX input is read with the sheet's rows parsed by the engine (openpyxl's per-cell objects cost ~9 µs a cell): the
rows must be exactly what openpyxl's read-only ``iter_rows(values_only=True)`` gives, for workbooks written by
openpyxl in both modes (shared strings, inline strings) and for hand-made sheets with what other programs write:
rich text, phonetic runs, rows and cells without references, gaps, cells out of order, date styles (style 0
included), booleans, errors, formula results, ISO dates, a dimension or none."""

from __future__ import annotations

import datetime as dt
import random
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from skillcert.tabular.reading import _sheet_values


def _both(path: Path) -> tuple[list[Any], list[Any]]:
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        reference = list(wb.worksheets[0].iter_rows(values_only=True))
        fast = _sheet_values(wb, wb.worksheets[0])
        assert fast is not None
        return list(fast), reference
    finally:
        wb.close()


def _with_sheet(base: Path, path: Path, sheet: bytes) -> None:
    """A copy of the workbook ``base`` at ``path`` with its first sheet's XML replaced."""
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            target.writestr(name, sheet if name == "xl/worksheets/sheet1.xml" else source.read(name))


@pytest.mark.parametrize("write_only", [False, True])
def test_rows_of_workbooks_written_by_openpyxl(tmp_path: Path, write_only: bool) -> None:
    rng = random.Random(write_only)
    wb = openpyxl.Workbook(write_only=write_only)
    sheet = wb.create_sheet("s") if write_only else wb.active
    assert sheet is not None
    pool: list[Any] = [None, "", " ", "text", "文字", "a & b < c", "  spaced  ", "x" * 500, 0, 1, -7, 2.5, 1e20,
                       10**15, True, False, dt.date(2025, 6, 30), dt.datetime(2025, 6, 30, 12, 30),
                       dt.datetime(2025, 6, 30), dt.time(8, 15), dt.timedelta(days=2, hours=3), "=notaformula",
                       "line\nbreak", "\u00a0nbsp"]
    for _ in range(120):
        sheet.append([rng.choice(pool) for _ in range(rng.randint(0, 12))])
    path = tmp_path / "book.xlsx"
    wb.save(path)
    fast, reference = _both(path)
    assert fast == reference


SHEET = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">{dimension}<sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="D1" t="inlineStr"><is><t>four</t></is></c></row>
<row r="3" spans="1:4"><c r="A3" s="1"><v>45838</v></c><c r="B3" s="0"><v>45838.5</v></c><c r="C3" t="b"><v>1</v></c>
<c r="D3" t="e"><v>#N/A</v></c></row>
<row><c t="str"><f>A1&amp;B1</f><v>ab</v></c><c t="d"><v>2025-06-30T00:00:00</v></c><c/><c t="n"><v></v></c>
<c t="inlineStr"><is><r><t>ri</t></r><r><rPr><b/></rPr><t xml:space="preserve">ch </t></r><rPh sb="0" eb="1"><t>x</t></rPh></is></c></row>
<row r="5"><c r="C5" t="inlineStr"><is><t/></is></c><c r="A5"><v>3</v></c><c r="B5" t="inlineStr"></c></row>
<row r="6"><c r="B6"><v>1E3</v></c><c r="AA6"><v>-0.5</v></c></row>
<row r="9"><c r="A9" t="s"><v>2</v></c></row>
</sheetData></worksheet>"""

STRINGS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3">
<si><t>编号</t></si><si><r><t>rich</t></r><r><t> text</t></r></si><si><t xml:space="preserve"> last </t></si></sst>"""


@pytest.mark.parametrize("dimension", ["", '<dimension ref="A1:D7"/>', '<dimension ref="A1:AA9"/>',
                                       '<dimension ref="B2:C4"/>'])
@pytest.mark.parametrize("date_style_zero", [False, True])
def test_rows_of_sheets_as_other_programs_write_them(tmp_path: Path, dimension: str, date_style_zero: bool) -> None:
    base = tmp_path / "base.xlsx"
    wb = openpyxl.Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet["A1"] = dt.date(2025, 1, 1)  # a date style in the styles part
    wb.save(base)
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = SHEET.format(dimension=dimension).encode()
            elif name == "[Content_Types].xml":  # a shared strings part, found by its content type
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            elif name == "xl/styles.xml" and date_style_zero:  # the first style is a date
                text = data.decode()
                start = text.index("<cellXfs")
                data = (text[:start] + text[start:].replace('numFmtId="0"', 'numFmtId="14"', 1)).encode()
            target.writestr(name, data)
        target.writestr("xl/sharedStrings.xml", STRINGS)
    fast, reference = _both(path)
    assert fast == reference
    if "D7" not in dimension and "C4" not in dimension:  # (a dimension cuts the rows at its last column)
        assert any(v == "rich " for row in reference for v in row)  # the runs joined, the phonetic run left out
    assert any(isinstance(v, dt.datetime) for row in reference for v in row)  # a date style read


@pytest.mark.parametrize("dimension", ["", '<dimension ref="A1:D7"/>', '<dimension ref="B2:C4"/>', '<dimension ref="C3"/>',
                                       "after"])
def test_a_sheets_size_is_openpyxls_without_reading_the_sheet_twice(tmp_path: Path, dimension: str) -> None:
    from skillcert.tabular.reading import _sized_at_the_start

    base = tmp_path / "base.xlsx"
    wb = openpyxl.Workbook()
    wb.save(base)
    path = tmp_path / "book.xlsx"
    sheet_xml = SHEET.format(dimension="" if dimension == "after" else dimension)
    if dimension == "after":  # out of order: openpyxl does not find it either
        sheet_xml = sheet_xml.replace("</sheetData>", '</sheetData><dimension ref="A1:B2"/>')
    _with_sheet(base, path, sheet_xml.replace('t="s"', 't="n"').encode())

    def size() -> tuple[Any, ...]:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheet = book.worksheets[0]
        try:
            return sheet.min_column, sheet.min_row, sheet.max_column, sheet.max_row, list(sheet.values)
        finally:
            book.close()

    reference = size()
    with _sized_at_the_start():
        assert size() == reference
    assert size() == reference  # openpyxl's own way again afterwards


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _plain_rows(n: int) -> str:
    return "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>id {i}</t></is></c><c r="B{i}" s="1"><v>{45000 + i}'
                   f'</v></c><c r="C{i}" t="b"><v>1</v></c><c r="D{i}"><v>{i}.5</v></c></row>' for i in range(1, n + 1))


ODD_ROWS = {  # rows the plain reading leaves to the XML parser, among plain ones
    "entities": '<row r="41"><c r="A41" t="inlineStr"><is><t>a &amp; b &lt;c&gt; &#233;</t></is></c></row>',
    "carriage return": '<row r="41"><c r="A41" t="inlineStr"><is><t>two\r\nlines\rhere</t></is></c></row>',
    "single quotes": "<row r='41'><c r='A41' t='inlineStr'><is><t>quoted</t></is></c></row>",
    "r not first": '<row spans="1:2" r="41"><c r="A41"><v>7</v></c></row>',
    "attributes reordered": '<row r="41"><c r="A41" t="n" s="1"><v>45000</v></c></row>',
    "formula": '<row r="41"><c r="A41" t="str"><f>1+1</f><v>2</v></c></row>',
    "rich text": '<row r="41"><c r="A41" t="inlineStr"><is><r><t>ri</t></r><r><t>ch</t></r></is></c></row>',
    "comment": '<!-- a comment --><row r="41"><c r="A41"><v>1</v></c></row>',
    "no references": "<row><c><v>1</v></c><c t=\"inlineStr\"><is><t>x</t></is></c></row>",
    "empty and self-closing": '<row r="41"/><row r="42"><c r="A42"/><c r="B42" t="inlineStr"><is><t/></is></c></row>',
}


@pytest.mark.parametrize("odd", list(ODD_ROWS))
def test_rows_in_the_plain_form_and_others_between_them_read_as_openpyxl_reads_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, odd: str) -> None:
    import skillcert.tabular.reading as reading

    monkeypatch.setattr(reading, "_PIECE", 300)  # many pieces, cut at row ends
    base = tmp_path / "base.xlsx"
    wb = openpyxl.Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet["A1"] = dt.date(2025, 1, 1)  # a date style in the styles part
    wb.save(base)
    body = _plain_rows(40) + ODD_ROWS[odd] + _plain_rows(90)[len(_plain_rows(45)):]
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN}"><sheetData>{body}</sheetData></worksheet>'
    path = tmp_path / "book.xlsx"
    _with_sheet(base, path, xml.encode())
    fast, reference = _both(path)
    assert fast == reference and len(reference) >= 90


@pytest.mark.parametrize("form", ["prefixed", "utf-16 declared", "empty sheet data"])
def test_a_sheet_not_in_the_plain_form_is_read_as_openpyxl_reads_it(tmp_path: Path, form: str) -> None:
    base = tmp_path / "base.xlsx"
    openpyxl.Workbook().save(base)
    rows = _plain_rows(30)
    if form == "prefixed":
        rows = rows.replace("<row", "<x:row").replace("</row>", "</x:row>").replace("<c ", "<x:c ").replace(
            "</c>", "</x:c>").replace("<v>", "<x:v>").replace("</v>", "</x:v>").replace("<is>", "<x:is>").replace(
            "</is>", "</x:is>").replace("<t>", "<x:t>").replace("</t>", "</x:t>")
        xml = f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData>{rows}</x:sheetData></x:worksheet>'.encode()
    elif form == "utf-16 declared":
        xml = f'<?xml version="1.0" encoding="UTF-16"?><worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData>' \
              "</worksheet>"
        xml = xml.encode("utf-16")
    else:
        xml = f'<worksheet xmlns="{MAIN}"><sheetData/></worksheet>'.encode()
    path = tmp_path / "book.xlsx"
    _with_sheet(base, path, xml)
    fast, reference = _both(path)
    assert fast == reference
