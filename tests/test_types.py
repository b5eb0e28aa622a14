"""skillcert.lang.types: value types, how they combine and which comparisons make sense."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from skillcert.lang.types import (
    ANY,
    BOOL,
    DATE,
    DECIMAL,
    INTEGER,
    NULL,
    TEXT,
    VType,
    comparable,
    describe,
    type_of_value,
    unify,
)

ENUM = VType("enum", ("a", "b"), (("a", "甲"), ("b", "乙")))
OTHER_ENUM = VType("enum", ("x",), (("x", "X"),))


@pytest.mark.parametrize(
    ("value", "kind"),
    [(None, "null"), (True, "bool"), (3, "integer"), (Decimal("0.4"), "decimal"), (dt.date(2024, 1, 1), "date"),
     ("x", "text"), ([1, 2], "list"), ({"a": 1}, "record"), ([], "list")],
)
def test_type_of_value(value: Any, kind: str) -> None:
    assert type_of_value(value).kind == kind


def test_type_of_a_list_is_the_type_of_its_items() -> None:
    assert type_of_value([1, Decimal("0.5")]).item == DECIMAL
    assert type_of_value({"a": 1}).field("a") == INTEGER


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ([INTEGER, INTEGER], INTEGER),
        ([INTEGER, DECIMAL], DECIMAL),
        ([DATE, NULL], DATE.with_nullable()),
        ([TEXT, ENUM], TEXT),
        ([ENUM, ENUM], ENUM),
        ([ENUM, OTHER_ENUM], TEXT),
        ([DATE, INTEGER], ANY),
        ([NULL], NULL),
        ([], ANY),
    ],
)
def test_unify(types: list[VType], expected: VType) -> None:
    assert unify(types) == expected


@pytest.mark.parametrize(
    ("a", "b", "ok"),
    [
        (INTEGER, DECIMAL, True),
        (DATE, DATE, True),
        (DATE, INTEGER, False),
        (TEXT, ENUM, True),
        (BOOL, INTEGER, False),
        (ANY, DATE, True),
        (VType("list", item=INTEGER), VType("list", item=TEXT), True),
    ],
)
def test_comparable(a: VType, b: VType, ok: bool) -> None:
    assert comparable(a, b) is ok
    assert comparable(b, a) is ok


def test_describe_is_readable() -> None:
    assert describe(DATE) == "日期 date"
    assert describe(ENUM) == "枚举 enum(a、b)"
    assert describe(VType("list", item=INTEGER)) == "列表 list[整数 integer]"
    assert "posts_missing" in describe(VType("record", fields=(("posts_missing", INTEGER),)))


def test_enum_labels_and_record_fields() -> None:
    assert ENUM.label_of("b") == "乙"
    assert ENUM.label_of("z") is None
    record = VType("record", fields=(("n", INTEGER), ("d", DATE)))
    assert record.field("d") == DATE
    assert record.field("zz") is None
    assert record.field_names() == ["n", "d"]
