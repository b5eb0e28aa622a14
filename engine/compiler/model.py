"""The compiled form of a pack: plain, immutable-by-convention dataclasses the evaluator walks.

The compiler (:mod:`engine.compile`) builds these from a schema-valid YAML document; nothing here
parses or checks. Every element keeps its :class:`~engine.errors.Location` so that runtime errors and
coverage reports can point back into the pack.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..errors import Location
from ..lang.expr import CompiledExpr
from ..lang.types import VType

__all__ = [
    "InputDef", "Parameter", "Derived", "Deadline", "ScoreLine", "ScoreNode", "Scorecard", "ChecklistItem",
    "Checklist", "Outcome", "Condition", "Band", "Rule", "Decision", "Pack", "SourceDoc", "Table", "TableColumn",
]


@dataclass
class InputDef:
    name: str
    label: str
    type: VType
    spec: dict[str, Any]            # the YAML spec, for facts validation (min, max, fields, labels …)
    required: bool
    default: Any
    source: str
    description: str
    location: Location


@dataclass
class Parameter:
    name: str
    label: str
    value: Any
    unit: str
    source: str
    location: Location


@dataclass
class Derived:
    name: str
    label: str
    expr: CompiledExpr
    values: dict[str, str]
    source: str
    location: Location


@dataclass
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


@dataclass
class ScoreLine:
    label: str
    per: Decimal | None
    count: CompiledExpr | None
    points: Decimal | None
    when: CompiledExpr | None
    source: str
    location: Location


@dataclass
class ScoreNode:
    id: str
    label: str
    max: Decimal
    bonus: bool
    source: str
    children: list[ScoreNode]
    lines: list[ScoreLine]          # deductions, or awards when bonus
    location: Location

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def leaves(self) -> list[ScoreNode]:
        if self.is_leaf:
            return [self]
        return [leaf for c in self.children for leaf in c.leaves()]


@dataclass
class Scorecard:
    name: str
    label: str
    max: Decimal
    when: CompiledExpr | None
    source: str
    categories: list[ScoreNode]
    location: Location
    # category id → its leaves, in order (computed once; scoring walks leaves flat)
    category_leaves: dict[str, list[ScoreNode]] = field(default_factory=dict)
    fast: Any = None                 # the whole card as one Python function (engine.codegen), set by the compiler

    def __post_init__(self) -> None:
        self.category_leaves = {c.id: c.leaves() for c in self.categories}


@dataclass
class ChecklistItem:
    id: str
    label: str
    required_when: CompiledExpr | None
    source: str
    location: Location


@dataclass
class Checklist:
    name: str
    label: str
    source: str
    provided: CompiledExpr | None
    outcome: str | None
    when: CompiledExpr | None
    items: list[ChecklistItem]
    location: Location


@dataclass
class Outcome:
    code: str
    label: str
    description: str
    source: str
    rank: int
    location: Location


@dataclass
class Condition:
    """A node of a condition tree: ``check`` leaf, ``all`` / ``any`` / ``not``, or ``each`` (every element of a
    list must satisfy the child condition; each failing element is named)."""

    op: str                          # check | all | any | not | each
    id: str
    check: CompiledExpr | None
    children: list[Condition]
    message: str
    source: str
    location: Location
    over: CompiledExpr | None = None     # each: the list
    as_name: str = ""                    # each: the element's name
    element_name: str = ""               # each: how a failing element is named in messages
    where: CompiledExpr | None = None    # each: only these elements


@dataclass
class Band:
    min: Decimal | None
    below: Decimal | None
    outcome: str
    message: str
    location: Location


@dataclass
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
    bands: list[Band] = field(default_factory=list)
    over: CompiledExpr | None = None
    as_name: str = ""
    where: CompiledExpr | None = None
    element_name: str = ""
    let: list[tuple[str, CompiledExpr]] = field(default_factory=list)   # per-element names of an `each`
    outcome_expr: CompiledExpr | None = None     # when the outcome depends on the facts (an expression)
    outcome_codes: list[str] = field(default_factory=list)   # the codes that expression can give
    collect: str = ""                # each: a name for the list of elements that pass (also reported per element)
    local_types: dict[str, VType] = field(default_factory=dict)
    location: Location = field(default_factory=Location)


@dataclass
class TableColumn:
    id: str
    label: str
    expr: CompiledExpr | None
    total: CompiledExpr | str | None      # "sum", an expression over the total row, or nothing
    location: Location


@dataclass
class Table:
    """A computed table in the result: one row per element of a list, columns by expression, a total row."""

    name: str
    label: str
    source: str
    rows: CompiledExpr | None
    as_name: str
    columns: list[TableColumn]
    location: Location


@dataclass
class SourceDoc:
    id: str
    title: str
    number: str
    date: str
    seed: str


@dataclass
class Decision:
    pack_id: str
    name: str
    title: str
    description: str
    source: str
    valid_from: dt.date
    valid_until: dt.date | None
    inputs: dict[str, InputDef]
    parameters: dict[str, Parameter]
    derived: dict[str, Derived]
    scorecards: dict[str, Scorecard]
    primary_score: str | None
    deadlines: dict[str, Deadline]
    checklists: dict[str, Checklist]
    tables: dict[str, Table]
    outcomes: dict[str, Outcome]
    default_outcome: str | None
    rules: list[Rule]
    report: list[str]
    location: Location
    # filled by the compiler's last stage
    order: list[str] = field(default_factory=list)        # evaluation order of computed names
    pack: Pack | None = None
    facts_model: Any = None                               # built lazily by engine.facts

    @property
    def id(self) -> str:
        return f"{self.pack_id}/{self.name}"

    @property
    def parameter_values(self) -> dict[str, Any]:
        cached: dict[str, Any] | None = self.__dict__.get("_parameter_values")
        if cached is None:
            cached = self.__dict__["_parameter_values"] = {n: p.value for n, p in self.parameters.items()}
        return cached


@dataclass
class Pack:
    id: str
    title: str
    jurisdiction: str
    issuer: str
    version: str
    sources: dict[str, SourceDoc]
    valid_from: dt.date
    valid_until: dt.date | None
    notes: str
    decisions: dict[str, Decision]
    files: list[str]
    digest: str
    calendar: Any = None             # HolidayCalendar with any years the pack adds
    directory: str = ""
