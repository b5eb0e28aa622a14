"""The calculation trace behind ``--explain``: each derived value and deadline, how it was computed, its value.

A deadline counted in working days also names its start date (``start``) and what the official arrangement changed
on the way (``days_off``: the statutory days off after the start up to the deadline; ``make_up_days``: the make-up
working days, 调休, counted as working days), so that a reader sees which holidays the count went across.

Evaluation records a step when a traced name is computed; the result lists the steps in the decision's order.
A tracer is only made when asked for, so ordinary evaluations pay nothing for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Tracer"]


@dataclass
class Tracer:
    steps: list[dict[str, Any]] = field(default_factory=list)

    def record(self, name: str, label: str, how: str, value: Any, value_label: str | None = None,
               extra: Mapping[str, Any] | None = None) -> None:
        step: dict[str, Any] = {"name": name, "label": label, "expr": how, "value": value}
        if value_label is not None:
            step["value_label"] = value_label
        if extra:
            step.update(extra)
        self.steps.append(step)

    def ordered(self, order: Sequence[str]) -> list[dict[str, Any]]:
        """The steps in evaluation order (names not in ``order`` last)."""
        index = {name: i for i, name in enumerate(order)}
        return sorted(self.steps, key=lambda s: index.get(s["name"], len(order)))
