"""``/mlc`` end to end: signed HTTP in, the sandbox behind, Block Kit out at the response URL."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from bot.config import Settings
from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import serving
from tests.slack.payloads import SlackSender
from tests.slack.views import buttons_of, check_limits, text_of


async def test_ack_comes_at_once_with_no_api_call_before_it(
    sender: SlackSender, sandbox: SandboxServer, slack: FakeSlack, api: MyLiveChatClient
) -> None:
    # users.info is held unanswered: an ack that waited for it, or for MyLiveChat after it,
    # would never come.
    slack.hold("users.info")

    sent = await sender.command("usage")

    assert sent.response.status_code == 200
    assert sent.response.text == ""
    assert sandbox.count() == 0
    slack.release("users.info")
    (reply,) = await slack.wait_for_responses(1, within=8)
    usage = await api.get_usage()
    assert reply.response_type == "ephemeral"
    text = text_of(reply.blocks)
    assert f"{usage.cycle_replies:,} of {usage.included_replies:,} included replies used" in text
    assert "`" + "█" in text and "This cycle" in text
    assert sandbox.count(method="GET", resource="usage") == 2  # the command's, then ours


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("help", ["MyLiveChat bot commands", "/mlc usage", "/mlc handoffs"]),
        ("help tags add", ["Usage", "`/mlc tags add &lt;name ...&gt; [--color", "Examples"]),
        ("ping", ["MyLiveChat is reachable", "*Round trip*"]),
        ("whoami", ["MyLiveChat connection", "*Scopes*\nread, write", "*Your role*\nadmin"]),
        ("tags", ["Tags (7)", "```", "vip", "#7c3aed", "Priority customer"]),
        ("feedback --limit 5", ["Visitor feedback", "Average", "5 ★"]),
        ("starters", ["Conversation starters", "How do I reset my password?"]),
        ("visitors --limit 2", ["Visitors (2)", "Jane Dubois", "jane.dubois@vandelay.net"]),
        ("transcripts --limit 2", ["Recent transcripts", "s_458493ccfe1e"]),
        ("notify", ["Chat notifications from MyLiveChat", "Slack", "Discord"]),
    ],
)
async def test_each_command_family_renders_its_figures(
    sender: SlackSender, slack: FakeSlack, command: str, expected: list[str]
) -> None:
    await sender.command(command)
    (reply,) = await slack.wait_for_responses(1)
    check_limits(reply.blocks)
    text = text_of(reply.blocks)
    for fragment in expected:
        assert fragment in text, f"{fragment!r} not in {command!r} reply:\n{text}"
    assert reply.response_type == "ephemeral"
    assert reply.body["replace_original"] is False


async def test_handoffs_rows_carry_transcript_and_tag_buttons(
    sender: SlackSender, slack: FakeSlack, sandbox: SandboxServer
) -> None:
    await sender.command("handoffs --limit 3")
    (reply,) = await slack.wait_for_responses(1)
    check_limits(reply.blocks)
    buttons = buttons_of(reply.blocks)
    sessions = re.findall(r"`(s_[0-9a-f]+)`", text_of(reply.blocks))
    assert len(sessions) == 3
    assert buttons["Transcript"]["value"] == f"transcript {sessions[0]}"
    assert buttons["Tag"]["value"] == f"tag {sessions[0]}"
    assert buttons["Tag#3"]["value"] == f"tag {sessions[2]}"
    assert sandbox.count() == 1


async def test_public_posts_in_the_channel_and_says_who_asked(
    sender: SlackSender, slack: FakeSlack
) -> None:
    await sender.command("handoffs --limit 2 --public", user="U_MEMBER")
    (reply,) = await slack.wait_for_responses(1)
    assert reply.response_type == "in_channel"
    assert reply.blocks[-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "Asked by <@U_MEMBER>", "verbatim": True}],
    }
    assert "Recent handoffs" in text_of(reply.blocks)


async def test_public_is_refused_where_a_command_does_not_offer_it(
    sender: SlackSender, slack: FakeSlack, sandbox: SandboxServer
) -> None:
    await sender.command("tags --public")
    (reply,) = await slack.wait_for_responses(1)
    text = text_of(reply.blocks)
    assert reply.response_type == "ephemeral"
    assert "`tags` has no option `--public`" in text
    assert "Usage: `tags" in text
    assert sandbox.count() == 0


async def test_a_secret_stays_private_even_when_public_is_asked(
    sender: SlackSender, slack: FakeSlack
) -> None:
    await sender.command("webhooks add https://example.com/hook --events handoff")
    (reply,) = await slack.wait_for_responses(1)
    assert reply.response_type == "ephemeral"
    assert re.search(r"Secret.*`[A-Za-z0-9_\-]{20,}`", text_of(reply.blocks), re.S)
    assert "Asked by" not in text_of(reply.blocks)


async def test_api_error_shows_code_explanation_and_request_id(
    sender: SlackSender, slack: FakeSlack, sandbox: SandboxServer
) -> None:
    sandbox.inject_fault("500", count=5)
    await sender.command("usage")
    (reply,) = await slack.wait_for_responses(1, within=10)
    text = text_of(reply.blocks)
    assert reply.blocks[0]["text"]["text"] == ":x: MyLiveChat error"
    assert "MyLiveChat had an internal error." in text
    footer = text_of(reply.blocks[-1:])
    match = re.fullmatch(r"Error `internal_error` · Request id `(\S+)`", footer)
    assert match, footer
    assert f"(request id {match.group(1)})" in reply.text
    assert reply.response_type == "ephemeral"


async def test_typo_gets_a_suggestion_and_makes_no_call(
    sender: SlackSender, slack: FakeSlack, sandbox: SandboxServer
) -> None:
    await sender.command("tags ad vip")
    (reply,) = await slack.wait_for_responses(1)
    text = text_of(reply.blocks)
    assert reply.blocks[0]["text"]["text"] == ":x: That command needs a fix"
    assert "`tags` has no subcommand `ad`" in text and "add" in text
    assert "Error `usage`" not in text  # a usage mistake explains itself
    assert sandbox.count() == 0


async def test_slack_smart_dashes_and_quotes_are_understood(
    sender: SlackSender, slack: FakeSlack
) -> None:
    await sender.command("handoffs —limit 1")
    (reply,) = await slack.wait_for_responses(1)
    assert "1 handoff, " in text_of(reply.blocks)


@pytest.mark.parametrize(
    ("user", "role"),
    [("U_ADMIN", "admin"), ("U_OWNER", "admin"), ("U_MEMBER", "member"), ("U_GUEST", "guest")],
)
async def test_workspace_admins_and_owners_are_admins(
    sender: SlackSender, slack: FakeSlack, user: str, role: str
) -> None:
    await sender.command("whoami", user=user)
    (reply,) = await slack.wait_for_responses(1)
    assert f"*Your role*\n{role}" in text_of(reply.blocks)


async def test_guests_may_not_change_tags_and_members_may_not_run_admin_commands(
    sender: SlackSender, slack: FakeSlack, sandbox: SandboxServer
) -> None:
    await sender.command("tags add new-tag", user="U_GUEST")
    await sender.command("webhooks add https://example.com/h --events handoff", user="U_MEMBER")
    first, second = await slack.wait_for_responses(2)
    assert "Not allowed" in text_of(first.blocks)
    assert "is for team members" in text_of(first.blocks)
    assert "`webhooks add` is for admins" in text_of(second.blocks)
    assert sandbox.count(method="POST") == 0


async def test_mlc_bot_admins_grants_admin_without_a_workspace_role(
    make_settings: Callable[..., Settings], slack: FakeSlack
) -> None:
    async with serving(make_settings(admins=frozenset({"U_MEMBER"})), slack) as (_, sender):
        await sender.command("whoami", user="U_MEMBER")
        (reply,) = await slack.wait_for_responses(1)
    assert "*Your role*\nadmin" in text_of(reply.blocks)


async def test_users_info_is_asked_once_for_a_burst_of_commands(
    sender: SlackSender, slack: FakeSlack
) -> None:
    for _ in range(3):
        await sender.command("help", user="U_MEMBER")
    await slack.wait_for_responses(3)
    assert [c.args["user"] for c in slack.calls_to("users.info")] == ["U_MEMBER"]


async def test_a_user_slack_cannot_describe_still_gets_an_answer(
    sender: SlackSender, slack: FakeSlack
) -> None:
    await sender.command("whoami", user="U_UNKNOWN")
    (reply,) = await slack.wait_for_responses(1)
    assert "*Your role*\nunconfirmed" in text_of(reply.blocks)
