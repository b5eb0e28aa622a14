"""Outcome impact of a change to a pack: every row of a population evaluated under OLD and under NEW, and what
differs — the transition matrix of outcomes, the shift of the score distribution and of the band bounds it
crosses, the deadlines that move, and each changed row with the rules and scorecard items responsible.

The population (:mod:`.population`): the caller's facts, files of cases read as ``skillcert batch`` reads them,
and always the packs' own test cases and examples (each at its own date: a case's ``as_of``, an example's
``--as-of`` note). Each row is evaluated on the batch path (``detail=False``, the generated function of
:mod:`skillcert.runtime.fastpath`) under both packs; when both declare the same inputs, a row's facts are checked
once for both. The rules responsible for a change are the two results' reasons that differ; the items are those
the change can reach (:mod:`.changes`) whose score differs, evaluated item by item (``detail=True``) under both
packs — once per distinct value of the inputs their lines read, so a million rows cost a few such evaluations. A
row with an error under either pack is counted (its own line of the matrix, 错误) and listed.

Memory stays bounded whatever the number of rows: what is kept are counters — the matrix, the deadline shifts,
the rows on each side of each band bound, and one count per distinct score (scores take few distinct values:
sums of a scorecard's fixed deductions), from which min, median and max are exact. Past
:data:`MAX_DISTINCT_SCORES` distinct scores the counts stop growing, min and max stay exact and the median is
reported as not known (said in the report) rather than approximated. Changed rows and errors are rendered as the
cells of their sheet rows by the process that evaluated them and written, as they come, to temporary files, read
back once for the XLSX sheets (streamed into the file); only the first :data:`SHOWN` of each stay in memory as
records, for the terminal and the JSON form.

Rows are evaluated in this process or, with ``workers`` > 1, in worker processes (:mod:`skillcert.tabular.pool`)
that rebuild both libraries from their specs and send back a chunk's counts and rendered rows; a CSV file reaches
them as blocks of its bytes, as in ``skillcert batch``.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import io
import itertools
import os
import pickle
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from ..compiler.model import Decision
from ..errors import SkillcertError, UsageError
from ..library import Library, LibrarySpec
from ..rows.cells import typed_cell, xlsx_text
from ..rows.columns import HeaderRows
from ..rows.evaluation import error_text, evaluate_cells, evaluate_row, failed_text
from ..runtime.result import DecisionResult
from ..tabular.reading import CsvBlock, block_rows, csv_rows_from
from ..tabular.writers import STYLE_ROW, xlsx_rows  # the batch's XLSX cells, not a copy of them
from ..values import format_decimal
from .changes import item_paths, what_changed
from .population import (
    CaseFile,
    FactsRow,
    Source,
    Unreadable,
    caller_rows,
    chunked,
    facts_folder_rows,
    open_case_file,
    pack_rows,
)

__all__ = ["ImpactReport", "measure_impact", "write_impact_xlsx", "ERROR", "SHOWN", "MAX_DISTINCT_SCORES"]

ERROR = "(error)"              # the matrix's key for a row that has an error under that pack
SHOWN = 20                     # changed rows and errors kept in memory (terminal, JSON); all go to the sheets
MAX_DISTINCT_SCORES = 100_000  # distinct scores counted per pack (exact median below it)
_MAX_DISTINCT_SHIFTS = 10_000  # distinct shifts counted per deadline
_ITEM_MEMO = 10_000            # item comparisons kept per process, by the values of the inputs they read


# --------------------------------------------------------------------------------------------------
# One row under one pack


@dataclass(slots=True)
class _Verdict:
    outcome: str | None
    label: str | None
    score: Decimal | None
    deadlines: dict[str, dt.date | None]
    reasons: dict[str, tuple[str | None, str]]   # rule → (outcome, message), the first reason of each rule
    error: str | None = None


def _of_result(result: DecisionResult) -> _Verdict:
    reasons: dict[str, tuple[str | None, str]] = {}
    for r in result.reasons:
        reasons.setdefault(r.rule, (r.outcome, r.message))
    return _Verdict(result.outcome, result.outcome_label, result.score, dict(result.deadlines), reasons)


def _of_row(out: Mapping[str, Any], decision: Decision) -> _Verdict:
    if out.get("error"):
        return _failed(str(out["error"]))
    reasons: dict[str, tuple[str | None, str]] = {}
    for r in out.get("reasons") or ():
        reasons.setdefault(r["rule"], (r["outcome"], r["message"]))
    return _Verdict(out["outcome"], out["outcome_label"], out["score"],
                    {n: out.get(f"deadlines.{n}") for n in decision.deadlines}, reasons)


def _failed(error: str) -> _Verdict:
    return _Verdict(None, None, None, {}, {}, error)


# --------------------------------------------------------------------------------------------------
# The counts of some rows (a chunk's, or the whole run's)


@dataclass
class _Tally:
    """Counts of rows, mergeable. A chunk's changed rows and errors are handed on as the cells of their sheet
    rows, pickled (:attr:`packed_rows`: rendered by the process that evaluated them, written by the run's process
    as they are), and the first few as records (``changed_rows``, ``error_rows``: for the terminal and JSON)."""

    total: int = 0
    changed: int = 0       # outcome (or error) differs
    differing: int = 0     # evaluated under both, outcome, score or a deadline differs
    errors: int = 0
    origins: collections.Counter[str] = field(default_factory=collections.Counter)
    matrix: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    scores: tuple[collections.Counter[Decimal], collections.Counter[Decimal]] = field(
        default_factory=lambda: (collections.Counter(), collections.Counter()))
    unscored: list[int] = field(default_factory=lambda: [0, 0])     # rows without a score (no error)
    extremes: list[Decimal | None] = field(default_factory=lambda: [None, None, None, None])  # min/max old, new
    exact: bool = True
    crossings: collections.Counter[tuple[Decimal, str]] = field(default_factory=collections.Counter)
    shifts: dict[str, collections.Counter[Any]] = field(default_factory=dict)
    changed_rows: list[dict[str, Any]] = field(default_factory=list)
    error_rows: list[dict[str, Any]] = field(default_factory=list)
    packed_rows: tuple[bytes, bytes] = (b"", b"")   # every changed row's and error's sheet cells, pickled
    # a block of a CSV file that was not cut where a record ends (a quote inside a cell that is not quoted): no
    # counts; the rows from its start are read in order by the run's process (see _tallies)
    unaligned: tuple[Source, CsvBlock] | None = None
    block_of: str | None = None   # the file whose block of records this tally counts

    def merge(self, other: _Tally) -> None:
        self.total += other.total
        self.changed += other.changed
        self.differing += other.differing
        self.errors += other.errors
        self.origins.update(other.origins)
        self.matrix.update(other.matrix)
        self.exact = self.exact and other.exact
        for side in (0, 1):
            self.unscored[side] += other.unscored[side]
            mine, theirs = self.scores[side], other.scores[side]
            for score, n in theirs.items():
                if score in mine or len(mine) < MAX_DISTINCT_SCORES:
                    mine[score] += n
                else:
                    self.exact = False
            for k in (2 * side, 2 * side + 1):
                self._extreme(k, other.extremes[k])
        self.crossings.update(other.crossings)
        for name, counter in other.shifts.items():
            mine_shifts = self.shifts.setdefault(name, collections.Counter())
            for shift, n in counter.items():
                if shift in mine_shifts or len(mine_shifts) < _MAX_DISTINCT_SHIFTS:
                    mine_shifts[shift] += n

    def _extreme(self, k: int, value: Decimal | None) -> None:
        if value is None:
            return
        now = self.extremes[k]
        if now is None or (value < now if k % 2 == 0 else value > now):
            self.extremes[k] = value

    def score(self, side: int, value: Decimal | None) -> None:
        if value is None:
            self.unscored[side] += 1
            return
        counter = self.scores[side]
        if value in counter or len(counter) < MAX_DISTINCT_SCORES:
            counter[value] += 1
        else:
            self.exact = False
        self._extreme(2 * side, value)
        self._extreme(2 * side + 1, value)


# --------------------------------------------------------------------------------------------------
# Comparing rows: one comparer per process


class _Comparer:
    """Evaluates chunks of rows under both packs (in this process or a worker) and counts them."""

    def __init__(self, old: Library, new: Library, decision_id: str, as_of: dt.date | None) -> None:
        self.libraries = (old, new)
        self.decision_id = decision_id
        self.decisions = (old.decision(decision_id), new.decision(decision_id))
        self.as_of = as_of or dt.date.today()
        self.deadline_names = list(dict.fromkeys([*self.decisions[0].deadlines, *self.decisions[1].deadlines]))
        self.deadline_labels = {**{n: d.label for n, d in self.decisions[0].deadlines.items()},
                                **{n: d.label for n, d in self.decisions[1].deadlines.items()}}
        self.id_columns: list[str] = []   # the detail sheet's id columns (set by the run, once its files are open)
        self.shown = SHOWN
        self.bounds = sorted({b.value for b in band_bounds(self.decisions[0], "old")}
                             | {b.value for b in band_bounds(self.decisions[1], "new")})
        self._headers: dict[tuple[str, ...], tuple[HeaderRows, HeaderRows]] = {}
        changes = what_changed(*self.decisions)
        # the items a change can reach, and the inputs their lines read (None: more than inputs)
        self.changed_items: set[str] | None = {item for _, item in changes.items} or None
        self.item_paths = item_paths(changes, *self.decisions) if self.changed_items else None
        self._item_memo: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        self.same_inputs = _declared(self.decisions[0]) == _declared(self.decisions[1])
        self.id_inputs = list(dict.fromkeys([*_id_inputs(self.decisions[0]), *_id_inputs(self.decisions[1])]))

    def packed_chunk(self, chunk: tuple[Source, Any]) -> _Tally:
        """The chunk's tally with its rows' sheet cells rendered and pickled, its records cut to the first few."""
        tally = self.chunk(chunk)
        ids, labels = self.id_columns, self.deadline_labels
        tally.packed_rows = (_pack([_xlsx_row(_detail_cells(r, ids, labels)) for r in tally.changed_rows]),
                             _pack([_xlsx_row(_error_cells(r, ids)) for r in tally.error_rows]))
        tally.changed_rows, tally.error_rows = tally.changed_rows[:self.shown], tally.error_rows[:self.shown]
        return tally

    def chunk(self, chunk: tuple[Source, Any]) -> _Tally:
        source, rows = chunk
        tally = _Tally()
        if rows.__class__ is CsvBlock:
            parsed = block_rows(rows, list(source.header))
            if parsed is None:
                tally.unaligned = (source, rows)
                return tally
            rows = parsed
            tally.block_of = source.path
        if source.kind == "facts":
            for row in rows:
                self._facts(tally, row)
        elif source.kind == "keyed":
            for n, row in enumerate(rows, source.first):
                self._keyed(tally, source, n, row)
        else:
            header = self._headers.get(source.header)
            if header is None:
                header = (HeaderRows(self.decisions[0], source.header), HeaderRows(self.decisions[1], source.header))
                self._headers[source.header] = header
            at = [(i, name) for i, name in enumerate(source.header) if name in source.ids]  # the id columns
            for n, row in enumerate(rows, source.first):
                self._cells(tally, source, header, at, n, row)
        return tally

    # --- each kind of row: its two verdicts, then _count

    def _facts(self, tally: _Tally, row: FactsRow | Unreadable) -> None:
        if isinstance(row, Unreadable):
            failed = _failed(row.error)
            self._count(tally, row.origin, row.label, {}, failed, failed, None, self.as_of, False)
            return
        as_of = row.as_of or self.as_of
        verdicts = []
        for library in self.libraries:
            try:
                verdicts.append(_of_result(library.evaluate(self.decision_id, row.facts, as_of=as_of,
                                                            allow_out_of_period=row.allow_out_of_period,
                                                            detail=False)))
            except SkillcertError as exc:
                verdicts.append(_failed(error_text(exc)))
            except Exception as exc:  # a plugin, anything: the row's error, as the batch says it
                verdicts.append(_failed(failed_text(exc)))
        ids = {label: row.facts[n] for n, label in self.id_inputs if n in row.facts}
        facts = (row.facts, row.facts)
        self._count(tally, row.origin, row.label, ids, verdicts[0], verdicts[1], facts, as_of,
                    row.allow_out_of_period)

    def _keyed(self, tally: _Tally, source: Source, n: int, row: dict[str, Any]) -> None:
        outs = [evaluate_row(lib, d, dict(row), self.as_of, False)
                for lib, d in zip(self.libraries, self.decisions, strict=True)]
        old, new = (_of_row(out, d) for (out, _), d in zip(outs, self.decisions, strict=True))
        ids = {k: row.get(k) for k in source.ids}
        self._count(tally, "案例文件", f"{source.name}:{n}", ids, old, new, (outs[0][1], outs[1][1]),
                    self.as_of, False)

    def _cells(self, tally: _Tally, source: Source, header: tuple[HeaderRows, HeaderRows],
               at: list[tuple[int, str]], n: int, row: Any) -> None:
        cells, unread = (row, None) if row.__class__ is list else row
        verdicts: list[_Verdict] = []
        checked = header[0].checked(cells) if self.same_inputs and unread is None else None
        if checked is not None:
            # both packs declare the same inputs: the facts checked once are each one's checked facts
            for library in self.libraries:
                try:
                    verdicts.append(_of_result(library.evaluate(self.decision_id, checked, as_of=self.as_of,
                                                                detail=False, checked=True)))
                except SkillcertError as exc:
                    verdicts.append(_failed(error_text(exc)))
                except Exception as exc:
                    verdicts.append(_failed(failed_text(exc)))
        else:
            for library, rows in zip(self.libraries, header, strict=True):
                try:
                    result, error, _ = evaluate_cells(library, rows, cells, unread, self.as_of, False)
                except Exception as exc:
                    result, error = None, failed_text(exc)
                verdicts.append(_of_result(result) if result is not None else _failed(error or ""))
        ids = {name: cells[i] for i, name in at if i < len(cells)}

        def facts() -> tuple[Mapping[str, Any], Mapping[str, Any]]:
            if checked is not None:
                return checked, checked
            return header[0].facts(cells), header[1].facts(cells)
        self._count(tally, "案例文件", f"{source.name}:{n}", ids, verdicts[0], verdicts[1], facts, self.as_of, False)

    # --- counting one row

    def _count(self, tally: _Tally, origin: str, label: str, ids: dict[str, Any], old: _Verdict, new: _Verdict,
               facts: Any, as_of: dt.date, allow: bool) -> None:
        tally.total += 1
        tally.origins[origin] += 1
        old_key = ERROR if old.error is not None else str(old.outcome)
        new_key = ERROR if new.error is not None else str(new.outcome)
        tally.matrix[(old_key, new_key)] += 1
        if old_key != new_key:
            tally.changed += 1
        if old.error is not None or new.error is not None:
            tally.errors += 1
            tally.error_rows.append({"origin": origin, "label": label, "ids": ids, "old_error": old.error,
                                     "new_error": new.error, "old_outcome": old.outcome,
                                     "new_outcome": new.outcome})
            return
        tally.score(0, old.score)
        tally.score(1, new.score)
        if old.score is not None and new.score is not None and old.score != new.score:
            for bound in self.bounds:
                above_before, above_now = old.score >= bound, new.score >= bound
                if above_before != above_now:
                    tally.crossings[(bound, "down" if above_before else "up")] += 1
        moved: dict[str, Any] = {}
        for name in self.deadline_names:
            before, now = old.deadlines.get(name), new.deadlines.get(name)
            if before != now:
                shift: Any = ((now - before).days if before is not None and now is not None
                              else "added" if now is not None else "removed")
                counter = tally.shifts.setdefault(name, collections.Counter())
                if shift in counter or len(counter) < _MAX_DISTINCT_SHIFTS:
                    counter[shift] += 1
                moved[name] = (before, now)
        if old.outcome == new.outcome and old.score == new.score and not moved:
            return
        tally.differing += 1
        if callable(facts):
            facts = facts()
        tally.changed_rows.append({
            "origin": origin, "label": label, "ids": ids,
            "old": {"outcome": old.outcome, "outcome_label": old.label, "score": old.score},
            "new": {"outcome": new.outcome, "outcome_label": new.label, "score": new.score},
            "deadlines": moved,
            **self._responsible(old, new, facts, as_of, allow)})

    def _responsible(self, old: _Verdict, new: _Verdict, facts: tuple[Mapping[str, Any], Mapping[str, Any]],
                     as_of: dt.date, allow: bool) -> dict[str, Any]:
        """The rules and scorecard items that differ between the two results (items: evaluated again item by
        item, under both packs, when the scores differ)."""
        rules = []
        for rule in dict.fromkeys([*old.reasons, *new.reasons]):
            before, now = old.reasons.get(rule), new.reasons.get(rule)
            if before is None or now is None or before[0] != now[0] or (
                    before[1] != now[1] and old.outcome != new.outcome):
                rules.append({"rule": rule, "old": before[0] if before else None, "new": now[0] if now else None,
                              "fired": "both" if before and now else "old" if before else "new"})
        items = (self._items(facts, as_of, allow, old.score is not None and new.score is not None)
                 if old.score != new.score else [])
        return {"rules": rules, "items": items}

    def _items(self, facts: tuple[Mapping[str, Any], Mapping[str, Any]], as_of: dt.date, allow: bool,
               scored: bool) -> list[dict[str, Any]]:
        """The items whose score differs, evaluated item by item under both packs. Only the items the change can
        reach are compared; their scores depend on the inputs their lines read alone, so rows that give those
        inputs the same values share one evaluation (a few distinct values for a million rows)."""
        key = None
        if self.item_paths is not None and scored:  # both scorecards ran: the items' inputs say it all
            key = (as_of, allow, *[repr(_value_at(f, p)) for f in facts for p in self.item_paths])
            hit = self._item_memo.get(key)
            if hit is not None:
                return hit
        details = []
        for library, given in zip(self.libraries, facts, strict=True):
            try:
                details.append(_item_scores(library.evaluate(self.decision_id, given, as_of=as_of,
                                                             allow_out_of_period=allow, detail=True),
                                            self.changed_items))
            except Exception:  # it evaluated a moment ago: nothing to name rather than a failed run
                details.append({})
        before_items, now_items = details
        items = []
        for item in dict.fromkeys([*before_items, *now_items]):
            b, n = before_items.get(item), now_items.get(item)
            if (b[1] if b else None) != (n[1] if n else None):
                items.append({"item": item, "label": (n or b or ("", None))[0],
                              "old": b[1] if b else None, "new": n[1] if n else None})
        if key is not None and len(self._item_memo) < _ITEM_MEMO:
            self._item_memo[key] = items
        return items


def _value_at(facts: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = facts
    for step in path:
        if not isinstance(node, Mapping) or step not in node:
            return None
        node = node[step]
    return node


def _declared(decision: Decision) -> dict[str, Any]:
    """How a decision's inputs are declared, as far as checking facts goes (not where: lines may move)."""
    return {name: (i.spec, i.type, i.required, i.default) for name, i in decision.inputs.items()}


