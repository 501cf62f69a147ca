"""Exactly once across real processes: two web processes on one database, and a web
process killed with SIGKILL after it answered a delivery 2xx and before its post was done.

Each web process is ``python -m tests.alerts.web_process`` (``mlc-bot web``'s parts with a
3 s lease); the sandbox and the fake Slack run in the test process. On SQLite and on
PostgreSQL (a scratch database: the processes get nothing but ``DATABASE_URL``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.alerts.secrets import new_key
from bot.sandbox import SandboxServer
from bot.storage.lazy import LazyDatabase
from commands.alerts.model import NewRule
from commands.alerts.service import RECEIVER_PATH
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import FakeSlack, PostedMessage
from tests.slack.views import text_of

from .harness import (
    ALERTS,
    WebProcess,
    alert_rows,
    free_port,
    handoff_event,
    signed,
    slack_sender,
    subscription,
    wait_until,
)

LEASE = 3.0
DISCORD_GUILD, DISCORD_CHANNEL = "700000000000000001", "700000000000000002"


async def start(
    processes: list[WebProcess],
    sandbox: SandboxServer,
    slack: FakeSlack,
    database_url: str,
    log: Path,
    *,
    port: int,
    key: str,
    discord: FakeDiscord | None = None,
) -> WebProcess:
    env = WebProcess.environment(
        sandbox, slack, database_url, port=port, secret_key=key, lease=LEASE, discord=discord
    )
    process = WebProcess(env, log)
    processes.append(process)
    await process.start()
    return process


async def add_rule(process: WebProcess, slack: FakeSlack, text: str = "alerts add handoff") -> str:
    async with httpx.AsyncClient(timeout=15) as client:
        sent = await slack_sender(client, process.port, slack).command(
            text, user="U_ADMIN", channel=ALERTS
        )
    assert sent.response_url is not None
    (reply,) = await slack.wait_for_responses(1, within=15, response_url=sent.response_url)
    return reply.text


def posts(slack: FakeSlack) -> list[PostedMessage]:
    return [m for m in slack.messages if m.channel == ALERTS and not m.ephemeral]


def event(n: int) -> dict[str, Any]:
    return handoff_event(
        id=5000 + n, session_id=f"s_twice_{n:03d}", visitor_name=f"Visitor {n:03d}"
    )


async def test_two_web_processes_receiving_the_same_deliveries_post_each_event_once(
    database_url: str,
    tmp_path: Path,
    sandbox: SandboxServer,
    slack: FakeSlack,
    processes: list[WebProcess],
) -> None:
    key = new_key()
    first = await start(
        processes, sandbox, slack, database_url, tmp_path / "a.log", port=free_port(), key=key
    )
    second = await start(
        processes, sandbox, slack, database_url, tmp_path / "b.log", port=free_port(), key=key
    )
    assert "Handoff alerts on" in await add_rule(first, slack)
    secret = subscription(sandbox).secret  # the sandbox signs with it; the bot keeps it
    events = [event(n) for n in range(10)]
    async with httpx.AsyncClient(timeout=15) as client:

        async def deliver(process: WebProcess, payload: dict[str, Any]) -> int:
            body, headers = signed(secret, payload)
            answer = await client.post(process.url + RECEIVER_PATH, content=body, headers=headers)
            return answer.status_code

        # Every event to both processes at once, twice each (MyLiveChat retrying).
        statuses = await asyncio.gather(
            *(deliver(p, e) for e in events for p in (first, second, second, first))
        )
    assert set(statuses) == {200}

    async def all_posted() -> bool:
        rows = await alert_rows(database_url)
        return len(rows) == len(events) and all(r.message_id for r in rows)

    await wait_until(all_posted, "every alert posted", within=60)
    await asyncio.sleep(LEASE + 1)  # a lease later: any second post would have been made
    shown = posts(slack)
    for payload in events:
        session = payload["data"]["session_id"]
        assert sum(session in text_of(m.blocks) for m in shown) == 1, session
    assert len(shown) == len(events)
    logs = first.log() + second.log()
    assert logs.count(" posted to slack ") == len(events)  # shared between the two
    assert "Traceback" not in logs
    assert await first.stop() == 0 and await second.stop() == 0


@pytest.mark.parametrize("slack_has_it", [True, False], ids=["slack-has-the-post", "post-lost"])
async def test_a_web_process_killed_after_the_2xx_posts_once_after_restart(
    database_url: str,
    tmp_path: Path,
    sandbox: SandboxServer,
    slack: FakeSlack,
    processes: list[WebProcess],
    slack_has_it: bool,
) -> None:
    """Killed while its post is on the wire: Slack either has it (it makes the message and
    answers late) or never got it (the request died with the process). The restarted
    process posts the event exactly once either way."""
    port, key = free_port(), new_key()
    bot = await start(
        processes, sandbox, slack, database_url, tmp_path / "a.log", port=port, key=key
    )
    await add_rule(bot, slack)
    if slack_has_it:
        slack.delay_answer("chat.postMessage", 60)  # the message is made, the answer is late
    else:
        slack.hold("chat.postMessage")
    (delivery,) = await sandbox.emit_event(sandbox.site_a_id, "handoff")
    assert delivery.receiver_status == 200  # accepted: from here it must be posted
    await wait_until(lambda: slack.calls_to("chat.postMessage"), "the post to go out")
    if slack_has_it:
        await wait_until(lambda: posts(slack), "Slack to show the message")
    await bot.kill()
    if not slack_has_it:
        slack.drop_held("chat.postMessage")
        assert posts(slack) == []

    restarted = await start(
        processes, sandbox, slack, database_url, tmp_path / "b.log", port=port, key=key
    )

    async def posted() -> bool:
        rows = await alert_rows(database_url)
        return len(rows) == 1 and rows[0].message_id is not None

    await wait_until(posted, "the alert to be posted after the restart", within=60)
    await asyncio.sleep(LEASE + 1)
    (message,) = posts(slack)
    session = delivery.payload["data"]["session_id"]
    assert session in text_of(message.blocks)
    (row,) = await alert_rows(database_url)
    assert row.message_id == message.ts  # the row points at the one message
    log = restarted.log()
    if slack_has_it:
        assert "its post was there already; not posted again" in log
    else:
        assert " posted to slack " in log
    assert await restarted.stop() == 0


async def test_a_web_process_killed_while_discord_takes_the_post_posts_once_after_restart(
    database_url: str,
    tmp_path: Path,
    sandbox: SandboxServer,
    slack: FakeSlack,
    processes: list[WebProcess],
) -> None:
    """Discord has the post (it answers late) when the process dies; the restarted one
    posts again under the same nonce, and Discord answers with the first message."""
    async with FakeDiscord() as discord:
        port, key = free_port(), new_key()
        bot = await start(
            processes, sandbox, slack, database_url, tmp_path / "a.log", port=port, key=key,
            discord=discord,
        )  # fmt: skip
        await add_rule(bot, slack)  # provisions the subscription (its rule alerts Slack)
        database = LazyDatabase(database_url)
        try:
            async with database.alert_records() as records:
                await records.add_rule(
                    NewRule("discord", DISCORD_GUILD, DISCORD_CHANNEL, "handoff", "600"),
                    datetime.now(UTC),
                )
        finally:
            await database.aclose()
        discord.latency = 5.0  # every request from now on is made, and answered late
        (delivery,) = await sandbox.emit_event(sandbox.site_a_id, "handoff")
        assert delivery.receiver_status == 200
        path = f"/channels/{DISCORD_CHANNEL}/messages"
        await wait_until(lambda: discord.matching("POST", path), "the post to reach Discord")
        await bot.kill()
        discord.latency = 0.0
        restarted = await start(
            processes, sandbox, slack, database_url, tmp_path / "b.log", port=port, key=key,
            discord=discord,
        )  # fmt: skip

        async def posted() -> bool:
            rows = await alert_rows(database_url)
            return len(rows) == 2 and all(r.message_id for r in rows)

        await wait_until(posted, "both alerts to be posted after the restart", within=90)
        await wait_until(
            lambda: all(r.status for r in discord.matching("POST", path)), "Discord's answers"
        )
        await asyncio.sleep(LEASE + 1)
        assert len(discord.channel_messages(DISCORD_CHANNEL)) == 1
        assert discord.repeats >= 1  # the second post repeated the nonce: no second message
        assert len(posts(slack)) == 1
        assert await restarted.stop() == 0
