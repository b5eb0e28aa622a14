"""skillcert.runtime.evaluate: rules, precedence, scorecards, deadlines and the period of validity, on mini/check."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import skillcert
from skillcert.errors import EvaluationError, OutOfPeriodError
from skillcert.lang.calendar import HolidayCalendar, YearData, builtin_calendar
from skillcert.library import Library
from skillcert.runtime.evaluate import evaluate_checked
from skillcert.runtime.result import DecisionResult
from skillcert_hostile import write_pack
from skillcert_testutil import (
    AS_OF,
    MINI,
    PACKS,
    POLICIES,
    SMALL,
    mini_facts,
    pack_variant,
    problem_codes,
    problem_lines,
)

D = dt.date
BANK_OK = {"occupation": "焊工", "level": 4, "theory_sets": 5, "skill_sets": 5}


@pytest.fixture(scope="module")
def library() -> Library:
    return skillcert.load(PACKS)


def evaluate(library: Library, as_of: dt.date = AS_OF, **facts: Any) -> DecisionResult:
    return library.evaluate("mini/check", mini_facts(**facts), as_of=as_of)


def items_of(result: DecisionResult) -> dict[str, Decimal]:
    assert result.scorecard is not None
    return {node.id: node.score for cat in result.scorecard["categories"] for node in cat.walk()}


# ---- outcomes, precedence and reasons


def test_clean_facts_fire_only_the_score_band(library: Library) -> None:
    result = evaluate(library)
    assert result.outcome == "pass"
    assert result.outcome_label == "予以延续备案"
    assert result.score == Decimal("98")
    assert [r.rule for r in result.reasons] == ["score_band"]
    assert result.reasons[0].message == "得分 98 分,达到 80 分"
    assert result.reasons[0].source == "§三"
    assert result.warnings == []


def test_strongest_outcome_wins_and_reasons_are_sorted_strongest_first(library: Library) -> None:
    result = evaluate(library, as_of=D(2025, 6, 10), applied_on="2025-06-05", materials=["letter"],
                      banks=[{"occupation": "电工", "level": 3, "theory_sets": 1, "skill_sets": 3}])
    assert result.outcome == "late"
    assert [(r.rule, r.outcome) for r in result.reasons] == [
        ("late_application", "late"),
        ("bank_size[0].theory", "incomplete"),
        ("materials.form", "incomplete"),
        ("materials.bank_notes", "incomplete"),
        ("score_band", "pass"),
    ]
    assert [r.rule for r in result.deciding_reasons] == ["late_application"]


def test_first_outcome_in_precedence_beats_a_later_rule(library: Library) -> None:
    result = evaluate(library, revoked=True, blacklisted=True)
    assert result.outcome == "refuse"
    assert [r.outcome for r in result.reasons] == ["refuse", "ineligible", "pass"]


def test_equal_rank_outcomes_firing_together_is_an_outcome_conflict(tmp_path: Path) -> None:
    folder = pack_variant(tmp_path, SMALL, "conflict", [("      - id: score_band\n", (
        "      - id: also_rectify\n        kind: trigger\n        when: scored\n        outcome: rectify\n"
        "        message: 同时整改\n        source: §三\n      - id: score_band\n"))])
    library = skillcert.load(tmp_path)
    facts = {"kind": "social_org", "registration_expires_on": "2025-06-30", "applied_on": "2025-05-20"}
    with pytest.raises(EvaluationError) as info:
        library.evaluate("conflict/renewal", facts, as_of=AS_OF)
    assert info.value.code == "outcome-conflict"
    assert "rectify" in info.value.message and "renew" in info.value.message
    assert folder.is_dir()


def test_default_outcome_when_no_rule_fires(library: Library) -> None:
    result = evaluate(library, kind="school")
    assert result.outcome == "pending"
    assert result.outcome_label == "待审核"
    assert result.reasons == []
    assert result.score is None
    assert result.scores == {"internal": None, "practice": None, "bonus": None}
    assert result.scorecard is None


def test_no_rule_and_no_default_outcome_is_an_error(tmp_path: Path) -> None:
    pack_variant(tmp_path, SMALL, "nodefault")
    library = skillcert.load(tmp_path)
    facts = {"kind": "employer", "registration_expires_on": "2025-06-30", "applied_on": "2025-05-20"}
    with pytest.raises(EvaluationError) as info:
        library.evaluate("nodefault/renewal", facts, as_of=AS_OF)
    assert info.value.code == "no-outcome"


# ---- conditions, any, not, each


def test_conditions_report_each_failing_leaf(library: Library) -> None:
    result = evaluate(library, registered_in_city=False, blacklisted=True)
    assert result.outcome == "ineligible"
    failing = [(r.rule, r.message, r.source) for r in result.reasons if r.outcome == "ineligible"]
    assert failing == [
        ("basic.registered", "未在本市登记注册", "一(一)1"),
        ("basic.clean", "已列入严重失信名单", "一(一)3"),
    ]


def test_any_fails_only_when_every_branch_fails_and_reports_its_message(library: Library) -> None:
    assert evaluate(library, person_times=5, recognized_brand=True).outcome == "pass"
    assert evaluate(library, person_times=100).outcome == "pass"
    result = evaluate(library, person_times=5)
    assert [(r.rule, r.message, r.source) for r in result.reasons if r.outcome == "ineligible"] == [
        ("basic", "既未达到 100 人次,也不是社会认可的品牌", "一(一)")]


def test_any_without_a_message_lists_every_failing_branch(tmp_path: Path) -> None:
    pack_variant(tmp_path, MINI, "mini", [("              message: 既未达到 {min_person_times} 人次,也不是社会认可的品牌\n", "")])
    result = skillcert.load(tmp_path).evaluate("mini/check", mini_facts(person_times=5), as_of=AS_OF)
    [reason] = [r for r in result.reasons if r.outcome == "ineligible"]
    assert "累计培训评价不足 100 人次" in reason.message
    assert "非社会认可的品牌" in reason.message


def test_each_names_every_failing_element(library: Library) -> None:
    banks = [
        {"occupation": "电工", "level": 3, "theory_sets": 1, "skill_sets": 2},
        BANK_OK,
        {"occupation": "钳工", "level": 5, "theory_sets": 3, "skill_sets": 0},
    ]
    result = evaluate(library, banks=banks)
    assert result.outcome == "incomplete"
    failing = [(r.rule, r.element, r.message) for r in result.reasons if r.outcome == "incomplete"]
    assert failing == [
        ("bank_size[0].theory", "电工 3级", "电工 3级：理论试题 1 套,不足 3 套"),
        ("bank_size[0].skill", "电工 3级", "电工 3级：技能试题 2 套,不足 3 套"),
        ("bank_size[2].skill", "钳工 5级", "钳工 5级：技能试题 0 套,不足 3 套"),
    ]
    assert result.as_dict()["reasons"][0]["element"] == "电工 3级"


def test_each_over_an_empty_list_gives_no_reason(library: Library) -> None:
    assert evaluate(library, banks=[]).reasons[0].rule == "score_band"
    assert evaluate(library, banks=[BANK_OK]).outcome == "pass"


def test_messages_show_enum_labels_lists_decimals_and_empty_values(library: Library) -> None:
    result = evaluate(library, revoked=True, materials=["letter", "form"], fee=Decimal("12.50"))
    assert result.reasons[0].message == "社会培训评价组织的备案已被撤销(已提交:letter、form;收费 12.5 元)"
    result = evaluate(library, revoked=True)
    assert result.reasons[0].message == "社会培训评价组织的备案已被撤销(已提交:(空);收费 (空) 元)"


# ---- scorecards


@pytest.mark.parametrize(
    ("defects", "score", "outcome"),
    [
        (0, "98", "pass"),
        (45, "80", "pass"),          # exactly at min → that band
        (46, "79.6", "rectify"),
        (95, "60", "rectify"),       # exactly at the lower band's min
        (96, "59.6", "fail"),
        (300, "10", "fail"),         # the item floors at 0; the other categories keep their points
    ],
)
def test_band_edges(library: Library, defects: int, score: str, outcome: str) -> None:
    result = evaluate(library, findings={"defects": defects})
    assert result.score == Decimal(score)
    assert result.outcome == outcome


def test_exact_decimals_land_exactly_on_the_band_edge(library: Library) -> None:
    # 100 − 2 (bonus not earned) − 0.4 × 3 − 0.4 × 42 = 80, exactly.
    result = evaluate(library, findings={"posts_missing": 3, "defects": 42})
    assert isinstance(result.score, Decimal)
    assert result.score == Decimal("80")
    assert result.outcome == "pass"
    assert result.scores == {"internal": Decimal("8.8"), "practice": Decimal("71.2"), "bonus": Decimal("0")}
    assert '"score": 80,' in result.to_json()


def test_item_floors_at_zero_and_never_spills_into_another_item(library: Library) -> None:
    result = evaluate(library, findings={"cameras_missing": 5, "duties_unfulfilled": 10, "no_records": True})
    items = items_of(result)
    assert items["cameras"] == 0
    assert items["duties"] == 0
    assert items["posts"] == 4
    assert items["posts_duties"] == 4
    assert result.scores["internal"] == Decimal("4")
    assert result.score == Decimal("92")


def test_deduction_lines_are_listed_on_the_item(library: Library) -> None:
    result = evaluate(library, findings={"duties_unfulfilled": 1, "no_records": True})
    assert result.scorecard is not None
    duties = next(n for cat in result.scorecard["categories"] for n in cat.walk() if n.id == "duties")
    assert duties.score == Decimal("1")
    assert duties.lines == [
        {"label": "一项未尽职责", "count": 1, "per": Decimal("0.5"), "points": Decimal("0.5")},
        {"label": "无履职记录", "points": Decimal("0.5")},
    ]


def test_bonus_is_capped_at_its_max(library: Library) -> None:
    result = evaluate(library, findings={"contributed": True, "papers": 3})  # 1.5 + 3 × 0.5 = 3 > 2
    assert items_of(result)["standards"] == Decimal("2")
    assert result.scores["bonus"] == Decimal("2")
    assert result.score == Decimal("100")


def test_bonus_below_its_max_counts_in_full(library: Library) -> None:
    result = evaluate(library, findings={"papers": 1})
    assert result.scores["bonus"] == Decimal("0.5")
    assert result.score == Decimal("98.5")


# ---- deadlines


def test_deadlines_in_each_unit(library: Library) -> None:
    result = evaluate(library, as_of=D(2025, 2, 5), expires_on="2025-03-31", applied_on="2025-01-31")
    assert result.deadlines == {
        "apply_by": D(2025, 3, 1),        # date: add_days(expires_on, -30)
        "reply_due": D(2025, 2, 10),      # days: 10
        "decision_due": D(2025, 3, 3),    # working_days: 20, across the 2025 Spring Festival and its 调休
        "review_by": D(2025, 2, 28),      # months: 1, clamped to the end of February
        "renewed_until": D(2030, 3, 31),  # years: 5, when outcome == 'pass'
    }


def test_years_from_29_february_land_on_28_february(library: Library) -> None:
    result = evaluate(library, as_of=D(2024, 9, 2), expires_on="2024-02-29", applied_on="2024-01-10")
    assert result.deadlines["renewed_until"] == D(2029, 2, 28)


def test_deadline_with_a_when_on_the_outcome_is_empty_otherwise(library: Library) -> None:
    result = evaluate(library, findings={"defects": 46})
    assert result.outcome == "rectify"
    assert result.deadlines["renewed_until"] is None


def test_working_days_across_2024_national_day(library: Library) -> None:
    result = evaluate(library, as_of=D(2024, 9, 30), expires_on="2024-12-31", applied_on="2024-09-27")
    assert result.deadlines["decision_due"] == D(2024, 10, 30)  # not 10-25: 10-01..07 off, 09-29 and 10-12 worked


def test_working_day_deadline_in_an_unknown_year_is_empty_with_a_warning(library: Library) -> None:
    result = evaluate(library, as_of=D(2031, 5, 25), expires_on="2031-06-30", applied_on="2031-05-20")
    assert result.deadlines["decision_due"] is None
    assert result.deadlines["reply_due"] == D(2031, 5, 30)
    assert result.outcome == "pass"
    assert len(result.warnings) == 1
    assert "decision_due" in result.warnings[0] and "2031" in result.warnings[0]


def test_rule_that_needs_an_unknown_calendar_year_stops_with_calendar_year_unknown(library: Library) -> None:
    with pytest.raises(EvaluationError) as info:
        evaluate(library, as_of=D(2031, 5, 25), expires_on="2031-06-30", applied_on="2031-05-20",
                 check_overdue=True)
    assert info.value.code == "calendar-year-unknown"
    assert "decision_overdue" in info.value.message and "2031" in info.value.message


def test_pack_calendar_section_makes_the_year_known(tmp_path: Path) -> None:
    pack_variant(tmp_path, MINI, "mini", append=(
        "\ncalendar:\n"
        "  - year: 2031\n"
        "    holidays: [2031-01-01, {from: 2031-05-29, to: 2031-05-30, name: 测试假期}]\n"
        "    workdays: []\n"
        "    source: 测试数据\n"))
    result = skillcert.load(tmp_path).evaluate("mini/check", mini_facts(expires_on="2031-06-30", applied_on="2031-05-20"),
                                            as_of=D(2031, 5, 25))
    assert result.deadlines["decision_due"] == D(2031, 6, 19)  # 4 weeks later, plus the two days off
    assert result.warnings == []


def test_extra_calendar_years_given_to_the_library_are_used() -> None:
    year = YearData(2031, frozenset({D(2031, 1, 1), D(2031, 6, 2)}), frozenset(), "--calendar")
    library = skillcert.load(PACKS, calendar_years=[year])
    result = library.evaluate("mini/check", mini_facts(expires_on="2031-06-30", applied_on="2031-05-20"),
                              as_of=D(2031, 5, 25))
    assert result.deadlines["decision_due"] == D(2031, 6, 18)


# ---- period of validity


@pytest.mark.parametrize("as_of", [D(2024, 8, 31), D(2036, 1, 1)])
def test_evaluation_outside_the_period_is_refused(library: Library, as_of: dt.date) -> None:
    with pytest.raises(OutOfPeriodError) as info:
        evaluate(library, as_of=as_of)
    assert info.value.code == "out-of-period"
    assert "2024-09-01" in info.value.message and "2035-12-31" in info.value.message


@pytest.mark.parametrize("as_of", [D(2024, 9, 1), D(2035, 12, 31)])
def test_first_and_last_day_of_the_period_are_inside(library: Library, as_of: dt.date) -> None:
    assert evaluate(library, as_of=as_of).warnings == []


def test_out_of_period_allowed_gives_a_warning(library: Library) -> None:
    result = library.evaluate("mini/check", mini_facts(), as_of=D(2024, 8, 1), allow_out_of_period=True)
    assert result.outcome == "pass"
    assert len(result.warnings) == 1
    assert "2024-08-01" in result.warnings[0] and "mini/check" in result.warnings[0]


def test_decision_may_narrow_the_pack_period(tmp_path: Path) -> None:
    pack_variant(tmp_path, MINI, "mini", [
        ("    title: 测试用延续备案\n", "    title: 测试用延续备案\n    valid_from: 2025-01-01\n")])
    library = skillcert.load(tmp_path)
    with pytest.raises(OutOfPeriodError):
        library.evaluate("mini/check", mini_facts(), as_of=D(2024, 12, 31))
    assert library.evaluate("mini/check", mini_facts(), as_of=D(2025, 1, 1)).outcome == "pass"


# ---- checklists and reported values


def test_checklist_rows_show_what_was_provided(library: Library) -> None:
    result = evaluate(library, materials=["letter", "form", "bank_notes"])
    rows = result.checklists["materials"]["items"]
    assert [(r["id"], r["required"], r["provided"]) for r in rows] == [
        ("letter", True, True), ("form", True, True), ("bank_notes", True, True)]
    assert result.outcome == "pass"


def test_checklist_item_not_required_is_not_a_reason(library: Library) -> None:
    result = evaluate(library, kind="school", materials=["letter", "form"])
    rows = result.checklists["materials"]["items"]
    assert [(r["id"], r["required"], r["provided"]) for r in rows] == [
        ("letter", True, True), ("form", True, True), ("bank_notes", False, False)]
    assert result.outcome == "pending"


def test_checklist_without_provided_list_is_not_checked(library: Library) -> None:
    result = evaluate(library)
    assert [r["provided"] for r in result.checklists["materials"]["items"]] == [None, None, None]
    assert result.outcome == "pass"


def test_reported_values_are_in_the_result(library: Library) -> None:
    result = evaluate(library)
    assert result.reported == {"route": "scorecard", "late": False}
    assert result.as_dict()["route"] == "scorecard"


# ---- determinism


def test_same_input_gives_byte_identical_json_twice(library: Library) -> None:
    facts: dict[str, Any] = dict(findings={"posts_missing": 2, "defects": 3, "contributed": True},
                                 banks=[BANK_OK], materials=["letter"])
    first = evaluate(library, **facts).to_json()
    second = evaluate(library, **facts).to_json()
    third = skillcert.load(PACKS).evaluate("mini/check", mini_facts(**facts), as_of=AS_OF).to_json()
    assert first.encode("utf-8") == second.encode("utf-8") == third.encode("utf-8")


def test_facts_given_to_evaluate_are_not_modified(library: Library) -> None:
    facts = mini_facts(findings={"defects": 3})
    before = repr(facts)
    library.evaluate("mini/check", facts, as_of=AS_OF)
    assert repr(facts) == before


def _outcome_variant(tmp_path: Path, outcome: str) -> Path:
    return pack_variant(tmp_path, MINI, "variant", [(
        "        when: revoked\n        outcome: refuse\n", f"        when: revoked\n        outcome: {outcome}\n")])


def test_an_outcome_may_be_an_expression_over_the_facts(tmp_path: Path) -> None:
    folder = _outcome_variant(tmp_path, "\"'refuse' if person_times > 0 else 'late'\"")
    library = skillcert.load(folder.parent)
    assert library.evaluate("variant/check", mini_facts(revoked=True), as_of=AS_OF).outcome == "refuse"
    result = library.evaluate("variant/check", mini_facts(revoked=True, person_times=0), as_of=AS_OF)
    assert result.outcome == "late" and result.reasons[0].rule == "revoked" and result.reasons[0].outcome == "late"


def test_an_outcome_expression_with_an_undeclared_code_is_reported(tmp_path: Path) -> None:
    folder = _outcome_variant(tmp_path, "\"'refuse' if person_times > 0 else 'lat'\"")
    assert "unknown-outcome" in problem_codes(folder)


def test_an_outcome_naming_neither_a_code_nor_a_name_is_an_unknown_outcome(tmp_path: Path) -> None:
    folder = _outcome_variant(tmp_path, "refuze")
    lines = problem_lines(folder)
    assert any("unknown-outcome" in line and "did you mean 'refuse'" in line for line in lines), lines


# ---- issue 11: years the holiday calendar does not know, dates past 9999


def _known_to_2026() -> HolidayCalendar:
    builtin = builtin_calendar()
    return HolidayCalendar({y: builtin.year_data(y) for y in builtin.known_years if y <= 2026})


OPERATIONS_FACTS: dict[str, Any] = {
    "advertising_text": "本机构开展职业技能等级认定,欢迎报名。",
    "plan_submitted_on": "2026-11-20", "assessment_starts_on": "2026-12-21", "assessment_ends_on": "2026-12-23",
}


def operations(facts: dict[str, Any], as_of: dt.date, reference: bool = False) -> DecisionResult:
    """fuzhou/operations on a calendar that knows 2004–2026 only, as chinesecalendar 1.11 ships it (so that the test
    keeps its meaning once a later release adds 2027)."""
    library = Library(POLICIES, reference=reference)
    decision = library.decision("fuzhou/operations")
    return evaluate_checked(decision, library.check_facts("fuzhou/operations", {**OPERATIONS_FACTS, **facts}), as_of,
                            calendar=_known_to_2026(), reference=reference, explain=True, allow_out_of_period=True)


@pytest.mark.parametrize("reference", [False, True], ids=["bytecode", "reference"])
def test_a_rule_whose_answer_the_unknown_year_cannot_change_still_decides(reference: bool) -> None:
    """Results filed on 2026-12-30 for a deadline of 10 working days after 2026-12-23: that deadline is 2027-01-04
    at the earliest (six working days are left in 2026), whatever 2027's holidays are — on time."""
    result = operations({"results_filed_on": "2026-12-30"}, D(2027, 1, 20), reference)
    assert result.outcome == "compliant" and result.reasons == []
    assert result.deadlines == {"plan_due": D(2026, 12, 7), "results_due": None}
    assert len(result.warnings) == 1
    assert "results_due" in result.warnings[0] and "2027 年的法定节假日安排未知" in result.warnings[0]
    assert json.loads(result.to_json())["deadlines"]["results_due"] is None
    assert result.explain is not None
    assert next(s for s in result.explain if s["name"] == "results_due")["value"] is None


