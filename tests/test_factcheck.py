"""skillcert.runtime.factcheck: the compiled fast path gives exactly what the pydantic model gives, or declines.

The property, for every bundled decision and for test packs that use every kind of declaration, over facts drawn
from the declarations (valid ones in every accepted form, then up to three changes at random places: values at and
just past the bounds, other types and subclasses, keys left out or added, lists too long, duplicate keys): either
the fast path declines (and :func:`validate_facts` asks the model), or the model accepts the same facts and gives
the very same checked facts — same values of the same types all the way down (``True`` is not ``1``,
``Decimal('1.50')`` is not ``Decimal('1.5')``, keys in the same order). The fast path also never changes the
facts it is given, never hands back a container of them, and fills each default with a fresh copy.

A second property keeps it useful: for plain facts (the types a JSON or YAML file gives) it declines nothing the
model accepts — but a mapping holding one code twice (5 and '5'), left to the model — so well-formed facts never
pay for the model. The edge cases are then checked one by one.
Longer runs: ``SKILLCERT_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/test_factcheck.py -p no:cacheprovider``.
"""

from __future__ import annotations

import copy
import datetime as dt
import enum
import os
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="pip install -e '.[test]' installs hypothesis")

import skillcert  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from skillcert.analysis.tester import find_test_files, load_cases  # noqa: E402
from skillcert.compiler.model import DEFAULT_MAX_ITEMS, Decision, ValueSpec  # noqa: E402
from skillcert.errors import FactsError  # noqa: E402
from skillcert.runtime import facts as facts_module  # noqa: E402
from skillcert.runtime.factcheck import INT_BOUND, Declined, fast_checker  # noqa: E402
from skillcert.runtime.facts import facts_model, validate_facts  # noqa: E402
from skillcert.source.loader import load_file  # noqa: E402
from skillcert_testutil import MINI, POLICIES, mini_facts, pack_variant  # noqa: E402

