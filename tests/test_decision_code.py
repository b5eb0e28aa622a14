"""A whole decision as one generated function (skillcert.runtime.fastpath) gives byte-identical results to the
interpreter on every case of every bundled pack and of the test packs, and falls back to the interpreter — today's
result or today's error — wherever anything is unusual: an unknown calendar year, a failing expression, a loop past
its share of the evaluation budget."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from skillcert.analysis.tester import Case, find_test_files, load_cases
from skillcert.compiler.model import Decision
from skillcert.errors import SkillcertError
from skillcert.library import Library
from skillcert.runtime import fastpath
from skillcert.runtime.evaluate import evaluate_checked
from skillcert_testutil import MINI, POLICIES

LIBRARIES = {str(POLICIES): Library(POLICIES), str(MINI): Library(MINI)}
FUNCTIONS = LIBRARIES[str(POLICIES)].env.functions


def _cases() -> list[tuple[str, Case]]:
    out: list[tuple[str, Case]] = []
    for root in LIBRARIES:
        for f in find_test_files(Path(root)):
            cases, _ = load_cases(f)
            out.extend((root, c) for c in cases)
    return out


def _examples() -> list[tuple[str, str, Path]]:
    out = []
    for root in LIBRARIES:
        for path in sorted(Path(root).glob("**/examples/*.yaml")):
            library = LIBRARIES[root]
            for info in library.decisions():
                region, name = info.id.split("/")
                if path.stem.split("-")[0] == name and path.parent.parent.name in (region, Path(root).name):
                    out.append((root, info.id, path))
    return out


def _both(decision: Decision, facts: dict[str, Any], as_of: dt.date, allow: bool,
          monkeypatch: pytest.MonkeyPatch, detail: bool = False) -> tuple[str, str, bool]:
    """(generated path's JSON or error, interpreter's, whether the generated function gave the result)."""
    fn = fastpath.prepare(decision, FUNCTIONS, detail)
    assert fn is not None, f"{decision.id} is not generated"
    try:
        fn(facts, as_of, decision.pack.calendar if decision.pack else None)
        taken = True
    except Exception:  # noqa: BLE001 - any failure means: the interpreter decides
        taken = False

    def run() -> str:
        try:
            return evaluate_checked(decision, facts, as_of, allow_out_of_period=allow, detail=detail,
                                    functions=FUNCTIONS).to_json()
        except SkillcertError as exc:
            return f"{exc.code}: {exc.message}"

    generated = run()
    monkeypatch.setattr(fastpath, "ENABLED", False)
    interpreted = run()
    monkeypatch.setattr(fastpath, "ENABLED", True)
    return generated, interpreted, taken


@pytest.mark.parametrize("detail", [False, True], ids=["batch-path", "detail"])
@pytest.mark.parametrize("root,case", _cases(), ids=lambda c: f"{c.decision}:{c.name}" if isinstance(c, Case) else "")
def test_generated_decision_agrees_with_the_interpreter_on_every_pack_case(
        root: str, case: Case, detail: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    library = LIBRARIES[root]
    try:
        facts = library.check_facts(case.decision, case.facts)
    except SkillcertError:
        return  # facts the checks refuse never reach either path
    decision = library.decision(case.decision)
    as_of = case.as_of or dt.date(2025, 5, 25)
    generated, interpreted, taken = _both(decision, facts, as_of, case.allow_out_of_period, monkeypatch, detail)
    assert generated == interpreted
    if case.want_error is None and '"warnings": []' in interpreted:
        assert taken, "a plain case should take the generated path"


@pytest.mark.parametrize("detail", [False, True], ids=["batch-path", "detail"])
@pytest.mark.parametrize("root,decision_id,path", _examples(), ids=lambda p: str(getattr(p, "name", p)))
def test_generated_decision_agrees_on_every_example(root: str, decision_id: str, path: Path, detail: bool,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    library = LIBRARIES[root]
    try:
        facts = library.check_facts(decision_id, yaml.safe_load(path.read_text(encoding="utf-8")))
    except SkillcertError:
        pytest.skip("not the facts of a decision (a document's fields)")
    decision = library.decision(decision_id)
    for as_of in (dt.date(2024, 10, 1), dt.date(2025, 5, 25), dt.date(2025, 8, 25)):
        generated, interpreted, taken = _both(decision, facts, as_of, True, monkeypatch, detail)
        assert generated == interpreted
        assert taken


@pytest.mark.parametrize("detail", [False, True], ids=["batch-path", "detail"])
def test_every_bundled_decision_is_generated(detail: bool) -> None:
    library = LIBRARIES[str(POLICIES)]
    for info in library.decisions():
        assert fastpath.prepare(library.decision(info.id), FUNCTIONS, detail) is not None, info.id


CHONGQING = {
    "institution_kind": "social_org", "registry_level": "city", "registration_expires_on": "2025-06-30",
    "applied_on": "2025-05-20", "registered_occupations": ["4-01-05-01"], "assessed_occupations": ["4-01-05-01"],
    "findings": {"posts_missing": 2, "no_ledger": True},
}


def _chongqing(monkeypatch: pytest.MonkeyPatch, as_of: dt.date, **overrides: Any) -> tuple[str, str, bool]:
    library = LIBRARIES[str(POLICIES)]
    facts = library.check_facts("chongqing/renewal", {**CHONGQING, **overrides})
    return _both(library.decision("chongqing/renewal"), facts, as_of, True, monkeypatch)


def test_a_plain_case_takes_the_generated_path(monkeypatch: pytest.MonkeyPatch) -> None:
    generated, interpreted, taken = _chongqing(monkeypatch, dt.date(2025, 5, 25))
    assert taken and generated == interpreted


def test_a_deadline_in_an_unknown_calendar_year_falls_back_to_the_interpreter(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the decision's working-day deadline runs into a year whose holidays are not known: empty with a warning
    generated, interpreted, taken = _chongqing(monkeypatch, dt.date(2031, 5, 25), applied_on="2031-05-20",
                                               registration_expires_on="2031-06-30")
    assert not taken
    assert generated == interpreted
    assert "无法计算" in interpreted


def test_an_expression_that_fails_falls_back_and_gives_the_interpreters_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    library = LIBRARIES[str(POLICIES)]
    decision = library.decision("chongqing/renewal")
    facts = library.check_facts(decision.id, CHONGQING)
    # no checked facts hold a text for a count: the scorecard's expression fails
    broken = {**facts, "findings": {**facts["findings"], "posts_missing": "两个"}}
    generated, interpreted, taken = _both(decision, broken, dt.date(2025, 5, 25), True, monkeypatch)
    assert not taken
    assert generated == interpreted
    assert interpreted.startswith("expression-failed")


def test_a_loop_past_its_share_of_the_budget_falls_back_to_the_interpreter(
        monkeypatch: pytest.MonkeyPatch) -> None:
    library = LIBRARIES[str(POLICIES)]
    decision = library.decision("fuzhou/application")
    case = next(c for root, c in _cases() if root == str(POLICIES) and c.decision == decision.id
                and c.want_error is None and c.facts.get("occupations"))
    facts = library.check_facts(decision.id, case.facts)
    as_of = case.as_of or dt.date(2025, 5, 25)
    calendar = decision.pack.calendar if decision.pack else None
    fn = fastpath.prepare(decision, FUNCTIONS)
    assert fn is not None
    fn(facts, as_of, calendar)  # within the budget
    monkeypatch.setattr(fastpath, "_LOOP_BUDGET", 1)
    monkeypatch.setitem(fastpath._STATES, decision, fastpath._State())
    small = fastpath.prepare(decision, FUNCTIONS)
    assert small is not None
    with pytest.raises(fastpath._Fallback):
        small(facts, as_of, calendar)
    generated, interpreted, taken = _both(decision, facts, as_of, True, monkeypatch)
    assert not taken
    assert generated == interpreted


def test_the_switch_turns_the_generated_path_off(monkeypatch: pytest.MonkeyPatch) -> None:
    library = LIBRARIES[str(POLICIES)]
    decision = library.decision("chongqing/renewal")
    facts = library.check_facts(decision.id, CHONGQING)
    calls = []
    fn = fastpath.prepare(decision, FUNCTIONS)
    assert fn is not None
    monkeypatch.setattr(fastpath, "ENABLED", False)
    monkeypatch.setattr(fastpath, "decide", lambda d, f, detail=False: calls.append(d))  # never asked while off
    evaluate_checked(decision, facts, dt.date(2025, 5, 25), detail=False, functions=FUNCTIONS)
    assert calls == []


LAZY_PACK = """
pack:
  id: lazy
  title: 测试用政策包
  jurisdiction: 测试市
  issuer: 测试市人力资源和社会保障局
  version: 0.1.0
  sources:
    notice: {title: 关于测试的通知, date: "2024"}
  valid_from: 2024-01-01
  valid_until: null
  notes: 仅供引擎测试使用。
