"""``alerts rotate``: the new secret is kept at once, and deliveries signed with the previous
one are accepted for the grace window (10 minutes), then never. The receiver runs on an
injected clock; deliveries go over HTTP. On SQLite and on PostgreSQL."""

from __future__ import annotations

import secrets
from typing import Any

from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from commands.alerts.model import NewRule
from commands.alerts.service import ROTATION_GRACE
from tests.fakes.slack_api import FakeSlack
from tests.slack.views import text_of

from .harness import AlertDatabase, ClockedBot, clocked_bot, signed, stamp, subscription, web_bot


def event(bot: ClockedBot) -> dict[str, Any]:
    return {
        "id": f"evt_{secrets.token_hex(12)}",
        "event": "handoff",
        "site_id": 1,
        "occurred_utc": stamp(bot.clock()),
        "data": {"id": 1, "session_id": "s_rotate", "reason": "asked for a human"},
    }


async def status(bot: ClockedBot, secret: str) -> int:
    return await bot.deliver(*signed(secret, event(bot), sent=bot.clock()))


RULE = NewRule("slack", "T0TEAM", "C_ALERTS", "handoff", "U_ADMIN")


async def test_the_previous_secret_verifies_for_the_grace_window_then_never(
    database: AlertDatabase, slack: FakeSlack, sandbox: SandboxServer, api: MyLiveChatClient
) -> None:
    assert ROTATION_GRACE.total_seconds() == 600
    async with clocked_bot(database, slack) as bot:
        _, provisioned = await bot.service.add(api, RULE)
        assert provisioned.test is not None and provisioned.test.delivered
        first = subscription(sandbox).secret
        await bot.service.rotate(api)
        second = subscription(sandbox).secret
        assert second != first
        assert (await status(bot, first), await status(bot, second)) == (200, 200)

        bot.clock.advance(minutes=9, seconds=59)
        assert await status(bot, first) == 200  # still inside the window
        bot.clock.advance(seconds=2)
        assert (await status(bot, first), await status(bot, second)) == (401, 200)

        await bot.service.rotate(api)  # a second rotation: the first secret stays gone
        third = subscription(sandbox).secret
        bot.clock.advance(minutes=5)
        assert [await status(bot, s) for s in (first, second, third)] == [401, 200, 200]
        bot.clock.advance(minutes=5, seconds=1)
        assert [await status(bot, s) for s in (first, second, third)] == [401, 401, 200]


async def test_two_rotations_within_the_window_keep_each_previous_secret_its_own_window(
    database: AlertDatabase, slack: FakeSlack, sandbox: SandboxServer, api: MyLiveChatClient
) -> None:
    async with clocked_bot(database, slack) as bot:
        await bot.service.add(api, RULE)
        first = subscription(sandbox).secret
        await bot.service.rotate(api)
        second = subscription(sandbox).secret
        bot.clock.advance(minutes=4)
        await bot.service.rotate(api)
        third = subscription(sandbox).secret
        bot.clock.advance(minutes=6, seconds=1)  # 10 min after the first rotation
        assert [await status(bot, s) for s in (first, second, third)] == [401, 200, 200]


async def test_alerts_rotate_in_slack_keeps_deliveries_flowing(
    sandbox: SandboxServer, slack: FakeSlack, database: AlertDatabase
) -> None:
    async with web_bot(sandbox, slack, database) as bot:
        await bot.command("alerts add handoff")
        before = subscription(sandbox).secret
        reply = await bot.command("alerts rotate")
        assert reply.text.startswith("Alert secret rotated")
        assert "accepted for 10 more minutes" in text_of(reply.blocks)
        assert subscription(sandbox).secret != before
        (delivery,) = await sandbox.emit_event(sandbox.site_a_id, "handoff")  # the new one
        assert delivery.receiver_status == 200
        late = event_from(delivery.payload)  # one MyLiveChat signed just before the rotation
        assert (await bot.deliver(*signed(before, late))).status_code == 200
        await bot.settled()
        assert len(bot.posts()) == 2


def event_from(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "id": f"evt_{secrets.token_hex(12)}"}
