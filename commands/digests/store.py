"""Digest subscriptions, and the store the core keeps them in (implemented by ``bot.storage``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = ["NewSubscription", "StorageUnavailable", "Subscription", "SubscriptionStore"]


@dataclass(frozen=True, slots=True)
class NewSubscription:
    platform: str
    workspace_id: str | None
    channel_id: str
    kind: str
    at_time: str
    timezone: str
    days: str
    created_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription(NewSubscription):
    """A stored subscription: what was asked for, and its state."""

    id: int
    paused: bool
    paused_reason: str | None
    created_utc: datetime
    updated_utc: datetime
    active_since_utc: datetime
    """Runs scheduled before this are never sent (set on creation and on resume)."""
    last_snapshot: dict[str, Any] | None
    """Figures of the last digest posted, for "change since the previous digest"."""
    last_sent_period: str | None


class StorageUnavailable(Exception):
    """The database could not be reached; the message is safe to show (no URL)."""

    def __init__(self) -> None:
        super().__init__(
            "The bot's database is not reachable right now, so digests cannot be read or "
            "changed. An admin should check DATABASE_URL and the database server."
        )


class SubscriptionStore(Protocol):
    """Where subscriptions live. Every method may raise :class:`StorageUnavailable`."""

    async def add(self, new: NewSubscription, now: datetime) -> Subscription: ...

    async def get(self, subscription_id: int) -> Subscription | None: ...

    async def list_for(self, platform: str, workspace_id: str | None) -> list[Subscription]:
        """The subscriptions of one workspace (``None``: the console's)."""
        ...

    async def list_in_channel(self, platform: str, channel_id: str) -> list[Subscription]:
        """The subscriptions of one channel, whatever workspace they were recorded under."""
        ...

    async def remove(self, subscription_id: int) -> bool: ...

    async def set_paused(
        self, subscription_id: int, paused: bool, now: datetime, *, reason: str | None = None
    ) -> Subscription | None:
        """Pause (with an optional reason) or resume; resuming never replays a backlog."""
        ...
