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
import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import Any, Self

import discord
from discord.http import HTTPClient, handle_message_parameters
from discord.utils import MISSING

from commands.ports import ChannelGone, ChannelRef, PostRefused
from commands.reply import Reply

from .embeds import render_embeds
from .mentions import mentions_of
from .views import build_view

__all__ = ["NONCE_LENGTH", "DiscordPoster", "nonce_for"]

_NO_MENTIONS = discord.AllowedMentions.none()


@contextlib.asynccontextmanager
async def _refusals(channel: ChannelRef) -> AsyncIterator[None]:
    """Discord's refusals as the port's: the channel is gone, or the post was refused."""
    try:
        yield
    except (discord.NotFound, discord.Forbidden) as exc:
        # 404 Unknown Channel, 403 Missing Access / Missing Permissions / DMs closed.
        raise ChannelGone(channel, f"{exc.status} {exc.text or 'refused'}") from None
    except discord.HTTPException as exc:
        if exc.status < 500:
            raise PostRefused(channel, f"{exc.status} {exc.text or 'refused'}") from None
        raise  # a 5xx: Discord may have done it


def _parameters(reply: Reply, **extra: Any) -> Any:
    """The message body: embeds, buttons, and only the mentions the reply names."""
    content, allowed = mentions_of(reply)
    view = build_view(reply)
    return handle_message_parameters(
        content=content or None,
        embeds=render_embeds(reply),
        view=view if view is not None else MISSING,
        allowed_mentions=allowed,
        **extra,
    )


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

    async def post(
        self, channel: ChannelRef, reply: Reply, *, key: str | None = None
    ) -> str | None:
        """Post ``reply`` (with its buttons); a user id as ``channel_id`` with ``direct`` goes
        to their DMs. With ``key``, a repeat within Discord's nonce window is a no-op.
        Returns the message's id."""
        async with _refusals(channel):
            target = channel.channel_id
            channel_id = await self._dm(target) if channel.direct else target
            with _parameters(reply, nonce=nonce_for(key) if key is not None else None) as params:
                message = await self.http.send_message(int(channel_id), params=params)
        return str(message["id"])

    async def reply_to(
        self, channel: ChannelRef, message_id: str, reply: Reply, *, key: str | None = None
    ) -> str | None:
        """Answer the message with a reply that points at it; the answer's id."""
        reference = discord.MessageReference(
            message_id=int(message_id), channel_id=int(channel.channel_id), fail_if_not_exists=False
        )
        async with _refusals(channel):
            with _parameters(
                reply,
                nonce=nonce_for(key) if key is not None else None,
                # The payload's dict: the object itself does not serialize (discord.py's own
                # send() converts it the same way).
                message_reference=reference.to_message_reference_dict(),
            ) as params:
                message = await self.http.send_message(int(channel.channel_id), params=params)
        return str(message["id"])

    async def update(self, channel: ChannelRef, message_id: str, reply: Reply) -> None:
        """Show ``reply`` (and its buttons) in place of the message."""
        async with _refusals(channel):
            with _parameters(reply) as params:
                await self.http.edit_message(
                    int(channel.channel_id), int(message_id), params=params
                )

    async def _dm(self, user_id: str) -> str:
        if user_id not in self._dm_channels:
            dm = await self.http.start_private_message(int(user_id))
            self._dm_channels[user_id] = str(dm["id"])
        return self._dm_channels[user_id]

    async def aclose(self) -> None:
        await self.http.close()
