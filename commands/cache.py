"""Per-site caches that save API calls: tags, whoami, recent handoffs, webhook subscriptions.

Each value is fetched by one caller while concurrent callers wait for it
(single flight), and kept for a short time. Tag and webhook writes drop their list and,
with :class:`~commands.ports.SiteNews`, tell the token's other processes to drop theirs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.mylivechat import Handoff, MyLiveChatClient, Tag, WebhookSubscription, WhoAmI

from .ports import SiteNews

__all__ = ["TAGS", "WEBHOOKS", "WHOAMI_TTL", "CachedValue", "SiteCache"]

WHOAMI_TTL = 600.0
"""Seconds the token's scopes are trusted before writes ask ``whoami`` again."""

TAGS = "tags"
WEBHOOKS = "webhooks"
"""What :class:`~commands.ports.SiteNews` says changed: the tag list, the subscriptions."""

T = TypeVar("T")


@dataclass
class CachedValue(Generic[T]):
    """One cached value with a time to live and a single-flight fetch."""

    ttl: float
    clock: Callable[[], float] = time.monotonic
    _value: T | None = None
    _expires: float = 0.0
    _fetched_at: float = 0.0
    _drops: int = 0
    """How many times the value was dropped: a fetch a drop overtook is not kept."""
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _waiting: int = 0
    """Callers in line for the lock: a newcomer queues behind them rather than overtake."""

    @property
    def fresh(self) -> bool:
        return self._value is not None and self.clock() < self._expires

    def peek(self) -> T | None:
        """The cached value if fresh, without fetching."""
        return self._value if self.fresh else None

    async def get(self, fetch: Callable[[], Awaitable[T]], *, refresh: bool = False) -> T:
        if not refresh and self.fresh and not self._waiting:
            return self._value  # type: ignore[return-value]
        asked_at = self.clock()
        # Those who waited for a fetch go on in the order they came (the lock wakes them one
        # turn of the loop at a time), so a command is not overtaken by one that came later.
        self._waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self._waiting -= 1
        try:
            # A fetch that finished while we waited is as new as ours would be.
            if self.fresh and (not refresh or self._fetched_at >= asked_at):
                return self._value  # type: ignore[return-value]
            drops = self._drops
            value = await fetch()
            # Dropped while we fetched (a write, or news of one): the answer may predate it.
            if self._drops == drops:
                self.put(value)
            return value
        finally:
            self._lock.release()

    def put(self, value: T) -> None:
        self._value = value
        self._fetched_at = self.clock()
        self._expires = self._fetched_at + self.ttl

    def drop(self) -> None:
        self._value = None
        self._expires = 0.0
        self._drops += 1


class SiteCache:
    """What the bot remembers about one site (one API token)."""

    def __init__(
        self,
        *,
        news: SiteNews | None = None,
        tags_ttl: float = 300.0,
        whoami_ttl: float = WHOAMI_TTL,
        handoffs_ttl: float = 30.0,
        webhooks_ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``news`` tells the token's other processes when this one drops a list."""
        self._news = news
        self._tags: CachedValue[list[Tag]] = CachedValue(tags_ttl, clock)
        self._whoami: CachedValue[WhoAmI] = CachedValue(whoami_ttl, clock)
        self._handoffs: CachedValue[list[Handoff]] = CachedValue(handoffs_ttl, clock)
        self._webhooks: CachedValue[list[WebhookSubscription]] = CachedValue(webhooks_ttl, clock)

    async def tags(self, api: MyLiveChatClient, *, refresh: bool = False) -> list[Tag]:
        """The site's tags (enabled and soft-deleted); one GET tags when not cached."""
        return await self._tags.get(api.list_tags, refresh=refresh)

    def drop_tags(self) -> None:
        """Forget the tag list (after a tag write), here and in the token's other processes."""
        self._tags.drop()
        self._announce(TAGS)

    async def whoami(self, api: MyLiveChatClient) -> WhoAmI:
        return await self._whoami.get(api.whoami)

    async def recent_handoffs(self, api: MyLiveChatClient) -> list[Handoff]:
        """Recent handoffs for completing session ids; one GET handoffs when not cached."""

        async def fetch() -> list[Handoff]:
            return await api.list_handoffs(limit=50)

        return await self._handoffs.get(fetch)

    def remember_handoffs(self, handoffs: list[Handoff]) -> None:
        """Seed the completion cache from a handoffs listing a command already made."""
        self._handoffs.put(list(handoffs))

    async def webhooks(self, api: MyLiveChatClient) -> list[WebhookSubscription]:
        """Subscriptions for completing ids; one GET webhook_subscriptions when not cached."""
        return await self._webhooks.get(api.list_webhook_subscriptions)

    def drop_webhooks(self) -> None:
        """Forget the subscriptions (after a webhook write), here and in the other processes."""
        self._webhooks.drop()
        self._announce(WEBHOOKS)

    def heard(self, what: str | None) -> None:
        """Another process changed ``what`` (None: news may have been missed, so anything
        may have changed): drop it, without announcing it again."""
        if what in (TAGS, None):
            self._tags.drop()
        if what in (WEBHOOKS, None):
            self._webhooks.drop()

    def _announce(self, what: str) -> None:
        if self._news is not None:
            self._news.changed(what)
