"""Writers: the output file of a batch (CSV, XLSX, JSON Lines), complete or not at all.

The output is written to a temporary file beside the target and renamed over it at the end
(:class:`AtomicOutput`), so an interrupted or failed run leaves any earlier output intact and no temporary file
behind. Writers receive chunks of rows already rendered (:mod:`.cells`) and encoded (:func:`chunk_encoder`, in
the process that evaluated them): CSV and JSON Lines the text of the chunk's lines, XLSX the XML of the chunk's
sheet rows (cells written as openpyxl writes them in a write-only sheet; the workbook's other parts are openpyxl's). CSV is written ``utf-8-sig`` so that Excel opens it with the Chinese text
intact. XLSX has two sheets: 结果 (the rows) and 汇总 (the counts of :class:`~.summary.BatchSummary`: per
outcome, then per value of the grouped input when the run groups by one).

No text written to a spreadsheet file can run as a formula: rows come rendered so (:mod:`skillcert.rows.cells`),
and the header and the summary's text cells (column names and group headings come from the input) go through
the same :func:`~skillcert.rows.cells.safe_text` / :func:`~skillcert.rows.cells.xlsx_text`.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import math
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from ..rows.cells import safe_text, xlsx_text
from .reading import format_of
from .summary import BatchSummary

__all__ = ["OUTPUT_FORMATS", "RENDERING", "output_format", "chunk_encoder", "xlsx_rows", "STYLE_ROW", "AtomicOutput"]

OUTPUT_FORMATS = (".csv", ".xlsx", ".jsonl")
RENDERING = {".csv": "csv", ".xlsx": "typed", ".jsonl": "json"}  # how rows reach each writer (see .cells)


def output_format(path: Path) -> str:
    return format_of(path, OUTPUT_FORMATS, "输出")


def _csv_text(rows: list[list[Any]], start: int = 0) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)  # None is written as an empty cell
    return buffer.getvalue()


def _jsonl_text(rows: list[str], start: int = 0) -> str:
    return "".join([f"{row}\n" for row in rows])


def _as_they_are(rows: list[Any], start: int = 0) -> list[Any]:
    return rows


def chunk_encoder(rendering: str) -> Callable[[list[Any], int], Any]:
    """What the writer of ``rendering`` takes for a chunk of rendered rows (``start``: the sheet row of the first,
    for XLSX): the CSV text of their lines (``csv``), their JSON Lines text (``json``), the XML of their sheet rows
    (``typed``, XLSX), the rows themselves (``text``)."""
    encoders: dict[str, Callable[[list[Any], int], Any]] = {"csv": _csv_text, "json": _jsonl_text,
                                                            "typed": xlsx_rows}
    return encoders.get(rendering, _as_they_are)


# --------------------------------------------------------------------------------------------------
# XLSX: the result sheet's XML written here, as openpyxl writes the cells of a write-only sheet


_LETTERS: list[str] = []  # column letters, A, B … (extended as needed)
# the date and time styles, set in this order by the first row of the workbook the other parts come from
_STYLED: dict[type, int] = {dt.date: 1, dt.datetime: 2, dt.time: 3, dt.timedelta: 4}
STYLE_ROW = [dt.date(2000, 1, 1), dt.datetime(2000, 1, 1, 1), dt.time(1), dt.timedelta(1)]


def _letters(n: int) -> list[str]:
    if len(_LETTERS) < n:
        from openpyxl.utils import get_column_letter

        _LETTERS.extend(get_column_letter(i) for i in range(len(_LETTERS) + 1, n + 1))
    return _LETTERS


def _number(value: Any) -> str:
    return "" if math.isnan(value) or math.isinf(value) else f"{value:.16g}"  # as openpyxl's safe_string ("%.16g")


def _cell_xml(ref: str, value: Any) -> str:
    """One cell as openpyxl's write-only sheet writes it (text inline, ``xml:space`` kept where it would be)."""
    kind = value.__class__
    if kind is not str:
        if kind is bool:
            return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
        if kind is int or kind is float:
            return f'<c r="{ref}" t="n"><v>{_number(value)}</v></c>'
        style = _STYLED.get(kind)
        if style is not None:
            from openpyxl.utils.datetime import to_excel

            return f'<c r="{ref}" s="{style}" t="n"><v>{_number(to_excel(value))}</v></c>'
        value = str(value)
    if not value:
        return f'<c r="{ref}" t="inlineStr"/>'
    text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") if not value.isalnum() else value
    stripped = value.strip()
    space = ' xml:space="preserve"' if stripped and stripped != value else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def xlsx_rows(rows: list[list[Any]], start: int = 2) -> str:
    """The XML of sheet rows (cells as :func:`~skillcert.rows.cells.typed_cell` gives them), the first at row
    ``start``; a cell that is None is left out."""
    letters = _letters(max(map(len, rows), default=0))
    out = []
    for n, row in enumerate(rows, start):
        out.append(f'<row r="{n}">')
        out.extend([_cell_xml(f"{letters[i]}{n}", v) for i, v in enumerate(row) if v is not None])
        out.append("</row>")
    return "".join(out)


class _Writer:
    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.columns = columns

    def write(self, chunk: Any) -> None:
        """Write a chunk of rows, as :func:`chunk_encoder` made it."""
        raise NotImplementedError

    def close(self, summary: BatchSummary | None, labels: dict[str, str]) -> None:
        """Finish the file; ``summary`` is None when the run failed (the file is then thrown away)."""
        raise NotImplementedError


