"""Facts checking, fast path: a decision's inputs compiled once into plain Python that checks facts or declines.

:func:`skillcert.runtime.facts.validate_facts` has two paths over the same declarations:

* the **reference path** (:mod:`.facts`): a pydantic model per decision — the definition of what is accepted,
  and the source of every problem and message (key, label, line, did-you-mean);
* the **fast path** (here): for each decision, Python source generated from its
  :class:`~skillcert.compiler.model.ValueSpec` tree — one function per record, list and mapping, the checks of a
  single value written inline — compiled once and kept beside the decision. It returns the checked facts, the
  same values of the same types pydantic's ``model_validate`` + ``model_dump`` give (defaults filled with fresh
  copies, fields in their declared order), at a fraction of the cost.

The fast path never decides that facts are wrong. As soon as it meets anything it does not accept exactly as it
stands — a missing required key, an unknown key, a value of another type (a bool is not an integer, an integer
not a text, a datetime not a date), a value out of bounds, a list too long, a duplicate under ``unique_by``, a
mapping whose keys read as the same code, a dict or list subclass, a text with lone surrogates under a
``max_length`` — it raises :class:`Declined`, and the facts take the reference path, which accepts them or
names every problem exactly as it always has. Declining is always safe; accepting is allowed only where the
reference path accepts the same facts with the same result (``tests/test_factcheck.py`` checks this property
against pydantic on random facts for every bundled decision, and on the edge cases one by one).

The conversions of single values (:func:`to_date`, :func:`to_decimal`, :func:`key_text`) live here and are used
by both paths (the model's validators are these very functions), so the two cannot read a value differently.
The generated source never contains a name from a pack as code: field names are string literals (``repr``),
bounds are integer literals, and every other constant (codes, decimal bounds, checked defaults) is passed in the
namespace. Anything unusual in a declaration (a bound of another type, codes that are not text) makes that part
decline every value, leaving it to the reference path.
"""

from __future__ import annotations

import datetime as dt
import re
import weakref
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ..compiler.model import Decision, ValueSpec
from ..values import MAX_INTEGER_DIGITS, MAX_NUMBER_TEXT, number_problem, quote

__all__ = ["Declined", "fast_checker", "compile_checker", "to_date", "to_decimal", "key_text", "copy_value",
           "INT_BOUND", "RecordLayout", "record_layout", "REQUIRED", "FRESH"]

INT_BOUND = 10**MAX_INTEGER_DIGITS - 1  # the largest integer input (15 digits)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --------------------------------------------------------------------------------------------------
# Conversions of single values: the model's validators, and the fast path's


def to_date(value: Any) -> Any:
    """A date, or a date written ``YYYY-MM-DD`` (spaces around it ignored); never a datetime."""
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


def _bounded(value: int | Decimal, given: Any) -> None:
    problem = number_problem(value)
    if problem:
        raise ValueError(f"{problem},收到 {quote(given)}")


def to_decimal(value: Any) -> Any:
    """An exact decimal from a Decimal, an integer, a float (its shortest repr) or a number's text; bounded."""
    if isinstance(value, bool):
        raise ValueError(f"应是数值,收到 {quote(value)}")
    if isinstance(value, float):
        # Binary floats only reach here from callers of the Python API; repr() is the shortest exact text.
        d = Decimal(repr(value))
    elif isinstance(value, int):
        _bounded(value, value)  # before the conversion: a 3 MB integer is refused unconverted
        d = Decimal(value)
    elif isinstance(value, Decimal):
        d = value
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_NUMBER_TEXT:
            raise ValueError(f"数字太长(超过 {MAX_NUMBER_TEXT} 个字符),收到 {quote(value)}")
        try:
            d = Decimal(text)
        except Exception:
            raise ValueError(f"应是数值,收到 {quote(value)}") from None
    else:
        raise ValueError(f"应是数值,收到 {quote(value)}")
    _bounded(d, value)
    return d


