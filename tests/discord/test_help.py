"""`/mlc help` in Discord shows every command's whole one-line help, however long."""

from __future__ import annotations

from adapters.discord.bot import MlcBot
from commands.catalog import default_catalog
from tests.discord import payloads
from tests.discord.test_discord_http import interact
from tests.fakes.discord_api import FakeDiscord


async def test_help_shows_every_command_with_its_whole_summary(
    discord_bot: MlcBot, fake_discord: FakeDiscord
) -> None:
    followup = await interact(discord_bot, fake_discord, payloads.slash("help"))

    assert not fake_discord.refused
    fields = {
        field["name"]: field["value"]
        for embed in followup.json["embeds"]
        for field in embed.get("fields", [])
    }
    for cmd in default_catalog():
        assert fields.get(f"/mlc {cmd.name}") == cmd.summary, cmd.name