EXAMPLES = int(os.environ.get("SKILLCERT_FUZZ_EXAMPLES", "120"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 120,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

BUNDLED = skillcert.load(POLICIES)
MINI_CHECK = skillcert.load(MINI.parent).decision("mini/check")

# Inputs of every kind, with every kind of default, bound and limit (added to the mini pack).
KINDS_INPUTS = """\
      amount: {type: decimal, label: 金额, min: -5.5, max: 100, default: 0}
      rate: {type: decimal, label: 比率, min: 0, max: 1.25, default: null}
      exact: {type: decimal, label: 精确值, default: 1.50}
      since: {type: date, label: 起始日, default: 2024-01-31}
      until: {type: date, label: 截止日, default: null}
      code: {type: text, label: 代码, max_length: 3, default: ab}
      grade: {type: enum, label: 等级, values: {'1': 一级, '2': 二级, x: 其他}, default: '2'}
      model_config: {type: integer, label: 模型配置数, min: -3, max: 3, default: null}
      copy: {type: bool, label: 副本, default: false}
      counts:
        type: mapping
        label: 各等级人次
        max_items: 3
        keys: {type: enum, values: {'1': 一级, '2': 二级, '3': 三级, '10': 十级}}
        items: {type: integer, min: 0, max: 99}
        default: {1: 0}
      amounts:
        type: mapping
        label: 各项金额
        items: {type: decimal, min: 0}
        default: {}
      people:
        type: mapping
        label: 人员
        keys: {type: enum, values: {'1': 一级, '2': 二级}}
        items:
          type: record
          fields:
            name: {type: text, label: 姓名}
            since: {type: date, label: 起始日, default: 2020-01-01}
        default: null
      days: {type: list, label: 日期, max_items: 4, items: {type: date}, default: [2024-01-01]}
      prices: {type: list, label: 价格, items: {type: decimal, max: 10}, default: null}
      flags: {type: list, label: 标记, items: {type: bool}, default: []}
      entries:
        type: list
        label: 条目
        max_items: 5
        unique_by: [day, amount]
        items:
          type: record
          label: 条目
          fields:
            day: {type: date, label: 日期}
            amount: {type: decimal, label: 金额, default: 0}
            note: {type: text, label: 说明, default: null}
            tags: {type: list, label: 标签, items: {type: enum, values: {a: 甲, b: 乙}}, default: [a]}
        default: []
      profile:
        type: record
        label: 概况
        default: {}
        fields:
          size: {type: integer, label: 规模, min: 1, max: 3, default: 1}
          opened: {type: date, label: 开办日, default: null}
          inner:
            type: record
            label: 内部
            default: {level: 2}
            fields:
              level: {type: integer, label: 级别, min: 0, max: 5}
              scores: {type: list, label: 分数, items: {type: decimal}, default: [1.0, 2]}
      grades: {type: list, label: 各级, items: {type: enum, values: {'1': 一级, '2': 二级}}, default: null}
"""


@pytest.fixture(scope="module")
def kinds(tmp_path_factory: pytest.TempPathFactory) -> Decision:
    folder = pack_variant(tmp_path_factory.mktemp("packs"), MINI, "kinds", [
        ("      fee: {type: decimal", KINDS_INPUTS + "      fee: {type: decimal"),
    ])
    return skillcert.load(folder.parent).decision("kinds/check")


DECISION_IDS = [info.id for info in BUNDLED.decisions()] + ["mini/check", "kinds/check"]


@pytest.fixture(scope="module")
def decisions(kinds: Decision) -> dict[str, Decision]:
    found = {i: BUNDLED.decision(i) for i in DECISION_IDS if i not in ("mini/check", "kinds/check")}
    return {**found, "mini/check": MINI_CHECK, "kinds/check": kinds}


# --------------------------------------------------------------------------------------------------
# The two paths, and what "the same" means


REFUSED = "<refused by the model>"
DECLINED = "<declined by the fast path>"


def reference(decision: Decision, facts: Any) -> Any:
    """What the model gives: the checked facts, or REFUSED."""
    try:
        return facts_model(decision).model_validate(facts).model_dump(by_alias=True)
    except Exception:  # a ValidationError, or whatever else the model raises: not accepted
        return REFUSED


def fast(decision: Decision, facts: Any) -> Any:
    try:
        return fast_checker(decision)(facts)
    except Declined:
        return DECLINED


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (keys, their order, a decimal's exponent included)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return ([(type(k), k) for k in a] == [(type(k), k) for k in b]
                and all(same(a[k], b[k]) for k in a))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Decimal):
        return a.as_tuple() == b.as_tuple()
    return bool(a == b)


def containers(value: Any) -> Iterator[int]:
    if isinstance(value, (dict, list)):
        yield id(value)
        for item in value.values() if isinstance(value, dict) else value:
            yield from containers(item)


def assert_agree(decision: Decision, facts: Any) -> Any:
    """The property: the fast path declines, or gives exactly what the model gives. Returns the fast result."""
    before = repr(facts)
    got = fast(decision, facts)
    assert repr(facts) == before, "the fast path changed the facts it was given"
    want = reference(decision, facts)
    if got is DECLINED:
        return got
    assert want is not REFUSED, f"the fast path accepted facts the model refuses: {facts!r}"
    assert same(got, want), f"different checked facts for {facts!r}:\nfast  {got!r}\nmodel {want!r}"
    assert not set(containers(got)) & set(containers(facts)), "a container of the facts handed back"
    again = fast(decision, facts)
    assert same(again, got) and not set(containers(again)) & set(containers(got)), "defaults not fresh"
    return got


# --------------------------------------------------------------------------------------------------
# Strategies from the declarations: valid facts, then a few mutations at random places in them


class Text(str):
    pass


class Number(int):
    pass


class Exact(Decimal):
    pass


class Mapping_(dict):  # noqa: N801 - a dict subclass
    pass


class Items(list):  # a list subclass
    pass


class Code(enum.StrEnum):
    ONE = "1"


class Day(dt.date):
    pass


PLAIN_ODD = [None, True, False, 0, 1, -1, 1.5, float("nan"), "", " ", "x", "1", "true", "2025-06-30",
             Decimal("1"), Decimal("NaN"), [], {}, [1], {"a": 1}, dt.datetime(2025, 6, 30), dt.date(2025, 6, 30)]
ODD = PLAIN_ODD + [("a",), Text("a"), Number(1), Exact("1"), Mapping_(), Items(), Code.ONE, Day(2025, 6, 30), b"1",
                   object()]

SURROGATE_TEXT = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=5)
ODD_DATE_TEXT = ["2025-02-30", "2025-13-01", "2025-6-1", "20250601", "2025-W01-1", "２０２５-０６-３０",
                 "0000-01-01", "2025-06-30T00:00", "", " 2024-02-29 x"]


