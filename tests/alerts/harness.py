"""The bot's web process as the alert tests run it, and what they send it.

- :func:`web_bot`: ``mlc-bot web``'s parts (:class:`~bot.processes.web.WebParts`) in this
  process on a free port and the test's database, talking to the sandbox and the fake
  Slack (and the fake Discord, when given); :class:`WebBot` sends it signed slash commands,
  button clicks and webhook deliveries.
- :func:`discord_bot`: ``mlc-bot discord``'s part on the same database, connected to the
  fake Discord's gateway, for clicks on Discord alerts.
- :class:`WebProcess`: ``python -m tests.alerts.web_process`` (the same parts, short leases)
  as a real process the crash tests kill.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from adapters.slack.client import web_client
from adapters.slack.poster import SlackPoster
from adapters.web import listen
from adapters.webhooks import receiver
from bot.alerts.messages import PostedAlerts
from bot.alerts.secrets import EncryptedSecrets, new_key
from bot.alerts.tables import AlertOutbox, AlertTables
from bot.alerts.worker import AlertWorker
from bot.compose import build_core
from bot.config import Settings
from bot.processes.discord import DiscordPart
from bot.processes.web import WebParts
from bot.sandbox import SandboxServer
from bot.secrets import Secret
from bot.storage.alerts import AlertRecords
from bot.storage.lazy import LazyDatabase
from commands.alerts.inbox import Inbox, signature_of
from commands.alerts.model import Alert
from commands.alerts.service import RECEIVER_PATH, SUBSCRIPTION_LABEL, AlertService
from commands.digests.store import StorageUnavailable
from commands.ports import Poster
from tests.databases import FreshDatabase
from tests.discord import payloads
from tests.fakes.discord_api import DiscordRequest, FakeDiscord
from tests.fakes.slack_api import FakeSlack, FakeUser, PostedMessage, ResponsePost
from tests.processes import ServingProcess, child_env, free_port, python_module
from tests.slack.payloads import SlackSender

__all__ = [
    "ALERTS",
    "APPLICATION_ID",
    "SIGNING_SECRET",
    "USERS",
    "AlertDatabase",
    "ClockedBot",
    "DiscordBot",
    "FakeClock",
    "WebBot",
    "WebProcess",
    "alert_rows",
    "button",
    "buttons",
    "clocked_bot",
    "discord_bot",
    "free_port",
    "handoff_event",
    "signed",
    "slack_sender",
    "subscription",
    "wait_until",
    "web_bot",
]

SIGNING_SECRET = "8f742231b10e8888abcd99e1c2d3f4a5"
ALERTS = "C_ALERTS"
"""The Slack channel the tests' rules alert."""
APPLICATION_ID = payloads.APPLICATION_ID

USERS = (
    FakeUser("U_ADMIN", name="ana", role="admin"),
    FakeUser("U_MEMBER", name="mia"),
    FakeUser("U_OTHER", name="oto"),
    *(FakeUser(f"U_RACE{i:02d}", name=f"racer{i:02d}") for i in range(50)),
)


@dataclass
class AlertDatabase(FreshDatabase):
    """One test's database, and the handles on it a test opened (one per process)."""

    opened: list[LazyDatabase] = field(default_factory=list)

    def lazy(self) -> LazyDatabase:
        """A new handle with its own engine, as another process would have."""
        database = LazyDatabase(self.url, **self.options)
        self.opened.append(database)
        return database

    @contextlib.asynccontextmanager
    async def records(self) -> AsyncIterator[AlertRecords]:
        """The alert tables, read from outside the bot (what the test looks at)."""
        async with self.lazy().alert_records() as records:
            yield records

    async def close(self) -> None:
        for database in self.opened:
            await database.aclose()


async def wait_until(
    condition: Callable[[], object], what: str, within: float = 30.0, every: float = 0.02
) -> None:
    """Until ``condition()`` is truthy (it may be a coroutine function)."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {within:.0f} s waiting for {what}")
        await asyncio.sleep(every)


def subscription(sandbox: SandboxServer) -> Any:
    """The sandbox's alert subscription (the one the bot provisioned), or None."""
    ours = [s for s in sandbox.state.webhooks.values() if s.label == SUBSCRIPTION_LABEL]
    assert len(ours) <= 1, f"{len(ours)} alert subscriptions"
    return ours[0] if ours else None


