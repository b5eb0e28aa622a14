"""The compiled form of a pack: frozen dataclasses the evaluator walks.

The compiler (:mod:`skillcert.compiler.pipeline`) builds these once from a schema-valid YAML document; nothing
here parses or checks, nothing is assigned after the build, no cache is kept on them (per-evaluation and
per-process caches live beside them, keyed by identity) and the raw YAML is not kept. Mappings and lists are
typed read-only. Every element keeps its :class:`~skillcert.errors.Location` so that runtime errors and coverage
reports can point back into the pack.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..errors import Location
from ..lang.calendar import HolidayCalendar
from ..lang.expr import CompiledExpr
from ..lang.types import VType

__all__ = [
    "DEFAULT_MAX_ITEMS", "InputDef", "Parameter", "Derived", "Deadline", "ScoreLine", "ScoreNode", "Scorecard", "ChecklistItem",
    "Checklist", "Outcome", "Condition", "Band", "Rule", "Decision", "Pack", "SourceDoc", "Table", "TableColumn",
    "DocumentDef",
]


# Items a list (or entries a mapping) in the facts may hold when its declaration sets no ``max_items``: far more
# than any case has (the rows of a list in a notice's forms), and bounded, so that no input makes
# validation or evaluation run away.
DEFAULT_MAX_ITEMS = 10_000


@dataclass(frozen=True)
class ValueSpec:
    """How a value must be given in the facts: an input, or a field, list item or mapping key of one.

    What facts validation needs (kind, bounds, allowed codes, nested parts, default) and what messages need
    (the Chinese label); the value's type for expressions is its :class:`~skillcert.lang.types.VType`.
    """

    kind: str                                   # bool integer decimal date text enum list mapping record
    label: str = ""
    required: bool = True                       # False when a default is declared (None: may be left out)
    default: Any = None
    min: int | Decimal | None = None
    max: int | Decimal | None = None
    max_length: int | None = None
    values: Mapping[str, str] = field(default_factory=dict)       # enum: code → Chinese label
    items: ValueSpec | None = None                                # list and mapping: the items
    keys: ValueSpec | None = None                                 # mapping: the keys (text or enum)
    fields: Mapping[str, ValueSpec] = field(default_factory=dict)  # record: its fields
    max_items: int | None = None                                  # list and mapping: at most this many (None: default)
    unique_by: tuple[str, ...] = ()                               # list of records: no two items agree on these fields

    @property
    def item_limit(self) -> int:
        """How many items a list (or entries a mapping) may hold: ``max_items``, or :data:`DEFAULT_MAX_ITEMS`."""
        return self.max_items if self.max_items is not None else DEFAULT_MAX_ITEMS

    def part(self, step: Any) -> ValueSpec | None:
        """The spec one step down a facts path: an item of a list or mapping, a field of a record."""
        if self.kind in ("list", "mapping"):
            return self.items
        if self.kind == "record" and isinstance(step, str):
            return self.fields.get(step)
        return None


@dataclass(frozen=True)
class InputDef:
    name: str
    label: str
    type: VType
    spec: ValueSpec                 # how the facts must give it (bounds, codes, fields, defaults)
    required: bool
    default: Any
    source: str
    description: str
    location: Location


@dataclass(frozen=True)
class Parameter:
    name: str
    label: str
    value: Any
    unit: str
    source: str
    location: Location


@dataclass(frozen=True)
class Derived:
    name: str
    label: str
    expr: CompiledExpr
    values: Mapping[str, str]
    source: str
    location: Location


@dataclass(frozen=True)
class Deadline:
    name: str
    label: str
    date: CompiledExpr | None
    start: CompiledExpr | None
    unit: str | None                # days / working_days / months / years
    amount: CompiledExpr | None
    when: CompiledExpr | None
    source: str
    location: Location


@dataclass(frozen=True)
class ScoreLine:
    label: str
    per: Decimal | None
    count: CompiledExpr | None
    points: Decimal | None
    when: CompiledExpr | None
    source: str
    location: Location


@dataclass(frozen=True)
class ScoreNode:
    id: str
    label: str
    max: Decimal
    bonus: bool
    source: str
    children: tuple[ScoreNode, ...]
    lines: tuple[ScoreLine, ...]    # deductions, or awards when bonus
    location: Location

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def walk(self) -> Iterator[ScoreNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    def leaves(self) -> tuple[ScoreNode, ...]:
        if self.is_leaf:
            return (self,)
        return tuple(leaf for c in self.children for leaf in c.leaves())


@dataclass(frozen=True)
class Scorecard:
    name: str
    label: str
    max: Decimal
    when: CompiledExpr | None
    source: str
    categories: tuple[ScoreNode, ...]
    location: Location
    # category id → its leaves, in order (scoring walks leaves flat)
    category_leaves: Mapping[str, tuple[ScoreNode, ...]]
    # the whole card as one Python function (skillcert.compiler.scorecode): f(ctx) -> every leaf's score, in order
    fast: Callable[[Any], tuple[Any, ...]] | None = None
    # the same for the batch path: f(ctx) -> (total, (category subtotal, …)), in scaled integers when it can be
    totals: Callable[[Any], Any] | None = None

    def nodes(self) -> Iterator[ScoreNode]:
        """Every category and item, depth first."""
        for category in self.categories:
            yield from category.walk()


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    label: str
    required_when: CompiledExpr | None
    source: str
    location: Location


@dataclass(frozen=True)
class Checklist:
    name: str
    label: str
    source: str
    provided: CompiledExpr | None
    outcome: str | None
    when: CompiledExpr | None
    items: tuple[ChecklistItem, ...]
    location: Location


@dataclass(frozen=True)
class Outcome:
    code: str
    label: str
    description: str
    source: str
    rank: int
    location: Location


@dataclass(frozen=True)
class Condition:
    """A node of a condition tree: ``check`` leaf, ``all`` / ``any`` / ``not``, or ``each`` (every element of a
    list must satisfy the child condition; each failing element is named)."""

    op: str                          # check | all | any | not | each
    id: str
    check: CompiledExpr | None
    children: tuple[Condition, ...]
    message: str
    source: str
    location: Location
    over: CompiledExpr | None = None     # each: the list
    as_name: str = ""                    # each: the element's name
    element_name: str = ""               # each: how a failing element is named in messages
    where: CompiledExpr | None = None    # each: only these elements


@dataclass(frozen=True)
class Band:
    min: Decimal | None
    below: Decimal | None
    outcome: str
    message: str
    location: Location


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str                        # trigger | conditions | bands | each
    source: str
    description: str
    when: CompiledExpr | None
    outcome: str | None
    message: str
    require: Condition | None = None
    score: CompiledExpr | None = None
    bands: tuple[Band, ...] = ()
    over: CompiledExpr | None = None
    as_name: str = ""
    where: CompiledExpr | None = None
    element_name: str = ""
    let: tuple[tuple[str, CompiledExpr], ...] = ()   # per-element names of an `each`
    outcome_expr: CompiledExpr | None = None     # when the outcome depends on the facts (an expression)
    outcome_codes: tuple[str, ...] = ()   # the codes that expression can give
    collect: str = ""                # each: a name for the list of elements that pass (also reported per element)
    local_types: Mapping[str, VType] = field(default_factory=dict)
    location: Location = field(default_factory=Location)


@dataclass(frozen=True)
class TableColumn:
    id: str
    label: str
    expr: CompiledExpr | None
    total: CompiledExpr | str | None      # "sum", an expression over the total row, or nothing
    location: Location


@dataclass(frozen=True)
class Table:
    """A computed table in the result: one row per element of a list, columns by expression, a total row."""

    name: str
    label: str
    source: str
    rows: CompiledExpr | None
    as_name: str
    columns: tuple[TableColumn, ...]
    location: Location


@dataclass(frozen=True)
class DocumentDef:
    """A document a decision produces: a Word template in the pack's ``documents/`` folder, rendered from the
    result and the document inputs (:mod:`skillcert.documents`)."""

    id: str
    title: str
    template: str                   # as the pack writes it, relative to the pack folder (documents/….docx)
    path: str                       # the template file itself
    outcomes: tuple[str, ...] | None  # the outcomes that produce it; None: always
    source: str
    inputs: tuple[str, ...]         # the document inputs it needs (declared in the decision's document_inputs)
    description: str
    location: Location
    scope: str = "case"             # case: one per evaluation; batch: one for all the rows of a batch

    def produced_by(self, outcome: str) -> bool:
        return self.outcomes is None or outcome in self.outcomes


@dataclass(frozen=True)
class SourceDoc:
    id: str
    title: str
    number: str
    date: str
    seed: str


@dataclass(frozen=True, eq=False)
class Decision:
    pack_id: str
    name: str
    title: str
    description: str
    source: str
    valid_from: dt.date
    valid_until: dt.date | None
    inputs: Mapping[str, InputDef]
    parameters: Mapping[str, Parameter]
    derived: Mapping[str, Derived]
    scorecards: Mapping[str, Scorecard]
    primary_score: str | None
    deadlines: Mapping[str, Deadline]
    checklists: Mapping[str, Checklist]
    tables: Mapping[str, Table]
    outcomes: Mapping[str, Outcome]
    default_outcome: str | None
    rules: Sequence[Rule]
    report: Sequence[str]
    location: Location
    order: Sequence[str]                    # the order in which computed names are listed (--explain)
    parameter_values: Mapping[str, Any]     # name → value of every parameter
    summary_by: str | None = None           # the input a batch summary counts outcomes by
    pack: Pack | None = None
    # inputs used by documents only (optional for evaluation, required by the documents that name them)
    document_inputs: Mapping[str, InputDef] = field(default_factory=dict)
    documents: Mapping[str, DocumentDef] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.pack_id}/{self.name}"


@dataclass(frozen=True, eq=False)
class Pack:
    id: str
    title: str
    jurisdiction: str
    issuer: str
    version: str
    sources: Mapping[str, SourceDoc]
    valid_from: dt.date
    valid_until: dt.date | None
    notes: str
    decisions: Mapping[str, Decision]      # filled once, by the build stage
    files: Sequence[str]
    digest: str
    calendar: HolidayCalendar              # the environment's holiday years with any years the pack adds
    directory: str = ""
    reading_marks: tuple[str, ...] = ()    # marks of the pack's own readings, left out of documents
