"""Shared dedupe across real ``mlc-bot slack`` processes: any process may receive any
retry, and a restarted one does not run what it ran before the crash.

- On one Redis and one PostgreSQL (the issue's case): a slash command delivered to one
  process and its retry (``X-Slack-Retry-Num: 1``, the same signed body) to the other runs
  once; so does a Claim click; a webhook event delivered to both posts once.
- On the database alone (no ``REDIS_URL``), SQLite and PostgreSQL: a request replayed to a
  freshly restarted process (the first killed with SIGKILL) does not run again.

The sandbox, the fake Slack and Redis (a ``redis-server`` of the test's own) run beside.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.alerts.secrets import new_key
from bot.sandbox import SandboxServer
from commands.alerts.service import RECEIVER_PATH
from tests.alerts.harness import (
    ALERTS,
    USERS,
    WebProcess,
    alert_rows,
    button,
    free_port,
    handoff_event,
    signed,
    slack_sender,
    subscription,
    wait_until,
)
from tests.databases import scratch_url
from tests.fakes.slack_api import FakeSlack, PostedMessage
from tests.redis_server import RedisServer
from tests.slack.payloads import Sent, SlackSender

from .processes import BotProcess

DROPPED = "dropped a Slack delivery another process already ran"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(users=USERS) as fake:
        yield fake


@pytest.fixture
async def postgres_url(tmp_path: Path) -> AsyncIterator[str]:
    async with contextlib.AsyncExitStack() as stack:
        yield await scratch_url("postgresql", tmp_path, stack)


class Bots:
    """``mlc-bot slack`` processes on one token, one database and (maybe) one Redis."""

    def __init__(
        self,
        processes: list[BotProcess],
        sandbox: SandboxServer,
        slack: FakeSlack,
        database_url: str,
        folder: Path,
        redis_url: str | None,
    ) -> None:
        self.processes = processes
        self.sandbox, self.slack = sandbox, slack
        self.database_url, self.folder, self.redis_url = database_url, folder, redis_url
        self.key = new_key()
        self.public_port = free_port()

    async def start(self, name: str, *, port: int | None = None) -> BotProcess:
        port = port or free_port()
        env = WebProcess.environment(
            self.sandbox, self.slack, self.database_url, port=port,
            public_port=self.public_port, secret_key=self.key,
        )  # fmt: skip
        env.pop("REDIS_URL", None)
        if self.redis_url is not None:
            env["REDIS_URL"] = self.redis_url
        folder = self.folder / name
        folder.mkdir(exist_ok=True)
        process = BotProcess(["slack"], env, folder / "bot.log")
        self.processes.append(process)
        await process.start()
        return process

    def sender(self, process: BotProcess, client: httpx.AsyncClient) -> SlackSender:
        return slack_sender(client, process.port, self.slack)

    def dropped(self) -> int:
        return sum(p.log().count(DROPPED) for p in self.processes)

    def logs(self) -> str:
        return "".join(p.log() for p in self.processes)


def _retry(sender: SlackSender, first: Sent) -> Any:
    """Slack's retry of ``first``: the same body, signed at the same time, retry 1."""
    timestamp = int(first.response.request.headers["X-Slack-Request-Timestamp"])
    return sender.post(
        first.body, timestamp=timestamp, retry_num=1, response_url=first.response_url
    )


def _alert_event() -> dict[str, Any]:
    return handoff_event(id=7001, session_id="s_shared_0001", visitor_name="Visitor Shared")


def _alert_posts(slack: FakeSlack) -> list[PostedMessage]:
    return [
        m for m in slack.messages if m.channel == ALERTS and not m.ephemeral and not m.thread_ts
    ]


