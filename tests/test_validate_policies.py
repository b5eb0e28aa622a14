"""The CI gate on every bundled pack: ``skillcert.validate('policies')`` finds nothing, every pack compiles,
and every example evaluates without error."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

import pytest
import skillcert
from skillcert.source.loader import load_file
from skillcert_testutil import POLICIES, ROOT

PACK_DIRS = sorted(p.parent for p in POLICIES.glob("*/pack.yaml"))
EXAMPLES = sorted(p for d in PACK_DIRS for p in [*d.glob("examples/*.yaml"), *d.glob("examples/*.json")])


def test_there_is_at_least_one_bundled_pack_with_an_example() -> None:
    assert PACK_DIRS
    assert EXAMPLES


def test_engine_validate_can_be_called_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    # skillcert.validate() imports the module skillcert.validate; that import must not replace the function.
    monkeypatch.chdir(ROOT)
    skillcert.validate("policies")
    assert callable(skillcert.validate)
    assert skillcert.validate("policies") == []


def test_bundled_packs_have_no_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    importlib.import_module("skillcert.analysis.validation")  # the CLI imports it; the public function must survive that
    problems = skillcert.validate("policies")
    assert problems == [], "\n".join(str(p) for p in problems)


@pytest.mark.parametrize("folder", PACK_DIRS, ids=[d.name for d in PACK_DIRS])
def test_bundled_pack_compiles_and_its_id_is_its_folder(folder: Path) -> None:
    pack = skillcert.compile_pack(folder)
    assert pack.id == folder.name
    assert pack.decisions


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{p.parent.parent.name}/{p.name}" for p in EXAMPLES])
def test_bundled_example_evaluates_without_error(example: Path) -> None:
    library = skillcert.load(POLICIES)
    region = example.parent.parent.name
    pack = library.pack(region)
    decision = max((d for d in pack.decisions if example.stem == d or example.stem.startswith(d + "-")), key=len)
    d = pack.decisions[decision]
    as_of = max(d.valid_from, min(dt.date.today(), d.valid_until or dt.date.today()))
    doc = load_file(example)
    result = library.evaluate(d.id, doc.data, as_of=as_of, source=doc.source)
    assert result.outcome in d.outcomes
    assert result.to_json()


def test_the_documented_example_gives_the_documented_result() -> None:
    # policies/chongqing/examples/renewal-social-org.yaml says: 94.6 points, renew, decision due 2025-06-18.
    doc = load_file(POLICIES / "chongqing" / "examples" / "renewal-social-org.yaml")
    result = skillcert.load(POLICIES).evaluate("chongqing/renewal", doc.data, as_of=dt.date(2025, 5, 25))
    assert (result.outcome, str(result.score), str(result.deadlines["decision_due"])) == ("renew", "94.6", "2025-06-18")
