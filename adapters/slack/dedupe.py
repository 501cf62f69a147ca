"""Run each Slack delivery once, even when Slack delivers it again, to any process.

Slack retries an event it thinks went unanswered (with ``X-Slack-Retry-Num``), and a
proxy may repeat a request. Each delivery carries an id that its retries repeat: the
event id for events, the trigger id for slash commands and button clicks. The first
delivery of an id runs; later ones within the TTL are acknowledged and dropped: first by
this process's memory (no I/O before the ack), then, in the work after the ack, by the
:class:`SeenRequests` every process shares, so a retry that reaches another web process, or
this one after a restart, is dropped too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

__all__ = ["KEY", "DropRepeats", "RecentKeys", "SeenRequests", "delivery_key"]

KEY = "mlc_delivery_key"
"""Where :class:`DropRepeats` leaves a request's delivery key in Bolt's context."""

SEEN_FOR = 900.0
"""Seconds a delivery key is remembered: past Slack's retries and the five minutes a signed
request may be replayed."""


class SeenRequests(Protocol):
    """Delivery keys remembered across processes and restarts (Redis, or the database)."""

    async def first_time(self, key: str, ttl: float) -> bool:
        """True for the first caller to offer ``key`` within ``ttl`` seconds, False after."""
        ...


log = logging.getLogger("mlc_bot.slack")


class RecentKeys:
    """A set of keys that forgets each one ``ttl`` seconds after it was added."""

    def __init__(
        self,
        *,
        ttl: float = 900.0,
        max_size: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max_size = max_size
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def add(self, key: str) -> bool:
        """Remember ``key``; False when it was already remembered (a repeat)."""
        now = self._clock()
        while self._expiry:
            oldest, expires = next(iter(self._expiry.items()))
            if expires > now and len(self._expiry) < self._max_size:
                break
            del self._expiry[oldest]
        if key in self._expiry:
            return False
        self._expiry[key] = now + self._ttl
        return True

    def __len__(self) -> int:
        return len(self._expiry)


def delivery_key(req: AsyncBoltRequest) -> str:
    """What a retry of this delivery repeats: event id, trigger id, or the body itself."""
    body = req.body or {}
    for name in ("event_id", "trigger_id"):
        value = body.get(name)
        if isinstance(value, str) and value:
            return f"{name}:{value}"
    raw = req.raw_body or json.dumps(body, sort_keys=True)
    return "body:" + hashlib.sha256(raw.encode()).hexdigest()


class DropRepeats(AsyncMiddleware):
    """Bolt middleware: acknowledge a repeated delivery without running it again.

    Installed after signature verification, so forged requests never enter the set.
    """

    def __init__(self, keys: RecentKeys | None = None) -> None:
        self.keys = keys or RecentKeys()

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        key = delivery_key(req)
        if self.keys.add(key):
            req.context[KEY] = key
            return await next()
        retry = req.headers.get("x-slack-retry-num", ["-"])[0]
        log.info("dropped a repeated Slack delivery (retry %s)", retry)
        return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
