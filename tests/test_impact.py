"""Outcome impact of a pack change (skillcert.analysis.impact): the Chongqing pack with its band 80 → 85 and one
deduction 0.4 → 0.5, measured over a workbook of cases and the packs' own cases, cross-checked row by row with
the library; the XLSX opened back; bad case files refused with the batch's own codes and messages."""

from __future__ import annotations

import collections
import datetime as dt
import json
import random
import shutil
import statistics
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import skillcert
from skillcert.analysis.impact import ERROR, ImpactReport, measure_impact, write_impact_xlsx
from skillcert.analysis.tester import find_test_files, load_cases
from skillcert.errors import SkillcertError
from skillcert.tabular.batch import run_batch
from skillcert.values import to_json
from skillcert_testutil import POLICIES, pack_copy, write_csv, write_xlsx

DECISION = "chongqing/renewal"
AS_OF = dt.date(2025, 5, 25)
BAND = ("renew_min_score: {value: 80,", "renew_min_score: {value: 85,")
POSTS = ("- {per: 0.4, count: findings.posts_missing, label: 缺一岗位及人员}",
         "- {per: 0.5, count: findings.posts_missing, label: 缺一岗位及人员}")
FINDINGS = ["posts_missing", "duties_unfulfilled", "no_duty_records", "skill_room_defects", "cameras_missing",
            "marking_batches_bad", "video_unclear", "batches_without_supervisor", "late_report_batches",
            "question_source", "contributed_to_standards"]


def chongqing_copy(root: Path, name: str, *edits: tuple[str, str]) -> skillcert.Library:
    return skillcert.load(pack_copy(root, name, POLICIES / "chongqing", *edits))


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> tuple[skillcert.Library, skillcert.Library]:
    root = tmp_path_factory.mktemp("impact")
    return chongqing_copy(root, "old"), chongqing_copy(root, "new", BAND, POSTS)


def case_rows(n: int, seed: int = 3) -> tuple[list[str], list[list[Any]]]:
    rng = random.Random(seed)
    header = ["机构编号", "机构名称", "institution_kind", "registry_level", "registration_expires_on", "applied_on",
              "registered_occupations", *[f"findings.{f}" for f in FINDINGS]]
    rows = []
    for i in range(n):
        cells: list[Any] = [f"CQ-{i:05d}", f"机构{i}", rng.choice(["social_org", "technical_school", "employer"]),
                            rng.choice(["city", "district"]), "2025-06-30",
                            rng.choice(["2025-05-06", "2025-05-20", "2025-06-10"]), '["4-01-05-01"]']
        for f in FINDINGS:
            if f == "question_source":
                cells.append(rng.choice(["own", "center", "none", "center"]))
            elif f in ("no_duty_records", "video_unclear", "contributed_to_standards"):
                cells.append(rng.choice(["true", "false", "false"]))
            else:
                cells.append(str(rng.choice([0, 0, 1, 2, 3])) if f != "skill_room_defects" else
                             str(rng.choice([0, 1, 2, 5])))
        rows.append(cells)
    rows[7][FINDINGS.index("posts_missing") + 7] = "many"       # an error under both packs
    return header, rows


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    header, rows = case_rows(1500)
    return write_csv(tmp_path_factory.mktemp("cases") / "cases.csv", header, rows)


@pytest.fixture(scope="module")
def report(packs: tuple[skillcert.Library, skillcert.Library], workbook: Path) -> Iterator[ImpactReport]:
    old, new = packs
    measured = measure_impact(old, new, DECISION, case_files=[workbook], as_of=AS_OF)
    yield measured
    measured.close()


