"""run_batch's hooks for a caller of its own (the server's batch page): ``on_rows`` is told the rows finished after
each chunk; ``on_row`` is handed every row of a CSV or XLSX file in order — its carried-over cells, its facts and
full result, or its error — from the one evaluation that also makes the output row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import skillcert
from skillcert.tabular import pool
from skillcert.tabular.batch import run_batch
from skillcert_testutil import read_csv, write_csv
from test_batch import AS_OF, HEADER, ROWS

LIBRARY = skillcert.load()
DECISION = "shanxi/evaluation"


def test_on_row_is_handed_every_row_in_order_with_the_result_a_single_case_gets(tmp_path: Path) -> None:
    seen: list[tuple[dict[str, Any], Any, Any, str | None]] = []

    def on_row(carried: Mapping[str, Any], facts: Mapping[str, Any] | None, result: Any, error: str | None) -> None:
        seen.append((dict(carried), facts, result, error))

    src = write_csv(tmp_path / "in.csv", HEADER, ROWS)
    summary = run_batch(LIBRARY, DECISION, src, tmp_path / "out.csv", as_of=dt.date.fromisoformat(AS_OF),
                        progress=False, on_row=on_row)
    assert summary.rows == 4 and summary.errors == 1
    assert [c["机构编号"] for c, *_ in seen] == ["SX-001", "SX-002", "SX-003", "SX-004"]
    out = read_csv(tmp_path / "out.csv")
    for (carried, facts, result, error), row in zip(seen, out, strict=True):
        assert carried == {"机构编号": row["机构编号"]}
        if error is not None:
            assert facts is None and result is None and row["error"] == error
            continue
        assert result.outcome == row["outcome"] and row["error"] == ""
        single = LIBRARY.evaluate(DECISION, facts, as_of=dt.date.fromisoformat(AS_OF))
        assert result.to_json() == single.to_json()  # in full: the scorecard, checklists … a case's page shows
    assert seen[3][3].startswith("facts-invalid: registered_on(公布备案资质之日)")


def test_the_output_is_the_same_with_or_without_on_row(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", HEADER, ROWS)
    run_batch(LIBRARY, DECISION, src, tmp_path / "plain.csv", as_of=dt.date.fromisoformat(AS_OF), progress=False)
    run_batch(LIBRARY, DECISION, src, tmp_path / "seen.csv", as_of=dt.date.fromisoformat(AS_OF), progress=False,
              on_row=lambda *_: None)
    assert read_csv(tmp_path / "plain.csv") == read_csv(tmp_path / "seen.csv")


def test_on_rows_is_told_the_rows_finished_after_each_chunk(tmp_path: Path) -> None:
    told: list[int] = []
    rows = ROWS[:3] * (pool.CHUNK // 3 + 1)  # two chunks
    src = write_csv(tmp_path / "in.csv", HEADER, rows)
    run_batch(LIBRARY, DECISION, src, tmp_path / "out.xlsx", as_of=dt.date.fromisoformat(AS_OF), progress=False,
              on_rows=told.append)
    assert told == [pool.CHUNK, len(rows)]


def test_on_row_needs_the_rows_evaluated_in_this_process(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", HEADER, ROWS)
    with pytest.raises(ValueError, match="workers must be 1"):
        run_batch(LIBRARY, DECISION, src, tmp_path / "out.csv", workers=2, on_row=lambda *_: None)


def test_on_row_is_refused_for_rows_with_their_own_keys_and_no_output_is_left(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"institution_kind": "social_org"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="file with a header"):
        run_batch(LIBRARY, DECISION, src, tmp_path / "out.xlsx", as_of=dt.date.fromisoformat(AS_OF), progress=False,
                  on_row=lambda *_: None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]
