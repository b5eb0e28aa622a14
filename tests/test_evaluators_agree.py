"""The compiled evaluator (Python bytecode from the checked trees, a scorecard as one function) and the reference
evaluator (simpleeval walking the same trees, line by line) give byte-identical results on every case of every
bundled pack, with and without the item-by-item detail."""

from __future__ import annotations

from pathlib import Path

import pytest
from skillcert.analysis.tester import Case, find_test_files, load_cases
from skillcert.errors import SkillcertError
from skillcert.library import Library
from skillcert_testutil import POLICIES

FAST = Library(POLICIES)
REFERENCE = Library(POLICIES, reference=True)


def _cases() -> list[Case]:
    out: list[Case] = []
    for f in find_test_files(Path(POLICIES)):
        cases, _ = load_cases(f)
        out.extend(c for c in cases if c.want_error is None)
    return out


@pytest.mark.parametrize("detail", [True, False], ids=["detail", "batch-path"])
@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c.decision}:{c.name}")
def test_compiled_and_reference_evaluators_agree(case: Case, detail: bool) -> None:
    """With detail=False the compiled scorecard function (skillcert.compiler.scorecode) scores the totals."""
    def run(library: Library) -> str:
        try:
            return library.evaluate(case.decision, case.facts, as_of=case.as_of, explain=True, detail=detail,
                                    allow_out_of_period=case.allow_out_of_period).to_json()
        except SkillcertError as exc:
            return f"{exc.code}: {exc.message}"

    assert run(FAST) == run(REFERENCE)
