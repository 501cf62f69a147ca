"""``/metrics``: what an operator's Prometheus scrapes moves with what the bot does.

The processes run as they do for real (``mlc-bot run`` in this process, ``mlc-bot
scheduler`` as a subprocess) against the sandbox and the fake Slack; each scrape is read
with prometheus_client's own text parser.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import generate_latest

from bot.alerts.secrets import new_key
from bot.config import ConfigError, Settings
from bot.metrics import Metrics
from bot.mylivechat import MyLiveChatClient, ServerError
from bot.processes.discord import run as run_discord
from bot.processes.run import run_all
from bot.processes.web import WebParts
from bot.sandbox import SandboxServer
from bot.secrets import Secret
from commands.dispatch import Dispatcher
from tests.conftest import ContextFactory
from tests.digests.conftest import due_digest
from tests.discord import payloads
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.metrics_scrape import parse, scrape, value, wait_for_http
from tests.processes import free_port
from tests.slack.payloads import SlackSender

SIGNING_SECRET = "metrics-signing-secret-0123456789"
WINDOW = 3.0
"""The sandbox's rate-limit window (seconds) in the web process test: 60 requests in it."""


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(users=(FakeUser("U_ADMIN", name="ana", role="admin"),)) as fake:
        yield fake


async def _spend_the_window(sandbox: SandboxServer) -> float:
    """Use the token's whole window from outside the bot (another process on the same
    token, with no limiter): the Retry-After of the refusal that ends it.

    First the bot's own requests leave the window, so the window is full of these alone
    and stays full for nearly all of it: long enough for the bot's next request to meet it.
    """
    await asyncio.sleep(WINDOW)
    async with httpx.AsyncClient() as client:
        headers = {"Authorization": f"Bearer {sandbox.tokens.site_a_write}"}
        for _ in range(1000):
            answer = await client.get(sandbox.url, params={"resource": "ping"}, headers=headers)
            if answer.status_code == 429:
                return float(answer.headers["Retry-After"])
    raise AssertionError("the sandbox never refused")


async def test_the_web_process_counts_commands_api_calls_429s_waits_acks_digests_and_alerts(
    slack: FakeSlack, tmp_path: Path
) -> None:
    port = free_port()
    async with SandboxServer(rate_limit=60, window=WINDOW) as sandbox:
        settings = Settings(
            api_url=sandbox.url,
            api_token=Secret(sandbox.tokens.site_a_write),
            slack_bot_token=Secret(slack.bot_token),
            slack_signing_secret=Secret(SIGNING_SECRET),
            slack_api_url=slack.url,
            public_url=f"http://127.0.0.1:{port}",
            secret_key=Secret(new_key()),
            database_url=f"sqlite:///{tmp_path / 'bot.db'}",
            port=port,
        )
        await due_digest(settings.database_url)
        metrics_url = f"http://127.0.0.1:{port}/metrics"
        serving = asyncio.create_task(run_all(settings, poll_interval=0.5))
        try:
            await wait_for_http(f"http://127.0.0.1:{port}/healthz")
            async with httpx.AsyncClient(timeout=10) as client:
                await slack.wait_for_messages(1, within=15)  # the digest, caught up at start
                before = await scrape(client, metrics_url)
                sender = SlackSender(
                    client, f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET,
                    slack.response_url,
                )  # fmt: skip
                pinged = await sender.command("ping")
                await slack.wait_for_responses(1, response_url=pinged.response_url, within=10)
                await sender.command("frobnicate")
                for channel in ("C_ALERTS", "C_GONE"):
                    added = await sender.command("alerts add handoff", channel=channel)
                    await slack.wait_for_responses(1, response_url=added.response_url, within=10)
                slack.fail_channel("C_GONE")  # the bot was removed from it
                (delivery,) = await sandbox.emit_event(sandbox.site_a_id, "handoff")
                assert delivery.delivered
                await slack.wait_for_messages(2, within=15)  # the alert in C_ALERTS
                # Another user of the token spends the window: the bot's next call is refused
                # once, waits Retry-After, and is answered.
                retry_after = await _spend_the_window(sandbox)
                refused_before = sandbox.rate_limited_count
                pinged = await sender.command("ping")
                queued, answer = await slack.wait_for_responses(
                    2, response_url=pinged.response_url, within=15
                )
                assert "Queued" in str(queued.body), queued.body
                assert "reachable" in str(answer.body), answer.body
                for _ in range(100):  # counted just after the post, which Slack saw first
                    after = await scrape(client, metrics_url)
                    if value(after, "mlc_bot_alerts_total", outcome="failed"):
                        break
                    await asyncio.sleep(0.05)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)
            assert await asyncio.wait_for(serving, 15) == 0

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("mlc_bot_commands_total", command="ping", outcome="ok") == 2
    assert moved("mlc_bot_commands_total", command="unrecognized", outcome="usage") == 1
    assert moved("mlc_bot_commands_total", command="alerts add handoff", outcome="ok") == 2
    assert moved("mlc_bot_api_requests_total", resource="ping", method="GET", status="200") == 2
    assert moved("mlc_bot_api_requests_total", resource="ping", method="GET", status="429") == 1
    assert moved("mlc_bot_api_requests_total", resource="webhook_subscriptions", method="POST",
                 status="200") == 1  # fmt: skip
    bot_refusals = sandbox.rate_limited_count - refused_before
    assert bot_refusals == 1
    assert moved("mlc_bot_api_rate_limited_total") == bot_refusals
    # Every attempt passed the budget; the retry after the 429 waited out its Retry-After.
    attempts = sum(
        v - value(before, name, **dict(labels))
        for (name, labels), v in after.items()
        if name == "mlc_bot_api_requests_total"
    )
    assert moved("mlc_bot_budget_wait_seconds_count") == attempts
    assert moved("mlc_bot_budget_wait_seconds_sum") >= retry_after - 0.1
    assert moved("mlc_bot_slack_ack_seconds_count") == 5
    assert value(after, "mlc_bot_digests_total", outcome="posted") == 1
    assert value(after, "mlc_bot_alerts_total", outcome="posted") == 1
    assert value(after, "mlc_bot_alerts_total", outcome="failed") == 1
    assert value(after, "process_resident_memory_bytes") > 0


