"""What pack expressions can call and which holiday years are known: the environment a pack compiles against.

The built-in environment has the engine's own functions (:mod:`skillcert.lang.functions`) and the official
holiday years shipped with ``chinesecalendar``; :func:`skillcert.plugins.environment` builds one from a plugin
manager, with every plugin's functions and years. The compiler and the evaluator take an environment as an
argument, so neither needs to know about plugins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from .calendar import HolidayCalendar, builtin_calendar
from .expr import FunctionSpec

__all__ = ["Environment", "builtin_environment"]


@dataclass(frozen=True)
class Environment:
    functions: Mapping[str, FunctionSpec]
    calendar: HolidayCalendar


@cache
def builtin_environment() -> Environment:
    from .functions import BUILTIN_FUNCTIONS

    return Environment({spec.name: spec for spec in BUILTIN_FUNCTIONS}, builtin_calendar())