def integer_bounds(spec: ValueSpec) -> tuple[int, int]:
    low = -INT_BOUND if spec.min is None else max(int(spec.min), -INT_BOUND)
    high = INT_BOUND if spec.max is None else min(int(spec.max), INT_BOUND)
    return low, high


def decimal_bounds(spec: ValueSpec) -> tuple[Decimal, Decimal]:
    low = Decimal(spec.min) if spec.min is not None else Decimal(-1000)
    high = Decimal(spec.max) if spec.max is not None else Decimal(1000)
    return low, high


def good(spec: ValueSpec, plain: bool) -> st.SearchStrategy[Any]:
    """Valid values of a declaration, in every form the model accepts (bounds included)."""
    kind = spec.kind
    if kind == "bool":
        return st.booleans()
    if kind == "integer":
        low, high = integer_bounds(spec)
        return st.one_of(st.integers(max(low, -(10**6)), min(high, 10**6)), st.sampled_from([low, high]))
    if kind == "decimal":
        low, high = decimal_bounds(spec)
        exact = st.one_of(*(st.decimals(low, high, places=p) for p in (0, 2, 10)),
                          st.sampled_from([low, high, Decimal("1.50"), Decimal("-0"), Decimal("0E-12")])
                          .filter(lambda d: low <= d <= high))
        return st.one_of(exact, exact.map(lambda d: f" {d} "), exact.map(float),
                         exact.filter(lambda d: d == d.to_integral_value()).map(int))
    if kind == "date":
        return st.one_of(st.dates(), st.dates().map(dt.date.isoformat), st.dates().map(lambda d: f" {d}\n"))
    if kind == "text":
        if spec.max_length is None:
            return st.one_of(st.text(max_size=8), SURROGATE_TEXT)
        return st.text(max_size=spec.max_length)
    if kind == "enum":
        return st.sampled_from(sorted(spec.values))
    if kind == "list" and spec.items is not None:
        return st.lists(good(spec.items, plain), max_size=min(spec.item_limit, 3))
    if kind == "mapping" and spec.items is not None:
        items = good(spec.items, plain)
        if spec.keys is not None and spec.keys.kind == "enum":
            codes = sorted(spec.keys.values)
            as_int = {c: int(c) for c in codes if c.isdigit() and str(int(c)) == c}
            keys = st.sampled_from(codes)
            entries = st.dictionaries(keys, items, max_size=min(spec.item_limit, 3))
            return st.one_of(entries, entries.map(lambda m: {as_int.get(k, k): v for k, v in m.items()}))
        return st.dictionaries(st.text(max_size=4), items, max_size=min(spec.item_limit, 3))
    if kind == "record":
        return st.fixed_dictionaries({n: good(f, plain) for n, f in spec.fields.items() if f.required},
                                     optional={n: good(f, plain) for n, f in spec.fields.items() if not f.required})
    return st.nothing()


