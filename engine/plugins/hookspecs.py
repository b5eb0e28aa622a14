"""Every hook a plugin can implement, grouped by phase. Each is a docstring only.

Plugins are discovered through the ``skillcert`` entry-point group (``[project.entry-points.skillcert]``
in a plugin's pyproject) or registered directly with :func:`engine.plugins.plugin_manager`. The engine's
own functions, holiday calendar and output formats are registered through these same hooks
(:mod:`engine.plugins.builtin`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ..lang.calendar import YearData
    from ..lang.expr import FunctionSpec
    from ..render.formats import OutputFormat

hookspec = pluggy.HookspecMarker("skillcert")

__all__ = ["hookspec", "skillcert_expr_functions", "skillcert_calendar_years", "skillcert_output_formats"]


# ---- compile phase


@hookspec
def skillcert_expr_functions() -> Iterable[FunctionSpec]:  # type: ignore[empty-body]
    """Functions that pack expressions may call.

    Called once per plugin manager; every plugin's results are used. A later-registered plugin's
    function with the same name replaces an earlier one (the built-ins are registered first).
    Each :class:`~engine.expr.FunctionSpec` declares parameter and result types so the compiler can
    check calls.
    """


@hookspec
def skillcert_calendar_years() -> Iterable[YearData]:  # type: ignore[empty-body]
    """Official holiday data per year for working-day arithmetic.

    Every plugin's years are combined; a later-registered plugin overrides the same year of an earlier
    one. Years no plugin (nor the pack's ``calendar:`` section, nor ``--calendar``) knows make any
    working-day computation in that year an explicit ``calendar-year-unknown`` error.
    """


# ---- report phase


@hookspec
def skillcert_output_formats() -> Iterable[OutputFormat]:  # type: ignore[empty-body]
    """Renderers for ``skillcert evaluate --format NAME``: each turns a result into text.

    Every plugin's formats are offered; a later-registered plugin's format replaces one of the same name.
    """
