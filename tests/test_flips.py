"""Where a pack change flips an outcome (skillcert.analysis.flips): on the Chongqing band 80 → 85 and deduction
0.4 → 0.5, every example found really flips (evaluated again here with both packs) and is minimal in the search's
sense (stepping any changed input one unit back towards its seed gives the same outcome under both packs)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import skillcert
from skillcert.analysis.flips import FLIP_HEADER, Flip, changed_inputs, flip_examples, flip_sheet
from skillcert.analysis.impact import write_impact_xlsx
from skillcert.values import to_json
from skillcert_testutil import POLICIES, pack_copy

DECISION = "chongqing/renewal"
AS_OF = dt.date(2025, 5, 25)
BAND = ("renew_min_score: {value: 80,", "renew_min_score: {value: 85,")
POSTS = ("- {per: 0.4, count: findings.posts_missing, label: 缺一岗位及人员}",
         "- {per: 0.5, count: findings.posts_missing, label: 缺一岗位及人员}")
SEED = {"institution_kind": "social_org", "registry_level": "city", "registration_expires_on": dt.date(2025, 6, 30),
        "applied_on": dt.date(2025, 5, 20), "registered_occupations": ["4-01-05-01"],
        "assessed_occupations": ["4-01-05-01"]}


def chongqing_copy(root: Path, name: str, *edits: tuple[str, str]) -> skillcert.Library:
    return skillcert.load(pack_copy(root, name, POLICIES / "chongqing", *edits))


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, skillcert.Library]:
    root = tmp_path_factory.mktemp("flips")
    return {"old": chongqing_copy(root, "old"), "both": chongqing_copy(root, "both", BAND, POSTS),
            "posts": chongqing_copy(root, "posts", POSTS), "band": chongqing_copy(root, "band", BAND)}


@pytest.fixture(scope="module")
def flips(packs: dict[str, skillcert.Library]) -> list[Flip]:
    return flip_examples(packs["old"], packs["both"], DECISION, as_of=AS_OF, limit=12)


def _outcome(library: skillcert.Library, facts: Any, as_of: dt.date) -> tuple[str, Decimal | None] | None:
    try:
        r = library.evaluate(DECISION, facts, as_of=as_of)
    except skillcert.SkillcertError:
        return None
    return r.outcome, r.score


def _set(facts: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = dict(facts)
    node = out
    for step in path[:-1]:
        node[step] = dict(node.get(step) or {})
        node = node[step]
    node[path[-1]] = value
    return out


def _flips_here(old: skillcert.Library, new: skillcert.Library, facts: Any, as_of: dt.date) -> bool:
    a, b = _outcome(old, facts, as_of), _outcome(new, facts, as_of)
    return a is not None and b is not None and a[0] != b[0]


def test_the_changed_inputs_are_found_from_the_compiled_expressions(packs: dict[str, skillcert.Library]) -> None:
    old = packs["old"].decision(DECISION)
    posts_only = changed_inputs(old, packs["posts"].decision(DECISION))
    assert posts_only == ["findings.posts_missing"]
    band = changed_inputs(old, packs["band"].decision(DECISION))
    assert "findings.posts_missing" in band and "findings.video_unclear" in band  # the score reads every item
    assert "registration_expires_on" not in band  # the score reads no date


def test_every_example_really_flips(packs: dict[str, skillcert.Library], flips: list[Flip]) -> None:
    assert 0 < len(flips) <= 12
    for flip in flips:
        old = _outcome(packs["old"], dict(flip.facts), flip.as_of)
        new = _outcome(packs["both"], dict(flip.facts), flip.as_of)
        assert old == (flip.old.outcome, flip.old.score)
        assert new == (flip.new.outcome, flip.new.score)
        assert old is not None and new is not None and old[0] != new[0]


def test_every_example_is_minimal_in_the_search_sense(packs: dict[str, skillcert.Library], flips: list[Flip]) -> None:
    for flip in flips:
        for change in flip.changes:
            back: Any = change.before
            if isinstance(change.after, int) and not isinstance(change.after, bool) and isinstance(change.before, int):
                back = change.after - 1 if change.after > change.before else change.after + 1
            elif isinstance(change.after, dt.date) and isinstance(change.before, dt.date):
                back = change.after + dt.timedelta(days=-1 if change.after > change.before else 1)
            facts = _set(dict(flip.facts), change.path, back)
            assert not _flips_here(packs["old"], packs["both"], facts, flip.as_of), (flip.text(), change.name)


def test_smallest_changes_come_first_and_a_seed_at_the_bound_needs_none(flips: list[Flip]) -> None:
    distances = [f.distance for f in flips]
    assert distances == sorted(distances)
    at_80 = [f for f in flips if f.seed.endswith("#band-exactly-80")]
    assert at_80 and at_80[0].distance == 0
    assert (at_80[0].old.outcome, at_80[0].new.outcome) == ("renew", "rectify")


def test_a_deduction_change_alone_flips_near_the_bounds_from_a_given_seed(packs: dict[str, skillcert.Library]) -> None:
    # 81.9 points under OLD with one missing post (81.8 under NEW): more missing posts cost 0.5 each now, 0.4 before
    seed = {**SEED, "findings": {"posts_missing": 1, "skill_room_defects": 5, "cameras_missing": 1,
                                 "marking_batches_bad": 1, "tally_batches_bad": 1, "duties_unfulfilled": 1}}
    found = flip_examples(packs["old"], packs["posts"], DECISION, seeds=[seed], as_of=AS_OF,
                          include_pack_cases=False)
    assert found
    first = found[0]
    assert [c.name for c in first.changes] == ["findings.posts_missing"]
    assert (first.old.outcome, first.new.outcome) == ("renew", "rectify")
    assert first.old.score is not None and first.new.score is not None
    assert first.old.score >= 80 > first.new.score
    missing = first.changes[0].after
    assert first.old.score - first.new.score == Decimal("0.1") * missing
    assert "缺少的岗位及人员数" in first.text() and f"由 1 改为 {missing}" in first.text()
    assert f"旧版得 {first.old.score.normalize():f} 分" in first.text()


def test_a_seed_far_from_the_bound_is_walked_to_it(packs: dict[str, skillcert.Library]) -> None:
    found = flip_examples(packs["old"], packs["band"], DECISION, seeds=[SEED], as_of=AS_OF,
                          include_pack_cases=False, limit=3)
    assert found
    for flip in found:
        assert flip.changes
        assert flip.old.outcome == "renew" and flip.new.outcome == "rectify"
        assert flip.new.score is not None and Decimal(80) <= flip.new.score < Decimal(85)
        assert _flips_here(packs["old"], packs["band"], dict(flip.facts), flip.as_of)


def test_the_search_is_deterministic_and_bounded(packs: dict[str, skillcert.Library], flips: list[Flip]) -> None:
    again = flip_examples(packs["old"], packs["both"], DECISION, as_of=AS_OF, limit=12)
    assert to_json([f.as_json() for f in again]) == to_json([f.as_json() for f in flips])
    few = flip_examples(packs["old"], packs["band"], DECISION, seeds=[SEED], as_of=AS_OF, include_pack_cases=False,
                        max_evaluations=5)
    assert few == []  # the walk needs more than 5 evaluations: nothing found, no error


def test_a_deadline_change_is_searched_a_day_at_a_time(packs: dict[str, skillcert.Library],
                                                       tmp_path: Path) -> None:
    later = skillcert.load(pack_copy(tmp_path, "lead", POLICIES / "chongqing", (
        "apply_lead_days: {value: 30,", "apply_lead_days: {value: 20,")))
    decision = later.decision(DECISION)
    assert "applied_on" in changed_inputs(packs["old"].decision(DECISION), decision)
    found = flip_examples(packs["old"], later, DECISION, seeds=[SEED], as_of=AS_OF, include_pack_cases=False)
    assert found
    for flip in found:
        assert len(flip.changes) == 1 and isinstance(flip.changes[0].after, dt.date)
        assert _flips_here(packs["old"], later, dict(flip.facts), flip.as_of)
    applied = [f for f in found if f.changes[0].name == "applied_on"]
    assert applied and "收到申报材料日期" in applied[0].text()
    # 20 days before expiry now, 30 before: the first day that is late before and in time now
    assert applied[0].changes[0].after == dt.date(2025, 6, 1)
    assert (applied[0].old.outcome, applied[0].new.outcome) == ("treat_as_new", "renew")


def test_no_change_no_flip(packs: dict[str, skillcert.Library]) -> None:
    assert flip_examples(packs["old"], packs["old"], DECISION, as_of=AS_OF) == []


def test_examples_as_json_text_and_sheet(flips: list[Flip], tmp_path: Path) -> None:
    import openpyxl

    data = flips[0].as_json()
    assert {"seed", "as_of", "changes", "old", "new", "seed_results", "facts"} <= set(data)
    for flip in flips:
        assert "旧版" in flip.text() and "新版" in flip.text()
        assert len(flip.sheet_row()) == len(FLIP_HEADER)
    out = tmp_path / "flips.xlsx"
    write_impact_xlsx(out, [flip_sheet(flips)])
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0] == tuple(FLIP_HEADER) and len(rows) == len(flips) + 1


def test_spacing_and_quoting_inside_an_expression_is_no_change_to_search(tmp_path: Path) -> None:
    from skillcert.analysis.changes import what_changed

    old = skillcert.load(POLICIES).decision("chongqing/renewal")
    new = chongqing_copy(tmp_path, "spaced", (
        "expr: \"'document_review' if institution_kind == 'employer' else 'scorecard'\"",
        "expr: '\"document_review\"   if institution_kind==\"employer\" else   \"scorecard\"'"),
        ("- {per: 0.4, count: findings.posts_missing, label:", "- {per: 0.4, count: ( findings.posts_missing ), label:"),
    ).decision("chongqing/renewal")
    found = what_changed(old, new)
    assert found.expressions == set() and found.items == set() and found.parameters == set()