def tricky(spec: ValueSpec, plain: bool) -> st.SearchStrategy[Any]:
    """Values at or just past what a declaration accepts, and other types that look like it."""
    kind = spec.kind
    odd: list[Any] = []
    if kind == "bool":
        odd = [0, 1, "true", None, Number(1)]
    elif kind == "integer":
        low, high = integer_bounds(spec)
        odd = [low - 1, high + 1, INT_BOUND + 1, -INT_BOUND - 1, True, False, 1.0, "1", Decimal(1), Number(low)]
    elif kind == "decimal":
        low, high = decimal_bounds(spec)
        tiny = Decimal("1E-10")
        odd = [low - tiny, high + tiny, low + tiny, high - tiny, low - Decimal("1E-11"), Decimal("0.12345678901"),
               Decimal("0.1234567890"), Decimal("1E+15"), Decimal("999999999999999"), 10**15, 10**15 - 1,
               Decimal("NaN"), Decimal("Infinity"), float("nan"), float("inf"), 1e16, True, "NaN", "1_000",
               "1e2", " +1 ", "١٢", "1" * 101, "12元", Exact("1.5")]
    elif kind == "date":
        odd = [*ODD_DATE_TEXT, dt.datetime(2025, 1, 1), 20250101, Day(2025, 1, 1)]
    elif kind == "text":
        odd = [1, None, True, Text("a"), "a\ud800"]
        if spec.max_length is not None:
            odd += ["x" * spec.max_length, "x" * (spec.max_length + 1), "𠀀" * spec.max_length,
                    "a\ud800"[: spec.max_length]]
    elif kind == "enum":
        odd = [*sorted(spec.values.values()), *(int(c) for c in spec.values if c.isdigit()), "X", Code.ONE]
    elif kind == "list":
        odd = [("a",), "x", Items()]
    elif kind in ("mapping", "record"):
        odd = [[], "x", Mapping_()]
    if plain:
        odd = [v for v in odd if type(v) in (type(None), bool, int, float, str, Decimal, list, dict, dt.date,
                                             dt.datetime)]
    return st.sampled_from(odd or [None])


Slot = tuple[Any, Any, ValueSpec]  # a container in the facts, a key in it, the declaration of its value


def slots(spec: ValueSpec, value: Any, out: list[Slot]) -> list[Slot]:
    """Every place in the facts where a value of a known declaration sits."""
    if spec.kind == "record" and type(value) is dict:
        for name in list(value):
            field = spec.fields.get(name) if isinstance(name, str) else None
            if field is not None:
                out.append((value, name, field))
                slots(field, value[name], out)
    elif spec.kind in ("list", "mapping") and spec.items is not None and type(value) in (list, dict):
        for key in list(range(len(value)) if type(value) is list else value):
            out.append((value, key, spec.items))
            slots(spec.items, value[key], out)
    return out


def mutate(data: st.DataObject, spec: ValueSpec, facts: dict[str, Any], plain: bool) -> None:
    """One change at a random place: a tricky or odd value, a key left out or added, a list too long …"""
    places = slots(spec, facts, [(None, None, spec)])
    container, key, at = places[data.draw(st.integers(0, len(places) - 1), label="place")]
    current = facts if container is None else container[key]
    change = data.draw(st.sampled_from(["tricky", "tricky", "odd", "leave-out", "add-key", "grow", "wrap"]),
                       label="change")
    odd = PLAIN_ODD if plain else ODD
    if change == "tricky" and container is not None:
        container[key] = copy.deepcopy(data.draw(tricky(at, plain), label="tricky"))
    elif change == "odd" and container is not None:
        container[key] = copy.deepcopy(data.draw(st.sampled_from(odd), label="odd"))
    elif change == "leave-out" and type(container) is dict:
        del container[key]
    elif change == "add-key" and type(current) is dict:
        names = [f"x_{n}" for n in at.fields] or ["x"]
        extra = data.draw(st.one_of(st.text(max_size=4), st.sampled_from(names)), label="key")
        if not plain:
            extra = data.draw(st.sampled_from([extra, 1, None, True, Text(next(iter(at.fields), "a"))]), label="k")
        if at.kind == "mapping" and at.keys is not None and at.keys.kind == "enum" and current:
            first = next(iter(current))  # the same code as an integer: two keys read as one
            extra = data.draw(st.sampled_from([extra, int(first) if str(first).isdigit() else extra]), label="k")
        current[extra] = copy.deepcopy(data.draw(st.sampled_from(odd), label="value"))
    elif change == "grow" and type(current) is list and current and at.item_limit <= 10:
        current.extend(copy.deepcopy(current[:1]) * (at.item_limit + 1 - len(current)))
    elif change == "grow" and type(current) is list and current and at.unique_by:
        current.append(copy.deepcopy(current[0]))  # the first item twice
    elif change == "wrap" and not plain and container is not None:
        wrapper = {dict: Mapping_, list: Items, str: Text, int: Number}.get(type(current))
        if wrapper is not None:
            container[key] = wrapper(current)


