"""Digests into Discord channels over REST only (no gateway connection needed).

discord.py's HTTP client logs in with the bot token and sends to a channel; it also
keeps to Discord's per-route rate limits by itself.
"""

from __future__ import annotations

import asyncio
from typing import Self

import discord
from discord.http import HTTPClient, handle_message_parameters

from bot.config import ConfigError, Settings
from bot.scheduler.posting import ChannelGone, ChannelRef
from commands.reply import Reply

from .embeds import render_embeds

__all__ = ["DiscordPoster"]

_NO_MENTIONS = discord.AllowedMentions.none()


class DiscordPoster:
    """Posts replies as embeds with a logged-in discord.py HTTP client."""

    def __init__(self, http: HTTPClient) -> None:
        self.http = http
        self._dm_channels: dict[str, str] = {}

    @classmethod
    async def login(cls, token: str) -> Self:
        http = HTTPClient(asyncio.get_running_loop())
        try:
            await http.static_login(token)
        except discord.LoginFailure:
            await http.close()
            raise ConfigError(
                "Discord did not accept DISCORD_TOKEN; digests cannot be posted to Discord."
            ) from None
        return cls(http)

    @classmethod
    async def from_settings(cls, settings: Settings) -> Self:
        if settings.discord_token is None:
            raise ConfigError("DISCORD_TOKEN is not set: digests cannot be posted to Discord.")
        return await cls.login(settings.discord_token.reveal())

    async def post(self, channel: ChannelRef, reply: Reply) -> None:
        """Post ``reply``; a user id as ``channel_id`` with ``direct`` goes to their DMs."""
        try:
            target = channel.channel_id
            channel_id = await self._dm(target) if channel.direct else target
            with handle_message_parameters(
                embeds=render_embeds(reply), allowed_mentions=_NO_MENTIONS
            ) as params:
                await self.http.send_message(int(channel_id), params=params)
        except (discord.NotFound, discord.Forbidden) as exc:
            # 404 Unknown Channel, 403 Missing Access / Missing Permissions / DMs closed.
            raise ChannelGone(channel, f"{exc.status} {exc.text or 'refused'}") from None

    async def _dm(self, user_id: str) -> str:
        if user_id not in self._dm_channels:
            dm = await self.http.start_private_message(int(user_id))
            self._dm_channels[user_id] = str(dm["id"])
        return self._dm_channels[user_id]

    async def aclose(self) -> None:
        await self.http.close()