async def test_two_slack_processes_on_redis_run_a_retry_to_the_other_once(
    sandbox: SandboxServer,
    slack: FakeSlack,
    postgres_url: str,
    redis_server: RedisServer,
    processes: list[BotProcess],
    tmp_path: Path,
) -> None:
    bots = Bots(processes, sandbox, slack, postgres_url, tmp_path, redis_server.url)
    first = await bots.start("a", port=bots.public_port)
    second = await bots.start("b")
    async with httpx.AsyncClient(timeout=15) as client:
        to_first, to_second = bots.sender(first, client), bots.sender(second, client)

        # A slash command to one process, Slack's retry of it to the other.
        sent = await to_first.command("usage")
        retry = await _retry(to_second, sent)
        assert sent.response.status_code == retry.response.status_code == 200
        await wait_until(lambda: bots.dropped() == 1, "one of them to drop the retry")
        assert sent.response_url is not None
        await slack.wait_for_responses(1, response_url=sent.response_url, within=15)
        assert sandbox.count(resource="usage") == 1
        assert len(slack.responses_to(sent.response_url)) == 1

        # A webhook event delivered to both (MyLiveChat retrying to another process).
        rule = await to_first.command("alerts add handoff", channel=ALERTS)
        assert rule.response_url is not None
        (added,) = await slack.wait_for_responses(1, response_url=rule.response_url, within=15)
        assert "Handoff alerts on" in added.text
        body, headers = signed(subscription(sandbox).secret, _alert_event())
        answers = await asyncio.gather(
            *(client.post(p.url + RECEIVER_PATH, content=body, headers=headers)
              for p in (first, second, second, first))
        )  # fmt: skip
        assert {a.status_code for a in answers} == {200}

        async def posted() -> bool:
            rows = await alert_rows(postgres_url)
            return len(rows) == 1 and rows[0].message_id is not None

        await wait_until(posted, "the alert to be posted")
        (alert,) = _alert_posts(slack)

        # A Claim click to one process, its retry to the other.
        click = await to_first.click(
            button(alert, "Claim"), user="U_MEMBER", channel=ALERTS, message_ts=alert.ts,
            ephemeral=False,
        )  # fmt: skip
        retry = await _retry(to_second, click)
        assert click.response.status_code == retry.response.status_code == 200
        await wait_until(lambda: bots.dropped() == 2, "one of them to drop the click's retry")
        assert click.response_url is not None
        (answer,) = await slack.wait_for_responses(1, response_url=click.response_url, within=15)
        assert answer.text.startswith("You claimed alert #")
    await wait_until(lambda: len(slack.calls_to("chat.update")) >= 1, "the claim shown")
    assert len(slack.responses_to(click.response_url)) == 1
    assert len(_alert_posts(slack)) == 1
    assert len(slack.calls_to("chat.update")) == 1
    logs = bots.logs()
    assert "Traceback" not in logs
    assert "shared delivery dedupe unavailable" not in logs
    assert await first.stop() == 0 and await second.stop() == 0


async def test_a_request_replayed_to_a_restarted_process_does_not_run_again(
    sandbox: SandboxServer,
    slack: FakeSlack,
    database_url: str,
    processes: list[BotProcess],
    tmp_path: Path,
) -> None:
    """No Redis: the database keeps what ran, through a SIGKILL."""
    bots = Bots(processes, sandbox, slack, database_url, tmp_path, None)
    port = free_port()
    first = await bots.start("a", port=port)
    async with httpx.AsyncClient(timeout=15) as client:
        sent = await bots.sender(first, client).command("usage")
        assert sent.response_url is not None
        await slack.wait_for_responses(1, response_url=sent.response_url, within=15)
        await first.kill()

        restarted = await bots.start("b", port=port)
        replay = await bots.sender(restarted, client).post(
            sent.body,
            timestamp=int(sent.response.request.headers["X-Slack-Request-Timestamp"]),
            response_url=sent.response_url,
        )
        assert replay.response.status_code == 200
        await wait_until(lambda: restarted.log().count(DROPPED) == 1, "the replay dropped")
    assert sandbox.count(resource="usage") == 1
    assert len(slack.responses_to(sent.response_url)) == 1
    assert "Traceback" not in bots.logs()
    assert await restarted.stop() == 0


async def test_redis_away_fails_no_slack_command_and_is_said_once_each_way(
    sandbox: SandboxServer,
    slack: FakeSlack,
    redis_server: RedisServer,
    processes: list[BotProcess],
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    bots = Bots(processes, sandbox, slack, database_url, tmp_path, redis_server.url)
    bot = await bots.start("a", port=bots.public_port)
    lost = ("shared delivery dedupe unavailable", "cache news unavailable")
    back = ("shared delivery dedupe is back", "cache news is back")
    async with httpx.AsyncClient(timeout=15) as client:
        sender = bots.sender(bot, client)

        async def answered(text: str) -> str:
            sent = await sender.command(text)
            assert sent.response.status_code == 200 and sent.response_url is not None
            (reply,) = await slack.wait_for_responses(1, response_url=sent.response_url)
            return reply.text

        redis_server.kill()
        for _ in range(3):
            await answered("usage")
        assert sandbox.count(resource="usage") == 3
        await wait_until(lambda: all(line in bot.log() for line in lost), "both said")
        redis_server.start()
        while not all(line in bot.log() for line in back):  # each asks again after a pause
            await answered("tags")
            await asyncio.sleep(0.2)
    log = bot.log()
    assert [log.count(line) for line in (*lost, *back)] == [1, 1, 1, 1], log
    assert "Traceback" not in log
    assert await bot.stop() == 0
