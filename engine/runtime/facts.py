"""Facts validation: a decision's declared inputs become a pydantic model (:mod:`.factmodel`), built once per decision.

The model is the reference: what it accepts, and how every problem is said. Most facts never reach it: a checker
compiled from the same declarations (:mod:`.factcheck`, the fast path) returns the very same checked facts at a
fraction of the cost, and hands anything it does not accept as it stands to the model, which then accepts it or
names what is wrong — so the messages are the model's, always.

Every problem names the key (``findings.posts_missing``), its Chinese label and what was expected, with
the facts file's line when the facts came from a file. Unknown keys are refused with a did-you-mean, so a
typo never silently drops a fact.

Hostile input is bounded before any costly step: numbers (see :func:`skillcert.values.number_problem`), the items
of a list or mapping (``max_items``, default :data:`~skillcert.compiler.model.DEFAULT_MAX_ITEMS`), the values
quoted in messages, and the number of problems listed (:data:`MAX_PROBLEMS`). A list of records declared with
``unique_by`` may not hold two items with the same key (the first would silently win in a lookup).

Input and field names are the pack's own (any lower-case id, also ``model_config`` or ``copy``): the model's
attributes get safe names (``x_<name>``) with the real name as alias, so no name clashes with pydantic's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..compiler.model import Decision, ValueSpec
from ..errors import FactsError, Location, Problem, did_you_mean
from ..source.loader import SourceMap, format_path
from ..values import number_problem, quote
from .factcheck import INT_BOUND, Declined, fast_checker

__all__ = ["validate_facts", "facts_model", "label_of_path", "MAX_PROBLEMS"]

MAX_PROBLEMS = 100  # problems listed for one set of facts; the rest are counted

def facts_model(decision: Decision) -> Any:
    """The pydantic model of a decision's facts (see :mod:`.factmodel`; pydantic is imported on first use)."""
    from .factmodel import facts_model as model_of

    return model_of(decision)


def validate_facts(decision: Decision, facts: Any, source: SourceMap | None = None) -> dict[str, Any]:
    """Checked facts as plain values (dicts, lists, Decimal, date …), defaults filled in.

    Raises :class:`FactsError` with one :class:`Problem` per bad field.
    """
    if type(facts) is dict:
        try:
            return fast_checker(decision)(facts)
        except Declined:
            pass  # not accepted as it stands: the model accepts it or names every problem
    if not isinstance(facts, dict):
        loc = Location(source.file if source else "<facts>", 1, 1)
        raise FactsError("事实(facts)应是一个映射:键是输入名,值是输入值", location=loc)
    from .factmodel import ValidationError

    model = facts_model(decision)
    try:
        checked = model.model_validate(facts)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        problems = [_problem(decision, e, facts, source) for e in errors[:MAX_PROBLEMS]]
        problems.sort(key=lambda p: (p.location.line, p.location.path))
        if len(errors) > MAX_PROBLEMS:
            problems.append(Problem("facts-invalid", f"还有 {len(errors) - MAX_PROBLEMS} 处问题未列出;请先改正以上问题",
                                    Location(source.file if source else "", 0, 0)))
        raise FactsError(f"{decision.id} 的事实有 {len(errors)} 处问题", problems=problems) from None
    # plain dicts and lists under the real names; Decimal and date kept as they are
    result: dict[str, Any] = checked.model_dump(by_alias=True)
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


