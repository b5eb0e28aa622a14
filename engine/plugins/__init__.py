"""The plugin manager: built-in plugins first, then those found through entry points."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

import pluggy

from .. import hookspecs

if TYPE_CHECKING:
    from ..calendar import HolidayCalendar
    from ..expr import FunctionSpec
    from ..formats import OutputFormat

__all__ = ["hookimpl", "plugin_manager", "new_plugin_manager", "functions", "calendar", "output_formats",
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


def _in_registration_order(results: list[Any]) -> list[Any]:
    # pluggy calls the last-registered implementation first; reverse so later plugins override earlier.
    return list(reversed(results))


def functions(pm: pluggy.PluginManager) -> dict[str, FunctionSpec]:
    table: dict[str, FunctionSpec] = {}
    for specs in _in_registration_order(pm.hook.skillcert_expr_functions()):
        for spec in specs:
            table[spec.name] = spec
    return table


def calendar(pm: pluggy.PluginManager) -> HolidayCalendar:
    from ..calendar import HolidayCalendar

    years = {}
    for batch in _in_registration_order(pm.hook.skillcert_calendar_years()):
        for data in batch:
            years[data.year] = data
    return HolidayCalendar(years)


def output_formats(pm: pluggy.PluginManager) -> dict[str, OutputFormat]:
    table: dict[str, OutputFormat] = {}
    for formats in _in_registration_order(pm.hook.skillcert_output_formats()):
        for fmt in formats:
            table[fmt.name] = fmt
    return table
