"""Where a change to a pack flips an outcome: the smallest changes of facts, from known cases, that give a
different outcome under NEW than under OLD — concrete examples staff can read ("exactly 80 points and one more
missing post: renew before, rectify now").

The search knows nothing of the domain; it reads the two compiled decisions:

1. **What changed**: parameters whose value differs, scorecard items whose lines or maximum differ, band bounds
   that moved, and derived values, rules and deadlines whose expressions differ (compared by their text).
2. **The inputs they read**: the facts paths (``findings.posts_missing``) of the changed expressions and of every
   expression reading a changed parameter, followed through derived values, and — for a moved band, whose score
   is a scorecard — every input the scorecard's lines read. Of these, the inputs a small change applies to:
   flags (toggled), integers and decimals (one unit up or down, within their declared bounds), dates (a day
   earlier or later) and codes (each other code).
3. **The search**, from each seed (the packs' own test cases and examples, then the caller's ``seeds``), in
   order, each pair of evaluations under OLD and NEW counted against ``max_evaluations``:

   * the seed itself (a case that already flips is an example with no change);
   * every single change, then pairs of the single changes that bring OLD's score nearest a target (the moved
     bounds; for a changed scorecard every bound of either pack);
   * when neither flips and the seed has a score: a walk towards the nearest target, one change at a time (the
     one whose OLD score lands nearest the target), looking for a flip at each step; with no target (a changed
     deadline or condition): each number or date alone, moved further from the seed a unit at a time.

   A flip found is then reduced: each changed input is stepped back one unit towards the seed while the flip
   holds, until no single step back keeps it. So every example is minimal in the search's sense: stepping any
   changed input one unit back towards the seed gives the same outcome under both packs.

Deterministic: inputs, moves and seeds are taken in declared order, ties broken by that order. ``max_seconds``
is a safety bound only (a run that reaches it returns what it found so far and says so in ``SEARCH_NOTES``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..compiler.model import Decision, ValueSpec
from ..errors import SkillcertError
from ..library import Library
from ..values import display_value, format_decimal
from .changes import Path_, variables, what_changed
from .population import FactsRow, pack_rows

__all__ = ["Flip", "Change", "flip_examples", "changed_inputs", "FLIP_SHEET", "FLIP_HEADER", "flip_sheet"]


def changed_inputs(old: Decision, new: Decision) -> list[str]:
    """The inputs (dotted paths) the changes between ``old`` and ``new`` read, that the search varies."""
    return [".".join(p) for p, _, _ in variables(what_changed(old, new).paths, new)]

MAX_EVALUATIONS = 20_000   # pairs of evaluations (OLD and NEW) of one search
MAX_SECONDS = 30.0
PAIRS_FROM = 12            # single changes combined in pairs (the nearest a target)
WALK_STEPS = 60            # steps of a walk towards a target
LINE_STEPS = 40            # units one number or date is moved from the seed, in each direction, without a target
PER_SEED = 3               # examples kept from one seed
_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Change:
    """One input changed from the seed's value."""

    path: Path_
    label: str
    before: Any
    after: Any
    codes: Mapping[str, str] = field(default_factory=dict)   # a code input's labels

    @property
    def name(self) -> str:
        return ".".join(self.path)

    def as_json(self) -> dict[str, Any]:
        return {"input": self.name, "label": self.label, "before": self.before, "after": self.after}

    def text(self) -> str:
        return f"{self.label}({self.name})由 {self._value(self.before)} 改为 {self._value(self.after)}"

    def _value(self, value: Any) -> str:
        label = self.codes.get(value) if isinstance(value, str) else None
        return f"{label}({value})" if label else _shown(value)


@dataclass(frozen=True)
class _Result:
    outcome: str
    label: str
    score: Decimal | None


