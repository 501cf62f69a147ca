"""Digests into Slack channels: ``chat.postMessage`` at Slack's pace of a message a second.

Slack allows about one message per second per channel in bursts; when many digests fall
on the same minute, posts to one channel queue behind each other, a second apart. A 429
``ratelimited`` waits ``Retry-After`` and tries again (slack_sdk's retry handler).

``chat.postMessage`` takes no idempotency key; a post with a key carries it as message
metadata (event type :data:`METADATA_EVENT`), and :meth:`SlackPoster.find` looks for it
with ``conversations.history``, so a scheduler taking over a digest whose sender died
mid-post can tell whether Slack had already taken it. That needs the
``channels:history`` / ``groups:history`` scopes and the bot in the channel; without
them ``find`` cannot tell (docs/architecture.md, digests).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from commands.ports import ChannelGone, ChannelRef, PostRefused
from commands.reply import Reply

from .blocks import render_message
from .errors import slack_error

__all__ = ["CHANNEL_GONE_ERRORS", "FIND_LIMIT", "FIND_MARGIN", "METADATA_EVENT", "SlackPoster"]

METADATA_EVENT = "mlc_digest"
"""The ``event_type`` of the metadata on a keyed post; its payload is ``{"key": key}``."""

FIND_MARGIN = timedelta(minutes=5)
"""How much earlier than ``since`` :meth:`SlackPoster.find` looks (clocks differ)."""
FIND_LIMIT = 200
"""Messages ``find`` reads (one ``conversations.history`` page); more: it cannot tell."""

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

    async def post(
        self, channel: ChannelRef, reply: Reply, *, key: str | None = None
    ) -> str | None:
        """Post ``reply`` (a user id as ``channel_id`` with ``direct`` reaches their DMs);
        the message's ``ts``."""
        return await self._send(channel, reply, key=key)

    async def reply_to(
        self, channel: ChannelRef, message_id: str, reply: Reply, *, key: str | None = None
    ) -> str | None:
        """Answer the message in its thread; the answer's ``ts``."""
        return await self._send(channel, reply, key=key, thread_ts=message_id)

    async def update(self, channel: ChannelRef, message_id: str, reply: Reply) -> None:
        """Show ``reply`` in place of the message (``chat.update``)."""
        message = render_message(reply)
        async with self._turn(channel):
            await self._call(
                channel,
                self.client.chat_update(
                    channel=channel.channel_id,
                    ts=message_id,
                    text=message["text"],
                    blocks=message["blocks"],
                ),
            )

    async def _send(
        self, channel: ChannelRef, reply: Reply, *, key: str | None, thread_ts: str | None = None
    ) -> str | None:
        message = render_message(reply)
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}} if key else None
        async with self._turn(channel):
            response = await self._call(
                channel,
                self.client.chat_postMessage(
                    channel=channel.channel_id,
                    text=message["text"],
                    blocks=message["blocks"],
                    unfurl_links=False,
                    unfurl_media=False,
                    metadata=metadata,
                    thread_ts=thread_ts,
                ),
            )
        ts = response.get("ts")
        return str(ts) if ts else None

    @contextlib.asynccontextmanager
    async def _turn(self, channel: ChannelRef) -> AsyncIterator[None]:
        """One message at a time per channel, ``pace`` seconds apart."""
        lock = self._locks.setdefault(channel.channel_id, asyncio.Lock())
        async with lock:
            wait = self._next_slot.get(channel.channel_id, 0.0) - self._clock()
            if wait > 0:
                await self._sleep(wait)
            try:
                yield
            finally:
                self._next_slot[channel.channel_id] = self._clock() + self.pace

    @staticmethod
    async def _call(channel: ChannelRef, call: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
        try:
            return await call
        except SlackApiError as exc:
            error = slack_error(exc)
            if error in CHANNEL_GONE_ERRORS:
                raise ChannelGone(channel, error) from None
            if exc.response.status_code < 500:
                raise PostRefused(channel, error) from None
            raise  # a 5xx: Slack may have done it

    async def find(
        self, channel: ChannelRef, key: str, since: datetime, *, thread: str | None = None
    ) -> str | bool | None:
        """The ``ts`` of a post made with ``key`` since ``since`` (one
        ``conversations.history`` call, or ``conversations.replies`` for a reply in the
        ``thread`` of that message: the history does not list thread replies), False when
        there is none; None when Slack does not let the bot read the channel
        (``missing_scope``, ``not_in_channel``, ...) or there were too many messages since
        to look through."""
        oldest = f"{(since - FIND_MARGIN).timestamp():.6f}"
        try:
            if thread is not None:
                response = await self.client.conversations_replies(
                    channel=channel.channel_id,
                    ts=thread,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=FIND_LIMIT,
                )
            else:
                response = await self.client.conversations_history(
                    channel=channel.channel_id,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=FIND_LIMIT,
                )
        except SlackApiError:
            return None
        messages: list[dict[str, Any]] = response.get("messages") or []
        found = next((m for m in messages if _carries(m, key)), None)
        if found is not None:
            return str(found.get("ts") or "") or True
        return None if response.get("has_more") else False


def _carries(message: dict[str, Any], key: str) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key
