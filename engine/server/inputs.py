"""A decision's inputs as JSON Schema (draft 2020-12), titled with the inputs' Chinese labels.

The schema is the facts model's own (the one that checks the facts), so what it accepts is what evaluation
accepts; document inputs (a name, a date signed), which the rules do not read, are added as free properties.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..runtime.factmodel import facts_model
from ..runtime.facts import label_of_path

if TYPE_CHECKING:
    from ..compiler.model import Decision

__all__ = ["inputs_schema"]


def inputs_schema(decision: Decision) -> dict[str, Any]:
    schema = copy.deepcopy(facts_model(decision).model_json_schema(by_alias=True))
    defs = schema.get("$defs", {})
    _label(schema, (), decision, defs, set())
    props = schema.setdefault("properties", {})
    for name, inp in decision.document_inputs.items():
        props.setdefault(name, {"title": inp.label, "type": ["string", "null"],
                                "description": "文书所用(规则不读取)"})
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = decision.title
    return schema


def _label(node: Any, path: tuple[Any, ...], decision: Decision, defs: dict[str, Any], seen: set[str]) -> None:
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref.removeprefix("#/$defs/")
        if name not in seen:  # a record used in several places is titled from its first
            seen.add(name)
            _label(defs.get(name), path, decision, defs, seen)
    for key, sub in node.get("properties", {}).items():
        label = label_of_path(decision, path + (key,))
        if label and isinstance(sub, dict):
            sub["title"] = label
        _label(sub, path + (key,), decision, defs, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            _label(node[key], path + (0,), decision, defs, seen)
    for key in ("anyOf", "allOf", "oneOf"):
        for sub in node.get(key, []):
            _label(sub, path, decision, defs, seen)
