"""Many rows at once: files of cases (``skillcert batch``), rows in Python and Dask data frames.

This layer stands above :mod:`skillcert.library` (which knows nothing of it). Its modules, by concept:

* :mod:`.reading` — input files (CSV, XLSX, JSON Lines, YAML list) → raw rows;
* :mod:`.columns` — raw rows → facts: which column is which input (names, dotted paths, Chinese labels) and
  cell conversion by declared type; the only reader of input declarations here;
* :mod:`.cells` — results → output rows, and the one renderer of cells for CSV, XLSX and data frames;
* :mod:`.evaluation` — one raw row → one output row, errors kept in their row;
* :mod:`.summary` — the counts of a run, and the input they are grouped by;
* :mod:`.writers` — CSV, XLSX (with its summary sheet) and JSON Lines files, written atomically;
* :mod:`.pool` — worker processes that rebuild the library from its spec;
* :mod:`.batch` — the orchestration: :func:`run_batch` and :func:`evaluate_many`;
* :mod:`.dask` — the Dask adapter (optional dependency), on the same path.
"""

from __future__ import annotations

from .batch import BatchSummary, evaluate_many, run_batch

__all__ = ["BatchSummary", "evaluate_many", "run_batch"]
