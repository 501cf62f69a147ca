"""What the core needs from outside, as protocols: the secret registry, the posters, the
channel checker, who is told how each command went, and the site news.

The application (``bot``) provides the implementations: the secret registry that also
redacts the logs, a poster per platform (in ``adapters``) for digests and alerts, for
``mlc-bot exec`` a checker that asks Slack or Discord about a channel named by id, its
metrics as the command observer, and (with ``REDIS_URL``) the news that tells the token's
other processes which cached list changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from .reply import Reply

__all__ = [
    "ChannelCheck",
    "ChannelChecker",
    "ChannelGone",
    "ChannelRef",
    "CommandObserver",
    "MessageEditor",
    "PostFinder",
    "PostRefused",
    "Poster",
    "SecretRegistry",
    "SiteNews",
]


@runtime_checkable
class SecretRegistry(Protocol):
    """Values that must never be shown again: logs and echoes replace them with ``***``."""

    def register(self, value: str | None) -> None:
        """Redact ``value`` wherever it appears from now on."""
        ...

    def redact(self, text: str) -> str:
        """``text`` without any registered value or anything that looks like a credential."""
        ...


@runtime_checkable
class CommandObserver(Protocol):
    """Told the outcome of every command the dispatcher runs (the application's metrics)."""

    def command_done(self, command: str, outcome: str) -> None:
        """``command`` (its name, or ``"unrecognized"`` for text that named none) ended with
        ``outcome``: ``"ok"``, a :class:`~commands.reply.Failure` value, or ``"cancelled"``."""
        ...


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A place to post: a channel of a workspace, or a user's direct messages."""

    platform: str  # "slack" | "discord" | "console"
    channel_id: str
    workspace_id: str | None = None
    direct: bool = False
    """``channel_id`` is a user id: send a direct message to that user."""


class ChannelGone(Exception):
    """The bot can no longer post there (removed from it, archived, deleted).

    Retrying will not help; the scheduler pauses the subscription instead.
    ``reason`` is the platform's word for it, e.g. ``is_archived``.
    """

    def __init__(self, channel: ChannelRef, reason: str) -> None:
        where = f"{channel.platform} {'user' if channel.direct else 'channel'} {channel.channel_id}"
        super().__init__(f"cannot post to {where}: {reason}")
        self.channel = channel
        self.reason = reason


class PostRefused(Exception):
    """The platform answered and did not post (an error it named, not a lost answer).

    Any other exception from :meth:`Poster.post` means the answer was lost: the post may
    be in the channel.
    """

    def __init__(self, channel: ChannelRef, reason: str) -> None:
        super().__init__(f"{channel.platform} refused the post: {reason}")
        self.channel = channel
        self.reason = reason


@runtime_checkable
class Poster(Protocol):
    """Posts a neutral reply into a channel, rendered the platform's way."""

    async def post(
        self, channel: ChannelRef, reply: Reply, *, key: str | None = None
    ) -> str | None:
        """Post ``reply``. Raises :class:`ChannelGone` when the channel is out of reach and
        :class:`PostRefused` when the platform refused it; anything else means the answer
        was lost.

        ``key`` identifies the post (one digest's period): where the platform allows it,
        a second post with the same key shows no second message. Returns the platform's
        id of the message (Slack's ``ts``, Discord's message id) when it has one.
        """
        ...


@runtime_checkable
class MessageEditor(Protocol):
    """A poster that can change a message it posted, and answer it in its thread."""

    async def update(self, channel: ChannelRef, message_id: str, reply: Reply) -> None:
        """Show ``reply`` in place of the message."""
        ...

    async def reply_to(
        self, channel: ChannelRef, message_id: str, reply: Reply, *, key: str | None = None
    ) -> str | None:
        """Answer the message (Slack: in its thread; Discord: a reply); the answer's id."""
        ...


@runtime_checkable
class PostFinder(Protocol):
    """A poster that can look in a channel for a post it made with a key."""

    async def find(
        self, channel: ChannelRef, key: str, since: datetime, *, thread: str | None = None
    ) -> str | bool | None:
        """The id of the message made with ``key`` at or after ``since`` when the channel
        (or, with ``thread``, that message's thread) shows one (True when found without an
        id), False when it does not, None when the platform cannot tell (no permission to
        read the channel, ...)."""
        ...


@dataclass(frozen=True, slots=True)
class ChannelCheck:
    """What the platform said about a channel named by its id."""

    channel: ChannelRef
    """The channel, with its ``workspace_id`` when the platform said (Slack team, Discord
    guild)."""
    found: bool | None
    """True: the bot can post there. False: the platform says no such channel the bot can
    post in. None: not checked (no token for that platform, or it could not be asked)."""
    detail: str = ""
    """Why not found or not checked, in words: ``"SLACK_BOT_TOKEN is not set"``."""
    name: str | None = None
    """The channel's name as the platform shows it (``"#support"``), when found."""


@runtime_checkable
class ChannelChecker(Protocol):
    """Asks a channel's platform whether the bot can post in it, and in which workspace."""

    async def check(self, channel: ChannelRef) -> ChannelCheck:
        """Never raises for the platform's answer: a refusal is ``found=False``, a platform
        that cannot be asked is ``found=None`` with the reason in ``detail``."""
        ...


@runtime_checkable
class SiteNews(Protocol):
    """Tells the token's other processes that something they cache changed on the site.

    After a write to a list the core caches (the tags, the webhook subscriptions) the core
    announces it, and every other process drops its copy instead of waiting for its TTL.
    The application passes what it hears from the others to
    :meth:`~commands.cache.SiteCache.heard`.
    """

    def changed(self, what: str) -> None:
        """Announce that ``what`` (``"tags"``, ``"webhooks"``) changed. Returns at once and
        never raises: a lost announcement leaves the others on their TTL."""
        ...