def _item_scores(result: DecisionResult, only: set[str] | None) -> dict[str, tuple[str, Decimal]]:
    """The scorecard's items (``only`` these ids, else every leaf): id → (label, score)."""
    if result.scorecard is None:
        return {}
    return {node.id: (node.label, node.score) for cat in result.scorecard["categories"] for node in cat.walk()
            if (node.id in only if only is not None else not node.items)}


@dataclass(frozen=True)
class Bound:
    """A bound of a ``bands`` rule: its value in one pack."""

    pack: str           # old / new
    rule: str
    band: int           # the band's position in the rule
    side: str           # min / below
    value: Decimal
    outcome: str
    source: str


def band_bounds(decision: Decision, pack: str) -> list[Bound]:
    out = []
    for rule in decision.rules:
        if rule.kind != "bands":
            continue
        for i, band in enumerate(rule.bands):
            for side in ("min", "below"):
                value = getattr(band, side)
                if value is not None:
                    out.append(Bound(pack, rule.id, i, side, Decimal(value), band.outcome, rule.source))
    return out


# --------------------------------------------------------------------------------------------------
# Records spooled to a temporary file


def _pack(records: list[Any]) -> bytes:
    return pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL) if records else b""


class _Spool:
    """Records written a chunk at a time (each a pickled list) to an unnamed temporary file, read back in order
    (as often as needed)."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile(prefix="skillcert-impact-")  # noqa: SIM115 - kept open
        self.lists = 0

    def write(self, packed: bytes) -> None:
        if packed:
            self.file.write(packed)
            self.lists += 1

    def read(self) -> Iterator[Any]:
        self.file.flush()
        self.file.seek(0)
        for _ in range(self.lists):
            yield from pickle.load(self.file)  # our own bytes, written above  # noqa: S301
        self.file.seek(0, os.SEEK_END)

    def close(self) -> None:
        self.file.close()


# --------------------------------------------------------------------------------------------------
# The report


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _median(counter: collections.Counter[Decimal]) -> Decimal | None:
    n = sum(counter.values())
    if not n:
        return None
    wanted = [(n - 1) // 2, n // 2]  # the middle row(s), 0-based
    found: list[Decimal] = []
    seen = 0
    for score in sorted(counter):
        seen += counter[score]
        while wanted and wanted[0] < seen:
            found.append(score)
            wanted.pop(0)
        if not wanted:
            break
    return found[0] if found[0] == found[1] else (found[0] + found[1]) / 2


@dataclass
class ImpactReport:
    """What a change to a pack does to a population of rows (see the module doc)."""

    decision_id: str
    old_version: str
    new_version: str
    old_digest: str
    new_digest: str
    as_of: dt.date
    tally: _Tally
    labels: dict[str, str]                 # outcome code → label (NEW's, then OLD's)
    deadline_labels: dict[str, str]
    bounds: list[Bound]
    id_columns: list[str]
    changed_spool: _Spool
    error_spool: _Spool
    first_changed: list[dict[str, Any]]
    first_errors: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.tally.total

    @property
    def changed(self) -> int:
        """Rows whose outcome differs (an error under one pack and not the other counts)."""
        return self.tally.changed

    @property
    def differing(self) -> int:
        """Rows evaluated under both packs whose outcome, score or a deadline differs (the detail sheet)."""
        return self.tally.differing

    @property
    def errors(self) -> int:
        return self.tally.errors

    def close(self) -> None:
        self.changed_spool.close()
        self.error_spool.close()

    # --- the parts

    def _label(self, key: str) -> str:
        return "错误,未能评估" if key == ERROR else self.labels.get(key, key)

    def _codes(self) -> tuple[list[str], list[str]]:
        order = list(self.labels) + [ERROR]
        olds = [c for c in order if any(k[0] == c for k in self.tally.matrix)]
        news = [c for c in order if any(k[1] == c for k in self.tally.matrix)]
        extra = sorted({k for pair in self.tally.matrix for k in pair} - set(order))
        return olds + [c for c in extra if any(k[0] == c for k in self.tally.matrix)], \
            news + [c for c in extra if any(k[1] == c for k in self.tally.matrix)]

    def score_summary(self) -> dict[str, Any]:
        t = self.tally
        out: dict[str, Any] = {"exact_median": t.exact}
        for side, name in ((0, "old"), (1, "new")):
            counter = t.scores[side]
            out[name] = {"rows": sum(counter.values()) if t.exact else None, "unscored": t.unscored[side],
                         "min": t.extremes[2 * side], "median": _median(counter) if t.exact else None,
                         "max": t.extremes[2 * side + 1], "distinct": len(counter)}
        return out

    def bound_rows(self) -> list[dict[str, Any]]:
        """Each bound value of either pack's bands: where it stands, and the rows whose score crosses it."""
        t = self.tally
        out = []
        for value in sorted({b.value for b in self.bounds}):
            places = [f"{b.rule}[{b.band}].{b.side}({'旧' if b.pack == 'old' else '新'})"
                      for b in self.bounds if b.value == value]
            out.append({"bound": value, "where": places, "crossed_down": t.crossings.get((value, "down"), 0),
                        "crossed_up": t.crossings.get((value, "up"), 0)})
        return out

    def moved_bounds(self) -> list[dict[str, Any]]:
        """Each bound that moved (the same band of the same rule, another value): old and new value, its clause,
        and the rows whose new score lies between them (None when the scores were too many to count)."""
        t = self.tally
        by_place: dict[tuple[str, int, str], dict[str, Bound]] = {}
        for b in self.bounds:
            by_place.setdefault((b.rule, b.band, b.side), {})[b.pack] = b
        moves = []
        said: set[tuple[str, Decimal, Decimal]] = set()
        for (rule, band, side), packs in by_place.items():
            before, now = packs.get("old"), packs.get("new")
            if before is None or now is None or before.value == now.value:
                continue
            if (rule, before.value, now.value) in said:  # the upper bound of one band, the lower of the next
                continue
            said.add((rule, before.value, now.value))
            lo, hi = sorted((before.value, now.value))
            between = (sum(n for s, n in t.scores[1].items() if lo <= s < hi) if t.exact else None)
            moves.append({"rule": rule, "band": band, "side": side, "old": before.value, "new": now.value,
                          "outcome": now.outcome, "source": now.source, "new_scores_between": between})
        return moves

    def deadline_rows(self) -> list[dict[str, Any]]:
        out = []
        for name, counter in self.tally.shifts.items():
            shifts = sorted(counter.items(), key=lambda kv: (isinstance(kv[0], str), str(kv[0]).zfill(12)
                                                             if isinstance(kv[0], str) else kv[0]))
            out.append({"deadline": name, "label": self.deadline_labels.get(name, name),
                        "rows": sum(counter.values()),
                        "shifts": [{"days" if isinstance(s, int) else "change": s, "rows": n} for s, n in shifts]})
        return out

    def as_json(self) -> dict[str, Any]:
        olds, news = self._codes()
        t = self.tally
        return {
            "decision": self.decision_id,
            "old": {"pack_version": self.old_version, "pack_digest": self.old_digest},
            "new": {"pack_version": self.new_version, "pack_digest": self.new_digest},
            "as_of": self.as_of,
            "total": t.total, "changed": t.changed, "differing": t.differing, "errors": t.errors,
            "sources": dict(t.origins),
            "matrix": [{"old": o, "old_label": self._label(o), "new": n, "new_label": self._label(n),
                        "rows": t.matrix[(o, n)]} for o in olds for n in news if t.matrix.get((o, n))],
            "scores": self.score_summary(),
            "bounds": self.bound_rows(),
            "moved_bounds": self.moved_bounds(),
            "deadlines": self.deadline_rows(),
            "changed_rows": [_json_row(r) for r in self.first_changed],
            "changed_rows_listed": len(self.first_changed),
            "errors_listed": [_json_error(r) for r in self.first_errors],
            "notes": self.notes,
        }

    def text_lines(self, shown: int = SHOWN) -> list[str]:
        t = self.tally
        origins = ",".join(f"{k} {n:,} 行" for k, n in t.origins.items())
        lines = [f"结论影响 {self.decision_id}(旧 {self.old_version} → 新 {self.new_version},评估日 {self.as_of}"
                 f"{',用例与示例按各自的评估日' if t.origins.get('用例') or t.origins.get('示例') else ''})",
                 f"  比较 {t.total:,} 行({origins or '无'}):结论改变 {t.changed:,} 行,"
                 f"结论、分数或期限有变化 {t.differing:,} 行,有错误 {t.errors:,} 行"]
        olds, news = self._codes()
        lines.append("结论转变(旧 → 新,行数):")
        for o in olds:
            for n in news:
                count = t.matrix.get((o, n), 0)
                if count and o == n:
                    lines.append(f"    {self._label(o)}({o}):不变 {count:,}")
                elif count:
                    lines.append(f"  * {self._label(o)}({o}) → {self._label(n)}({n}):{count:,}")
        s = self.score_summary()
        if s["old"]["min"] is not None or s["new"]["min"] is not None:
            lines.append("分数分布:")
            for name, title in (("old", "旧"), ("new", "新")):
                part = s[name]
                median = _shown(part["median"]) if s["exact_median"] else "(不同分数过多,未计算)"
                lines.append(f"  {title}:最低 {_shown(part['min'])},中位数 {median},最高 {_shown(part['max'])}")
            for m in self.moved_bounds():
                between = "" if m["new_scores_between"] is None else f",新分数在其间的 {m['new_scores_between']:,} 行"
                lines.append(f"  分档界限移动:{m['rule']} {_shown(m['old'])} → {_shown(m['new'])}"
                             f"({m['source']}){between}")
            for b in self.bound_rows():
                if b["crossed_down"] or b["crossed_up"]:
                    lines.append(f"  分数跨过界限 {_shown(b['bound'])}:降到其下 {b['crossed_down']:,} 行,"
                                 f"升到其上 {b['crossed_up']:,} 行")
        deadlines = self.deadline_rows()
        if deadlines:
            lines.append("期限变化:")
            for d in deadlines:
                parts = "、".join(_shift_text(s) for s in d["shifts"][:6])
                lines.append(f"  {d['label']}({d['deadline']}):{d['rows']:,} 行({parts})")
        if self.first_changed:
            lines.append(f"变化明细(前 {min(shown, len(self.first_changed))} 行,共 {t.differing:,} 行):")
            for r in self.first_changed[:shown]:
                lines.append("  " + _row_text(r))
        if self.first_errors:
            lines.append(f"错误(前 {min(shown, len(self.first_errors))} 行,共 {t.errors:,} 行):")
            for r in self.first_errors[:shown]:
                lines.append(f"  {_who(r)}:旧 {r['old_error'] or '无错误'};新 {r['new_error'] or '无错误'}")
        lines.extend(f"注意:{note}" for note in self.notes)
        return lines

    def sheets(self, suffix: str = "") -> list[tuple[str, list[str], Iterable[list[Any]]]]:
        """One sheet per view: (name, header, rows); the detail and error rows are streamed from their files.
        ``suffix`` is added to each name (several decisions in one workbook: ``概要 renewal`` …)."""
        t = self.tally
        olds, news = self._codes()
        summary: list[list[Any]] = [["决定", self.decision_id], ["旧政策包版本", self.old_version], ["旧政策包摘要", self.old_digest],
                   ["新政策包版本", self.new_version], ["新政策包摘要", self.new_digest], ["评估日", self.as_of],
                   ["比较行数", t.total], *[[f"  其中{k}", n] for k, n in t.origins.items()],
                   ["结论改变行数", t.changed], ["结论、分数或期限有变化的行数", t.differing], ["有错误的行数", t.errors]]
        matrix = [[o, self._label(o), *[t.matrix.get((o, n), 0) for n in news],
                   sum(t.matrix.get((o, n), 0) for n in news)] for o in olds]
        matrix.append(["合计", "", *[sum(t.matrix.get((o, n), 0) for o in olds) for n in news], t.total])
        s = self.score_summary()
        scores: list[list[Any]] = [
            ["有分数的行数", s["old"]["rows"], s["new"]["rows"], ""],
            ["无分数的行数", s["old"]["unscored"], s["new"]["unscored"], ""],
            ["最低分", s["old"]["min"], s["new"]["min"], ""],
            ["中位数", s["old"]["median"], s["new"]["median"],
             "" if s["exact_median"] else "不同分数过多,未计算中位数"],
            ["最高分", s["old"]["max"], s["new"]["max"], ""], [], ["分档界限", "所在", "分数降到其下的行数",
                                                               "分数升到其上的行数"]]
        for b in self.bound_rows():
            scores.append([b["bound"], "、".join(b["where"]), b["crossed_down"], b["crossed_up"]])
        for m in self.moved_bounds():
            scores.append([f"界限移动 {_shown(m['old'])} → {_shown(m['new'])}", f"{m['rule']} {m['source']}",
                           "新分数在其间的行数", m["new_scores_between"]])
        deadlines = [[d["deadline"], d["label"], _shift_text(s), s["rows"]] for d in self.deadline_rows()
                     for s in d["shifts"]]
        ids = self.id_columns
        views: list[tuple[str, list[str], Iterable[list[Any]]]] = [
            ("概要", ["项目", "值"], summary),
            ("转变矩阵", ["旧结论", "旧结论名称", *[f"{self._label(n)}({n})" for n in news], "合计"], matrix),
            ("分数变化", ["项目", "旧", "新", "说明"], scores),
            ("期限变化", ["期限", "期限名称", "变化", "行数"], deadlines),
            ("变化明细", ["来源", "标识", *ids, "旧结论", "旧结论名称", "新结论", "新结论名称", "旧分数", "新分数",
                      "期限变化", "原因:规则", "原因:评分项"], self.changed_spool.read()),
            ("错误", ["来源", "标识", *ids, "旧包错误", "新包错误"], self.error_spool.read()),
        ]
        return [(f"{name} {suffix}"[:31] if suffix else name, header, rows) for name, header, rows in views]


