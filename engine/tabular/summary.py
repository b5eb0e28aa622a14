"""What a batch run counts: rows, rows with errors, outcomes, and outcomes per value of one input.

The input to count by (shown in the XLSX summary sheet) is the pack's choice — a decision's ``summary_by`` —
unless the caller names another (``run_batch(..., group_by=…)``, ``skillcert batch --group-by``). The engine
names no input of its own: which one matters is the pack's business.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..compiler.model import Decision
from ..errors import UsageError, did_you_mean
from ..rows.columns import input_label, input_type
from ..values import display_value

__all__ = ["BatchSummary", "summary_input", "pack_summary_input", "new_summary", "group_key"]

NOT_GIVEN = "(未填)"


@dataclass
class BatchSummary:
    rows: int = 0
    errors: int = 0
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    by_group: dict[str, collections.Counter[str]] = field(default_factory=dict)
    group_by: str | None = None      # the input counted by (None: no grouping)
    group_label: str = ""            # its Chinese label, the heading of the grouped table

    def count(self, outcome: Any, failed: bool, group: Any = None, n: int = 1) -> None:
        """``n`` finished rows alike: their outcome (or their error) and, when grouping, the value of the grouped
        input."""
        self.rows += n
        if failed:
            self.errors += n
            return
        self.outcomes[outcome] += n
        if self.group_by is not None:
            self.by_group.setdefault(group, collections.Counter())[outcome] += n


def pack_summary_input(decision: Decision) -> str | None:
    """The input the pack counts outcomes by (a decision's ``summary_by``; the compiler checked it is an input)."""
    return decision.summary_by


def summary_input(decision: Decision, group_by: str | None = None) -> str | None:
    """The input to count by: ``group_by`` (an input's name or Chinese label) if given, else the pack's choice.

    An unknown ``group_by`` is a :class:`~skillcert.errors.UsageError` with a did-you-mean.
    """
    if group_by is None:
        return pack_summary_input(decision)
    if group_by in decision.inputs:
        return group_by
    by_label = {input_label(decision, name): name for name in decision.inputs}
    if group_by in by_label:
        return by_label[group_by]
    hint = did_you_mean(group_by, [*decision.inputs, *by_label])
    raise UsageError(f"汇总分组的输入 '{group_by}' 不是决定 {decision.id} 的输入"
                     f"(可用:{'、'.join(decision.inputs)})" + (f";{hint}" if hint else ""))


def new_summary(decision: Decision, group_by: str | None) -> BatchSummary:
    """An empty summary counting by ``group_by`` (an input name, already resolved by :func:`summary_input`)."""
    if group_by is None:
        return BatchSummary()
    return BatchSummary(group_by=group_by, group_label=input_label(decision, group_by))


def group_key(decision: Decision, group_by: str | None) -> Callable[[Any], str | None]:
    """The function that turns the grouped input's value into the row heading (an enum's label, a date ISO …)."""
    if group_by is None:
        return lambda value: None
    vtype = input_type(decision, group_by)
    return lambda value: display_value(value, vtype, empty=NOT_GIVEN)
