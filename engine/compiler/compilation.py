"""What the compiler's stages share: the pack being compiled, its problems, and a draft of each decision.

Stages fill a :class:`DecisionDraft` per decision (mutable, private to the compiler, holding the decision's YAML
while it is compiled); the last stage builds the frozen :class:`~.model.Decision` and :class:`~.model.Pack` from
the drafts, so the model never changes after it is built and keeps no YAML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Location, Problems
from ..lang.calendar import HolidayCalendar
from ..lang.environment import Environment
from ..lang.expr import FunctionSpec
from ..source.loader import Document, PathT
from .model import (
    Checklist,
    Deadline,
    Derived,
    DocumentDef,
    InputDef,
    Outcome,
    Pack,
    Parameter,
    Rule,
    Scorecard,
    Table,
)

__all__ = ["Compilation", "DecisionDraft", "Stage", "PACK_FILE", "VERSION_FILES", "version_file", "RESERVED_NAMES", "RESULT_KEYS",
           "ALLOWED_LITERALS"]

PACK_FILE = "pack.yaml"
# Other versions of a pack stand beside its pack.yaml, each a whole pack named by the version it declares: in the
# pack folder (not a sub-folder), so that documents/, tests/ and examples/ are the same folders for every version.
VERSION_FILES = "pack-*.yaml"


def version_file(version: str) -> str:
    """The file name of a pack's version beside ``pack.yaml``: ``pack-1.1.0.yaml``."""
    return f"pack-{version}.yaml"

RESERVED_NAMES = frozenset({"as_of", "outcome", "true", "false", "null", "True", "False", "None"})
# Keys of the decision result: a reported value may not take one of these names.
RESULT_KEYS = frozenset({"decision", "title", "pack_version", "pack_digest", "as_of", "outcome", "outcome_label",
                         "score", "scores", "deadlines", "reasons", "warnings", "scorecard", "checklists", "tables",
                         "checks", "explain", "period", "inputs"})
# Numbers from the notice belong in ``parameters``, named once; only these may stand in expressions and bands.
ALLOWED_LITERALS = (0, 1)


@dataclass
class DecisionDraft:
    """A decision while it is compiled: declarations first, then each compiled part as a stage produces it."""

    name: str
    raw: dict[str, Any]           # the decision's YAML (dropped when the model is built)
    base: PathT                   # its data path in the pack file, for problem locations
    title: str
    description: str
    source: str
    valid_from: dt.date
    valid_until: dt.date | None
    inputs: dict[str, InputDef]
    parameters: dict[str, Parameter]
    outcomes: dict[str, Outcome]
    default_outcome: str | None
    primary_score: str | None
    summary_by: str | None
    report: list[str]
    location: Location
    derived: dict[str, Derived] = field(default_factory=dict)
    deadlines: dict[str, Deadline] = field(default_factory=dict)
    scorecards: dict[str, Scorecard] = field(default_factory=dict)
    checklists: dict[str, Checklist] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    document_inputs: dict[str, InputDef] = field(default_factory=dict)
    documents: dict[str, DocumentDef] = field(default_factory=dict)


@dataclass
class Compilation:
    """Everything the stages share: the document, problems so far, the drafts and, at the end, the pack."""

    directory: Path
    display: str
    env: Environment
    file: Path | None = None      # the pack file (default: ``pack.yaml``; another version: ``pack-<version>.yaml``)
    problems: Problems = field(default_factory=Problems)
    doc: Document | None = None
    use_cache: bool = False
    stopped: bool = False
    # Schema problems were found: later stages still run, to report everything in one go, but a part whose
    # shape is broken is skipped quietly (its schema problem already says what is wrong), and no pack is built.
    shape_broken: bool = False
    pack_fields: dict[str, Any] = field(default_factory=dict)   # the pack's metadata, for the build stage
    calendar: HolidayCalendar | None = None                     # the environment's years and the pack's own
    drafts: dict[str, DecisionDraft] = field(default_factory=dict)
    pack: Pack | None = None
    functions: dict[str, FunctionSpec] = field(init=False)   # what expressions may call (the environment's)

    def __post_init__(self) -> None:
        self.functions = dict(self.env.functions)

    @contextmanager
    def part(self) -> Iterator[None]:
        """Run one decision's part of a stage; on a broken shape, skip it instead of crashing."""
        if not self.shape_broken:
            yield
            return
        with suppress(KeyError, TypeError, AttributeError, ValueError, IndexError, ArithmeticError):
            yield

    @property
    def path(self) -> Path:
        """The pack file being compiled."""
        return self.file if self.file is not None else self.directory / PACK_FILE

    def loc(self, path: PathT, *, key: bool = False) -> Location:
        assert self.doc is not None
        return self.doc.source.locate(path, key=key)

    def add(self, code: str, message: str, path: PathT, hint: str = "", *, key: bool = False) -> None:
        self.problems.add(code, message, self.loc(path, key=key), hint)


Stage = Callable[[Compilation], None]
