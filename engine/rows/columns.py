"""Columns → facts: which column of a row is which input of the decision, and how its cells become values.

A column is an input by its name (``kind``), by a dotted path into a record input (``record.field``), or by the
Chinese labels staff head their columns with, at every level: an input's label, a record field's label alone
(``缺少的岗位数``), or the record's name or label and the field's name or label joined by ``.``, ``·``, ``・``,
``•``, ``/`` or ``:`` (``评估发现·缺少的岗位数``). Labels are compared without spaces, case or full-width forms. A
spelling that could mean two inputs is not guessed: the column is refused, naming both (``column-ambiguous``), and
so is a column that looks like an input but names none (``column-unknown``: a field of a record it does not have,
or a field label behind a wrong record label). Any other column (ids, names) is carried over to the output; one
named like a result column (``outcome``, ``score``, ``error`` …) is carried as ``outcome(输入)``, never into the
result's own column.

:func:`plan_columns` checks a header once (duplicates, two columns for one input, a record and its own field) and
says which column is which input; :func:`row_facts` then splits each row with the cached plan of each column.

Cells of spreadsheets and CSV files are text: they are converted by the type the input declares (``true`` / ``是``
for a bool, ``2025-06-30`` or a spreadsheet date for a date, JSON for a list or a record, an enum's Chinese label
for its code); anything unclear is left as it is, for the facts' validation to report with the input's name and
label. An empty cell is left out: the input's default applies. A JSON cell nested deeper than
:data:`~.limits.MAX_JSON_DEPTH` is the row's error (``cell-too-deep``).

This is the one module that reads the inputs' declarations for rows (names, labels, types); ``evaluate_many``,
batch files and the Dask adapter all go through it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
import unicodedata
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

from ..compiler.model import Decision, ValueSpec
from ..errors import Location, Problem, SkillcertError, did_you_mean
from ..lang.types import VType
from ..runtime.factcheck import FRESH, REQUIRED, RecordLayout, copy_value, record_layout
from .cells import output_columns
from .limits import MAX_HEADER_CELL_CHARS, MAX_JSON_DEPTH

__all__ = ["ERROR_KEY", "JSON_DECODER", "RowError", "CellError", "Column", "ColumnReport", "HeaderRows", "column_of", "plan_columns",
           "header_matches", "carried_columns", "carried_cells", "row_facts", "input_label", "input_type",
           "json_too_deep", "SEPARATORS"]

ERROR_KEY = "__error__"  # a row that could not be read carries its RowError under this key

SEPARATORS = (".", "·", "・", "•", "/", ":")  # between a record's name or label and its field's
CARRIED_SUFFIX = "(输入)"  # a carried column named like a result column is carried under this name
_MAX_DEPTH_OF_PATHS = 4  # records inside records: spellings are made this deep
_MAX_CACHED = 10_000  # column plans kept per decision (rows of arbitrary keys do not grow the cache for ever)


class RowError:
    """Why a row could not be read (what a reader puts under :data:`ERROR_KEY`): a stable code and a message that
    names the row. The row's other cells are carried over, so that the row can be found."""

    __slots__ = ("code", "message")

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"RowError({self.code!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RowError) and (self.code, self.message) == (other.code, other.message)

    def __hash__(self) -> int:
        return hash((self.code, self.message))


class CellError(SkillcertError):
    """A cell or column that cannot be taken as a value at all: the row's error, naming the column."""

    code = "cell-invalid"


@dataclass(frozen=True, slots=True)
class Column:
    """How one column of rows maps: to an input (``path``, with the converter of its cells), carried over to the
    output (``carried_as``), or refused (``problem``)."""

    key: Any                                    # as the row has it
    path: tuple[str, ...] = ()                  # the input it fills: one name, or a record's and its fields'
    convert: Callable[[Any], Any] | None = None  # None: the cell is kept as it is
    carried_as: str | None = None               # the output column it is carried to
    problem: tuple[str, str] | None = None      # (code, message): the column cannot be used
    hint: str = ""                              # for a carried column: the input it may have meant

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass
class ColumnReport:
    """A header checked once: each column's plan, in order, and what is wrong with the header as a whole."""

    columns: list[Column] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def inputs(self) -> list[Column]:
        return [c for c in self.columns if c.path]

    @property
    def carried(self) -> list[Column]:
        return [c for c in self.columns if c.carried_as is not None]

    def carried_names(self) -> list[str]:
        return [c.carried_as for c in self.columns if c.carried_as is not None]

    def matched_text(self) -> str:
        """Which column is which input: ``类型 → kind``, or the name alone when it is the name."""
        return "、".join(c.key if str(c.key) == c.dotted else f"{c.key} → {c.dotted}" for c in self.inputs)


