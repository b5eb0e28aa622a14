"""skillcert.errors: locations, problems and the error hierarchy with stable codes."""

from __future__ import annotations

import pytest
import skillcert
from skillcert.errors import (
    CalendarError,
    EvaluationError,
    FactsError,
    Location,
    OutOfPeriodError,
    PackError,
    Problem,
    Problems,
    SkillcertError,
    UsageError,
)


@pytest.mark.parametrize(
    ("location", "text"),
    [
        (Location("pack.yaml", 42, 7, "decisions.renewal"), "pack.yaml:42:7"),
        (Location("pack.yaml"), "pack.yaml"),
        (Location("", 0, 0, "findings.posts_missing"), "findings.posts_missing"),
        (Location(), "<input>"),
    ],
)
def test_location_text(location: Location, text: str) -> None:
    assert str(location) == text


def test_problem_line_is_file_line_col_code_message_hint() -> None:
    p = Problem("unknown-name", "'registraton_expires_on' 未声明", Location("p.yaml", 42, 7),
                "did you mean 'registration_expires_on'?")
    assert str(p) == ("p.yaml:42:7: unknown-name: 'registraton_expires_on' 未声明 "
                      "(did you mean 'registration_expires_on'?)")


def test_problems_sort_by_file_line_and_column_and_drop_exact_repeats() -> None:
    problems = Problems()
    problems.add("b", "second", Location("a.yaml", 9, 1))
    problems.add("a", "first", Location("a.yaml", 2, 5))
    problems.add("c", "other file", Location("b.yaml", 1, 1))
    problems.add("b", "second", Location("a.yaml", 9, 1))
    problems.add("a", "same line, earlier column", Location("a.yaml", 2, 1))
    assert [p.message for p in problems.sorted()] == ["same line, earlier column", "first", "second", "other file"]
    assert len(problems) == 5


def test_problems_are_capped() -> None:
    problems = Problems(limit=3)
    for i in range(5):
        problems.add("x", str(i))
    assert len(problems) == 3
    assert problems.truncated


@pytest.mark.parametrize(
    ("cls", "code"),
    [(SkillcertError, "error"), (PackError, "pack-invalid"), (FactsError, "facts-invalid"),
     (EvaluationError, "evaluation-error"), (CalendarError, "calendar-year-unknown"),
     (OutOfPeriodError, "out-of-period"), (UsageError, "usage-error")],
)
def test_every_error_has_a_stable_code_and_one_root(cls: type[SkillcertError], code: str) -> None:
    err = cls("message")
    assert err.code == code
    assert isinstance(err, SkillcertError)


def test_calendar_error_is_an_evaluation_error() -> None:
    assert issubclass(CalendarError, EvaluationError)


def test_error_text_lists_its_problems() -> None:
    err = FactsError("2 处问题", problems=[Problem("facts-invalid", "a", Location("f.yaml", 1, 1)),
                                          Problem("facts-invalid", "b", Location("f.yaml", 2, 1))])
    assert str(err) == "2 处问题\n  f.yaml:1:1: facts-invalid: a\n  f.yaml:2:1: facts-invalid: b"


def test_code_can_be_given_per_instance() -> None:
    err = SkillcertError("too big", code="input-too-large", location=Location("x.yaml"))
    assert err.code == "input-too-large"
    assert str(err) == "x.yaml: too big"


def test_public_api_exports_the_errors() -> None:
    for name in ("SkillcertError", "PackError", "FactsError", "EvaluationError", "CalendarError",
                 "OutOfPeriodError", "UsageError", "Problem", "Location"):
        assert name in skillcert.__all__
        assert getattr(skillcert, name) is not None
