"""Claims: of 50 people clicking Claim at once exactly one wins, and the message shows them;
a claim is only taken in the alert's own workspace. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import re

from bot.alerts.tables import AlertOutbox
from bot.sandbox import SandboxServer
from tests.fakes.slack_api import FakeSlack
from tests.slack.views import text_of

from .harness import ALERTS, AlertDatabase, button, web_bot

RACERS = [f"U_RACE{i:02d}" for i in range(50)]


async def test_fifty_clicks_on_claim_at_once_make_one_claim(
    sandbox: SandboxServer, slack: FakeSlack, database: AlertDatabase
) -> None:
    async with web_bot(sandbox, slack, database) as bot:
        alert = await bot.handoff_alert()
        claim = button(alert, "Claim")
        sent = await asyncio.gather(
            *(
                bot.sender.click(
                    claim, user=user, channel=ALERTS, message_ts=alert.ts, ephemeral=False
                )
                for user in RACERS
            )
        )
        assert {s.response.status_code for s in sent} == {200}
        assert bot.parts.slack is not None
        await bot.parts.slack.tasks.wait_idle()
        answers = [slack.responses_to(s.response_url or "")[0].text for s in sent]
        won = [a for a in answers if a.startswith("You claimed alert #")]
        assert len(won) == 1
        (message,) = bot.posts()
        winner = re.search(r"by (racer\d\d) at", text_of(message.blocks))
        assert winner is not None
        lost = [a for a in answers if a not in won]
        assert len(lost) == 49
        assert all(a.endswith(f"is already claimed by {winner.group(1)}.") for a in lost)
        assert len(slack.calls_to("chat.update")) == 1


async def test_fifty_claims_through_separate_connections_make_one_winner(
    sandbox: SandboxServer, slack: FakeSlack, database: AlertDatabase
) -> None:
    """The same race in the database alone, from five engines (as five processes would)."""
    async with web_bot(sandbox, slack, database) as bot:
        await bot.handoff_alert()
    outboxes = [AlertOutbox(database.lazy()) for _ in range(5)]
    async with database.records() as records:
        (alert,) = await records.all_alerts()
    now = alert.event.occurred_utc
    assert now is not None
    claims = await asyncio.gather(
        *(
            outboxes[i % 5].claim(alert.id, user, f"racer{i:02d}", now)
            for i, user in enumerate(RACERS)
        )
    )
    winners = [c for c in claims if c is not None and c.won]
    assert len(winners) == 1
    holder = winners[0].alert.claimed_by
    assert all(c is not None and c.alert.claimed_by == holder for c in claims)


async def test_a_claim_from_another_workspace_is_refused(
    sandbox: SandboxServer, slack: FakeSlack, database: AlertDatabase
) -> None:
    async with web_bot(sandbox, slack, database) as bot:
        alert = await bot.handoff_alert()
        sent = await bot.sender.click(
            button(alert, "Claim"), user="U_MEMBER", channel=ALERTS, message_ts=alert.ts,
            ephemeral=False, team_id="T0OTHER",
        )  # fmt: skip
        assert bot.parts.slack is not None
        await bot.parts.slack.tasks.wait_idle()
        assert slack.responses_to(sent.response_url or "") == []  # not even answered
        assert slack.calls_to("chat.update") == []
    async with database.records() as records:
        (row,) = await records.all_alerts()
    assert row.claimed_by is None
