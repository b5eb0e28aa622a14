"""The rows an impact is measured on (:mod:`.impact`): where they come from, in chunks a process can evaluate.

Three kinds of source, each read as it streams:

* facts given one case at a time — the packs' own test cases and example facts (both packs' folders: a case
  that is the same in both is taken once), a folder of facts files (YAML or JSON, one case each; a test file
  found there gives its cases), and the caller's ``(label, facts)`` pairs (e.g. a decision log's facts);
* a file of cases with a header (CSV, XLSX): read, split and converted exactly as ``skillcert batch`` reads it
  (:mod:`skillcert.tabular.reading`, :class:`skillcert.rows.columns.HeaderRows`), once for each pack;
* a file of rows with their own keys (JSON Lines, YAML list), on the batch's mapping path.

A file that cannot be used at all (unknown format, not UTF-8 or GB18030, a header with problems or no input
column) is refused before any row, with the batch's message and code; a facts or test file that cannot be read
is one error row (its own label), never the end of the run.

A chunk (:class:`Chunk`) is picklable: a :class:`Source` (what its rows are) and its rows, so that a worker
process can evaluate it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..compiler.model import Decision
from ..errors import SkillcertError
from ..library import Library
from ..rows.columns import header_matches, plan_columns
from ..rows.evaluation import error_text  # a row's error as the batch writes it
from ..source.loader import display_path, load_file
from ..tabular.reading import CsvBlock, read_table
from ..values import jsonable
from .tester import find_test_files, load_cases

__all__ = ["Source", "FactsRow", "Unreadable", "Chunk", "pack_rows", "facts_folder_rows", "caller_rows",
           "open_case_file", "CaseFile", "chunked", "FACTS_SUFFIXES"]

FACTS_SUFFIXES = (".yaml", ".yml", ".json")
_AS_OF_NOTE = re.compile(r"--as-of[ =](\d{4}-\d{2}-\d{2})")  # an example's own date, in its comment line
CHUNK = 500  # rows per chunk (the batch's)


@dataclass(frozen=True)
class Source:
    """What the rows of a chunk are: ``facts`` (:class:`FactsRow` / :class:`Unreadable`), ``cells`` (lists of
    cells under ``header``, or a block of a CSV file's records) or ``keyed`` (mappings); ``name`` is how labels
    name the file, ``path`` where it is; ``ids`` the columns carried as ids (no input of either pack); ``first``
    the file's row number of the first row of the chunk."""

    kind: str
    name: str = ""
    header: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    first: int = 0
    path: str = ""


@dataclass(frozen=True)
class FactsRow:
    """One case given as facts: its label, facts, as-of date (None: the run's) and where it comes from."""

    origin: str                 # 用例 / 示例 / 事实文件 / 调用方
    label: str
    facts: Mapping[str, Any]
    as_of: dt.date | None = None
    allow_out_of_period: bool = False


@dataclass(frozen=True)
class Unreadable:
    """A facts or test file that could not be read: an error row under both packs."""

    origin: str
    label: str
    error: str


Chunk = tuple[Source, Any]
FACTS = Source("facts")


def _fingerprint(case_as_of: dt.date | None, facts: Mapping[str, Any]) -> str:
    text = json.dumps(jsonable(dict(facts)), ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(f"{case_as_of}\0{text}".encode()).hexdigest()


def _decision_folder(library: Library, decision_id: str) -> Path | None:
    try:
        pack = library.decision(decision_id).pack
    except SkillcertError:
        return None
    return Path(pack.directory) if pack is not None and pack.directory else None


def pack_rows(libraries: Sequence[tuple[str, Library]], decision_id: str) -> Iterator[FactsRow | Unreadable]:
    """The test cases and example facts of ``decision_id`` in each library's pack folder (NEW's first): a case
    found in an earlier folder with the same facts and date is not given again. ``libraries`` are (how labels
    name the pack, library) pairs."""
    seen: set[str] = set()
    for row in _pack_rows(libraries, decision_id):
        if isinstance(row, FactsRow):
            key = _fingerprint(row.as_of, row.facts)
            if key in seen:
                continue
            seen.add(key)
        yield row


def _pack_rows(libraries: Sequence[tuple[str, Library]], decision_id: str) -> Iterator[FactsRow | Unreadable]:
    name = decision_id.partition("/")[2]
    for which, library in libraries:
        folder = _decision_folder(library, decision_id)
        if folder is None:
            continue
        for path in find_test_files(folder):
            yield from _cases(path, f"{which}:{path.relative_to(folder)}", decision_id)
        examples = (sorted(folder.glob("examples/*.yaml")) + sorted(folder.glob("examples/*.json"))
                    + sorted(folder.glob("examples/documents/*.yaml")))
        for path in examples:
            if path.stem == name or path.stem.startswith(name + "-"):
                yield _facts_file(path, "示例", f"{which}:{path.relative_to(folder)}")


def _facts_file(path: Path, origin: str, label: str) -> FactsRow | Unreadable:
    try:
        doc = load_file(path, display_path(path))
    except SkillcertError as exc:
        return Unreadable(origin, label, error_text(exc))
    if not isinstance(doc.data, dict):
        return Unreadable(origin, label, "facts-invalid: 事实文件应是一个映射(键: 值)")
    try:
        note = _AS_OF_NOTE.search(path.read_text(encoding="utf-8", errors="replace")[:4096])
        as_of = dt.date.fromisoformat(note.group(1)) if note else None
    except ValueError:
        as_of = None
    return FactsRow(origin, label, doc.data, as_of)


def facts_folder_rows(folder: Path, decision_id: str) -> Iterator[FactsRow | Unreadable]:
    """The cases of a folder of facts files (sorted, sub-folders included): each YAML/JSON file one case, the
    date in its ``--as-of`` note if it has one; a test file (``decision`` and ``cases``) gives its cases."""
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in FACTS_SUFFIXES and p.is_file()):
        label = str(path.relative_to(folder))
        try:
            head = load_file(path, display_path(path)).data
        except SkillcertError as exc:
            yield Unreadable("事实文件", label, error_text(exc))
            continue
        if isinstance(head, dict) and "cases" in head and "decision" in head:
            yield from _cases(path, label, decision_id)
            continue
        yield _facts_file(path, "事实文件", label)


def _cases(path: Path, label: str, decision_id: str) -> Iterator[FactsRow | Unreadable]:
    """The cases of one test file for ``decision_id``, or the file as one error row when it cannot be read. A case
    that expects an error is left out: it tests the facts check, not the decision."""
    try:
        cases, problems = load_cases(path)
    except SkillcertError as exc:
        yield Unreadable("用例", label, error_text(exc))
        return
    if problems:
        yield Unreadable("用例", label, f"{problems[0].code}: {problems[0].message}")
        return
    for case in cases:
        if case.decision == decision_id and case.want_error is None:
            yield FactsRow("用例", f"{label}#{case.name}", case.facts, case.as_of, case.allow_out_of_period)


def caller_rows(rows: Iterable[tuple[str, Mapping[str, Any]]]) -> Iterator[FactsRow]:
    for label, facts in rows:
        yield FactsRow("调用方", str(label), facts)


@dataclass
class CaseFile:
    """A file of cases opened for reading (header checked against both packs): its chunks, streamed."""

    path: Path
    source: Source
    rows: Iterator[Any]
    notes: list[str] = field(default_factory=list)
    closer: Any = None
    blocks: Callable[[], Iterator[CsvBlock]] | None = None  # a CSV file's records after the rows read, in blocks

    def chunks(self, size: int = CHUNK, *, head: int | None = None) -> Iterator[Chunk]:
        """Chunks of rows; given ``head`` (rows), a CSV file that can be cut into blocks of its bytes gives its
        first ``head`` rows as rows and the rest as blocks (:class:`~skillcert.tabular.reading.CsvBlock`, parsed
        by the process that evaluates them, as ``skillcert batch`` hands a CSV file to its workers)."""
        first = self.source.first
        src = self.source
        taken = 0
        while head is None or taken < head:
            rows = list(itertools.islice(self.rows, size if head is None else min(size, head - taken)))
            if not rows:
                return
            yield Source(src.kind, src.name, src.header, src.ids, first, src.path), rows
            first += len(rows)
            taken += len(rows)
        if self.blocks is None:
            yield from self.chunks(size)
            return
        for block in self.blocks():
            yield Source(src.kind, src.name, src.header, src.ids, block.line + 1, src.path), block

    def close(self) -> None:
        if self.closer is not None:
            self.closer()


def open_case_file(path: Path, old: Decision, new: Decision) -> CaseFile:
    """``path`` opened as ``skillcert batch`` opens its input: a :class:`~skillcert.errors.UsageError` with the
    batch's code and message for a file that cannot be used (format, encoding, header)."""
    from ..tabular.batch import check_header  # the batch's own checks and messages, not a copy of them

    table = read_table(path, functools.partial(header_matches, new))
    try:
        line = table.header_row
        reports = [plan_columns(d, table.header, source=str(path), line=line) for d in (new, old)]
        said: list[str] = []  # which column is which input: the batch's to say, not the summary's
        for decision, report in zip((new, old), reports, strict=True):
            check_header(decision, path, table, report, said.append)
        carried = set(reports[1].carried_names())
        ids = tuple(n for n in reports[0].carried_names() if n in carried)
        kind = "keyed" if table.keyed else "cells"
        first = 1 if table.keyed else table.header_row + 1
        source = Source(kind, path.name, tuple(table.header) if not table.keyed else (), ids, first, str(path))
        return CaseFile(path, source, table.rows, list(table.notes), table.close, table.blocks)
    except BaseException:
        table.close()
        raise


def chunked(rows: Iterable[FactsRow | Unreadable], size: int = CHUNK) -> Iterator[Chunk]:
    iterator = iter(rows)
    while True:
        chunk = list(itertools.islice(iterator, size))
        if not chunk:
            return
        yield FACTS, chunk

