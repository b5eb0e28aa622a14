"""XLSX output is streamed: the result sheet's XML is written by the engine (openpyxl's per-cell objects cost about
80 µs a row), the workbook's other parts by openpyxl. The workbook must read back exactly as the one openpyxl's
write-only sheet makes of the same rows — values, types, number formats, both sheets — for every kind of cell a
result row can hold (texts with markup characters and spaces, numbers, booleans, dates, times, durations, nothing),
and a run that fails leaves no file."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from skillcert.tabular.summary import BatchSummary
from skillcert.tabular.writers import AtomicOutput, _other_parts, xlsx_rows
from skillcert_testutil import write_xlsx

POOL: list[Any] = [None, "", " ", "text", "文字", "a & b < c > d", "  spaced  ", "x" * 500, "line\nbreak", "tab\tin",
                   "\u00a0nbsp", "'=quoted", 0, 1, -7, 2.5, 64.9 + 0.000000000000001, 1e20, 10**15, True, False,
                   dt.date(2025, 6, 30), dt.datetime(2025, 6, 30, 12, 30), dt.datetime(2025, 6, 30),
                   dt.time(8, 15), dt.timedelta(days=2, hours=3)]


def _cells(path: Path) -> dict[str, list[list[Any]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[(c.value, c.data_type, c.number_format) for c in row] for row in ws.iter_rows()]
            for ws in wb.worksheets}


def test_the_streamed_workbook_reads_back_as_openpyxls(tmp_path: Path) -> None:
    rng = random.Random(12)
    columns = ["编号", "outcome", "score", "deadlines.a", "reasons", "error"]
    rows = [[rng.choice(POOL) for _ in range(rng.randint(1, 8))] for _ in range(400)]
    summary = BatchSummary(rows=400, errors=3, group_by="kind", group_label="类型")
    summary.outcomes.update({"renew": 300, "deny": 97})
    summary.by_group["甲"] = summary.outcomes.copy()
    labels = {"renew": "延续", "deny": "不予"}

    streamed = tmp_path / "streamed.xlsx"
    with AtomicOutput(streamed, columns) as output:
        for start in range(0, len(rows), 150):  # chunks, numbered as the run numbers them
            output.write(xlsx_rows(rows[start:start + 150], start + 2))
        output.commit(summary, labels)

    reference = tmp_path / "reference.xlsx"
    write_xlsx(reference, columns, rows, sheet="结果")
    got, expected = _cells(streamed), _cells(reference)
    assert got["结果"] == expected["结果"]
    (tmp_path / "parts.xlsx").write_bytes(_other_parts(summary, labels))
    assert got["汇总"] == _cells(tmp_path / "parts.xlsx")["汇总"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_failed_xlsx_run_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    with pytest.raises(RuntimeError), AtomicOutput(target, ["a"]) as output:
        output.write(xlsx_rows([["x"]], 2))
        raise RuntimeError("stopped")
    assert list(tmp_path.iterdir()) == []
