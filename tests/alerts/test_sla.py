"""SLA reminders: one reminder in the alert's thread once its rule's SLA passed unclaimed,
none after a claim, exactly once across workers and after a worker died. The worker runs on
an injected clock, a round at a time; deliveries, posts and claims go over real HTTP to
the receiver and the fake Slack. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.alerts.messages import channel_of
from bot.alerts.worker import reminder_key
from bot.storage.alerts import Posting
from commands.alerts.content import reminder_reply
from commands.alerts.model import NewRule
from commands.place import Place
from tests.fakes.slack_api import FakeSlack, PostedMessage
from tests.slack.views import text_of

from .harness import ALERTS, AlertDatabase, ClockedBot, clocked_bot, handoff_event, signed

SECRET = "whsec-for-the-sla-tests"
GROUP = "<!subteam^S0SUPPORT>"
HERE = Place("slack", "T0TEAM", ALERTS)


async def with_rule(bot: ClockedBot, sla_seconds: int = 60) -> None:
    await bot.secrets.put(1, SECRET, bot.clock(), grace=timedelta(0))
    await bot.tables.add(
        NewRule(
            platform="slack",
            workspace_id="T0TEAM",
            channel_id=ALERTS,
            event="handoff",
            created_by="U_ADMIN",
            sla_seconds=sla_seconds,
            mention=GROUP,
        ),
        bot.clock(),
    )


async def handoff(bot: ClockedBot, visitor: str) -> None:
    payload = handoff_event(
        bot.clock(), id=1, session_id=f"s_{visitor.lower()}", visitor_name=visitor
    )
    assert await bot.deliver(*signed(SECRET, payload, sent=bot.clock())) == 200


def top(slack: FakeSlack) -> list[PostedMessage]:
    return [m for m in slack.messages if m.channel == ALERTS and m.thread_ts is None]


def replies(slack: FakeSlack, message: PostedMessage) -> list[PostedMessage]:
    return [m for m in slack.messages if m.thread_ts == message.ts]


async def test_an_unclaimed_handoff_gets_one_reminder_in_its_thread_after_its_sla(
    database: AlertDatabase, slack: FakeSlack
) -> None:
    async with clocked_bot(database, slack) as bot:
        await with_rule(bot, sla_seconds=60)
        await handoff(bot, "Jane")
        await bot.round()
        (alert,) = top(slack)
        bot.clock.advance(seconds=59)
        await bot.round()
        assert replies(slack, alert) == []  # not yet
        bot.clock.advance(seconds=2)
        await bot.round()
        (reminder,) = replies(slack, alert)
        assert reminder.text.startswith(f"{GROUP} ")  # the notification pings the group
        assert GROUP in text_of(reminder.blocks)
        assert "Still unclaimed after 1 min" in reminder.text
        assert "Jane" in reminder.text
        for minutes in (1, 10, 60):
            bot.clock.advance(minutes=minutes)
            await bot.round()
        assert len(replies(slack, alert)) == 1  # once only
        assert len(top(slack)) == 1


async def test_a_claim_before_the_sla_means_no_reminder(
    database: AlertDatabase, slack: FakeSlack
) -> None:
    async with clocked_bot(database, slack) as bot:
        await with_rule(bot, sla_seconds=60)
        await handoff(bot, "Claimed")
        await handoff(bot, "Forgotten")
        await bot.round()
        claimed_alert, forgotten_alert = top(slack)
        bot.clock.advance(seconds=30)
        (first, _) = await bot.alerts()
        claim = await bot.service.claim(first.id, "U_MEMBER", "mia", HERE)
        assert claim is not None and claim.won
        bot.clock.advance(seconds=31)
        await bot.round()
        assert replies(slack, claimed_alert) == []
        assert len(replies(slack, forgotten_alert)) == 1
        bot.clock.advance(minutes=5)
        await bot.round()
        assert replies(slack, claimed_alert) == []


async def reminder_taken_by_a_dead_worker(
    bot: ClockedBot, slack: FakeSlack
) -> tuple[PostedMessage, Posting]:
    """Jane's handoff alerted under a 60 s SLA; once due, a worker takes its reminder,
    begins it and dies. The alert, and the reminder the dead worker took."""
    await with_rule(bot, sla_seconds=60)
    await handoff(bot, "Jane")
    await bot.round()
    (alert,) = top(slack)
    bot.clock.advance(seconds=61)
    async with bot.database.alert_records() as records:
        (taken,) = await records.take_reminders("dead-worker", bot.clock(), bot.worker.lease)
        assert await records.reminding(taken.alert.id, "dead-worker", bot.clock(), bot.worker.lease)
    return alert, taken


async def test_two_workers_remind_once(database: AlertDatabase, slack: FakeSlack) -> None:
    async with (
        clocked_bot(database, slack, instance="worker-a") as a,
        clocked_bot(database, slack, clock=a.clock, instance="worker-b") as b,
    ):
        await with_rule(a, sla_seconds=60)
        for n in range(5):
            await handoff(a, f"Visitor{n}")
        await asyncio.gather(a.round(), b.round())
        alerts = top(slack)
        assert len(alerts) == 5
        a.clock.advance(seconds=61)
        await asyncio.gather(a.round(), b.round(), a.round(), b.round())
        assert [len(replies(slack, m)) for m in alerts] == [1] * 5


async def test_a_reminder_whose_worker_died_is_sent_once_by_another(
    database: AlertDatabase, slack: FakeSlack
) -> None:
    async with clocked_bot(database, slack, lease=30) as bot:
        alert, _ = await reminder_taken_by_a_dead_worker(bot, slack)
        await bot.round()
        assert replies(slack, alert) == []  # its lease still holds
        bot.clock.advance(seconds=31)
        await bot.round()
        assert len(replies(slack, alert)) == 1
        bot.clock.advance(minutes=5)
        await bot.round()
        assert len(replies(slack, alert)) == 1


async def test_a_reminder_slack_took_before_its_worker_died_is_not_sent_again(
    database: AlertDatabase, slack: FakeSlack
) -> None:
    async with clocked_bot(database, slack, lease=30) as bot:
        alert, taken = await reminder_taken_by_a_dead_worker(bot, slack)
        # The dead worker's reminder reached Slack (as the worker sends it), then it died.
        poster = bot.worker.posters["slack"]
        await poster.reply_to(  # type: ignore[attr-defined]
            channel_of(taken.alert),
            taken.alert.message_id,
            reminder_reply(taken.alert),
            key=reminder_key(taken.alert.id),
        )
        bot.clock.advance(seconds=31)
        await bot.round()
        bot.clock.advance(minutes=5)
        await bot.round()
        assert len(replies(slack, alert)) == 1
        (row,) = await bot.alerts()
        assert row.reminded_utc is not None  # recorded as reminded
