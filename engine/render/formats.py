"""Output formats: a name and a function from a decision result to text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..runtime.result import DecisionResult

__all__ = ["OutputFormat"]


@dataclass(frozen=True)
class OutputFormat:
    name: str
    description: str
    render: Callable[[DecisionResult, bool], str]   # (result, explain) -> text
