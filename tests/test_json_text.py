"""The result's JSON text is written by the standard library's C encoder with decimals put back in their places
(skillcert.values.to_json); it is byte for byte the text of the plain writer it replaced (values._write, kept as
the reference and for unusual values) on every bundled case and example, on hand-picked awkward values and on
generated ones."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from skillcert import values
from skillcert.analysis.tester import find_test_files, load_cases
from skillcert.errors import SkillcertError
from skillcert.library import Library
from skillcert.values import to_json
from skillcert_testutil import POLICIES

hypothesis = pytest.importorskip("hypothesis", reason="pip install -e '.[test]' installs hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

LIBRARY = Library(POLICIES)


def reference(value: Any, indent: int | None) -> str:
    parts: list[str] = []
    values._write(value, parts, indent, 0)
    return "".join(parts)


def _results() -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for f in find_test_files(POLICIES):
        for case in load_cases(f)[0]:
            try:
                result = LIBRARY.evaluate(case.decision, case.facts, as_of=case.as_of, allow_out_of_period=True,
                                          explain=True)
            except SkillcertError:
                continue
            out.append((f"{Path(f).parent.parent.name}:{case.name}", result))
    return out


RESULTS = _results()


def test_there_are_results_to_compare() -> None:
    assert len(RESULTS) > 300


@pytest.mark.parametrize("indent", [None, 2])
def test_every_bundled_result_is_written_as_the_reference_writes_it(indent: int | None) -> None:
    for name, result in RESULTS:
        assert result.to_json(indent) == reference(result.as_dict(), indent), name


AWKWARD: list[Any] = [
    {"nul": "a\x00b"},                                   # a NUL in a string: the marker's character
    {"a\x00": Decimal("1.50")},                          # … in a key
    {1: "int key", 2.5: "float key", None: "none key"}, {True: "bool key"},  # keys that are not strings
    [Decimal("NaN"), Decimal("Infinity"), Decimal("-0"), Decimal("1E+999"), Decimal("0E-5"), Decimal("94.60")],
    [10 ** 30, -(10 ** 30), 2 ** 63, -(2 ** 63), 2 ** 63 - 1, 10 ** 5000],  # integers near and past the limit
    [dt.datetime(2025, 1, 2, 3, 4, 5), dt.date(2025, 6, 18)],
    ("a", "tuple", (Decimal("0.1"), [])),
    {"empty": {}, "list": [], "nested": [{}, [[]]]},
    ["\\u0000", '"\\u0000"', "\"", "\\", "\n\t\u2028", "引号“”", "\ud800"],  # text that looks like the marker
    [True, False, None, 0, -1, 1.5, float("nan")],
]


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("value", AWKWARD, ids=range(len(AWKWARD)))
def test_awkward_values_are_written_as_the_reference_writes_them(value: Any, indent: int | None) -> None:
    assert to_json(value, indent) == reference(value, indent)


def test_decimals_come_back_as_exact_number_tokens_in_order() -> None:
    text = to_json({"a": [Decimal("0.10"), "\x00", Decimal("3")], "b": Decimal("-7.250")}, None)
    assert text == '{"a":[0.1,"\\u0000",3],"b":-7.25}'
    assert json.loads(text, parse_float=Decimal)["b"] == Decimal("-7.25")


scalars = (st.none() | st.booleans() | st.integers() | st.text(max_size=8)
           | st.decimals(allow_nan=False, allow_infinity=False, places=None)
           | st.dates() | st.sampled_from(["\x00", "\\u0000", '"\x00"']))
trees = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(trees, st.sampled_from([None, 2]))
def test_generated_values_are_written_as_the_reference_writes_them(value: Any, indent: int | None) -> None:
    assert to_json(value, indent) == reference(value, indent)
