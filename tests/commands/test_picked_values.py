"""A value chosen from a picker reaches the command exactly as it was offered."""

from __future__ import annotations

import pytest

from bot.sandbox import SandboxServer
from commands.dispatch import Dispatcher
from tests.conftest import ContextFactory

AWKWARD = [
    "it's",
    'say "hi"',
    "back\\slash",
    "both ' and \"",
    "two  spaces",
    "--not-an-option",
    "#3",
    "“smart”",
]


@pytest.mark.parametrize("value", AWKWARD)
async def test_a_picked_value_is_one_exact_word(
    sandbox: SandboxServer, dispatcher: Dispatcher, make_context: ContextFactory, value: str
) -> None:
    reply = await dispatcher.run_picked("tags add", value, make_context())
    assert reply.ok, reply.text
    (created,) = [r for r in sandbox.requests if r.method == "POST" and r.resource == "tags"]
    assert created.body["name"] == value


async def test_the_picker_offers_choices_the_core_chose(
    dispatcher: Dispatcher, make_context: ContextFactory
) -> None:
    reply = await dispatcher.offer_pick("tag", "tag s_1", make_context(), limit=3)
    assert reply.picker is not None and reply.picker.command == "tag s_1"
    assert len(reply.picker.choices) == 3 and all(c.value for c in reply.picker.choices)


async def test_nothing_to_pick_is_said_plainly(
    sandbox: SandboxServer, dispatcher: Dispatcher, make_context: ContextFactory
) -> None:
    sandbox.inject_fault("500", count=10)
    reply = await dispatcher.offer_pick("tag", "tag s_1", make_context())
    assert reply.picker is None
    assert "Type the command instead: `/mlc tag s_1 <tag>`" in reply.text
