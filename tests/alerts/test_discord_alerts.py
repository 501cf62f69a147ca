"""Live alerts in Discord, over real HTTP end to end.

The web process's parts (no Slack: a Discord-only deployment) receive the sandbox's signed
delivery and post the alert to the fake Discord's REST API; the Discord bot (its own
process's part, on the same database, connected to the fake gateway) takes the admin's
``/mlc alerts add-handoff`` and the clicks on the alert's buttons (component interactions),
and edits the alert's message in place. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from adapters.discord.poster import DiscordPoster
from bot.sandbox import SandboxServer
from commands.alerts.model import NewRule
from tests.discord import payloads
from tests.fakes.discord_api import FakeDiscord

from .harness import (
    AlertDatabase,
    DiscordBot,
    WebBot,
    clocked_bot,
    discord_bot,
    handoff_event,
    signed,
    web_bot,
)

CHANNEL = str(payloads.CHANNEL_ID)
GUILD = str(payloads.GUILD_ID)
ROLE = "700000000000000077"


def embed_text(body: dict[str, Any]) -> str:
    return json.dumps(body.get("embeds") or [], ensure_ascii=False)


def alert_messages(fake: FakeDiscord) -> dict[str, dict[str, Any]]:
    """The channel's alerts as it shows them now, by message id."""
    return {
        message_id: body
        for message_id, body in fake.shown(CHANNEL).items()
        if "needs a human" in embed_text(body) or "Feedback" in embed_text(body)
    }


async def click(
    bot: DiscordBot,
    message_id: str,
    custom_id: str,
    user_id: int,
    *,
    seen: dict[str, Any] | None = None,
) -> str:
    """A click on a button of the message as the user sees it (``seen``: as it was before
    an edit reached their screen)."""
    body = seen or bot.fake.shown(CHANNEL)[message_id]
    message = payloads.sent_message(body, message_id=int(message_id))
    answer = await bot.interact(payloads.component(message, custom_id, user_id=user_id))
    assert answer.ephemeral
    return embed_text(answer.json)


async def add_rule(bot: DiscordBot, **options: Any) -> str:
    command = payloads.slash(
        "alerts add-handoff",
        options,
        user_id=payloads.ADMIN_ID,
        permissions=payloads.ADMIN_PERMISSIONS,
    )
    return embed_text((await bot.interact(command)).json)


@contextlib.asynccontextmanager
async def discord_alerts(
    sandbox: SandboxServer, discord_api: FakeDiscord, database: AlertDatabase
) -> AsyncIterator[tuple[WebBot, DiscordBot]]:
    """The web process posting alerts to Discord, and the Discord process taking clicks."""
    async with (
        web_bot(sandbox, None, database, discord=True) as web,
        discord_bot(web.settings, discord_api, database) as bot,
    ):
        yield web, bot


async def test_a_handoff_is_alerted_in_discord_and_claimed_in_place(
    sandbox: SandboxServer, discord_api: FakeDiscord, database: AlertDatabase
) -> None:
    async with discord_alerts(sandbox, discord_api, database) as (web, bot):
        added = await add_rule(bot)
        assert "Handoff alerts on" in added and "received (HTTP 200)" in added
        (delivery,) = await sandbox.emit_event(sandbox.site_a_id, "handoff")
        assert delivery.receiver_status == 200
        await web.settled()
        ((message_id, body),) = alert_messages(discord_api).items()
        handoff = delivery.payload["data"]
        assert f"{handoff['visitor_name']} needs a human" in embed_text(body)
        ids = payloads.custom_ids(body)
        claim = next(i for i in ids if i.startswith("mlc:run:alerts claim "))
        number = claim.rsplit(" ", 1)[1]
        assert ids == [
            claim,
            f"mlc:run:transcript {handoff['session_id']}",
            f"mlc:pick:tag:tag {handoff['session_id']}",
        ]
        assert body["allowed_mentions"]["parse"] == []

        won = await click(bot, message_id, claim, payloads.MEMBER_ID)
        assert f"You claimed alert #{number}" in won
        ((channel, edited, _),) = discord_api.edits
        assert (channel, edited) == (CHANNEL, message_id)
        now = alert_messages(discord_api)[message_id]
        assert "by user2 at" in embed_text(now)  # the member's display name
        assert payloads.custom_ids(now)[0] == f"mlc:run:alerts release {number}"

        other = 600000000000000042
        late = await click(bot, message_id, claim, other, seen=body)
        assert "is already claimed by user2" in late
        refused = await click(bot, message_id, f"mlc:run:alerts release {number}", other)
        assert "Not yours to release" in refused
        assert len(discord_api.edits) == 1
        assert len(discord_api.channel_messages(CHANNEL)) == 1


async def test_a_claim_from_another_guild_is_refused(
    sandbox: SandboxServer, discord_api: FakeDiscord, database: AlertDatabase
) -> None:
    async with discord_alerts(sandbox, discord_api, database) as (web, bot):
        await add_rule(bot)
        await sandbox.emit_event(sandbox.site_a_id, "handoff")
        await web.settled()
        ((message_id, body),) = alert_messages(discord_api).items()
        claim = payloads.custom_ids(body)[0]
        message = payloads.sent_message(body, message_id=int(message_id))
        elsewhere = payloads.component(message, claim, user_id=payloads.MEMBER_ID)
        elsewhere["guild_id"] = elsewhere["channel"]["guild_id"] = "700000000000000999"
        answer = embed_text((await bot.interact(elsewhere)).json)
        assert "There is no alert #" in answer
        assert discord_api.edits == []
    async with database.records() as records:
        (row,) = await records.all_alerts()
    assert row.claimed_by is None


async def test_visitor_text_cannot_ping_in_discord_and_the_reminder_pings_only_its_role(
    discord_api: FakeDiscord, database: AlertDatabase
) -> None:
    poster = await DiscordPoster.login("fake-token.for-alert-tests")
    try:
        async with clocked_bot(database, None, posters={"discord": poster}) as bot:
            secret = "whsec-for-discord"
            await bot.secrets.put(1, secret, bot.clock(), grace=timedelta(0))
            rule = NewRule(
                "discord", GUILD, CHANNEL, "handoff", str(payloads.ADMIN_ID),
                sla_seconds=60, mention=f"<@&{ROLE}>",
            )  # fmt: skip
            await bot.tables.add(rule, bot.clock())
            event = handoff_event(
                bot.clock(),
                id=1,
                session_id="s_loud",
                visitor_name="@everyone",
                reason="@here <@&700000000000000001> <@600000000000000001> help",
            )
            assert await bot.deliver(*signed(secret, event, sent=bot.clock())) == 200
            await bot.round()
            (alert,) = discord_api.channel_messages(CHANNEL)
            shown = embed_text(alert)
            # Shown, as text in an embed, and escaped too: a zero-width space breaks the ping.
            assert "@\u200beveryone" in shown and "@everyone" not in shown
            assert not alert.get("content")
            assert alert["allowed_mentions"] == {"parse": []}  # no one
            bot.clock.advance(seconds=61)
            await bot.round()
            (_, reminder) = discord_api.channel_messages(CHANNEL)
            assert reminder["content"] == f"<@&{ROLE}>"
            assert reminder["allowed_mentions"] == {"parse": [], "roles": [int(ROLE)]}
            (alert_message_id,) = alert_messages(discord_api)
            assert str(reminder["message_reference"]["message_id"]) == alert_message_id
    finally:
        await poster.aclose()
