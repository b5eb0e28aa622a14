"""Batch evaluation: formats in and out, order, per-row errors, atomic output, workers, the XLSX summary."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import skillcert
from skillcert.tabular.batch import run_batch
from skillcert_testutil import AS_OF as MINI_AS_OF
from skillcert_testutil import MINI_FACTS, PACKS, POLICIES, read_csv, run_cli, write_csv, write_xlsx

AS_OF = "2023-09-20"
HEADER = ["机构编号", "institution_kind", "registry_level", "registered_on", "assessment_dates", "evaluation_on",
          "evaluation_result", "organized_cheating"]
ROWS = [
    ["SX-001", "social_org", "city", "2020-05-10", '["2020-09-01", "2021-03-15"]', "2023-09-15", "pass", ""],
    ["SX-002", "school", "province", "2021-04-02", '["2021-06-01", "2022-05-01", "2023-03-01"]', "2023-09-15",
     "below_standard", "否"],
    ["SX-003", "employer", "city", "2020-07-01", '["2020-10-01", "2021-09-01", "2022-08-01", "2023-06-01"]',
     "2023-09-15", "pass", "是"],
    ["SX-004", "social_org", "city", "2020-13-01", "[]", "2023-09-15", "pass", ""],
]


def test_csv_in_csv_out_one_row_per_input_row_in_order_with_errors_in_their_row(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", HEADER, ROWS)
    code, _, err = run_cli(["batch", "shanxi/evaluation", str(src), "-o", str(tmp_path / "out.csv"),
                            "--as-of", AS_OF])
    assert code == 1, err  # some rows have errors
    rows = read_csv(tmp_path / "out.csv")
    assert [r["机构编号"] for r in rows] == ["SX-001", "SX-002", "SX-003", "SX-004"]
    assert list(rows[0])[:4] == ["机构编号", "outcome", "outcome_label", "score"]
    assert [r["outcome"] for r in rows] == ["terminate", "suspend", "terminate", ""]
    assert rows[1]["deadlines.rectification_due"] == "2023-11-15"
    assert "two_years_inactive" in rows[0]["reasons"] and "cheating" in rows[2]["reasons"]
    assert rows[3]["error"].startswith("facts-invalid: registered_on(公布备案资质之日)")
    assert rows[0]["error"] == "" and rows[3]["reasons"] == ""
    assert "4 行已评估" in err and "1 行有错误" in err


def test_all_rows_good_exits_0(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", HEADER, ROWS[:3])
    code, _, err = run_cli(["batch", "shanxi/evaluation", str(src), "-o", str(tmp_path / "out.jsonl"),
                            "--as-of", AS_OF])
    assert code == 0, err
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [x["outcome"] for x in lines] == ["terminate", "suspend", "terminate"]
    assert lines[0]["reasons"][0]["rule"] == "two_years_inactive" and lines[0]["error"] is None


def test_dotted_columns_build_nested_facts_and_scores_stay_exact(tmp_path: Path) -> None:
    header = ["id", "institution_kind", "registry_level", "registration_expires_on", "applied_on",
              "registered_occupations", "findings.posts_missing", "findings.skill_room_defects",
              "findings.marking_batches_bad", "findings.contributed_to_standards"]
    src = write_csv(tmp_path / "cq.csv", header, [
        ["CQ-1", "social_org", "city", "2025-06-30", "2025-05-20", '["4-01-05-01"]', "2", "1", "1", "true"],
        ["CQ-2", "social_org", "city", "2025-06-30", "2025-05-20", '["4-01-05-01"]', "two", "", "", ""],
    ])
    run_cli(["batch", "chongqing/renewal", str(src), "-o", str(tmp_path / "out.csv"), "--as-of", "2025-05-25"])
    rows = read_csv(tmp_path / "out.csv")
    assert rows[0]["score"] == "94.6" and rows[0]["deadlines.decision_due"] == "2025-06-18"
    assert "findings.posts_missing(缺少的岗位及人员数) 应是整数" in rows[1]["error"]


def write_dated_xlsx(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """The rows as a workbook with the dates as date cells (the one that does not exist stays text)."""
    return write_xlsx(path, header, [[dt.date.fromisoformat(v) if c in ("registered_on", "evaluation_on")
                                      and v != "2020-13-01" else v for c, v in zip(header, r, strict=True)]
                                     for r in rows])


def summary_sheet(path: Path) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(path)["汇总"].iter_rows(values_only=True))


def test_xlsx_in_and_out_with_a_summary_sheet(tmp_path: Path) -> None:
    write_dated_xlsx(tmp_path / "in.xlsx", HEADER, ROWS)
    code, _, _ = run_cli(["batch", "shanxi/evaluation", str(tmp_path / "in.xlsx"), "-o", str(tmp_path / "out.xlsx"),
                          "--as-of", AS_OF])
    assert code == 1
    out = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert out.sheetnames == ["结果", "汇总"]
    results = list(out["结果"].iter_rows(values_only=True))
    assert results[0][:3] == ("机构编号", "outcome", "outcome_label")
    assert [r[1] for r in results[1:]] == ["terminate", "suspend", "terminate", None]
    summary = summary_sheet(tmp_path / "out.xlsx")
    assert summary[0][:3] == ("结论", "结论名称", "行数")  # the engine names no domain: rows, not institutions
    assert ("terminate", "评估意见：不合格，终止备案(报省厅决定)", 2) in [r[:3] for r in summary]
    assert ("(错误)", "有错误,未能评估", 1) in [r[:3] for r in summary]
    assert ("合计", None, 4) in [r[:3] for r in summary]


def test_the_summary_counts_outcomes_by_the_input_the_pack_names(tmp_path: Path) -> None:
    src = write_dated_xlsx(tmp_path / "in.xlsx", HEADER, ROWS)
    library = skillcert.load(POLICIES)
    summary = run_batch(library, "shanxi/evaluation", src, tmp_path / "out.xlsx", as_of=dt.date(2023, 9, 20),
                        progress=False)
    assert summary.group_by == "institution_kind" and summary.errors == 1
    rows = summary_sheet(tmp_path / "out.xlsx")
    heading = rows.index(next(r for r in rows if r and r[0] == "机构类型"))  # the input's label heads the table
    assert rows[heading][-1] == "合计"
    by_kind = {r[0]: r for r in rows[heading + 1:]}
    assert set(by_kind) == {"社会培训评价组织", "自主评价院校", "自主评价企业"}  # enum labels, not codes
    assert by_kind["自主评价院校"][-1] == 1 and by_kind["社会培训评价组织"][-1] == 1


def test_group_by_overrides_the_pack_and_accepts_a_label(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", HEADER, ROWS)
    library = skillcert.load(POLICIES)
    for given in ("registry_level", "备案层级"):
        summary = run_batch(library, "shanxi/evaluation", src, tmp_path / "out.xlsx", as_of=dt.date(2023, 9, 20),
                            progress=False, group_by=given)
        assert summary.group_by == "registry_level" and summary.group_label == "备案层级"
        assert {k: sum(v.values()) for k, v in summary.by_group.items()} == {"市级": 2, "省级以上": 1}
        headings = [r for r in summary_sheet(tmp_path / "out.xlsx") if r[0] == "备案层级"]
        assert len(headings) == 1 and headings[0][-1] == "合计"


def test_without_summary_by_there_is_no_grouped_table(tmp_path: Path) -> None:
    header = ["编号", *MINI_FACTS]
    src = write_csv(tmp_path / "in.csv", header, [["m1", *map(str, MINI_FACTS.values())]] * 2)
    library = skillcert.load(PACKS)
    assert library.decision("mini/check").summary_by is None
    summary = run_batch(library, "mini/check", src, tmp_path / "out.xlsx", as_of=MINI_AS_OF, progress=False)
    assert summary.group_by is None and summary.by_group == {} and summary.outcomes == {"pass": 2}
    assert summary_sheet(tmp_path / "out.xlsx")[-1][:3] == ("合计", None, 2)


def test_an_unknown_group_by_is_refused_with_a_did_you_mean_before_any_work(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", HEADER, ROWS)
    with pytest.raises(skillcert.UsageError) as caught:
        run_batch(skillcert.load(POLICIES), "shanxi/evaluation", src, tmp_path / "out.csv",
                  as_of=dt.date(2023, 9, 20), progress=False, group_by="institution_knd")
    assert "institution_knd" in caught.value.message and "did you mean 'institution_kind'" in caught.value.message
    assert list(tmp_path.iterdir()) == [src]


def test_yaml_list_and_jsonl_inputs(tmp_path: Path) -> None:
    facts = {"institution_kind": "social_org", "registry_level": "city", "registered_on": "2020-05-10",
             "assessment_dates": ["2020-09-01", "2021-03-15"], "evaluation_on": "2023-09-15",
             "evaluation_result": "pass"}
    (tmp_path / "in.jsonl").write_text(json.dumps({"id": "a", **facts}) + "\n\n" + "not json\n", encoding="utf-8")
    run_cli(["batch", "shanxi/evaluation", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "o.csv"), "--as-of", AS_OF])
    rows = read_csv(tmp_path / "o.csv")
    assert [r["id"] for r in rows] == ["a", ""] and rows[0]["outcome"] == "terminate"
    assert "不是有效的 JSON" in rows[1]["error"]
    (tmp_path / "in.yaml").write_text("- {id: b, institution_kind: school, registry_level: city, "
                                      "registered_on: 2021-03-01, evaluation_on: 2023-09-15}\n", encoding="utf-8")
    run_cli(["batch", "shanxi/evaluation", str(tmp_path / "in.yaml"), "-o", str(tmp_path / "o2.csv"),
             "--as-of", AS_OF])
    assert read_csv(tmp_path / "o2.csv")[0]["outcome"] == "terminate"


def test_workers_keep_input_order_across_chunks(tmp_path: Path) -> None:
    rows = [[f"SX-{i:05d}", *ROWS[i % 3][1:]] for i in range(1300)]
    src = write_csv(tmp_path / "in.csv", HEADER, rows)
    code, _, err = run_cli(["batch", "shanxi/evaluation", str(src), "-o", str(tmp_path / "out.csv"),
                            "--as-of", AS_OF, "--workers", "2"])
    assert code == 0, err
    out = read_csv(tmp_path / "out.csv")
    assert [r["机构编号"] for r in out] == [r[0] for r in rows]
    assert [r["outcome"] for r in out[:3]] == ["terminate", "suspend", "terminate"]


def test_an_interrupted_run_leaves_the_old_output_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = write_csv(tmp_path / "in.csv", HEADER, ROWS[:3])
    target = tmp_path / "out.csv"
    target.write_text("previous results\n", encoding="utf-8")
    library = skillcert.load(POLICIES)
    real = library.evaluate
    calls = {"n": 0}

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(library, "evaluate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_batch(library, "shanxi/evaluation", src, target, as_of=dt.date(2023, 9, 20),
                  progress=False, stderr=io.StringIO())
    assert target.read_text(encoding="utf-8") == "previous results\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_evaluate_many_is_a_generator_on_the_same_path() -> None:
    library = skillcert.load(POLICIES)
    rows = iter([
        {"id": 1, "institution_kind": "school", "registry_level": "city", "registered_on": "2021-03-01",
         "evaluation_on": "2023-09-15", "evaluation_result": "pass", "assessment_dates": ["2022-06-01"]},
        {"id": 2, "institution_kind": "nope", "registry_level": "city", "registered_on": "2021-03-01"},
    ])
    results = library.evaluate_many("shanxi/evaluation", rows, as_of=dt.date(2023, 9, 20))
    first = next(results)
    assert first["id"] == 1 and first["outcome"] == "normal"
    assert first["reasons"] and set(first["reasons"][0]) == {"rule", "outcome", "message"}  # structured
    second = next(results)
    assert second["outcome"] is None and "institution_kind(机构类型)" in second["error"]


def test_evaluate_many_refuses_an_out_of_period_date_at_once() -> None:
    with pytest.raises(skillcert.OutOfPeriodError):
        skillcert.load(POLICIES).evaluate_many("shanxi/evaluation", iter([]), as_of=dt.date(2021, 1, 1))


@pytest.mark.parametrize(
    ("as_of", "output", "workers", "fragment"),
    [
        ("2021-01-01", "out.csv", "1", "out-of-period"),
        (AS_OF, "out.txt", "1", "格式不受支持"),
        (AS_OF, "out.csv", "0", "--workers"),
    ],
)
def test_batch_refuses_to_run_with_exit_2(tmp_path: Path, as_of: str, output: str, workers: str,
                                          fragment: str) -> None:
    src = write_csv(tmp_path / "in.csv", HEADER, ROWS[:1])
    code, _, err = run_cli(["batch", "shanxi/evaluation", str(src), "-o", str(tmp_path / output),
                            "--as-of", as_of, "--workers", workers])
    assert code == 2 and fragment in err, err
    assert not (tmp_path / output).exists()


def test_progress_bar_only_when_asked_or_on_a_terminal(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", HEADER, ROWS[:2])
    quiet = io.StringIO()
    run_batch(skillcert.load(POLICIES), "shanxi/evaluation", src, tmp_path / "a.csv", as_of=dt.date(2023, 9, 20),
              stderr=quiet)
    assert "2/2" not in quiet.getvalue() and "it/s" not in quiet.getvalue()  # only the report of the columns
    shown = io.StringIO()
    run_batch(skillcert.load(POLICIES), "shanxi/evaluation", src, tmp_path / "b.csv", as_of=dt.date(2023, 9, 20),
              progress=True, stderr=shown)
    assert "2/2" in shown.getvalue() and "行" in shown.getvalue()


def test_columns_may_be_headed_by_chinese_labels_with_enum_labels_as_values(tmp_path: Path) -> None:
    header = ["机构编号", "机构类型", "备案层级", "公布备案资质之日", "assessment_dates", "评估日", "评估结果(延续备案评估表)"]
    src = write_csv(tmp_path / "in.csv", header, [
        ["SX-9", "社会培训评价组织", "市级", "2021-03-01", '["2022-06-01", "2023-03-01"]', "2023-09-15", "合格"],
    ])
    code, _, err = run_cli(["batch", "shanxi/evaluation", str(src), "-o", str(tmp_path / "out.csv"), "--as-of", AS_OF])
    assert code == 0, err
    [row] = read_csv(tmp_path / "out.csv")
    assert list(row)[0] == "机构编号" and "机构类型" not in row
    assert row["outcome"] == "normal"
