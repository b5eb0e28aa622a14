"""Evaluating a Dask DataFrame of institutions: the same packs on a cluster (optional: ``pip install skillcert[dask]``).

    import dask.dataframe as dd
    from engine.dask import evaluate_dataframe

    institutions = dd.read_csv("institutions-*.csv", dtype=str)
    results = evaluate_dataframe(institutions, "shanxi/evaluation", as_of=datetime.date(2023, 9, 20))
    results.to_parquet("results/")          # or .compute(), .groupby("outcome").size().compute() …

Each partition is evaluated by :func:`engine.batch.evaluate_many`, the same path as ``skillcert batch``: columns
that are inputs of the decision become facts (dotted columns such as ``findings.posts_missing`` are nested, text
cells converted by the declared type), the other columns (ids, names) are carried over, and the result columns
follow (outcome, outcome_label, score, deadlines.<name>, reasons, error). Each worker process compiles the pack
once and keeps it. The packs are read from ``policies`` (default: the bundled ones) on the workers, so that
folder must be reachable there.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..library import Library, load
from ..source.resources import policies_dir
from ..values import format_decimal, jsonable
from .batch import output_columns

__all__ = ["evaluate_dataframe"]


@functools.cache
def _library(policies: str) -> Library:
    """One compiled library per worker process (and per folder)."""
    return load(policies)


def _plain(value: Any) -> Any:
    """pandas/numpy cells as plain Python values: NaN and NA are empty, numpy scalars their Python value."""
    if value is None:
        return None
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        value = item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if type(value).__name__ == "Timestamp":
        return value.to_pydatetime()
    return value


def _evaluate_partition(part: Any, decision_id: str, policies: str, as_of: dt.date | None, allow: bool,
                        columns: list[str]) -> Any:
    import pandas as pd

    from .batch import evaluate_many

    library = _library(policies)
    rows = ({k: _plain(v) for k, v in record.items()} for record in part.to_dict("records"))
    out = [{c: _cell(row.get(c)) for c in columns}
           for row in evaluate_many(library, decision_id, rows, as_of=as_of, allow_out_of_period=allow)]
    return pd.DataFrame(out, columns=columns, index=part.index)


def _cell(value: Any) -> Any:
    """Exact decimals as text (a float column would lose them), dates ISO, reasons as JSON text."""
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return json.dumps(jsonable(value), ensure_ascii=False)
    return value


def evaluate_dataframe(df: Any, decision_id: str, *, policies: str | Path | None = None,
                       as_of: dt.date | None = None, allow_out_of_period: bool = False) -> Any:
    """A Dask DataFrame with one result row per input row (same partitions and index)."""
    import pandas as pd

    folder = str(Path(policies) if policies is not None else policies_dir())
    decision = load(folder).decision(decision_id)  # fail early, on the client: unknown decision, out of period
    from ..runtime.evaluate import check_period

    check_period(decision, as_of or dt.date.today(), allow_out_of_period)
    carried = [str(c) for c in df.columns if str(c).split(".")[0] not in decision.inputs]
    columns = output_columns(decision, carried)
    meta = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return df.map_partitions(_evaluate_partition, decision_id, folder, as_of, allow_out_of_period, columns,
                             meta=meta)