@pytest.mark.parametrize("reference", [False, True], ids=["bytecode", "reference"])
def test_results_not_yet_filed_are_not_yet_late_before_the_earliest_possible_deadline(reference: bool) -> None:
    result = operations({}, D(2027, 1, 2), reference)
    assert result.outcome == "compliant" and result.deadlines["results_due"] is None


@pytest.mark.parametrize(("facts", "as_of"), [
    ({"results_filed_on": "2027-01-10"}, D(2027, 1, 20)),   # on time if 2027 starts with few holidays, else late
    ({}, D(2027, 2, 1)),                                     # not filed: late, unless 2027 has a long holiday
])
@pytest.mark.parametrize("reference", [False, True], ids=["bytecode", "reference"])
def test_a_rule_whose_answer_depends_on_the_unknown_year_stops_with_calendar_year_unknown(
        facts: dict[str, Any], as_of: dt.date, reference: bool) -> None:
    with pytest.raises(EvaluationError) as info:
        operations(facts, as_of, reference)
    assert info.value.code == "calendar-year-unknown"
    assert "results_" in info.value.message and "2027 年的法定节假日安排未知" in info.value.message


def test_a_deadline_past_9999_is_empty_with_a_warning(library: Library) -> None:
    result = library.evaluate("mini/check", mini_facts(expires_on="9999-06-30", applied_on="9999-05-20"),
                              as_of=D(9999, 1, 4), allow_out_of_period=True)
    # renewed_until = expires_on + 5 years; decision_due is in an unknown year (9999) as before
    assert result.outcome == "pass"
    assert result.deadlines["renewed_until"] is None and result.deadlines["review_by"] == D(9999, 6, 20)
    assert any("renewed_until" in w and "9999-06-30 加 5 年超出可表示的日期范围" in w for w in result.warnings)


