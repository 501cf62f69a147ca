"""The notify group: settings shown without URLs, rules checked before any request."""

from __future__ import annotations

import pytest

from bot.sandbox import SandboxServer
from commands.render import render_json, render_text
from commands.reply import Failure, Kind

from .conftest import Run, writes_sent

SLACK_URL = "https://hooks.slack.com/services/T0001/B0002/s3cr3tPathXYZ"
DISCORD_URL = "https://discord.com/api/webhooks/1234/s3cr3tPathXYZ"


def _visible(reply) -> str:  # type: ignore[no-untyped-def]
    return render_text(reply) + render_json(reply)


async def test_notify_shows_every_platform_without_any_url(
    run: Run, sandbox: SandboxServer
) -> None:
    seeded = sandbox.state.notifiers[(sandbox.site_a_id, "slack")].webhook_url
    assert seeded

    reply = await run("notify")

    assert reply.ok and reply.table is not None
    rows = {row.cells[0]: row.cells[1:] for row in reply.table.rows}
    assert rows["Slack"][0].startswith("https://hooks.slack.com/")
    assert rows["Slack"][1] == "handoff, feedback"
    assert rows["Discord"] == ("not set", "off")
    assert seeded not in _visible(reply)
    assert sandbox.count(method="GET") == 3


async def test_notify_one_platform_and_the_show_alias(run: Run, sandbox: SandboxServer) -> None:
    reply = await run("notify show teams")

    assert reply.table is not None and [r.cells[0] for r in reply.table.rows] == ["Microsoft Teams"]
    assert sandbox.count(resource="teams_settings") == 1


async def test_set_saves_the_url_and_never_echoes_it(run: Run, sandbox: SandboxServer) -> None:
    reply = await run(f"notify discord set {DISCORD_URL} --events feedback")

    assert reply.ok and reply.kind is Kind.SUCCESS
    assert "https://discord.com/api/webhooks/…" in reply.text and "feedback" in reply.text
    assert "s3cr3tPathXYZ" not in _visible(reply)
    stored = sandbox.state.notifiers[(sandbox.site_a_id, "discord")]
    assert stored.webhook_url and stored.webhook_url.endswith("s3cr3tPathXYZ")
    assert stored.events == ["feedback"]


async def test_set_accepts_slack_angle_bracket_links(run: Run, sandbox: SandboxServer) -> None:
    reply = await run(f"notify slack set <{SLACK_URL}>")

    assert reply.ok
    assert sandbox.state.notifiers[(sandbox.site_a_id, "slack")].webhook_url == SLACK_URL


@pytest.mark.parametrize(
    ("platform", "url", "rule"),
    [
        ("slack", "https://hooks.slak.com/services/T/B/s3cr3tPathXYZ", "https://hooks.slack.com/"),
        ("slack", "http://hooks.slack.com/services/T/B/s3cr3tPathXYZ", "https://hooks.slack.com/"),
        ("discord", "https://discord.gg/api/webhooks/1/s3cr3tPathXYZ", "discordapp.com/api"),
        # The right prefix, but not the shape of a webhook the platform issues.
        ("discord", "https://discord.com/api/webhooks/123", "/webhooks/<id>/<token>"),
        ("discord", "https://discord.com/api/webhooks/s3cr3tPathXYZ/x", "/webhooks/<id>/<token>"),
        ("slack", "https://hooks.slack.com/s3cr3tPathXYZ", "/services/T…/B…/…"),
        ("slack", "https://hooks.slack.com/services/T1/s3cr3tPathXYZ", "/services/T…/B…/…"),
        ("teams", "https://acme.webhook.office.com/?s3cr3tPathXYZ", "with the webhook's path"),
        ("teams", "https://webhook.office.com/s3cr3tPathXYZ", "*.webhook.office.com"),
        ("teams", "https://x@acme.webhook.office.com/s3cr3tPathXYZ", "*.webhook.office.com"),
        ("teams", "https://evil.example.com/webhook.office.com/s3cr3tPathXYZ", "*.logic.azure"),
        ("teams", "http://acme.webhook.office.com/s3cr3tPathXYZ", "https:// URL"),
    ],
)
async def test_bad_prefix_costs_no_request_and_names_the_rule(
    run: Run, sandbox: SandboxServer, platform: str, url: str, rule: str
) -> None:
    reply = await run(f"notify {platform} set {url}")

    assert reply.failure is Failure.INPUT and reply.exit_status == 1
    assert rule in reply.text and "Nothing was sent to MyLiveChat" in reply.text
    assert "s3cr3tPathXYZ" not in _visible(reply)
    assert writes_sent(sandbox) == 0


