"""The decision log: versioned events (one per decision made through the server) and the store that keeps them.

:mod:`.event` owns the event's shape (:class:`EventV1`) and its JSON form; :mod:`.store` keeps events in a
database through SQLAlchemy Core (a SQLite file by default, any SQLAlchemy URL such as PostgreSQL alike), with its
own schema versions and migrations. SQLAlchemy is imported by the store only (the ``[server]`` extra).
"""

from __future__ import annotations

from .event import EVENT_VERSION, SOURCES, EventV1, new_event

__all__ = ["EVENT_VERSION", "SOURCES", "EventV1", "new_event"]