@dataclass(frozen=True)
class Flip:
    """An example: the seed, the facts changed from it, and the results under OLD and NEW."""

    seed: str
    as_of: dt.date
    changes: tuple[Change, ...]
    facts: Mapping[str, Any]
    old: _Result
    new: _Result
    seed_old: _Result
    seed_new: _Result

    @property
    def distance(self) -> int:
        return len(self.changes)

    def as_json(self) -> dict[str, Any]:
        def part(r: _Result) -> dict[str, Any]:
            return {"outcome": r.outcome, "outcome_label": r.label, "score": r.score}
        return {"seed": self.seed, "as_of": self.as_of, "changes": [c.as_json() for c in self.changes],
                "old": part(self.old), "new": part(self.new),
                "seed_results": {"old": part(self.seed_old), "new": part(self.seed_new)}, "facts": dict(self.facts)}

    def text(self) -> str:
        where = f"以「{self.seed}」为基础" + ("(不作改动)" if not self.changes else
                                         ",将" + "、".join(c.text() for c in self.changes))
        return (f"{where}(评估日 {self.as_of}):旧版{_score(self.old)},{self.old.label}({self.old.outcome});"
                f"新版{_score(self.new)},{self.new.label}({self.new.outcome})。")

    def sheet_row(self) -> list[Any]:
        return [self.seed, self.as_of, "\n".join(c.text() for c in self.changes) or "(不作改动)", self.distance,
                self.old.outcome, self.old.label, self.old.score, self.new.outcome, self.new.label, self.new.score]


FLIP_SHEET = "翻转示例"
FLIP_HEADER = ["基础用例", "评估日", "改动的事实", "改动项数", "旧结论", "旧结论名称", "旧分数", "新结论", "新结论名称",
               "新分数"]


def flip_sheet(flips: Sequence[Flip]) -> tuple[str, list[str], Iterable[list[Any]]]:
    """The examples as a sheet for :func:`skillcert.analysis.impact.write_impact_xlsx`."""
    return FLIP_SHEET, list(FLIP_HEADER), [f.sheet_row() for f in flips]


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format_decimal(value)
    return display_value(value)


def _score(r: _Result) -> str:
    return "无分数" if r.score is None else f"得 {format_decimal(r.score)} 分"


# --------------------------------------------------------------------------------------------------
# The search


class _Budget(Exception):
    """The search's bound of evaluations or time is reached."""


@dataclass
class _Search:
    old: Library
    new: Library
    decision_id: str
    variables: list[tuple[Path_, ValueSpec, str]]
    targets: list[Decimal]
    max_evaluations: int
    deadline: float
    evaluations: int = 0
    cache: dict[str, tuple[_Result | None, _Result | None]] = field(default_factory=dict)

    def results(self, facts: Mapping[str, Any], as_of: dt.date, allow: bool) -> tuple[_Result | None, _Result | None]:
        key = repr(sorted(_flat(facts)))
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        if self.evaluations >= self.max_evaluations or time.monotonic() > self.deadline:
            raise _Budget
        self.evaluations += 1
        pair = (self._one(self.old, facts, as_of, allow), self._one(self.new, facts, as_of, allow))
        if len(self.cache) < 100_000:
            self.cache[key] = pair
        return pair

    def _one(self, library: Library, facts: Mapping[str, Any], as_of: dt.date, allow: bool) -> _Result | None:
        try:
            r = library.evaluate(self.decision_id, facts, as_of=as_of, allow_out_of_period=allow, detail=False)
        except SkillcertError:
            return None
        return _Result(r.outcome, r.outcome_label, r.score)

    def closeness(self, score: Decimal | None) -> Decimal:
        if score is None or not self.targets:
            return Decimal("Infinity")
        return min(abs(score - t) for t in self.targets)


