"""Facts validation: a decision's declared inputs become a pydantic model, built once per decision.

Every problem names the key (``findings.posts_missing``), its Chinese label and what was expected, with
the facts file's line when the facts came from a file. Unknown keys are refused with a did-you-mean, so a
typo never silently drops a fact.
"""

from __future__ import annotations

import datetime as dt
import re
import weakref
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
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

from ..compiler.model import Decision, ValueSpec
from ..errors import FactsError, Location, Problem, did_you_mean
from ..source.loader import SourceMap, format_path
from ..values import quote

__all__ = ["validate_facts", "facts_model", "label_of_path"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _to_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        raise ValueError("应是日期 YYYY-MM-DD,不要带时间")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"不存在的日期 {quote(value)}") from None
    raise ValueError(f"应是日期 YYYY-MM-DD,收到 {quote(value)}")


def _to_decimal(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"应是数值,收到 {quote(value)}")
    if isinstance(value, float):
        # Binary floats only reach here from callers of the Python API; repr() is the shortest exact text.
        return Decimal(repr(value))
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except Exception:
            raise ValueError(f"应是数值,收到 {quote(value)}") from None
        if not d.is_finite():
            raise ValueError(f"应是有限数值,收到 {quote(value)}")
        return d
    raise ValueError(f"应是数值,收到 {quote(value)}")


def _key_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


DateValue = Annotated[dt.date, BeforeValidator(_to_date)]
DecimalValue = Annotated[Decimal, BeforeValidator(_to_decimal)]

_CONFIG = ConfigDict(extra="forbid", frozen=False, arbitrary_types_allowed=False, validate_default=True)


def _annotation(spec: ValueSpec, where: str) -> Any:
    kind = spec.kind
    if kind == "bool":
        return StrictBool
    if kind == "integer":
        return Annotated[StrictInt, Field(ge=spec.min, le=spec.max)]
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
        return list[_annotation(spec.items, where + "[]")]  # type: ignore[misc]
    if kind == "mapping":
        assert spec.items is not None
        key: Any = StrictStr
        if spec.keys is not None and spec.keys.kind == "enum":
            # keys are compared as text: a YAML/JSON key 5 and '5' are the same level
            key = Annotated[Literal[tuple(spec.keys.values)], BeforeValidator(_key_text)]
        return dict[key, _annotation(spec.items, where + "{}")]  # type: ignore[misc]
    if kind == "record":
        return _record_model(spec.fields, where)
    raise ValueError(f"unknown type {kind}")


def _field(spec: ValueSpec, where: str) -> tuple[Any, Any]:
    annotation = _annotation(spec, where)
    if spec.required:
        return annotation, ...
    default = spec.default
    if default is None:
        return annotation | None, None
    if spec.kind == "record" and isinstance(default, dict):
        return annotation, Field(default_factory=lambda a=annotation, d=default: a(**d))
    if isinstance(default, (list, dict)):
        return annotation, Field(default_factory=lambda d=default: _copy(d))
    return annotation, default


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _record_model(fields: Mapping[str, ValueSpec], where: str) -> type[BaseModel]:
    definitions = {name: _field(spec, f"{where}.{name}") for name, spec in fields.items()}
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


def validate_facts(decision: Decision, facts: Any, source: SourceMap | None = None) -> dict[str, Any]:
    """Checked facts as plain values (dicts, lists, Decimal, date …), defaults filled in.

    Raises :class:`FactsError` with one :class:`Problem` per bad field.
    """
    if not isinstance(facts, dict):
        loc = Location(source.file if source else "<facts>", 1, 1)
        raise FactsError("事实(facts)应是一个映射:键是输入名,值是输入值", location=loc)
    model = facts_model(decision)
    try:
        checked = model.model_validate(facts)
    except ValidationError as exc:
        problems = [_problem(decision, e, source) for e in exc.errors(include_url=False)]
        problems.sort(key=lambda p: (p.location.line, p.location.path))
        raise FactsError(f"{decision.id} 的事实有 {len(problems)} 处问题", problems=problems) from None
    result: dict[str, Any] = checked.model_dump()  # plain dicts and lists; Decimal and date kept as they are
    return result


