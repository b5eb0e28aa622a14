"""Errors: one root exception, locations, stable codes and error lists.

Every problem the engine reports to a person carries a stable ``code`` (for scripts and docs),
a message in Chinese or plain words, and, where it comes from a file, a :class:`Location`.
Compile stages collect problems into a :class:`Problems` list instead of stopping at the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

__all__ = [
    "Location",
    "Problem",
    "Problems",
    "SkillcertError",
    "PackError",
    "FactsError",
    "EvaluationError",
    "CalendarError",
    "OutOfPeriodError",
    "UsageError",
    "did_you_mean",
    "DID_YOU_MEAN_MAX_NAME",
]


@dataclass(frozen=True, order=True)
class Location:
    """Where something is: a file, a 1-based line and column, and the data path inside the file."""

    file: str = ""
    line: int = 0
    col: int = 0
    path: str = ""

    def __str__(self) -> str:
        if not self.file:
            return self.path or "<input>"
        if self.line:
            return f"{self.file}:{self.line}:{self.col}"
        return self.file


@dataclass(frozen=True)
class Problem:
    """One finding about a pack or an input: ``file:line:col: code: message``."""

    code: str
    message: str
    location: Location = field(default_factory=Location)
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.location}: {self.code}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.location.file, self.location.line, self.location.col, self.code)


class Problems:
    """An ordered collection of problems, capped so a badly broken file doesn't flood the screen."""

    def __init__(self, limit: int = 1000) -> None:
        self._items: list[Problem] = []
        self.limit = limit
        self.truncated = False

    def add(self, code: str, message: str, location: Location | None = None, hint: str = "") -> None:
        if len(self._items) >= self.limit:
            self.truncated = True
            return
        self._items.append(Problem(code, message, location or Location(), hint))

    def extend(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            self.add(p.code, p.message, p.location, p.hint)

    def sorted(self) -> list[Problem]:
        seen: set[str] = set()
        out = []
        for p in sorted(self._items, key=Problem.sort_key):
            if str(p) not in seen:
                seen.add(str(p))
                out.append(p)
        return out

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)


class SkillcertError(Exception):
    """Root of every error the engine raises on purpose. ``code`` is stable; ``str()`` is for people."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, location: Location | None = None,
                 problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.location = location
        self.problems = problems or []

    def __str__(self) -> str:
        head = f"{self.location}: {self.message}" if self.location else self.message
        if self.problems:
            lines = [head] + [f"  {p}" for p in self.problems]
            return "\n".join(lines)
        return head


class UsageError(SkillcertError):
    """The caller asked for something that does not exist (an unknown decision, a bad option)."""

    code = "usage-error"


class PackError(SkillcertError):
    """A policy pack could not be loaded or compiled; ``problems`` lists every finding."""

    code = "pack-invalid"


class FactsError(SkillcertError):
    """The facts given for an evaluation are not what the decision's inputs declare."""

    code = "facts-invalid"


class EvaluationError(SkillcertError):
    """A rule could not be evaluated on these facts (e.g. an expression met a missing value)."""

    code = "evaluation-error"


class CalendarError(EvaluationError):
    """A date fell in a year for which no official holiday arrangement is known."""

    code = "calendar-year-unknown"


class OutOfPeriodError(SkillcertError):
    """The evaluation date lies outside the pack's period of validity."""

    code = "out-of-period"


# Names longer than this are not compared (difflib's cost grows with the product of the lengths: a 20 MB value
# took 900 MB); nobody mistypes a name that long, and candidates are the pack's own names.
DID_YOU_MEAN_MAX_NAME = 200
DID_YOU_MEAN_MAX_CANDIDATES = 5000


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A hint naming the closest candidate ("did you mean 'x'?"), or empty when none is close.

    Bounded: a very long name, and very long or very many candidates, are not compared. A name that is not text
    (a YAML date or number where a code was expected) is compared as its text.
    """
    name = str(name)
    if len(name) > DID_YOU_MEAN_MAX_NAME:
        return ""
    usable = []
    for c in map(str, candidates):
        if len(c) <= DID_YOU_MEAN_MAX_NAME:
            usable.append(c)
            if len(usable) >= DID_YOU_MEAN_MAX_CANDIDATES:
                break
    import difflib  # deferred: only a mistake needs it, and every start imports this module (about 1 ms)

    close = difflib.get_close_matches(name, usable, n=1, cutoff=0.75)
    return f"did you mean '{close[0]}'?" if close else ""