def _expected(packs: tuple[skillcert.Library, skillcert.Library], workbook: Path) -> dict[str, Any]:
    """What the impact must say, found the plain way: every row evaluated under each pack with the library."""
    old, new = packs
    header = None
    results: list[tuple[dict[str, Any], dict[str, Any]]] = []
    import csv

    with open(workbook, encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        raw = [dict(zip(header, r, strict=True)) for r in reader]
    pairs = zip(old.evaluate_many(DECISION, raw, as_of=AS_OF), new.evaluate_many(DECISION, raw, as_of=AS_OF),
                strict=True)
    results.extend((a, b) for a, b in pairs)
    seen = set()
    for library in (new, old):
        for path in find_test_files(Path(library.decision(DECISION).pack.directory)):  # type: ignore[union-attr]
            for case in load_cases(path)[0]:
                if case.want_error is not None:
                    continue
                key = json.dumps([str(case.as_of), to_json(case.facts)])
                if key in seen:
                    continue
                seen.add(key)
                pair = []
                for lib in (old, new):
                    r = lib.evaluate(DECISION, case.facts, as_of=case.as_of or AS_OF,
                                     allow_out_of_period=case.allow_out_of_period)
                    pair.append({"outcome": r.outcome, "score": r.score, "error": None,
                                 **{f"deadlines.{k}": v for k, v in r.deadlines.items()}})
                results.append((pair[0], pair[1]))
    examples = Path(new.decision(DECISION).pack.directory)  # type: ignore[union-attr]
    for path in sorted(examples.glob("examples/**/renewal*.yaml")):
        note = path.read_text(encoding="utf-8").split("--as-of ", 1)[1][:10]
        facts = skillcert.source.loader.load_file(path).data
        pair = []
        for lib in (old, new):
            r = lib.evaluate(DECISION, facts, as_of=dt.date.fromisoformat(note))
            pair.append({"outcome": r.outcome, "score": r.score, "error": None,
                         **{f"deadlines.{k}": v for k, v in r.deadlines.items()}})
        results.append((pair[0], pair[1]))
    matrix: collections.Counter[tuple[str, str]] = collections.Counter()
    differing = 0
    for a, b in results:
        ka = ERROR if a["error"] else a["outcome"]
        kb = ERROR if b["error"] else b["outcome"]
        matrix[(ka, kb)] += 1
        if not a["error"] and not b["error"]:
            dl = [k for k in a if k.startswith("deadlines.")]
            if a["outcome"] != b["outcome"] or a["score"] != b["score"] or any(a[k] != b[k] for k in dl):
                differing += 1
    return {"matrix": matrix, "total": len(results), "differing": differing,
            "changed": sum(n for (a, b), n in matrix.items() if a != b),
            "errors": sum(n for (a, b), n in matrix.items() if ERROR in (a, b)),
            "old_scores": [a["score"] for a, _ in results if not a["error"] and a["score"] is not None],
            "new_scores": [b["score"] for a, b in results if not a["error"] and not b["error"]
                           and b["score"] is not None]}


def test_counts_match_both_packs_evaluated_row_by_row(packs: Any, workbook: Path, report: ImpactReport) -> None:
    expected = _expected(packs, workbook)
    assert report.total == expected["total"]
    assert report.changed == expected["changed"] > 0
    assert report.differing == expected["differing"]
    assert report.errors == expected["errors"] == 1
    got = {(m["old"], m["new"]): m["rows"] for m in report.as_json()["matrix"]}
    assert got == dict(expected["matrix"])


def test_the_matrix_sums_to_the_total_and_names_outcomes_in_chinese(report: ImpactReport) -> None:
    data = report.as_json()
    assert sum(m["rows"] for m in data["matrix"]) == report.total == data["total"]
    labels = {m["new"]: m["new_label"] for m in data["matrix"]}
    assert labels["rectify"].startswith("下发整改通知书")
    assert labels[ERROR] == "错误,未能评估"


def test_min_median_max_are_exact(packs: Any, workbook: Path, report: ImpactReport) -> None:
    expected = _expected(packs, workbook)
    scores = report.score_summary()
    assert scores["exact_median"]
    # the error row has no score under either pack; rows scored under OLD only count where NEW did not fail
    for name, values in (("old", expected["old_scores"]), ("new", expected["new_scores"])):
        assert scores[name]["min"] == min(values)
        assert scores[name]["max"] == max(values)
        assert scores[name]["median"] == statistics.median(values)
        assert isinstance(scores[name]["median"], Decimal)
    band = next(m for m in report.moved_bounds() if m["rule"] == "score_band")
    assert band["new_scores_between"] == sum(1 for v in expected["new_scores"] if 80 <= v < 85) > 0


def test_band_bounds_moved_and_crossed(report: ImpactReport) -> None:
    bounds = report.bound_rows()
    moved = report.moved_bounds()
    assert {(m["rule"], m["old"], m["new"]) for m in moved} >= {("score_band", Decimal(80), Decimal(85))}
    assert all(m["source"] for m in moved)
    crossed = {b["bound"]: b for b in bounds}
    assert set(crossed) == {Decimal(60), Decimal(80), Decimal(85)}
    assert crossed[Decimal(80)]["crossed_down"] > 0   # 0.5 a missing post: 80.x → 79.x


def test_changed_rows_name_the_rule_and_the_item_responsible(report: ImpactReport) -> None:
    rows = report.as_json()["changed_rows"]
    assert rows
    flipped = [r for r in rows if r["old"]["outcome"] == "renew" and r["new"]["outcome"] == "rectify"]
    assert flipped
    for r in flipped:
        assert {"rule": "score_band", "old": "renew", "new": "rectify", "fired": "both"} in r["rules"]
    posts = [r for r in rows if r["old"]["score"] != r["new"]["score"]]
    assert posts
    for r in posts:
        assert [i["item"] for i in r["items"]] == ["posts"]
        item = r["items"][0]
        assert item["old"] - item["new"] == r["old"]["score"] - r["new"]["score"]
    ids = [r["ids"] for r in rows if r["source"] == "案例文件"]
    assert ids and all(i["机构编号"].startswith("CQ-") and i["机构名称"] for i in ids)


def test_deadlines_that_move_are_counted(report: ImpactReport) -> None:
    deadlines = {d["deadline"]: d for d in report.deadline_rows()}
    assert set(deadlines) == {"rectification_ends"}
    shifts = {s.get("change"): s["rows"] for s in deadlines["rectification_ends"]["shifts"]}
    assert shifts["added"] > 0  # rows that become rectify get a rectification period


def test_the_terminal_summary_is_chinese_and_bounded(report: ImpactReport) -> None:
    lines = report.text_lines(shown=3)
    text = "\n".join(lines)
    assert "结论转变" in text and "分数分布" in text and "期限变化" in text
    assert f"共 {report.differing:,} 行" in text
    assert sum(1 for line in lines if line.startswith("  cases.csv:") and "分)→" in line) == 3
    assert "错误(前 1 行,共 1 行)" in text


def test_the_json_form_is_exact_and_stable(report: ImpactReport) -> None:
    text = to_json(report.as_json())
    assert to_json(report.as_json()) == text
    data = json.loads(text)
    assert {"decision", "old", "new", "total", "changed", "matrix", "scores", "bounds", "deadlines",
            "changed_rows", "errors_listed"} <= set(data)
    assert data["old"]["pack_digest"].startswith("sha256:")


def test_the_workbook_has_one_sheet_per_view_and_every_changed_row(report: ImpactReport, tmp_path: Path) -> None:
    out = tmp_path / "impact.xlsx"
    write_impact_xlsx(out, report.sheets())
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.sheetnames == ["概要", "转变矩阵", "分数变化", "期限变化", "变化明细", "错误"]
    detail = list(wb["变化明细"].iter_rows(values_only=True))
    assert detail[0][:5] == ("来源", "标识", "机构编号", "机构名称", "发文机关")
    assert len(detail) - 1 == report.differing
    matrix = list(wb["转变矩阵"].iter_rows(values_only=True))
    assert matrix[-1][0] == "合计" and matrix[-1][-1] == report.total
    errors = list(wb["错误"].iter_rows(values_only=True))
    assert len(errors) == 2 and "many" in str(errors[1])
    assert not list(tmp_path.glob(".*.tmp"))
    assert [name for name, _, _ in report.sheets("renewal")][:2] == ["概要 renewal", "转变矩阵 renewal"]


def test_two_workers_give_the_same_report(packs: Any, workbook: Path, report: ImpactReport) -> None:
    old, new = packs
    with_workers = measure_impact(old, new, DECISION, case_files=[workbook], as_of=AS_OF, workers=2)
    try:
        assert to_json(with_workers.as_json()) == to_json(report.as_json())
        assert [r for _, _, rows in with_workers.sheets() for r in rows] == \
            [r for _, _, rows in report.sheets() for r in rows]
    finally:
        with_workers.close()


def test_callers_rows_and_a_folder_of_facts_files_with_a_broken_one(packs: Any, tmp_path: Path) -> None:
    old, new = packs
    folder = tmp_path / "facts"
    folder.mkdir()
    example = POLICIES / "chongqing" / "examples" / "renewal-social-org.yaml"
    shutil.copy(example, folder / "a.yaml")
    (folder / "b.yaml").write_text("institution_kind: [unclosed\n", encoding="utf-8")
    facts = skillcert.source.loader.load_file(example).data
    at_80 = {**facts, "findings": {"posts_missing": 1, "skill_room_defects": 5, "cameras_missing": 1,
                                   "marking_batches_bad": 1, "tally_batches_bad": 1}}
    rows = [("日志 1", facts), ("日志 2", {**facts, "registry_level": "province"}), ("日志 3", at_80)]
    measured = measure_impact(old, new, DECISION, rows=rows, case_files=[folder], as_of=AS_OF,
                              include_pack_cases=False)
    try:
        assert measured.total == 5
        assert dict(measured.tally.origins) == {"调用方": 3, "事实文件": 2}
        assert measured.errors == 2
        errors = {e["label"]: e for e in measured.as_json()["errors_listed"]}
        assert errors["日志 2"]["old_error"].startswith("facts-invalid")
        assert errors["b.yaml"]["new_error"] and errors["b.yaml"]["old_error"]
        changed = {r["label"] for r in measured.as_json()["changed_rows"]}
        assert "日志 3" in changed
    finally:
        measured.close()


BAD_FILES: list[tuple[str, bytes]] = [
    ("cases.txt", b"a,b\n1,2\n"),
    ("cases.xlsx", b"not a workbook"),
    ("cases.csv", b"\xff\xfe\x00\x00\x81\x30\x81"),
    ("cases.csv", "机构编号,机构名称\nA,B\n".encode()),
    ("cases.csv", "institution_kind,机构类型\nsocial_org,social_org\n".encode()),
]


@pytest.mark.parametrize(("name", "content"), BAD_FILES, ids=["format", "not-xlsx", "encoding", "no-input", "twice"])
def test_a_bad_case_file_is_refused_as_batch_refuses_it(packs: Any, tmp_path: Path, name: str,
                                                        content: bytes) -> None:
    old, new = packs
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SkillcertError) as batch:
        run_batch(new, DECISION, path, tmp_path / "out.csv", as_of=AS_OF)
    with pytest.raises(SkillcertError) as impact:
        measure_impact(old, new, DECISION, case_files=[path], as_of=AS_OF)
    assert impact.value.code == batch.value.code != "internal-error"
    assert impact.value.message == batch.value.message
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_a_missing_case_file_is_refused_in_chinese(packs: Any, tmp_path: Path) -> None:
    old, new = packs
    with pytest.raises(SkillcertError) as caught:
        measure_impact(old, new, DECISION, case_files=[tmp_path / "nothing.csv"], as_of=AS_OF)
    assert "不存在" in caught.value.message


