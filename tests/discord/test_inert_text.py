"""Visitor-written text through the real handlers and discord.py into the Discord fake.

The sandbox holds hostile text wherever a visitor (or anyone but the bot) writes it (see
``tests.inert.seed_hostile``). Each command arrives as Discord sends it; its follow-up, as
the fake Discord receives it, must show that text without any of it forming a masked link,
a bare link, a mention or formatting; the fake refuses a body that breaks Discord's limits.
"""

from __future__ import annotations

from typing import Any

import pytest

from adapters.discord.bot import MlcBot
from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from tests.discord import payloads
from tests.discord.test_discord_http import interact
from tests.fakes.discord_api import FakeDiscord
from tests.inert import MARK, Seeded, discord_hostile, seed_hostile_via_api


@pytest.fixture
async def hostile(sandbox: SandboxServer, api: MyLiveChatClient) -> Seeded:
    return await seed_hostile_via_api(api, sandbox, plan="**ZAP** @everyone")


@pytest.mark.parametrize(
    ("words", "options"),
    [
        ("handoffs", {"limit": 5}),
        ("handoffs", {"limit": 5, "public": True}),
        ("transcript", {"session_id": "s_hostile0001", "last": 100}),
        ("transcripts", {"limit": 5}),
        ("feedback", {"limit": 60, "comments": 50}),
        ("starters", {}),
        ("tags list", {}),
        ("visitors", {"limit": 5}),
    ],
)
async def test_visitor_written_text_is_inert_in_every_reply(
    discord_bot: MlcBot,
    fake_discord: FakeDiscord,
    hostile: Seeded,
    words: str,
    options: dict[str, Any],
) -> None:
    followup = await interact(discord_bot, fake_discord, payloads.slash(words, options))
    body = followup.json
    assert not fake_discord.refused
    assert body["allowed_mentions"] == {"parse": []}
    assert MARK in str(body["embeds"]), "the hostile text is shown"
    assert discord_hostile(body) == []


async def test_the_transcript_shows_every_hostile_line_escaped(
    discord_bot: MlcBot, fake_discord: FakeDiscord, hostile: Seeded
) -> None:
    payload = payloads.slash("transcript", {"session_id": hostile.session_id, "last": 100})
    body = (await interact(discord_bot, fake_discord, payload)).json
    text = "\n".join(e.get("description") or "" for e in body["embeds"])
    assert r"\[Reset your password ZAP\](https\://evil.example/login)" in text
    assert r"\*\*ZAP bold\*\*" in text and r"\|\|ZAP spoiler\|\|" in text
    assert "@\u200beveryone ZAP" in text and "\\<@\u200b123456789012345678> ZAP" in text


async def test_a_hostile_tag_name_stays_inside_the_bots_code(
    discord_bot: MlcBot, fake_discord: FakeDiscord, hostile: Seeded
) -> None:
    name = "`ZAP` **bold** <@&123456789012345678>"
    await interact(discord_bot, fake_discord, payloads.slash("tags add", {"name": name}))
    payload = payloads.slash("tag", {"session_id": hostile.session_id, "tag": name})
    body = (await interact(discord_bot, fake_discord, payload)).json
    (embed,) = body["embeds"]
    shown = "ˋZAPˋ **bold** <@&123456789012345678>"
    assert embed["description"] == f"Session `{hostile.session_id}` is now tagged `{shown}`."
    assert discord_hostile(body, allowed=[("code", shown)]) == []
