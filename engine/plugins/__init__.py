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
    if entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in extra:
        pm.register(plugin)
    return pm


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
