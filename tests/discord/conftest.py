"""Discord fixtures: the core on the sandbox, mocked interactions, and the fake Discord API."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import discord
import pytest
from pytest_mock import MockerFixture

from adapters.discord.bot import MlcBot
from adapters.discord.interactions import InteractionHandler
from bot.compose import build_core
from bot.config import Settings
from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from commands.core import Core
from tests.discord import payloads
from tests.fakes.discord_api import FakeDiscord, logged_in

LISTED_ADMIN_ID = 600000000000000009
"""A user without Manage Server who is in MLC_BOT_ADMINS."""


@pytest.fixture
def core(sandbox: SandboxServer, api: MyLiveChatClient) -> Core:
    settings = Settings(api_url=sandbox.url, admins=frozenset({str(LISTED_ADMIN_ID)}))
    return build_core(settings, api=api)


@pytest.fixture
def handler(core: Core) -> InteractionHandler:
    return InteractionHandler(core)


MockInteraction = Callable[..., Any]


@pytest.fixture
def mock_interaction(mocker: MockerFixture, handler: InteractionHandler) -> MockInteraction:
    """A mocked ``discord.Interaction`` that records each call and when it was made.

    ``calls`` lists ``(name, monotonic time, kwargs)`` in call order.
    """

    def build(
        *,
        user_id: int = payloads.MEMBER_ID,
        manage_guild: bool = False,
        guild_id: int | None = payloads.GUILD_ID,
        permissions_missing: bool = False,
    ) -> Any:
        interaction = mocker.MagicMock(spec=discord.Interaction)
        interaction.calls = []

        def recorder(name: str) -> Any:
            async def record(*args: Any, **kwargs: Any) -> None:
                interaction.calls.append((name, time.monotonic(), kwargs))

            return mocker.AsyncMock(side_effect=record)

        interaction.response.defer = recorder("defer")
        interaction.response.send_message = recorder("send_message")
        interaction.followup.send = recorder("followup")
        interaction.edit_original_response = recorder("edit_original")
        interaction.user.id = user_id
        interaction.user.display_name = f"user{user_id % 1000}"
        interaction.permissions = discord.Permissions(manage_guild=manage_guild)
        # What discord.py gives when the member object comes without its permissions.
        interaction.user.resolved_permissions = (
            None if permissions_missing else discord.Permissions(manage_guild=manage_guild)
        )
        interaction.guild_id = guild_id
        interaction.channel_id = payloads.CHANNEL_ID
        interaction.client.mlc_handlers = handler
        return interaction

    return build


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(application_id=payloads.APPLICATION_ID) as fake:
        yield fake


@pytest.fixture
async def discord_bot(
    core: Core, handler: InteractionHandler, fake_discord: FakeDiscord
) -> AsyncIterator[MlcBot]:
    """The bot logged in to the fake Discord (its login synced the commands globally)."""
    client = MlcBot(handler, core.dispatcher.catalog)
    async with logged_in(client, fake_discord):
        yield client
