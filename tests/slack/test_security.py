"""Signatures, staleness and retries: only genuine, first deliveries run anything."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from adapters.slack.server import SlackServer
from bot.sandbox import SandboxServer
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import SIGNING_SECRET, nothing_ran, settle
from tests.slack.payloads import SlackSender, sign, slash_command


async def test_forged_signature_gets_401_and_runs_nothing(
    sender: SlackSender, server: SlackServer, sandbox: SandboxServer, slack: FakeSlack
) -> None:
    sent = await sender.command("tags add forged", secret="not-the-signing-secret")
    assert sent.response.status_code == 401
    await nothing_ran(server, sandbox, slack)


async def test_body_changed_after_signing_gets_401(
    sender: SlackSender, server: SlackServer, sandbox: SandboxServer, slack: FakeSlack
) -> None:
    url = slack.response_url()
    body = slash_command("usage", user_id="U_ADMIN", channel_id="C1", response_url=url)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **sign(SIGNING_SECRET, body),
    }
    tampered = body.replace("usage", "tags+add+evil")
    response = await sender.client.post(sender.events_url, content=tampered, headers=headers)
    assert response.status_code == 401
    await nothing_ran(server, sandbox, slack)


@pytest.mark.parametrize("age", [301, 3600])
async def test_stale_timestamp_gets_401_even_when_correctly_signed(
    sender: SlackSender,
    server: SlackServer,
    sandbox: SandboxServer,
    slack: FakeSlack,
    age: int,
) -> None:
    sent = await sender.command("usage", timestamp=int(time.time()) - age)
    assert sent.response.status_code == 401
    await nothing_ran(server, sandbox, slack)


async def test_unsigned_request_gets_401(
    sender: SlackSender, server: SlackServer, sandbox: SandboxServer, slack: FakeSlack
) -> None:
    body = slash_command("usage", user_id="U_ADMIN", channel_id="C1", response_url="x")
    response = await sender.client.post(
        sender.events_url,
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 401
    await nothing_ran(server, sandbox, slack)


async def test_a_retried_command_runs_once(
    sender: SlackSender, server: SlackServer, sandbox: SandboxServer, slack: FakeSlack
) -> None:
    sandbox.latency = 0.5  # the first delivery is still being handled when the retry comes
    first = await sender.command("usage")
    retry = await sender.post(first.body, retry_num=1, response_url=first.response_url)
    again = await sender.post(first.body, retry_num=2, response_url=first.response_url)
    assert first.response.status_code == retry.response.status_code == 200
    assert again.response.status_code == 200
    await settle(server)
    await slack.wait_for_responses(1)
    await asyncio.sleep(0.2)
    assert sandbox.count(resource="usage") == 1
    assert len(slack.responses) == 1


async def test_two_identical_commands_typed_twice_both_run(
    sender: SlackSender, server: SlackServer, sandbox: SandboxServer, slack: FakeSlack
) -> None:
    await sender.command("ping")
    await sender.command("ping")
    await slack.wait_for_responses(2)
    assert sandbox.count(resource="ping") == 2


async def test_secrets_never_reach_the_info_logs(
    sender: SlackSender,
    server: SlackServer,
    sandbox: SandboxServer,
    slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    slack.response_status = 404  # an expired response URL: the bot logs the refusal
    sandbox.inject_fault("500", count=5)
    sent = await sender.command("usage")
    await sender.command("tags", secret="forged")
    await slack.wait_for_responses(1, within=10)
    await settle(server)
    assert sent.response_url is not None
    logged = caplog.text
    assert "Slack refused a reply (HTTP 404)" in logged
    for secret in (
        slack.bot_token,
        SIGNING_SECRET,
        sandbox.tokens.site_a_write,
        sent.response_url.rsplit("/", 1)[1],
    ):
        assert secret not in logged
