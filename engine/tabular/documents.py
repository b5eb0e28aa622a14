"""The documents of many rows: ``skillcert batch … --documents DIR`` writes, for each row of the input, the
documents its outcome calls for, named after the row's id column (``<id>_<title>.docx``, safe on Windows, unique).

Rows are read and turned into facts the same way as the batch output (:mod:`skillcert.rows.columns`); a column that
is no input of the decision and is named like a document input, by its name or its Chinese label (名称, 落款日期 …),
gives that document input. The files are written to a staging folder inside DIR and moved into DIR when every row
has been seen, so an interrupted run leaves DIR as it was. A row whose documents cannot be made (bad facts, a
missing document input) is named in the errors and the others go on. A document declared with ``scope: batch`` (a
summary table) is made once, from every row evaluated, named by its title.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..compiler.model import Decision
from ..documents.files import safe_name
from ..documents.inputs import column_key, document_columns
from ..documents.render import BatchEntry, render_batch_document, render_documents
from ..errors import SkillcertError, UsageError
from ..library import Library
from ..rows.columns import ERROR_KEY, header_matches, row_facts
from .reading import read_table, row_mapping

__all__ = ["write_row_documents", "RowDocuments"]


@dataclass
class RowDocuments:
    """What a run wrote: how many rows, the files, and each row's error (``第 n 行:…``)."""

    rows: int = 0
    files: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _rows(path: Path, decision: Decision) -> Iterator[dict[str, Any]]:
    table = read_table(path, functools.partial(header_matches, decision))
    try:
        if table.keyed:
            yield from table.rows
        else:
            for row in table.rows:
                yield row_mapping(table.header, row)
    finally:
        table.close()


def write_row_documents(library: Library, decision_id: str, input_path: str | Path, folder: str | Path, *,
                        as_of: dt.date | None = None, allow_out_of_period: bool = False,
                        id_column: str | None = None) -> RowDocuments:
    """Every row's documents into ``folder``; the id comes from ``id_column`` (default: the first column that is
    neither an input nor a document input), else the row's number."""
    decision = library.decision(decision_id, as_of=as_of)  # the version in force then
    if not decision.documents:
        raise UsageError(f"{decision_id} 没有声明文书(documents),无法生成文书")
    columns = document_columns(decision)
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".skillcert-documents-", dir=target))
    run = RowDocuments()
    taken: set[str] = set()
    staged: list[Path] = []
    entries: list[BatchEntry] = []
    try:
        for n, row in enumerate(_rows(Path(input_path), decision), start=1):
            run.rows = n
            if n == 1 and id_column is not None and id_column not in row:
                raise UsageError(f"输入中没有编号列 '{id_column}'(列:{'、'.join(map(str, row))})")
            try:
                staged += _row(library, decision, row, n, staging, taken, columns, as_of, allow_out_of_period,
                               id_column, entries)
            except SkillcertError as exc:
                run.errors.append(f"第 {n} 行:{exc.code}: {exc}")
        for doc in decision.documents.values():  # the documents of the whole batch (a summary table …)
            if doc.scope != "batch" or not entries:
                continue
            try:
                path = staging / safe_name(doc.title, ".docx", taken)
                path.write_bytes(render_batch_document(decision, doc, entries, file=str(input_path)))
                staged.append(path)
            except SkillcertError as exc:
                run.errors.append(f"《{doc.title}》:{exc.code}: {exc}")
        for path in staged:
            final = target / path.name
            os.replace(path, final)
            run.files.append(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return run


def _row(library: Library, decision: Decision, row: dict[str, Any], n: int, staging: Path, taken: set[str],
         columns: dict[str, str], as_of: dt.date | None, allow: bool, id_column: str | None,
         entries: list[BatchEntry]) -> list[Path]:
    problem = row.get(ERROR_KEY)
    if problem is not None:
        raise SkillcertError(str(getattr(problem, "message", problem)), code=getattr(problem, "code", "row-invalid"))
    facts, carried = row_facts(decision, row)
    given: dict[str, Any] = {}
    ident = ""
    for key, value in carried.items():
        name = columns.get(column_key(str(key)))
        if name is not None:
            given[name] = value
        elif id_column is None and not ident and value not in (None, ""):
            ident = str(value)
    if id_column is not None:
        value = row.get(id_column)
        ident = "" if value is None else str(value).strip()
    result = library.evaluate(decision.id, facts, as_of=as_of, allow_out_of_period=allow)
    entries.append(BatchEntry(ident or str(n), result, facts, given))
    blobs = render_documents(decision, result, facts, given, file=f"第 {n} 行")
    out = []
    for doc_id, blob in blobs.items():
        name = safe_name(f"{ident or n}_{decision.documents[doc_id].title}", ".docx", taken)
        path = staging / name
        path.write_bytes(blob)
        out.append(path)
    return out
