"""The decision result and its JSON form (the contract in ``shared/CONTRACT.md``).

Scores are :class:`~decimal.Decimal` and are written to JSON as exact number tokens (``94.6``, ``80``),
never through binary floats. Dates are ISO ``YYYY-MM-DD``. Key order is fixed, so the same input and
pack always give byte-identical output.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..values import to_json

__all__ = ["Reason", "ItemScore", "DecisionResult"]


@dataclass
class Reason:
    rule: str
    outcome: str | None
    message: str
    source: str
    element: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "outcome": self.outcome, "message": self.message,
                               "source": self.source}
        if self.element is not None:
            out["element"] = self.element
        return out


@dataclass
class ItemScore:
    """One node of a scorecard in the result: its score and, for leaves, each deduction or award."""

    id: str
    label: str
    max: Decimal
    score: Decimal
    source: str
    bonus: bool = False
    lines: list[dict[str, Any]] = field(default_factory=list)     # {label, points, count?}
    items: list[ItemScore] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "label": self.label, "max": self.max, "score": self.score,
                               "source": self.source}
        if self.bonus:
            out["bonus"] = True
        if self.lines:
            out["lines"] = self.lines
        if self.items:
            out["items"] = [i.as_dict() for i in self.items]
        return out

    def walk(self) -> list[ItemScore]:
        return [self] + [n for i in self.items for n in i.walk()]


@dataclass
class DecisionResult:
    decision: str
    title: str
    pack_version: str
    pack_digest: str
    as_of: dt.date
    outcome: str
    outcome_label: str
    score: Decimal | None
    scores: dict[str, Decimal | None]
    deadlines: dict[str, dt.date | None]
    reasons: list[Reason]
    warnings: list[str]
    scorecard: dict[str, Any] | None = None           # {id, label, max, total, categories: [ItemScore…]}
    checklists: dict[str, dict[str, Any]] = field(default_factory=dict)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)   # {label, source, columns, rows, total}
    checks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # per-element verdicts of `each` rules
    reported: dict[str, Any] = field(default_factory=dict)   # the decision's `report` values
    explain: list[dict[str, Any]] | None = None
    # labels for the text report (not part of the JSON contract)
    labels: dict[str, Any] = field(default_factory=dict, repr=False)
    period: tuple[dt.date, dt.date | None] | None = None

    @property
    def deciding_reasons(self) -> list[Reason]:
        return [r for r in self.reasons if r.outcome == self.outcome]

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "decision": self.decision,
            "title": self.title,
            "pack_version": self.pack_version,
            "pack_digest": self.pack_digest,
            "as_of": self.as_of,
            "outcome": self.outcome,
            "outcome_label": self.outcome_label,
            "score": self.score,
            "scores": self.scores,
            "deadlines": self.deadlines,
            "reasons": [r.as_dict() for r in self.reasons],
            "warnings": self.warnings,
        }
        for key, value in self.reported.items():
            out[key] = value
        if self.checklists:
            out["checklists"] = self.checklists
        if self.tables:
            out["tables"] = self.tables
        if self.checks:
            out["checks"] = self.checks
        if self.scorecard is not None:
            card = dict(self.scorecard)
            card["categories"] = [c.as_dict() for c in card["categories"]]
            out["scorecard"] = card
        if self.explain is not None:
            out["explain"] = self.explain
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return to_json(self.as_dict(), indent)
