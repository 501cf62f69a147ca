"""Cache news through Redis pub/sub: which cached list a process changed on the site.

:class:`RedisNews` is the core's :class:`~commands.ports.SiteNews`. After a tag or webhook
write the core calls :meth:`RedisNews.changed`, which publishes a small message on the
token's channel (``mlc-bot:news:<hash of the token>``, never the token) without waiting for
it. A long-running process also :meth:`listens <RedisNews.listen>`: a subscriber task hands
every other process's news to the cache (its own messages come back too, and are ignored).
Pub/sub keeps nothing for a subscriber that is away, so after every (re)subscription the
listener is told ``None``: news may have been missed, drop everything it covers. A lost
subscription is retried after a pause; the log says once that news is away and once that
it is back. Closing waits a moment for announcements still on their way (``mlc-bot
exec`` announces and exits at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any, Self

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError

from .outage import Outage
from .redis_client import FAILURES, TIMEOUT, fail_fast, where

__all__ = ["FLUSH_WITHIN", "PING_EVERY", "RECONNECT_PAUSE", "RedisNews", "channel_for"]

log = logging.getLogger("mlc_bot.shared")

RECONNECT_PAUSE = 1.0
"""Seconds between attempts to subscribe again after the subscription was lost."""
PING_EVERY = 10.0
"""Seconds of silence after which the subscriber asks Redis whether it is still there; no
answer for as long again and the subscription counts as lost."""
FLUSH_WITHIN = 1.0
"""Seconds closing waits for announcements still on their way."""

LOST = (
    "cache news unavailable ({where}: {error}); until it is back, tag and webhook changes"
    " made by other processes show here when the cached lists expire (tags: 5 minutes)"
)
BACK = "cache news is back ({where}); cached tags and webhooks dropped once, in case of news missed"


def channel_for(token: str) -> str:
    """The token's news channel: named after a hash of the token, never the token."""
    digest = hashlib.sha256(b"mlc-bot site news\0" + token.encode()).hexdigest()[:32]
    return f"mlc-bot:news:{digest}"


class RedisNews:
    """One token's news channel: announce changes, and (when listening) hear the others'."""

    def __init__(
        self,
        publisher: Redis,
        subscriber: Redis,
        token: str,
        *,
        reconnect_pause: float = RECONNECT_PAUSE,
        ping_every: float = PING_EVERY,
        flush_within: float = FLUSH_WITHIN,
    ) -> None:
        """``subscriber`` must not retry by itself: a lost connection must surface here,
        since its subscription's news is lost with it."""
        self._publisher = publisher
        self._subscriber = subscriber
        self.channel = channel_for(token)
        self.name = where(publisher)
        self.reconnect_pause = reconnect_pause
        self.ping_every = ping_every
        self.flush_within = flush_within
        self.outage = Outage(log, lost=LOST, back=BACK, retry_every=0.0)
        self._sender = uuid.uuid4().hex
        self._pending: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Task[None] | None = None
        self._heard: Callable[[str | None], None] | None = None
        self.subscribed = asyncio.Event()
        """Set while the subscription is live (tests wait on it)."""

    @classmethod
    def from_url(cls, url: str, token: str, **options: Any) -> Self:
        """On the Redis at ``url`` (a ``ValueError`` when Redis does not accept it)."""
        return cls(fail_fast(url), fail_fast(url, retries=0), token, **options)

    def __repr__(self) -> str:
        return f"<RedisNews {self.name}>"

    # --- announcing -----------------------------------------------------------------------

    def changed(self, what: str) -> None:
        """Publish that ``what`` changed, in the background (never waits, never raises)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop, no process to tell: the others keep their TTL
            return
        task = loop.create_task(self._publish(what), name="mlc-bot news")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish(self, what: str) -> None:
        message = json.dumps({"what": what, "from": self._sender})
        try:
            await self._publisher.publish(self.channel, message)
        except FAILURES as exc:
            self.outage.failed(self.name, exc)
        else:
            self.outage.worked(self.name)

    # --- hearing --------------------------------------------------------------------------

    def listen(self, heard: Callable[[str | None], None]) -> None:
        """Subscribe, on the running event loop, until :meth:`aclose`: ``heard(what)`` for
        another process's news, ``heard(None)`` after each (re)subscription."""
        if self._listener is not None:
            raise RuntimeError("already listening")
        self._heard = heard
        self._listener = asyncio.get_running_loop().create_task(
            self._listen(), name="mlc-bot news listener"
        )

    async def _listen(self) -> None:
        while True:
            pubsub = self._subscriber.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                await self._confirmed(pubsub)
                self.subscribed.set()
                self.outage.worked(self.name)
                self._tell(None)
                await self._read(pubsub)
            except FAILURES as exc:
                self.outage.failed(self.name, exc)
            finally:
                self.subscribed.clear()
                with contextlib.suppress(*FAILURES):
                    await pubsub.aclose()
            await asyncio.sleep(self.reconnect_pause)

    async def _confirmed(self, pubsub: PubSub) -> None:
        while True:
            message = await pubsub.get_message(timeout=TIMEOUT)
            if message is None:
                raise TimeoutError("no answer to SUBSCRIBE")
            if message.get("type") == "subscribe":
                return

    async def _read(self, pubsub: PubSub) -> None:
        asked = False
        while True:
            message = await pubsub.get_message(timeout=self.ping_every)
            if message is not None:
                asked = False
                if message.get("type") == "message":
                    self._hear(message.get("data"))
                continue
            if asked:
                raise RedisConnectionError("Redis stopped answering")
            await pubsub.ping()
            asked = True

    def _hear(self, data: Any) -> None:
        try:
            news = json.loads(data)
            sender, what = news["from"], news["what"]
        except (ValueError, TypeError, KeyError):
            what, sender = None, None  # not ours to read: drop everything, to be safe
        if sender == self._sender:
            return
        self._tell(what if isinstance(what, str) else None)

    def _tell(self, what: str | None) -> None:
        if self._heard is None:
            return
        try:
            self._heard(what)
        except Exception as exc:  # the listener must outlive a cache that fails
            log.error("could not drop the cached lists news named (%s): %r", what, exc)

    # --- closing --------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Wait up to ``flush_within`` for announcements on their way, then close."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=self.flush_within)
        for task in [*self._pending, self._listener]:
            if task is not None:
                task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
        if self._listener is not None:
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        await self._publisher.aclose()
        await self._subscriber.aclose()
