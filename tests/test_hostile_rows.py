"""Hostile and messy input to `skillcert batch`, `evaluate_many` and the Dask adapter: no internal error, no lost
batch, no silent wrong score, no runaway. One test per family of trouble, named after the behaviour:

* columns: labels at every level, ambiguity refused, each column said (matched or carried), no input → exit 2,
  a title row skipped, duplicates and cells beyond the header refused;
* one bad row never loses the batch (an unexpected exception is that row's error, in workers too);
* text and files: GBK, undecodable text, control characters, cells and lines and headers over their limits,
  corrupt XLSX, a folder, deep JSON, output paths checked before any row;
* SIGTERM leaves no temporary file and no worker;
* workers bounded by cores and rows;
* output that would attack its reader (formulas) is neutralised; no input writes a result column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import skillcert
import skillcert_testplugin
from skillcert import FunctionSpec, plugins
from skillcert.rows import limits
from skillcert.tabular import pool
from skillcert.tabular.batch import run_batch
from skillcert_testutil import PACKS, PLUGIN_PACKS, POLICIES, ROOT, pack_variant, read_csv, run_cli, write_csv

AS_OF = "2023-09-20"
SX = "shanxi/evaluation"
HEADER = ["机构编号", "institution_kind", "registry_level", "registered_on", "assessment_dates", "evaluation_on",
          "evaluation_result"]
ROW = ["SX-1", "social_org", "city", "2020-05-10", '["2020-09-01", "2021-03-15"]', "2023-09-15", "pass"]

CQ = "chongqing/renewal"
CQ_AS_OF = "2025-05-25"
CQ_HEADER = ["id", "institution_kind", "registry_level", "registration_expires_on", "applied_on",
             "registered_occupations"]
CQ_ROW = ["CQ-1", "social_org", "city", "2025-06-30", "2025-05-20", '["4-01-05-01"]']


def xlsx_rows(path: Path) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(path)["结果"].iter_rows(values_only=True))


def batch(args: list[str]) -> tuple[int, str]:
    code, out, err = run_cli(["batch", *args])
    assert "internal-error" not in err and "Traceback" not in err, err
    return code, err


def sx(src: Path, out: Path) -> tuple[int, str]:
    return batch([SX, str(src), "-o", str(out), "--as-of", AS_OF])


def cq(src: Path, out: Path) -> tuple[int, str]:
    return batch([CQ, str(src), "-o", str(out), "--as-of", CQ_AS_OF])


# ---------------------------------------------------------------------------------------------------------------
# 1. Columns: no silent wrong result


def test_a_nested_field_label_alone_heads_its_column_so_the_finding_is_never_dropped(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", [*CQ_HEADER, "缺少的岗位及人员数"],
                    [[*CQ_ROW, "两个"], ["CQ-2", *CQ_ROW[1:], "2"], ["CQ-3", *CQ_ROW[1:], ""]])
    code, err = cq(src, tmp_path / "out.csv")
    assert code == 1, err
    rows = read_csv(tmp_path / "out.csv")
    assert "缺少的岗位及人员数" not in rows[0]  # an input, not a carried id column
    assert rows[0]["outcome"] == "" and "findings.posts_missing(缺少的岗位及人员数) 应是整数" in rows[0]["error"]
    assert rows[1]["score"] != rows[2]["score"]  # two posts missing cost points; an empty cell is no finding
    assert "缺少的岗位及人员数 → findings.posts_missing" in err


@pytest.mark.parametrize("column", [
    "延续备案评估发现的问题.缺少的岗位及人员数",
    "延续备案评估发现的问题·缺少的岗位及人员数",
    "延续备案评估发现的问题・缺少的岗位及人员数",
    "延续备案评估发现的问题 ． 缺少的岗位及人员数",
    "延续备案评估发现的问题/缺少的岗位及人员数",
    "findings.缺少的岗位及人员数",
    "延续备案评估发现的问题.posts_missing",
    "Findings.Posts_Missing",
    "posts_missing",
])
def test_a_field_is_recognised_by_any_mix_of_names_and_labels_at_every_level(tmp_path: Path, column: str) -> None:
    src = write_csv(tmp_path / "in.csv", [*CQ_HEADER, column], [[*CQ_ROW, "two"]])
    code, err = cq(src, tmp_path / "out.csv")
    assert code == 1, err
    assert "findings.posts_missing(缺少的岗位及人员数) 应是整数" in read_csv(tmp_path / "out.csv")[0]["error"]


def test_a_label_that_could_mean_two_inputs_is_refused_naming_both(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    pack_variant(packs, PACKS / "mini", "twin", [("label: 发表论文数", "label: 备注")])
    src = write_csv(tmp_path / "in.csv", ["kind", "expires_on", "applied_on", "备注"],
                    [["org", "2025-06-30", "2025-05-20", "x"]])
    code, _, err = run_cli(["--policies", str(packs), "batch", "twin/check", str(src), "-o",
                            str(tmp_path / "out.csv"), "--as-of", "2025-05-25"])
    assert code == 2 and "column-ambiguous" in err and "note(备注)" in err and "findings.papers" in err, err
    assert not (tmp_path / "out.csv").exists()
    # the Python API: the row that uses the ambiguous key carries the error, the others are evaluated
    library = skillcert.load(packs)
    facts = {"kind": "org", "expires_on": "2025-06-30", "applied_on": "2025-05-20"}
    out = list(library.evaluate_many("twin/check", [{**facts, "备注": "x"}, facts], as_of=dt.date(2025, 5, 25)))
    assert out[0]["error"].startswith("column-ambiguous:") and out[1]["error"] is None


@pytest.mark.parametrize(("column", "fragment"), [
    ("评估发现.缺少的岗位及人员数", "'findings' 或 '延续备案评估发现的问题'"),
    ("findings.posts_misng", "did you mean 'posts_missing'"),
    ("延续备案评估发现的问题.缺少岗位", "没有字段"),
])
def test_a_column_that_looks_like_an_input_but_names_none_is_refused(tmp_path: Path, column: str,
                                                                    fragment: str) -> None:
    src = write_csv(tmp_path / "in.csv", [*CQ_HEADER, column], [[*CQ_ROW, "2"]])
    code, err = cq(src, tmp_path / "out.csv")
    assert code == 2 and "column-unknown" in err and fragment in err, err
    assert f"in.csv:1:{len(CQ_HEADER) + 1}:" in err  # the header cell's position
    assert not (tmp_path / "out.csv").exists()


def test_stderr_says_which_column_is_which_input_and_warns_about_each_carried_one(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", ["编号", "机构类型", *HEADER[2:], "registred_on"], [[*ROW, "x"]])
    code, err = sx(src, tmp_path / "out.csv")
    assert code == 0, err
    assert "按 UTF-8 编码读取" in err
    assert "机构类型 → institution_kind" in err and "registry_level" in err
    assert "注意:列 '编号' 不是决定 shanxi/evaluation 的输入,原样带到输出" in err
    assert "注意:列 'registred_on'" in err and "did you mean 'registered_on'" in err
    assert list(read_csv(tmp_path / "out.csv")[0])[:2] == ["编号", "registred_on"]


def test_a_header_without_any_input_exits_2_saying_where_the_header_must_be(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", ["编号", "名称"], [["1", "甲"]])
    code, err = sx(src, tmp_path / "out.csv")
    assert code == 2 and "no-input-columns" in err and "表头应在第一行" in err, err
    assert not (tmp_path / "out.csv").exists()
    # a title row above a header further down than the rows searched
    titled = write_csv(tmp_path / "titled.csv", ["名单"], [[f"说明 {i}"] for i in range(12)] + [HEADER, ROW])
    code, err = sx(titled, tmp_path / "out.csv")
    assert code == 2 and f"前 {limits.HEADER_SEARCH_ROWS} 个非空行都不像表头" in err, err


def test_a_title_row_above_the_header_is_skipped_and_said(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", ["2023 年评估名单"], [[], HEADER, ROW])
    code, err = sx(src, tmp_path / "out.csv")
    assert code == 0, err
    assert "表头在第 3 行" in err
    assert [r["机构编号"] for r in read_csv(tmp_path / "out.csv")] == ["SX-1"]
    wb = openpyxl.Workbook()
    ws = wb.active
    for values in (["2023 年评估名单"], HEADER, ROW):
        ws.append(values)
    wb.save(tmp_path / "in.xlsx")
    code, err = sx(tmp_path / "in.xlsx", tmp_path / "out.xlsx")
    assert code == 0 and "表头在第 2 行" in err, err
    assert [r[0] for r in xlsx_rows(tmp_path / "out.xlsx")] == ["机构编号", "SX-1"]


@pytest.mark.parametrize(("extra", "cell", "fragment"), [
    ("registry_level", "province", "列名 'registry_level' 出现了不止一次"),
    ("备案层级", "省级以上", "都是输入 registry_level(备案层级)"),
    ("机构编号", "again", "列名 '机构编号' 出现了不止一次"),
])
def test_a_duplicated_column_exits_2_instead_of_the_last_one_winning(tmp_path: Path, extra: str, cell: str,
                                                                    fragment: str) -> None:
    src = write_csv(tmp_path / "in.csv", [*HEADER, extra], [[*ROW, cell]])
    code, err = sx(src, tmp_path / "out.csv")
    assert code == 2 and "column-duplicate" in err and fragment in err, err
    assert not (tmp_path / "out.csv").exists()


def test_a_record_column_and_one_of_its_fields_together_exit_2(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", [*CQ_HEADER, "findings", "findings.posts_missing"],
                    [[*CQ_ROW, '{"posts_missing": 1}', "2"]])
    code, err = cq(src, tmp_path / "out.csv")
    assert code == 2 and "column-overlap" in err, err


def test_cells_beyond_the_header_are_their_rows_error_not_dropped(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", HEADER, [[*ROW, "surplus"], ["SX-2", *ROW[1:], ""], ["SX-3", *ROW[1:]]])
    code, err = sx(src, tmp_path / "out.csv")
    assert code == 1, err
    rows = read_csv(tmp_path / "out.csv")
    assert [r["机构编号"] for r in rows] == ["SX-1", "SX-2", "SX-3"]  # the row keeps its id
    assert rows[0]["error"].startswith("row-extra-cells: 第 2 行在第 8 列有值") and rows[0]["outcome"] == ""
    assert rows[1]["error"] == "" and rows[2]["error"] == ""  # an empty cell beyond the header loses nothing
    # a cell under a column without a name, in XLSX
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([*HEADER[:2], None, *HEADER[2:]])
    ws.append([*ROW[:2], "what is this", *ROW[2:]])
    wb.save(tmp_path / "in.xlsx")
    code, err = sx(tmp_path / "in.xlsx", tmp_path / "out.xlsx")
    assert code == 1, err
    assert xlsx_rows(tmp_path / "out.xlsx")[1][-1].startswith("row-extra-cells: 第 2 行在第 3 列有值")


def test_a_json_lines_key_outside_the_first_rows_columns_is_its_rows_error(tmp_path: Path) -> None:
    facts = dict(zip(HEADER[1:], ROW[1:], strict=True))
    facts["assessment_dates"] = json.loads(ROW[4])
    lines = [{"id": "a", **facts}, {"id": "b", "registred_on": "2020-05-10", **facts}, {"id": "c", **facts}]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    code, err = sx(tmp_path / "in.jsonl", tmp_path / "out.csv")
    assert code == 1, err
    rows = read_csv(tmp_path / "out.csv")
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert rows[1]["error"].startswith("row-unknown-column:") and "'registred_on'" in rows[1]["error"]
    assert rows[0]["error"] == rows[2]["error"] == ""


def test_evaluate_many_recognises_labels_at_every_level(tmp_path: Path) -> None:
    library = skillcert.load(POLICIES)
    facts = dict(zip(CQ_HEADER[1:], CQ_ROW[1:], strict=True))
    rows = [{**facts, "延续备案评估发现的问题·缺少的岗位及人员数": "2"}, {**facts, "缺少的岗位及人员数": 2}, facts]
    out = list(library.evaluate_many(CQ, rows, as_of=dt.date(2025, 5, 25)))
    assert out[0]["score"] == out[1]["score"] != out[2]["score"]
    assert not any(key.startswith(("延续", "缺少")) for key in out[0])  # inputs, not carried keys
    both = {**facts, "findings.posts_missing": 1, "缺少的岗位及人员数": 2}
    [twice] = library.evaluate_many(CQ, [both], as_of=dt.date(2025, 5, 25))
    assert twice["error"].startswith("column-duplicate:")


def test_a_dask_frames_columns_are_checked_on_the_client() -> None:
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from skillcert.tabular.dask import UnmatchedColumnWarning, evaluate_dataframe

    frame = dd.from_pandas(pd.DataFrame([[*ROW, "x"]], columns=[*HEADER, "备注"]), npartitions=1)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = evaluate_dataframe(frame, SX, policies=POLICIES, as_of=dt.date(2023, 9, 20))
    assert [str(w.message).split(" 不是")[0] for w in seen if w.category is UnmatchedColumnWarning] == \
        ["列 '机构编号'", "列 '备注'"]
    assert list(result.columns)[:3] == ["机构编号", "备注", "outcome"]
    duplicated = dd.from_pandas(pd.DataFrame([[*ROW, "市级"]], columns=[*HEADER, "备案层级"]), npartitions=1)
    with pytest.raises(skillcert.UsageError) as caught, warnings.catch_warnings():
        warnings.simplefilter("ignore", UnmatchedColumnWarning)
        evaluate_dataframe(duplicated, SX, policies=POLICIES, as_of=dt.date(2023, 9, 20))
    assert caught.value.code == "column-duplicate"
    nothing = dd.from_pandas(pd.DataFrame([["1"]], columns=["编号"]), npartitions=1)
    with pytest.raises(skillcert.UsageError) as caught:
        evaluate_dataframe(nothing, SX, policies=POLICIES, as_of=dt.date(2023, 9, 20))
    assert caught.value.code == "no-input-columns"


# ---------------------------------------------------------------------------------------------------------------
# 2. One bad row never loses the batch


def test_an_unexpected_exception_in_one_row_is_that_rows_error_and_the_run_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import skillcert.rows.cells
    import skillcert.rows.columns

    src = write_csv(tmp_path / "in.csv", HEADER, [[f"SX-{i}", *ROW[1:]] for i in range(5)])
    library = skillcert.load(POLICIES)
    real_evaluate, real_facts, real_text = library.evaluate, skillcert.rows.columns.HeaderRows.facts, \
        skillcert.rows.cells.text_cell
    real_checked = skillcert.rows.columns.HeaderRows.checked
    ids = iter(range(5))

    def evaluate(*args: Any, **kwargs: Any) -> Any:
        if next(ids) == 1:
            raise ValueError("evaluation broke")
        return real_evaluate(*args, **kwargs)

    def facts(rows: Any, cells: list[Any]) -> Any:  # a file's rows go through the columns compiled once
        if "SX-3" in cells:
            raise KeyError("conversion broke")
        return real_facts(rows, cells)

    def checked(rows: Any, cells: list[Any]) -> Any:  # the checked facts of the columns: the same break
        if "SX-3" in cells:
            raise KeyError("conversion broke")
        return real_checked(rows, cells)

    def text_cell(value: Any) -> Any:
        if value == "SX-4":
            raise TypeError("rendering broke")
        return real_text(value)

    monkeypatch.setattr(library, "evaluate", evaluate)
    monkeypatch.setattr(skillcert.rows.columns.HeaderRows, "facts", facts)
    monkeypatch.setattr(skillcert.rows.columns.HeaderRows, "checked", checked)
    monkeypatch.setattr(skillcert.rows.cells, "text_cell", text_cell)
    summary = run_batch(library, SX, src, tmp_path / "out.csv", as_of=dt.date(2023, 9, 20), progress=False,
                        stderr=io.StringIO())
    assert summary.rows == 5 and summary.errors == 3
    monkeypatch.undo()
    rows = read_csv(tmp_path / "out.csv")
    assert [r["outcome"] for r in rows] == ["terminate", "", "terminate", "", ""]
    assert rows[1]["error"] == "row-failed: 这一行未能处理(ValueError: evaluation broke)"
    assert rows[1]["机构编号"] == "SX-1" and rows[3]["机构编号"] == "SX-3"  # ids kept
    assert rows[3]["error"].startswith("row-failed:") and "conversion broke" in rows[3]["error"]
    assert rows[4]["error"].startswith("row-failed:") and "rendering broke" in rows[4]["error"]


class _Unprintable(int):
    def __format__(self, spec: str) -> str:
        raise RuntimeError("cannot be printed")

    def __str__(self) -> str:
        raise RuntimeError("cannot be printed")


def _bad_double(n: int) -> int:
    return _Unprintable(n * 2) if n == 3 else n * 2


class BrokenPlugin:
    """A plugin whose ``double(3)`` gives a number that cannot be printed in a message: a bug outside the engine."""

    @plugins.hookimpl
    def skillcert_expr_functions(self) -> list[FunctionSpec]:
        return [FunctionSpec("double", _bad_double, ("integer",), "integer", "double(n):测试")]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_row_that_breaks_in_a_worker_process_is_that_rows_error(tmp_path: Path, workers: int) -> None:
    pm = plugins.new_plugin_manager(extra=[skillcert_testplugin, BrokenPlugin()], entry_points=False)
    library = skillcert.load(PLUGIN_PACKS, pm=pm)
    src = write_csv(tmp_path / "in.csv", ["编号", "applied_on", "defects"],
                    [[f"P-{i}", "2031-05-20", str(i % 5)] for i in range(1200)])
    summary = run_batch(library, "plugged/renewal", src, tmp_path / "out.csv", as_of=dt.date(2031, 5, 25),
                        workers=workers, progress=False, stderr=io.StringIO())
    assert summary.rows == 1200 and summary.errors == 240
    rows = read_csv(tmp_path / "out.csv")
    assert rows[3]["编号"] == "P-3" and rows[3]["error"] and "cannot be printed" in rows[3]["error"]
    assert rows[4]["outcome"] == "deny" and rows[4]["error"] == ""


# ---------------------------------------------------------------------------------------------------------------
# 3. Text and files


def test_a_gbk_csv_is_read_and_the_encoding_said(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", HEADER, [["编号甲", *ROW[1:]]], encoding="gbk")
    code, err = sx(src, tmp_path / "out.csv")
    assert code == 0 and "按 GB18030(含 GBK) 编码读取" in err, err
    assert read_csv(tmp_path / "out.csv")[0]["机构编号"] == "编号甲"


@pytest.mark.parametrize("content", [b"\x81\xff\xfe\x00" * 50, b"\xff\xfei\x00d\x00"])
def test_text_that_is_neither_utf8_nor_gb18030_exits_2_asking_for_utf8(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "in.csv").write_bytes(content)
    code, err = sx(tmp_path / "in.csv", tmp_path / "out.csv")
    assert code == 2 and "encoding-unknown" in err and "请另存为 UTF-8 CSV 或 XLSX" in err, err


def test_control_characters_bound_for_an_xlsx_cell_are_neutralised(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", [*HEADER, "备注"], [[*ROW, "a\x00b\x1b[31mc\x07"]])
    code, err = sx(src, tmp_path / "out.xlsx")
    assert code == 0, err
    [_, row] = xlsx_rows(tmp_path / "out.xlsx")
    assert row[1] == "a\ufffdb\ufffd[31mc\ufffd"


def test_cells_and_lines_over_their_limits_are_their_rows_error_in_bounded_memory(tmp_path: Path) -> None:
    long_cell = "x" * (limits.MAX_CELL_CHARS + 1)
    with open(tmp_path / "in.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*HEADER, "备注"])
        w.writerow([*ROW, long_cell])
        fh.write("SX-2," + "y" * (limits.MAX_LINE_CHARS + 10) + ",city\n")
        fh.write('SX-3,"' + 'z""' * (limits.MAX_LINE_CHARS // 3 + 10) + '",city\n')
        w.writerow(["SX-4", *ROW[1:], "fine"])
    code, err = sx(tmp_path / "in.csv", tmp_path / "out.csv")
    assert code == 1, err
    rows = read_csv(tmp_path / "out.csv")
    assert [r["机构编号"] for r in rows] == ["SX-1", "", "", "SX-4"]
    assert rows[0]["error"].startswith("cell-too-long: 第 2 行 '备注' 的单元格超过") and rows[0]["备注"] == ""
    assert rows[1]["error"].startswith("row-too-long: 第 3 行超过") and rows[2]["error"].startswith("row-too-long")
    assert rows[3]["outcome"] == "terminate" and rows[3]["备注"] == "fine"
    # a cell too long made of short lines (a quoted cell with line breaks), in a file of short lines
    lines = ("a" * 99 + "\n") * (limits.MAX_CELL_CHARS // 100 + 1)
    src = write_csv(tmp_path / "lines.csv", [*HEADER, "备注"], [[*ROW, lines], ["SX-2", *ROW[1:], "a\nb"]])
    code, err = sx(src, tmp_path / "out.csv")
    assert code == 1, err
    rows = read_csv(tmp_path / "out.csv")
    assert rows[0]["error"].startswith("cell-too-long") and rows[1]["备注"] == "a\nb" and rows[1]["error"] == ""


_PEAK_MEMORY = """
import sys
from skillcert.cli import run
code = run(sys.argv[1:])
peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")][0].split()[1]
print(code, peak)
"""


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads the peak memory from /proc (Linux)")
def test_a_cell_of_a_hundred_megabytes_is_read_past_without_holding_it(tmp_path: Path) -> None:
    with open(tmp_path / "in.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow(HEADER)
        fh.write("BIG,")
        chunk = "x" * (1 << 20)
        for _ in range(100):
            fh.write(chunk)
        fh.write(",city\n")
        csv.writer(fh).writerow(ROW)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", _PEAK_MEMORY, "batch", SX, str(tmp_path / "in.csv"), "-o",
                           str(tmp_path / "out.csv"), "--as-of", AS_OF], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert time.monotonic() - started < 60
    code, peak_kib = map(int, done.stdout.split())
    assert code == 1, done.stderr
    assert peak_kib < 200 * 1024, peak_kib  # the 100 MB line is never held
    rows = read_csv(tmp_path / "out.csv")
    assert rows[0]["error"].startswith("row-too-long") and rows[1]["outcome"] == "terminate"


def test_a_header_cell_or_a_header_over_its_limits_exits_2(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", [*HEADER, "h" * 200_000], [ROW])
    code, err = sx(src, tmp_path / "out.csv")
    assert code == 2 and "header-too-long" in err and "200000" in err and "in.csv:1:8" in err, err
    src = write_csv(tmp_path / "wide.csv", [*HEADER, *(f"c{i}" for i in range(limits.MAX_COLUMNS))], [ROW])
    code, err = sx(src, tmp_path / "out.csv")
    assert code == 2 and "too-many-columns" in err, err


@pytest.mark.parametrize("kind", ["renamed-csv", "truncated", "old-xls", "empty"])
def test_a_renamed_or_corrupt_xlsx_exits_2_with_a_code(tmp_path: Path, kind: str) -> None:
    src = tmp_path / "in.xlsx"
    if kind == "renamed-csv":
        write_csv(src, HEADER, [ROW])
    elif kind == "truncated":
        wb = openpyxl.Workbook()
        wb.active.append(HEADER)
        wb.save(src)
        src.write_bytes(src.read_bytes()[:300])
    elif kind == "old-xls":
        src.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    else:
        src.write_bytes(b"")
    code, err = sx(src, tmp_path / "out.csv")
    assert code == 2 and "xlsx-invalid" in err and "in.xlsx" in err, err
    assert not (tmp_path / "out.csv").exists()


def test_a_folder_given_as_input_exits_2(tmp_path: Path) -> None:
    (tmp_path / "in.csv").mkdir()
    with pytest.raises(skillcert.UsageError, match="是一个目录"):
        run_batch(skillcert.load(POLICIES), SX, tmp_path / "in.csv", tmp_path / "out.csv", progress=False)
    code, err = sx(tmp_path / "in.csv", tmp_path / "out.csv")
    assert code == 2 and "是一个目录" in err


def test_deep_json_in_a_cell_or_a_line_is_its_rows_error(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    deeper_than_the_limit = "[" * (limits.MAX_JSON_DEPTH + 1) + "]" * (limits.MAX_JSON_DEPTH + 1)
    src = write_csv(tmp_path / "in.csv", HEADER, [["D1", *ROW[1:4], deep[:30_000], *ROW[5:]],
                                                 ["D2", *ROW[1:4], deeper_than_the_limit, *ROW[5:]], ROW])
    code, err = sx(src, tmp_path / "out.csv")
    assert code == 1, err
    rows = read_csv(tmp_path / "out.csv")
    assert [r["机构编号"] for r in rows] == ["D1", "D2", "SX-1"]
    assert rows[0]["error"].startswith("cell-too-deep: assessment_dates(") and rows[1]["error"].startswith("cell-too-deep")
    (tmp_path / "in.jsonl").write_text('{"a": ' + deep + "}\n" + json.dumps(dict(zip(HEADER, ROW, strict=True)))
                                       + "\n", encoding="utf-8")
    code, err = sx(tmp_path / "in.jsonl", tmp_path / "out.csv")
    assert code == 1, err
    rows = read_csv(tmp_path / "out.csv")
    assert rows[0]["error"].startswith("row-too-deep: 第 1 行") and rows[1]["outcome"] == "terminate"


@pytest.mark.parametrize(("output", "fragment"), [
    ("missing/out.csv", "不存在"),
    ("folder.csv", "是一个目录"),
    ("in.csv/out.csv", "不是目录"),
    ("/proc/out.xlsx", "无法写入输出文件"),
])
def test_output_problems_are_refused_by_run_batch_before_any_row(tmp_path: Path, output: str,
                                                                 fragment: str) -> None:
    if output.startswith("/proc") and not Path("/proc/self").is_dir():
        pytest.skip("needs a folder no one can write in, even root")
    src = write_csv(tmp_path / "in.csv", HEADER, [ROW])
    (tmp_path / "folder.csv").mkdir()
    library = skillcert.load(POLICIES)

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a row was evaluated")

    library.evaluate = never  # type: ignore[method-assign]
    with pytest.raises(skillcert.UsageError, match=fragment):
        run_batch(library, SX, src, tmp_path / output, as_of=dt.date(2023, 9, 20), progress=False,
                  stderr=io.StringIO())


# ---------------------------------------------------------------------------------------------------------------
# 4. Signals


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    stack = [pid]
    while stack:
        parent = stack.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        found.update(int(c) for c in children)
        stack.extend(int(c) for c in children)
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="follows processes through /proc (Linux)")
@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_during_batch_leaves_no_temporary_file_and_no_worker(tmp_path: Path, workers: str) -> None:
    src = write_csv(tmp_path / "in.csv", CQ_HEADER, [[f"CQ-{i}", *CQ_ROW[1:]] for i in range(60_000)])
    target = tmp_path / "out.csv"
    proc = subprocess.Popen([sys.executable, "-m", "skillcert", "batch", CQ, str(src), "-o", str(target),
                             "--as-of", CQ_AS_OF, "--workers", workers, "--no-progress"], cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.csv.*.tmp")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    time.sleep(0.5)  # rows are being evaluated (and the workers started)
    assert proc.poll() is None, proc.communicate()[1]
    family = _descendants(proc.pid)
    if workers == "2":
        assert len(family) >= 2
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "已终止(SIGTERM)" in err and "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["in.csv"]  # no output, no temporary file
    deadline = time.monotonic() + 10
    while any(_running(p) for p in family) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in family if _running(p)] == []


def test_sigterm_is_noted_by_the_handler_and_ends_the_run_at_its_next_chunk() -> None:
    """The handler never raises on the first SIGTERM: raised there, the exception could land in a finaliser the
    interpreter runs at that moment, be printed as "Exception ignored" and dropped, and the run would go on."""
    from skillcert.tabular.batch import Terminated, _Termination

    termination = _Termination()
    termination.check()  # nothing yet
    termination.handler(signal.SIGTERM, None)
    with pytest.raises(Terminated) as stopped:
        termination.check()
    assert stopped.value.code == 128 + signal.SIGTERM
    termination.check()  # raised once: cleaning up is not interrupted again
    termination.handler(signal.SIGTERM, None)
    with pytest.raises(Terminated):  # a second SIGTERM before the run reached its next chunk: at once
        termination.handler(signal.SIGTERM, None)


# ---------------------------------------------------------------------------------------------------------------
# 5. Workers


def test_workers_are_bounded_by_cores_and_rows_and_it_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "usable_cores", lambda: 3)
    started: list[int] = []
    real = pool.evaluate_in_pool

    def recording(spec: Any, task: Any, rows: Any, workers: int) -> Any:
        started.append(workers)
        return real(spec, task, rows, workers)

    monkeypatch.setattr(pool, "evaluate_in_pool", recording)
    src = write_csv(tmp_path / "in.csv", HEADER, [[f"SX-{i}", *ROW[1:]] for i in range(1200)])
    err = io.StringIO()
    summary = run_batch(skillcert.load(POLICIES), SX, src, tmp_path / "out.csv", as_of=dt.date(2023, 9, 20),
                        workers=100_000, progress=False, stderr=err)
    assert summary.rows == 1200 and started == [3]
    assert "--workers 100000 多于可用的 CPU 核数 3,改用 3 个进程" in err.getvalue()
    err = io.StringIO()
    run_batch(skillcert.load(POLICIES), SX, src, tmp_path / "out.csv", as_of=dt.date(2023, 9, 20), workers=3,
              progress=False, stderr=err)
    assert started == [3, 3]  # 1200 rows: three chunks of 500 at most
    small = write_csv(tmp_path / "small.csv", HEADER, [ROW] * 600)
    err = io.StringIO()
    run_batch(skillcert.load(POLICIES), SX, small, tmp_path / "out.csv", as_of=dt.date(2023, 9, 20), workers=3,
              progress=False, stderr=err)
    assert started == [3, 3, 2] and "只有 600 行(每个进程至少 500 行),改用 2 个进程" in err.getvalue()
    tiny = write_csv(tmp_path / "tiny.csv", HEADER, [ROW] * 5)
    run_batch(skillcert.load(POLICIES), SX, tiny, tmp_path / "out.csv", as_of=dt.date(2023, 9, 20), workers=3,
              progress=False, stderr=io.StringIO())
    assert started == [3, 3, 2]  # five rows: evaluated here, no pool


def test_workers_are_started_without_forking_this_process() -> None:
    assert pool.START_METHOD in ("forkserver", "spawn")


# ---------------------------------------------------------------------------------------------------------------
# 6. Output that attacks its reader


ATTACKS = ['=HYPERLINK("http://example.com/?x="&A1,"点我")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "\t=1+1", "\r=1+1"]


def test_text_that_would_be_a_formula_is_neutralised_and_numbers_stay_numbers(tmp_path: Path) -> None:
    header = ["id", *CQ_HEADER[1:], "findings.posts_missing"]
    rows = [[attack, *CQ_ROW[1:], "1"] for attack in ATTACKS] + [["-1.5", *CQ_ROW[1:], "1"]]
    src = write_csv(tmp_path / "in.csv", header, rows)
    for suffix in (".csv", ".xlsx"):
        code, err = cq(src, tmp_path / f"out{suffix}")
        assert code == 0, err
    out = read_csv(tmp_path / "out.csv")
    assert [r["id"] for r in out] == [f"'{a}" for a in ATTACKS] + ["-1.5"]
    assert out[0]["score"] == "95.6"
    wb = openpyxl.load_workbook(tmp_path / "out.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    sheet = list(wb["结果"].iter_rows(values_only=True))
    # (XML reads a carriage return in a cell back as a line feed)
    assert [r[0] for r in sheet[1:]] == [f"'{a}".replace("\r", "\n") for a in ATTACKS] + ["-1.5"]
    assert isinstance(sheet[1][3], float) and sheet[1][3] == 95.6  # the score stays a number
    assert isinstance(sheet[1][4], dt.datetime)  # a deadline stays a date


def test_a_carried_column_named_like_a_result_column_is_renamed_visibly(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", [*HEADER, "outcome", "error", "deadlines.rectification_due", "score"],
                    [[*ROW, "renew", "none", "2099-01-01", "100"]])
    code, err = sx(src, tmp_path / "out.csv")
    assert code == 0, err
    [row] = read_csv(tmp_path / "out.csv")
    assert row["outcome(输入)"] == "renew" and row["error(输入)"] == "none" and row["score(输入)"] == "100"
    assert row["deadlines.rectification_due(输入)"] == "2099-01-01"
    assert row["outcome"] == "terminate" and row["error"] == "" and row["deadlines.rectification_due"] == ""
    assert "注意:列 'outcome' 不是决定 shanxi/evaluation 的输入,原样带到输出,改名为 'outcome(输入)'" in err
    library = skillcert.load(POLICIES)
    facts = dict(zip(HEADER, ROW, strict=True))
    [out] = library.evaluate_many(SX, [{**facts, "outcome": "renew"}], as_of=dt.date(2023, 9, 20))
    assert out["outcome"] == "terminate" and out["outcome(输入)"] == "renew"


def test_a_worker_that_cannot_rebuild_the_library_stops_the_run_with_a_code(tmp_path: Path) -> None:
    import shutil

    packs = tmp_path / "packs"
    shutil.copytree(PACKS, packs)
    library = skillcert.load(packs)
    library.decision("mini/check")  # compiled here; the workers will not find the folder
    src = tmp_path / "in.csv"
    src.write_text("kind,expires_on,applied_on\n" + "org,2025-06-30,2025-05-20\n" * 1200, encoding="utf-8")
    shutil.rmtree(packs)
    with pytest.raises(skillcert.UsageError) as caught:
        run_batch(library, "mini/check", src, tmp_path / "out.csv", as_of=dt.date(2025, 5, 25), workers=2,
                  progress=False, stderr=io.StringIO())
    assert caught.value.code == "workers-failed" and str(packs) in caught.value.message
    assert [p.name for p in tmp_path.iterdir()] == ["in.csv"]
