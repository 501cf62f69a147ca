"""Buttons (block_actions) and @mentions: the same core commands, answered in place."""

from __future__ import annotations

import asyncio
import re

import pytest

from adapters.slack.server import SlackServer
from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import settle
from tests.slack.payloads import SlackSender
from tests.slack.views import buttons_of, check_limits, selects_of, text_of


async def _handoffs(sender: SlackSender, slack: FakeSlack) -> tuple[list[str], dict]:
    await sender.command("handoffs --limit 3")
    (listing,) = await slack.wait_for_responses(1)
    sessions = re.findall(r"`(s_[0-9a-f]+)`", text_of(listing.blocks))
    return sessions, buttons_of(listing.blocks)


async def test_transcript_button_answers_privately_beside_the_list(
    sender: SlackSender, slack: FakeSlack, sandbox: SandboxServer
) -> None:
    sessions, buttons = await _handoffs(sender, slack)
    sent = await sender.click(buttons["Transcript#2"], user="U_MEMBER")
    assert sent.response.status_code == 200 and sent.response.text == ""
    (reply,) = await slack.wait_for_responses(1, response_url=sent.response_url)
    check_limits(reply.blocks)
    assert sessions[1] in text_of(reply.blocks[:1])
    assert reply.response_type == "ephemeral"
    assert reply.body["replace_original"] is False
    assert sandbox.count(resource="transcripts") == 1


async def test_tag_button_offers_the_sites_tags_then_tags_the_session(
    sender: SlackSender, slack: FakeSlack, sandbox: SandboxServer
) -> None:
    sessions, buttons = await _handoffs(sender, slack)
    picked = await sender.click(buttons["Tag"], user="U_MEMBER")
    (picker,) = await slack.wait_for_responses(1, response_url=picked.response_url)
    check_limits(picker.blocks)
    assert picker.response_type == "ephemeral" and picker.body["replace_original"] is False
    (select,) = selects_of(picker.blocks)
    values = [o["value"] for o in select["options"]]
    assert values[:3] == ["vip", "billing", "bug"] and len(values) == 7
    assert f"Choose a tag for `tag {sessions[0]}`" in text_of(picker.blocks)

    chosen = await sender.click(
        select, user="U_MEMBER", block_id=select["_block_id"], selected=select["options"][0]
    )
    (outcome,) = await slack.wait_for_responses(1, response_url=chosen.response_url)
    assert outcome.body["replace_original"] is True
    assert f"Session `{sessions[0]}` is now tagged `vip`." in text_of(outcome.blocks)
    assert sandbox.count(method="POST", resource="apply_tag") == 1
    undo = buttons_of(outcome.blocks)["Undo"]
    assert undo["value"].startswith(f"untag {sessions[0]} ")


async def test_picking_reuses_the_cached_tag_list(
    sender: SlackSender, slack: FakeSlack, sandbox: SandboxServer
) -> None:
    _, buttons = await _handoffs(sender, slack)
    first = await sender.click(buttons["Tag"])
    second = await sender.click(buttons["Tag#2"])
    await slack.wait_for_responses(1, response_url=first.response_url)
    await slack.wait_for_responses(1, response_url=second.response_url)
    assert sandbox.count(resource="tags") == 1


async def test_a_click_rechecks_permission(
    sender: SlackSender, slack: FakeSlack, sandbox: SandboxServer, api: MyLiveChatClient
) -> None:
    await api.create_webhook_subscription(
        url="https://example.com/hook", events=["handoff"], label="zap"
    )
    await sender.command("webhooks")
    (listing,) = await slack.wait_for_responses(1)
    test_button = buttons_of(listing.blocks)["Test"]
    assert re.fullmatch(r"webhooks test \d+", test_button["value"])

    sent = await sender.click(test_button, user="U_MEMBER")
    (reply,) = await slack.wait_for_responses(1, response_url=sent.response_url)
    assert "`webhooks test` is for admins" in text_of(reply.blocks)
    assert sandbox.count(method="POST", resource="test_webhook") == 0


async def test_a_button_in_a_thread_answers_in_that_thread(
    sender: SlackSender, slack: FakeSlack
) -> None:
    _, buttons = await _handoffs(sender, slack)
    sent = await sender.click(
        buttons["Transcript"],
        ephemeral=False,
        message_ts="1700000300.000100",
        thread_ts="1700000200.000100",
    )
    (reply,) = await slack.wait_for_responses(1, response_url=sent.response_url)
    assert reply.body["thread_ts"] == "1700000200.000100"
    assert reply.response_type == "ephemeral"


async def test_a_retried_click_runs_once(
    sender: SlackSender, server: SlackServer, slack: FakeSlack, sandbox: SandboxServer
) -> None:
    _, buttons = await _handoffs(sender, slack)
    sandbox.clear_requests()
    sent = await sender.click(buttons["Transcript"])
    await sender.post(sent.body, retry_num=1)
    await slack.wait_for_responses(1, response_url=sent.response_url)
    await settle(server)
    assert sandbox.count(resource="transcripts") == 1


