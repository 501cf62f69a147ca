"""Digests into Slack channels: ``chat.postMessage`` at Slack's pace of a message a second.

Slack allows about one message per second per channel in bursts; when many digests fall
on the same minute, posts to one channel queue behind each other, a second apart. A 429
``ratelimited`` waits ``Retry-After`` and tries again (slack_sdk's retry handler).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Self

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import ConfigError, Settings
from bot.scheduler.posting import ChannelGone, ChannelRef
from commands.reply import Reply

from .blocks import render_message
from .errors import slack_error

__all__ = ["CHANNEL_GONE_ERRORS", "SlackPoster"]

CHANNEL_GONE_ERRORS = frozenset(
    {
        "channel_not_found",  # deleted, or private and the bot was never in it
        "is_archived",
        "not_in_channel",  # the bot was removed
        "restricted_action",  # posting there is now limited to admins
        "restricted_action_read_only_channel",
        "team_access_not_granted",
    }
)
"""``chat.postMessage`` errors that retrying will not fix."""


class SlackPoster:
    """Posts replies with one bot token, at most one message per ``pace`` seconds per channel."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        pace: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.pace = pace
        self._clock = clock
        self._sleep = sleep
        self._locks: dict[str, asyncio.Lock] = {}
        self._next_slot: dict[str, float] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        if settings.slack_bot_token is None:
            raise ConfigError("SLACK_BOT_TOKEN is not set: digests cannot be posted to Slack.")
        client = AsyncWebClient(
            token=settings.slack_bot_token.reveal(),
            base_url=settings.slack_api_url or AsyncWebClient.BASE_URL,
            timeout=10,
        )
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
        return cls(client)

    async def post(self, channel: ChannelRef, reply: Reply) -> None:
        """Post ``reply`` (a user id as ``channel_id`` with ``direct`` reaches their DMs)."""
        message = render_message(reply)
        lock = self._locks.setdefault(channel.channel_id, asyncio.Lock())
        async with lock:
            wait = self._next_slot.get(channel.channel_id, 0.0) - self._clock()
            if wait > 0:
                await self._sleep(wait)
            try:
                await self.client.chat_postMessage(
                    channel=channel.channel_id,
                    text=message["text"],
                    blocks=message["blocks"],
                    unfurl_links=False,
                    unfurl_media=False,
                )
            except SlackApiError as exc:
                error = slack_error(exc)
                if error in CHANNEL_GONE_ERRORS:
                    raise ChannelGone(channel, error) from None
                raise
            finally:
                self._next_slot[channel.channel_id] = self._clock() + self.pace
