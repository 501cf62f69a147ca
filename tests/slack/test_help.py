"""`/mlc help` in Slack shows every command's whole one-line help, however long."""

from __future__ import annotations

from commands.catalog import default_catalog
from tests.fakes.slack_api import FakeSlack
from tests.slack.payloads import SlackSender
from tests.slack.views import check_limits, text_of


async def test_help_shows_every_command_with_its_whole_summary(
    sender: SlackSender, slack: FakeSlack
) -> None:
    await sender.command("help")

    (reply,) = await slack.wait_for_responses(1)
    check_limits(reply.blocks)
    text = text_of(reply.blocks)
    assert "…" not in text
    for cmd in default_catalog():
        summary = cmd.summary.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert summary in text, f"{cmd.name}: {summary!r} is not shown whole"