def input_label(decision: Decision, name: str) -> str:
    """The Chinese label of an input."""
    return decision.inputs[name].label


def input_type(decision: Decision, name: str) -> VType:
    """The declared type of an input (enum labels, record fields …)."""
    return decision.inputs[name].type


# --------------------------------------------------------------------------------------------------
# Names and labels of a decision's inputs, at every level


def _norm(text: str) -> str:
    """A spelling as compared: full-width forms folded (NFKC), no case, no spaces."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


_SPLIT = re.compile("|".join(re.escape(s) for s in SEPARATORS))


@dataclass
class _Index:
    spelled: dict[str, set[tuple[str, ...]]]   # a normalized spelling → the input paths it can mean
    leaves: dict[str, set[tuple[str, ...]]]    # a normalized name or label of one input or field → its paths
    records: dict[str, tuple[str, ...]]        # a normalized name or label of a record → its path
    types: dict[tuple[str, ...], VType]        # every input path → its type
    labels: dict[tuple[str, ...], str]         # every input path → its own label (the field's, for a field)
    names: list[str]                           # every name and label, for did-you-mean
    reserved: frozenset[str]                   # the result columns of the output


_INDEXES: weakref.WeakKeyDictionary[Decision, _Index] = weakref.WeakKeyDictionary()
_PLANS: weakref.WeakKeyDictionary[Decision, dict[Any, Column]] = weakref.WeakKeyDictionary()


def _index(decision: Decision) -> _Index:
    index = _INDEXES.get(decision)
    if index is None:
        index = _INDEXES[decision] = _build_index(decision)
    return index


def _walk(path: tuple[str, ...], names: tuple[tuple[str, str], ...], vtype: VType, spec: ValueSpec | None
          ) -> Iterable[tuple[tuple[str, ...], tuple[tuple[str, str], ...], VType]]:
    yield path, names, vtype
    if vtype.kind != "record" or len(path) >= _MAX_DEPTH_OF_PATHS:
        return
    field_labels = dict(vtype.field_labels)
    for fname, ftype in vtype.fields:
        fspec = spec.fields.get(fname) if spec is not None else None
        label = fspec.label if fspec is not None and fspec.label else field_labels.get(fname, "")
        yield from _walk((*path, fname), (*names, (fname, label)), ftype, fspec)


def _build_index(decision: Decision) -> _Index:
    spelled: dict[str, set[tuple[str, ...]]] = {}
    leaves: dict[str, set[tuple[str, ...]]] = {}
    records: dict[str, tuple[str, ...]] = {}
    types: dict[tuple[str, ...], VType] = {}
    labels: dict[tuple[str, ...], str] = {}
    names: list[str] = []
    for name, inp in decision.inputs.items():
        for path, steps, vtype in _walk((name,), ((name, inp.label),), inp.type, inp.spec):
            types[path] = vtype
            labels[path] = steps[-1][1] or steps[-1][0]
            choices = [[_norm(s) for s in dict.fromkeys((n, label)) if s] for n, label in steps]
            for combo in itertools.product(*choices):
                for sep in SEPARATORS if len(combo) > 1 else ("",):
                    spelled.setdefault(sep.join(combo), set()).add(path)
            for s in choices[-1]:
                leaves.setdefault(s, set()).add(path)
                if len(path) > 1:  # a field's name or label alone
                    spelled.setdefault(s, set()).add(path)
                if vtype.kind == "record":
                    records.setdefault(s, path)
            names.extend(s for s in steps[-1] if s)
    reserved = frozenset(output_columns(decision, []))
    return _Index(spelled, leaves, records, types, labels, list(dict.fromkeys(names)), reserved)


# --------------------------------------------------------------------------------------------------
# One column's plan


def column_of(decision: Decision, key: Any) -> Column:
    """How a column maps to the facts (cached per decision)."""
    plans = _PLANS.get(decision)
    if plans is None:
        plans = _PLANS[decision] = {}
    column = plans.get(key)
    if column is None:
        column = _plan(decision, key)
        if len(plans) < _MAX_CACHED:
            plans[key] = column
    return column


def _describe(index: _Index, path: tuple[str, ...]) -> str:
    return f"{'.'.join(path)}({index.labels.get(path, '')})"


def _plan(decision: Decision, key: Any) -> Column:
    index = _index(decision)
    text = str(key).strip()
    parts = text.split(".")
    by_names = _by_names(index, key, tuple(parts)) if parts[0] in decision.inputs else None
    if by_names is not None and by_names.problem is None:  # by name: an input, or a dotted path into a record
        return by_names
    paths = index.spelled.get(_norm(text)) if len(text) <= MAX_HEADER_CELL_CHARS else None
    if paths:
        if len(paths) > 1:
            meant = "、".join(_describe(index, p) for p in sorted(paths))
            return Column(key, problem=("column-ambiguous", f"列名 '{text}' 可以指 {meant},无法确定是哪一个;"
                                        "请改用输入的名称(带点的路径)作列名"))
        [path] = paths
        return Column(key, path, _converter(index.types[path]))
    if by_names is not None:
        return by_names
    unclear = _unclear(index, text)
    if unclear is not None:
        return Column(key, problem=("column-unknown", unclear))
    name = str(key)
    return Column(key, carried_as=name if text not in index.reserved else _renamed(text),
                  hint=did_you_mean(text, index.names) if 0 < len(text) <= MAX_HEADER_CELL_CHARS else "")


def _renamed(name: str) -> str:
    return f"{name}{CARRIED_SUFFIX}"


def _by_names(index: _Index, key: Any, parts: tuple[str, ...]) -> Column:
    path: tuple[str, ...] = (parts[0],)
    vtype: VType | None = index.types[path]
    for part in parts[1:]:
        if vtype is None or vtype.kind != "record":  # a mapping's key, or a path the facts' validation reports
            return Column(key, parts, None)
        path = (*path, part)
        if path not in index.types:
            fields = [n for n, _ in vtype.fields]
            hint = did_you_mean(part, fields)
            return Column(key, problem=("column-unknown", f"列名 '{key}':{_describe(index, path[:-1])} 没有字段 "
                                        f"'{part}'" + (f";{hint}" if hint else "")))
        vtype = index.types[path]
    return Column(key, parts, _converter(vtype) if vtype is not None else None)


def _unclear(index: _Index, text: str) -> str | None:
    """Why a column that matches no input still looks like one (None when it does not): an input's name or label
    behind a wrong record, or a record's name or label followed by a field it does not have."""
    norm = _norm(text)
    if len(norm) > MAX_HEADER_CELL_CHARS:
        return None
    parts = [p for p in _SPLIT.split(norm) if p]
    if len(parts) < 2:
        return None
    leaf = index.leaves.get(parts[-1])
    if leaf:
        meant = "、".join(_describe(index, p) for p in sorted(leaf))
        records = sorted({p[:-1] for p in leaf if len(p) > 1})
        if records:
            where = "、".join(f"'{'.'.join(r)}' 或 '{index.labels[r]}'" for r in records)
            return (f"列名 '{text}' 的最后一段是 {meant},但前面的部分不是它所在的记录(应是 {where});"
                    "请改正列名,或只写字段的标签")
        return f"列名 '{text}' 的最后一段是输入 {meant};请只写输入的名称或标签"
    record = index.records.get(parts[0])
    if record is not None and len(parts) == 2:
        rtype = index.types[record]
        fields = [n for n, _ in rtype.fields] + [label for _, label in rtype.field_labels if label]
        hint = did_you_mean(parts[1], fields)
        return f"列名 '{text}':{_describe(index, record)} 没有字段 '{parts[1]}'" + (f";{hint}" if hint else "")
    return None


