"""Digests into Discord channels over REST only (no gateway connection needed).

discord.py's HTTP client logs in with the bot token and sends to a channel; it also
keeps to Discord's per-route rate limits by itself. A post with a key carries a nonce
derived from it with ``enforce_nonce`` (discord.py adds that flag to every nonce): for a
few minutes Discord answers a second post with the same nonce with the first message
instead of creating another, so a scheduler that retakes a digest whose first sender
died mid-post cannot show it twice.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Self

import discord
from discord.http import HTTPClient, handle_message_parameters

from commands.ports import ChannelGone, ChannelRef, PostRefused
from commands.reply import Reply

from .embeds import render_embeds

__all__ = ["NONCE_LENGTH", "DiscordPoster", "nonce_for"]

_NO_MENTIONS = discord.AllowedMentions.none()
NONCE_LENGTH = 25
"""Discord refuses a longer nonce."""


def nonce_for(key: str) -> str:
    """A nonce of Discord's maximum length, the same for every process given ``key``."""
    return hashlib.sha256(key.encode()).hexdigest()[:NONCE_LENGTH]


class DiscordPoster:
    """Posts replies as embeds with a logged-in discord.py HTTP client."""

    def __init__(self, http: HTTPClient) -> None:
        self.http = http
        self._dm_channels: dict[str, str] = {}

    @classmethod
    async def login(cls, token: str) -> Self:
        """Log in over REST; raises ``discord.LoginFailure`` when Discord refuses the token."""
        http = HTTPClient(asyncio.get_running_loop())
        try:
            await http.static_login(token)
        except BaseException:
            await http.close()
            raise
        return cls(http)

    async def post(self, channel: ChannelRef, reply: Reply, *, key: str | None = None) -> None:
        """Post ``reply``; a user id as ``channel_id`` with ``direct`` goes to their DMs.

        With ``key``, a repeat of the post within Discord's nonce window is a no-op.
        """
        try:
            target = channel.channel_id
            channel_id = await self._dm(target) if channel.direct else target
            with handle_message_parameters(
                embeds=render_embeds(reply),
                allowed_mentions=_NO_MENTIONS,
                nonce=nonce_for(key) if key is not None else None,
            ) as params:
                await self.http.send_message(int(channel_id), params=params)
        except (discord.NotFound, discord.Forbidden) as exc:
            # 404 Unknown Channel, 403 Missing Access / Missing Permissions / DMs closed.
            raise ChannelGone(channel, f"{exc.status} {exc.text or 'refused'}") from None
        except discord.HTTPException as exc:
            if exc.status < 500:
                raise PostRefused(channel, f"{exc.status} {exc.text or 'refused'}") from None
            raise  # a 5xx: Discord may have posted it

    async def _dm(self, user_id: str) -> str:
        if user_id not in self._dm_channels:
            dm = await self.http.start_private_message(int(user_id))
            self._dm_channels[user_id] = str(dm["id"])
        return self._dm_channels[user_id]

    async def aclose(self) -> None:
        await self.http.close()