_FACTS: dict[tuple[str, bool], st.SearchStrategy[Any]] = {}


def draw_facts(data: st.DataObject, decision: Decision, plain: bool) -> dict[str, Any]:
    """Valid facts, then up to three mutations."""
    spec = ValueSpec("record", fields={n: i.spec for n, i in decision.inputs.items()})
    strategy = _FACTS.get((decision.id, plain))
    if strategy is None:
        strategy = _FACTS[(decision.id, plain)] = good(spec, plain)
    facts: dict[str, Any] = copy.deepcopy(data.draw(strategy, label="facts"))
    for _ in range(data.draw(st.integers(0, 3), label="mutations")):
        mutate(data, spec, facts, plain)
    return facts


# --------------------------------------------------------------------------------------------------
# Properties


@pytest.mark.parametrize("decision_id", DECISION_IDS)
@FUZZ
@given(data=st.data())
def test_the_fast_path_gives_what_the_model_gives_or_declines(decisions: dict[str, Decision], decision_id: str,
                                                               data: st.DataObject) -> None:
    decision = decisions[decision_id]
    assert_agree(decision, draw_facts(data, decision, plain=False))


def _codes_read_as_one(value: Any) -> bool:
    """A mapping holding a code both as an integer and as text (5 and '5'): the fast path leaves it to the model."""
    if isinstance(value, dict):
        keys = [str(k) if type(k) is int else k for k in value]
        return len(set(keys)) != len(keys) or any(_codes_read_as_one(v) for v in value.values())
    if isinstance(value, list):
        return any(_codes_read_as_one(v) for v in value)
    return False


@pytest.mark.parametrize("decision_id", DECISION_IDS)
@FUZZ
@given(data=st.data())
def test_plain_facts_the_model_accepts_are_never_declined(decisions: dict[str, Decision], decision_id: str,
                                                          data: st.DataObject) -> None:
    decision = decisions[decision_id]
    facts = draw_facts(data, decision, plain=True)
    got = assert_agree(decision, facts)
    if got is DECLINED and not _codes_read_as_one(facts):
        assert reference(decision, facts) is REFUSED, f"declined facts the model accepts: {facts!r}"


# --------------------------------------------------------------------------------------------------
# Real facts: every bundled example and every pack test case goes the fast way


def _bundled_facts() -> Iterator[tuple[str, Any]]:
    for info in BUNDLED.decisions():
        region, name = info.id.split("/")
        for path in sorted((POLICIES / region / "examples").glob("*.yaml")):
            if path.stem == name or path.stem.startswith(name + "-"):
                yield info.id, load_file(path).data
    for path in find_test_files(POLICIES):
        cases, _ = load_cases(path)
        for case in cases:
            yield case.decision, case.facts