# --------------------------------------------------------------------------------------------------
# A header, checked once


def plan_columns(decision: Decision, header: Sequence[Any], *, source: str = "", line: int = 0) -> ColumnReport:
    """Each column's plan, and the header's problems: a column refused (ambiguous, unknown), the same column twice,
    two columns for one input, or a record and one of its fields both given. ``source`` and ``line`` (the file and
    the header's row) locate the problems."""
    report = ColumnReport()
    seen_keys: dict[str, int] = {}
    seen_paths: dict[tuple[str, ...], int] = {}
    seen_out: dict[str, int] = {}

    def problem(code: str, message: str, col: int, key: str) -> None:
        report.problems.append(Problem(code, message, Location(source, line, col, "" if source else key)))

    for i, key in enumerate(header, 1):
        if key is None or (isinstance(key, str) and not key.strip()):
            continue
        name = str(key)
        column = column_of(decision, key)
        report.columns.append(column)
        if name in seen_keys:
            problem("column-duplicate", f"列名 '{name}' 出现了不止一次(第 {seen_keys[name]} 列和第 {i} 列);"
                    "同名的列只会留下一个,请删去或改名", i, name)
            continue
        seen_keys[name] = i
        if column.problem is not None:
            problem(*column.problem, i, name)
        elif column.path:
            for other, at in seen_paths.items():
                if other == column.path:
                    problem("column-duplicate", f"第 {at} 列和第 {i} 列('{name}')都是输入 "
                            f"{_describe(_index(decision), column.path)},请只留一列", i, name)
                elif other[:len(column.path)] == column.path or column.path[:len(other)] == other:
                    problem("column-overlap", f"第 {at} 列和第 {i} 列('{name}')重叠:"
                            f"{'.'.join(other if len(other) < len(column.path) else column.path)} 整体与它的字段不能同时给出", i, name)
            seen_paths[column.path] = i
        elif column.carried_as is not None:
            if column.carried_as in seen_out:
                problem("column-duplicate", f"第 {i} 列 '{name}' 带到输出时与第 {seen_out[column.carried_as]} 列"
                        f"同名('{column.carried_as}'),请改名", i, name)
            seen_out[column.carried_as] = i
    return report