def _shift_text(shift: Mapping[str, Any]) -> str:
    if "days" in shift:
        days = shift["days"]
        return f"{'+' if days > 0 else ''}{days} 天" + (f" {shift['rows']:,} 行" if "rows" in shift else "")
    change = {"added": "新增", "removed": "取消"}.get(shift["change"], shift["change"])
    return f"{change} {shift['rows']:,} 行"


def _who(r: Mapping[str, Any]) -> str:
    ids = " ".join(_shown(v) for v in r["ids"].values() if v not in (None, ""))
    return f"{r['label']}" + (f" {ids}" if ids else "")


def _causes(r: Mapping[str, Any]) -> tuple[str, str]:
    rules = "、".join(f"{x['rule']}({_shown(x['old'])} → {_shown(x['new'])})" if x["fired"] == "both"
                     else f"{x['rule']}(仅{'旧' if x['fired'] == 'old' else '新'}包触发)" for x in r["rules"])
    items = "、".join(f"{x['item']} {x['label']} {_shown(x['old'])} → {_shown(x['new'])}" for x in r["items"])
    return rules, items


def _row_text(r: Mapping[str, Any]) -> str:
    old, new = r["old"], r["new"]
    rules, items = _causes(r)
    moved = "、".join(f"{name} {_shown(a)} → {_shown(b)}" for name, (a, b) in r["deadlines"].items())
    parts = [f"{_who(r)}:{old['outcome_label']}({_shown(old['score'])} 分)→ {new['outcome_label']}"
             f"({_shown(new['score'])} 分)"]
    if moved:
        parts.append(f"期限 {moved}")
    if items:
        parts.append(f"评分项 {items}")
    if rules:
        parts.append(f"规则 {rules}")
    return ";".join(parts)


