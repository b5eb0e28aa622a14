"""A quick yes for documents that pass a JSON Schema, so that jsonschema runs only on those that may not.

jsonschema finds every error with its path, which is what a policy officer needs; but checking the bundled packs
with it was half of ``skillcert validate`` (about 0.3 s of 0.6 s, plus 40 ms to import it), and almost every
document checked passes. :func:`compile_schema` turns a schema into nested closures that answer, for one document,
"valid" (``True``), "not valid" (``False``) or "cannot tell" (:class:`Unsure`). :mod:`.schema` trusts only a
``True``, and reports everything else through jsonschema exactly as before.

A ``True`` must therefore mean jsonschema (4.x, draft 2020-12, no format checker, as :mod:`.schema` builds it) finds
no error. Each keyword below does what jsonschema's own keyword function does (types as its draft 2020-12 type
checker, ``const``/``enum`` with its ``equal``, ``unevaluatedProperties`` with its way of collecting evaluated keys);
a keyword it does not know, a ``$ref`` that is not local, a type name it does not know or anything else unexpected
makes the whole check unsure, never valid. Annotation keywords (``description``, ``format`` without a format checker
…) assert nothing, here as there. ``tests/test_fastschema.py`` checks the answers against jsonschema on every bundled
file, on every broken pack of the tests and on thousands of mutations of the bundled packs.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["compile_schema", "Unsure"]

Check = Callable[[Any], bool]


class Unsure(Exception):
    """The quick check cannot answer for this schema or this document: ask jsonschema."""


# keywords that assert nothing in draft 2020-12 when jsonschema is built without a format checker
_ANNOTATIONS = frozenset({
    "$schema", "$id", "$defs", "definitions", "$comment", "$anchor", "title", "description", "default", "examples",
    "deprecated", "readOnly", "writeOnly", "format", "contentMediaType", "contentEncoding", "contentSchema",
    # applied by the keyword they belong to (if; properties, additionalProperties)
    "then", "else",
})


def _is_integer(x: Any) -> bool:
    if isinstance(x, bool):
        return False
    return isinstance(x, int) or (isinstance(x, float) and x.is_integer())


def _is_number(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, numbers.Number)


_TYPES: dict[str, Callable[[Any], bool]] = {
    "array": lambda x: isinstance(x, list),
    "boolean": lambda x: isinstance(x, bool),
    "integer": _is_integer,
    "null": lambda x: x is None,
    "number": _is_number,
    "object": lambda x: isinstance(x, dict),
    "string": lambda x: isinstance(x, str),
}


def _unbool(x: Any, true: object = object(), false: object = object()) -> Any:
    if x is True:
        return true
    if x is False:
        return false
    return x


def _equal(one: Any, two: Any) -> bool:
    """jsonschema's ``equal``: True is not 1, lists and mappings compared element by element."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(_equal(i, j) for i, j in zip(one, two, strict=True))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(k in two and _equal(v, two[k]) for k, v in one.items())
    return bool(_unbool(one) == _unbool(two))


def _unsure(_x: Any) -> bool:
    raise Unsure


