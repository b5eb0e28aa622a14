"""Reading rows: the input files of a batch (CSV, XLSX, JSON Lines, YAML list) as a header and raw rows.

A raw row is a mapping from column (or key) to cell, as the file has it: text for CSV, spreadsheet values for
XLSX, JSON values for JSON Lines, YAML values for a YAML list. Nothing here knows about decisions: which column
is which input is :mod:`.columns`' business. Rows stream through (a YAML list is the exception: YAML is read
whole). A line or item that is not a row becomes ``{ERROR_KEY: message}``, so that the error lands in its own
output row and the run goes on.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..rows.columns import ERROR_KEY

__all__ = ["INPUT_FORMATS", "ERROR_KEY", "read_rows", "count_rows", "format_of"]

INPUT_FORMATS = (".csv", ".xlsx", ".jsonl", ".yaml", ".yml")


def format_of(path: Path, allowed: tuple[str, ...], what: str) -> str:
    """The format of a file by its extension, one of ``allowed``; ``what`` says which file (输入/输出)."""
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise UsageError(f"{what}文件 {path} 的格式不受支持:按扩展名识别,可用 {'、'.join(allowed)}")
    return suffix


def read_rows(path: str | Path) -> tuple[list[str] | None, Iterator[dict[str, Any]]]:
    """The header (None for JSONL/YAML) and an iterator over the rows of an input file, as raw mappings."""
    p = Path(path)
    fmt = format_of(p, INPUT_FORMATS, "输入")
    if not p.is_file():
        raise UsageError(f"输入文件不存在:{p}")
    if fmt == ".csv":
        return _csv_rows(p)
    if fmt == ".xlsx":
        return _xlsx_rows(p)
    if fmt == ".jsonl":
        return None, _jsonl_rows(p)
    return None, _yaml_rows(p)


def _csv_rows(p: Path) -> tuple[list[str], Iterator[dict[str, Any]]]:
    fh = open(p, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the generator
    reader = csv.reader(fh)
    header = next(reader, None)
    if header is None:
        fh.close()
        return [], iter(())
    names = [h.strip() for h in header]

    def rows() -> Iterator[dict[str, Any]]:
        with fh:
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                yield dict(zip(names, values, strict=False))
    return names, rows()


def _xlsx_rows(p: Path) -> tuple[list[str], Iterator[dict[str, Any]]]:
    import openpyxl

    wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    sheet = wb.worksheets[0]
    values_iter = sheet.iter_rows(values_only=True)
    first = next(values_iter, None)
    if first is None:
        wb.close()
        return [], iter(())
    header = ["" if h is None else str(h).strip() for h in first]

    def rows() -> Iterator[dict[str, Any]]:
        try:
            for values in values_iter:
                if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                    continue
                yield {h: v for h, v in zip(header, values, strict=False) if h}
        finally:
            wb.close()
    return [h for h in header if h], rows()


def _jsonl_rows(p: Path) -> Iterator[dict[str, Any]]:
    with open(p, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line, parse_float=Decimal)
            except json.JSONDecodeError as exc:
                yield {ERROR_KEY: f"第 {n} 行不是有效的 JSON:{exc.msg}"}
                continue
            yield value if isinstance(value, dict) else {ERROR_KEY: f"第 {n} 行应是一个 JSON 对象"}


def _yaml_rows(p: Path) -> Iterator[dict[str, Any]]:
    from ..source.loader import load_file

    doc = load_file(p)
    if not isinstance(doc.data, list):
        raise UsageError(f"{p}:YAML 输入应是一个列表,每项是一行的事实(一个映射)")
    return iter(item if isinstance(item, dict) else {ERROR_KEY: "这一项应是一个映射"} for item in doc.data)


def count_rows(path: Path) -> int | None:
    """Rows to expect, for the progress bar's time left (only computed when a terminal shows it)."""
    try:
        if path.suffix.lower() in (".csv", ".jsonl"):
            with open(path, "rb") as fh:
                n = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
            return max(n - (1 if path.suffix.lower() == ".csv" else 0), 0)
        if path.suffix.lower() == ".xlsx":
            import openpyxl

            wb = openpyxl.load_workbook(path, read_only=True)
            n = max((wb.worksheets[0].max_row or 1) - 1, 0)
            wb.close()
            return n
    except OSError:
        return None
    return None