def test_every_bundled_example_and_valid_test_case_takes_the_fast_path() -> None:
    taken = 0
    for decision_id, facts in _bundled_facts():
        decision = BUNDLED.decision(decision_id)
        if reference(decision, facts) is REFUSED:
            assert fast(decision, facts) is DECLINED
            continue
        got = assert_agree(decision, facts)
        assert got is not DECLINED, f"{decision_id}: valid facts declined: {facts!r}"
        taken += 1
    assert taken >= 30


# --------------------------------------------------------------------------------------------------
# Edge cases one by one (kinds/check): accepted by the fast path with the model's result, or declined


BASE = {"kind": "org", "expires_on": "2025-06-30", "applied_on": "2025-05-20"}

ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("integer-at-min", {"model_config": -3}),
    ("integer-at-max", {"model_config": 3}),
    ("integer-none-when-optional", {"model_config": None}),
    ("integer-at-the-15-digit-limit", {"person_times": INT_BOUND}),
    ("decimal-at-min", {"amount": Decimal("-5.5")}),
    ("decimal-at-max-written-longer", {"amount": Decimal("100.0000000000")}),
    ("decimal-as-int", {"amount": 7}),
    ("decimal-as-float", {"amount": 2.5}),
    ("decimal-as-text-with-spaces", {"amount": " 12.30 "}),
    ("decimal-exponent-kept", {"exact": Decimal("1.500")}),
    ("decimal-with-exponent", {"amount": Decimal("1E+1")}),
    ("decimal-ten-places", {"rate": Decimal("0.1234567890")}),
    ("decimal-negative-zero", {"rate": Decimal("-0")}),
    ("date-as-text", {"since": "2024-02-29"}),
    ("date-as-text-with-spaces", {"since": " 2024-02-29\n"}),
    ("date-as-date", {"until": dt.date(2025, 1, 1)}),
    ("text-at-max-length", {"code": "abc"}),
    ("text-astral-characters-counted-once", {"code": "𠀀𠀀𠀀"}),
    ("text-lone-surrogate-without-max-length", {"materials": ["a\ud800"]}),
    ("enum-default-filled", {}),
    ("enum-given", {"grade": "x"}),
    ("enum-keyed-mapping-int-keys", {"counts": {1: 5, 10: 0}}),
    ("enum-keyed-mapping-at-max-items", {"counts": {"1": 1, "2": 2, "3": 3}}),
    ("text-keyed-mapping-of-decimals", {"amounts": {"a[1]": 1, "": "2.50"}}),
    ("mapping-of-records-default-inside", {"people": {1: {"name": "张三"}, "2": {"name": "李四", "since": "2021-05-06"}}}),
    ("list-at-max-items", {"days": ["2025-01-01", dt.date(2025, 1, 2), "2025-01-03", "2025-01-04"]}),
    ("list-of-decimals", {"prices": [1, "2.5", Decimal("3.00"), 9.99]}),
    ("list-of-bools", {"flags": [True, False]}),
    ("unique-by-differs-on-one-field", {"entries": [{"day": "2025-01-01"}, {"day": "2025-01-01", "amount": 1}]}),
    ("unique-by-skips-an-empty-key", {"entries": [{"day": "2025-01-01", "note": "x"}, {"day": "2025-01-02"}]}),
    ("nested-record-defaults", {"profile": {"size": 2}}),
    ("nested-record-inner-given", {"profile": {"inner": {"level": 0, "scores": []}}}),
    ("pydantic-names-as-inputs", {"model_config": 1, "copy": True}),
]