def _detail_cells(r: Mapping[str, Any], ids: Sequence[str], labels: Mapping[str, str]) -> list[Any]:
    rules, items = _causes(r)
    moved = "\n".join(f"{labels.get(n, n)}({n}):{_shown(a)} → {_shown(b)}" for n, (a, b) in r["deadlines"].items())
    return [r["origin"], r["label"], *[r["ids"].get(c) for c in ids], r["old"]["outcome"], r["old"]["outcome_label"],
            r["new"]["outcome"], r["new"]["outcome_label"], r["old"]["score"], r["new"]["score"], moved or None,
            rules or None, items or None]


def _error_cells(r: Mapping[str, Any], ids: Sequence[str]) -> list[Any]:
    return [r["origin"], r["label"], *[r["ids"].get(c) for c in ids], r["old_error"], r["new_error"]]


def _xlsx_row(cells: list[Any]) -> list[Any]:
    return [_xlsx_cell(v) for v in cells]


def _json_row(r: Mapping[str, Any]) -> dict[str, Any]:
    return {"source": r["origin"], "label": r["label"], "ids": r["ids"], "old": r["old"], "new": r["new"],
            "deadlines": {n: {"old": a, "new": b} for n, (a, b) in r["deadlines"].items()},
            "rules": r["rules"], "items": r["items"]}


