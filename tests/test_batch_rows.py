"""The fast path of a file's rows gives what the reference path gives, cell for cell and error for error.

Rows of a CSV or XLSX file are lists of cells under a header, split by converters compiled once per column
(:class:`skillcert.rows.columns.HeaderRows`) and rendered straight from the result
(:func:`skillcert.rows.cells.cells_renderer`); the reference is the mapping path that ``evaluate_many`` and the
Dask adapter take (:func:`~skillcert.rows.columns.row_facts`, :func:`~skillcert.rows.cells.result_row` and
:func:`~skillcert.rows.cells.row_renderer`). Seeded random rows of messy cells, over every decision's inputs by
name, dotted path and label, must give equal facts (or the same error), the same carried cells and the same output
cells; and a batch run gives the same file in this process and in workers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import skillcert
from skillcert import SkillcertError
from skillcert.analysis.tester import find_test_files, load_cases
from skillcert.compiler.model import Decision
from skillcert.rows.cells import cells_renderer, result_row, row_renderer, text_cell
from skillcert.rows.columns import HeaderRows, row_facts
from skillcert.tabular.batch import run_batch
from skillcert.tabular.reading import read_rows, read_table
from skillcert.values import jsonable
from skillcert_testutil import POLICIES

CELLS = ["", " ", "  \t", "true", " TRUE ", "是", "否", "false", "0", "1", " 2 ", "-3", "+4", "1.5", " 2.50 ", "1e3",
         "NaN", "Infinity", "abc", "=1+1", "2025-06-30", " 2025-06-30 ", "2025-13-40", "[]", "[1, 2]",
         '["4-01-05-01", "4-03-02-01"]', '["4-01-05-01"]', '{"a": 1}', "null", '"x"', "[1.25]", "[" * 40 + "]" * 40,
         "[NaN]", "１２", "٣", "social_org", "社会培训评价组织", "city", "own", "center", "x" * 300, "12345678901234567890"]


def _columns(decision: Decision) -> list[str]:
    """Every spelling a column of this decision's inputs may have: names, dotted paths, labels, field labels."""
    out = []
    for name, inp in decision.inputs.items():
        out += [name, inp.label]
        if inp.type.kind == "record":
            labels = dict(inp.type.field_labels)
            for field, _ in inp.type.fields:
                out += [f"{name}.{field}", f"{inp.label}·{labels.get(field) or field}"]
    return [c for c in dict.fromkeys(out) if c]


def _facts_or_error(call: Any) -> Any:
    try:
        return "facts", call()
    except SkillcertError as exc:
        return "error", exc.code, exc.message
    except Exception as exc:  # noqa: BLE001 - compared as they are
        return "failed", type(exc).__name__, str(exc)


def _headers(decision: Decision, rng: random.Random) -> list[list[str]]:
    spellings = _columns(decision)
    headers = [[c for c in spellings if "·" not in c and c not in {i.label for i in decision.inputs.values()}]]
    for _ in range(6):
        picked = rng.sample(spellings, min(len(spellings), rng.randint(1, 25)))
        headers.append(["编号", *picked, "备注", "score", ""][: len(picked) + rng.randint(1, 4)])
    return headers


@pytest.mark.parametrize("decision_id", ["chongqing/renewal", "shanxi/evaluation", "hebei/renewal",
                                         "nanning/supervision", "fuzhou/application"])
def test_cells_give_the_facts_and_errors_of_the_mapping_path(decision_id: str) -> None:
    library = skillcert.load(POLICIES)
    decision = library.decision(decision_id)
    rng = random.Random(decision_id)
    for header in _headers(decision, rng):
        rows = HeaderRows(decision, header)
        for _ in range(150):
            width = len(header) + rng.choice([0, 0, 0, -1, 1, -len(header)])
            cells: list[Any] = [rng.choice(CELLS) for _ in range(max(width, 0))]
            if rng.random() < 0.1 and cells:  # spreadsheet values
                cells[rng.randrange(len(cells))] = rng.choice([None, 3, 2.5, 1.0, True, dt.datetime(2025, 6, 30)])
            mapping = rows.mapping(cells)
            fast = _facts_or_error(lambda: rows.facts(cells))  # noqa: B023 - called at once
            reference = _facts_or_error(lambda: row_facts(decision, mapping)[0])  # noqa: B023
            assert fast == reference, (header, cells)
            passthrough = row_facts(decision, mapping)[1] if reference[0] == "facts" else None
            if passthrough is not None:
                assert rows.passthrough(cells) == passthrough
                assert list(rows.carried(cells)) == [passthrough.get(n) for n in rows.carried_names]


