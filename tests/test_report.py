"""skillcert.render.text: the Chinese text report and the JSON rendering of a result."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import skillcert
from skillcert.render.json import render_json
from skillcert.render.text import render_text
from skillcert.runtime.result import DecisionResult
from skillcert.source.loader import load_file
from skillcert_testutil import AS_OF, PACKS, POLICIES, mini_facts


@pytest.fixture(scope="module")
def library() -> skillcert.Library:
    return skillcert.load(PACKS)


def evaluate(library: skillcert.Library, as_of: dt.date = AS_OF, explain: bool = False, **facts: Any) -> DecisionResult:
    return library.evaluate("mini/check", mini_facts(**facts), as_of=as_of, explain=explain)


def test_text_report_shows_outcome_score_reasons_deadlines_and_digest(library: skillcert.Library) -> None:
    result = evaluate(library, findings={"posts_missing": 2, "contributed": True})
    text = render_text(result)
    assert "测试用延续备案" in text and "mini/check" in text
    assert "2025-05-25" in text
    assert "予以延续备案" in text and "pass" in text
    assert "98.7" in text
    assert "得分 98.7 分,达到 80 分" in text
    assert "缺一岗位" in text and "0.8" in text
    assert "处理期限" in text and "2025-06-18" in text
    assert result.pack_digest in text


def test_text_report_lists_findings_overridden_by_a_stronger_outcome(library: skillcert.Library) -> None:
    result = evaluate(library, as_of=dt.date(2025, 6, 10), applied_on="2025-06-05",
                      banks=[{"occupation": "电工", "level": 3, "theory_sets": 1, "skill_sets": 3}])
    text = render_text(result)
    assert result.outcome == "late"
    assert "逾期申请，按新设立受理" in text
    assert "应于 2025-05-31 前申请,2025-06-05 才申请" in text
    assert "电工 3级：理论试题 1 套,不足 3 套" in text
    assert text.index("应于 2025-05-31 前申请") < text.index("电工 3级")


def test_text_report_shows_reported_values_with_their_chinese_names(library: skillcert.Library) -> None:
    text = render_text(evaluate(library, kind="school"))
    assert "审核方式" in text and "资料审核" in text
    assert "待审核" in text


def test_text_report_without_score_has_no_score_line(library: skillcert.Library) -> None:
    text = render_text(evaluate(library, kind="school"))
    assert "得分" not in text


def test_text_report_shows_warnings(library: skillcert.Library) -> None:
    result = library.evaluate("mini/check", mini_facts(), as_of=dt.date(2024, 8, 1), allow_out_of_period=True)
    assert result.warnings
    assert result.warnings[0] in render_text(result)


def test_text_report_never_shows_python_reprs(library: skillcert.Library) -> None:
    result = evaluate(library, revoked=True, fee="12.50", materials=["letter"],
                      findings={"posts_missing": 3, "contributed": True, "papers": 1})
    text = render_text(result, explain=True)
    for leak in ("Decimal(", "datetime.date(", "None", "True", "False", "{'", "['"):
        assert leak not in text


def test_explain_shows_each_derived_value_and_its_expression(library: skillcert.Library) -> None:
    result = evaluate(library, explain=True)
    text = render_text(result, explain=True)
    assert "applied_on > apply_by" in text
    assert "add_days(expires_on, -lead_days)" in text
    assert result.explain is not None
    assert {step["name"] for step in result.explain} >= {"route", "late", "apply_by", "decision_due"}


def test_text_report_is_deterministic(library: skillcert.Library) -> None:
    facts: dict[str, Any] = {"findings": {"posts_missing": 2}, "materials": ["letter"]}
    assert render_text(evaluate(library, **facts)) == render_text(evaluate(library, **facts))


def test_json_rendering_is_the_result_json_and_a_newline(library: skillcert.Library) -> None:
    result = evaluate(library)
    text = render_json(result)
    assert text == result.to_json() + "\n"
    assert json.loads(text)["outcome"] == "pass"


def test_bundled_example_text_report() -> None:
    facts = load_file(POLICIES / "chongqing" / "examples" / "renewal-social-org.yaml").data
    result = skillcert.load(POLICIES).evaluate("chongqing/renewal", facts, as_of=AS_OF)
    text = render_text(result)
    assert "予以延续备案" in text
    assert "94.6" in text
    assert "2025-06-18" in text


def test_explain_says_which_holidays_a_working_day_count_went_across() -> None:
    facts = load_file(POLICIES / "fuzhou" / "examples" / "operations-violations.yaml").data
    result = skillcert.load(POLICIES).evaluate("fuzhou/operations", facts, as_of=AS_OF, explain=True)
    assert result.explain is not None
    plan = next(step for step in result.explain if step["name"] == "plan_due")
    assert plan["start"] == dt.date(2023, 10, 9)
    assert plan["days_off"] == [dt.date(2023, 9, 29), dt.date(2023, 9, 30)] + [dt.date(2023, 10, d) for d in range(1, 7)]
    assert plan["make_up_days"] == [dt.date(2023, 10, 7), dt.date(2023, 10, 8)]
    text = render_text(result, explain=True)
    assert "跨越法定节假日(不计入):2023-09-29 至 10-06(8 天);调休上班日(计入):2023-10-07、2023-10-08" in text
    results = next(step for step in result.explain if step["name"] == "results_due")
    assert results["days_off"] == [] and "其间没有法定节假日" in text
