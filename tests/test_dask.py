"""The Dask adapter evaluates a Dask DataFrame on a local cluster with the same results as `skillcert batch`."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from skillcert_testutil import POLICIES

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
    import skillcert

    ddf = institutions(40)
    result = evaluate_dataframe(ddf, "shanxi/evaluation", policies=POLICIES, as_of=AS_OF)
    assert list(result.columns)[:3] == ["机构编号", "outcome", "outcome_label"]
    computed = result.compute()
    assert len(computed) == 40 and list(computed["机构编号"]) == [f"SX-{i:04d}" for i in range(40)]
    expected = list(skillcert.load(POLICIES).evaluate_many(
        "shanxi/evaluation", ddf.compute().to_dict("records"), as_of=AS_OF))
    assert list(computed["outcome"]) == [r["outcome"] for r in expected]
    first_reasons = json.loads(computed["reasons"].iloc[0])
    assert first_reasons and first_reasons[0]["rule"] == expected[0]["reasons"][0]["rule"]
    assert computed["error"].isna().all()


def test_an_unknown_decision_fails_on_the_client_before_any_work() -> None:
    import skillcert

    with pytest.raises(skillcert.UsageError):
        evaluate_dataframe(institutions(3), "shanxi/evaluaton", policies=POLICIES, as_of=AS_OF)