def _case_cells(decision: Decision, facts: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """A pack test case's facts as one row of a file: records by their fields' dotted columns, other values as
    their cell text."""
    def text(value: Any) -> Any:
        return ("true" if value else "false") if isinstance(value, bool) else text_cell(jsonable(value))

    header: list[str] = []
    cells: list[Any] = []
    for name, value in facts.items():
        if decision.inputs[name].type.kind == "record" and isinstance(value, dict) and value:
            for field, item in value.items():
                header.append(f"{name}.{field}")
                cells.append(text(item))
        else:
            header.append(name)
            cells.append(text(value))
    return header, cells


def test_facts_the_columns_checked_are_the_checked_facts_of_the_row() -> None:
    library = skillcert.load(POLICIES)
    rng = random.Random("checked")
    trusted = 0
    for path in find_test_files(POLICIES):
        for case in load_cases(path)[0]:
            if not isinstance(case.facts, dict) or case.decision not in {i.id for i in library.decisions()}:
                continue
            decision = library.decision(case.decision)
            header, good = _case_cells(decision, case.facts)
            rows = HeaderRows(decision, ["编号", *header])
            for spoiled in range(4 if good else 1):  # the case as it is, then with a cell or more spoiled
                cells: list[Any] = ["ID", *good]
                for _ in range(spoiled):
                    cells[rng.randrange(1, len(cells))] = rng.choice(CELLS)
                checked = _facts_or_error(lambda: rows.checked(cells))  # noqa: B023 - called at once
                reference = _facts_or_error(lambda: library.check_facts(decision.id, rows.facts(cells)))  # noqa: B023
                if checked == ("facts", None):
                    continue  # not certainly right: the usual path says what is wrong
                trusted += 1
                assert checked == reference, (case.decision, header, cells)
                for name in decision.inputs:  # what the summary counts by: the value given, None when not given
                    assert rows.given(cells, name) == rows.facts(cells).get(name)
    assert trusted >= 30


def test_a_converted_value_kept_for_a_column_is_never_shared_when_it_can_change() -> None:
    decision = skillcert.load(POLICIES).decision("chongqing/renewal")
    rows = HeaderRows(decision, ["registered_occupations", "findings.posts_missing"])
    first = rows.facts(['["4-01-05-01"]', "1"])
    first["registered_occupations"].append("changed")
    first["findings"]["posts_missing"] = 7
    assert rows.facts(['["4-01-05-01"]', "1"]) == {"registered_occupations": ["4-01-05-01"],
                                                    "findings": {"posts_missing": 1}}
    assert rows.facts(["[4-01", "2"])["registered_occupations"] == "[4-01"  # not JSON: left for the facts' check
    rows = HeaderRows(decision, ["institution_kind", "registry_level", "registration_expires_on", "applied_on",
                                 "registered_occupations", "findings.posts_missing"])
    good = ["social_org", "city", "2025-06-30", "2025-05-20", '["4-01-05-01"]', "1"]
    checked = rows.checked(good)
    assert checked is not None
    checked["registered_occupations"].append("changed")
    checked["findings"]["posts_missing"] = 7
    checked["assessed_occupations"].append("changed")  # a default: a fresh copy each time
    again = rows.checked(good)
    assert again is not None and again["registered_occupations"] == ["4-01-05-01"]
    assert again["findings"]["posts_missing"] == 1 and again["assessed_occupations"] == []
    assert rows.checked([*good[:5], "[4-01", "2"]) is None  # not JSON: the usual path says what is wrong


@pytest.mark.parametrize("rendering", ["csv", "typed", "text", "json"])
def test_cells_rendered_from_the_result_are_the_cells_of_its_row(rendering: str) -> None:
    library = skillcert.load(POLICIES)
    decision = library.decision("chongqing/renewal")
    header = ["编号", "institution_kind", "registry_level", "registration_expires_on", "applied_on",
              "registered_occupations", "findings.posts_missing", "findings.no_duty_records", "备注"]
    rows = HeaderRows(decision, header)
    columns = [*rows.carried_names, "outcome", "outcome_label", "score",
               *(f"deadlines.{n}" for n in decision.deadlines), "reasons", "error"]
    reference = row_renderer(rendering, columns)
    fast = cells_renderer(rendering, decision, rows.carried_names) if rendering != "json" else None
    rng = random.Random(rendering)
    for i in range(60):
        cells = [f"=ID-{i}", rng.choice(["social_org", "technical_school", "bad"]), "city", "2025-06-30",
                 rng.choice(["2025-05-06", "2025-05-20", "2026-01-01"]), '["4-01-05-01"]', str(rng.randint(0, 3)),
                 rng.choice(["true", "false"]), rng.choice(["+1", "", "@x", "备注\x01", None])]
        try:
            result, error = library.evaluate(decision.id, rows.facts(cells), as_of=dt.date(2025, 5, 25),
                                             detail=False), None
        except SkillcertError as exc:
            result, error = None, f"{exc.code}: {exc.message}"
        expected = reference(result_row(decision, rows.passthrough(cells), result, error))
        if fast is not None:
            assert fast(rows.carried(cells), result, error) == expected


def test_a_batch_file_is_the_same_in_workers_and_in_this_process(tmp_path: Path) -> None:
    library = skillcert.load(POLICIES)
    rng = random.Random(5)
    header = ["编号", "institution_kind", "registry_level", "registration_expires_on", "applied_on",
              "registered_occupations", "findings.posts_missing", "findings.no_duty_records", "备注"]
    src = tmp_path / "in.csv"
    with open(src, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i in range(1300):
            w.writerow([f"CQ-{i}", rng.choice(["social_org", "technical_school", "bad"]), "city", "2025-06-30",
                        "2025-05-20", rng.choice(['["4-01-05-01"]', "[", ""]), rng.choice(["0", "1", "x", ""]),
                        rng.choice(["true", "false", "是"]), rng.choice(["", "=cmd", "备注"])][: rng.choice([9, 9, 9, 7])])
    outputs = {}
    for workers in (1, 2):
        for suffix in (".csv", ".jsonl"):
            out = tmp_path / f"out-{workers}{suffix}"
            run_batch(library, "chongqing/renewal", src, out, as_of=dt.date(2025, 5, 25), workers=workers,
                      progress=False, stderr=io.StringIO())
            outputs[workers, suffix] = out.read_bytes()
    assert outputs[1, ".csv"] == outputs[2, ".csv"] and outputs[1, ".jsonl"] == outputs[2, ".jsonl"]
    assert b"cell-invalid" not in outputs[1, ".csv"]


def test_read_rows_still_gives_mappings(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("编号,,institution_kind\nA,,social_org\nB,x,city,extra\n", encoding="utf-8")
    header, rows = read_rows(src)
    assert header == ["编号", "", "institution_kind"]
    first, second = list(rows)
    assert first == {"编号": "A", "institution_kind": "social_org"}
    assert second["编号"] == "B" and second["__error__"].code == "row-extra-cells"
    table = read_table(src)
    assert [r if r.__class__ is list else r[0] for r in table.rows] == [["A", "", "social_org"],
                                                                       ["B", "x", "city", "extra"]]
    assert Decimal("1") == 1  # (cells are compared by value, never by identity)


def _messy_csv(path: Path, kind: str, rows: int = 1600) -> None:
    """A CSV file of chongqing rows with what makes records hard to find in bytes: quoted cells over several
    lines, doubled quotes, blank lines, rows too wide, CR LF line ends, GBK text, quotes inside unquoted cells."""
    rng = random.Random(kind)
    newline = "\r\n" if kind == "crlf" else "\n"
    lines = ["编号,institution_kind,registry_level,registration_expires_on,applied_on,registered_occupations,"
             "findings.posts_missing,备注"]
    for i in range(rows):
        note = rng.choice(["", "备注", '"两行\n的备注"', '"引号""内""的"', '"逗号,分开"', "x"])
        if kind == "stray-quote" and i in (1200, 1450):
            note = '5"长'  # a quote inside a cell that is not quoted: taken as it is
        occupations = rng.choice(['"[""4-01-05-01""]"', "", '"[""4-01-05-01"", ""4-03-02-01""]"'])
        line = (f"CQ-{i},{rng.choice(['social_org', 'technical_school', '社会培训评价组织', 'bad'])},city,"
                f"2025-06-30,{rng.choice(['2025-05-06', '2025-05-20'])},{occupations},{rng.choice(['0', '1', 'x'])},"
                f"{note}")
        if rng.random() < 0.02:
            line += ",多余"  # a cell beyond the header: the row's error, naming its line
        lines.append(line)
        if rng.random() < 0.02:
            lines.append("")
    text = newline.join(lines) + (newline if kind != "no-final-newline" else "")
    path.write_bytes(text.encode("gb18030" if kind == "gb18030" else "utf-8"))


@pytest.mark.parametrize("kind", ["plain", "crlf", "gb18030", "no-final-newline", "stray-quote"])
def test_a_csv_file_read_in_blocks_by_workers_is_the_file_read_in_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    from skillcert.tabular import batch, reading

    monkeypatch.setattr(reading, "BLOCK_BYTES", 4096)  # many blocks, cut by this process
    read_on: list[int] = []
    real = batch.csv_rows_from

    def reading_on(block: Any, names: list[str]) -> Any:
        read_on.append(block.line)
        return real(block, names)

    monkeypatch.setattr(batch, "csv_rows_from", reading_on)
    blocks: list[Any] = []
    real_blocks = reading.csv_blocks

    def cutting(*args: Any) -> Any:
        for block in real_blocks(*args):
            blocks.append(block.line)
            yield block

    monkeypatch.setattr(reading, "csv_blocks", cutting)
    library = skillcert.load(POLICIES)
    src = tmp_path / "in.csv"
    _messy_csv(src, kind)
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"out-{workers}.csv"
        summary = run_batch(library, "chongqing/renewal", src, out, as_of=dt.date(2025, 5, 25), workers=workers,
                            progress=False, stderr=io.StringIO())
        outputs.append((out.read_bytes(), summary))
    assert outputs[0] == outputs[1]
    assert b"row-extra-cells" in outputs[0][0] and "两行\n的备注" in outputs[0][0].decode("utf-8-sig")
    # a quote inside an unquoted cell can make a cut fall inside a record: the rest is read in order
    assert (read_on != []) == (kind == "stray-quote")
    assert len(blocks) > 5  # the workers read the file's bytes
