"""Alert fixtures: a database per test (SQLite and PostgreSQL), the fake Slack with a few
members, and the fake Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.databases import fresh_database
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import FakeSlack

from .harness import APPLICATION_ID, USERS, AlertDatabase


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AlertDatabase]:
    """A fresh database: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    async with fresh_database(request.param, tmp_path / "alerts.db", AlertDatabase) as db:
        yield db


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