def stamp(when: datetime | None = None) -> str:
    return (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def alert_rows(database_url: str) -> list[Alert]:
    """Every alert in the database at ``database_url``, read from outside the bot.

    SQLite may refuse this outside reader at once ("database is locked") while the bot's
    processes write, whatever its busy timeout; it reads again then: the test's eyes, not the
    bot, were refused.
    """
    refused = 0
    while True:
        database = LazyDatabase(database_url)
        try:
            async with database.alert_records() as records:
                return await records.all_alerts()
        except StorageUnavailable:
            refused += 1
            if refused == 20:
                raise
        finally:
            await database.aclose()
        await asyncio.sleep(0.1)


def slack_sender(client: httpx.AsyncClient, port: int, slack: FakeSlack) -> SlackSender:
    """Signed Slack requests to the bot's ``/slack/events`` on ``port``."""
    events_url = f"http://127.0.0.1:{port}/slack/events"
    return SlackSender(client, events_url, SIGNING_SECRET, slack.response_url)


def handoff_event(at: datetime | None = None, **data: Any) -> dict[str, Any]:
    """A ``handoff`` webhook event of site 1 that happened ``at`` (now); ``data`` replaces
    its fields (the handoff's id, session, visitor, reason)."""
    return {
        "id": f"evt_{secrets.token_hex(12)}",
        "event": "handoff",
        "site_id": 1,
        "occurred_utc": stamp(at),
        "data": {
            "id": 4242,
            "session_id": "s_receiver",
            "visitor_name": "Rui Costa",
            "reason": "asked for a human",
            "created_utc": stamp(at),
            **data,
        },
    }


def signed(
    secret: str, payload: Mapping[str, Any] | bytes, *, sent: datetime | None = None
) -> tuple[bytes, dict[str, str]]:
    """A delivery as MyLiveChat makes it: the body and its signature and timestamp headers."""
    body = (
        payload
        if isinstance(payload, bytes)
        else json.dumps(payload, separators=(",", ":")).encode()
    )
    return body, {
        "Content-Type": "application/json",
        "X-MLC-Signature": signature_of(secret, body),
        "X-MLC-Timestamp": stamp(sent),
    }


def buttons(message: PostedMessage) -> list[dict[str, Any]]:
    return [e for b in message.blocks if b.get("type") == "actions" for e in b["elements"]]


def button(message: PostedMessage, label: str) -> dict[str, Any]:
    found = [b for b in buttons(message) if b["text"]["text"] == label]
    assert found, f"no {label!r} button among {[b['text']['text'] for b in buttons(message)]}"
    return found[0]


def settings_for(
    sandbox: SandboxServer,
    slack: FakeSlack | None,
    database_url: str,
    port: int,
    *,
    secret_key: str | None,
    public_url: bool = True,
    discord: bool = False,
) -> Settings:
    return Settings(
        api_url=sandbox.url,
        api_token=Secret(sandbox.tokens.site_a_write),
        slack_bot_token=Secret(slack.bot_token) if slack else None,
        slack_signing_secret=Secret(SIGNING_SECRET) if slack else None,
        slack_api_url=slack.url if slack else None,
        discord_token=Secret("fake-token.for-alert-tests") if discord else None,
        port=port,
        public_url=f"http://127.0.0.1:{port}" if public_url else None,
        secret_key=Secret(secret_key) if secret_key else None,
        database_url=database_url,
    )


@dataclass
class WebBot:
    """The web process's parts, serving, and a signed client for them."""

    parts: WebParts
    slack: FakeSlack | None
    sandbox: SandboxServer
    http: httpx.AsyncClient
    port: int

    @property
    def settings(self) -> Settings:
        return self.parts.settings

    @property
    def receiver_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{RECEIVER_PATH}"

    @property
    def sender(self) -> SlackSender:
        assert self.slack is not None
        return slack_sender(self.http, self.port, self.slack)

    async def command(
        self, text: str, *, user: str = "U_ADMIN", channel: str = ALERTS
    ) -> ResponsePost:
        """``/mlc <text>`` from ``user`` in ``channel``; the reply it got."""
        sent = await self.sender.command(text, user=user, channel=channel)
        assert sent.response.status_code == 200, sent.response.text
        assert sent.response_url is not None and self.parts.slack is not None
        await self.parts.slack.tasks.wait_idle()
        (reply,) = self.slack.responses_to(sent.response_url)  # type: ignore[union-attr]
        return reply

    async def click(
        self, message: PostedMessage, label: str, *, user: str, channel: str = ALERTS
    ) -> ResponsePost:
        """A click by ``user`` on the ``label`` button of a channel message; its answer."""
        sent = await self.sender.click(
            button(message, label), user=user, channel=channel, message_ts=message.ts,
            ephemeral=False,
        )  # fmt: skip
        assert sent.response.status_code == 200, sent.response.text
        assert sent.response_url is not None and self.parts.slack is not None
        await self.parts.slack.tasks.wait_idle()
        (reply,) = self.slack.responses_to(sent.response_url)  # type: ignore[union-attr]
        return reply

    async def deliver(self, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
        return await self.http.post(self.receiver_url, content=body, headers=dict(headers))

    async def settled(self) -> None:
        """Until the alert worker has nothing left to do."""
        assert self.parts.worker is not None
        await asyncio.wait_for(self.parts.worker.settled(), 30)

    async def handoff_alert(self, data: dict[str, Any] | None = None) -> PostedMessage:
        """``alerts add handoff`` here, then a handoff on site A (``data``: its fields, by
        default the site's newest): the one alert posted."""
        await self.command("alerts add handoff")
        await self.sandbox.emit_event(self.sandbox.site_a_id, "handoff", data)
        await self.settled()
        (alert,) = self.posts()
        return alert

    def posts(self, channel: str = ALERTS) -> list[PostedMessage]:
        """The channel's own messages (not ephemeral, not in a thread)."""
        assert self.slack is not None
        return [
            m
            for m in self.slack.messages
            if m.channel == channel and not m.ephemeral and m.thread_ts is None
        ]

    def thread(self, message: PostedMessage) -> list[PostedMessage]:
        assert self.slack is not None
        return [m for m in self.slack.messages if m.thread_ts == message.ts]


@contextlib.asynccontextmanager
async def web_bot(
    sandbox: SandboxServer,
    slack: FakeSlack | None,
    database: AlertDatabase,
    *,
    secret_key: str | None = "new",
    public_url: bool = True,
    discord: bool = False,
    port: int | None = None,
) -> AsyncIterator[WebBot]:
    """The web process's parts serving on a free port (``secret_key="new"``: a fresh key)."""
    port = port or free_port()
    key = new_key() if secret_key == "new" else secret_key
    settings = settings_for(
        sandbox, slack, database.url, port, secret_key=key, public_url=public_url, discord=discord
    )
    parts = WebParts.build(settings, database=database.lazy())
    await parts.start()
    try:
        async with httpx.AsyncClient(timeout=15) as http:
            yield WebBot(parts, slack, sandbox, http, port)
    finally:
        await parts.stop()


@dataclass
class DiscordBot:
    """``mlc-bot discord``'s part on the fake gateway, and how to interact with it."""

    part: DiscordPart
    fake: FakeDiscord

    async def interact(self, payload: dict[str, Any]) -> DiscordRequest:
        """Deliver an interaction through the gateway; the bot's follow-up message."""
        await self.fake.dispatch("INTERACTION_CREATE", payload)
        await self.fake.wait_for(lambda: self.fake.followups(payload["token"]), within=15)
        (message,) = self.fake.followups(payload["token"])
        return message


@contextlib.asynccontextmanager
async def discord_bot(
    settings: Settings, fake: FakeDiscord, database: AlertDatabase
) -> AsyncIterator[DiscordBot]:
    """The Discord bot of ``settings`` (a process of its own: its own core and engine)."""
    posters: dict[str, Poster] = {}
    core = build_core(settings, database=database.lazy(), posters=posters)
    part = DiscordPart(core, settings, posters=posters)
    try:
        await part.start()
        await asyncio.wait_for(fake.identified.wait(), 15)
        yield DiscordBot(part, fake)
    finally:
        await part.stop()
        await core.aclose()


class WebProcess(ServingProcess):
    """``python -m tests.alerts.web_process`` (``mlc-bot web`` with short leases), its log
    in a file."""

    name = "the web process"

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        super().__init__(python_module("tests.alerts.web_process"), env, log_path)

    @staticmethod
    def environment(
        sandbox: SandboxServer,
        slack: FakeSlack,
        database_url: str,
        *,
        port: int,
        public_port: int | None = None,
        secret_key: str,
        lease: float = 3.0,
        poll: float = 0.1,
        discord: FakeDiscord | None = None,
    ) -> dict[str, str]:
        """The process's environment; with ``discord``, it posts there too."""
        env = child_env(
            MLC_API_URL=sandbox.url,
            MLC_API_TOKEN=sandbox.tokens.site_a_write,
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.url,
            MLC_BOT_PUBLIC_URL=f"http://127.0.0.1:{public_port or port}",
            MLC_BOT_SECRET_KEY=secret_key,
            DATABASE_URL=database_url,
            PORT=str(port),
            LOG_LEVEL="INFO",
            MLC_TEST_LEASE=str(lease),
            MLC_TEST_POLL=str(poll),
        )
        if discord is not None:
            env |= {
                "DISCORD_TOKEN": "fake-token.for-crash-tests",
                "MLC_TEST_DISCORD_API": discord.url,
            }
        return env


class FakeClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class ClockedBot:
    """The alert pieces of a web process on an injected clock: the receiver (served on a
    port), the worker (driven a round at a time with :meth:`AlertWorker.run_once`), the
    rules and claims, all on the test's database, posting to the fake Slack."""

    clock: FakeClock
    database: LazyDatabase
    secrets: EncryptedSecrets
    tables: AlertTables
    service: AlertService
    worker: AlertWorker
    receiver_url: str
    http: httpx.AsyncClient

    async def deliver(self, body: bytes, headers: Mapping[str, str]) -> int:
        answer = await self.http.post(self.receiver_url, content=body, headers=dict(headers))
        return answer.status_code

    async def round(self) -> int:
        """One worker round at the clock's time; how many rows it worked on."""
        return await self.worker.run_once()

    async def alerts(self) -> list[Alert]:
        async with self.database.alert_records() as records:
            return await records.all_alerts()


@contextlib.asynccontextmanager
async def clocked_bot(
    database: AlertDatabase,
    slack: FakeSlack | None,
    *,
    clock: FakeClock | None = None,
    instance: str = "worker-a",
    lease: float = 30.0,
    posters: Mapping[str, Poster] | None = None,
) -> AsyncIterator[ClockedBot]:
    """The pieces on ``clock``, posting to the fake Slack (or through ``posters``); the
    receiver on a free port is the bot's public address."""
    clock = clock or FakeClock()
    lazy = database.lazy()
    secrets_ = EncryptedSecrets(lazy, new_key())
    outbox = AlertOutbox(lazy)
    if posters is None:
        assert slack is not None
        client = web_client(slack.url, token=slack.bot_token, posts=True)
        posters = {"slack": SlackPoster(client, pace=0)}
    app = web.Application()
    receiver.add_routes(app, Inbox(secrets_, outbox, clock=clock))
    runner = await listen(app, "127.0.0.1", 0)
    public_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    tables = AlertTables(lazy)
    service = AlertService(
        tables,
        outbox,
        PostedAlerts(posters, clock=clock),
        secrets=secrets_,
        public_url=public_url,
        clock=clock,
    )
    worker = AlertWorker(
        lazy, posters, clock=clock, lease=timedelta(seconds=lease), instance=instance
    )
    try:
        async with httpx.AsyncClient(timeout=15) as http:
            yield ClockedBot(
                clock, lazy, secrets_, tables, service, worker, public_url + RECEIVER_PATH, http
            )
    finally:
        await runner.cleanup()
        await lazy.aclose()
