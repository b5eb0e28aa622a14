"""A scorecard compiled into one function gives the same leaf scores as scoring line by line."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace
from decimal import Decimal

import skillcert
from skillcert.compiler.scorecode import compile_scorecard
from skillcert.runtime.context import Context
from skillcert.runtime.evaluate import compute, evaluate_checked
from skillcert.runtime.scoring import score_leaves
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
    assert fast is not None
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


def test_a_failing_compiled_card_falls_back_to_the_line_by_line_error() -> None:
    library = skillcert.load(POLICIES)
    decision = library.decision("chongqing/renewal")

    def broken(ctx: object) -> tuple[object, ...]:
        raise TypeError("boom")

    with_broken_card = replace(decision, scorecards={"total": replace(decision.scorecards["total"], fast=broken)})
    facts = library.check_facts("chongqing/renewal", {
        "institution_kind": "social_org", "registry_level": "city", "registration_expires_on": "2025-06-30",
        "applied_on": "2025-05-20", "registered_occupations": ["a"], "findings": {"posts_missing": 2}})
    result = evaluate_checked(with_broken_card, facts, AS_OF, detail=False)
    assert result.score == Decimal("95.2")
