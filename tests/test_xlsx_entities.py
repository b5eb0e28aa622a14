"""XLSX rows whose text holds entities — character references for every non-ASCII character and ``&quot;`` in
JSON cells, as openpyxl writes inline strings; ``&amp;``, ``&lt;`` … as every program writes markup characters —
are read from the sheet's XML text like other plain rows, and must give exactly what openpyxl's read-only
``iter_rows(values_only=True)`` gives; an entity XML does not allow (an HTML name, a character XML forbids, an
upper-case ``&#X``) is left to the XML parser, which refuses the sheet as it did. A batch over such a sheet writes
the same workbook, with 1 and 2 workers, as when every such row is parsed as XML."""

from __future__ import annotations

import datetime as dt
import io
import warnings
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import skillcert
from skillcert.tabular.batch import run_batch
from skillcert.tabular.reading import _sheet_values
from skillcert_testutil import POLICIES

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _book(tmp_path: Path, rows: str, dimension: str = "") -> Path:
    """A workbook (with a date style) whose first sheet holds ``rows``."""
    base = tmp_path / "base.xlsx"
    wb = openpyxl.Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet["A1"] = dt.date(2025, 1, 1)
    wb.save(base)
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN}">{dimension}<sheetData>{rows}</sheetData></worksheet>'
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            target.writestr(name, xml.encode() if name == "xl/worksheets/sheet1.xml" else source.read(name))
    return path


def _read(path: Path, fast: bool) -> list[Any]:
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = _sheet_values(wb, wb.worksheets[0]) if fast else wb.worksheets[0].iter_rows(values_only=True)
        assert rows is not None
        return list(rows)
    finally:
        wb.close()


def _text(i: int, text: str) -> str:
    return f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>{text}</t></is></c><c r="B{i}"><v>{i}</v></c></row>'


ENTITIES = {  # text in a cell of a plain row: what the XML parser makes of it
    "character references": "&#37325;&#24198; &#x41;&#X;".replace("&#X;", "&#x42;"),
    "the five names": "a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;",
    "one pass": "&amp;lt; &amp;#65; &amp;amp; &#38;quot; &#38;#65;",
    "one pass, names only": "&amp;lt; &amp;quot; &amp;amp; &amp;",
    "a less-than as a reference": "&#60;/t&#62;&#x3C;c r=&quot;B1&quot;&gt; &lt;",
    "json as openpyxl writes it": "[&quot;4-01-05-01&quot;, &quot;4-03-02-01&quot;]",
    "beyond the basic plane": "&#128512; &#x1F600;",
    "line ends and tabs as references": "one&#13;&#10;two&#9;three&#13;",
    "leading zeros": "&#00065;&#x0042;",
    "a whole cell of one": "&amp;",
}


@pytest.mark.parametrize("text", list(ENTITIES))
def test_plain_rows_with_entities_read_as_openpyxl_reads_them(tmp_path: Path, text: str) -> None:
    rows = "".join(_text(i, f"{i} {ENTITIES[text]}" if i % 3 else f"plain {i}") for i in range(1, 60))
    rows += ('<row r="60"><c r="A60" t="b"><v>&#49;</v></c><c r="B60" t="str"><v>&lt;formula &amp; text&gt;</v></c>'
             '<c r="C60"><v>&#49;&#50;</v></c><c r="D60" s="1"><v>4500&#48;</v></c></row>')
    path = _book(tmp_path, rows)
    assert _read(path, True) == _read(path, False)


@pytest.mark.parametrize("entity", ["&nbsp;", "&#1;", "&#X41;", "&#xD800;", "&#1114112;", "a & b", "&amp", "&#;"])
def test_an_entity_xml_does_not_allow_is_refused_as_the_xml_parser_refuses_it(tmp_path: Path, entity: str) -> None:
    path = _book(tmp_path, "".join(_text(i, "x" if i != 5 else entity) for i in range(1, 10)))
    with pytest.raises(Exception):  # noqa: B017,PT011 - openpyxl's (expat's) error, whatever its class
        _read(path, False)
    with pytest.raises(Exception):  # noqa: B017,PT011
        _read(path, True)


def _readback(path: Path) -> dict[str, list[list[Any]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[(c.value, c.data_type, c.number_format) for c in row] for row in ws.iter_rows()]
            for ws in wb.worksheets}