def _json_error(r: Mapping[str, Any]) -> dict[str, Any]:
    return {"source": r["origin"], "label": r["label"], "ids": r["ids"], "old_error": r["old_error"],
            "new_error": r["new_error"]}


# --------------------------------------------------------------------------------------------------
# The run


def measure_impact(old: Library, new: Library, decision_id: str, *,
                   rows: Iterable[tuple[str, Mapping[str, Any]]] | None = None, case_files: Sequence[Path] = (),
                   as_of: dt.date | None = None, include_pack_cases: bool = True, workers: int = 1,
                   shown: int = SHOWN) -> ImpactReport:
    """Evaluate the population under ``old`` and ``new`` and count what differs (see the module doc).

    ``rows``: (label, facts) pairs; ``case_files``: CSV, XLSX, JSON Lines or YAML files of cases (read as
    ``skillcert batch`` reads them) or folders of facts files; the packs' own test cases and examples are added
    unless ``include_pack_cases`` is false. ``as_of`` (default today) is the date of every row that has none of
    its own. A case file that cannot be used is a :class:`~skillcert.errors.UsageError` before any row.
    """
    comparer = _Comparer(old, new, decision_id, as_of)
    old_d, new_d = comparer.decisions
    files: list[Path | CaseFile] = []
    try:
        for path in case_files:
            p = Path(path)
            if p.is_dir():
                files.append(p)
            else:
                files.append(open_case_file(p, old_d, new_d))  # refused here, before any row

        from ..tabular import pool

        # with workers, a CSV file's rows after the first ones go to them as blocks of its bytes
        head = pool.worker_count(workers) * pool.CHUNK if workers > 1 and pool.worker_count(workers) > 1 else None

        def chunks() -> Iterator[tuple[Source, Any]]:
            if rows is not None:
                yield from chunked(caller_rows(rows))
            for f in files:
                if isinstance(f, Path):
                    yield from chunked(facts_folder_rows(f, decision_id))
                else:
                    yield from f.chunks(head=head)
            if include_pack_cases:
                yield from chunked(pack_rows([("新", new), ("旧", old)], decision_id))

        tables = [f for f in files if isinstance(f, CaseFile)]
        id_columns = list(dict.fromkeys([*[c for f in tables for c in f.source.ids],
                                         *[label for _, label in _id_inputs(new_d) + _id_inputs(old_d)]]))
        comparer.id_columns, comparer.shown = id_columns, shown
        notes = [n for f in tables for n in f.notes]
        report = ImpactReport(
            decision_id, _version(old_d), _version(new_d), _digest(old_d), _digest(new_d), comparer.as_of, _Tally(),
            {**{c: o.label for c, o in new_d.outcomes.items()},
             **{c: o.label for c, o in old_d.outcomes.items() if c not in new_d.outcomes}},
            {**{n: d.label for n, d in old_d.deadlines.items()}, **{n: d.label for n, d in new_d.deadlines.items()}},
            band_bounds(old_d, "old") + band_bounds(new_d, "new"), id_columns, _Spool(), _Spool(), [], [], notes)
        try:
            for tally in _tallies(comparer, chunks(), workers):
                for packed, spool, first, records in (
                        (tally.packed_rows[0], report.changed_spool, report.first_changed, tally.changed_rows),
                        (tally.packed_rows[1], report.error_spool, report.first_errors, tally.error_rows)):
                    spool.write(packed)
                    first.extend(records[:max(shown - len(first), 0)])
                tally.packed_rows, tally.changed_rows, tally.error_rows = (b"", b""), [], []
                report.tally.merge(tally)
        except BaseException:
            report.close()
            raise
        return report
    finally:
        for f in files:
            if isinstance(f, CaseFile):
                f.close()