def header_matches(decision: Decision, cells: Sequence[Any]) -> bool:
    """Whether a row of cells can be the header: at least one of them is an input of the decision."""
    for cell in cells:
        if cell.__class__ is str and cell.strip() and len(cell) <= MAX_HEADER_CELL_CHARS:
            column = column_of(decision, cell.strip())
            if column.path or (column.problem is not None and column.problem[0] == "column-ambiguous"):
                return True
    return False


def carried_columns(decision: Decision, columns: Iterable[Any]) -> list[str]:
    """The output names of the columns that are not inputs of the decision (ids, names), in order."""
    out = []
    for c in columns:
        if c is None or c == ERROR_KEY:
            continue
        carried = column_of(decision, c).carried_as
        if carried is not None:
            out.append(carried)
    return out


def carried_cells(decision: Decision, row: dict[Any, Any]) -> dict[str, Any]:
    """The carried-over cells of a row alone (for a row that could not be evaluated: its ids still show)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key is None or key == ERROR_KEY:
            continue
        carried = column_of(decision, key).carried_as
        if carried is not None:
            out[carried] = value
    return out


# --------------------------------------------------------------------------------------------------
# A row


# The plan of a column as row_facts reads it, per decision and key: (kind, target, converter). Kinds (literal in
# row_facts, for speed): 0 carried (target: the output column), 1 an input (its name), 2 a record or mapping input
# given whole (its name), 3 a field of a record input (its path), 4 refused (the Column).
_Plan = tuple[int, Any, Callable[[Any], Any] | None]
_FAST: weakref.WeakKeyDictionary[Decision, dict[Any, _Plan]] = weakref.WeakKeyDictionary()


def _fast_plan(decision: Decision, key: Any) -> _Plan:
    column = column_of(decision, key)
    plan: _Plan
    if column.carried_as is not None:
        plan = (0, column.carried_as, None)
    elif column.problem is not None:
        plan = (4, column, None)
    elif len(column.path) == 1:
        whole = _index(decision).types[column.path].kind in ("record", "mapping")
        plan = (2 if whole else 1, column.path[0], column.convert)
    else:
        plan = (3, column.path, column.convert)
    fast = _FAST.get(decision)
    if fast is None:
        fast = _FAST[decision] = {}
    if len(fast) < _MAX_CACHED:
        fast[key] = plan
    return plan


def row_facts(decision: Decision, row: dict[Any, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a raw row into the decision's facts (converted, nested) and the other columns (carried over).

    A refused column with a value, a cell that cannot be a value, two columns for one input, or a record given
    whole and by its fields is a :class:`CellError` naming the column.
    """
    facts: dict[str, Any] = {}
    passthrough: dict[str, Any] = {}
    fast = _FAST.get(decision) or {}
    whole: set[str] | None = None  # the record inputs given whole (their fields may not be given as well)
    for key, value in row.items():
        plan = fast.get(key)
        if plan is None:
            if key is None:
                continue
            plan = _fast_plan(decision, key)
        kind, target, convert = plan
        if kind == 0:
            passthrough[target] = value
            continue
        if value is None or value == "" or (value.__class__ is str and not value.strip()):
            continue  # an empty cell: the input's default applies
        if kind == 3:
            if whole is not None and target[0] in whole:
                raise _overlap(key, target[0])
            try:
                converted = convert(value) if convert is not None else value
            except CellError as exc:
                raise _in_column(decision, key, target, exc) from None
            node = facts
            for part in target[:-1]:
                child = node.get(part)
                if child is None:
                    child = node[part] = {}
                node = child
            if target[-1] in node:
                raise _twice(decision, key, target)
            node[target[-1]] = converted
            continue
        if kind == 4:
            problem = target.problem
            raise CellError(problem[1], code=problem[0])
        if target in facts:
            raise _overlap(key, target) if kind == 2 else _twice(decision, key, (target,))
        try:
            facts[target] = convert(value) if convert is not None else value
        except CellError as exc:
            raise _in_column(decision, key, (target,), exc) from None
        if kind == 2:
            if whole is None:
                whole = set()
            whole.add(target)
    return facts, passthrough


