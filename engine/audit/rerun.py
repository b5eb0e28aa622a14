"""A logged decision evaluated again with the packs in force today: the result then, the result now, and which of
its top-level keys differ (the pack's version and digest are not differences: :attr:`Rerun.pack_changed` says
whether the pack changed). One comparison for the HTTP API and the web workspace."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .event import EventV1

if TYPE_CHECKING:
    from ..library import Library

__all__ = ["Rerun", "logged_result", "rerun"]

_NOT_DIFFERENCES = frozenset({"pack_version", "pack_digest"})


def logged_result(event: EventV1) -> dict[str, Any]:
    """The result an event holds, as JSON values (exact decimals)."""
    result: dict[str, Any] = json.loads(event.result, parse_float=Decimal)
    return result


@dataclass(frozen=True)
class Rerun:
    then: dict[str, Any]
    now: dict[str, Any]

    @property
    def differences(self) -> list[str]:
        """The top-level keys whose values differ, in the order the results name them."""
        then, now = self.then, self.now
        return [k for k in dict.fromkeys([*then, *now])
                if k not in _NOT_DIFFERENCES and then.get(k) != now.get(k)]

    @property
    def pack_changed(self) -> bool:
        return self.then.get("pack_digest") != self.now.get("pack_digest")


def rerun(library: Library, decision_id: str, event: EventV1) -> Rerun:
    """``event``'s facts evaluated again as of its date (a :class:`~skillcert.errors.SkillcertError` when they no
    longer can be). Allowed out of period: a case evaluated inside the period gets no warning from it, and one that
    was allowed outside gets the same warning, so only a changed period shows as a difference."""
    now = json.loads(library.evaluate(decision_id, event.facts, as_of=event.as_of, allow_out_of_period=True)
                     .to_json(None), parse_float=Decimal)
    return Rerun(logged_result(event), now)