def _id_inputs(decision: Decision) -> list[tuple[str, str]]:
    """The document inputs that name a case (text: a name, a number), carried as ids of facts rows under their
    label (the column a workbook of cases names them by)."""
    return [(n, i.label or n) for n, i in decision.document_inputs.items() if i.spec.kind == "text"]


def _version(decision: Decision) -> str:
    return decision.pack.version if decision.pack is not None else ""


def _digest(decision: Decision) -> str:
    return decision.pack.digest if decision.pack is not None else ""


def _tallies(comparer: _Comparer, chunks: Iterator[tuple[Source, Any]], workers: int) -> Iterator[_Tally]:
    from ..tabular import pool

    if workers <= 1 or pool.worker_count(workers) <= 1:
        yield from map(comparer.packed_chunk, chunks)
        return
    workers = pool.worker_count(workers)
    specs = tuple(library.spec() for library in comparer.libraries)
    task = _Task(specs[0], specs[1], comparer.decision_id, comparer.as_of, tuple(comparer.id_columns),
                 comparer.shown)
    pool.prestart()
    dropped: set[str] = set()  # files whose blocks are read in order from one that was not cut at a record's end
    for tally in pool.map_in_pool(_task_function, task, chunks, workers):
        if tally.block_of is not None and tally.block_of in dropped:
            continue  # a later block of a file already read to its end in order
        if tally.unaligned is None:
            yield tally
            continue
        source, block = tally.unaligned
        if source.path in dropped:
            continue
        dropped.add(source.path)
        rows = csv_rows_from(block, list(source.header))
        for n, part in enumerate(pool.chunks(rows)):
            yield comparer.packed_chunk((dataclasses.replace(source, first=source.first + n * pool.CHUNK), part))


