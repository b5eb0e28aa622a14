"""skillcert: a declarative rules engine for the regulation of vocational-skill certification institutions.

The public API is small::

    import engine
    library = engine.load()                         # the bundled packs (or engine.load("path/to/policies"))
    result = library.evaluate("chongqing/renewal", facts, as_of=datetime.date(2025, 5, 25))
    result.outcome, result.score, result.deadlines, result.to_json()

Everything here is the same code path as the ``skillcert`` command line.
"""

from __future__ import annotations

if __name__ != "skillcert":  # the repository folder is engine/, but the package has one name only
    raise ImportError(f"skillcert 的代码请以 `import skillcert` 导入(此处被当作 {__name__!r} 导入);"
                      "请先 pip install -e . 或安装 wheel")

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
    from .compiler.pipeline import check_pack, compile_pack
    from .library import DecisionInfo, Library, load
    from .runtime.result import DecisionResult, Reason

# The heavier parts (pydantic, jsonschema, the compiler) load on first use, so that `skillcert --help`
# and `import engine` stay fast.
_LAZY = {
    "load": "library", "Library": "library", "DecisionInfo": "library", "DecisionResult": "runtime.result",
    "Reason": "runtime.result", "compile_pack": "compiler.pipeline", "check_pack": "compiler.pipeline",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'engine' has no attribute {name!r}")


__all__ = [
    "load",
    "Library",
    "DecisionInfo",
    "DecisionResult",
    "Reason",
    "compile_pack",
    "check_pack",
    "validate",
    "SkillcertError",
    "PackError",
    "FactsError",
    "EvaluationError",
    "CalendarError",
    "OutOfPeriodError",
    "UsageError",
    "Problem",
    "Location",
]

__version__ = "0.1.0"


def validate(*paths: str) -> list[Problem]:
    """Every problem of the packs (with their tests and examples) under ``paths``; empty when clean."""
    from .analysis.validation import validate_paths
    from .source.resources import policies_dir

    problems, _ = validate_paths(list(paths) or [str(policies_dir())])
    return problems
