"""skillcert.runtime.result: the decision result and its JSON form (exact decimals, ISO dates, fixed key order)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
import skillcert
from skillcert.runtime.result import DecisionResult, ItemScore, Reason
from skillcert.values import format_decimal, jsonable, to_json
from skillcert_testutil import AS_OF, PACKS, mini_facts


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("94.60"), "94.6"),
        (Decimal("80.00"), "80"),
        (Decimal("80"), "80"),
        (Decimal("0E-2"), "0"),
        (Decimal("-0"), "0"),
        (Decimal("1E+2"), "100"),
        (Decimal("-0.50"), "-0.5"),
        (Decimal("0.0001"), "0.0001"),
        (Decimal("79.95"), "79.95"),
        (Decimal("1234567.100"), "1234567.1"),
    ],
)
def test_format_decimal_is_exact_without_exponent_or_trailing_zeros(value: Decimal, text: str) -> None:
    assert format_decimal(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("94.60"), "94.6"),
        (Decimal("0.1") + Decimal("0.2"), "0.3"),
        (dt.date(2025, 6, 18), '"2025-06-18"'),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (7, "7"),
        ("予以延续备案", '"予以延续备案"'),
        ('引号"', '"引号\\""'),
        ([], "[]"),
        ({}, "{}"),
    ],
)
def test_to_json_writes_scalars_exactly(value: Any, text: str) -> None:
    assert to_json(value, indent=None) == text


def test_to_json_keeps_key_order_and_nests() -> None:
    value = {"b": [Decimal("1.50"), {"z": None, "a": dt.date(2024, 10, 15)}], "a": "x"}
    assert to_json(value, indent=None) == '{"b":[1.5,{"z":null,"a":"2024-10-15"}],"a":"x"}'
    assert to_json(value) == (
        '{\n  "b": [\n    1.5,\n    {\n      "z": null,\n      "a": "2024-10-15"\n    }\n  ],\n  "a": "x"\n}')


def test_to_json_is_valid_json_with_exact_decimals() -> None:
    value = {"score": Decimal("94.6"), "scores": {"internal": Decimal("9.20")}}
    parsed = json.loads(to_json(value), parse_float=Decimal)
    assert parsed == {"score": Decimal("94.6"), "scores": {"internal": Decimal("9.2")}}


def test_jsonable_turns_decimals_into_exact_strings() -> None:
    value = {"a": Decimal("0.30"), "d": dt.date(2024, 1, 2), "t": (1, 2)}
    assert jsonable(value) == {"a": "0.3", "d": "2024-01-02", "t": [1, 2]}


def test_reason_has_an_element_only_when_it_comes_from_each() -> None:
    assert Reason("r", "deny", "m", "§一").as_dict() == {"rule": "r", "outcome": "deny", "message": "m", "source": "§一"}
    assert Reason("r[0]", "deny", "m", "§一", element="电工 3级").as_dict()["element"] == "电工 3级"


def test_item_score_walks_its_tree_and_marks_bonus() -> None:
    leaf = ItemScore("posts", "岗位设置", Decimal("4"), Decimal("3.2"), "附件",
                     lines=[{"label": "缺一岗位", "count": 2, "per": Decimal("0.4"), "points": Decimal("0.8")}])
    bonus = ItemScore("standards", "加分", Decimal("2"), Decimal("2"), "附件", bonus=True)
    group = ItemScore("internal", "内部管理", Decimal("6"), Decimal("5.2"), "附件", items=[leaf, bonus])
    assert [n.id for n in group.walk()] == ["internal", "posts", "standards"]
    data = group.as_dict()
    assert list(data) == ["id", "label", "max", "score", "source", "items"]
    assert data["items"][1]["bonus"] is True
    assert "bonus" not in data["items"][0]
    assert data["items"][0]["lines"][0]["points"] == Decimal("0.8")


def result_of(**facts: Any) -> DecisionResult:
    return skillcert.load(PACKS).evaluate("mini/check", mini_facts(**facts), as_of=AS_OF)


def test_result_keys_follow_the_contract_order() -> None:
    data = result_of().as_dict()
    assert list(data)[:12] == ["decision", "title", "pack_version", "pack_digest", "as_of", "outcome",
                               "outcome_label", "score", "scores", "deadlines", "reasons", "warnings"]
    assert list(data)[12:] == ["route", "late", "checklists", "scorecard"]


def test_result_json_has_exact_number_tokens_and_iso_dates() -> None:
    text = result_of(findings={"posts_missing": 2, "contributed": True}).to_json()
    assert '"score": 98.7,' in text
    assert '"as_of": "2025-05-25"' in text
    assert '"decision_due": "2025-06-18"' in text
    data = json.loads(text, parse_float=Decimal)
    assert data["score"] == Decimal("98.7")
    assert data["scores"] == {"internal": Decimal("9.2"), "practice": 88, "bonus": Decimal("1.5")}
    assert data["pack_digest"].startswith("sha256:")
    assert data["deadlines"]["renewed_until"] == "2030-06-30"
    assert data["reasons"] == [{"rule": "score_band", "outcome": "pass", "message": "得分 98.7 分,达到 80 分",
                                "source": "§三"}]


def test_null_score_is_json_null() -> None:
    data = json.loads(result_of(kind="school").to_json())
    assert data["score"] is None
    assert data["scores"] == {"internal": None, "practice": None, "bonus": None}
    assert "scorecard" not in data


def test_scorecard_detail_lists_every_item_with_its_lines() -> None:
    data = json.loads(result_of(findings={"posts_missing": 2}).to_json(), parse_float=Decimal)
    internal = data["scorecard"]["categories"][0]
    posts = internal["items"][0]["items"][0]
    assert posts["id"] == "posts" and posts["score"] == Decimal("3.2")
    assert posts["lines"] == [{"label": "缺一岗位", "count": 2, "per": Decimal("0.4"), "points": Decimal("0.8")}]
    assert data["scorecard"]["total"] == Decimal("97.2")


def test_deciding_reasons_are_those_of_the_final_outcome() -> None:
    result = result_of(blacklisted=True)
    assert result.outcome == "ineligible"
    assert [r.rule for r in result.deciding_reasons] == ["basic.clean"]
