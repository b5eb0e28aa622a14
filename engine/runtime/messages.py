"""Reason messages: a pack's template with ``{name}`` / ``{record.field}`` placeholders filled for people.

Values are shown by :func:`skillcert.values.display_value` with the name's declared type, so enum codes appear as
their Chinese labels and an empty value as (空).
"""

from __future__ import annotations

import re
from typing import Any

from ..lang.types import VType
from ..values import display_value
from .context import Context

__all__ = ["render_message"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}")


def render_message(ctx: Context, template: str) -> str:
    if "{" not in template:
        return template

    def value_of(match: re.Match[str]) -> str:
        parts = match.group(1).split(".")
        value = ctx.lookup(parts[0])
        t = _type_of_name(ctx, parts[0])
        for p in parts[1:]:
            value = value.get(p) if isinstance(value, dict) else None
            t = t.field(p) if t is not None and t.kind == "record" else None
        return display_value(value, t, empty="(空)")

    return _PLACEHOLDER.sub(value_of, template)


def _type_of_name(ctx: Context, name: str) -> VType | None:
    d = ctx.decision
    if name in d.inputs:
        return d.inputs[name].type
    if name in d.derived:
        return d.derived[name].expr.type
    for rule in d.rules:
        if rule.kind == "each" and name in rule.local_types:
            t: Any = rule.local_types[name]
            return t if isinstance(t, VType) else None
    return None
