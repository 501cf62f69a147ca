"""``mlc-bot run``: one process serves Slack, Discord, a digest and an alert.

Real HTTP into the one process's Slack endpoint and alert receiver, the gateway and REST of
the fake Discord, the fake Slack receiving what the bot posts, and the sandbox behind it.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.alerts.secrets import new_key
from bot.config import Settings
from bot.processes.run import plan, run_all
from bot.sandbox import SandboxServer
from bot.secrets import Secret
from tests.digests.conftest import due_digest
from tests.discord import payloads
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.metrics_scrape import wait_for_http
from tests.processes import free_port
from tests.slack.payloads import SlackSender

SIGNING_SECRET = "run-all-signing-secret-0123456789"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(users=(FakeUser("U_ADMIN", name="ana", role="admin"),)) as fake:
        yield fake


@pytest.fixture
async def discord_api() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(application_id=payloads.APPLICATION_ID) as fake:
        fake.token = "fake-discord-token"
        yield fake


def _settings(sandbox: SandboxServer, slack: FakeSlack, tmp_path: Path, port: int) -> Settings:
    return Settings(
        api_url=sandbox.url,
        api_token=Secret(sandbox.tokens.site_a_write),
        slack_bot_token=Secret(slack.bot_token),
        slack_signing_secret=Secret(SIGNING_SECRET),
        slack_api_url=slack.url,
        discord_token=Secret("fake-discord-token"),
        public_url=f"http://127.0.0.1:{port}",
        secret_key=Secret(new_key()),
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        port=port,
    )


def test_the_plan_says_what_runs_and_why_the_rest_is_off() -> None:
    chosen = plan(Settings(slack_bot_token=Secret("xoxb-1"), slack_signing_secret=Secret("s")))
    assert any(part.startswith("Slack (HTTP") for part in chosen.on)
    assert "digests" in chosen.on
    assert "Discord: DISCORD_TOKEN is not set" in chosen.off
    assert any(part.startswith("alerts: MLC_BOT_SECRET_KEY is not set") for part in chosen.off)


async def test_one_process_serves_slack_discord_a_digest_and_an_alert(
    sandbox: SandboxServer,
    slack: FakeSlack,
    discord_api: FakeDiscord,
    tmp_path: Path,
) -> None:
    port = free_port()
    settings = _settings(sandbox, slack, tmp_path, port)
    await due_digest(settings.database_url)
    with discord_api.installed():
        serving = asyncio.create_task(run_all(settings, poll_interval=0.5))
        try:
            await wait_for_http(f"http://127.0.0.1:{port}/healthz")
            await asyncio.wait_for(discord_api.identified.wait(), 10)
            async with httpx.AsyncClient(timeout=10) as client:
                sender = SlackSender(
                    client,
                    f"http://127.0.0.1:{port}/slack/events",
                    SIGNING_SECRET,
                    slack.response_url,
                )
                # Slack: a slash command.
                pinged = await sender.command("ping")
                await slack.wait_for_responses(1, response_url=pinged.response_url, within=10)
                # An alert rule, then an event MyLiveChat sends.
                added = await sender.command("alerts add handoff", channel="C_ALERTS")
                (rule,) = await slack.wait_for_responses(
                    1, response_url=added.response_url, within=10
                )
                assert "received (HTTP 200)" in str(rule.body), rule.body
                (delivery,) = await sandbox.emit_event(sandbox.site_a_id, "handoff")
                assert delivery.delivered
            # Discord: an interaction through the gateway.
            interaction = payloads.slash("ping")
            await discord_api.dispatch("INTERACTION_CREATE", interaction)
            await discord_api.wait_for(lambda: discord_api.followups(interaction["token"]), 10)
            # The digest (caught up at start) and the alert reach their channels.
            await slack.wait_for_messages(2, within=15)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)
            assert await asyncio.wait_for(serving, 15) == 0
    channels = sorted(m.channel for m in slack.messages)
    assert channels == ["C_ALERTS", "C_DIGEST"]
    alert = next(m for m in slack.messages if m.channel == "C_ALERTS")
    assert "needs a human" in alert.text
    (answer,) = discord_api.followups(interaction["token"])
    assert answer.json["embeds"][0]["title"] == "MyLiveChat is reachable"
    # One API client, one limiter: every request of the process went through one budget.
    assert sandbox.rate_limited_count == 0