async def test_metrics_port_takes_metrics_off_the_public_port(sandbox: SandboxServer) -> None:
    port, metrics_port = free_port(), free_port()
    settings = Settings(
        api_url=sandbox.url,
        api_token=Secret(sandbox.tokens.site_a_write),
        port=port,
        metrics_port=metrics_port,
    )
    parts = WebParts.build(settings)
    await parts.start()
    try:
        async with httpx.AsyncClient() as client:
            public = await client.get(f"http://127.0.0.1:{port}/metrics")
            private = await scrape(client, f"http://127.0.0.1:{metrics_port}/metrics")
            health = await client.get(f"http://127.0.0.1:{metrics_port}/healthz")
    finally:
        await parts.stop()
    assert public.status_code == 404
    assert ("mlc_bot_api_rate_limited_total", frozenset()) in private
    assert health.json()["ok"] is True


async def test_a_busy_metrics_port_is_one_clear_error(sandbox: SandboxServer) -> None:
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        settings = Settings(
            api_url=sandbox.url,
            api_token=Secret(sandbox.tokens.site_a_write),
            port=free_port(),
            metrics_port=busy,
        )
        parts = WebParts.build(settings)
        try:
            with pytest.raises(ConfigError, match=rf"METRICS_PORT {busy} .*set METRICS_PORT"):
                await parts.start()
        finally:
            await parts.stop()


