"""The Dask adapter evaluates a Dask DataFrame on a local cluster with the same results as `skillcert batch`:
the same columns, the same cells, the same library (plugins included) rebuilt in each worker process."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
import skillcert
import skillcert_testplugin
from skillcert import plugins
from skillcert.tabular import run_batch
from skillcert_testutil import PLUGIN_PACKS, POLICIES

# the id columns of these frames are carried over with a warning each (tested in tests/test_hostile_rows.py)
pytestmark = pytest.mark.filterwarnings("ignore::skillcert.tabular.dask.UnmatchedColumnWarning")

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

from skillcert.tabular.dask import evaluate_dataframe  # noqa: E402

AS_OF = dt.date(2023, 9, 20)


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def institutions(n: int) -> object:
    kinds = ["social_org", "school", "employer"]
    frame = pd.DataFrame({
        "机构编号": [f"SX-{i:04d}" for i in range(n)],
        "institution_kind": [kinds[i % 3] for i in range(n)],
        "registry_level": ["city"] * n,
        "registered_on": ["2020-05-10" if i % 2 else "2021-04-02" for i in range(n)],
        "assessment_dates": ['["2022-06-01", "2023-03-01"]' if i % 4 else "[]" for i in range(n)],
        "evaluation_on": ["2023-09-15"] * n,
        "evaluation_result": ["pass" if i % 5 else None for i in range(n)],
    })
    return dd.from_pandas(frame, npartitions=4)


def test_dask_dataframe_is_evaluated_on_a_local_cluster_like_batch(client: object) -> None:
    ddf = institutions(40)
    result = evaluate_dataframe(ddf, "shanxi/evaluation", policies=POLICIES, as_of=AS_OF)
    assert list(result.columns)[:3] == ["机构编号", "outcome", "outcome_label"]
    computed = result.compute()
    assert len(computed) == 40 and list(computed["机构编号"]) == [f"SX-{i:04d}" for i in range(40)]
    expected = list(skillcert.load(POLICIES).evaluate_many("shanxi/evaluation", ddf.compute().to_dict("records"),
                                  as_of=AS_OF))
    assert list(computed["outcome"]) == [r["outcome"] for r in expected]
    first = expected[0]["reasons"][0]
    assert computed["reasons"].iloc[0].splitlines()[0] == f"[{first['outcome']}] {first['message']}({first['rule']})"
    assert computed["error"].isna().all()


def test_an_unknown_decision_fails_on_the_client_before_any_work() -> None:
    with pytest.raises(skillcert.UsageError):
        evaluate_dataframe(institutions(3), "shanxi/evaluaton", policies=POLICIES, as_of=AS_OF)


def test_library_and_policies_are_not_both_given() -> None:
    with pytest.raises(skillcert.UsageError):
        evaluate_dataframe(institutions(3), "shanxi/evaluation", policies=POLICIES, library=skillcert.load(POLICIES),
                           as_of=AS_OF)


# Columns headed by names, dotted paths and Chinese labels, cells as staff type them, and a row with bad facts.
HEADER = ["机构编号", "机构类型", "备案层级", "registered_on", "assessment_dates", "evaluation_on", "evaluation_result",
          "organized_cheating"]
ROWS = [
    ["SX-001", "社会培训评价组织", "市级", "2020-05-10", '["2020-09-01", "2021-03-15"]', "2023-09-15", "pass", ""],
    ["SX-002", "school", "province", "2021-04-02", '["2021-06-01", "2022-05-01", "2023-03-01"]', "2023-09-15",
     "below_standard", "否"],
    ["SX-003", "自主评价企业", "city", "2020-07-01", '["2020-10-01", "2021-09-01", "2022-08-01", "2023-06-01"]',
     "2023-09-15", "合格", "是"],
    ["SX-004", "social_org", "city", "2020-13-01", "[]", "2023-09-15", "pass", ""],
    ["SX-005", "school", "city", "2021-03-01", '["2022-06-01", "2023-03-01"]', "2023-09-15", "pass", ""],
]


def batch_csv(tmp_path: Path, header: list[str], rows: list[list[str]], decision: str, as_of: dt.date,
              library: object | None = None, workers: int = 1) -> list[dict[str, str]]:
    src, dst = tmp_path / "in.csv", tmp_path / f"out-{workers}.csv"
    with open(src, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    run_batch(library or skillcert.load(POLICIES), decision, src, dst, as_of=as_of, workers=workers, progress=False,
              stderr=io.StringIO())
    with open(dst, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def frame_cells(result: object) -> list[dict[str, str]]:
    """A computed result frame as a CSV file has it: empty cells (None) are empty text."""
    computed = result.compute()  # type: ignore[attr-defined]
    return [{k: "" if v is None else v for k, v in row.items()} for row in computed.to_dict("records")]


def test_a_chinese_label_column_is_an_input_not_a_carried_column(client: object) -> None:
    ddf = dd.from_pandas(pd.DataFrame(ROWS, columns=HEADER), npartitions=2)
    result = evaluate_dataframe(ddf, "shanxi/evaluation", policies=POLICIES, as_of=AS_OF)
    assert list(result.columns)[:2] == ["机构编号", "outcome"]  # 机构类型 and 备案层级 are inputs (by their labels)
    rows = frame_cells(result)
    # SX-005: a school of 2021 with two assessments is normal; left at its default, institution_kind would fail
    assert rows[4]["outcome"] == "normal" and rows[4]["error"] == ""


def test_a_frame_and_a_csv_batch_of_the_same_rows_give_identical_cells(client: object, tmp_path: Path) -> None:
    expected = batch_csv(tmp_path, HEADER, ROWS, "shanxi/evaluation", AS_OF)
    assert expected[3]["error"] and len(expected[0]["reasons"].splitlines()) == 2  # one line per reason
    ddf = dd.from_pandas(pd.DataFrame(ROWS, columns=HEADER), npartitions=2)
    result = evaluate_dataframe(ddf, "shanxi/evaluation", policies=POLICIES, as_of=AS_OF)
    assert list(result.columns) == list(expected[0])
    assert frame_cells(result) == expected


def test_scores_and_dotted_columns_give_identical_cells(client: object, tmp_path: Path) -> None:
    header = ["id", "institution_kind", "registry_level", "registration_expires_on", "applied_on",
              "registered_occupations", "findings.posts_missing", "findings.skill_room_defects",
              "findings.contributed_to_standards"]
    rows = [["CQ-1", "social_org", "city", "2025-06-30", "2025-05-20", '["4-01-05-01"]', "2", "1", "true"],
            ["CQ-2", "social_org", "city", "2025-06-30", "2025-05-20", '["4-01-05-01"]', "two", "", ""]]
    as_of = dt.date(2025, 5, 25)
    expected = batch_csv(tmp_path, header, rows, "chongqing/renewal", as_of)
    assert expected[0]["score"] and expected[1]["error"]
    ddf = dd.from_pandas(pd.DataFrame(rows, columns=header), npartitions=1)
    assert frame_cells(evaluate_dataframe(ddf, "chongqing/renewal", policies=POLICIES, as_of=as_of)) == expected


def test_a_library_with_a_plugin_is_rebuilt_on_the_workers(client: object, tmp_path: Path) -> None:
    pm = plugins.new_plugin_manager(extra=[skillcert_testplugin], entry_points=False)
    library = skillcert.load(PLUGIN_PACKS, pm=pm)
    rows = [[f"P-{i}", "2031-05-20", str(i % 4)] for i in range(12)]
    header = ["编号", "applied_on", "defects"]
    as_of = dt.date(2031, 5, 25)
    expected = batch_csv(tmp_path, header, rows, "plugged/renewal", as_of, library=library)
    assert [r["outcome"] for r in expected[:4]] == ["renew", "renew", "renew", "deny"]
    assert expected[0]["deadlines.decision_due"] == "2031-06-18"  # the plugin's holiday year
    ddf = dd.from_pandas(pd.DataFrame(rows, columns=header), npartitions=3)
    assert frame_cells(evaluate_dataframe(ddf, "plugged/renewal", library=library, as_of=as_of)) == expected
