"""Many rows at once: files of cases (``skillcert batch``), worker processes and Dask data frames.

This layer stands above :mod:`skillcert.library` (which knows nothing of it); rows become facts and results
become cells on the one path of :mod:`skillcert.rows`. Its modules, by concept:

* :mod:`.reading` — input files (CSV, XLSX, JSON Lines, YAML list) → raw rows;
* :mod:`.evaluation` — what to do with each row of a run (evaluate, render, group), picklable for workers;
* :mod:`.summary` — the counts of a run, and the input they are grouped by;
* :mod:`.writers` — CSV, XLSX (with its summary sheet) and JSON Lines files, written atomically;
* :mod:`.pool` — worker processes that rebuild the library from its spec;
* :mod:`.batch` — the orchestration: :func:`run_batch`;
* :mod:`.dask` — the Dask adapter (optional dependency), on the same path.

May import the library and everything below it.
"""

from __future__ import annotations

from .batch import BatchSummary, run_batch

__all__ = ["BatchSummary", "run_batch"]
