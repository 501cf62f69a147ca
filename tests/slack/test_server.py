"""Serving: the health check, Slack's URL check, and ``mlc-bot slack`` as a real process.

The two process tests run the installed ``mlc-bot slack`` entry point: over HTTP on
``$PORT``, and in Socket Mode against the fake's WebSocket, each with ``LOG_LEVEL=DEBUG``
so that the logs can be searched for secrets.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest

from adapters.slack.server import SlackServer
from bot.sandbox import SandboxServer
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import SIGNING_SECRET
from tests.slack.payloads import SlackSender, slash_command
from tests.slack.views import text_of

MLC_BOT = str(Path(sys.executable).parent / "mlc-bot")


async def test_health_check(server: SlackServer) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(server.url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "replies_in_flight": 0}


async def test_slack_url_verification_is_answered(sender: SlackSender) -> None:
    body = json.dumps(
        {"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"}
    )
    sent = await sender.post(body, content_type="application/json")
    assert sent.response.status_code == 200
    assert sent.response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV"}


async def test_stopping_lets_replies_in_flight_finish(
    server: SlackServer, sender: SlackSender, sandbox: SandboxServer, slack: FakeSlack
) -> None:
    sandbox.latency = 0.5
    await sender.command("ping")
    await server.stop()
    assert len(slack.responses) == 1
    assert "MyLiveChat is reachable" in text_of(slack.responses[0].blocks)


# --- the real process ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def bot_env(sandbox: SandboxServer, slack: FakeSlack) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MLC_"))}
    env.update(
        MLC_API_URL=sandbox.url,
        MLC_API_TOKEN=sandbox.tokens.site_a_write,
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_API_URL=slack.url,
        PORT=str(_free_port()),
        LOG_LEVEL="DEBUG",
    )
    return env


Process = asyncio.subprocess.Process


@pytest.fixture
async def start_bot() -> AsyncIterator[Callable[[dict[str, str]], asyncio.Future[Process]]]:
    started: list[Process] = []

    async def start(env: dict[str, str]) -> Process:
        process = await asyncio.create_subprocess_exec(
            MLC_BOT,
            "slack",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        started.append(process)
        await _wait_healthy(process, int(env["PORT"]))
        return process

    yield start  # type: ignore[misc]
    for process in started:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _wait_healthy(process: Process, port: int) -> None:
    deadline = time.monotonic() + 20
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                _, err = await process.communicate()
                raise AssertionError(f"mlc-bot slack exited:\n{err.decode()}")
            try:
                response = await client.get(f"http://127.0.0.1:{port}/healthz")
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("mlc-bot slack did not become healthy")


async def _stop(process: Process) -> str:
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 0, err.decode()
    return err.decode()


async def test_mlc_bot_slack_serves_http_on_port(
    bot_env: dict[str, str], start_bot, slack: FakeSlack, sandbox: SandboxServer
) -> None:
    bot_env["SLACK_SIGNING_SECRET"] = SIGNING_SECRET
    process = await start_bot(bot_env)
    events_url = f"http://127.0.0.1:{bot_env['PORT']}/slack/events"
    async with httpx.AsyncClient(timeout=10) as client:
        sender = SlackSender(client, events_url, SIGNING_SECRET, slack.response_url)
        sent = await sender.command("usage --public", user="U_ADMIN")
        forged = await sender.command("usage", secret="forged")
    assert sent.response.status_code == 200 and forged.response.status_code == 401
    (reply,) = await slack.wait_for_responses(1, within=10)
    assert reply.response_type == "in_channel"
    assert "included replies used" in text_of(reply.blocks)
    assert sandbox.count(resource="usage") == 1

    logs = await _stop(process)
    assert "serving Slack (HTTP, /slack/events)" in logs
    assert "will be unused" not in logs  # Bolt's notice about the env token would mislead
    assert sent.response_url is not None and forged.response_url is not None
    for secret in (
        slack.bot_token,
        SIGNING_SECRET,
        sandbox.tokens.site_a_write,
        sent.response_url.rsplit("/", 1)[1],
        forged.response_url.rsplit("/", 1)[1],
    ):
        assert secret not in logs


async def test_mlc_bot_slack_runs_socket_mode_with_an_app_token(
    bot_env: dict[str, str], start_bot, slack: FakeSlack, sandbox: SandboxServer
) -> None:
    bot_env["SLACK_APP_TOKEN"] = slack.app_token  # and no signing secret: not needed here
    process = await start_bot(bot_env)
    await slack.wait_for_socket(within=10)
    response_url = slack.response_url()
    form = slash_command("usage", user_id="U_MEMBER", channel_id="C1", response_url=response_url)
    slack.hold("users.info")  # an ack that waited for it would never come
    ack = await slack.send_envelope("slash_commands", dict(parse_qsl(form)))
    assert "envelope_id" in ack and sandbox.count() == 0
    slack.release("users.info")
    (reply,) = await slack.wait_for_responses(1, within=10, response_url=response_url)
    assert "included replies used" in text_of(reply.blocks)
    assert reply.response_type == "ephemeral"
    assert [c.token for c in slack.calls_to("apps.connections.open")] == [slack.app_token]

    logs = await _stop(process)
    for secret in (slack.bot_token, slack.app_token, sandbox.tokens.site_a_write):
        assert secret not in logs


async def _run_to_exit(env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        MLC_BOT, "slack", env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), 20)
    return process.returncode or 0, err.decode()


async def test_a_token_slack_refuses_stops_the_start_with_advice(
    bot_env: dict[str, str], slack: FakeSlack
) -> None:
    bot_env.update(SLACK_BOT_TOKEN="xoxb-9999-revoked-token", SLACK_SIGNING_SECRET=SIGNING_SECRET)
    status, err = await _run_to_exit(bot_env)
    assert status == 2
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in err
    assert "OAuth & Permissions" in err
    assert "xoxb-9999-revoked-token" not in err


async def test_http_mode_without_a_signing_secret_says_what_to_set(
    bot_env: dict[str, str],
) -> None:
    status, err = await _run_to_exit(bot_env)
    assert status == 2
    assert "SLACK_SIGNING_SECRET is not set" in err and "SLACK_APP_TOKEN" in err
