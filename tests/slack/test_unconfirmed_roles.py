"""When Slack cannot say who is asking, the caller may read and nothing more."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.slack.server import SlackServer
from bot.config import Settings
from bot.sandbox import SandboxServer
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import serving, settle
from tests.slack.payloads import SlackSender
from tests.slack.views import text_of

UNCONFIRMED = "Could not confirm your role in this workspace"


def _break_users_info(slack: FakeSlack, how: str) -> str:
    """Make the next lookups of a member fail as ``how``; returns the user id to send as."""
    if how == "rate-limited":
        slack.rate_limit("users.info", times=10, retry_after=0)
    elif how == "server-error":
        slack.fail_method("users.info", status=503, times=10)
    else:  # Slack has never heard of them
        return "U_NOBODY"
    return "U_MEMBER"


@pytest.mark.parametrize("how", ["rate-limited", "server-error", "unknown-user"])
@pytest.mark.parametrize(
    "command",
    ["tags add sneaky", "tag s_8f2a91c0d4e1 vip", "webhooks delete 1", "digest add usage"],
)
async def test_a_write_by_an_unconfirmed_caller_sends_nothing(
    sender: SlackSender,
    server: SlackServer,
    sandbox: SandboxServer,
    slack: FakeSlack,
    how: str,
    command: str,
) -> None:
    user = _break_users_info(slack, how)
    sent = await sender.command(command, user=user)
    await settle(server)
    (reply,) = slack.responses_to(sent.response_url)
    text = text_of(reply.blocks)
    assert UNCONFIRMED in text and "nothing was sent to MyLiveChat" in text
    assert "Try again" in text
    assert reply.response_type == "ephemeral"
    assert sandbox.count() == 0


@pytest.mark.parametrize("how", ["rate-limited", "unknown-user"])
async def test_an_unconfirmed_caller_can_still_read(
    sender: SlackSender, server: SlackServer, sandbox: SandboxServer, slack: FakeSlack, how: str
) -> None:
    user = _break_users_info(slack, how)
    sent = await sender.command("tags", user=user)
    await settle(server)
    (reply,) = slack.responses_to(sent.response_url)
    assert "Tags (" in text_of(reply.blocks)
    assert sandbox.count(method="GET", resource="tags") == 1


async def test_the_role_is_asked_again_once_slack_answers(
    sender: SlackSender, server: SlackServer, sandbox: SandboxServer, slack: FakeSlack
) -> None:
    slack.fail_method("users.info", status=500, times=1)
    refused = await sender.command("tags add later", user="U_MEMBER")
    await settle(server)
    allowed = await sender.command("tags add later", user="U_MEMBER")
    await settle(server)
    assert UNCONFIRMED in text_of(slack.responses_to(refused.response_url)[0].blocks)
    assert "Created tag later" in text_of(slack.responses_to(allowed.response_url)[0].blocks)
    assert sandbox.count(method="POST", resource="tags") == 1


async def test_a_configured_admin_keeps_their_rights_while_slack_is_down(
    sandbox: SandboxServer, slack: FakeSlack, make_settings: Callable[..., Settings]
) -> None:
    async with serving(make_settings(admins=frozenset({"U_MEMBER"})), slack) as (server, sender):
        slack.fail_method("users.info", status=500, times=10)
        sent = await sender.command("tags add listed", user="U_MEMBER")
        await settle(server)
    assert "Created tag listed" in text_of(slack.responses_to(sent.response_url)[0].blocks)