def key_text(value: Any) -> Any:
    """A mapping's key as text when it is an integer: a YAML/JSON key 5 and '5' are the same code."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def copy_value(value: Any) -> Any:
    """A fresh copy of the dicts and lists of a value (a default), its leaves shared (they are immutable)."""
    if isinstance(value, dict):
        return {k: copy_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_value(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------------
# The fast path


class Declined(Exception):
    """The compiled checker met something it does not accept as it stands: the facts take the reference path."""


Checker = Callable[[dict[str, Any]], dict[str, Any]]

_MISSING = object()
_SURROGATE = re.compile("[\ud800-\udfff]")
_SAME = frozenset({"bool", "integer", "text", "enum"})  # kinds whose checked value is the given object itself
_KEY_INT = 10**40  # an integer key longer than any code is not converted to text (it cannot be one)


def _decimal(value: Any) -> Decimal:
    kind = type(value)
    if kind is not Decimal and kind is not int and kind is not str and kind is not float:
        raise Declined
    try:
        d: Decimal = to_decimal(value)
    except Exception:
        raise Declined from None
    return d


_DATES: dict[str, dt.date] = {}  # date texts already read (each a date, immutable); emptied when full
_DATES_KEPT = 4096


def _date(value: Any) -> dt.date:
    if type(value) is not str:
        raise Declined
    d = _DATES.get(value)
    if d is None:
        try:
            d = to_date(value)
        except Exception:
            raise Declined from None
        assert isinstance(d, dt.date)
        if len(value) == 10:  # the plain form only: a text padded with a megabyte of spaces is not kept
            if len(_DATES) >= _DATES_KEPT:
                _DATES.clear()
            _DATES[value] = d
    return d


def _is_int(value: Any) -> bool:
    return type(value) is int


def _indent(lines: list[str], pad: int) -> list[str]:
    return [" " * pad + line for line in lines]


class _Compiler:
    """Writes the checking functions of one decision's inputs into one namespace: a function per record, list
    and mapping, the checks of single values written inline in them."""

    def __init__(self) -> None:
        self.ns: dict[str, Any] = {
            "Declined": Declined, "_M": _MISSING, "_copy": copy_value, "_decimal": _decimal, "_date": _date,
            "_D": dt.date, "_surrogate": _SURROGATE.search,
        }
        self.names = 0
        self.functions: dict[int, str] = {}  # id of a spec → its function (the specs live as long as the build)

    def _name(self, prefix: str) -> str:
        self.names += 1
        return f"{prefix}{self.names}"

    def const(self, value: Any) -> str:
        """A name for a constant in the namespace (codes, decimal bounds, checked defaults)."""
        name = self._name("K")
        self.ns[name] = value
        return name

    def define(self, lines: list[str]) -> None:
        exec(compile("\n".join(lines) + "\n", "<skillcert facts checker>", "exec"), self.ns)  # noqa: S102

    def check(self, spec: ValueSpec, var: str) -> list[str]:
        """Lines that check the value in the variable ``var``: they raise :class:`Declined`, or leave its checked
        value in ``var`` (the same object for bool, integer, text and enum; converted for the other kinds)."""
        kind = spec.kind
        if kind == "bool":
            return [f"if type({var}) is not bool: raise Declined"]
        if kind == "integer":  # the model's bounds: the declared ones within the 15-digit input limit
            low = -INT_BOUND if spec.min is None else max(spec.min, -INT_BOUND)
            high = INT_BOUND if spec.max is None else min(spec.max, INT_BOUND)
            if not (_is_int(low) and _is_int(high)):
                return ["raise Declined"]
            return [f"if type({var}) is not int or not {low!r} <= {var} <= {high!r}: raise Declined"]
        if kind == "text":
            if spec.max_length is None:
                return [f"if type({var}) is not str: raise Declined"]
            if not _is_int(spec.max_length):
                return ["raise Declined"]
            # the model refuses lone surrogates when it counts the characters (and only then)
            return [f"if type({var}) is not str or len({var}) > {spec.max_length!r}"
                    f" or not {var}.isascii() and _surrogate({var}) is not None: raise Declined"]
        if kind == "enum":
            if not all(type(code) is str for code in spec.values):
                return ["raise Declined"]
            return [f"if type({var}) is not str or {var} not in {self.const(frozenset(spec.values))}: raise Declined"]
        if kind == "decimal":
            lines = [f"{var} = _decimal({var})"]
            for bound, op in ((spec.min, "<"), (spec.max, ">")):
                if bound is None:
                    continue
                if type(bound) is not int and type(bound) is not Decimal:
                    return ["raise Declined"]
                lines.append(f"if {var} {op} {self.const(bound)}: raise Declined")
            return lines
        if kind == "date":
            return [f"{var} = {var} if type({var}) is _D else _date({var})"]
        if kind in ("list", "mapping", "record"):
            return [f"{var} = {self.function(spec)}({var})"]
        return ["raise Declined"]  # a kind the model does not know either

    def function(self, spec: ValueSpec) -> str:
        """The name of a function ``f(value) -> checked value`` for a spec (generated on first need)."""
        name = self.functions.get(id(spec))
        if name is None:
            if spec.kind == "record":
                name = self.record(spec.fields)
            elif spec.kind == "list":
                name = self._list(spec)
            elif spec.kind == "mapping":
                name = self._mapping(spec)
            else:  # a single value: only its default is checked this way, once
                name = self._name("_value")
                self.define([f"def {name}(v):", *_indent(self.check(spec, "v"), 4), "    return v"])
            self.functions[id(spec)] = name
        return name

    def record(self, fields: Mapping[str, ValueSpec]) -> str:
        """A record: the given fields laid over a template of the defaults (so in declared order), each checked.

        The template holds a field's default, checked, when it is immutable; None when the field may be left
        empty; and the marker ``_M`` (which no check accepts) when it is required or its default is built afresh
        each time. A key the template lacks makes the copy longer than the template: an unknown key.
        """
        name = self._name("_record")
        template: dict[str, Any] = {}
        body: list[str] = []
        for field, spec in fields.items():
            template[field], lines = self._field(repr(field), spec)
            body += lines
        self.define([
            f"def {name}(d):",
            # every key a str (not an object that only compares equal to one: the model would refuse it)
            "    if type(d) is not dict or list(map(type, d)).count(str) != len(d): raise Declined",
            f"    out = {self.const(template)}.copy()",
            "    out.update(d)",
            f"    if len(out) != {len(template)}: raise Declined",
            *body,
            "    return out",
        ])
        return name

    def _field(self, key: str, spec: ValueSpec) -> tuple[Any, list[str]]:
        """A field's value in the template, and the lines checking ``out[key]`` in place."""
        check = self.check(spec, "v")
        if spec.kind not in _SAME:
            check.append(f"out[{key}] = v")
        if spec.required:
            return _MISSING, [f"    v = out[{key}]", *_indent(check, 4)]
        if spec.default is None:  # left out or None: None
            return None, [f"    v = out[{key}]", "    if v is not None:", *_indent(check, 8)]
        # the default, checked once here as the model checks it each time it is used (validate_default)
        try:
            checked = self.ns[self.function(spec)](copy_value(spec.default))
        except Declined:  # a default the model refuses: left out, the field is left to the model
            return _MISSING, [f"    v = out[{key}]", *_indent(check, 4)]
        default = self.const(checked)
        if spec.kind in _SAME:  # immutable, and it passes its check
            return checked, [f"    v = out[{key}]", *_indent(check, 4)]
        if not isinstance(checked, (dict, list)):  # a decimal or a date: immutable, already checked
            return checked, [f"    v = out[{key}]", f"    if v is not {default}:", *_indent(check, 8)]
        flat = not any(isinstance(v, (dict, list)) for v in (checked.values() if isinstance(checked, dict)
                                                               else checked))
        fresh = f"{default}.copy()" if flat else f"_copy({default})"  # a fresh copy each time
        return _MISSING, [f"    v = out[{key}]", "    if v is _M:", f"        out[{key}] = {fresh}", "    else:",
                          *_indent(check, 8)]

    def _limit(self, spec: ValueSpec) -> int | None:
        limit = spec.item_limit
        return limit if _is_int(limit) and spec.items is not None else None

    def _list(self, spec: ValueSpec) -> str:
        name = self._name("_list")
        limit, items = self._limit(spec), spec.items
        if limit is None or items is None:
            self.define([f"def {name}(v):", "    raise Declined"])
            return name
        lines = [f"def {name}(v):", f"    if type(v) is not list or len(v) > {limit!r}: raise Declined"]
        if items.kind in _SAME:  # the items are kept: checked, then copied at C speed
            lines += ["    for x in v:", *_indent(self.check(items, "x"), 8), "    out = v.copy()"]
        else:
            lines += ["    out = []", "    for x in v:", *_indent(self.check(items, "x"), 8), "        out.append(x)"]
        if spec.unique_by and items.kind == "record":
            # as the model: two items agreeing on every unique_by field (none of them None) are refused
            keys = [f"u{i}" for i in range(len(spec.unique_by))]
            lines += ["    seen = set()", "    for x in out:",
                      *(f"        {k} = x.get({n!r})" for k, n in zip(keys, spec.unique_by, strict=True)),
                      f"        if {' or '.join(f'{k} is None' for k in keys)}: continue",
                      f"        key = ({', '.join(keys)},)",
                      "        try:", "            if key in seen: raise Declined", "            seen.add(key)",
                      "        except TypeError: raise Declined from None"]
        lines.append("    return out")
        self.define(lines)
        return name

    def _mapping(self, spec: ValueSpec) -> str:
        name = self._name("_mapping")
        limit, items, keys = self._limit(spec), spec.items, spec.keys
        enum_keys = keys is not None and keys.kind == "enum"  # any other key is text, as in the model
        if limit is None or items is None or (keys is not None and enum_keys
                                              and not all(type(c) is str for c in keys.values)):
            self.define([f"def {name}(v):", "    raise Declined"])
            return name
        lines = [f"def {name}(v):", f"    if type(v) is not dict or len(v) > {limit!r}: raise Declined"]
        if keys is not None and enum_keys:
            # keys are compared as text: 5 and '5' are the same code (both in one mapping: left to the model)
            key = [f"if type(k) is int and -{_KEY_INT} < k < {_KEY_INT}: k = str(k)",
                   "elif type(k) is not str: raise Declined",
                   f"if k not in {self.const(frozenset(keys.values))}: raise Declined"]
        else:
            key = ["if type(k) is not str: raise Declined"]
        if items.kind in _SAME and not enum_keys:  # keys and items kept: checked, then copied at C speed
            lines += ["    for k, x in v.items():", *_indent(key + self.check(items, "x"), 8), "    return v.copy()"]
            self.define(lines)
            return name
        lines += ["    out = {}", "    for k, x in v.items():", *_indent(key + self.check(items, "x"), 8),
                  "        out[k] = x"]
        if enum_keys:
            lines.append("    if len(out) != len(v): raise Declined")
        lines.append("    return out")
        self.define(lines)
        return name


