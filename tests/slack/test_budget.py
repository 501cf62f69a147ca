"""A spent MyLiveChat budget: callers are told at once, served in order, never stuck or late.

The sandbox's rate limit is made tiny so that a handful of commands spend it; everything
else is the real server, real signed HTTP and the fake Slack receiving the replies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from adapters.slack.server import SlackServer
from bot.config import Settings
from bot.sandbox import SandboxServer
from tests.fakes.slack_api import FakeSlack, ResponsePost
from tests.slack.conftest import serving, settle
from tests.slack.payloads import Sent, SlackSender
from tests.slack.views import text_of

LIMIT, WINDOW = 3, 2.0


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    """A sandbox whose token allows only a few requests per window."""
    async with SandboxServer(rate_limit=LIMIT, window=WINDOW) as server:
        yield server


def _replies(slack: FakeSlack, sent: Sent) -> list[ResponsePost]:
    assert sent.response_url is not None
    return sorted(slack.responses_to(sent.response_url), key=lambda r: r.at)


def _limits_asked(sandbox: SandboxServer) -> list[int]:
    return [int(r.query["limit"]) for r in sandbox.requests if r.resource == "feedback"]


async def test_queued_commands_are_told_at_once_and_answered_in_arrival_order(
    sender: SlackSender, server: SlackServer, sandbox: SandboxServer, slack: FakeSlack
) -> None:
    commands = [await sender.command(f"feedback --limit {n}") for n in range(1, 11)]
    helped = await sender.command("help")
    await settle(server)

    # Every command was answered once, and the server refused nothing.
    assert sandbox.rate_limited_count == 0
    assert _limits_asked(sandbox) == list(range(1, 11))  # in the order they were typed
    answers = []
    for sent in commands:
        *notices, answer = _replies(slack, sent)
        assert "Visitor feedback" in text_of(answer.blocks)
        for notice in notices:  # a notice, when there is one, came first and says how long
            assert "Queued" in text_of(notice.blocks) and "about " in text_of(notice.blocks)
        answers.append(answer)
    queued = [sent for sent in commands if len(_replies(slack, sent)) == 2]
    assert len(queued) >= 3, "the last commands waited long enough to be told"
    # help needs no API call: it did not wait behind the queued commands.
    (help_answer,) = _replies(slack, helped)
    assert help_answer.at < answers[-1].at


async def test_a_command_that_would_outlive_its_reply_is_refused_without_a_call(
    sandbox: SandboxServer,
    slack: FakeSlack,
    make_settings: Callable[..., Settings],
) -> None:
    # Replies expire after 4 s here (Slack: 30 min): a long queue cannot be answered.
    async with serving(make_settings(), slack, reply_lifetime=4.0) as (server, sender):
        commands = [await sender.command(f"feedback --limit {n}") for n in range(1, 13)]
        await settle(server)

    assert sandbox.rate_limited_count == 0
    asked = set(_limits_asked(sandbox))
    refused = 0
    for limit, sent in enumerate(commands, start=1):
        answer = _replies(slack, sent)[-1]
        text = text_of(answer.blocks)
        if "rate limit is spent; try again in" in text:
            refused += 1
            assert limit not in asked, "a refused command sent nothing"
            assert "nothing was sent to MyLiveChat" in text
        else:
            assert "Visitor feedback" in text and limit in asked
    assert refused >= 3
    assert len(asked) + refused == len(commands)
