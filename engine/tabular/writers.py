"""Writers: the output file of a batch (CSV, XLSX, JSON Lines), complete or not at all.

The output is written to a temporary file beside the target and renamed over it at the end
(:class:`AtomicOutput`), so an interrupted or failed run leaves any earlier output intact and no temporary file
behind. Writers receive chunks of rows already rendered (:mod:`.cells`) and encoded (:func:`chunk_encoder`, in
the process that evaluated them): CSV and JSON Lines the text of the chunk's lines, XLSX a list of rows of cells in
column order. CSV is written ``utf-8-sig`` so that Excel opens it with the Chinese text
intact. XLSX has two sheets: 结果 (the rows) and 汇总 (the counts of :class:`~.summary.BatchSummary`: per
outcome, then per value of the grouped input when the run groups by one).

No text written to a spreadsheet file can run as a formula: rows come rendered so (:mod:`skillcert.rows.cells`),
and the header and the summary's text cells (column names and group headings come from the input) go through
the same :func:`~skillcert.rows.cells.safe_text` / :func:`~skillcert.rows.cells.xlsx_text`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from ..rows.cells import safe_text, xlsx_text
from .reading import format_of
from .summary import BatchSummary

__all__ = ["OUTPUT_FORMATS", "RENDERING", "output_format", "chunk_encoder", "AtomicOutput"]

OUTPUT_FORMATS = (".csv", ".xlsx", ".jsonl")
RENDERING = {".csv": "csv", ".xlsx": "typed", ".jsonl": "json"}  # how rows reach each writer (see .cells)


def output_format(path: Path) -> str:
    return format_of(path, OUTPUT_FORMATS, "输出")


def _csv_text(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)  # None is written as an empty cell
    return buffer.getvalue()


def _jsonl_text(rows: list[str]) -> str:
    return "".join([f"{row}\n" for row in rows])


def _as_they_are(rows: list[Any]) -> list[Any]:
    return rows


def chunk_encoder(rendering: str) -> Callable[[list[Any]], Any]:
    """What the writer of ``rendering`` takes for a chunk of rendered rows: the CSV text of their lines (``csv``),
    their JSON Lines text (``json``), the rows themselves (``typed`` for XLSX, ``text``)."""
    encoders: dict[str, Callable[[list[Any]], Any]] = {"csv": _csv_text, "json": _jsonl_text}
    return encoders.get(rendering, _as_they_are)


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
    def __init__(self, path: Path, columns: list[str]) -> None:
        super().__init__(path, columns)
        import openpyxl

        open(path, "wb").close()  # noqa: SIM115 - can the file be written? Said now, before any row
        self.wb = openpyxl.Workbook(write_only=True)
        self.sheet = self.wb.create_sheet("结果")
        self.sheet.append([xlsx_text(c) for c in columns])

    def write(self, rows: list[list[Any]]) -> None:
        append = self.sheet.append
        for row in rows:
            append(row)

    def close(self, summary: BatchSummary | None, labels: dict[str, str]) -> None:
        if summary is None:  # nothing to save: the temporary file is removed, and openpyxl's own
            for ws in self.wb.worksheets:
                writer = getattr(ws, "_writer", None)
                if writer is not None:
                    with contextlib.suppress(Exception):
                        writer.close()
                        writer.cleanup()
            return
        sheet = self.wb.create_sheet("汇总")

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
        self.wb.save(self.path)


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