def test_a_rule_that_needs_a_deadline_past_9999_stops_with_date_out_of_range(library: Library) -> None:
    """apply_by = expires_on − 30 days: before year 1, it cannot be represented; the rule `late` needs it."""
    with pytest.raises(EvaluationError) as info:
        evaluate(library, as_of=D(2025, 5, 25), expires_on="0001-01-10")
    assert info.value.code == "date-out-of-range"
    assert "late_application" in info.value.message and "超出可表示的日期范围" in info.value.message


@pytest.mark.parametrize("reference", [False, True], ids=["bytecode", "reference"])
def test_a_reported_uncertain_date_is_null_with_a_warning_and_its_decided_comparisons_hold(
        tmp_path: Path, reference: bool) -> None:
    """A pack knows 2098 (its own calendar section), not 2099: `add_working_days` into 2099 is an uncertain date in
    expressions too. Far from any year chinesecalendar will ship."""
    root = write_pack(tmp_path, inputs={"d": "{type: date, label: 日期}", "filed": "{type: date, label: 报送日}"},
                      derived={"due": "add_working_days(d, ten)", "late": "filed > due"},
                      parameters={"ten": "{value: 10, label: 工作日数, source: 通知}"},
                      when="late", extra="    report: [due, late]")
    pack = root / "hostile" / "pack.yaml"
    pack.write_text(pack.read_text(encoding="utf-8") + "calendar:\n  - year: 2098\n    holidays: [2098-01-01]\n"
                    "    workdays: []\n    source: 测试数据\n", encoding="utf-8")
    library = Library(root, reference=reference)
    result = library.evaluate("hostile/check", {"d": "2098-12-23", "filed": "2098-12-30"}, as_of=D(2025, 1, 6),
                              explain=True)
    assert result.outcome == "ok" and result.reported == {"due": None, "late": False}
    assert len(result.warnings) == 1 and result.warnings[0].startswith("due 无法计算:2099 年的法定节假日安排未知")
    assert "计算 2098-12-23 之后第 10 个工作日时需要该年数据" in result.warnings[0]
    assert result.explain is not None and next(s for s in result.explain if s["name"] == "due")["value"] is None
    with pytest.raises(EvaluationError) as info:
        library.evaluate("hostile/check", {"d": "2098-12-23", "filed": "2099-01-10"}, as_of=D(2025, 1, 6))
    assert info.value.code == "calendar-year-unknown"


@pytest.mark.parametrize("reference", [False, True], ids=["bytecode", "reference"])
def test_a_rule_fires_when_the_upper_bound_of_a_count_back_decides_and_its_message_shows_the_bound(
        reference: bool) -> None:
    """Counting back from 2004-01-05 into 2003, which the calendar does not know: the plan was due on 2003-12-23
    or before, so a plan submitted on 2004-01-02 is late whatever 2003's holidays were."""
    facts = {"plan_submitted_on": "2004-01-02", "assessment_starts_on": "2004-01-05", "assessment_ends_on": "2004-01-06",
             "results_filed_on": "2004-01-07"}
    result = operations(facts, D(2004, 2, 1), reference)
    assert result.outcome == "violation" and [r.rule for r in result.reasons] == ["plan_late"]
    assert "实施计划应于 2003-12-23 或之前的某日(节假日安排未知)(认定开始 2004-01-05 前第 10 个工作日)前报送" \
        in result.reasons[0].message
    assert result.deadlines["plan_due"] is None
    assert any("plan_due" in w and "2003 年的法定节假日安排未知" in w for w in result.warnings)
