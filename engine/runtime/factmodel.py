"""The pydantic model of a decision's facts: the reference for facts checking and the source of its messages.

Built on first use per compiled decision and kept beside it (the model is frozen). Imported only when facts reach
it — facts the compiled checker (:mod:`.factcheck`) accepts never do — so an evaluation of valid facts does not
pay for importing pydantic. Input and field names are the pack's own: the model's attributes get safe names
(``x_<name>``) with the real name as alias, so no name clashes with pydantic's.
"""

from __future__ import annotations

import datetime as dt
import re
import weakref
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    create_model,
)
from pydantic_core import PydanticCustomError

from ..compiler.model import Decision, ValueSpec
from ..values import quote
from .factcheck import INT_BOUND, copy_value, key_text, to_date, to_decimal

__all__ = ["facts_model", "ValidationError"]


DateValue = Annotated[dt.date, BeforeValidator(to_date)]
DecimalValue = Annotated[Decimal, BeforeValidator(to_decimal)]

_CONFIG = ConfigDict(extra="forbid", frozen=False, arbitrary_types_allowed=False, validate_default=True)


def _attr(name: str) -> str:
    """The model attribute of an input or field: never one of pydantic's names (the alias is the real name)."""
    return "x_" + name


def _unique(spec: ValueSpec) -> Any:
    """A check that no two items of a list of records agree on the ``unique_by`` fields."""
    names = spec.unique_by
    attrs = [_attr(n) for n in names]

    def check(items: list[Any]) -> list[Any]:
        first: dict[tuple[Any, ...], int] = {}
        for i, item in enumerate(items):
            key = tuple(getattr(item, a, None) for a in attrs)
            if any(k is None for k in key):
                continue  # an item without its key cannot be looked up by it
            if key in first:
                shown = "、".join(f"{n} = {quote(v)}" for n, v in zip(names, key, strict=True))
                raise PydanticCustomError("unique_by", "duplicate", {"first": first[key], "second": i, "key": shown})
            first[key] = i
        return items

    return check


def _annotation(spec: ValueSpec, where: str) -> Any:
    kind = spec.kind
    if kind == "bool":
        return StrictBool
    if kind == "integer":
        # the input bound as constraints (checked in pydantic's core, no Python call per value)
        low = -INT_BOUND if spec.min is None else max(spec.min, -INT_BOUND)
        high = INT_BOUND if spec.max is None else min(spec.max, INT_BOUND)
        return Annotated[StrictInt, Field(ge=low, le=high)]
    if kind == "decimal":
        return Annotated[DecimalValue, Field(ge=spec.min, le=spec.max)]
    if kind == "date":
        return DateValue
    if kind == "text":
        return Annotated[StrictStr, Field(max_length=spec.max_length)]
    if kind == "enum":
        return Literal[tuple(spec.values)]
    if kind == "list":
        assert spec.items is not None
        item = _annotation(spec.items, where + "[]")
        if spec.unique_by:
            return Annotated[list[item], Field(max_length=spec.item_limit),  # type: ignore[valid-type]
                             AfterValidator(_unique(spec))]
        return Annotated[list[item], Field(max_length=spec.item_limit)]  # type: ignore[valid-type]
    if kind == "mapping":
        assert spec.items is not None
        key: Any = StrictStr
        if spec.keys is not None and spec.keys.kind == "enum":
            # keys are compared as text: a YAML/JSON key 5 and '5' are the same level
            key = Annotated[Literal[tuple(spec.keys.values)], BeforeValidator(key_text)]
        value = _annotation(spec.items, where + "{}")
        return Annotated[dict[key, value], Field(max_length=spec.item_limit)]  # type: ignore[valid-type]
    if kind == "record":
        return _record_model(spec.fields, where)
    raise ValueError(f"unknown type {kind}")


def _field(name: str, spec: ValueSpec, where: str) -> tuple[Any, Any]:
    annotation = _annotation(spec, where)
    if spec.required:
        return annotation, Field(..., alias=name)
    default = spec.default
    if default is None:
        return annotation | None, Field(None, alias=name)
    if spec.kind == "record" and isinstance(default, dict):
        return annotation, Field(default_factory=lambda a=annotation, d=default: a.model_validate(d), alias=name)
    if isinstance(default, (list, dict)):
        return annotation, Field(default_factory=lambda d=default: copy_value(d), alias=name)
    return annotation, Field(default, alias=name)


def _record_model(fields: Mapping[str, ValueSpec], where: str) -> type[BaseModel]:
    definitions = {_attr(name): _field(name, spec, f"{where}.{name}") for name, spec in fields.items()}
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        "Record_" + re.sub(r"\W", "_", where), __config__=_CONFIG, **definitions)
    return model


# Built on first use per compiled decision and kept beside it (the model is frozen), for as long as it lives.
_MODELS: weakref.WeakKeyDictionary[Decision, type[BaseModel]] = weakref.WeakKeyDictionary()


def facts_model(decision: Decision) -> type[BaseModel]:
    """The pydantic model of a decision's facts (built on first use, then kept for that decision)."""
    model = _MODELS.get(decision)
    if model is None:
        specs = {name: i.spec for name, i in decision.inputs.items()}
        model = _MODELS[decision] = _record_model(specs, decision.id.replace("/", "_"))
    return model