def _twice(decision: Decision, key: Any, path: tuple[str, ...]) -> CellError:
    return CellError(f"列 '{key}' 与另一列都是输入 {_describe(_index(decision), path)}", code="column-duplicate")


def _overlap(key: Any, record: str) -> CellError:
    return CellError(f"列 '{key}' 与另一列重叠:{record} 整体与它的字段不能同时给出", code="column-overlap")


def _in_column(decision: Decision, key: Any, path: tuple[str, ...], exc: CellError) -> CellError:
    named = "" if str(key) == ".".join(path) else f"(列 '{key}')"
    return CellError(f"{_describe(_index(decision), path)}{named}:{exc.message}", code=exc.code)


def json_too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether lists and mappings in ``value`` are nested deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


# --------------------------------------------------------------------------------------------------
# Rows of one header: cells as a list, columns compiled once


_SKIP: Any = object()  # a cell left out: empty, the input's default applies
_MEMO_KEY_CHARS = 256  # a cell's text converted once per column and kept (counts, flags, codes, dates …) up to this
_MEMO_ENTRIES = 4_096  # texts kept per column (a column of distinct texts stops growing there)
_IMMUTABLE = frozenset({bool, int, Decimal, str})  # converted values that rows may share
_JSON_KINDS = frozenset({"list", "record", "mapping"})
_get = dict.get