# --- mentions -----------------------------------------------------------------------------------


async def test_mention_in_a_thread_answers_in_that_thread(
    sender: SlackSender, slack: FakeSlack
) -> None:
    sent = await sender.mention(
        "<@U0BOT> usage", user="U_MEMBER", ts="1700000500.000100", thread_ts="1700000400.000100"
    )
    assert sent.response.status_code == 200
    (message,) = await slack.wait_for_messages(1)
    assert message.thread_ts == "1700000400.000100"
    assert message.ephemeral and message.user == "U_MEMBER"
    assert message.channel == "C_SUPPORT"
    assert "included replies used" in text_of(message.blocks)


async def test_public_mention_replies_in_a_thread_under_it_for_everyone(
    sender: SlackSender, slack: FakeSlack
) -> None:
    await sender.mention("<@U0BOT> handoffs --limit 2 --public", ts="1700000600.000100")
    (message,) = await slack.wait_for_messages(1)
    assert message.method == "chat.postMessage" and not message.ephemeral
    assert message.thread_ts == "1700000600.000100"
    assert "Asked by <@U_ADMIN>" in text_of(message.blocks)
    assert "Recent handoffs" in text_of(message.blocks)


async def test_private_answer_to_a_top_level_mention_is_ephemeral_in_the_channel(
    sender: SlackSender, slack: FakeSlack
) -> None:
    await sender.mention("<@U0BOT>   tags", ts="1700000700.000100")
    (message,) = await slack.wait_for_messages(1)
    assert message.ephemeral and message.thread_ts is None
    assert "Tags (7)" in text_of(message.blocks)


async def test_mention_text_is_unwrapped_as_slack_escapes_it(
    sender: SlackSender, slack: FakeSlack, sandbox: SandboxServer
) -> None:
    await sender.mention(
        "<@U0BOT> webhooks add <https://example.com/in?a=1&amp;b=2|example.com/in> "
        "--events handoff --label A &amp; B"
    )
    (message,) = await slack.wait_for_messages(1)
    assert "Webhook" in text_of(message.blocks) and "created" in text_of(message.blocks)
    (created,) = [r for r in sandbox.requests if r.method == "POST"]
    assert created.body["url"] == "https://example.com/in?a=1&b=2"
    assert created.body["label"] == "A & B"


async def test_a_retried_event_runs_once(
    sender: SlackSender, server: SlackServer, slack: FakeSlack, sandbox: SandboxServer
) -> None:
    sandbox.latency = 0.3
    await sender.mention("<@U0BOT> ping", event_id="Ev0RETRY01")
    retry = await sender.mention("<@U0BOT> ping", event_id="Ev0RETRY01", retry_num=1)
    assert retry.response.status_code == 200
    assert retry.response.headers.get("x-slack-no-retry") == "1"
    await slack.wait_for_messages(1)
    await settle(server)
    assert sandbox.count(resource="ping") == 1
    assert len(slack.messages) == 1


async def test_rate_limited_reply_is_retried_after_retry_after(
    sender: SlackSender, slack: FakeSlack
) -> None:
    slack.rate_limit("chat.postEphemeral", times=1, retry_after=1)
    await sender.mention("<@U0BOT> help")
    (message,) = await slack.wait_for_messages(1, within=5)
    calls = slack.calls_to("chat.postEphemeral")
    assert len(calls) == 2 and calls[1].at - calls[0].at >= 0.9
    assert "MyLiveChat bot commands" in text_of(message.blocks)


async def test_a_channel_slack_refuses_is_logged_not_raised(
    sender: SlackSender, server: SlackServer, slack: FakeSlack, caplog
) -> None:
    slack.fail_channel("C_GONE", "is_archived")
    await sender.mention("<@U0BOT> help", channel="C_GONE")
    await asyncio.sleep(0.1)
    await settle(server)
    assert "could not answer a mention in C_GONE: is_archived" in caplog.text
    assert slack.messages == []


@pytest.mark.parametrize("name", ["it's", 'say "hi"', "back\\slash", "both ' and \""])
async def test_a_picked_tag_with_quotes_or_backslashes_is_applied_exactly(
    sender: SlackSender, slack: FakeSlack, sandbox: SandboxServer, api: MyLiveChatClient, name: str
) -> None:
    created = await api.create_tag(name)
    sessions, buttons = await _handoffs(sender, slack)
    picked = await sender.click(buttons["Tag"], user="U_MEMBER")
    (picker,) = await slack.wait_for_responses(1, response_url=picked.response_url)
    (select,) = selects_of(picker.blocks)
    (option,) = [o for o in select["options"] if o["value"] == name]
    chosen = await sender.click(
        select, user="U_MEMBER", block_id=select["_block_id"], selected=option
    )
    (outcome,) = await slack.wait_for_responses(1, response_url=chosen.response_url)
    assert "is now tagged" in text_of(outcome.blocks)
    (applied,) = [r.body for r in sandbox.requests if r.resource == "apply_tag"]
    assert applied == {"session_id": sessions[0], "tag_id": created.id}