DECLINED_CASES: list[tuple[str, dict[str, Any]]] = [
    ("integer-below-min", {"model_config": -4}),
    ("integer-above-max", {"model_config": 4}),
    ("integer-past-the-15-digit-limit", {"person_times": INT_BOUND + 1}),
    ("bool-for-integer", {"person_times": True}),
    ("float-for-integer", {"person_times": 1.0}),
    ("text-for-integer", {"person_times": "1"}),
    ("int-subclass-for-integer", {"person_times": Number(1)}),
    ("int-for-bool", {"copy": 1}),
    ("decimal-below-min", {"amount": Decimal("-5.5000000001")}),
    ("decimal-above-max", {"amount": Decimal("100.0000000001")}),
    ("decimal-eleven-places", {"rate": Decimal("0.12345678901")}),
    ("decimal-sixteen-digits", {"exact": Decimal("1E+15")}),
    ("decimal-nan", {"rate": Decimal("NaN")}),
    ("decimal-float-nan", {"rate": float("nan")}),
    ("bool-for-decimal", {"amount": False}),
    ("decimal-text-not-a-number", {"amount": "12元"}),
    ("date-impossible", {"since": "2025-02-30"}),
    ("date-week-form", {"since": "2025-W01-1"}),
    ("datetime-for-date", {"since": dt.datetime(2025, 1, 1)}),
    ("int-for-date", {"since": 20250101}),
    ("date-subclass", {"since": Day(2025, 1, 1)}),
    ("text-past-max-length", {"code": "abcd"}),
    ("text-lone-surrogate-under-max-length", {"code": "a\ud800"}),
    ("int-for-text", {"note": 1}),
    ("str-subclass-for-text", {"note": Text("a")}),
    ("enum-unknown", {"grade": "3"}),
    ("enum-int-for-code", {"grade": 1}),
    ("enum-member-for-code", {"grade": Code.ONE}),
    ("enum-keyed-mapping-unknown-key", {"counts": {"4": 1}}),
    ("enum-keyed-mapping-bool-key", {"counts": {True: 1}}),
    ("enum-keyed-mapping-same-code-twice", {"counts": {1: 1, "1": 2}}),
    ("mapping-past-max-items", {"counts": {"1": 1, "2": 2, "3": 3, "10": 4}}),
    ("text-keyed-mapping-int-key", {"amounts": {1: 1}}),
    ("list-past-max-items", {"days": ["2025-01-01"] * 5}),
    ("tuple-for-list", {"flags": (True,)}),
    ("list-subclass", {"flags": Items([True])}),
    ("unique-by-duplicate", {"entries": [{"day": "2025-01-01"}, {"day": dt.date(2025, 1, 1), "amount": "0.0"}]}),
    ("record-item-missing-required", {"entries": [{"amount": 1}]}),
    ("extra-key", {"colour": "red"}),
    ("alias-attribute-name", {"x_amount": 1}),
    ("extra-nested-key", {"profile": {"sizes": 2}}),
    ("dict-subclass-for-record", {"profile": Mapping_(size=2)}),
    ("none-for-required", {"kind": None}),
    ("none-for-a-field-with-a-default", {"amount": None}),
    ("none-for-record-with-default", {"profile": None}),
    ("str-subclass-key", {Text("amount"): 1}),
]


