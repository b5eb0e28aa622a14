"""A scorecard compiled into one function gives the same leaf scores as scoring line by line."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import skillcert
from skillcert.compiler.scorecode import compile_scorecard, compile_totals
from skillcert.runtime.context import Context
from skillcert.runtime.evaluate import compute, evaluate_checked
from skillcert.runtime.scoring import score_leaves
from skillcert.values import format_decimal
from skillcert_hostile import write_pack
from skillcert_testutil import POLICIES

AS_OF = dt.date(2025, 5, 25)


def test_bundled_scorecards_compile_to_one_function() -> None:
    decision = skillcert.load(POLICIES).decision("chongqing/renewal")
    assert decision.scorecards["total"].fast is not None


def test_compiled_scorecard_equals_line_by_line_on_random_findings() -> None:
    library = skillcert.load(POLICIES)
    decision = library.decision("chongqing/renewal")
    card = decision.scorecards["total"]
    fast = compile_scorecard(card, library._functions)
    totals = compile_totals(card, library._functions)
    assert fast is not None and totals is not None
    fields = decision.inputs["findings"].spec.fields
    rng = random.Random(3)
    for _ in range(200):
        findings = {n: (rng.random() < 0.3) if f.kind == "bool" else rng.randint(0, int(f.max or 4))
                    for n, f in fields.items() if f.kind in ("bool", "integer")}
        findings["question_source"] = rng.choice(["own", "center", "none"])
        facts = library.check_facts("chongqing/renewal", {
            "institution_kind": "social_org", "registry_level": "city", "registration_expires_on": "2025-06-30",
            "applied_on": "2025-05-20", "registered_occupations": ["a"], "findings": findings})
        ctx = Context(decision, facts, AS_OF, library.calendar_for(decision), library._functions, compute,
                      detail=False)
        slow = {leaf_id: score for leaf_id, (score, _) in score_leaves(ctx, card).items()}
        assert dict(zip(slow, fast(ctx), strict=True)) == slow
        assert all(isinstance(v, (Decimal, int)) for v in slow.values())
        # the totals function (scaled integers): equal values, the same text once formatted
        total, subtotals = totals(ctx)
        assert total == sum(slow.values(), Decimal(0)) and isinstance(total, Decimal)
        assert format_decimal(total) == format_decimal(sum(slow.values(), Decimal(0)))
        for cid, sub in zip(card.category_leaves, subtotals, strict=True):
            expected = sum((slow[leaf.id] for leaf in card.category_leaves[cid]), Decimal(0))
            assert sub == expected and format_decimal(sub) == format_decimal(expected)


def test_a_failing_compiled_card_falls_back_to_the_line_by_line_error() -> None:
    library = skillcert.load(POLICIES)
    decision = library.decision("chongqing/renewal")

    def broken(ctx: object) -> tuple[object, ...]:
        raise TypeError("boom")

    with_broken_card = replace(decision, scorecards={"total": replace(decision.scorecards["total"], fast=broken,
                                                                      totals=broken)})
    facts = library.check_facts("chongqing/renewal", {
        "institution_kind": "social_org", "registry_level": "city", "registration_expires_on": "2025-06-30",
        "applied_on": "2025-05-20", "registered_occupations": ["a"], "findings": {"posts_missing": 2}})
    result = evaluate_checked(with_broken_card, facts, AS_OF, detail=False)
    assert result.score == Decimal("95.2")


# ---- issue 11: a count or a `when` the checker could only type as "any" is checked the same on both paths


SCORECARD = """    scorecards:
      total:
        label: 得分
        max: 10
        source: 通知
        categories:
          - id: only
            label: 唯一一项
            max: 10
            source: 通知
            deduct:
              - {per: 1, count: "earliest(pluck(people, 'n'))", label: 按人数扣分}
              - {points: 1, when: "earliest(pluck(people, 'flag'))", label: 有标志}
    score: total
"""
PEOPLE = "{type: list, label: 人员, default: [], items: {type: record, label: 人员, fields: " \
         "{n: {type: integer, label: 数}, flag: {type: bool, label: 标志}}}}"


@pytest.mark.parametrize("detail", [True, False], ids=["line-by-line", "compiled"])
@pytest.mark.parametrize(("person", "answer"), [
    ({"n": 3, "flag": True}, "outcome: bad"),  # 10 − 3 − 1 = 6
    ({"n": 1, "flag": False}, "outcome: ok"),  # 9
    ({"n": "3", "flag": False}, "expression-failed: 规则 r(通知):评分项「按人数扣分」的次数"),
    ({"n": 0, "flag": [1]}, "expression-failed: 规则 r(通知):条件 `earliest(pluck(people, 'flag'))` 应得出真或假"),
])
def test_counts_and_conditions_typed_any_are_checked_on_both_paths(tmp_path: Path, detail: bool,
                                                                   person: dict[str, Any], answer: str) -> None:
    """`earliest(pluck(…))` is typed "any"; past the facts check (by a plugin, a hand-built context) its value may
    be a text or a list: the compiled card and the line-by-line path refuse it alike, in both evaluators."""
    library = skillcert.load(write_pack(tmp_path, inputs={"people": PEOPLE}, extra=SCORECARD, when="total < pass_min",
                                        parameters={"pass_min": "{value: 8, label: 及格, source: 通知}"}))
    decision = library.decision("hostile/check")
    for reference in (False, True):
        try:
            result = evaluate_checked(decision, {"people": [person]}, AS_OF, calendar=library.calendar_for(decision),
                                      reference=reference, detail=detail)
            got = f"outcome: {result.outcome}"
        except skillcert.SkillcertError as exc:
            got = f"{exc.code}: {exc.message}"
        assert got.startswith(answer), (reference, got)
