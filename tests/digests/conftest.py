"""Digest fixtures: a database per test (SQLite and PostgreSQL), a clock you set by hand,
a sandbox whose clock starts where that clock does, and a console poster to read posts from.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.console.poster import ConsolePoster
from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from bot.scheduler.delivery import DigestSender
from bot.scheduler.digest_scheduler import DigestScheduler
from bot.storage import DigestStore
from commands.digests.store import NewSubscription, Subscription
from commands.ports import Poster
from tests.databases import FreshDatabase, fresh_database

# The sandbox's seeded data is stamped relative to this instant; the test clock starts here.
SANDBOX_NOW = datetime(2026, 4, 22, 10, 0, tzinfo=UTC)  # a Wednesday


class FakeClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Database(FreshDatabase):
    """One test's database, and the stores on it a test opened (one per process)."""

    stores: list[DigestStore] = field(default_factory=list)

    async def store(self) -> DigestStore:
        """A new store with its own engine (a second process would have its own too)."""
        store = DigestStore.from_url(self.url, **self.options)
        self.stores.append(store)
        await store.migrate()
        return store

    async def close(self) -> None:
        for store in self.stores:
            await store.aclose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Database]:
    """A fresh database: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    async with fresh_database(request.param, tmp_path / "digests.db", Database) as db:
        yield db


@pytest.fixture
async def store(database: Database) -> DigestStore:
    return await database.store()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(SANDBOX_NOW)


@pytest.fixture
async def site() -> AsyncIterator[SandboxServer]:
    """A sandbox whose seeded data is stamped relative to :data:`SANDBOX_NOW`."""
    async with SandboxServer(rate_limit=1000, now=SANDBOX_NOW) as server:
        yield server


@pytest.fixture
async def site_api(site: SandboxServer) -> AsyncIterator[MyLiveChatClient]:
    """Site A's client; quick retries so injected faults fail fast."""
    async with MyLiveChatClient(site.tokens.site_a_write, base_url=site.url, backoff=0.01) as api:
        yield api


class Posts:
    """What the console poster printed, split into posts."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.lines.append(text)

    def to(self, channel: str) -> list[str]:
        return [p for p in self.lines if p.startswith(f"[digest → #{channel}]")]

    def direct(self, user: str) -> list[str]:
        return [p for p in self.lines if p.startswith(f"[digest → @{user}]")]


@pytest.fixture
def posts() -> Posts:
    return Posts()


@pytest.fixture
def console(posts: Posts) -> ConsolePoster:
    return ConsolePoster(posts.write)


def make_scheduler(
    store: DigestStore,
    api: MyLiveChatClient,
    clock: FakeClock,
    posters: dict[str, Poster],
    *,
    instance: str = "test",
) -> DigestScheduler:
    sender = DigestSender(store, api, posters, clock=clock, instance=instance)
    return DigestScheduler(store, sender, clock=clock, poll_interval=3600)


async def subscribe(
    store: DigestStore,
    when: datetime,
    *,
    kind: str = "usage",
    at: str = "09:00",
    tz: str = "Europe/Berlin",
    days: str = "daily",
    channel: str = "C1",
    platform: str = "console",
    workspace: str | None = None,
    created_by: str = "U_ADMIN",
) -> Subscription:
    """A subscription created at ``when`` (so runs before ``when`` are never sent)."""
    new = NewSubscription(platform, workspace, channel, kind, at, tz, days, created_by)
    return await store.add(new, when)


async def due_digest(database_url: str) -> None:
    """A usage digest for Slack channel C_DIGEST whose run fell due a minute ago."""
    store = DigestStore.from_url(database_url)
    await store.migrate()
    due = datetime.now(UTC) - timedelta(minutes=1)
    new = NewSubscription(
        "slack", "T0TEAM", "C_DIGEST", "usage", due.strftime("%H:%M"), "UTC", "daily", "U_ADMIN"
    )
    await store.add(new, due - timedelta(days=1))
    await store.aclose()


def local(text_: str, zone: str) -> datetime:
    """``2026-03-29 09:00`` in ``zone``, as an aware datetime."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text_).replace(tzinfo=ZoneInfo(zone))


@pytest.fixture
def caplog_digests(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level("INFO", logger="mlc_bot.digests")
    yield caplog