async def test_teams_hosts_are_accepted(run: Run, sandbox: SandboxServer) -> None:
    reply = await run("notify teams set https://acme.webhook.office.com/webhookb2/s3cr3tPathXYZ")

    assert reply.ok and "https://…" in reply.text and "s3cr3tPathXYZ" not in reply.text


async def test_bad_event_costs_no_request(run: Run, sandbox: SandboxServer) -> None:
    with_set = await run(f"notify slack set {SLACK_URL} --events handoff,chats")
    alone = await run("notify slack events feedbak")

    assert with_set.failure is Failure.USAGE and "not 'chats'" in with_set.text
    assert "s3cr3tPathXYZ" not in _visible(with_set)
    assert alone.failure is Failure.USAGE and "Did you mean `feedback`?" in alone.text
    assert writes_sent(sandbox) == 0


async def test_events_changes_only_the_events(run: Run, sandbox: SandboxServer) -> None:
    before = sandbox.state.notifiers[(sandbox.site_a_id, "slack")].webhook_url

    reply = await run("notify slack events feedback")

    stored = sandbox.state.notifiers[(sandbox.site_a_id, "slack")]
    assert reply.ok and "now post: feedback" in reply.text
    assert (stored.events, stored.webhook_url) == (["feedback"], before)


async def test_events_for_a_platform_without_url_warns(run: Run) -> None:
    reply = await run("notify discord events handoff")

    assert reply.ok and reply.kind is Kind.WARNING
    assert any("No webhook URL is set yet" in n for n in reply.notes)


async def test_off_removes_the_url(run: Run, sandbox: SandboxServer) -> None:
    reply = await run("notify slack off")

    assert reply.ok
    assert sandbox.state.notifiers[(sandbox.site_a_id, "slack")].webhook_url is None
    assert "the events chosen (handoff, feedback) are kept" in reply.notes[0]


async def test_set_without_events_posts_both_when_none_were_chosen(
    run: Run, sandbox: SandboxServer
) -> None:
    reply = await run(f"notify discord set {DISCORD_URL}")

    stored = sandbox.state.notifiers[(sandbox.site_a_id, "discord")]
    assert stored.events == ["handoff", "feedback"]
    assert reply.ok and reply.kind is Kind.SUCCESS
    assert "for: handoff, feedback." in reply.text and "for: none" not in reply.text
    assert any("No events were chosen, so both are on" in n for n in reply.notes)


async def test_set_without_events_keeps_the_events_chosen(run: Run, sandbox: SandboxServer) -> None:
    await run("notify discord events feedback")

    reply = await run(f"notify discord set {DISCORD_URL}")

    assert sandbox.state.notifiers[(sandbox.site_a_id, "discord")].events == ["feedback"]
    assert reply.ok and "for: feedback." in reply.text
    assert not any("No events were chosen" in n for n in reply.notes)


async def test_after_off_the_listing_says_nothing_is_posted(run: Run) -> None:
    await run("notify teams set https://acme.webhook.office.com/webhookb2/x --events handoff")
    await run("notify teams off")

    reply = await run("notify teams")

    assert reply.table is not None
    [(_, webhook, events)] = [row.cells for row in reply.table.rows]
    assert webhook == "not set"
    assert events == "off (handoff kept for when a URL is set)"


async def test_doing_nothing_is_said_plainly_and_sends_no_change(
    run: Run, sandbox: SandboxServer
) -> None:
    await run("notify discord off")
    again_events = await run("notify slack events feedback,handoff")

    assert writes_sent(sandbox) == 0
    off = await run("notify discord off")
    assert off.ok and off.title == "Already off" and off.kind is Kind.INFO
    assert off.text == (
        "MyLiveChat does not post to Discord: no webhook URL is set. Nothing changed."
    )
    assert again_events.ok and again_events.title == "Nothing to change"
    assert again_events.text == (
        "Slack notifications already post: handoff, feedback. Nothing changed."
    )
    assert writes_sent(sandbox) == 0


async def test_misspelt_platform_or_subcommand_never_echoes_the_url(
    run: Run, sandbox: SandboxServer
) -> None:
    platform = await run(f"notify slak set {SLACK_URL}")
    sub = await run(f"notify slack sett {SLACK_URL}")
    extra = await run(f"notify slack {SLACK_URL}")

    assert "Did you mean `slack`?" in platform.text
    for reply in (platform, sub, extra):
        assert reply.failure is Failure.USAGE
        assert "s3cr3tPathXYZ" not in _visible(reply)
    assert writes_sent(sandbox) == 0


async def test_changes_are_for_admins_only(run: Run, sandbox: SandboxServer) -> None:
    shown = await run("notify", admin=False)
    changed = await run(f"notify slack set {SLACK_URL}", admin=False)

    assert shown.ok
    assert changed.failure is Failure.DENIED and "for admins" in changed.text
    assert writes_sent(sandbox) == 0
