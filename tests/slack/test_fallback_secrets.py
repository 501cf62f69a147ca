"""A webhook secret is in the body of a private reply, never in a fallback or notification.

Slack shows a message's top-level ``text`` in notifications and previews, so a secret there
would be on a lock screen. Every webhooks command is run; each reply that carries a secret
(``sensitive``) must keep it out of the fallback and show it in the blocks.
"""

from __future__ import annotations

import re

from adapters.slack.blocks import render_message
from bot.sandbox import SandboxServer
from commands.catalog import default_catalog
from commands.dispatch import Dispatcher
from commands.reply import Reply
from tests.conftest import ContextFactory
from tests.fakes.slack_api import FakeSlack
from tests.slack.payloads import SlackSender
from tests.slack.views import text_of

RECEIVER = "https://hooks.example.com/catch/1/abc"


def _secrets(sandbox: SandboxServer) -> set[str]:
    return {sub.secret for sub in sandbox.state.webhooks.values()}


async def test_no_webhooks_reply_puts_a_secret_in_its_fallback_text(
    sandbox: SandboxServer, dispatcher: Dispatcher, make_context: ContextFactory
) -> None:
    created = await dispatcher.run_text(f"webhooks add {RECEIVER} --events handoff", make_context())
    assert created.ok, created.text
    sub_id = max(sandbox.state.webhooks)
    texts = [
        re.sub(r"(?<= )[0-9]+\b", str(sub_id), example)
        for command in default_catalog()
        if command.path[0] == "webhooks"
        for example in command.examples
    ]
    replies: list[Reply] = [created]
    secrets = _secrets(sandbox)  # every secret ever issued, rotated ones included
    for text in sorted(texts, key=lambda t: " delete " in t):  # the subscription goes last
        replies.append(await dispatcher.run_text(text, make_context()))
        secrets |= _secrets(sandbox)
    sensitive = [r for r in replies if r.sensitive]
    titles = [r.title for r in sensitive]
    assert any("created" in t for t in titles) and any("new secret" in t for t in titles), titles
    for reply in sensitive:
        message = render_message(reply)
        shown = [s for s in secrets if s in text_of(message["blocks"])]
        assert len(shown) == 1, f"{reply.title}: the secret is in the body"
        assert not any(s in message["text"] for s in secrets), message["text"]
        assert message["text"].startswith(reply.title)


async def test_a_new_secret_reaches_slack_in_the_blocks_only(
    sender: SlackSender, slack: FakeSlack, sandbox: SandboxServer
) -> None:
    for command in (f"webhooks add {RECEIVER} --events handoff", "webhooks rotate {id}"):
        sent = await sender.command(command.format(id=max(sandbox.state.webhooks, default=0)))
        (post,) = await slack.wait_for_responses(1, response_url=sent.response_url)
        secret = sandbox.state.webhooks[max(sandbox.state.webhooks)].secret
        assert post.response_type == "ephemeral"
        assert f"Secret: `{secret}`" in text_of(post.blocks)
        assert secret not in post.text
        assert post.text.startswith("Webhook "), post.text