def test_a_batch_over_rows_with_entities_is_the_same_as_with_those_rows_parsed_as_xml(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import skillcert.tabular.reading as reading

    library = skillcert.load(POLICIES)
    header = ["编号", "机构名称", "institution_kind", "registry_level", "registration_expires_on", "applied_on",
              "registered_occupations", "findings.posts_missing", "findings.no_duty_records", "备注"]
    src = tmp_path / "in.xlsx"
    wb = openpyxl.Workbook(write_only=True)  # inline strings: every non-ASCII character a character reference
    sheet = wb.create_sheet("机构")
    sheet.append(header)
    for i in range(1200):
        sheet.append([f"CQ-{i}", f"重庆某评价机构{i} & <分部>", ["social_org", "technical_school", "坏"][i % 3], "city",
                      "2025-06-30", "2025-05-20", ['["4-01-05-01"]', "[", ""][i % 3], str(i % 4), ["true", "是"][i % 2],
                      ["", "=cmd", "备注 'a' \"b\"", "&#65;"][i % 4]])
    wb.save(src)
    outputs = {}
    for plain in (True, False):
        if not plain:  # today's path before entities were read from the text: every row with one parsed as XML
            monkeypatch.setattr(reading, "_ENTITY_OTHER", reading.re.compile("&"))
        for workers in (1, 2):
            out = tmp_path / f"out-{plain}-{workers}.xlsx"
            run_batch(library, "chongqing/renewal", src, out, as_of=dt.date(2025, 5, 25), workers=workers,
                      progress=False, stderr=io.StringIO())
            outputs[plain, workers] = _readback(out)
    reference = outputs[False, 1]
    assert len(reference["结果"]) == 1201
    assert all(got == reference for got in outputs.values())


FORMS = {  # rows in the plain form, some with their cells in columns 1, 2, 3 … (read as a list), some not
    "in order, every kind": '<c r="A{i}" t="inlineStr"><is><t>x&amp;{i}</t></is></c><c r="B{i}" s="1"><v>45000</v></c>'
                            '<c r="C{i}" t="b"><v>0</v></c><c r="D{i}"><v>{i}.25</v></c><c r="E{i}"/>'
                            '<c r="F{i}" t="e"><v>#N/A</v></c><c r="G{i}" t="str"><v>s</v></c>',
    "in order, less common forms": '<c r="A{i}" t="inlineStr"><is><t xml:space="preserve"> a </t></is></c>'
                                   '<c r="B{i}"><v/></c><c r="C{i}" t="inlineStr"><is><t/></is></c>'
                                   '<c r="D{i}" t="inlineStr"></c><c r="E{i}" s="1" ><v>1</v></c>',
    "a gap": '<c r="A{i}"><v>1</v></c><c r="C{i}"><v>3</v></c>',
    "out of order": '<c r="B{i}"><v>2</v></c><c r="A{i}"><v>1</v></c>',
    "not from A": '<c r="B{i}" t="inlineStr"><is><t>b</t></is></c><c r="C{i}"><v>3</v></c>',
    "wider than the others": "".join(f'<c r="{c}{{i}}"><v>{n}</v></c>' for n, c in enumerate("ABCDEFGHIJ")),
}


@pytest.mark.parametrize("dimension", ["", '<dimension ref="A1:E29"/>', '<dimension ref="A1:L40"/>'])
@pytest.mark.parametrize("form", list(FORMS))
def test_plain_rows_in_each_form_read_as_openpyxl_reads_them(tmp_path: Path, form: str, dimension: str) -> None:
    rows = "".join(f'<row r="{i}">{FORMS[form].format(i=i) if i % 2 else FORMS["a gap"].format(i=i)}</row>'
                   for i in range(1, 30))
    path = _book(tmp_path, rows, dimension)
    assert _read(path, True) == _read(path, False)


STRINGS = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}"><si><t>编号</t></si><si><r><t>ri</t></r>'
           '<r><t>ch</t></r></si><si><t xml:space="preserve"> s </t></si></sst>')
SHAPES = [  # rows of cells in columns A, B, C …, read whole by the shape of the row before them
    '<c r="A{i}" t="s"><v>{s}</v></c><c r="B{i}" s="1"><v>4{i}000</v></c><c r="C{i}" t="b"><v>1</v></c>'
    '<c r="D{i}"><v>{i}.5</v></c><c r="E{i}" t="e"><v>#N/A</v></c><c r="F{i}"/><c r="G{i}" t="s"><v></v></c>'
    '<c r="H{i}" t="inlineStr"><is><t>t{i}</t></is></c><c r="I{i}" t="inlineStr"><v>x</v></c>'
    '<c r="J{i}" t="d"><v>2025-06-30T00:00:00</v></c><c r="K{i}" t="str"><v>&lt;s&gt;</v></c>'
    '<c r="L{i}" s="1"><v>9999999999</v></c><c r="M{i}" t="n"><is><t>odd</t></is></c>',
    '<c r="A{i}" t="s"><v>{s}</v></c><c r="B{i}"><v>{i}</v></c>',
    '<c r="A{i}" t="s"><v>{s}</v></c><c r="B{i}"><v>{i}</v></c><c r="C{i}"/>',
    '<c r="A{i}" t="s"><v>{s}</v></c><c r="B9{i}"><v>{i}</v></c>',  # a cell of another row's number
]


@pytest.mark.parametrize("order", ["runs", "alternating"])
def test_rows_read_by_the_shape_of_the_row_before_read_as_openpyxl_reads_them(tmp_path: Path, order: str) -> None:
    pick = (lambda i: SHAPES[(i // 7) % len(SHAPES)]) if order == "runs" else (lambda i: SHAPES[i % len(SHAPES)])
    rows = "".join(f'<row r="{i}">{pick(i).format(i=i, s=i % 3)}</row>' for i in range(1, 80))
    base = _book(tmp_path, rows)
    path = tmp_path / "shared.xlsx"
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            target.writestr(name, data)
        target.writestr("xl/sharedStrings.xml", STRINGS)
    said = {}
    for fast in (True, False):  # a date out of range: openpyxl's warning, naming the cell, said by both
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            said[fast] = _read(path, fast), [str(w.message) for w in caught]
    assert said[True] == said[False]
    fast = said[True][0]
    assert any(isinstance(v, dt.datetime) for row in fast for v in row) and any("rich" in row for row in fast)
    assert any(message.startswith("Cell L") for message in said[True][1])
