"""skillcert: a declarative rules engine for the regulation of vocational-skill certification institutions.

The public API is small::

    import skillcert
    library = skillcert.load()                     # the bundled packs (or skillcert.load("path/to/policies"))
    result = library.evaluate("chongqing/renewal", facts, as_of=datetime.date(2025, 5, 25))
    result.outcome, result.score, result.deadlines, result.to_json()

Everything here is the same code path as the ``skillcert`` command line. Plugin authors find what they need here
too: :data:`hookimpl`, :class:`FunctionSpec` and the value types for expression functions, :class:`YearData` and
:class:`HolidayCalendar` for holiday years, :class:`OutputFormat` for output formats (see the README's Plugins
section). Names not listed in ``__all__`` are internal and may change.
"""

from __future__ import annotations

if __name__ != "skillcert":  # the repository folder is engine/, but the package has one name only
    raise ImportError(f"skillcert 的代码请以 `import skillcert` 导入(此处被当作 {__name__!r} 导入);"
                      "请先 pip install -e . 或安装 wheel")

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import (
    CalendarError,
    EvaluationError,
    FactsError,
    Location,
    OutOfPeriodError,
    PackError,
    Problem,
    SkillcertError,
    UsageError,
)

if TYPE_CHECKING:
    __version__: str
    from .compiler.pipeline import check_pack, compile_pack
    from .lang.calendar import HolidayCalendar, YearData
    from .lang.environment import Environment
    from .lang.expr import FunctionSpec
    from .lang.types import ANY, BOOL, DATE, DECIMAL, INTEGER, NULL, TEXT, VType
    from .library import DecisionInfo, Library, LibrarySpec, load
    from .plugins import hookimpl
    from .render.formats import OutputFormat
    from .runtime.result import DecisionResult, ItemScore, Reason

# The heavier parts (pydantic, jsonschema, the compiler) load on first use, so that `skillcert --help`
# and `import skillcert` stay fast.
_LAZY = {
    "load": "library", "Library": "library", "LibrarySpec": "library", "DecisionInfo": "library",
    "DecisionResult": "runtime.result", "Reason": "runtime.result", "ItemScore": "runtime.result",
    "compile_pack": "compiler.pipeline", "check_pack": "compiler.pipeline",
    "hookimpl": "plugins", "FunctionSpec": "lang.expr", "Environment": "lang.environment",
    "YearData": "lang.calendar", "HolidayCalendar": "lang.calendar", "OutputFormat": "render.formats",
    "VType": "lang.types", "ANY": "lang.types", "BOOL": "lang.types", "DATE": "lang.types",
    "DECIMAL": "lang.types", "INTEGER": "lang.types", "NULL": "lang.types", "TEXT": "lang.types",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":  # one source of truth: the package metadata (pyproject.toml), read when asked
        from importlib.metadata import PackageNotFoundError, version

        try:
            globals()[name] = version("skillcert")
        except PackageNotFoundError:  # pragma: no cover - running from a tree that was never installed
            globals()[name] = "0+unknown"
        return globals()[name]
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skillcert' has no attribute {name!r}")


__all__ = [
    # using packs
    "load",
    "Library",
    "LibrarySpec",
    "DecisionInfo",
    "DecisionResult",
    "Reason",
    "ItemScore",
    "validate",
    "compile_pack",
    "check_pack",
    # errors
    "SkillcertError",
    "PackError",
    "FactsError",
    "EvaluationError",
    "CalendarError",
    "OutOfPeriodError",
    "UsageError",
    "Problem",
    "Location",
    # writing plugins
    "hookimpl",
    "FunctionSpec",
    "Environment",
    "VType",
    "ANY",
    "BOOL",
    "DATE",
    "DECIMAL",
    "INTEGER",
    "NULL",
    "TEXT",
    "YearData",
    "HolidayCalendar",
    "OutputFormat",
    "__version__",
]


def validate(*paths: str) -> list[Problem]:
    """Every problem of the packs (with their tests and examples) under ``paths``; empty when clean.

    With no path, the packs a command would use: ``$SKILLCERT_POLICIES`` or the bundled ones.
    """
    from .analysis.validation import validate_paths
    from .source.resources import policies_dir

    problems, _ = validate_paths(list(paths) or [str(policies_dir())])
    return problems