def test_a_workbook_that_fails_half_way_is_not_written(tmp_path: Path) -> None:
    out = tmp_path / "impact.xlsx"
    out.write_bytes(b"earlier")

    def rows() -> Iterator[list[Any]]:
        yield ["a", 1]
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError):
        write_impact_xlsx(out, [("概要", ["项目", "值"], [["x", 1]]), ("变化明细", ["a", "b"], rows())])
    assert out.read_bytes() == b"earlier"
    assert [p.name for p in tmp_path.iterdir()] == ["impact.xlsx"]


@pytest.mark.parametrize(("target", "code"), [("impact.csv", "output-format"), ("no/such/impact.xlsx",
                                                                                 "output-unwritable")])
def test_a_workbook_that_cannot_be_written_is_refused_with_a_code(tmp_path: Path, target: str, code: str) -> None:
    with pytest.raises(SkillcertError) as caught:
        write_impact_xlsx(tmp_path / target, [("概要", ["项目"], [])])
    assert caught.value.code == code


def test_text_cells_cannot_start_a_formula(tmp_path: Path) -> None:
    out = tmp_path / "impact.xlsx"
    write_impact_xlsx(out, [("变化明细", ["标识"], [["=HYPERLINK(\"x\")"], [Decimal("94.6")], [Decimal("1.23456")]])])
    cells = [r[0] for r in openpyxl.load_workbook(out).active.iter_rows(min_row=2, values_only=True)]
    assert cells == ["'=HYPERLINK(\"x\")", 94.6, "1.23456"]


