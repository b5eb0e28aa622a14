"""One decision-log event, versioned (after OPA's decision logs): who asked what, of which pack, and the answer.

An event is immutable once made. Its JSON form (:meth:`EventV1.as_json`) is what the HTTP API returns for the log;
``event_version`` says which shape it has, so that readers of an older log know what they hold. A later shape is a
new class (``EventV2``) and a migration of the store, never a change to this one.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..values import format_decimal, to_json

__all__ = ["EVENT_VERSION", "SOURCES", "EventV1", "new_event"]

EVENT_VERSION = 1
SOURCES = ("api", "web", "batch")  # where the decision was asked for: the HTTP API, a workspace form, a batch


@dataclass(frozen=True)
class EventV1:
    """A decision made: the facts as given, the result as returned (the contract's JSON text), and where from.

    ``ids`` are the caller's identifying values (names, numbers) kept apart for searching; they are not facts.
    """

    id: str
    time: dt.datetime                  # when it was made, UTC
    decision: str
    as_of: dt.date
    source: str
    pack_version: str
    pack_digest: str
    outcome: str
    score: Decimal | None
    facts: Mapping[str, Any]
    result: str                        # the result's JSON text, exactly as returned to the caller
    ids: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The event as JSON values (the result as an object, the score as an exact decimal string)."""
        return {
            "event_version": EVENT_VERSION,
            "id": self.id,
            "time": time_text(self.time),
            "decision": self.decision,
            "as_of": self.as_of.isoformat(),
            "source": self.source,
            "pack_version": self.pack_version,
            "pack_digest": self.pack_digest,
            "outcome": self.outcome,
            "score": None if self.score is None else format_decimal(self.score),
            "ids": dict(self.ids),
            "facts": json.loads(to_json(dict(self.facts), None), parse_float=Decimal),
            "result": json.loads(self.result, parse_float=Decimal),
        }


def time_text(moment: dt.datetime) -> str:
    """UTC, fixed width, so that the text sorts as the time does (in every database alike)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_event(*, decision: str, as_of: dt.date, source: str, pack_version: str, pack_digest: str, outcome: str,
              score: Decimal | None, facts: Mapping[str, Any], result: str,
              ids: Mapping[str, str] | None = None, now: dt.datetime | None = None) -> EventV1:
    """An event with a fresh id and the current time."""
    if source not in SOURCES:
        raise ValueError(f"unknown event source {source!r}")
    return EventV1(id=uuid.uuid4().hex, time=now or dt.datetime.now(dt.UTC), decision=decision, as_of=as_of,
                   source=source, pack_version=pack_version, pack_digest=pack_digest, outcome=outcome, score=score,
                   facts=facts, result=result, ids=dict(ids or {}))
