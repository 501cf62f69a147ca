"""A real Slack adapter server on 127.0.0.1, the sandbox behind it, and a fake Slack around it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from adapters.slack.server import SlackServer
from bot.compose import build_core
from bot.config import Settings
from bot.processes.slack import slack_credentials
from bot.sandbox import SandboxServer
from bot.secrets import Secret
from commands.core import Core
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.slack.payloads import SlackSender

SIGNING_SECRET = "8f742231b10e8888abcd99e1c2d3f4a5"

USERS = (
    FakeUser("U_ADMIN", name="ana", role="admin", tz="Europe/Paris"),
    FakeUser("U_OWNER", name="olu", role="primary_owner", tz="America/New_York"),
    FakeUser("U_MEMBER", name="mia", role="member", tz="Asia/Tokyo"),
    FakeUser("U_GUEST", name="gus", role="guest"),
)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(users=USERS) as fake:
        yield fake


@pytest.fixture
def make_settings(sandbox: SandboxServer, slack: FakeSlack) -> Callable[..., Settings]:
    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "api_url": sandbox.url,
            "api_token": Secret(sandbox.tokens.site_a_write),
            "slack_bot_token": Secret(slack.bot_token),
            "slack_signing_secret": Secret(SIGNING_SECRET),
            "slack_api_url": slack.url,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def core(settings: Settings) -> AsyncIterator[Core]:
    core = build_core(settings)
    yield core
    await core.aclose()


@pytest.fixture
async def server(core: Core, settings: Settings) -> AsyncIterator[SlackServer]:
    async with SlackServer(core, slack_credentials(settings)) as running:
        yield running


@pytest.fixture
async def sender(server: SlackServer, slack: FakeSlack) -> AsyncIterator[SlackSender]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield SlackSender(client, server.events_url, SIGNING_SECRET, slack.response_url)


async def settle(server: SlackServer) -> None:
    """Wait until every reply the server started has been delivered."""
    await server.bot.tasks.wait_idle()


async def nothing_ran(server: SlackServer, sandbox: SandboxServer, slack: FakeSlack) -> None:
    """Assert the server ran nothing: no MyLiveChat call, no reply, no Slack lookup or post."""
    await settle(server)
    await asyncio.sleep(0.2)
    assert sandbox.count() == 0
    assert slack.responses == []
    assert slack.calls_to("users.info") == []
    assert slack.calls_to("chat.postMessage") == []
    assert slack.calls_to("chat.postEphemeral") == []


@contextlib.asynccontextmanager
async def serving(
    settings: Settings, slack: FakeSlack, **options: Any
) -> AsyncIterator[tuple[SlackServer, SlackSender]]:
    """Another Slack server on ``settings`` (the ``server`` fixture's are the defaults)."""
    core = build_core(settings)
    try:
        async with (
            SlackServer(core, slack_credentials(settings), **options) as server,
            httpx.AsyncClient(timeout=10) as client,
        ):
            yield server, SlackSender(client, server.events_url, SIGNING_SECRET, slack.response_url)
    finally:
        await core.aclose()
