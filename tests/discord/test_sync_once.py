"""Commands are synced to Discord only when they changed (the daily quota is small)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import pytest

from bot.config import Settings
from bot.processes.discord import run
from bot.sandbox import SandboxServer
from bot.secrets import Secret
from tests.fakes.discord_api import FakeDiscord


async def _start_and_stop(fake: FakeDiscord, settings: Settings) -> None:
    fake.identified.clear()
    serving = asyncio.create_task(run(settings))
    await asyncio.wait_for(fake.identified.wait(), 10)
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(serving, 10) == 0


def _puts(fake: FakeDiscord) -> int:
    return len(fake.matching("PUT"))


async def test_a_restart_with_the_same_commands_syncs_nothing(
    fake_discord: FakeDiscord,
    sandbox: SandboxServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="mlc_bot.discord")
    fake_discord.token = "fake-discord-token"
    settings = Settings(
        api_url=sandbox.url,
        api_token=Secret(sandbox.tokens.site_a_write),
        discord_token=Secret("fake-discord-token"),
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
    )
    with fake_discord.installed():
        await _start_and_stop(fake_discord, settings)
        assert _puts(fake_discord) == 1 and fake_discord.synced_commands() is not None
        await _start_and_stop(fake_discord, settings)
        assert _puts(fake_discord) == 1, "the same commands were sent again"
        assert "commands unchanged since the last sync (global)" in caplog.text
        # Another scope (a guild for setup) has not been synced: it is sent once.
        guild = Settings(**{**settings.__dict__, "discord_guild_ids": (4242,)})
        await _start_and_stop(fake_discord, guild)
        await _start_and_stop(fake_discord, guild)
    assert _puts(fake_discord) == 2
    assert fake_discord.synced_commands(4242) is not None
