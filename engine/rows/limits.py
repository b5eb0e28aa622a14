"""The limits on what one input file, row or cell may hold: anything beyond them is said clearly (a code, the
column or row, the limit) instead of running away in time or memory.

A limit on a whole file or its header stops the run (exit 2); a limit on one cell or row is that row's error, and
the run goes on. The values are generous for real spreadsheets (a spreadsheet cell holds at most 32,767 characters)
and small enough to keep one row's memory in the megabytes.
"""

from __future__ import annotations

__all__ = ["MAX_CELL_CHARS", "MAX_LINE_CHARS", "MAX_HEADER_CELL_CHARS", "MAX_COLUMNS", "MAX_JSON_DEPTH",
           "HEADER_SEARCH_ROWS", "MAX_YAML_BYTES", "MAX_XLSX_TEXT_BYTES"]

MAX_CELL_CHARS = 32_767           # one cell (a JSON list cell included), what a spreadsheet cell holds: more is the
                                  # row's error
MAX_LINE_CHARS = 2_000_000        # one physical line of a CSV or JSON Lines file: more is the row's error, unread
MAX_HEADER_CELL_CHARS = 500       # one column name (a group label, a dot and a field label fit easily)
MAX_COLUMNS = 1_000               # columns of the header (trailing empty ones not counted)
MAX_JSON_DEPTH = 32               # nesting of lists and records in one JSON cell or JSON Lines row
HEADER_SEARCH_ROWS = 10           # a header below a title: searched for in the first rows that are not empty
MAX_YAML_BYTES = 64 * 1024 * 1024  # a YAML list is read whole: larger files should be CSV or JSON Lines
MAX_XLSX_TEXT_BYTES = 256 * 1024 * 1024  # the shared text table of an XLSX file, read whole by the reader