REQUIRED: Any = object()  # in a layout's template: the field has no value the checker would fill in
FRESH: Any = object()     # in a layout's template: the field's default is a dict or list, copied afresh each time


class RecordLayout:
    """How the checker of a record lays out its fields, for callers that check each field on its own (rows whose
    cells are checked once per distinct text) and assemble the record themselves.

    ``template`` holds, in declared order, what each field is when not given: its checked default when immutable,
    None when it may be left empty, :data:`FRESH` when its default is a dict or list (``fresh[field]``, to be
    copied with :func:`copy_value` each time), :data:`REQUIRED` when the checker has nothing to fill in (required,
    or a default the model refuses: such facts are the model's to judge). ``checkers[field]`` checks one given
    value as the record's checker does: the checked value, or :class:`Declined`. A record laid over the template
    with given fields checked so, fresh defaults copied and no :data:`REQUIRED` left, is exactly what the
    checker returns for the same fields.
    """

    __slots__ = ("template", "fresh", "required", "checkers", "specs")

    def __init__(self, template: dict[str, Any], fresh: dict[str, Any], checkers: dict[str, Callable[[Any], Any]],
                 specs: Mapping[str, ValueSpec]) -> None:
        self.template = template
        self.fresh = fresh
        self.required = tuple(k for k, v in template.items() if v is REQUIRED)
        self.checkers = checkers
        self.specs = dict(specs)