class _CsvWriter(_Writer):
    def __init__(self, path: Path, columns: list[str]) -> None:
        super().__init__(path, columns)
        self.fh: TextIO = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by close()
        self.fh.write(_csv_text([[safe_text(c) for c in columns]]))

    def write(self, text: str) -> None:
        self.fh.write(text)

    def close(self, summary: BatchSummary | None, labels: dict[str, str]) -> None:
        self.fh.close()


class _JsonlWriter(_Writer):
    def __init__(self, path: Path, columns: list[str]) -> None:
        super().__init__(path, columns)
        self.fh: TextIO = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def write(self, text: str) -> None:
        self.fh.write(text)

    def close(self, summary: BatchSummary | None, labels: dict[str, str]) -> None:
        self.fh.close()


class _XlsxWriter(_Writer):
    """The workbook streamed into its ZIP file: the result sheet's rows as they come (their XML made by the
    processes that evaluated them, :func:`xlsx_rows`), every other part — the summary sheet, styles, workbook,
    properties — made by openpyxl at the end, as it always made the whole workbook."""

    _SHEET = "xl/worksheets/sheet1.xml"  # the result sheet, the workbook's first

    def __init__(self, path: Path, columns: list[str]) -> None:
        super().__init__(path, columns)
        head, self.tail = self._frame()
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=_LEVEL)
        try:
            self.sheet: Any = self.zip.open(self._SHEET, "w", force_zip64=True)
            self.sheet.write((head + xlsx_rows([[xlsx_text(c) for c in columns]], 1)).encode())
        except BaseException:
            self.zip.close()
            raise

    @staticmethod
    def _frame() -> tuple[str, str]:
        """The result sheet's XML before and after its rows, as openpyxl writes a write-only sheet."""
        import openpyxl

        wb = openpyxl.Workbook(write_only=True)
        wb.create_sheet("结果")
        buffer = io.BytesIO()
        wb.save(buffer)
        with zipfile.ZipFile(buffer) as book:
            xml = book.read(_XlsxWriter._SHEET).decode()
        head, rest = xml.split("<sheetData", 1)
        tail = rest.split("</sheetData>", 1)[1] if "</sheetData>" in rest else rest.split("/>", 1)[1]
        return head + "<sheetData>", "</sheetData>" + tail

    def write(self, xml: str) -> None:
        self.sheet.write(xml.encode())

    def close(self, summary: BatchSummary | None, labels: dict[str, str]) -> None:
        if summary is None:  # nothing to save: the temporary file is removed
            with contextlib.suppress(Exception):
                self.sheet.close()
            with contextlib.suppress(Exception):
                self.zip.close()
            return
        self.sheet.write(self.tail.encode())
        self.sheet.close()
        with self.zip, zipfile.ZipFile(io.BytesIO(_other_parts(summary, labels))) as parts:
            for info in parts.infolist():
                if info.filename != self._SHEET:
                    self.zip.writestr(info, parts.read(info))


_LEVEL = 1  # deflate level of the streamed sheet: its rows are most of the work, level 1 a fraction of 6's time


def _other_parts(summary: BatchSummary, labels: dict[str, str]) -> bytes:
    """The workbook's parts made by openpyxl: the summary sheet (汇总), and a result sheet whose only row sets the
    date and time styles the streamed rows refer to (the sheet itself is replaced by the streamed one)."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    wb.create_sheet("结果").append(STYLE_ROW)
    sheet = wb.create_sheet("汇总")

    def append(cells: list[Any]) -> None:
        sheet.append([xlsx_text(c) if isinstance(c, str) else c for c in cells])

    append(["结论", "结论名称", "行数"])
    for code, n in sorted(summary.outcomes.items(), key=lambda kv: -kv[1]):
        append([code, labels.get(code, ""), n])
    if summary.errors:
        append(["(错误)", "有错误,未能评估", summary.errors])
    append(["合计", "", summary.rows])
    if summary.by_group:
        codes = sorted(summary.outcomes)
        append([])
        append([summary.group_label, *[labels.get(c, c) for c in codes], "合计"])
        for g in sorted(summary.by_group, key=lambda g: (g is None, str(g))):
            counts = summary.by_group[g]
            append([g, *[counts.get(c, 0) for c in codes], sum(counts.values())])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


_WRITERS: dict[str, Callable[[Path, list[str]], _Writer]] = {
    ".csv": _CsvWriter, ".jsonl": _JsonlWriter, ".xlsx": _XlsxWriter}


class AtomicOutput:
    """The output file, written under a temporary name and renamed over ``path`` by :meth:`commit`.

    Used as a context manager: leaving it without a commit (an error, an interrupt) removes the temporary file
    and leaves ``path`` as it was.
    """

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.writer = _WRITERS[output_format(path)](self.tmp, columns)
        self.write: Callable[[Any], Any] = self.writer.write
        self._done = False

    def commit(self, summary: BatchSummary, labels: dict[str, str]) -> None:
        """Finish the file (with its summary, for XLSX; ``labels``: outcome code → label) and put it in place."""
        self.writer.close(summary, labels)
        os.replace(self.tmp, self.path)
        self._done = True

    def __enter__(self) -> AtomicOutput:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._done:
            with contextlib.suppress(Exception):  # the original error matters, not a failure to close
                self.writer.close(None, {})
            self.tmp.unlink(missing_ok=True)