def test_an_unchanged_pack_changes_nothing(packs: Any) -> None:
    old, _ = packs
    measured = measure_impact(old, old, DECISION, as_of=AS_OF)
    try:
        assert measured.total > 50 and measured.changed == 0 and measured.differing == 0
        assert all(m["old"] == m["new"] for m in measured.as_json()["matrix"])
    finally:
        measured.close()


def test_a_changed_input_declaration_checks_each_row_against_each_pack(packs: Any, workbook: Path,
                                                                        tmp_path: Path) -> None:
    old, _ = packs
    narrower = chongqing_copy(tmp_path, "narrower", POSTS, (
        "posts_missing: {type: integer, label: 缺少的岗位及人员数, min: 0, max: 10,",
        "posts_missing: {type: integer, label: 缺少的岗位及人员数, min: 0, max: 2,"))
    measured = measure_impact(old, narrower, DECISION, case_files=[workbook], as_of=AS_OF, include_pack_cases=False)
    try:
        import csv

        with open(workbook, encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            raw = [dict(zip(header, r, strict=True)) for r in reader]
        matrix: collections.Counter[tuple[str, str]] = collections.Counter(
            (a["outcome"] or ERROR, b["outcome"] or ERROR)
            for a, b in zip(old.evaluate_many(DECISION, raw, as_of=AS_OF),
                            narrower.evaluate_many(DECISION, raw, as_of=AS_OF), strict=True))
        assert {(m["old"], m["new"]): m["rows"] for m in measured.as_json()["matrix"]} == dict(matrix)
        only_new = [e for e in measured.as_json()["errors_listed"] if e["old_error"] is None]
        assert only_new and all(e["new_error"].startswith("facts-invalid") for e in only_new)
    finally:
        measured.close()


def test_workers_reading_a_csv_in_blocks_with_stray_quotes_give_the_same_report(
        packs: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skillcert.analysis import impact
    from skillcert.tabular import reading

    monkeypatch.setattr(reading, "BLOCK_BYTES", 4096)  # many blocks, cut by this process
    read_on: list[int] = []
    real = impact.csv_rows_from

    def reading_on(block: Any, names: list[str]) -> Any:
        read_on.append(block.line)
        return real(block, names)

    monkeypatch.setattr(impact, "csv_rows_from", reading_on)
    header, rows = case_rows(1600, seed=5)
    header.append("备注")
    for i, row in enumerate(rows):
        row[6] = '"[""4-01-05-01""]"'
        # a quote inside a cell that is not quoted, and a quoted cell over two lines: a cut can fall inside it
        row.append('5"长' if i % 37 == 0 else '"两行\n的备注"' if i % 11 == 0 else "")
    path = tmp_path / "stray.csv"
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    old, new = packs
    reports = [measure_impact(old, new, DECISION, case_files=[path], as_of=AS_OF, include_pack_cases=False,
                              workers=w) for w in (1, 2)]
    try:
        assert read_on  # a cut fell inside a record: the rest of the file was read in order
        # rows are the same, in the same order; only their labels' numbers differ after a cell with a line break
        # (line numbers where workers read blocks, record numbers where the file is read in order)
        data = [r.as_json() for r in reports]
        for d in data:
            for part in ("changed_rows", "errors_listed"):
                for row in d[part]:
                    row["label"] = row["label"].split(":")[0]
        assert to_json(data[0]) == to_json(data[1])
        sheets = [[r[:1] + r[2:] for _, _, rows in report.sheets() for r in rows] for report in reports]
        assert sheets[0] == sheets[1]
        assert reports[0].total == 1600 and reports[0].differing > 100
    finally:
        for r in reports:
            r.close()


@pytest.mark.parametrize("suffix", [".xlsx", ".jsonl", ".yaml"])
def test_every_case_file_format_batch_reads_gives_the_counts_of_the_library(packs: Any, tmp_path: Path,
                                                                            suffix: str) -> None:
    from skillcert.tabular.reading import read_rows

    header, rows = case_rows(400, seed=9)
    path = tmp_path / f"cases{suffix}"
    if suffix == ".xlsx":
        write_xlsx(path, header, rows, sheet="机构")
    else:
        records = [{k: json.loads(v) if k == "registered_occupations" else v for k, v in zip(header, row, strict=True)}
                   for row in rows]
        if suffix == ".jsonl":
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        else:
            import yaml

            path.write_text(yaml.safe_dump(records, allow_unicode=True), encoding="utf-8")
    old, new = packs
    for workers in (1, 2):
        measured = measure_impact(old, new, DECISION, case_files=[path], as_of=AS_OF, include_pack_cases=False,
                                  workers=workers)
        try:
            raw = list(read_rows(path)[1])
            matrix: collections.Counter[tuple[str, str]] = collections.Counter(
                (a["outcome"] or ERROR, b["outcome"] or ERROR)
                for a, b in zip(old.evaluate_many(DECISION, raw, as_of=AS_OF),
                                new.evaluate_many(DECISION, raw, as_of=AS_OF), strict=True))
            assert measured.total == 400 and measured.errors == 1
            assert {(m["old"], m["new"]): m["rows"] for m in measured.as_json()["matrix"]} == dict(matrix)
            assert all(r["ids"]["机构编号"].startswith("CQ-") for r in measured.as_json()["changed_rows"])
        finally:
            measured.close()
