"""Deadlines: a fixed date, or a start date shifted by calendar days, working days (PRC calendar), months or years.

A deadline that falls in a year the holiday calendar does not know is not guessed: it is unavailable, with a
warning naming it, and any rule that needs it fails with ``calendar-year-unknown``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import CalendarError, EvaluationError
from ..lang.functions import add_days, add_months, add_years
from .context import Context, Unavailable

__all__ = ["compute_deadline", "UNIT_TEXT"]

UNIT_TEXT = {"days": "个自然日", "working_days": "个工作日", "months": "个月", "years": "年"}


def compute_deadline(ctx: Context, name: str) -> Any:
    dl = ctx.decision.deadlines[name]
    try:
        if not ctx.test(dl.when):
            return None
        amount = 0
        if dl.date is not None:
            value = ctx.run(dl.date)
        else:
            assert dl.start is not None
            start = ctx.run(dl.start)
            if start is None:
                return None
            amount = int(ctx.run(dl.amount)) if dl.amount is not None else 0
            value = _shift(ctx, start, dl.unit, amount)
    except CalendarError as exc:
        ctx.warnings.append(f"期限 {dl.label}({name})无法计算:{exc.message}")
        return Unavailable(exc)
    if ctx.tracer is not None:
        if dl.date is not None:
            how = dl.date.text
        else:
            assert dl.start is not None
            how = dl.start.text
            if dl.unit and dl.amount is not None:
                how += f" {'+' if amount >= 0 else '−'} {abs(amount)} {UNIT_TEXT[dl.unit]}"
                if dl.amount.names:
                    how += f"(天数 ← {dl.amount.text})"
        ctx.tracer.record(name, dl.label, how, value)
    return value


def _shift(ctx: Context, start: dt.date, unit: str | None, amount: int) -> dt.date:
    if unit is None:
        return start
    if unit == "days":
        return add_days(start, amount)
    if unit == "working_days":
        return ctx.calendar.add_working_days(start, amount)
    if unit == "months":
        return add_months(start, amount)
    if unit == "years":
        return add_years(start, amount)
    raise EvaluationError(f"未知的期限单位 {unit}")
