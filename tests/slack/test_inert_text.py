"""Visitor-written text through the real handlers into the Slack fake: inert in every reply.

The sandbox holds hostile text wherever a visitor (or anyone but the bot) writes it: the
newest handoff's visitor name and reason, its transcript, feedback comments, starters, tag
names and descriptions, a visitor's name and plan. Each command's reply, as Slack receives
it at the response URL, must show that text without any of it forming a link, a mention,
a broadcast, a code block or formatting.
"""

from __future__ import annotations

import pytest

from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from tests.fakes.slack_api import FakeSlack, ResponsePost
from tests.inert import MARK, Seeded, seed_hostile_via_api, slack_findings
from tests.slack.payloads import SlackSender
from tests.slack.views import check_limits, text_of


@pytest.fixture
async def hostile(sandbox: SandboxServer, api: MyLiveChatClient) -> Seeded:
    return await seed_hostile_via_api(api, sandbox, plan="**ZAP** <!here>")


async def _answer(sender: SlackSender, slack: FakeSlack, text: str) -> ResponsePost:
    sent = await sender.command(text)
    (reply,) = await slack.wait_for_responses(1, response_url=sent.response_url)
    check_limits(reply.blocks)
    return reply


@pytest.mark.parametrize(
    "command",
    [
        "handoffs --limit 5",
        "handoffs --limit 5 --public",
        "transcript s_hostile0001 --last 100",
        "transcripts --limit 5",
        "feedback --limit 60 --comments 50",
        "feedback --max-rating 2 --public",
        "starters",
        "tags",
        "visitors --limit 5",
    ],
)
async def test_visitor_written_text_is_inert_in_every_reply(
    sender: SlackSender, slack: FakeSlack, hostile: Seeded, command: str
) -> None:
    reply = await _answer(sender, slack, command)
    assert MARK in text_of(reply.blocks), "the hostile text is shown"
    findings = slack_findings(reply.body)
    assert findings.not_verbatim == 0
    assert findings.hostile(allowed=[("mention", "@U_ADMIN")]) == []


async def test_the_transcript_shows_every_hostile_line_whole(
    sender: SlackSender, slack: FakeSlack, hostile: Seeded
) -> None:
    reply = await _answer(sender, slack, f"transcript {hostile.session_id} --last 100")
    text = text_of(reply.blocks)
    assert "[Reset your password ZAP](https://evil.example/login)" in text
    assert "&lt;https://evil.example/login|ZAP click&gt;" in text
    assert "∗∗ZAP bold∗∗" in text and "ˋZAP tickˋ" in text and "@\u200beveryone ZAP" in text
    assert "ZAP &amp;amp; &amp;lt;b&amp;gt; &amp; &lt;b&gt;" in text


@pytest.mark.parametrize("name", ["`ZAP tick`", "**ZAP bold**", "<@U1> ZAP & co"])
async def test_a_hostile_tag_name_stays_inside_the_bots_code(
    sender: SlackSender, slack: FakeSlack, hostile: Seeded, name: str
) -> None:
    await _answer(sender, slack, f"tags add {name}")
    reply = await _answer(sender, slack, f"tag {hostile.session_id} {name}")
    shown = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    shown = shown.replace("`", "ˋ")
    assert f"is now tagged `{shown}`." in text_of(reply.blocks)
    findings = slack_findings(reply.body)
    assert findings.hostile(allowed=[("code", shown)]) == []
