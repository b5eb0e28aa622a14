"""Deadlines: a fixed date, or a start date shifted by calendar days, working days (PRC calendar), months or years.

A deadline is never guessed. One that falls in a year the holiday calendar does not know is unavailable, with a
warning naming it, and any rule that needs it fails with ``calendar-year-unknown``; except that a working-day count
that runs from a known year into an unknown one is an :class:`~skillcert.lang.calendar.UncertainDate`: still empty
in the result, with the same warning, but a rule whose answer its bounds decide (results filed on 2026-12-30 for a
deadline on 2027-01-04 or later) still decides. A deadline that cannot be represented (after 9999-12-31) is
unavailable with a warning too, and a rule that needs it fails with ``date-out-of-range``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ..errors import CalendarError, EvaluationError
from ..lang.calendar import UncertainDate
from ..lang.expr import DateOutOfRange, OutOfRange, describe_value, is_number
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
            if value.__class__ is not dt.date:
                value = _date_or_none(value, dl.date.text)
        else:
            assert dl.start is not None
            start = ctx.run(dl.start)
            if start is None:
                return None
            if start.__class__ is not dt.date:
                start = _date_or_none(start, dl.start.text)
            if dl.amount is not None:
                amount = ctx.run(dl.amount)
                if amount.__class__ is not int:
                    amount = _amount(amount, dl.amount.text)
            value = _shift(ctx, start, dl.unit, amount)
    except (CalendarError, DateOutOfRange) as exc:
        ctx.warnings.append(f"期限 {dl.label}({name})无法计算:{exc.message}")
        return Unavailable(exc)
    except OutOfRange as exc:  # a shift below, outside any expression
        error = DateOutOfRange(f"期限 {dl.label}({name}):{exc.message}")
        ctx.warnings.append(f"期限 {dl.label}({name})无法计算:{exc.message}")
        return Unavailable(error)
    if value.__class__ is UncertainDate:  # decides the comparisons its bounds decide; null in the result
        ctx.warnings.append(f"期限 {dl.label}({name})无法计算:{value.error.message}")
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
        extra = None
        if dl.unit == "working_days" and value.__class__ is dt.date:
            extra = _arrangement(ctx, start, value)
        ctx.tracer.record(name, dl.label, how, None if isinstance(value, UncertainDate) else value, extra=extra)
    return value


def _arrangement(ctx: Context, start: dt.date, end: dt.date) -> dict[str, Any] | None:
    """For the trace: the start of a working-day count and the days off and make-up working days it went across."""
    try:
        days_off, make_up = ctx.calendar.arrangement_between(start, end)
    except CalendarError:  # cannot happen for a count the calendar just made; the trace goes without it
        return None
    return {"start": start, "days_off": days_off, "make_up_days": make_up}


def _date_or_none(value: Any, text: str) -> Any:
    if value is None or value.__class__ is dt.date or isinstance(value, (dt.date, UncertainDate)):
        return value
    raise EvaluationError(f"`{text}` 应得出日期,实际得出 {describe_value(value)}", code="expression-failed")


def _amount(value: Any, text: str) -> int:
    if is_number(value) and (not isinstance(value, Decimal) or (value.is_finite() and value == value.to_integral())):
        return int(value)
    raise EvaluationError(f"期限的天数 `{text}` 应得出整数,实际得出 {describe_value(value)}"
                          + (f" {value}" if is_number(value) else ""), code="expression-failed")


def _shift(ctx: Context, start: Any, unit: str | None, amount: int) -> Any:
    if unit is None:
        return start
    if isinstance(start, UncertainDate):  # a deadline counted from one that is not known
        raise start.error
    if unit == "days":
        return add_days(start, amount)
    if unit == "working_days":
        return ctx.calendar.add_working_days_bounded(start, amount)
    if unit == "months":
        return add_months(start, amount)
    if unit == "years":
        return add_years(start, amount)
    raise EvaluationError(f"未知的期限单位 {unit}")
