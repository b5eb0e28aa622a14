"""The compiler: a pack folder → a checked, frozen :class:`~.model.Pack`, as an ordered list of named stages.

Each stage is a function of a :class:`~.compilation.Compilation`; problems are collected (up to a limit) instead
of stopping at the first, and every problem carries ``file:line:col`` and a stable code.

1. ``load``          read ``pack.yaml`` safely with line marks (a file that cannot be read stops here)
2. ``schema``        JSON Schema; with shape problems later stages still run, skipping the broken parts
3. ``declarations``  metadata, holiday years, inputs and their types, parameters, outcomes and their ranks
4. ``expressions``   every expression parsed once, names resolved (did-you-mean), types inferred; the parts of
                     each decision made of expressions (derived values, deadlines, scorecards, rules …)
5. ``consistency``   checks that need a whole decision: names, outcomes, scorecard sums, bands, unique ids
6. ``dependencies``  no cycle between derived values, deadlines, scorecards and the outcome
7. ``scorecode``     each scorecard as one Python function (only for a pack without problems)
8. ``build``         the frozen model from the drafts (must come last: nothing changes after it)

A folder holding several versions of a pack (``pack.yaml`` and ``pack-<version>.yaml`` beside it) is compiled file
by file, then the versions are checked together (:mod:`.versions`): :func:`check_versions_in` and
:func:`compile_versions`.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import Location, PackError, Problem
from ..lang.environment import Environment, builtin_environment
from ..source.loader import display_path
from .build import stage_build
from .compilation import PACK_FILE, Compilation, Stage
from .consistency import stage_consistency
from .declarations import stage_declarations
from .dependencies import stage_dependencies
from .expressions import stage_expressions
from .model import Pack
from .reading import stage_load, stage_schema
from .scorecode import stage_scorecode
from .versions import check_versions, in_order, pack_files

__all__ = ["compile_pack", "check_pack", "compile_versions", "check_versions_in", "STAGES", "PACK_FILE"]

STAGES: list[tuple[str, Stage]] = [
    ("load", stage_load),
    ("schema", stage_schema),
    ("declarations", stage_declarations),
    ("expressions", stage_expressions),
    ("consistency", stage_consistency),
    ("dependencies", stage_dependencies),
    ("scorecode", stage_scorecode),
    ("build", stage_build),
]


def check_pack(directory: str | Path, *, env: Environment | None = None, display: str | None = None,
               use_cache: bool = False, file: str | Path | None = None) -> tuple[Pack | None, list[Problem]]:
    """Run every stage; return the pack (None if it could not be built) and all problems, sorted.

    ``env`` gives the functions and holiday years (default: the built-in ones); ``use_cache`` lets the schema
    stage skip a pack text it has already seen pass (see :mod:`skillcert.source.schema`); ``file`` is the pack
    file in the folder (default ``pack.yaml``; another version's ``pack-<version>.yaml``).
    """
    directory = Path(directory)
    path = Path(file) if file is not None else None
    shown = display or str(path or directory / PACK_FILE)
    c = Compilation(directory, shown, env or builtin_environment(), use_cache=use_cache, file=path)
    for name, stage in STAGES:
        if c.shape_broken and name != "schema":
            with c.part():  # the pack-level parts of a stage, when the shape is broken
                stage(c)
        else:
            stage(c)
        if c.stopped:
            break
    problems = c.problems.sorted()
    if c.problems.truncated:  # say so rather than let a long list look complete
        problems.append(Problem("too-many-problems", f"问题超过 {c.problems.limit} 个,其余未列出;请先改正以上问题",
                                Location(shown)))
    return (c.pack if not (c.stopped or c.shape_broken) else None), problems


def compile_pack(directory: str | Path, *, env: Environment | None = None, display: str | None = None,
                 use_cache: bool = False) -> Pack:
    """A checked pack, or :class:`~skillcert.errors.PackError` listing every problem."""
    pack, problems = check_pack(directory, env=env, display=display, use_cache=use_cache)
    if problems or pack is None:
        raise PackError(f"政策包 {display or directory} 有 {len(problems)} 个问题", problems=problems)
    return pack


def check_versions_in(directory: str | Path, *, env: Environment | None = None, use_cache: bool = False
                      ) -> tuple[tuple[Pack, ...], list[Problem], list[Problem]]:
    """Every version in a pack folder, compiled and checked together: the versions that could be built (by the
    date each comes into force), all problems (sorted), and the warnings (a gap between two versions)."""
    directory = Path(directory)
    packs: list[Pack] = []
    problems: list[Problem] = []
    for path in pack_files(directory):
        pack, found = check_pack(directory, env=env, display=display_path(path), use_cache=use_cache, file=path)
        problems.extend(found)
        if pack is not None:
            packs.append(pack)
    ordered = in_order(packs)
    together, warnings = check_versions(ordered)
    problems.extend(together)
    return ordered, sorted(problems, key=Problem.sort_key), sorted(warnings, key=Problem.sort_key)


def compile_versions(directory: str | Path, *, env: Environment | None = None, use_cache: bool = False
                     ) -> tuple[tuple[Pack, ...], list[Problem]]:
    """Every version in a pack folder (by the date each comes into force) and the warnings about them, or
    :class:`~skillcert.errors.PackError` listing every problem of every version."""
    packs, problems, warnings = check_versions_in(directory, env=env, use_cache=use_cache)
    if problems or not packs:
        shown = display_path(Path(directory) / PACK_FILE) if len(pack_files(Path(directory))) < 2 \
            else display_path(Path(directory))
        raise PackError(f"政策包 {shown} 有 {len(problems)} 个问题", problems=problems)
    return packs, warnings