async def test_the_scheduler_serves_metrics_on_metrics_port(
    sandbox: SandboxServer, slack: FakeSlack, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    await due_digest(database_url)
    metrics_port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MLC_", "LOG_", "SLACK_"))},
        "PYTHONUNBUFFERED": "1",
        "MLC_API_URL": sandbox.url,
        "MLC_API_TOKEN": sandbox.tokens.site_a_write,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_API_URL": slack.url,
        "METRICS_PORT": str(metrics_port),
        "LOG_FORMAT": "json",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "scheduler", env=env,
        stdin=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    try:
        await wait_for_http(url)
        await slack.wait_for_messages(1, within=30)
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                samples = await scrape(client, url)
                if value(samples, "mlc_bot_digests_total", outcome="posted"):
                    break
                await asyncio.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert value(samples, "mlc_bot_digests_total", outcome="posted") == 1
    assert value(samples, "mlc_bot_api_requests_total", resource="usage", method="GET",
                 status="200") == 1  # fmt: skip
    assert value(samples, "mlc_bot_budget_wait_seconds_count") == 1
    # LOG_FORMAT=json: every line an object, the post among them.
    lines = [json.loads(line) for line in err.decode().splitlines()]
    assert any("posted" in line["message"] for line in lines), lines


# -- the hooks, one floor at a time ------------------------------------------------------------


async def test_the_client_counts_each_attempt_by_status_or_error_code(
    sandbox: SandboxServer,
) -> None:
    metrics = Metrics()
    token = sandbox.tokens.site_a_write
    async with MyLiveChatClient(
        token, base_url=sandbox.url, observer=metrics, backoff=0.01, timeout=0.3
    ) as api:
        await api.ping()
        sandbox.inject_fault("500", count=3)
        with pytest.raises(ServerError):
            await api.get_usage()
        sandbox.inject_fault("slow", count=3, delay=1.0)
        with pytest.raises(Exception, match="did not answer in time"):
            await api.list_tags()
    async with MyLiveChatClient(
        "mlc_unreachable_x", base_url="http://127.0.0.1:9/v1/api.ashx", observer=metrics,
        max_retries=0,
    ) as unreachable:  # fmt: skip
        with pytest.raises(Exception, match="could not reach"):
            await unreachable.ping()

    samples = parse(_exposition(metrics))

    def count(resource: str, status: str) -> float:
        return value(
            samples, "mlc_bot_api_requests_total", resource=resource, method="GET", status=status
        )

    assert count("ping", "200") == 1
    assert count("usage", "500") == 3  # the first try and two retries
    assert count("tags", "timeout") == 3
    assert count("ping", "connection_error") == 1
    assert value(samples, "mlc_bot_api_rate_limited_total") == 0
    # Every attempt that was sent passed the budget first; the unreachable one too.
    assert value(samples, "mlc_bot_budget_wait_seconds_count") == 8


class _BrokenObserver:
    def request_done(self, method: str, resource: str, status: str, seconds: float) -> None:
        raise RuntimeError("metrics bug")

    def budget_waited(self, seconds: float) -> None:
        raise RuntimeError("metrics bug")

    def command_done(self, command: str, outcome: str) -> None:
        raise RuntimeError("metrics bug")


async def test_a_broken_observer_never_fails_a_write_or_a_command(
    sandbox: SandboxServer,
    api: MyLiveChatClient,
    make_context: ContextFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api.observer = _BrokenObserver()
    tag = await api.create_tag("observed")
    assert tag.name == "observed"
    assert "observed" in [t.name for t in sandbox.state.tags.values()]
    dispatcher = Dispatcher(observer=_BrokenObserver())
    reply = await dispatcher.run_text("ping", make_context())
    assert reply.ok, reply
    assert "the request observer failed" in caplog.text
    assert "the command observer failed" in caplog.text


async def test_commands_are_counted_by_name_and_outcome(
    sandbox: SandboxServer, api: MyLiveChatClient, make_context: ContextFactory
) -> None:
    metrics = Metrics()
    dispatcher = Dispatcher(observer=metrics)
    await dispatcher.run_text("ping", make_context())
    await dispatcher.run_text("frobnicate", make_context())
    await dispatcher.run_text("usage --nope", make_context())
    await dispatcher.run_text(
        "webhooks add https://example.com/x --events handoff", make_context(admin=False)
    )
    sandbox.inject_fault("500", count=3)
    api.backoff = 0.01
    await dispatcher.run_text("usage", make_context())

    samples = parse(_exposition(metrics))

    def count(command: str, outcome: str) -> float:
        return value(samples, "mlc_bot_commands_total", command=command, outcome=outcome)

    assert count("ping", "ok") == 1
    assert count("unrecognized", "usage") == 1
    assert count("usage", "usage") == 1
    assert count("webhooks add", "denied") == 1
    assert count("usage", "api") == 1


def _exposition(metrics: Metrics) -> str:
    return generate_latest(metrics.registry).decode()


async def test_the_discord_process_serves_metrics_on_metrics_port(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    metrics_port = free_port()
    settings = Settings(
        api_url=sandbox.url,
        api_token=Secret(sandbox.tokens.site_a_write),
        discord_token=Secret("fake-discord-token"),
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        metrics_port=metrics_port,
    )
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    async with FakeDiscord(application_id=payloads.APPLICATION_ID) as discord_api:
        discord_api.token = "fake-discord-token"
        with discord_api.installed():
            serving = asyncio.create_task(run_discord(settings))
            try:
                await wait_for_http(url)
                await asyncio.wait_for(discord_api.identified.wait(), 10)
                interaction = payloads.slash("ping")
                await discord_api.dispatch("INTERACTION_CREATE", interaction)
                await discord_api.wait_for(lambda: discord_api.followups(interaction["token"]), 10)
                async with httpx.AsyncClient() as client:
                    samples = await scrape(client, url)
            finally:
                os.kill(os.getpid(), signal.SIGTERM)
                assert await asyncio.wait_for(serving, 15) == 0
    assert value(samples, "mlc_bot_commands_total", command="ping", outcome="ok") == 1
    assert value(samples, "mlc_bot_api_requests_total", resource="ping", method="GET",
                 status="200") == 1  # fmt: skip