class _Compiler:
    """One schema document: each subschema compiled once (by identity), ``$ref`` to the compiled target."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.compiled: dict[int, Check] = {}
        self.keys: dict[int, Callable[[dict[str, Any]], set[str]]] = {}

    def node(self, schema: Any) -> Check:
        if schema is True:
            return lambda x: True
        if schema is False:
            return lambda x: False
        if not isinstance(schema, dict):
            return _unsure
        found = self.compiled.get(id(schema))
        if found is None:
            # a schema that refers back to itself meets this forwarder while it is compiled (one call more there)
            cell: list[Check] = []
            self.compiled[id(schema)] = lambda x: cell[0](x)
            found = self.compiled[id(schema)] = self._compile(schema)
            cell.append(found)
        return found

    def resolve(self, ref: Any) -> Any:
        if not isinstance(ref, str) or not (ref == "#" or ref.startswith("#/")):
            raise Unsure  # another document, or an anchor: jsonschema resolves those
        target = self.root
        for part in ref[2:].split("/") if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                raise Unsure
        return target

    def _compile(self, schema: dict[str, Any]) -> Check:
        if "$id" in schema and schema is not self.root:
            return _unsure  # a new base for the references below it
        checks: list[Check] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS:
                continue
            make = _KEYWORDS.get(keyword)
            if make is None:
                return _unsure  # a keyword this check does not know: let jsonschema decide
            try:
                checks.append(make(self, value, schema))
            except Unsure:
                return _unsure
        if not checks:
            return lambda x: True
        if len(checks) == 1:
            return checks[0]

        def all_of(x: Any) -> bool:
            for check in checks:  # noqa: SIM110 - a loop: all() over a generator costs twice as much here
                if not check(x):
                    return False
            return True
        return all_of

    def evaluated(self, schema: Any) -> Callable[[dict[str, Any]], set[str]]:
        """jsonschema's ``find_evaluated_property_keys_by_schema`` for one subschema, with the same keywords in the
        same way (``properties`` whatever their values, the other keywords' subschemas only where they are valid),
        compiled once like the checks."""
        if isinstance(schema, bool):
            return lambda x: set()
        if not isinstance(schema, dict) or "$dynamicRef" in schema or "patternProperties" in schema \
                or "dependentSchemas" in schema:
            raise Unsure
        found = self.keys.get(id(schema))
        if found is not None:
            return found
        cell: list[Callable[[dict[str, Any]], set[str]]] = []
        self.keys[id(schema)] = lambda x: cell[0](x)  # a schema that refers back to itself
        parts: list[Callable[[dict[str, Any]], set[str]]] = []
        if "$ref" in schema:
            parts.append(self.evaluated(self.resolve(schema["$ref"])))
        properties = schema.get("properties")
        if isinstance(properties, dict):
            names = set(properties)
            parts.append(lambda x: names & x.keys())
        for keyword in ("additionalProperties", "unevaluatedProperties"):
            if schema.get(keyword) is not None:
                parts.append(_valid_keys(self.node(schema[keyword])))
        for keyword in ("allOf", "oneOf", "anyOf"):
            for sub in schema.get(keyword, []):
                parts.append(_if_valid(self.node(sub), self.evaluated(sub)))
        if "if" in schema:
            parts.append(_conditional(self.node(schema["if"]), self.evaluated(schema["if"]),
                                      self.evaluated(schema["then"]) if "then" in schema else None,
                                      self.evaluated(schema["else"]) if "else" in schema else None))

        def keys(x: dict[str, Any]) -> set[str]:
            out: set[str] = set()
            for part in parts:
                out |= part(x)
            return out
        self.keys[id(schema)] = keys
        cell.append(keys)
        return keys


KeysOf = Callable[[dict[str, Any]], set[str]]


def _valid_keys(check: Check) -> KeysOf:
    return lambda x: {k for k, v in x.items() if check(v)}


def _if_valid(check: Check, keys: KeysOf) -> KeysOf:
    return lambda x: keys(x) if check(x) else set()


def _conditional(test: Check, keys_if: KeysOf, then: KeysOf | None, otherwise: KeysOf | None) -> KeysOf:
    def keys(x: dict[str, Any]) -> set[str]:
        if test(x):
            return keys_if(x) | then(x) if then is not None else keys_if(x)
        return otherwise(x) if otherwise is not None else set()
    return keys


# ---- one function per keyword: (compiler, the keyword's value, the schema it stands in) -> check


def _type(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    names = value if isinstance(value, list) else [value]
    if not names or any(name not in _TYPES for name in names):
        raise Unsure
    tests = [_TYPES[name] for name in names]
    if len(tests) == 1:
        return tests[0]
    return lambda x: any(t(x) for t in tests)


def _properties(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    if not isinstance(value, dict):
        raise Unsure
    subs = [(name, c.node(sub)) for name, sub in value.items()]

    def check(x: Any) -> bool:
        if isinstance(x, dict):
            for name, sub in subs:
                if name in x and not sub(x[name]):
                    return False
        return True
    return check


def _additional_properties(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    if "patternProperties" in schema:
        raise Unsure
    known = schema.get("properties", {})
    if isinstance(value, dict):
        sub = c.node(value)
        def check(x: Any) -> bool:
            if isinstance(x, dict):
                for k, v in x.items():
                    if k not in known and not sub(v):
                        return False
            return True
        return check
    if value:
        return lambda x: True
    return lambda x: not isinstance(x, dict) or all(k in known for k in x)


def _unevaluated_properties(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    sub = c.node(value)
    evaluated = c.evaluated(schema)

    def check(x: Any) -> bool:
        if isinstance(x, dict):
            known = evaluated(x)
            for k, v in x.items():
                if k not in known and not sub(v):
                    return False
        return True
    return check


def _required(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    names = list(value)
    return lambda x: not isinstance(x, dict) or all(name in x for name in names)


def _dependent_required(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    pairs = [(name, list(deps)) for name, deps in value.items()]
    return lambda x: not isinstance(x, dict) or all(d in x for name, deps in pairs if name in x for d in deps)


def _property_names(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    sub = c.node(value)
    return lambda x: not isinstance(x, dict) or all(sub(k) for k in x)


def _items(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    if "prefixItems" in schema:
        raise Unsure
    if value is False:
        return lambda x: not isinstance(x, list) or not x
    sub = c.node(value)
    def check(x: Any) -> bool:
        if isinstance(x, list):
            for v in x:
                if not sub(v):
                    return False
        return True
    return check


def _unique_items(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    if not value:
        return lambda x: True

    def check(x: Any) -> bool:
        if not isinstance(x, list):
            return True
        if not all(isinstance(v, str) for v in x):
            raise Unsure  # jsonschema's uniq for mixed values is not worth copying: it decides
        return len(set(x)) == len(x)
    return check


def _size(kind: str, low: bool) -> Callable[[_Compiler, Any, dict[str, Any]], Check]:
    test = _TYPES[kind]

    def make(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
        if low:
            return lambda x: not test(x) or len(x) >= value
        return lambda x: not test(x) or len(x) <= value
    return make


def _bound(compare: Callable[[Any, Any], bool]) -> Callable[[_Compiler, Any, dict[str, Any]], Check]:
    def make(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
        return lambda x: not _is_number(x) or compare(x, value)
    return make


def _pattern(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    rx = re.compile(value)  # jsonschema calls re.search(pattern, …): the same compiled pattern
    return lambda x: not isinstance(x, str) or rx.search(x) is not None


def _const(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    return lambda x: _equal(x, value)


def _enum(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    choices = list(value)
    return lambda x: any(_equal(each, x) for each in choices)


def _ref(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    return c.node(c.resolve(value))  # not local, or pointing nowhere: unsure at once


def _all_of(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    subs = [c.node(s) for s in value]
    def check(x: Any) -> bool:
        for sub in subs:  # noqa: SIM110 - as in _Compiler._compile
            if not sub(x):
                return False
        return True
    return check


def _any_of(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    subs = [c.node(s) for s in value]
    return lambda x: any(sub(x) for sub in subs)


def _one_of(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    subs = [c.node(s) for s in value]
    return lambda x: sum(1 for sub in subs if sub(x)) == 1


def _not(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    sub = c.node(value)
    return lambda x: not sub(x)


def _if(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    test = c.node(value)
    then = c.node(schema["then"]) if "then" in schema else None
    otherwise = c.node(schema["else"]) if "else" in schema else None

    def check(x: Any) -> bool:
        if test(x):
            return then is None or then(x)
        return otherwise is None or otherwise(x)
    return check


_KEYWORDS: dict[str, Callable[[_Compiler, Any, dict[str, Any]], Check]] = {
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional_properties,
    "unevaluatedProperties": _unevaluated_properties,
    "required": _required,
    "dependentRequired": _dependent_required,
    "propertyNames": _property_names,
    "items": _items,
    "uniqueItems": _unique_items,
    "minItems": _size("array", True),
    "maxItems": _size("array", False),
    "minLength": _size("string", True),
    "maxLength": _size("string", False),
    "minProperties": _size("object", True),
    "maxProperties": _size("object", False),
    # jsonschema's very comparisons, negated (not `x >= v`: the two differ for a NaN)
    "minimum": _bound(lambda x, v: not x < v),
    "maximum": _bound(lambda x, v: not x > v),
    "exclusiveMinimum": _bound(lambda x, v: not x <= v),
    "exclusiveMaximum": _bound(lambda x, v: not x >= v),
    "pattern": _pattern,
    "const": _const,
    "enum": _enum,
    "$ref": _ref,
    "allOf": _all_of,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "not": _not,
    "if": _if,
}


def compile_schema(schema: Any) -> Callable[[Any], bool | None]:
    """``check(document)``: True when jsonschema would find no error in it, False when it would find one, None when
    this cannot tell (then jsonschema must be asked). Never raises."""
    compiler = _Compiler(schema)
    root = compiler.node(schema)

    def check(document: Any) -> bool | None:
        try:
            return root(document)
        except Unsure:
            return None
        except Exception:  # e.g. a comparison that raises: jsonschema meets it the same way and reports it
            return None
    return check
