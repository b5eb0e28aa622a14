"""JSON Schema checks of pack and test files: the only module that imports jsonschema.

A document is first given to the quick check of :mod:`.fastschema`; only one it does not pass goes to jsonschema,
which finds and locates every error (so the messages are jsonschema's, as always).

Errors come back as :class:`~engine.errors.Problem` objects located at the offending key or value,
with jsonschema's path mapped to the YAML line through the loader's :class:`~engine.loader.SourceMap`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from ..errors import Problem, UsageError, did_you_mean
from ..values import quote
from .cache import cache_dir, has_marker, set_marker
from .loader import Document
from .resources import schemas_dir

__all__ = ["check_document", "PACK_SCHEMA", "TESTS_SCHEMA"]

PACK_SCHEMA = "policy-pack.schema.json"
TESTS_SCHEMA = "pack-tests.schema.json"


@cache
def _schema(name: str) -> Any:
    path = schemas_dir() / name
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        raise UsageError(f"无法读取 JSON Schema {path}:{exc}") from None


@cache
def _validator(name: str) -> Any:
    import jsonschema  # deferred: about 40 ms of import time, needed only for a file the quick check does not pass

    schema = _schema(name)
    cls = jsonschema.validators.validator_for(schema)
    # The schemas themselves are checked against the metaschema by tests/test_schemas.py, not at every start.
    return cls(schema)


@cache
def _quick(name: str) -> Callable[[Any], bool | None]:
    # deferred: `evaluate` finds the pack checked before (check_document's marker) and never needs it
    from .fastschema import compile_schema

    return compile_schema(_schema(name))


def _instance(value: Any) -> Any:
    """The document as JSON Schema checks it: dates as their ISO text (decimals stay numbers)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _instance(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_instance(v) for v in value]
    return value


def _cache_key(doc: Document, schema_name: str) -> str:
    h = hashlib.sha256()
    try:
        h.update((schemas_dir() / schema_name).read_bytes())
    except OSError as exc:
        raise UsageError(f"无法读取 JSON Schema {schemas_dir() / schema_name}:{exc}") from None
    h.update(b"\0")
    h.update(doc.text.encode("utf-8"))
    return h.hexdigest()


def check_document(doc: Document, schema_name: str, *, use_cache: bool = False) -> list[Problem]:
    """All schema problems of a loaded document, located and sorted.

    With ``use_cache`` a document whose exact text (with this exact schema) passed before is not checked
    again: the marker is an empty file named by the hash of both under ``~/.cache/skillcert`` (or
    ``$SKILLCERT_CACHE_DIR``; ``SKILLCERT_NO_CACHE=1`` turns it off). ``skillcert validate`` never uses it.
    """
    marker = None
    if use_cache:
        folder = cache_dir("schema-ok")
        if folder is not None:
            marker = folder / _cache_key(doc, schema_name)
            if has_marker(marker):
                return []
    problems = _check(doc, schema_name)
    if marker is not None and not problems:
        set_marker(marker)  # a read-only home only costs speed
    return problems


def _check(doc: Document, schema_name: str) -> list[Problem]:
    data = _instance(doc.data)
    if _quick(schema_name)(data) is True:  # jsonschema would find nothing: spare its (ten times slower) search
        return []
    validator = _validator(schema_name)
    problems = [_problem(_pick(error), doc, validator.schema) for error in validator.iter_errors(data)]
    return [p for p in problems if p is not None]


_UNKNOWN_KEY = ("additionalProperties", "unevaluatedProperties")


def _pick(error: Any) -> Any:
    """The most useful error behind a oneOf/anyOf: in the branch the document came closest to (fewest
    errors), the deepest and most specific one. The oneOf error itself is kept (it carries a hint naming the
    valid forms) unless the branch's error lies deeper in the document or names an unknown key."""
    if not error.context:
        return error
    branches: dict[Any, list[Any]] = {}
    for sub in error.context:
        key = sub.relative_schema_path[0] if sub.relative_schema_path else None
        branches.setdefault(key, []).append(sub)
    closest = min(branches.values(), key=lambda errs: (len(errs), -max(len(e.absolute_path) for e in errs)))
    best = max((_pick(e) for e in closest), key=lambda e: (len(e.absolute_path), _specificity(e)))
    if len(best.absolute_path) > len(error.absolute_path) or best.validator in _UNKNOWN_KEY:
        return best
    error.closest = closest
    return error


