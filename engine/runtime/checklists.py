"""Checklists of materials: which items are required on these facts, and which were provided."""

from __future__ import annotations

from typing import Any

from ..errors import EvaluationError
from ..lang.expr import CompiledExpr, describe_value
from .context import Context

__all__ = ["checklist_rows"]


def checklist_rows(ctx: Context, name: str) -> list[dict[str, Any]]:
    """One row per item: {id, label, required, provided (None when the list of provided items is unknown), source}."""
    key = "checklist:" + name
    if key in ctx.memo:
        cached: list[dict[str, Any]] = ctx.memo[key]
        return cached
    cl = ctx.decision.checklists[name]
    applies = ctx.test(cl.when)
    provided = _provided(ctx, cl.provided) if cl.provided is not None and applies else None
    rows = []
    for item in cl.items:
        required = ctx.test(item.required_when)
        row: dict[str, Any] = {"id": item.id, "label": item.label, "required": required, "source": item.source}
        row["provided"] = item.id in provided if provided is not None else None
        rows.append(row)
    ctx.memo[key] = rows
    return rows


def _provided(ctx: Context, expr: CompiledExpr) -> list[Any] | None:
    """The list of provided items (null: not known); a text would match items by substring, so it is an error."""
    value = ctx.run(expr)
    if value is None or isinstance(value, list):
        return value
    raise EvaluationError(f"`{expr.text}` 应得出已提交材料的列表,实际得出 {describe_value(value)}",
                          code="expression-failed")
