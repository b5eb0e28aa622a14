"""The decision log's store on a real SQLite file: created and versioned on first use, every event kept whole,
found again after the store is closed and opened anew, searched by decision, outcome, day and identifying text."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")

from skillcert.audit import EventV1, new_event  # noqa: E402
from skillcert.audit.store import SCHEMA_VERSION, LogQuery, LogStore, sqlite_url  # noqa: E402
from skillcert.errors import UsageError  # noqa: E402
from skillcert_postgres import MISSING, new_database, postgres_server  # noqa: E402


@pytest.fixture(scope="module")
def postgres() -> Iterator[str | None]:
    yield from postgres_server()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new log database: a SQLite file, or a database on a throwaway PostgreSQL server."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "log.sqlite3")
    socket_folder = request.getfixturevalue("postgres")
    if socket_folder is None:
        pytest.skip(MISSING)
    return new_database(socket_folder)


def _event(decision: str = "r/d", outcome: str = "ok", day: int = 1, ids: dict[str, str] | None = None,
           score: str | None = "94.6") -> EventV1:
    return new_event(decision=decision, as_of=dt.date(2025, 5, day), source="api", pack_version="1.0.0",
                     pack_digest="sha256:ab", outcome=outcome, score=None if score is None else Decimal(score),
                     facts={"n": 2, "x": Decimal("0.1"), "on": dt.date(2025, 5, 20)},
                     result=f'{{"outcome": "{outcome}", "score": 94.6}}', ids=ids or {},
                     now=dt.datetime(2025, 5, day, 8, 0, tzinfo=dt.UTC))


def test_a_new_file_gets_the_current_schema_version(tmp_path: Path) -> None:
    store = LogStore.sqlite(tmp_path / "sub" / "log.sqlite3")
    assert store.schema_version() == SCHEMA_VERSION
    store.close()
    with sqlite3.connect(tmp_path / "sub" / "log.sqlite3") as conn:
        assert conn.execute("select version from skillcert_schema").fetchall() == [(SCHEMA_VERSION,)]


def test_events_are_found_again_after_a_restart(url: str) -> None:
    store = LogStore(url)
    written = [_event(day=d, ids={"name": f"甲单位{d}"}) for d in (1, 2, 3)]
    assert store.append(written) == 3
    store.close()
    reopened = LogStore(url)  # opening again neither migrates nor loses anything
    assert reopened.schema_version() == SCHEMA_VERSION
    page = reopened.search()
    assert page.total == 3
    assert [e.id for e in page.entries] == [e.id for e in reversed(written)]  # newest first
    back = reopened.get(written[0].id)
    assert back is not None and back.as_json() == written[0].as_json()  # facts come back as JSON values
    assert back is not None and back.as_json()["facts"] == {"n": 2, "x": Decimal("0.1"), "on": "2025-05-20"}
    assert back.as_json()["result"] == {"outcome": "ok", "score": Decimal("94.6")}
    assert reopened.get("nope") is None


@pytest.mark.parametrize(("query", "days"), [
    (LogQuery(decision="r/other"), [4]),
    (LogQuery(outcome="refuse"), [3]),
    (LogQuery(since=dt.date(2025, 5, 2), until=dt.date(2025, 5, 3)), [3, 2]),
    (LogQuery(text="乙单"), [2]),
    (LogQuery(text="DANWEI"), [4]),
    (LogQuery(text="%"), []),
    (LogQuery(limit=2), [4, 3]),
    (LogQuery(limit=2, offset=2), [2, 1]),
])
def test_search_by_decision_outcome_days_and_text(url: str, query: LogQuery, days: list[int]) -> None:
    store = LogStore(url)
    store.append([_event(day=1, ids={"name": "甲单位"}), _event(day=2, ids={"name": "乙单位"}),
                  _event(day=3, outcome="refuse", score=None),
                  _event(day=4, decision="r/other", ids={"name": "Danwei Ltd"})])
    page = store.search(query)
    assert [e.as_of.day for e in page.entries] == days
    assert page.total >= len(days)


def test_a_batch_is_stored_whole_or_not_at_all(url: str) -> None:
    store = LogStore(url)
    first = _event()
    store.append([first])
    with pytest.raises(Exception):  # noqa: B017 - the driver's IntegrityError: the same id twice
        store.append([_event(day=2), first])
    assert [e.id for e in store.search().entries] == [first.id]


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    LogStore.sqlite(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("update skillcert_schema set version = 99")
    with pytest.raises(UsageError, match="结构版本为 99"):
        LogStore.sqlite(path)


def test_an_unknown_source_is_refused() -> None:
    with pytest.raises(ValueError):
        new_event(decision="r/d", as_of=dt.date(2025, 1, 1), source="mail", pack_version="1", pack_digest="x",
                  outcome="ok", score=None, facts={}, result="{}")


def test_a_database_that_cannot_be_opened_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="无法打开决定日志数据库"):
        LogStore(sqlite_url(tmp_path))  # a folder, not a file