def _specificity(error: Any) -> int:
    return {"additionalProperties": 4, "unevaluatedProperties": 4, "type": 3, "enum": 3, "pattern": 3,
            "const": 2, "required": 1}.get(error.validator, 0)


def _allowed_keys(schema: Any, root: dict[str, Any], depth: int = 0) -> set[str]:
    """Property names a (sub)schema admits, following $ref, allOf/anyOf/oneOf and if/then."""
    if not isinstance(schema, dict) or depth > 10:
        return set()
    keys = set(schema.get("properties", {}))
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        keys |= _allowed_keys(target, root, depth + 1)
    for word in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(word, []) or []:
            keys |= _allowed_keys(sub, root, depth + 1)
    for word in ("then", "else"):
        keys |= _allowed_keys(schema.get(word), root, depth + 1)
    return keys


def _problem(error: Any, doc: Document, root: dict[str, Any]) -> Problem | None:
    path = list(error.absolute_path)
    kind = error.validator
    smap = doc.source
    if kind in _UNKNOWN_KEY and isinstance(error.instance, dict):
        allowed = _allowed_keys(error.schema, root)
        named = re.findall(r"'([^']+)'", str(error.message).split("(")[-1])
        unknown = [k for k in named if k in error.instance] or [k for k in error.instance if k not in allowed]
        unknown = [k for k in unknown if k not in allowed]
        if not unknown:
            # 2020-12 drops the annotations of a key whose value failed, so unevaluatedProperties also names that
            # (known) key: the failure inside it is reported on its own.
            return None
        key = unknown[0]
        loc = smap.locate(path + [key], key=True)
        hint = did_you_mean(key, sorted(allowed)) or ("可用的键:" + "、".join(sorted(allowed)) if allowed else "")
        return Problem("unknown-key", f"未知的键 {quote(key)}", loc, hint)
    loc = smap.locate(path)
    where = f"{quote(path[-1])} " if path and isinstance(path[-1], str) else ""
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return Problem("missing-key", f"缺少必需的键 '{missing}'", loc)
    if kind == "type":
        return Problem("wrong-type", f"{where}应为 {error.validator_value},实际是 {quote(error.instance)}", loc)
    if kind == "enum":
        choices = [str(v) for v in error.validator_value]
        hint = did_you_mean(str(error.instance), choices)
        return Problem("bad-value", f"{where}的值 {quote(error.instance)} 不在可选值中({'、'.join(choices)})", loc,
                       hint)
    if kind == "pattern":
        if error.validator_value == "^[a-z][a-z0-9_]*$":
            return Problem("bad-id", f"标识符 {quote(error.instance)} 应由小写英文字母、数字和下划线组成,字母开头",
                           loc)
        return Problem("bad-value", f"{where}{quote(error.instance)} 格式不对(应匹配 {error.validator_value})", loc)
    if kind in ("minItems", "minProperties", "minLength"):
        return Problem("empty", f"{where}不能为空", loc)
    if kind in ("oneOf", "anyOf", "not"):
        detail = ""
        closest = getattr(error, "closest", None) or []
        missing = [e.message.split("'")[1] for e in closest if e.validator == "required" and "'" in e.message]
        if missing and len(missing) == len(closest):
            detail = ";最接近的写法缺少 " + "、".join(f"'{m}'" for m in missing)
        hint = _one_of_hint(path)
        return Problem("schema", f"{where or '这里'}的写法不符合任何一种允许的形式{detail}", loc, hint)
    return Problem("schema", _short(error.message), loc)


def _one_of_hint(path: list[Any]) -> str:
    last = next((p for p in reversed(path) if isinstance(p, str)), "")
    hints = {
        "deduct": "每一行写 per + count,或 points + when",
        "award": "每一行写 per + count,或 points + when",
        "deadlines": "写 date,或 from 加上 days / working_days / months / years 之一(最多一个)",
    }
    for key, hint in hints.items():
        if key in [p for p in path if isinstance(p, str)]:
            return hint
    if last in ("require", "all", "any", "not"):
        return "条件写 check + message,或 all / any / not"
    return ""


def _short(message: str) -> str:
    return message if len(message) <= 200 else message[:197] + "…"
