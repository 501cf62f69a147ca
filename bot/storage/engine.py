"""The async engine for ``DATABASE_URL``, with SQLite set up to behave like a real database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .urls import async_database_url

__all__ = ["create_engine"]

# How long a SQLite writer waits for another process's write to finish.
_SQLITE_BUSY_TIMEOUT = 30.0


def create_engine(database_url: str, **options: Any) -> AsyncEngine:
    """An async engine for ``database_url`` (plain ``sqlite:///`` and ``postgresql://`` work).

    On SQLite, every transaction starts with ``BEGIN IMMEDIATE`` (writers queue instead of
    failing half-way), the journal is WAL (the bot and the scheduler read while the other
    writes) with ``synchronous=NORMAL`` (a commit survives a crash of the process, not
    necessarily a power cut, and costs no fsync) and foreign keys are enforced.
    """
    url = async_database_url(database_url)
    if url.startswith("sqlite"):
        connect_args = dict(options.pop("connect_args", {}))
        connect_args.setdefault("timeout", _SQLITE_BUSY_TIMEOUT)
        if ":memory:" not in url and url.rstrip("/") != "sqlite+aiosqlite:":
            options.setdefault("pool_size", 1)
            options.setdefault("max_overflow", 0)
            options.setdefault("pool_timeout", _SQLITE_BUSY_TIMEOUT)
        engine = create_async_engine(url, connect_args=connect_args, **options)
        _make_sqlite_transactional(engine)
        return engine
    options.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **options)


def _make_sqlite_transactional(engine: AsyncEngine) -> None:
    # Python's sqlite3 module begins transactions lazily and never for DDL; take over.
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
