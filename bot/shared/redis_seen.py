"""Shared dedupe of Slack deliveries in Redis: ``SET mlc-bot:seen:<hash> NX PX <ttl>``.

The key is a hash of the delivery key. Each offer stores a value of its own, so an offer
whose answer was lost and that the client sends again (after a dropped connection)
recognises its own first write instead of taking it for another process's.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from typing import Self

from redis.asyncio import Redis

from .outage import Outage
from .redis_client import FAILURES, fail_fast, where
from .seen import BACK, LOST, log

__all__ = ["PREFIX", "RedisSeen"]

PREFIX = "mlc-bot:seen:"


class RedisSeen:
    """Delivery keys in Redis, each expiring by itself after its TTL."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self.name = where(redis)
        self.outage = Outage(log, lost=LOST, back=BACK)

    @classmethod
    def from_url(cls, url: str) -> Self:
        return cls(fail_fast(url))

    def __repr__(self) -> str:
        return f"<RedisSeen {self.name}>"

    @staticmethod
    def redis_key(key: str) -> str:
        return PREFIX + hashlib.sha256(key.encode()).hexdigest()

    async def first_time(self, key: str, ttl: float) -> bool:
        if self.outage.skipping:
            return True
        name, mine = self.redis_key(key), uuid.uuid4().hex.encode()
        try:
            if await self._redis.set(name, mine, nx=True, px=max(1, math.ceil(ttl * 1000))):
                first = True
            else:
                first = await self._redis.get(name) == mine
        except FAILURES as exc:
            self.outage.failed(self.name, exc)
            return True
        self.outage.worked(self.name)
        return first

    async def aclose(self) -> None:
        await self._redis.aclose()