def _data_path(decision: Decision, loc: tuple[Any, ...], facts: Any) -> tuple[tuple[Any, ...], bool]:
    """The facts path of a pydantic error location, and whether the error is in a mapping's key.

    pydantic puts the names of validators and union branches (``function-after[…]``, ``literal['a']``,
    ``[key]``) between the keys; which parts are keys is read from the spec and the facts themselves, so that a
    user's key such as ``a[1]``, ``literal_x`` or ``function-x`` is kept exactly as given.
    """
    spec: ValueSpec | None = ValueSpec("record", fields={k: i.spec for k, i in decision.inputs.items()})
    data: Any = facts
    out: list[Any] = []
    on_key = False
    for part in loc:
        if spec is None and (not out or part != "[key]"):
            break
        if spec is None or spec.kind not in ("record", "list", "mapping"):
            on_key = on_key or (part == "[key]" and bool(out))
            continue
        if spec.kind == "list":
            if isinstance(part, int) and not isinstance(part, bool):
                out.append(part)
                spec = spec.items
                data = data[part] if isinstance(data, list) and 0 <= part < len(data) else None
            continue
        is_key = isinstance(data, dict) and part in data
        if spec.kind == "mapping":
            if is_key:
                out.append(part)
                spec, data = spec.items, data[part]
            continue
        if is_key or (isinstance(part, str) and part in spec.fields):
            out.append(part)
            spec = spec.fields.get(part) if isinstance(part, str) else None
            data = data.get(part) if isinstance(data, dict) else None
    return tuple(out), on_key


def _problem(decision: Decision, error: Any, facts: Any, source: SourceMap | None) -> Problem:
    loc_parts, on_key = _data_path(decision, tuple(error["loc"]), facts)
    key = format_path(tuple(str(p) if not isinstance(p, int) else p for p in loc_parts))
    shown = quote(key) if len(key) > 80 else key
    etype = error["type"]
    label = label_of_path(decision, loc_parts)
    named = f"{shown}({label})" if label else shown
    value = error.get("input")
    if etype == "unique_by":
        loc_parts = loc_parts + (error["ctx"]["second"],)
    where = source.locate(loc_parts, key=etype == "extra_forbidden" or on_key) if source else Location()
    where = dataclasses.replace(where, path=shown)  # a huge key is quoted short, also where it is shown
    hint = ""
    if etype == "missing":
        message = f"缺少必填项 {named}"
    elif etype == "extra_forbidden":
        allowed = _allowed_keys(decision, loc_parts[:-1])
        given = loc_parts[-1] if loc_parts else error["loc"][-1]
        message = f"未知的输入 {quote(key or str(given), 200)}"
        hint = did_you_mean(str(given), allowed) or ("可用的输入:" + "、".join(allowed) if allowed else "")
    elif etype == "literal_error":
        spec = _spec_at(decision, loc_parts)
        if on_key:  # a mapping's key: the codes its keys may take
            parent = _spec_at(decision, loc_parts[:-1])
            spec = parent.keys if parent is not None else None
        values = spec.values if spec else {}
        choices = "、".join(f"{k}({v})" for k, v in values.items())
        what = "的键" if on_key else "的值"
        message = f"{named} {what} {quote(value)} 不在可选值中:{choices}"
        hint = did_you_mean(str(value), list(values)) if isinstance(value, str) else ""
    elif etype == "unique_by":
        ctx = error["ctx"]
        first, second = format_path(loc_parts[:-1] + (ctx["first"],)), format_path(loc_parts)
        message = (f"{named} 中 {first} 与 {second} 的 {ctx['key']} 相同:每一项只能出现一次"
                   "(否则查找时只会用到其中一项,结果取决于排列顺序)")
        hint = "合并这两项,或删去重复的一项"
    elif etype == "too_long":
        limit = error.get("ctx", {}).get("max_length")
        count = len(value) if isinstance(value, (list, dict)) else error.get("ctx", {}).get("actual_length")
        message = f"{named} 最多 {limit} 项,收到 {count} 项"
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
        if bound in (INT_BOUND, -INT_BOUND) and isinstance(value, int):
            message = f"{named}:{number_problem(value)},收到 {quote(value)}"
    elif etype in ("list_type",):
        message = f"{named} 应是列表,收到 {quote(value)}"
    elif etype in ("model_type", "dict_type", "model_attributes_type"):
        message = f"{named} 应是映射(键: 值),收到 {quote(value)}"
    elif etype == "value_error":
        message = f"{named}:{str(error.get('ctx', {}).get('error', error['msg']))}"
    else:
        message = f"{named}:{error['msg']}"
    return Problem("facts-invalid", message, where, hint)
