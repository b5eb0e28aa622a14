"""pytest collects every pack's YAML test cases (policies/<region>/tests/*.yaml) as test items,
so that `pytest` alone runs the engine's tests and the packs' own cases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix in (".yaml", ".yml") and file_path.parent.name == "tests" \
            and (file_path.parent.parent / "pack.yaml").is_file():
        return PackCaseFile.from_parent(parent, path=file_path)
    return None


class PackCaseFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from skillcert.analysis.tester import load_cases

        cases, problems = load_cases(self.path)
        if problems:
            yield PackFileProblem.from_parent(self, name="file", problems=[str(p) for p in problems])
            return
        for case in cases:
            yield PackCase.from_parent(self, name=f"{case.name}", case=case)


class PackCase(pytest.Item):
    def __init__(self, *, case: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        from skillcert.analysis.tester import run_case

        library = _library(self.path.parent.parent.parent)
        outcome = run_case(self.case, library)
        if not outcome.passed:
            raise PackCaseFailure(outcome.failures)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, PackCaseFailure):
            return f"{self.case.note} ({self.case.location})\n" + "\n".join(excinfo.value.args[0])
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.location.line - 1, f"{self.case.decision} {self.case.name}: {self.case.note}"


class PackFileProblem(pytest.Item):
    def __init__(self, *, problems: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problems = problems

    def runtest(self) -> None:
        raise PackCaseFailure(self.problems)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return "\n".join(self.problems)


class PackCaseFailure(Exception):
    pass


_LIBRARIES: dict[Path, Any] = {}


def _library(root: Path) -> Any:
    from skillcert.library import load

    if root not in _LIBRARIES:
        _LIBRARIES[root] = load(root)
    return _LIBRARIES[root]
