"""Alert fixtures: a database per test (SQLite and PostgreSQL), the fake Slack with a few
members, and the fake Discord."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.storage import create_engine, display_url
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import FakeSlack

from .harness import APPLICATION_ID, USERS, AlertDatabase

POSTGRES_URL = os.environ.get("MLC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _unreachable(exc: BaseException) -> None:
    reason = f"PostgreSQL not reachable at {display_url(POSTGRES_URL)}: {exc!r}"
    if os.environ.get("MLC_REQUIRE_POSTGRES") == "1":
        pytest.fail(reason + " (MLC_REQUIRE_POSTGRES=1: it must run)")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AlertDatabase]:
    """A fresh database: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        db = AlertDatabase(f"sqlite:///{tmp_path / 'alerts.db'}")
        try:
            yield db
        finally:
            await db.close()
        return
    schema = f"mlc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        await admin.dispose()
        _unreachable(exc)
    db = AlertDatabase(POSTGRES_URL, {"connect_args": {"server_settings": {"search_path": schema}}})
    try:
        yield db
    finally:
        await db.close()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(users=USERS) as fake:
        yield fake


@pytest.fixture
async def discord_api() -> AsyncIterator[FakeDiscord]:
    """The fake Discord, with discord.py's REST base URL and gateway pointed at it."""
    async with FakeDiscord(application_id=APPLICATION_ID) as fake:
        with fake.installed():
            yield fake
