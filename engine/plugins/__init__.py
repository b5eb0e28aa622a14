"""Plugins: the hooks (:mod:`.hookspecs`), the manager (built-in plugin first, then entry points, then plugins
given directly) and the engine's own functions, calendar and formats as a plugin (:mod:`.builtin`).

May import every lower layer (errors and values, source, lang, compiler, runtime, render); the library builds its
:class:`~skillcert.lang.environment.Environment` from a manager, so nothing below needs plugins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs

if TYPE_CHECKING:
    from ..lang.calendar import HolidayCalendar
    from ..lang.environment import Environment
    from ..lang.expr import FunctionSpec
    from ..render.formats import OutputFormat

__all__ = ["hookimpl", "plugin_manager", "new_plugin_manager", "functions", "calendar", "environment", "output_formats",
           "ENTRY_POINT_GROUP"]

hookimpl = pluggy.HookimplMarker("skillcert")
ENTRY_POINT_GROUP = "skillcert"


def new_plugin_manager(extra: Iterable[Any] = (), *, entry_points: bool = True) -> pluggy.PluginManager:
    """A fresh manager with the built-in plugin, entry-point plugins (optional) and ``extra`` ones."""
    from . import builtin

    pm = pluggy.PluginManager("skillcert")
    pm.add_hookspecs(hookspecs)
    pm.register(builtin, name="skillcert.builtin")
    if entry_points and _entry_points_declared(ENTRY_POINT_GROUP):
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in extra:
        pm.register(plugin)
    return pm


def _entry_points_declared(group: str) -> bool:
    """Whether any installed distribution may declare entry points of ``group`` (never False when one does).

    pluggy's loader reads the metadata of every installed distribution through :mod:`importlib.metadata` (whose
    import alone pulls in :mod:`email`): 30–45 ms at every start, while hardly anyone has a plugin installed. This
    looks where :mod:`importlib.metadata` looks — the ``*.dist-info`` and ``*.egg-info`` folders (and an egg's
    ``EGG-INFO``) of each ``sys.path`` folder — and reads only their ``entry_points.txt``, finding the section header
    as importlib does; pluggy's loader then runs as before whenever one declares the group. Whatever it cannot read
    this way (a zip on the path, an unreadable file, a distribution finder other than the standard one) counts as
    "may", so that loader decides.
    """
    import os
    import sys

    if any(getattr(finder, "find_distributions", None) is not None and not _path_metadata_finder(finder)
           for finder in sys.meta_path):
        return True
    for entry in sys.path:
        root = entry or "."
        try:
            children = os.listdir(root)
        except OSError:
            if os.path.isfile(root):  # a zip archive: importlib reads its metadata inside it
                return True
            continue  # neither a folder nor a file (a path hook's name, a folder removed since): no metadata
        base_is_egg = os.path.basename(root).lower().endswith(".egg")
        for child in children:
            low = child.lower()
            metadata = low.endswith((".dist-info", ".egg-info")) or (base_is_egg and low == "egg-info")
            if metadata and _declares(os.path.join(root, child, "entry_points.txt"), group):
                return True
    return False


def _path_metadata_finder(finder: Any) -> bool:
    """The standard finder of distributions on ``sys.path``, or the ``importlib_metadata`` backport's, which some
    libraries install in its place (and which looks in the same folders the same way)."""
    import importlib.machinery

    cls = finder if isinstance(finder, type) else type(finder)
    return finder is importlib.machinery.PathFinder or (
        cls.__module__ == "importlib_metadata" and cls.__name__ == "MetadataPathFinder")


def _declares(path: str, group: str) -> bool:
    """Whether one ``entry_points.txt`` has a section ``[group]``, read as :mod:`importlib.metadata` reads it."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return False  # importlib finds no entry points there either
    except OSError:
        return True
    if group.encode() not in data:  # the usual case, decided without decoding
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    for line in text.splitlines():  # importlib's Sectioned.read: stripped lines, `[name]` with the brackets stripped
        line = line.strip()
        if line.startswith("[") and line.endswith("]") and line.strip("[]") == group:
            return True
    return False


@cache
def plugin_manager() -> pluggy.PluginManager:
    """The process-wide manager used by default."""
    return new_plugin_manager()


def _merged(results: list[Any], key: Callable[[Any], Any]) -> dict[Any, Any]:
    """One table from every plugin's batch; a later-registered plugin's entry replaces an earlier one's.

    pluggy calls the last-registered implementation first, so the batches are walked in reverse.
    """
    table: dict[Any, Any] = {}
    for batch in reversed(results):
        for item in batch:
            table[key(item)] = item
    return table


def functions(pm: pluggy.PluginManager) -> dict[str, FunctionSpec]:
    return _merged(pm.hook.skillcert_expr_functions(), lambda spec: spec.name)


def calendar(pm: pluggy.PluginManager) -> HolidayCalendar:
    from ..lang.calendar import HolidayCalendar

    return HolidayCalendar(_merged(pm.hook.skillcert_calendar_years(), lambda data: data.year))


def environment(pm: pluggy.PluginManager) -> Environment:
    """The functions and holiday years of every registered plugin, for the compiler and the evaluator."""
    from ..lang.environment import Environment

    return Environment(functions(pm), calendar(pm))


def output_formats(pm: pluggy.PluginManager) -> dict[str, OutputFormat]:
    return _merged(pm.hook.skillcert_output_formats(), lambda fmt: fmt.name)
