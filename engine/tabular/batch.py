"""Batch evaluation, the orchestration: many rows in (CSV, XLSX, JSON Lines, YAML list), one result row out per
input row, in order — :func:`run_batch` for files (``skillcert batch``). Rows in Python go through
:meth:`skillcert.library.Library.evaluate_many`, on the same row path (:mod:`skillcert.rows`).

A run checks everything that would stop it before reading a row (formats, decision, period of validity, the
summary's input), then streams: rows are read (:mod:`.reading`), split into facts and carried-over columns
(:mod:`.columns`), evaluated (:mod:`.evaluation`, in this process or in worker processes, :mod:`.pool`), rendered
(:mod:`.cells`), written (:mod:`.writers`) and counted (:mod:`.summary`). Memory stays constant whatever the
number of rows. A row whose facts are bad gets its error in its own row and the run goes on.

The names other code imports from here (``read_rows``, ``row_facts``, ``result_row``, ``output_columns``,
``INPUT_FORMATS``, ``OUTPUT_FORMATS``, ``BatchSummary``) are re-exported from the modules that own them.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from ..errors import UsageError
from ..library import Library
from ..rows.cells import output_columns, result_row
from ..rows.columns import carried_columns, row_facts
from ..rows.evaluation import checked_decision
from .evaluation import Done, RowTask, row_finisher
from .reading import INPUT_FORMATS, count_rows, read_rows
from .summary import BatchSummary, new_summary, summary_input
from .writers import OUTPUT_FORMATS, RENDERING, AtomicOutput, output_format

__all__ = ["INPUT_FORMATS", "OUTPUT_FORMATS", "BatchSummary", "read_rows", "row_facts", "result_row",
           "output_columns", "run_batch"]


def run_batch(library: Library, decision_id: str, input_path: str | Path, output_path: str | Path, *,
              as_of: dt.date | None = None, workers: int = 1, allow_out_of_period: bool = False,
              progress: bool | None = None, stderr: TextIO | None = None,
              group_by: str | None = None) -> BatchSummary:
    """Evaluate every row of ``input_path`` into ``output_path`` (format by extension); see the module doc.

    ``group_by`` (an input's name or Chinese label) is the input the XLSX summary counts outcomes by, instead of
    the one the pack names (``summary_by``).
    """
    src, dst = Path(input_path), Path(output_path)
    out_fmt = output_format(dst)
    if src.resolve() == dst.resolve():
        raise UsageError("输出文件不能与输入文件相同")
    if workers < 1:
        raise UsageError("--workers 至少为 1")
    decision = checked_decision(library, decision_id, as_of, allow_out_of_period)
    group_input = summary_input(decision, group_by)
    spec = library.spec() if workers > 1 else None  # a plugin that cannot reach the workers: refused now
    header, rows = read_rows(src)
    if header is None:  # JSONL / YAML: the carried-over columns are those of the first row
        first = next(rows, None)
        rows = iter(()) if first is None else _prepend(first, rows)
        header = [] if first is None else list(first)
    columns = output_columns(decision, carried_columns(decision, header))
    task = RowTask(decision.id, as_of, allow_out_of_period, tuple(columns), RENDERING[out_fmt], group_input)

    err = stderr or sys.stderr
    show = progress if progress is not None else bool(getattr(err, "isatty", lambda: False)())
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=count_rows(src), unit="行", file=err, dynamic_ncols=True, mininterval=0.5)

    results: Iterator[Done]
    if spec is not None:
        from .pool import evaluate_in_pool

        results = evaluate_in_pool(spec, task, rows, workers)
    else:
        results = map(row_finisher(library, task), rows)
    summary = new_summary(decision, group_input)
    try:
        with AtomicOutput(dst, columns) as output:
            write, count = output.write, summary.count
            for written, outcome, failed, group in results:
                write(written)
                count(outcome, failed, group)
                if bar is not None:
                    bar.update(1)
            output.commit(summary, {code: o.label for code, o in decision.outcomes.items()})
    finally:
        if bar is not None:
            bar.close()
    return summary


def _prepend(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest
