"""The contract's JSON result (``--format json``): one object, exact decimals, fixed key order."""

from __future__ import annotations

from ..runtime.result import DecisionResult

__all__ = ["render_json"]


def render_json(result: DecisionResult, explain: bool = False) -> str:
    return result.to_json() + "\n"
