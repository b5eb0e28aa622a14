"""Rows of cases, as spreadsheets and data frames hold them: columns → facts, results → output rows and cells.

* :mod:`.columns` — which column is which input (names, dotted paths, Chinese labels) and cell conversion by the
  declared type; rows of a file's header as lists of cells, converted by columns compiled once
  (:class:`~.columns.HeaderRows`, the fast path of ``skillcert batch``; the mapping path is its reference);
* :mod:`.cells` — the output columns, the output row of a result, and the one renderer of cells;
* :mod:`.evaluation` — one raw row → one output row, a bad row's error kept in its row;
* :mod:`.limits` — how much one file, header, row or cell may hold.

One conversion path for every caller: :meth:`skillcert.library.Library.evaluate_many`, ``skillcert batch`` and
its worker processes (:mod:`skillcert.tabular`) and the Dask adapter. Pure: no files, no processes.

May import every layer below the library (it evaluates through anything with the library's ``decision`` and
``evaluate`` methods).
"""