decisions:
  check:
    title: 测试
    source: 关于测试的通知
    inputs:
      total: {type: integer, label: 总人次, min: 0, source: §一}
      part: {type: integer, label: 评价人次, min: 0, source: §一}
    parameters:
      min_share: {value: 0.5, unit: 比例, label: 占比下限, source: §一}
    derived:
      share: {label: 占比, expr: part / total, source: §一}
    outcomes:
      high: {label: 占比高, source: §一}
      low: {label: 占比低, source: §一}
    precedence: [high, low]
    default_outcome: low
    rules:
      - id: high_share
        kind: trigger
        when: total > 0 and share > min_share
        outcome: high
        message: 占比 {share}
        source: §一
"""


@pytest.mark.parametrize("total,outcome", [(0, "low"), (4, "high"), (10, "low")])
def test_a_value_needed_only_under_a_condition_is_computed_only_under_it(
        total: int, outcome: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "lazy").mkdir()
    (tmp_path / "lazy" / "pack.yaml").write_text(LAZY_PACK, encoding="utf-8")
    library = Library(tmp_path)
    decision = library.decision("lazy/check")
    facts = library.check_facts(decision.id, {"total": total, "part": 3})
    # with no one evaluated the share would divide by zero: the interpreter never computes it, nor does the code
    for detail in (False, True):
        generated, interpreted, taken = _both(decision, facts, dt.date(2025, 5, 25), True, monkeypatch, detail)
        assert taken and generated == interpreted
        assert f'"outcome": "{outcome}"' in generated


def _crossed(decision_id: str, count: int, seed: int) -> list[tuple[dict[str, Any], dt.date]]:
    """Facts made by crossing the decision's own test cases: each input taken from a case drawn at random, the
    as-of date from another (combinations no case was written for)."""
    import random

    rng = random.Random(seed)
    library = LIBRARIES[str(POLICIES)]
    cases = [c for root, c in _cases() if root == str(POLICIES) and c.decision == decision_id]
    inputs = list(library.decision(decision_id).inputs)
    out = []
    for _ in range(count):
        facts: dict[str, Any] = {}
        for name in inputs:
            source = rng.choice(cases).facts
            if name in source:
                facts[name] = source[name]
        out.append((facts, rng.choice(cases).as_of or dt.date(2025, 5, 25)))
    return out


@pytest.mark.parametrize("decision_id", sorted(i.id for i in LIBRARIES[str(POLICIES)].decisions()))
def test_generated_decision_agrees_on_crossed_cases(decision_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    library = LIBRARIES[str(POLICIES)]
    decision = library.decision(decision_id)
    compared = 0
    for raw, as_of in _crossed(decision_id, 150, seed=12):
        try:
            facts = library.check_facts(decision_id, raw)
        except SkillcertError:
            continue
        for detail in (False, True):
            generated, interpreted, _ = _both(decision, facts, as_of, True, monkeypatch, detail)
            assert generated == interpreted, (raw, as_of)
        compared += 1
    assert compared > 20


@pytest.mark.parametrize("decision_id", sorted(i.id for i in LIBRARIES[str(POLICIES)].decisions()))
def test_item_by_item_results_are_the_same_python_values(decision_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond the JSON: with the item-by-item detail every decimal keeps the interpreter's own digits (the repr of
    the whole result, items, lines and scores included, is the same)."""
    library = LIBRARIES[str(POLICIES)]
    decision = library.decision(decision_id)
    assert fastpath.prepare(decision, FUNCTIONS, True) is not None
    for raw, as_of in _crossed(decision_id, 60, seed=5):
        try:
            facts = library.check_facts(decision_id, raw)
        except SkillcertError:
            continue
        shown = []
        for enabled in (True, False):
            monkeypatch.setattr(fastpath, "ENABLED", enabled)
            try:
                shown.append(repr(evaluate_checked(decision, facts, as_of, allow_out_of_period=True,
                                                   functions=FUNCTIONS)))
            except SkillcertError as exc:
                shown.append(exc.code)
        assert shown[0] == shown[1]
