"""The alert worker's leases under a slow Slack: two workers on one database, a post that
takes longer than a lease. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.slack.client import web_client
from adapters.slack.poster import SlackPoster
from bot.alerts.tables import AlertOutbox, AlertTables
from bot.alerts.worker import AlertWorker
from commands.alerts.model import AlertEvent, NewRule
from tests.fakes.slack_api import FakeSlack

from .harness import ALERTS, AlertDatabase, wait_until

LEASE = timedelta(seconds=1.5)


@pytest.fixture
async def workers(database: AlertDatabase, slack: FakeSlack) -> AsyncIterator[list[AlertWorker]]:
    """Two running workers, each with its own engine (as two web processes have)."""
    started = []
    for name in ("worker-a", "worker-b"):
        poster = SlackPoster(web_client(slack.url, token=slack.bot_token, posts=True), pace=0)
        worker = AlertWorker(
            database.lazy(), {"slack": poster}, lease=LEASE, poll=0.05, instance=name
        )
        await worker.start()
        started.append(worker)
    yield started
    for worker in started:
        await worker.stop()


async def test_a_post_slack_answers_after_more_than_a_lease_is_not_taken_over(
    database: AlertDatabase, slack: FakeSlack, workers: list[AlertWorker]
) -> None:
    now = datetime.now(UTC)
    db = database.lazy()
    await AlertTables(db).add(NewRule("slack", "T0TEAM", ALERTS, "handoff", "U_ADMIN"), now)
    slack.hold("chat.postMessage")  # Slack is slow: the post waits for its answer
    data = {"session_id": "s_slow", "visitor_name": "Slow", "reason": "asked for a human"}
    event = AlertEvent(f"evt_{secrets.token_hex(12)}", "handoff", 1, now, data)
    assert await AlertOutbox(db).enqueue(event, now)
    for worker in workers:
        worker.wake()
    await wait_until(lambda: slack.calls_to("chat.postMessage"), "the post to reach Slack")
    await asyncio.sleep(3 * LEASE.total_seconds())  # three leases: the other worker looks
    assert len(slack.calls_to("chat.postMessage")) == 1  # nobody took it over
    slack.release("chat.postMessage")
    for worker in workers:
        await asyncio.wait_for(worker.settled(), 30)
    async with database.records() as records:
        (alert,) = await records.all_alerts()
    assert [m.channel for m in slack.messages] == [ALERTS]
    assert alert.message_id == slack.messages[0].ts
