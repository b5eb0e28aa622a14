"""A skillcert plugin used by tests/test_plugins.py: one implementation of every hook.

- ``double(n)``: an extra expression function (used by tests/testdata/plugin_packs/plugged);
- the year 2031, which no built-in data covers, with 2031-05-30 (a Friday) as a holiday;
- an output format ``oneline``: ``decision outcome score``.

It is importable as a module (``skillcert_testplugin``) so that a fake distribution can name it in an
entry point, exactly as a third-party package would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from skillcert import DecisionResult, FunctionSpec, OutputFormat, YearData, hookimpl

HOLIDAY_2031 = dt.date(2031, 5, 30)


def double(n: int) -> int:
    return n * 2


def render_oneline(result: DecisionResult, explain: bool = False) -> str:
    score = "-" if result.score is None else str(result.score.normalize())
    return f"{result.decision} {result.outcome} {score}\n"


@hookimpl
def skillcert_expr_functions() -> Iterable[FunctionSpec]:
    return [FunctionSpec("double", double, ("integer",), "integer", "double(n):n 的两倍(测试插件)")]


@hookimpl
def skillcert_calendar_years() -> Iterable[YearData]:
    return [YearData(2031, frozenset({dt.date(2031, 1, 1), HOLIDAY_2031}), frozenset(), "skillcert_testplugin")]


@hookimpl
def skillcert_output_formats() -> Iterable[OutputFormat]:
    return [OutputFormat("oneline", "一行:决定 结论 得分(测试插件)", render_oneline)]
