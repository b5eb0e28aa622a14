"""Computed tables in the result, `each` rules with per-element `let` names, find()/get(), enum-keyed mappings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import skillcert
from skillcert.render.text import render_text
from skillcert_testutil import PACKS, pack_variant, problem_codes

AS_OF = dt.date(2023, 6, 1)


def evaluate(facts: dict[str, object]) -> skillcert.DecisionResult:
    return skillcert.load(PACKS).evaluate("tabular/stats", facts, as_of=AS_OF)


def test_table_rows_use_earlier_columns_and_the_total_row_sums_and_recomputes() -> None:
    result = evaluate({"rows": [
        {"name": "甲", "counts": {"1": 3, "2": 1}, "passed": 2},
        {"name": "乙", "counts": {2: 2}, "passed": 2},
    ]})
    table = result.tables["summary"]
    assert [c["id"] for c in table["columns"]] == ["name", "level_1", "level_2", "all", "passed", "rate"]
    assert table["rows"][0] == {"name": "甲", "level_1": 3, "level_2": 1, "all": 4, "passed": 2,
                                "rate": Decimal("50.00")}
    assert table["rows"][1]["level_1"] == 0 and table["rows"][1]["rate"] == Decimal("100.00")
    assert table["total"] == {"name": "合计", "level_1": 3, "level_2": 3, "all": 6, "passed": 4,
                              "rate": Decimal("66.67")}


def test_a_row_with_nothing_counted_has_no_rate_and_no_error() -> None:
    result = evaluate({"rows": [{"name": "空", "passed": 0}]})
    table = result.tables["summary"]
    assert table["rows"][0]["rate"] is None
    assert table["total"]["rate"] is None and table["total"]["all"] == 0


def test_an_empty_table_still_has_its_columns_and_a_total_row() -> None:
    table = evaluate({}).tables["summary"]
    assert table["rows"] == []
    assert table["total"]["all"] == 0 and table["total"]["rate"] is None  # a sum over no rows is 0
    assert "(无数据)" in render_text(evaluate({}))


def test_table_is_in_the_json_with_exact_decimals() -> None:
    text = evaluate({"rows": [{"name": "甲", "counts": {"1": 3}, "passed": 2}]}).to_json()
    assert '"rate": 66.67' in text and '"tables"' in text


def test_mapping_keys_outside_the_enum_are_refused_with_the_field_named() -> None:
    with pytest.raises(skillcert.FactsError) as info:
        evaluate({"rows": [{"name": "甲", "counts": {"3": 1}}]})
    assert any("rows[0].counts" in str(p) for p in info.value.problems), info.value.problems


@pytest.mark.parametrize(
    ("requested", "reasons"),
    [
        ([{"occupation": "电工", "level": 3}], []),
        ([{"occupation": "电工", "level": 2}], ["scope[0].too_high"]),
        ([{"occupation": "焊工", "level": 4}], ["scope[0].unpublished"]),
        ([{"occupation": "电工", "level": 5}, {"occupation": "焊工", "level": 1}], ["scope[1].unpublished"]),
    ],
)
def test_each_rule_let_names_are_computed_per_element(requested: list[dict[str, object]],
                                                      reasons: list[str]) -> None:
    result = evaluate({"published": [{"occupation": "电工", "max_level": 3}], "requested": requested})
    assert [r.rule for r in result.reasons] == reasons
    assert result.outcome == ("excess" if reasons else "ok")


def test_let_values_appear_in_messages() -> None:
    result = evaluate({"published": [{"occupation": "电工", "max_level": 3}],
                       "requested": [{"occupation": "电工", "level": 1}]})
    assert result.reasons[0].message == "电工 1级：超过公示的 3 级"
    assert result.reasons[0].element == "电工 1级"


def test_an_unknown_name_in_a_let_is_reported(tmp_path: object) -> None:
    from pathlib import Path

    folder = pack_variant(Path(str(tmp_path)), PACKS / "tabular", "variant",
                          [("pub: find(published,", "pub: find(publishd,")])
    assert "unknown-name" in problem_codes(folder)


def test_a_table_column_that_cannot_be_summed_is_reported(tmp_path: object) -> None:
    from pathlib import Path

    folder = pack_variant(Path(str(tmp_path)), PACKS / "tabular", "variant",
                          [("{id: name, label: 名称, expr: row.name, total: \"'合计'\"}",
                            "{id: name, label: 名称, expr: row.name, total: sum}")])
    assert "type-mismatch" in problem_codes(folder)


def evaluate_groups(groups: list[dict[str, object]]) -> skillcert.DecisionResult:
    return skillcert.load(PACKS).evaluate("tabular/groups", {"groups": groups}, as_of=AS_OF)


def test_each_rule_without_outcome_lists_failures_but_decides_nothing_and_collects_the_passing() -> None:
    result = evaluate_groups([
        {"name": "甲组", "members": [{"who": "张", "score": 70}]},
        {"name": "乙组", "members": [{"who": "李", "score": 50}, {"who": "王", "score": 59}]},
        {"name": "丙组"},
    ])
    assert result.outcome == "some_passed"
    assert result.reasons[0].rule == "some"  # the deciding reason comes first
    others = [(r.rule, r.outcome, r.message) for r in result.reasons[1:]]
    assert others == [
        ("group_checks[1].low_score", None, "乙组：李：50 分，不足 60 分"),
        ("group_checks[1].low_score", None, "乙组：王：59 分，不足 60 分"),
        ("group_checks[2].not_empty", None, "丙组：没有成员"),
    ]
    assert result.checks["group_checks"] == [
        {"element": "甲组", "passed": True, "reasons": []},
        {"element": "乙组", "passed": False, "reasons": ["李：50 分，不足 60 分", "王：59 分，不足 60 分"]},
        {"element": "丙组", "passed": False, "reasons": ["没有成员"]},
    ]


def test_collected_name_drives_other_rules() -> None:
    assert evaluate_groups([{"name": "丙组"}]).outcome == "none_passed"
    assert evaluate_groups([]).outcome == "none_passed"


def test_per_element_verdicts_are_in_the_report_and_json() -> None:
    result = evaluate_groups([{"name": "甲组", "members": [{"who": "张", "score": 70}]}, {"name": "丙组"}])
    text = render_text(result)
    assert "[通过] 甲组" in text and "[不通过] 丙组：没有成员" in text
    assert '"checks"' in result.to_json()


def test_a_template_in_a_nested_each_may_use_its_element(tmp_path: object) -> None:
    from pathlib import Path

    folder = pack_variant(Path(str(tmp_path)), PACKS / "tabular", "variant",
                          [('message: "{m.score} 分，不足 {pass_mark} 分"', 'message: "{m.scor} 分"')])
    assert "unknown-name" in problem_codes(folder)
