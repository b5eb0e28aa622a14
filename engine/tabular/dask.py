"""The Dask adapter: a Dask DataFrame evaluated on a cluster, on the same path as ``skillcert batch``
(optional: ``pip install skillcert[dask]``).

    import dask.dataframe as dd
    from skillcert.tabular.dask import evaluate_dataframe

    cases = dd.read_csv("cases-*.csv", dtype=str)
    results = evaluate_dataframe(cases, "region/decision", as_of=datetime.date(2023, 9, 20))
    results.to_parquet("results/")          # or .compute(), .groupby("outcome").size().compute() …

Each partition goes the way of a batch file: the same columns → facts (:mod:`.columns`: input names, dotted
paths and Chinese labels, cells converted by the declared type; every other column carried over), the same
evaluation step (:mod:`.evaluation`), the same output columns and the same cells (:mod:`.cells`: exact decimals
as text, dates ISO, reasons one line per reason), so a frame and a CSV file of the same rows give the same cells.
Only empty cells differ in kind: None (NA) in a frame, empty text in a CSV file; and text that a spreadsheet would
take for a formula (``=…``) is kept as it is in a frame (data, not a spreadsheet), where a CSV file guards it with
a leading ``'``. pandas values (NaN, NA, numpy scalars, timestamps) are made plain Python values first.

The frame's columns are checked on the client, before any work, as a batch file's header is: a column that could
mean two inputs, the same input twice or no input at all is a :class:`~skillcert.errors.UsageError`; each column
that is no input is carried over with an :class:`UnmatchedColumnWarning`. A row that fails in any way carries its
error, and the partition goes on.

The library is the one given (``library=``, with its plugins, calendar years and evaluator) or the packs in
``policies`` (default: the bundled ones). Each worker process rebuilds it once from its picklable description
(:class:`~skillcert.library.LibrarySpec`) and compiles the pack once: the folder must be reachable from the
workers, and plugin modules importable there.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..library import Library, LibrarySpec, load
from ..rows.cells import output_columns
from ..rows.columns import plan_columns
from ..rows.evaluation import checked_decision
from .evaluation import RowTask, row_finisher

__all__ = ["evaluate_dataframe", "UnmatchedColumnWarning"]


class UnmatchedColumnWarning(UserWarning):
    """A column of the frame is no input of the decision: it is carried over to the result as it is."""

_LIBRARIES: dict[LibrarySpec, Library] = {}  # per process: one library per description


def _library(spec: LibrarySpec) -> Library:
    library = _LIBRARIES.get(spec)
    if library is None:
        library = _LIBRARIES[spec] = Library.from_spec(spec)
    return library


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


def _evaluate_partition(part: Any, spec: LibrarySpec, decision_id: str, as_of: dt.date | None, allow: bool,
                        columns: tuple[str, ...]) -> Any:
    import pandas as pd

    finish = row_finisher(_library(spec), RowTask(decision_id, as_of, allow, columns, "text"))
    out = [finish({k: _plain(v) for k, v in record.items()})[0] for record in part.to_dict("records")]
    return pd.DataFrame(out, columns=list(columns), index=part.index, dtype="object")


def evaluate_dataframe(df: Any, decision_id: str, *, policies: str | Path | None = None,
                       library: Library | None = None, as_of: dt.date | None = None,
                       allow_out_of_period: bool = False) -> Any:
    """A Dask DataFrame with one result row per input row (same partitions and index); see the module doc.

    ``library`` or ``policies``, not both. An unknown decision or an as-of date outside its period is refused here,
    on the client, before any work; so is a plugin that cannot reach the workers.
    """
    import pandas as pd

    if library is not None and policies is not None:
        raise UsageError("evaluate_dataframe:library 与 policies 只能给一个")
    if library is None:
        library = load(policies)
    spec = library.spec()
    _LIBRARIES.setdefault(spec, library)  # a scheduler in this process (threads) uses the library at hand
    decision = checked_decision(library, decision_id, as_of, allow_out_of_period)
    report = plan_columns(decision, list(df.columns))
    if report.problems:
        raise UsageError(f"数据框的列有 {len(report.problems)} 处问题", code=report.problems[0].code,
                         problems=report.problems)
    if not report.inputs:
        raise UsageError(f"数据框中没有一列是决定 {decision.id} 的输入;列名用输入的名称或中文标签",
                         code="no-input-columns")
    for column in report.carried:
        renamed = f",改名为 '{column.carried_as}'(与结果列同名)" if column.carried_as != str(column.key) else ""
        warnings.warn(f"列 '{column.key}' 不是决定 {decision.id} 的输入,原样带到结果{renamed}"
                      + (f";{column.hint}" if column.hint else ""), UnmatchedColumnWarning, stacklevel=2)
    columns = tuple(output_columns(decision, report.carried_names()))
    meta = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return df.map_partitions(_evaluate_partition, spec, decision.id, as_of, allow_out_of_period, columns,
                             meta=meta)
