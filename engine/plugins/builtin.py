"""The engine's own functions, holiday calendar and output formats, registered as a plugin."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from . import hookimpl

if TYPE_CHECKING:
    from ..lang.calendar import YearData
    from ..lang.expr import FunctionSpec
    from ..render.formats import OutputFormat


@hookimpl
def skillcert_expr_functions() -> Iterable[FunctionSpec]:
    from ..lang.functions import BUILTIN_FUNCTIONS

    return BUILTIN_FUNCTIONS


@hookimpl
def skillcert_calendar_years() -> Iterable[YearData]:
    from ..lang.calendar import builtin_calendar

    cal = builtin_calendar()
    return [cal.year_data(y) for y in sorted(cal.known_years)]


@hookimpl
def skillcert_output_formats() -> Iterable[OutputFormat]:
    from ..render.formats import OutputFormat
    from ..render.json import render_json
    from ..render.text import render_text

    return [
        OutputFormat("text", "中文报告 (a readable Chinese report)", render_text),
        OutputFormat("json", "JSON 结果 (the contract's JSON object)", render_json, "application/json", ".json"),
    ]
