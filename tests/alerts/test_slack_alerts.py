"""Live alerts in Slack, over real HTTP end to end.

The sandbox emits an event and delivers it, signed, to the bot's receiver (the web
process's parts serving on a port); the alert worker posts it to the fake Slack Web API;
clicks arrive as signed ``block_actions`` payloads, and the message is updated in place
with ``chat.update``. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from bot.sandbox import SandboxServer
from tests.fakes.slack_api import FakeSlack
from tests.slack.views import check_limits, text_of

from .harness import ALERTS, AlertDatabase, buttons, stamp, subscription, web_bot


def mrkdwn_of(node: object) -> list[str]:
    """Every mrkdwn text in blocks: what Slack parses for mentions and links (plain_text,
    such as the header, it shows as it is)."""
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            return [str(node.get("text", ""))]
        return [t for value in node.values() for t in mrkdwn_of(value)]
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn_of(item)]
    return []


def labels(message: object) -> list[str]:
    return [b["text"]["text"] for b in buttons(message)]  # type: ignore[arg-type]


async def test_a_handoff_is_alerted_then_claimed_and_released_in_place(
    sandbox: SandboxServer, slack: FakeSlack, database: AlertDatabase
) -> None:
    async with web_bot(sandbox, slack, database) as bot:
        added = await bot.command("alerts add handoff")
        assert "Handoff alerts on" in added.text
        assert "received (HTTP 200)" in text_of(added.blocks)  # test_webhook proved the loop

        (delivery,) = await sandbox.emit_event(sandbox.site_a_id, "handoff")
        assert delivery.receiver_status == 200
        await bot.settled()
        (alert,) = bot.posts()
        handoff = delivery.payload["data"]
        shown = text_of(alert.blocks)
        assert f"{handoff['visitor_name']} needs a human" in shown
        assert handoff["session_id"] in shown and handoff["reason"] in shown
        assert labels(alert) == ["Claim", "Transcript", "Tag"]
        check_limits(alert.blocks)

        claimed = await bot.click(alert, "Claim", user="U_MEMBER")
        assert claimed.text.startswith("You claimed alert #")
        assert claimed.response_type == "ephemeral"
        (update,) = slack.calls_to("chat.update")
        assert (update.args["channel"], update.args["ts"]) == (ALERTS, alert.ts)
        (now,) = bot.posts()  # the same message, changed in place
        assert now.ts == alert.ts
        assert "by mia at" in text_of(now.blocks) and "the bot's own record" in text_of(now.blocks)
        assert labels(now) == ["Release", "Transcript", "Tag"]

        late = await bot.click(alert, "Claim", user="U_OTHER")  # from the message as it was
        number = alert_id(claimed)
        assert late.text == f"Already claimed: Alert #{number} is already claimed by mia."
        refused = await bot.click(now, "Release", user="U_OTHER")
        assert refused.text.startswith("Not yours to release")
        assert "claimed by mia" in refused.text
        assert len(slack.calls_to("chat.update")) == 1  # neither click changed the message

        released = await bot.click(now, "Release", user="U_MEMBER")
        assert released.text.startswith(f"Alert #{alert_id(claimed)} released")
        (again,) = bot.posts()
        assert labels(again) == ["Claim", "Transcript", "Tag"]
        assert "Claimed" not in text_of(again.blocks)
        assert len(slack.calls_to("chat.postMessage")) == 1


def alert_id(reply: object) -> int:
    text = reply.text  # type: ignore[attr-defined]
    return int(text.split("#", 1)[1].split(":", 1)[0].split()[0])


async def test_the_claim_shows_mylivechats_own_agent_beside_it(
    sandbox: SandboxServer, slack: FakeSlack, database: AlertDatabase
) -> None:
    async with web_bot(sandbox, slack, database) as bot:
        data = {
            "id": 9001,
            "session_id": "s_assigned",
            "visitor_name": "Jane Dubois",
            "reason": "asked for a human",
            "assigned_to": "kim@acme.example",
            "created_utc": stamp(),
        }
        alert = await bot.handoff_alert(data)
        assert "Agent in MyLiveChat" in text_of(alert.blocks)
        assert "kim@acme.example" in text_of(alert.blocks)
        await bot.click(alert, "Claim", user="U_MEMBER")
        (claimed,) = bot.posts()
        shown = text_of(claimed.blocks)
        assert "kim@acme.example" in shown and "by mia at" in shown


async def test_visitor_text_cannot_ping_or_link_in_slack(
    sandbox: SandboxServer, slack: FakeSlack, database: AlertDatabase
) -> None:
    async with web_bot(sandbox, slack, database) as bot:
        data = {
            "id": 9002,
            "session_id": "s_hostile",
            "visitor_name": "<!channel> Eve",
            "reason": "@here <!everyone> <@U_ADMIN> <https://evil.example|click> *bold*",
            "created_utc": stamp(),
        }
        alert = await bot.handoff_alert(data)
    everything = "\n".join([alert.text, *mrkdwn_of(alert.blocks)])
    assert "Eve" in everything and "evil.example" in everything
    for live in ("<!channel>", "<!here>", "<!everyone>", "<@U_ADMIN>", "<https://evil"):
        assert live not in everything, live
    assert "&lt;!channel&gt;" in everything  # shown, inert


async def test_feedback_alerts_follow_their_rule(
    sandbox: SandboxServer, slack: FakeSlack, database: AlertDatabase
) -> None:
    async with web_bot(sandbox, slack, database) as bot:
        await bot.command("alerts add feedback --max-rating 2 --with-comment")
        assert subscription(sandbox).events == ["feedback"]
        for rating, comment in ((1, "Useless bot"), (2, ""), (4, "Fine")):
            data = {
                "id": 7000 + rating,
                "session_id": f"s_rated_{rating}",
                "rating": rating,
                "comment": comment,
                "created_utc": stamp(),
            }
            await sandbox.emit_event(sandbox.site_a_id, "feedback", data)
        await sandbox.emit_event(sandbox.site_a_id, "handoff")  # nobody asked for handoffs
        await bot.settled()
        (alert,) = bot.posts()  # only the 1-star rating with a comment
        shown = text_of(alert.blocks)
        assert "★☆☆☆☆ (1/5)" in shown and "Useless bot" in shown
        assert labels(alert) == ["Transcript"]  # nothing to claim in a rating


async def test_alerts_test_posts_a_sample_and_help_says_a_claim_is_the_bots_own(
    sandbox: SandboxServer, slack: FakeSlack, database: AlertDatabase
) -> None:
    async with web_bot(sandbox, slack, database) as bot:
        await bot.command("alerts add handoff --sla 5m --mention <!subteam^S0SUPPORT>")
        async with database.records() as records:
            (rule,) = await records.rules(any_place=True)
        reply = await bot.command(f"alerts test {rule.id}")
        assert reply.text.startswith("Sample alert posted")
        (sample,) = bot.posts()
        assert "Sample Visitor needs a human" in text_of(sample.blocks)
        assert "a real one has a Claim button" in text_of(sample.blocks)
        assert "Claim" not in labels(sample)
        listed = await bot.command("alerts list")
        assert "reminder after 5 min to" in text_of(listed.blocks)
        helped = await bot.command("help alerts claim")
        assert "the bot's own record" in text_of(helped.blocks)
        assert "assigned_to" in text_of(helped.blocks)