def _flat(facts: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for k, v in facts.items():
        if isinstance(v, Mapping):
            yield from _flat(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", repr(v)


def _get(facts: Mapping[str, Any], path: Path_, spec: ValueSpec) -> Any:
    node: Any = facts
    for step in path:
        if not isinstance(node, Mapping) or step not in node:
            return spec.default
        node = node[step]
    return node


def _set(facts: Mapping[str, Any], path: Path_, value: Any) -> dict[str, Any]:
    out = dict(facts)
    node = out
    for step in path[:-1]:
        child = node.get(step)
        child = dict(child) if isinstance(child, Mapping) else {}
        node[step] = child
        node = child
    node[path[-1]] = value
    return out


def _moves(value: Any, spec: ValueSpec) -> list[Any]:
    """The values one small change away from ``value``: toggled, one unit (a day) down and up, each other code."""
    if spec.kind == "bool":
        return [not value] if isinstance(value, bool) else [True, False]
    if spec.kind == "enum":
        return [code for code in spec.values if code != value]
    if spec.kind == "date":
        return [value + _DAY * step for step in (-1, 1)] if isinstance(value, dt.date) else []
    if spec.kind not in ("integer", "decimal") or value is None or isinstance(value, bool):
        return []
    out = []
    for candidate in (value - 1, value + 1):
        if spec.min is not None and candidate < spec.min:
            continue
        if spec.max is not None and candidate > spec.max:
            continue
        out.append(candidate)
    return out


def _toward(value: Any, seed: Any, spec: ValueSpec) -> Any:
    """``value`` one unit back towards ``seed`` (the seed's value itself for flags and codes)."""
    if spec.kind in ("integer", "decimal") and isinstance(value, (int, Decimal)) and isinstance(seed, (int, Decimal)) \
            and not isinstance(value, bool) and not isinstance(seed, bool):
        return value - 1 if value > seed else value + 1
    if spec.kind == "date" and isinstance(value, dt.date) and isinstance(seed, dt.date):
        return value - _DAY if value > seed else value + _DAY
    return seed


def _flips(pair: tuple[_Result | None, _Result | None]) -> bool:
    old, new = pair
    return old is not None and new is not None and old.outcome != new.outcome


def flip_examples(old: Library, new: Library, decision_id: str, *, seeds: Iterable[Mapping[str, Any]] = (),
                  as_of: dt.date | None = None, limit: int = 10, max_evaluations: int = MAX_EVALUATIONS,
                  max_seconds: float = MAX_SECONDS, include_pack_cases: bool = True) -> list[Flip]:
    """Examples where a small change of facts, from a seed, gives a different outcome under NEW than under OLD
    (see the module doc), smallest changes first, at most ``limit``."""
    old_d, new_d = old.decision(decision_id), new.decision(decision_id)
    changes = what_changed(old_d, new_d)
    search = _Search(old, new, decision_id, variables(changes.paths, new_d), sorted(changes.targets),
                     max_evaluations, time.monotonic() + max_seconds)
    day = as_of or dt.date.today()
    rows: list[FactsRow] = []
    if include_pack_cases:
        rows.extend(r for r in pack_rows([("新", new), ("旧", old)], decision_id) if isinstance(r, FactsRow))
    rows.extend(FactsRow("调用方", f"种子 {i + 1}", s) for i, s in enumerate(seeds))
    found: list[tuple[int, int, Flip]] = []
    keys: set[str] = set()
    for order, row in enumerate(rows):
        try:
            for flip in _from_seed(search, row, row.as_of or day):
                key = repr(sorted(_flat(flip.facts))) + str(flip.as_of)
                if key not in keys:
                    keys.add(key)
                    found.append((flip.distance, order, flip))
        except _Budget:
            break
    found.sort(key=lambda t: (t[0], t[1]))
    return [f for _, _, f in found[:limit]]


def _from_seed(search: _Search, row: FactsRow, as_of: dt.date) -> list[Flip]:
    allow = row.allow_out_of_period
    seed = dict(row.facts)
    base = search.results(seed, as_of, allow)
    if base[0] is None or base[1] is None:
        return []
    assert base[0] is not None and base[1] is not None

    def flip(facts: dict[str, Any], pair: tuple[_Result | None, _Result | None]) -> Flip:
        facts, pair = _reduce(search, seed, facts, pair, as_of, allow)
        changes = []
        for path, spec, label in search.variables:
            before, after = _get(seed, path, spec), _get(facts, path, spec)
            if before != after:
                changes.append(Change(path, label, before, after, dict(spec.values)))
        assert pair[0] is not None and pair[1] is not None and base[0] is not None and base[1] is not None
        return Flip(row.label, as_of, tuple(changes), facts, pair[0], pair[1], base[0], base[1])

    if _flips(base):
        return [flip(seed, base)]
    singles: list[tuple[Decimal, int, dict[str, Any], Path_]] = []
    out: list[Flip] = []
    for i, (path, spec, _) in enumerate(search.variables):
        for value in _moves(_get(seed, path, spec), spec):
            facts = _set(seed, path, value)
            pair = search.results(facts, as_of, allow)
            if _flips(pair):
                out.append(flip(facts, pair))
            elif pair[0] is not None:
                singles.append((search.closeness(pair[0].score), i, facts, path))
    if out:
        return out[:PER_SEED]
    singles.sort(key=lambda t: (t[0], t[1]))
    nearest = singles[:PAIRS_FROM]
    for (_, _, a, path_a), (_, _, b, path_b) in itertools.combinations(nearest, 2):
        if path_a == path_b:
            continue
        spec_b = next(s for p, s, _ in search.variables if p == path_b)
        facts = _set(a, path_b, _get(b, path_b, spec_b))
        pair = search.results(facts, as_of, allow)
        if _flips(pair):
            out.append(flip(facts, pair))
            if len(out) >= PER_SEED:
                break
    if out:
        return out
    if base[0].score is not None and search.targets:
        return _walk(search, seed, as_of, allow, flip)
    return _lines(search, seed, as_of, allow, flip)


def _lines(search: _Search, seed: dict[str, Any], as_of: dt.date, allow: bool, flip: Any) -> list[Flip]:
    """With no score bound to aim at (a changed deadline, a changed condition): each number or date alone, further
    and further from the seed in each direction, up to :data:`LINE_STEPS` units."""
    out: list[Flip] = []
    for path, spec, _ in search.variables:
        if spec.kind not in ("integer", "decimal", "date"):
            continue
        start = _get(seed, path, spec)
        if start is None or isinstance(start, bool):
            continue
        unit: Any = _DAY if spec.kind == "date" else 1
        for sign in (-1, 1):
            here = start
            for _ in range(LINE_STEPS):
                if here + sign * unit not in _moves(here, spec):
                    break  # a declared bound
                here = here + sign * unit
                facts = _set(seed, path, here)
                pair = search.results(facts, as_of, allow)
                if _flips(pair):
                    out.append(flip(facts, pair))
                    break
            if len(out) >= PER_SEED:
                return out
    return out


def _walk(search: _Search, seed: dict[str, Any], as_of: dt.date, allow: bool, flip: Any) -> list[Flip]:
    """From the seed, one change at a time towards the nearest target (the change whose OLD score lands nearest
    it), until a point flips."""
    here = seed
    for _ in range(WALK_STEPS):
        best: tuple[Decimal, int, dict[str, Any]] | None = None
        for i, (path, spec, _) in enumerate(search.variables):
            for value in _moves(_get(here, path, spec), spec):
                facts = _set(here, path, value)
                pair = search.results(facts, as_of, allow)
                if _flips(pair):
                    return [flip(facts, pair)]
                if pair[0] is not None:
                    near = search.closeness(pair[0].score)
                    if best is None or near < best[0]:
                        best = (near, i, facts)
        if best is None or best[2] == here:
            return []
        here = best[2]
    return []


def _reduce(search: _Search, seed: dict[str, Any], facts: dict[str, Any],
            pair: tuple[_Result | None, _Result | None], as_of: dt.date, allow: bool
            ) -> tuple[dict[str, Any], tuple[_Result | None, _Result | None]]:
    """Step changed inputs back towards the seed while the flip holds, until no single step back keeps it."""
    while True:
        for path, spec, _ in search.variables:
            now, before = _get(facts, path, spec), _get(seed, path, spec)
            if now == before:
                continue
            back = _toward(now, before, spec)
            trial = _set(facts, path, back)
            try:
                trial_pair = search.results(trial, as_of, allow)
            except _Budget:
                return facts, pair
            if _flips(trial_pair):
                facts, pair = trial, trial_pair
                break
        else:
            return facts, pair