def _picker(indexes: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """The cells at ``indexes`` of a row, as a tuple (picked at C speed)."""
    if len(indexes) == 1:
        index = indexes[0]
        return lambda cells: (cells[index],)
    if not indexes:
        return lambda cells: ()
    return itemgetter(*indexes)


class HeaderRows:
    """The rows of one header (a CSV or XLSX file's): cells in a list, in header order, split into facts and
    carried-over cells by converters compiled once per column. Names that are empty stand for no column.

    :meth:`facts` gives the same facts as :func:`row_facts` on the row as a mapping (:meth:`mapping`), and the same
    error: it *is* that function for a header out of the ordinary (a refused column, one input twice, a record
    given whole and by its fields, records inside records) and for any row in which a cell fails to convert.
    Otherwise a column converts each distinct short text once and keeps the value when no row can change it
    (numbers, flags, codes, text), so that a row costs a few lookups done at C speed; JSON cells are parsed once
    per text too, and each row gets its own copy.
    """

    def __init__(self, decision: Decision, names: Sequence[Any]) -> None:
        self.decision = decision
        self.names = tuple(names)
        self.width = len(self.names)
        carried: list[tuple[int, str]] = []
        tops: list[tuple[int, str, Callable[[Any], Any] | None]] = []
        fields: dict[str, list[tuple[int, str, Callable[[Any], Any] | None]]] = {}
        simple = True
        fast = _FAST.get(decision) or {}
        for i, name in enumerate(self.names):
            if name is None or name == "":
                continue
            kind, target, convert = fast.get(name) or _fast_plan(decision, name)
            if kind == 0:
                carried.append((i, target))
            elif kind in (1, 2):
                tops.append((i, target, convert))
            elif kind == 3 and len(target) == 2:
                fields.setdefault(target[0], []).append((i, target[1], convert))
            else:
                simple = False
        top_names = [t for _, t, _ in tops]
        for record, given in fields.items():
            if record in top_names or len({f for _, f, _ in given}) < len(given):
                simple = False
        self.simple = simple and len(set(top_names)) == len(top_names)
        self.carried_names = tuple(t for _, t in carried)
        self._carried_at = tuple(i for i, _ in carried)
        self._carry = _picker(self._carried_at)
        order = [*tops, *(f for given in fields.values() for f in given)]
        self._pick = _picker([i for i, _, _ in order])
        self._converts = [c for _, _, c in order]
        self._memos: list[dict[Any, Any]] = [{None: _SKIP, "": _SKIP} for _ in order]
        types = _index(decision).types
        paths = [(name,) for _, name, _ in tops] + [(r, f) for r, given in fields.items() for _, f, _ in given]
        self._json = frozenset(p for p, (path, (_, _, c)) in enumerate(zip(paths, order, strict=True))
                               if c is not None and types[path].kind in _JSON_KINDS)
        self._tops = [(p, name) for p, (_, name, _) in enumerate(tops)]
        self._records: list[tuple[str, int, int, tuple[str, ...]]] = []
        at = len(tops)
        for record, given in fields.items():
            self._records.append((record, at, at + len(given), tuple(f for _, f, _ in given)))
            at += len(given)
        self._order = [i for i, _, _ in order]
        self._named = frozenset(top_names) | frozenset(fields)  # the inputs a simple header gives
        self._scalar = {name: p for p, (_, name, _) in enumerate(tops)
                        if self.simple and types[(name,)].kind not in _JSON_KINDS}
        self._layout: RecordLayout | None = None
        if self.simple:
            self._trust(decision, paths)

    def _trust(self, decision: Decision, paths: Sequence[tuple[str, ...]]) -> None:
        """Compile the checks of every column (see :meth:`checked`), when each column is an input or a field of
        a record input (not a key into a mapping)."""
        layouts = _layouts(decision)
        top = layouts.get(())
        if top is None:
            return
        checks: list[Callable[[Any], Any]] = []
        for path in paths:
            layout = layouts.get(path[:-1])
            if layout is None or path[-1] not in layout.checkers:
                return
            checks.append(layout.checkers[path[-1]])
        self._checks = checks
        self._top_count = len(self._tops)
        self._top_names = tuple(name for _, name in self._tops)
        # lists of plain values: a row's copy need not go deeper
        self._flat = frozenset(p for p, path in enumerate(paths) if _flat_list(layouts[path[:-1]], path[-1]))
        self._checked_memos: list[dict[Any, Any]] = [{None: _SKIP, "": _SKIP} for _ in checks]
        self._record_layouts = [layouts[(record,)] for record, _, _, _ in self._records]
        self._layout = top

    def mapping(self, cells: Sequence[Any]) -> dict[Any, Any]:
        """The row as a mapping from column name to cell (as :func:`row_facts` takes it)."""
        return {name: cells[i] for i, name in enumerate(self.names[:len(cells)]) if name is not None and name != ""}

    def carried(self, cells: Sequence[Any]) -> tuple[Any, ...]:
        """The carried-over cells of a row, in the order of :attr:`carried_names` (None beyond the row's end)."""
        if len(cells) < self.width:
            cells = [*cells, *([None] * (self.width - len(cells)))]
        return self._carry(cells)

    def passthrough(self, cells: Sequence[Any]) -> dict[str, Any]:
        """The carried-over cells of a row as :func:`row_facts` gives them (none for a column beyond its end)."""
        return {name: cells[i] for i, name in zip(self._carried_at, self.carried_names, strict=True) if i < len(cells)}

    def facts(self, cells: Sequence[Any]) -> dict[str, Any]:
        """The facts of a row (see the class doc): converted, nested; a :class:`CellError` naming the column."""
        if not self.simple:
            return row_facts(self.decision, self.mapping(cells))[0]
        if len(cells) < self.width:
            cells = [*cells, *([None] * (self.width - len(cells)))]
        picked = self._pick(cells)
        values = list(map(_get, self._memos, picked))
        if None in values:
            try:
                self._fill(values, picked, self._memos, _IMMUTABLE, None)
            except Exception:  # the row's error, said as row_facts says it
                return row_facts(self.decision, self.mapping(cells))[0]
        for p in self._json:
            value = values[p]
            if value.__class__ is list or value.__class__ is dict:
                values[p] = _copied(value)
        facts: dict[str, Any] = {}
        for p, name in self._tops:
            value = values[p]
            if value is not _SKIP:
                facts[name] = value
        for record, start, end, names in self._records:
            part = values[start:end]
            if _SKIP in part:
                given = {n: v for n, v in zip(names, part, strict=True) if v is not _SKIP}
                if given:
                    facts[record] = given
            else:
                facts[record] = dict(zip(names, part, strict=True))
        return facts

    def given(self, cells: Sequence[Any], name: str) -> Any:
        """The value of the input ``name`` in :meth:`facts` of the row (None when not given), looked up without
        making the facts when it is a plain value in a column of its own whose text the column has seen."""
        p = self._scalar.get(name)
        if p is not None:
            at = self._order[p]
            value = self._memos[p].get(cells[at] if at < len(cells) else None)
            if value is not None:
                return None if value is _SKIP else value
        elif self.simple and name not in self._named:
            return None
        return self.facts(cells).get(name)

    def checked(self, cells: Sequence[Any]) -> dict[str, Any] | None:
        """The facts of a row already checked — exactly what :func:`skillcert.runtime.facts.validate_facts` returns
        for :meth:`facts` — or None when they are not certainly right (a cell that does not convert or check,
        a required input missing, a header out of the ordinary): those facts take the usual path, which says
        what is wrong as it always has. Each column checks a distinct short text once (with the checks the
        facts checker is compiled from, :func:`skillcert.runtime.factcheck.record_layout`) and keeps the checked
        value; lists and records are copied for each row."""
        top = self._layout
        if top is None:
            return None
        if len(cells) < self.width:
            cells = [*cells, *([None] * (self.width - len(cells)))]
        picked = self._pick(cells)
        values = list(map(_get, self._checked_memos, picked))
        if None in values and not self._fill(values, picked, self._checked_memos, _KEPT_CHECKED, self._checks):
            return None
        for p in self._json:
            value = values[p]
            if value.__class__ is list or value.__class__ is dict:
                values[p] = value.copy() if p in self._flat else _copied(value)
        facts = top.template.copy()
        tops = values[:self._top_count]
        if _SKIP in tops:
            for name, value in zip(self._top_names, tops, strict=True):
                if value is not _SKIP:
                    facts[name] = value
        else:
            facts.update(zip(self._top_names, tops, strict=True))
        for (record, start, end, names), layout in zip(self._records, self._record_layouts, strict=True):
            part = values[start:end]
            skipped = part.count(_SKIP)
            if skipped == len(part):
                continue  # not given: the record input's own default
            fields = layout.template.copy()
            if skipped:
                for name, value in zip(names, part, strict=True):
                    if value is not _SKIP:
                        fields[name] = value
            else:
                fields.update(zip(names, part, strict=True))
            if (layout.required or layout.fresh) and not _complete(fields, layout):
                return None
            facts[record] = fields
        if (top.required or top.fresh) and not _complete(facts, top):
            return None
        return facts

    def _fill(self, values: list[Any], picked: Sequence[Any], memos: list[dict[Any, Any]], kept: frozenset[type],
              checks: list[Callable[[Any], Any]] | None) -> bool:
        """Convert — and check, given ``checks`` — the cells no column has seen yet (their value is None), keeping
        what may be kept in ``memos``. With checks, False as soon as one is not certainly right; without, a cell
        that does not convert raises."""
        p = values.index(None)
        while True:
            cell = picked[p]
            if cell is None or cell == "" or (cell.__class__ is str and not cell.strip()):
                value = _SKIP
            else:
                convert = self._converts[p]
                try:
                    value = convert(cell) if convert is not None else cell
                    if checks is not None:
                        value = checks[p](value)
                except Exception:  # Declined, a CellError: the usual path says what is wrong
                    if checks is None:
                        raise
                    return False
            values[p] = value
            self._keep(memos[p], p, cell, value, kept)
            try:
                p = values.index(None, p + 1)
            except ValueError:
                return True

    def _keep(self, memo: dict[Any, Any], p: int, cell: Any, value: Any, kept: frozenset[type]) -> None:
        """Keep a short text's value for its column when rows may share it (JSON lists and records too: every row
        gets its own copy, see facts)."""
        if cell.__class__ is str and len(cell) <= _MEMO_KEY_CHARS and len(memo) < _MEMO_ENTRIES and (
                value is _SKIP or value.__class__ in kept or (
                p in self._json and (value.__class__ is list or value.__class__ is dict))):
            memo[cell] = value


_KEPT_CHECKED = frozenset({bool, int, Decimal, str, dt.date})  # checked values that rows may share
_LAYOUTS: weakref.WeakKeyDictionary[Decision, dict[tuple[str, ...], RecordLayout]] = weakref.WeakKeyDictionary()


def _layouts(decision: Decision) -> dict[tuple[str, ...], RecordLayout]:
    """The layouts of a decision's facts (``()``) and of each record input (``(name,)``), built once; a part the
    checker would not lay out so is left out."""
    layouts = _LAYOUTS.get(decision)
    if layouts is None:
        layouts = {}
        try:
            layouts[()] = record_layout({name: i.spec for name, i in decision.inputs.items()})
            for name, inp in decision.inputs.items():
                if inp.spec.kind == "record":
                    layouts[(name,)] = record_layout(inp.spec.fields)
        except Exception:  # a declaration the checker cannot compile: no row takes the trusted path
            layouts = {}
        _LAYOUTS[decision] = layouts
    return layouts


def _flat_list(layout: RecordLayout, name: str) -> bool:
    """Whether the checked value of this field, when a list, holds only immutable values."""
    spec = layout.specs.get(name)
    return spec is not None and spec.kind == "list" and spec.items is not None and spec.items.kind in (
        "bool", "integer", "decimal", "date", "text", "enum")


def _complete(record: dict[str, Any], layout: RecordLayout) -> bool:
    """Fill a record's fresh defaults; False when a field the checker cannot fill in is missing."""
    for name in layout.required:
        if record[name] is REQUIRED:
            return False
    for name, default in layout.fresh.items():
        if record[name] is FRESH:
            record[name] = copy_value(default)
    return True


def _copied(value: Any) -> Any:
    if value.__class__ is dict:
        return {k: _copied(v) for k, v in value.items()}
    if value.__class__ is list:
        return [_copied(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------------
# Cells by declared type

_TRUE = {"true", "1", "是", "yes", "y", "t", "对", "有"}
_FALSE = {"false", "0", "否", "no", "n", "f", "无", "没有"}
_INT = re.compile(r"^[+-]?\d+$")


def _converter(vtype: VType) -> Callable[[Any], Any]:
    """The converter of a cell for an input of this type."""
    kind = vtype.kind
    on_text = _TEXT.get(kind, _keep)
    if kind == "enum":
        on_text = _enum_text(vtype)

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            return on_text(value, value.strip())
        if isinstance(value, dt.datetime):  # a spreadsheet date comes as a datetime at midnight
            return value.date() if value.time() == dt.time() else value
        if isinstance(value, float):  # a spreadsheet number: exact, as it is shown
            if not math.isfinite(value):
                return value
            return int(value) if value.is_integer() and kind == "integer" else Decimal(repr(value))
        return value
    return convert


def _keep(value: str, text: str) -> Any:
    return value


def _bool(value: str, text: str) -> Any:
    low = text.lower()
    return True if low in _TRUE else False if low in _FALSE else value


def _integer(value: str, text: str) -> Any:
    if not _INT.match(text):
        return value
    try:
        return int(text)
    except ValueError:  # more digits than Python converts: the facts' validation says the number is too long
        return value


def _decimal(value: str, text: str) -> Any:
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return value
    return number if number.is_finite() else value  # NaN and Infinity are not numbers a case has


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} 不是数")


# JSON in cells and JSON Lines rows: exact decimals, NaN/Infinity refused; built once, not per cell or line
JSON_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def _json(value: str, text: str) -> Any:
    try:
        parsed = JSON_DECODER.decode(text)
    except RecursionError:
        raise CellError(f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层", code="cell-too-deep") from None
    except ValueError:  # not JSON (or a number of too many digits): the facts' validation says what was expected
        return value
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and json_too_deep(parsed):
        raise CellError(f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层", code="cell-too-deep")
    return parsed


def _stripped(value: str, text: str) -> Any:
    return text


def _enum_text(vtype: VType) -> Callable[[str, str], Any]:
    codes = set(vtype.values)
    by_label: dict[str, str] = {}
    for code, label in vtype.labels:
        by_label.setdefault(label, code)

    def convert(value: str, text: str) -> Any:
        # a code stands for itself; a Chinese label (as staff type them) for its code
        return text if text in codes else by_label.get(text, text)
    return convert


_TEXT: dict[str, Callable[[str, str], Any]] = {
    "bool": _bool, "integer": _integer, "decimal": _decimal, "list": _json, "record": _json, "mapping": _json,
    "date": _stripped,
}
