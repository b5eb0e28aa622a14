"""skillcert.runtime.facts: facts are checked against the decision's inputs before anything runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import skillcert
from skillcert.compiler.model import Decision
from skillcert.errors import FactsError
from skillcert.runtime.facts import label_of_path, validate_facts
from skillcert.source.loader import load_text
from skillcert_testutil import PACKS, POLICIES, mini_facts


@pytest.fixture(scope="module")
def decision() -> Decision:
    return skillcert.load(PACKS).decision("mini/check")


def problems_of(decision: Decision, facts: Any, source: Any = None) -> list[str]:
    with pytest.raises(FactsError) as info:
        validate_facts(decision, facts, source)
    assert info.value.code == "facts-invalid"
    return [str(p) for p in info.value.problems]


def without(key: str) -> dict[str, Any]:
    facts = mini_facts()
    del facts[key]
    return facts


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(without("applied_on"), ["applied_on: facts-invalid: 缺少必填项 applied_on(收到申报材料日期)"],
                     id="missing-required"),
        pytest.param(mini_facts(person_times="many"),
                     ["person_times: facts-invalid: person_times(累计培训评价人次) 应是整数,收到 'many'"],
                     id="text-for-integer"),
        pytest.param(mini_facts(person_times="1.5"),
                     ["person_times: facts-invalid: person_times(累计培训评价人次) 应是整数,收到 '1.5'"],
                     id="float-looking-string-for-integer"),
        pytest.param(mini_facts(person_times=-1),
                     ["person_times: facts-invalid: person_times(累计培训评价人次) 应不小于 0,收到 -1"],
                     id="integer-below-min"),
        pytest.param(mini_facts(findings={"posts_missing": 11}),
                     ["findings.posts_missing: facts-invalid: findings.posts_missing(缺少的岗位数) 应不大于 10,收到 11"],
                     id="nested-above-max"),
        pytest.param(mini_facts(findings={"posts_missing": "two"}),
                     ["findings.posts_missing: facts-invalid: findings.posts_missing(缺少的岗位数) 应是整数,收到 'two'"],
                     id="nested-wrong-type"),
        pytest.param(mini_facts(aplied_on="2025-05-20"),
                     ["aplied_on: facts-invalid: 未知的输入 'aplied_on' (did you mean 'applied_on'?)"],
                     id="unknown-key"),
        pytest.param(mini_facts(findings={"post_missing": 1}),
                     ["findings.post_missing: facts-invalid: 未知的输入 'findings.post_missing' "
                      "(did you mean 'posts_missing'?)"],
                     id="unknown-nested-key"),
        pytest.param(mini_facts(kind="private_school"),
                     ["kind: facts-invalid: kind(机构类型) 的值 'private_school' 不在可选值中:"
                      "school(技工院校)、org(社会培训评价组织)"],
                     id="enum-value-not-allowed"),
        pytest.param(mini_facts(applied_on="tomorrow"),
                     ["applied_on: facts-invalid: applied_on(收到申报材料日期):应是日期 YYYY-MM-DD,收到 'tomorrow'"],
                     id="date-that-is-not-a-date"),
        pytest.param(mini_facts(applied_on="2025-02-30"),
                     ["applied_on: facts-invalid: applied_on(收到申报材料日期):不存在的日期 '2025-02-30'"],
                     id="impossible-date"),
        pytest.param(mini_facts(registered_in_city="yes"),
                     ["registered_in_city: facts-invalid: registered_in_city(在本市登记注册) 应是 true 或 false,收到 'yes'"],
                     id="yes-is-not-a-bool"),
        pytest.param(mini_facts(note="备" * 21), ["note: facts-invalid: note(备注) 超过 20 个字符"], id="text-too-long"),
        pytest.param(mini_facts(materials="letter"),
                     ["materials: facts-invalid: materials(已提交材料) 应是列表,收到 'letter'"], id="list-expected"),
        pytest.param(mini_facts(findings=[]),
                     ["findings: facts-invalid: findings(评估发现) 应是映射(键: 值),收到 []"], id="record-expected"),
        pytest.param(mini_facts(banks=[{"occupation": "电工", "level": 9, "theory_sets": 3, "skill_sets": 3}]),
                     ["banks[0].level: facts-invalid: banks[0].level(等级) 应不大于 5,收到 9"],
                     id="field-of-a-list-element"),
    ],
)
def test_bad_facts_are_refused_naming_key_and_label(decision: Decision, facts: dict[str, Any],
                                                    expected: list[str]) -> None:
    assert problems_of(decision, facts) == expected


def test_problem_messages_show_values_as_written_not_python_reprs(decision: Decision) -> None:
    # YAML `person_times: 1.5` loads as Decimal('1.5'), `note: 2025-06-30` as a date; people wrote 1.5 and 2025-06-30.
    doc = load_text("kind: org\nexpires_on: 2025-06-30\napplied_on: 2025-05-20\nperson_times: 1.5\n"
                    "note: 2025-06-30\n", "facts.yaml")
    lines = problems_of(decision, doc.data, doc.source)
    assert lines[0].startswith("facts.yaml:4:15: facts-invalid: person_times(累计培训评价人次) 应是整数")
    assert lines[0].endswith("1.5")
    assert lines[1].startswith("facts.yaml:5:7: facts-invalid: note(备注)")
    assert lines[1].endswith("2025-06-30")
    for line in lines:
        assert "Decimal(" not in line and "datetime" not in line


def test_decimal_input_refuses_text_and_bool(decision: Decision) -> None:
    assert problems_of(decision, mini_facts(fee="abc")) == ["fee: facts-invalid: fee(收费标准(元)):应是数值,收到 'abc'"]
    assert len(problems_of(decision, mini_facts(fee=True))) == 1


def test_decimal_input_accepts_exact_text_and_numbers(decision: Decision) -> None:
    for given in ("12.30", Decimal("12.30"), 12.3):
        checked = validate_facts(decision, mini_facts(fee=given))
        assert checked["fee"] == Decimal("12.3") and isinstance(checked["fee"], Decimal)


def test_date_with_a_time_of_day_is_refused(decision: Decision) -> None:
    [problem] = problems_of(decision, mini_facts(applied_on=dt.datetime(2025, 5, 20, 10, 0)))
    assert problem.startswith("applied_on: facts-invalid: applied_on(收到申报材料日期):")


def test_every_problem_is_reported_at_once(decision: Decision) -> None:
    facts = without("applied_on")
    facts.update(person_times=-1, kind="x", aplied="2025-05-20")
    assert len(problems_of(decision, facts)) == 4


def test_facts_must_be_a_mapping(decision: Decision) -> None:
    with pytest.raises(FactsError) as info:
        validate_facts(decision, ["kind", "org"])
    assert info.value.code == "facts-invalid"


def test_defaults_are_filled_in(decision: Decision) -> None:
    checked = validate_facts(decision, mini_facts())
    assert checked["applied_on"] == dt.date(2025, 5, 20)
    assert checked["registered_in_city"] is True
    assert checked["fee"] is None
    assert checked["note"] == ""
    assert checked["materials"] is None
    assert checked["banks"] == []
    assert checked["findings"] == {"posts_missing": 0, "duties_unfulfilled": 0, "no_records": False,
                                   "cameras_missing": 0, "defects": 0, "contributed": False, "papers": 0}


def test_partial_record_gets_the_other_fields_defaults(decision: Decision) -> None:
    checked = validate_facts(decision, mini_facts(findings={"posts_missing": 2}))
    assert checked["findings"]["posts_missing"] == 2
    assert checked["findings"]["defects"] == 0


def test_default_lists_are_not_shared_between_evaluations(decision: Decision) -> None:
    first = validate_facts(decision, mini_facts())
    first["banks"].append({"occupation": "x"})
    first["findings"]["defects"] = 99
    second = validate_facts(decision, mini_facts())
    assert second["banks"] == []
    assert second["findings"]["defects"] == 0


def test_checked_facts_are_plain_values(decision: Decision) -> None:
    facts = mini_facts(banks=[{"occupation": "电工", "level": 3, "theory_sets": 3, "skill_sets": 3}])
    checked = validate_facts(decision, facts)
    assert type(checked["banks"][0]) is dict
    assert type(checked["findings"]) is dict


def test_yaml_facts_problems_carry_file_line_and_column(decision: Decision) -> None:
    text = (
        "kind: org\n"
        "expires_on: 2025-06-30\n"
        "applied_on: 2025-05-20\n"
        "person_times: -3\n"
        "findings:\n"
        "  posts_missing: 2\n"
        "  post_missing: 1\n"
        "banks:\n"
        "  - {occupation: 电工, level: 9, theory_sets: 1, skill_sets: 1}\n"
    )
    doc = load_text(text, "facts.yaml")
    assert problems_of(decision, doc.data, doc.source) == [
        "facts.yaml:4:15: facts-invalid: person_times(累计培训评价人次) 应不小于 0,收到 -3",
        "facts.yaml:7:3: facts-invalid: 未知的输入 'findings.post_missing' (did you mean 'posts_missing'?)",
        "facts.yaml:9:29: facts-invalid: banks[0].level(等级) 应不大于 5,收到 9",
    ]


def test_missing_key_in_a_yaml_file_points_at_the_enclosing_mapping(decision: Decision) -> None:
    doc = load_text("kind: org\nexpires_on: 2025-06-30\n", "facts.yaml")
    assert problems_of(decision, doc.data, doc.source) == [
        "facts.yaml:1:1: facts-invalid: 缺少必填项 applied_on(收到申报材料日期)"]


@pytest.mark.parametrize(
    ("path", "label"),
    [
        (("findings",), "评估发现"),
        (("findings", "posts_missing"), "缺少的岗位数"),
        (("banks", 0, "level"), "等级"),
        (("materials", 2), "已提交材料"),
        (("nothing",), ""),
    ],
)
def test_label_of_path(decision: Decision, path: tuple[Any, ...], label: str) -> None:
    assert label_of_path(decision, path) == label


def test_bundled_pack_facts_name_the_chinese_label() -> None:
    d = skillcert.load(POLICIES).decision("chongqing/renewal")
    with pytest.raises(FactsError) as info:
        validate_facts(d, {"institution_kind": "socal_org"})
    text = str(info.value)
    assert "institution_kind(机构类型)" in text
    assert "social_org(社会培训评价组织)" in text
    assert "registration_expires_on(备案有效期届满日)" in text
