"""The tests' databases: a SQLite file, or a PostgreSQL schema or whole database, per test.

When PostgreSQL is not reachable its tests are skipped, unless ``MLC_REQUIRE_POSTGRES=1``
says they must run (then they fail).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.storage import create_engine, display_url

__all__ = [
    "POSTGRES_URL",
    "FreshDatabase",
    "database_url",
    "fresh_database",
    "postgres_schema",
    "postgres_unreachable",
    "scratch_database",
    "scratch_url",
]

POSTGRES_URL = os.environ.get("MLC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


D = TypeVar("D", bound="FreshDatabase")


@dataclass
class FreshDatabase:
    """One test's database: its URL and the engine options everything on it uses."""

    url: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "postgresql" if self.url.startswith("postgres") else "sqlite"

    async def close(self) -> None:
        """Close what the test opened on it."""


@contextlib.asynccontextmanager
async def fresh_database(kind: str, sqlite_file: Path, database: type[D]) -> AsyncIterator[D]:
    """A ``database`` of ``kind``: the SQLite file ``sqlite_file``, or a PostgreSQL schema
    dropped afterwards; closed at the end."""
    async with contextlib.AsyncExitStack() as stack:
        if kind == "sqlite":
            db = database(f"sqlite:///{sqlite_file}")
        else:
            db = database(POSTGRES_URL, await stack.enter_async_context(postgres_schema()))
        try:
            yield db
        finally:
            await db.close()


def postgres_unreachable(exc: BaseException) -> NoReturn:
    """Skip the test (fail it under ``MLC_REQUIRE_POSTGRES=1``): PostgreSQL said ``exc``."""
    reason = f"PostgreSQL not reachable at {display_url(POSTGRES_URL)}: {exc!r}"
    if os.environ.get("MLC_REQUIRE_POSTGRES") == "1":
        pytest.fail(reason + " (MLC_REQUIRE_POSTGRES=1: it must run)")
    pytest.skip(reason)


@contextlib.asynccontextmanager
async def postgres_schema() -> AsyncIterator[dict[str, Any]]:
    """A new PostgreSQL schema, dropped afterwards: the engine options that work in it."""
    schema = f"mlc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        await admin.dispose()
        postgres_unreachable(exc)
    try:
        yield {"connect_args": {"server_settings": {"search_path": schema}}}
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@contextlib.asynccontextmanager
async def scratch_database(kind: str, folder: Path) -> AsyncIterator[str]:
    """A new, empty database: a SQLite file, or a PostgreSQL database dropped afterwards.

    (A database rather than a schema: processes started by the tests only get
    ``DATABASE_URL``.)
    """
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'crash.db'}"
        return
    name = f"mlc_crash_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:
        await admin.dispose()
        raise
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def scratch_url(kind: str, folder: Path, stack: contextlib.AsyncExitStack) -> str:
    """:func:`scratch_database` of ``kind`` for as long as ``stack``; skips without one."""
    try:
        return await stack.enter_async_context(scratch_database(kind, folder))
    except Exception as exc:
        postgres_unreachable(exc)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database that processes reach through ``DATABASE_URL`` alone."""
    async with contextlib.AsyncExitStack() as stack:
        yield await scratch_url(request.param, tmp_path, stack)
