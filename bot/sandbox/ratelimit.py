"""Rolling-window rate limiter, one bucket per token, as the real service applies it."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateDecision:
    """The outcome of one request against a bucket, with the headers the API sends for it."""

    allowed: bool
    limit: int
    remaining: int
    reset_epoch: int
    retry_after: int | None

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_epoch),
        }
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class RollingWindowLimiter:
    """`limit` accepted requests per key in any `window`-second span; rejections do not count.

    Uses the wall clock because X-RateLimit-Reset is a unix epoch that clients compare with
    their own clock.
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.time) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if window <= 0:
            raise ValueError("window must be positive")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> RateDecision:
        """Count one request for `key` if the bucket has room; report the header values."""
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] + self.window <= now:
            hits.popleft()
        if len(hits) >= self.limit:
            leaves_at = hits[0] + self.window
            return RateDecision(
                allowed=False,
                limit=self.limit,
                remaining=0,
                reset_epoch=math.ceil(leaves_at),
                retry_after=max(1, math.ceil(leaves_at - now)),
            )
        hits.append(now)
        return RateDecision(
            allowed=True,
            limit=self.limit,
            remaining=self.limit - len(hits),
            reset_epoch=math.ceil(hits[0] + self.window),
            retry_after=None,
        )

    def reset(self) -> None:
        """Forget every bucket (like an instance recycle on the real service)."""
        self._hits.clear()
