"""Value types of inputs, parameters and expressions, and how they combine.

A :class:`VType` describes a value the engine handles: a scalar kind (bool, integer, decimal, date, text),
an enum with its codes and Chinese labels, a list of some type, a record with named fields, or a mapping.
The compiler infers a type for every expression and uses the rules here to report mismatches
(``registration_expires_on > 80``) and unknown enum codes (``level == 'citty'``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["VType", "ANY", "BOOL", "INTEGER", "DECIMAL", "NUMBER", "DATE", "TEXT", "NULL", "type_of_value",
           "comparable", "describe"]

@dataclass(frozen=True)
class VType:
    kind: str
    values: tuple[str, ...] = ()                    # enum codes
    labels: tuple[tuple[str, str], ...] = ()        # enum code → Chinese label
    item: VType | None = None                       # list / mapping element type
    fields: tuple[tuple[str, VType], ...] = ()      # record fields
    field_labels: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    nullable: bool = False

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("integer", "decimal", "number")

    def field(self, name: str) -> VType | None:
        for n, t in self.fields:
            if n == name:
                return t
        return None

    def field_names(self) -> list[str]:
        return [n for n, _ in self.fields]

    def label_of(self, code: Any) -> str | None:
        for c, label in self.labels:
            if c == code:
                return label
        return None

    def with_nullable(self, nullable: bool = True) -> VType:
        return VType(self.kind, self.values, self.labels, self.item, self.fields, self.field_labels, nullable)


ANY = VType("any")
BOOL = VType("bool")
INTEGER = VType("integer")
DECIMAL = VType("decimal")
NUMBER = VType("number")
DATE = VType("date")
TEXT = VType("text")
NULL = VType("null", nullable=True)


def describe(t: VType) -> str:
    """A short Chinese-English description of a type, for messages."""
    names = {"bool": "布尔值 bool", "integer": "整数 integer", "decimal": "数值 decimal", "number": "数值 number",
             "date": "日期 date", "text": "文字 text", "null": "空值 None", "any": "任意值"}
    if t.kind == "enum":
        return "枚举 enum(" + "、".join(t.values) + ")"
    if t.kind == "list":
        return f"列表 list[{describe(t.item or ANY)}]"
    if t.kind == "record":
        return "记录 record{" + ", ".join(t.field_names()) + "}"
    if t.kind == "mapping":
        return f"映射 mapping[{describe(t.item or ANY)}]"
    return names.get(t.kind, t.kind)


def type_of_value(value: Any) -> VType:
    """The type of a constant (parameter values, literals)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, Decimal):
        return DECIMAL
    if isinstance(value, dt.date):
        return DATE
    if isinstance(value, str):
        return TEXT
    if isinstance(value, list):
        item = unify([type_of_value(v) for v in value]) if value else ANY
        return VType("list", item=item)
    if isinstance(value, dict):
        return VType("record", fields=tuple((str(k), type_of_value(v)) for k, v in value.items()))
    return ANY


def unify(types: list[VType]) -> VType:
    """The common type of several (e.g. the branches of ``a if c else b``); ANY when they differ."""
    real = [t for t in types if t.kind not in ("null", "any")]
    nullable = any(t.kind == "null" or t.nullable for t in types)
    if not real:
        return NULL if nullable else ANY
    first = real[0]
    if all(t.is_numeric for t in real):
        kind = "integer" if all(t.kind == "integer" for t in real) else "decimal"
        return VType(kind, nullable=nullable)
    if all(t.kind in ("text", "enum") for t in real):
        if all(t.kind == "enum" and t.values == first.values for t in real):
            return first.with_nullable(nullable)
        return TEXT.with_nullable(nullable)
    if all(t.kind == first.kind for t in real):
        if first.kind == "list":
            return VType("list", item=unify([t.item or ANY for t in real]), nullable=nullable)
        return first.with_nullable(nullable)
    return ANY


def comparable(a: VType, b: VType) -> bool:
    """Whether ``a == b`` / ``a < b`` make sense."""
    if "any" in (a.kind, b.kind):
        return True
    if a.is_numeric and b.is_numeric:
        return True
    if a.kind in ("text", "enum") and b.kind in ("text", "enum"):
        return True
    if a.kind == "list" and b.kind == "list":
        return True
    return a.kind == b.kind