def label_of_path(decision: Decision, path: tuple[Any, ...]) -> str:
    """The Chinese label of an input or a nested field, e.g. ('findings', 'posts_missing')."""
    if not path or path[0] not in decision.inputs:
        return ""
    spec: ValueSpec | None = decision.inputs[path[0]].spec
    label = spec.label if spec else ""
    for step in path[1:]:
        spec = spec.part(step) if spec is not None else None
        if spec is None:
            break
        label = spec.label or label
    return label


def _spec_at(decision: Decision, path: tuple[Any, ...]) -> ValueSpec | None:
    """The spec at a facts path (``()`` is the whole facts: a record of the inputs)."""
    spec: ValueSpec | None = ValueSpec("record", fields={k: i.spec for k, i in decision.inputs.items()})
    for step in path:
        spec = spec.part(step) if spec is not None else None
    return spec


def _allowed_keys(decision: Decision, path: tuple[Any, ...]) -> list[str]:
    spec = _spec_at(decision, path)
    return list(spec.fields) if spec is not None and spec.kind == "record" else []


def _problem(decision: Decision, error: Any, source: SourceMap | None) -> Problem:
    loc_parts = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith(("function-", "lax-"))))
    # pydantic adds the Literal/union branch names to the location; drop them
    loc_parts = tuple(p for p in loc_parts if not (isinstance(p, str) and ("[" in p or p.startswith("literal"))))
    key = format_path(loc_parts)
    etype = error["type"]
    label = label_of_path(decision, loc_parts)
    named = f"{key}({label})" if label else key
    value = error.get("input")
    where = source.locate(loc_parts, key=etype == "extra_forbidden") if source else Location("<facts>", 0, 0, key)
    if source is None:
        where = Location("", 0, 0, key)
    hint = ""
    if etype == "missing":
        message = f"缺少必填项 {named}"
    elif etype == "extra_forbidden":
        allowed = _allowed_keys(decision, loc_parts[:-1])
        message = f"未知的输入 '{key}'"
        hint = did_you_mean(str(loc_parts[-1]), allowed) or ("可用的输入:" + "、".join(allowed) if allowed else "")
    elif etype == "literal_error":
        spec = _spec_at(decision, loc_parts)
        values = spec.values if spec else {}
        choices = "、".join(f"{k}({v})" for k, v in values.items())
        message = f"{named} 的值 {quote(value)} 不在可选值中:{choices}"
        hint = did_you_mean(str(value), list(values))
    elif etype in ("int_type", "int_parsing", "int_from_float"):
        message = f"{named} 应是整数,收到 {quote(value)}"
    elif etype in ("bool_type", "bool_parsing"):
        message = f"{named} 应是 true 或 false,收到 {quote(value)}"
    elif etype in ("string_type",):
        message = f"{named} 应是文字,收到 {quote(value)}"
    elif etype == "string_too_long":
        message = f"{named} 超过 {error.get('ctx', {}).get('max_length')} 个字符"
    elif etype in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        ctx = error.get("ctx", {})
        bound = next(iter(ctx.values()), "")
        words = {"greater_than_equal": "不小于", "less_than_equal": "不大于", "greater_than": "大于",
                 "less_than": "小于"}[etype]
        message = f"{named} 应{words} {bound},收到 {quote(value)}"
    elif etype in ("list_type",):
        message = f"{named} 应是列表,收到 {quote(value)}"
    elif etype in ("model_type", "dict_type", "model_attributes_type"):
        message = f"{named} 应是映射(键: 值),收到 {quote(value)}"
    elif etype == "value_error":
        message = f"{named}:{str(error.get('ctx', {}).get('error', error['msg']))}"
    else:
        message = f"{named}:{error['msg']}"
    return Problem("facts-invalid", message, where, hint)