@dataclass(frozen=True)
class _Task:
    """What a worker process needs to compare chunks: both libraries' specs, the decision, the date."""

    old: LibrarySpec
    new: LibrarySpec
    decision_id: str
    as_of: dt.date
    id_columns: tuple[str, ...]
    shown: int


def _task_function(task: _Task) -> Callable[[tuple[Source, list[Any]]], _Tally]:
    """In a worker: the comparer of ``task``, rebuilt from the specs (made once per worker)."""
    comparer = _Comparer(Library.from_spec(task.old), Library.from_spec(task.new), task.decision_id, task.as_of)
    comparer.id_columns, comparer.shown = list(task.id_columns), task.shown
    return comparer.packed_chunk


# --------------------------------------------------------------------------------------------------
# XLSX


def write_impact_xlsx(path: Path, sheets: Sequence[tuple[str, list[str], Iterable[list[Any]]]]) -> None:
    """The sheets as one workbook at ``path``, complete or not at all: written under a temporary name beside it
    and renamed over it at the end. Rows are streamed into the file as they come, their XML made as the batch
    makes its result sheet (:mod:`skillcert.tabular.writers`); the workbook's other parts (styles, the workbook,
    each sheet's frame) are openpyxl's. Text cannot start a formula (:func:`~skillcert.rows.cells.xlsx_text`);
    exact scores stay numbers where a spreadsheet holds them exactly, text otherwise."""
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise UsageError(f"影响分析的输出文件应为 .xlsx:{target}", code="output-format")
    if target.is_dir():
        raise UsageError(f"输出文件 {target} 是一个目录,不是文件", code="output-unwritable")
    if not target.parent.is_dir():
        raise UsageError(f"输出文件所在的目录 {target.parent} 不存在", code="output-unwritable")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        frame = _workbook_frame([name for name, _, _ in sheets])
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out, \
                zipfile.ZipFile(io.BytesIO(frame)) as parts:
            names = [f"xl/worksheets/sheet{i}.xml" for i in range(1, len(sheets) + 1)]
            for info in parts.infolist():
                if info.filename not in names:
                    out.writestr(info, parts.read(info))
            for name, (_, header, rows) in zip(names, sheets, strict=True):
                xml = parts.read(name).decode()
                head, rest = xml.split("<sheetData", 1)
                tail = rest.split("</sheetData>", 1)[1] if "</sheetData>" in rest else rest.split("/>", 1)[1]
                with out.open(name, "w", force_zip64=True) as sheet:
                    sheet.write(f"{head}<sheetData>".encode())
                    sheet.write(xlsx_rows([[xlsx_text(str(h)) for h in header]], 1).encode())
                    at = 2
                    iterator = iter(rows)
                    while chunk := list(itertools.islice(iterator, 500)):
                        sheet.write(xlsx_rows([[_xlsx_cell(v) for v in row] for row in chunk], at).encode())
                        at += len(chunk)
                    sheet.write(f"</sheetData>{tail}".encode())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise UsageError(f"无法写入输出文件 {target}:{exc.strerror or exc}", code="output-unwritable") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _workbook_frame(names: Sequence[str]) -> bytes:
    """A workbook with these sheets, empty but for a row in the first that sets the date styles the streamed
    cells refer to (the sheets themselves are replaced)."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    for i, name in enumerate(names):
        sheet = wb.create_sheet(xlsx_text(name)[:31])
        if i == 0:
            sheet.append(STYLE_ROW)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(value: Any) -> Any:
    if value is None or value.__class__ in (int, bool, float):
        return value
    if isinstance(value, Decimal):
        return typed_cell("score", value)
    if isinstance(value, dt.date):
        return value
    return xlsx_text(_shown(value))