@pytest.mark.parametrize(("name", "given"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_edge_cases_accepted_by_the_fast_path(kinds: Decision, name: str, given: dict[str, Any]) -> None:
    facts = {**BASE, **given}
    got = assert_agree(kinds, facts)
    assert got is not DECLINED
    assert same(validate_facts(kinds, facts), got)


@pytest.mark.parametrize(("name", "given"), DECLINED_CASES, ids=[c[0] for c in DECLINED_CASES])
def test_edge_cases_declined_by_the_fast_path(kinds: Decision, name: str, given: dict[str, Any]) -> None:
    facts = {**BASE, **given}
    assert assert_agree(kinds, facts) is DECLINED


def test_missing_required_input_is_declined(kinds: Decision) -> None:
    assert fast(kinds, {"kind": "org", "expires_on": "2025-06-30"}) is DECLINED


def test_defaults_are_the_models_and_fresh_each_time(kinds: Decision) -> None:
    first = fast(kinds, dict(BASE))
    assert same(first, reference(kinds, dict(BASE)))
    assert first["amount"] == 0 and type(first["amount"]) is Decimal  # a decimal default is a decimal
    assert first["exact"].as_tuple() == Decimal("1.50").as_tuple()
    assert first["since"] == dt.date(2024, 1, 31)
    assert first["counts"] == {"1": 0}  # the default's key 1 read as the code '1'
    assert first["profile"] == {"size": 1, "opened": None, "inner": {"level": 2, "scores": [Decimal("1.0"),
                                                                                             Decimal("2")]}}
    first["profile"]["inner"]["scores"].append(Decimal(3))
    first["days"].append(dt.date(2000, 1, 1))
    first["counts"]["2"] = 1
    second = fast(kinds, dict(BASE))
    assert same(second, reference(kinds, dict(BASE)))


def test_keys_come_out_in_declared_order_whatever_the_order_given(kinds: Decision) -> None:
    facts = dict(reversed(list({**BASE, "profile": {"inner": {"level": 1}, "size": 3}}.items())))
    got = fast(kinds, facts)
    assert list(got) == list(kinds.inputs)
    assert list(got["profile"]) == ["size", "opened", "inner"]
    assert same(got, reference(kinds, facts))


def test_a_key_that_only_claims_to_be_a_name_is_declined(kinds: Decision) -> None:
    class Liar:
        def __eq__(self, other: object) -> bool:
            return other == "amount"

        def __hash__(self) -> int:
            return hash("amount")

    class LyingText(str):
        def __eq__(self, other: object) -> bool:
            return other == "amount" or str.__eq__(self, other)

        def __hash__(self) -> int:
            return hash("amount")

    for key in (Liar(), LyingText("zzz")):
        assert assert_agree(kinds, {**BASE, key: 1}) is DECLINED
        assert reference(kinds, {**BASE, key: 1}) is REFUSED


def test_validate_facts_takes_the_fast_path_for_good_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_model(decision: Decision) -> Any:
        raise AssertionError("the model was asked")

    fast_checker(MINI_CHECK)  # built before the model is taken away
    monkeypatch.setattr(facts_module, "facts_model", no_model)
    checked = validate_facts(MINI_CHECK, mini_facts(fee="12.30", banks=[
        {"occupation": "电工", "level": 3, "theory_sets": 3, "skill_sets": 3}]))
    assert checked["fee"] == Decimal("12.30") and checked["applied_on"] == dt.date(2025, 5, 20)


def test_declined_facts_get_the_models_messages() -> None:
    with pytest.raises(FactsError) as info:
        validate_facts(MINI_CHECK, mini_facts(person_times=True, findings={"posts_missing": 11}))
    assert [str(p) for p in info.value.problems] == [
        "findings.posts_missing: facts-invalid: findings.posts_missing(缺少的岗位数) 应不大于 10,收到 11",
        "person_times: facts-invalid: person_times(累计培训评价人次) 应是整数,收到 true",
    ]


def test_a_list_at_the_default_limit_is_accepted_and_one_more_declined() -> None:
    assert fast(MINI_CHECK, mini_facts(materials=["m"] * DEFAULT_MAX_ITEMS)) is not DECLINED
    assert fast(MINI_CHECK, mini_facts(materials=["m"] * (DEFAULT_MAX_ITEMS + 1))) is DECLINED


def test_unusual_declarations_leave_their_part_to_the_model() -> None:
    # codes that are not text and a bound of another type: that part declines every value, the rest goes on
    from skillcert.runtime.factcheck import compile_checker

    odd = compile_checker({
        "level": ValueSpec("enum", values={1: "一级"}, required=False),
        "count": ValueSpec("integer", min=Decimal("0.5"), required=False),
        "ok": ValueSpec("bool", required=False, default=False),
    })
    assert odd({"ok": True}) == {"level": None, "count": None, "ok": True}
    for facts in ({"level": 1}, {"level": "1"}, {"count": 1}):
        with pytest.raises(Declined):
            odd(facts)
    broken_default = compile_checker({"n": ValueSpec("integer", min=0, required=False, default=-1)})
    with pytest.raises(Declined):
        broken_default({})
    assert broken_default({"n": 2}) == {"n": 2}