def record_layout(fields: Mapping[str, ValueSpec]) -> RecordLayout:
    """The layout of a record of these fields (see :class:`RecordLayout`), its checks compiled as the checker's."""
    compiler = _Compiler()
    template: dict[str, Any] = {}
    fresh: dict[str, Any] = {}
    checkers: dict[str, Callable[[Any], Any]] = {}
    for field, spec in fields.items():
        checkers[field] = compiler.ns[compiler.function(spec)]
        if spec.required:
            template[field] = REQUIRED
            continue
        if spec.default is None:
            template[field] = None
            continue
        try:
            checked = checkers[field](copy_value(spec.default))
        except Declined:
            template[field] = REQUIRED
            continue
        if isinstance(checked, (dict, list)):
            template[field] = FRESH
            fresh[field] = checked
        else:
            template[field] = checked
    return RecordLayout(template, fresh, checkers, fields)


def compile_checker(fields: Mapping[str, ValueSpec]) -> Checker:
    """A function checking facts given as a dict of these inputs, raising :class:`Declined` when it may not."""
    compiler = _Compiler()
    checker: Checker = compiler.ns[compiler.record(fields)]
    return checker


# Built on first use per compiled decision and kept beside it (the decision is frozen), for as long as it lives.
_CHECKERS: weakref.WeakKeyDictionary[Decision, Checker] = weakref.WeakKeyDictionary()


def fast_checker(decision: Decision) -> Checker:
    """The compiled checker of a decision's facts (built on first use, then kept for that decision)."""
    checker = _CHECKERS.get(decision)
    if checker is None:
        checker = _CHECKERS[decision] = compile_checker({name: i.spec for name, i in decision.inputs.items()})
    return checker
