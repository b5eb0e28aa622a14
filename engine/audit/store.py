"""The decision log's store on SQLAlchemy Core: a SQLite file by default, any SQLAlchemy URL (PostgreSQL) alike.

The database carries its own schema version (table ``skillcert_schema``, one row) and is brought up to date on
open by ordered migration steps (:data:`MIGRATIONS`), each in its own transaction with the version it reaches, so
a step is applied whole or not at all. A database written by a newer skillcert (a version this code does not know)
is refused rather than written to. Alembic is not used: a handful of steps run in order need only this.

Every write is one transaction: a batch of events is stored whole or not at all. Times are stored as fixed-width
UTC text (they sort as time does in every database); identifying values are also kept lower-cased in one text
column, searched with LIKE.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..errors import UsageError
from ..values import format_decimal, to_json
from .event import EventV1, time_text

__all__ = ["LogStore", "LogQuery", "LogPage", "SCHEMA_VERSION", "MIGRATIONS", "sqlite_url"]

metadata = sa.MetaData()

schema_table = sa.Table("skillcert_schema", metadata, sa.Column("version", sa.Integer, nullable=False))

events_table = sa.Table(
    "decision_log", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),  # insertion order, for ties in time
    sa.Column("id", sa.String(32), nullable=False, unique=True),
    sa.Column("event_version", sa.Integer, nullable=False),
    sa.Column("time", sa.String(27), nullable=False),
    sa.Column("decision", sa.String(200), nullable=False),
    sa.Column("as_of", sa.String(10), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("pack_version", sa.String(100), nullable=False),
    sa.Column("pack_digest", sa.String(100), nullable=False),
    sa.Column("outcome", sa.String(200), nullable=False),
    sa.Column("score", sa.String(60), nullable=True),
    sa.Column("ids", sa.Text, nullable=False),        # JSON object of the identifying values
    sa.Column("ids_text", sa.Text, nullable=False),   # the same values, lower-cased, for searching
    sa.Column("facts", sa.Text, nullable=False),      # JSON
    sa.Column("result", sa.Text, nullable=False),     # the result's JSON text as returned
    sa.Index("ix_decision_log_time", "time"),
    sa.Index("ix_decision_log_decision_time", "decision", "time"),
    sa.Index("ix_decision_log_outcome", "outcome"),
)


def _create_v1(conn: sa.Connection) -> None:
    events_table.create(conn)


# Ordered steps: (the version a step brings the database to, the step). A new step is appended, never edited.
MIGRATIONS: list[tuple[int, Callable[[sa.Connection], None]]] = [
    (1, _create_v1),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]

MAX_PAGE = 500


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path)}"


@dataclass(frozen=True)
class LogQuery:
    """What to look for; every given part must match. ``text`` is searched in the identifying values."""

    decision: str | None = None
    outcome: str | None = None
    since: dt.date | None = None     # made on or after this day (UTC)
    until: dt.date | None = None     # made on or before this day (UTC)
    text: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class LogPage:
    entries: list[EventV1]           # newest first
    total: int                       # how many match in all
    limit: int
    offset: int


class LogStore:
    """Events kept in one database, created and migrated on first use."""

    def __init__(self, url: str, *, engine: sa.Engine | None = None) -> None:
        self.url = url
        self.engine = engine or _engine(url)
        try:
            self._migrate()
        except sa.exc.OperationalError as exc:  # cannot connect, cannot open the file, no such database …
            self.engine.dispose()
            reason = str(exc.orig) if exc.orig is not None else str(exc)
            raise UsageError(f"无法打开决定日志数据库 {_shown(url)}:{reason.strip()}") from None

    @classmethod
    def sqlite(cls, path: str | Path) -> LogStore:
        """A store in a SQLite file (its folder created if need be)."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return cls(sqlite_url(path))

    def close(self) -> None:
        self.engine.dispose()

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return _version(conn)

    def _migrate(self) -> None:
        with self.engine.begin() as conn:
            schema_table.create(conn, checkfirst=True)
        with self.engine.begin() as conn:
            current = _version(conn)
        if current > SCHEMA_VERSION:
            raise UsageError(f"决定日志数据库 {_shown(self.url)} 的结构版本为 {current},本版 skillcert 只认识到 "
                             f"{SCHEMA_VERSION};请使用较新的 skillcert,或换一个数据库")
        for version, step in MIGRATIONS:
            if version <= current:
                continue
            with self.engine.begin() as conn:  # the step and the version it reaches, together or not at all
                step(conn)
                conn.execute(schema_table.delete())
                conn.execute(schema_table.insert().values(version=version))
            current = version

    def append(self, events: Iterable[EventV1]) -> int:
        """Store the events in one transaction (all or none); how many were stored."""
        rows = [_row(e) for e in events]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(events_table.insert(), rows)
        return len(rows)

    def get(self, event_id: str) -> EventV1 | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(events_table).where(events_table.c.id == event_id)).mappings().first()
        return None if row is None else _event(row)

    def search(self, query: LogQuery = LogQuery()) -> LogPage:
        """The events that match, newest first, one page of them."""
        t = events_table
        where: list[sa.ColumnElement[bool]] = []
        if query.decision:
            where.append(t.c.decision == query.decision)
        if query.outcome:
            where.append(t.c.outcome == query.outcome)
        if query.since:
            where.append(t.c.time >= query.since.isoformat())
        if query.until:  # the whole day: every time that day sorts before the next day's date
            where.append(t.c.time < (query.until + dt.timedelta(days=1)).isoformat())
        if query.text:
            where.append(t.c.ids_text.like("%" + _escape_like(query.text.lower()) + "%", escape="\\"))
        limit = max(1, min(query.limit, MAX_PAGE))
        offset = max(0, query.offset)
        with self.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar_one()
            rows = conn.execute(sa.select(t).where(*where).order_by(t.c.time.desc(), t.c.seq.desc())
                                .limit(limit).offset(offset)).mappings().all()
        return LogPage([_event(r) for r in rows], int(total), limit, offset)


def _engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        # a busy file waits rather than failing at once; WAL lets readers go on while one thread writes
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")  # a committed event survives a power cut
            cursor.close()
        return engine
    try:
        return sa.create_engine(url, pool_pre_ping=True)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise UsageError(f"无法使用数据库地址 {_shown(url)}:{exc}") from None


def _shown(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(无效的地址)"


def _version(conn: sa.Connection) -> int:
    value = conn.execute(sa.select(sa.func.max(schema_table.c.version))).scalar()
    return int(value or 0)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _row(e: EventV1) -> dict[str, Any]:
    return {
        "id": e.id, "event_version": 1, "time": time_text(e.time), "decision": e.decision,
        "as_of": e.as_of.isoformat(), "source": e.source, "pack_version": e.pack_version,
        "pack_digest": e.pack_digest, "outcome": e.outcome,
        "score": None if e.score is None else format_decimal(e.score),
        "ids": json.dumps(dict(e.ids), ensure_ascii=False),
        "ids_text": "\n".join(str(v) for v in e.ids.values()).lower(),
        "facts": to_json(dict(e.facts), None), "result": e.result,
    }


def _event(row: Any) -> EventV1:
    return EventV1(
        id=row["id"], time=dt.datetime.strptime(row["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC),
        decision=row["decision"], as_of=dt.date.fromisoformat(row["as_of"]), source=row["source"],
        pack_version=row["pack_version"], pack_digest=row["pack_digest"], outcome=row["outcome"],
        score=None if row["score"] is None else Decimal(row["score"]),
        facts=json.loads(row["facts"], parse_float=Decimal), result=row["result"],
        ids=json.loads(row["ids"]))
