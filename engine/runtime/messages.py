"""Reason messages: a pack's template with ``{name}`` / ``{record.field}`` placeholders filled for people.

Values are shown by :func:`skillcert.values.display_value` with the name's declared type, so enum codes appear as
their Chinese labels and an empty value as (空).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from ..compiler.model import Decision
from ..lang.types import VType
from ..values import display_value
from .context import Context

__all__ = ["render_message", "template_parts", "type_of_name"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}")


def render_message(ctx: Context, template: str) -> str:
    if "{" not in template:
        return template
    out: list[str] = []
    for part in template_parts(template):
        if part.__class__ is str:
            out.append(part)
            continue
        value = ctx.lookup(part[0])
        t = type_of_name(ctx.decision, part[0])
        for p in part[1:]:
            value = value.get(p) if isinstance(value, dict) else None
            t = t.field(p) if t is not None and t.kind == "record" else None
        out.append(display_value(value, t, empty="(空)"))
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def template_parts(template: str) -> tuple[str | tuple[str, ...], ...]:
    """A template once split: literal text, and each placeholder as its dotted parts (what ``re.sub`` would fill)."""
    parts: list[str | tuple[str, ...]] = []
    at = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > at:
            parts.append(template[at:match.start()])
        parts.append(tuple(match.group(1).split(".")))
        at = match.end()
    if at < len(template):
        parts.append(template[at:])
    return tuple(parts)


def type_of_name(d: Decision, name: str) -> VType | None:
    """The declared type a message shows a name's value with (enum labels, list items), None when not known."""
    if name in d.inputs:
        return d.inputs[name].type
    if name in d.derived:
        return d.derived[name].expr.type
    for rule in d.rules:
        if rule.kind == "each" and name in rule.local_types:
            t: Any = rule.local_types[name]
            return t if isinstance(t, VType) else None
    return None
