"""Checklists of materials: which items are required on these facts, and which were provided."""

from __future__ import annotations

from typing import Any

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
    provided = ctx.run(cl.provided) if cl.provided is not None and applies else None
    rows = []
    for item in cl.items:
        required = ctx.test(item.required_when)
        row: dict[str, Any] = {"id": item.id, "label": item.label, "required": required, "source": item.source}
        row["provided"] = item.id in provided if provided is not None else None
        rows.append(row)
    ctx.memo[key] = rows
    return rows
