"""A client-side mirror of the API's rolling-window rate limit, one per token.

The server counts the requests each token made in the last ``window``
seconds and refuses the one past ``limit``. We learn both numbers from the
``X-RateLimit-*`` headers and keep our own record of the requests we sent, so
that a request the server would refuse is held back instead of sent.

Every bound used here errs on the side of waiting:

* a request's slot is taken when it is sent and, once answered, is free again
  ``window`` seconds after the *answer* arrived (the server counted it at some
  moment between sending and answering);
* the window is estimated from above: the first request in an empty window is
  answered with ``X-RateLimit-Reset >= arrival + window``, so
  ``reset - send_time`` can only overstate it; the smallest such figure wins;
* before the first answer only one request is sent: we do not yet know the
  limit, and a burst could overrun it;
* when the server reports more requests in the window than we sent (another
  process shares the token), the difference is held until the reported reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["RateLimitInfo", "RateLimiter", "limiter_for_token"]


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """What the last response said about the token's budget."""

    limit: int | None
    remaining: int | None
    reset_epoch: float | None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimitInfo:
        return cls(
            limit=_int_header(headers, "X-RateLimit-Limit"),
            remaining=_int_header(headers, "X-RateLimit-Remaining"),
            reset_epoch=_float_header(headers, "X-RateLimit-Reset"),
        )


def _float_header(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = _float_header(headers, name)
    return int(value) if value is not None and math.isfinite(value) else None


class _Slot:
    """One request's place in the window."""

    __slots__ = ("frees_at", "sent_at")

    def __init__(self, sent_at: float) -> None:
        self.sent_at = sent_at
        self.frees_at = math.inf  # unknown until answered


class RateLimiter:
    """Holds requests back until the server's window has room for them."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._monotonic = monotonic
        self._wall = wall
        self._slots: list[_Slot] = []
        self._changed = asyncio.Condition()
        self.limit: int | None = None
        self.window: float | None = None
        self.blocked_until = 0.0
        self.last: RateLimitInfo | None = None

    async def acquire(self) -> _Slot:
        """Wait until a request can be sent without being refused, and reserve its slot."""
        async with self._changed:
            while True:
                now = self._monotonic()
                delay = self._wait_needed(now)
                if delay <= 0:
                    slot = _Slot(now)
                    self._slots.append(slot)
                    return slot
                timeout = None if math.isinf(delay) else delay
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=timeout)

    def _wait_needed(self, now: float) -> float:
        """Seconds until a new request fits; 0 when it fits now."""
        if now < self.blocked_until:
            return self.blocked_until - now
        if self.limit is None:
            # Nothing learned yet: one request at a time until the first answer.
            return math.inf if self._slots else 0.0
        self._slots = [s for s in self._slots if s.frees_at > now]
        if len(self._slots) < self.limit:
            return 0.0
        return min(s.frees_at for s in self._slots) - now

    async def release(self, slot: _Slot, headers: Mapping[str, str], *, refused: bool) -> None:
        """Record the answer to the request that held ``slot``.

        ``refused`` is True for a 429: the server did not count that request.
        """
        now = self._monotonic()
        info = RateLimitInfo.from_headers(headers)
        async with self._changed:
            if refused:
                self._drop(slot)
            else:
                self._settle(slot, now)
            if info.limit is not None and info.limit > 0:
                self.limit = info.limit
                self.last = info
                self._learn(slot, info, now, refused=refused)
            elif self.limit is None and not refused:
                # The server sent no budget headers; do not hold callers back forever.
                self.limit = 1_000_000
            self._changed.notify_all()

    async def abandon(self, slot: _Slot) -> None:
        """The request got no answer (transport failure): keep its slot a full window."""
        now = self._monotonic()
        async with self._changed:
            if self.window is None:
                self._drop(slot)  # nothing learned yet; let the next caller probe
            else:
                self._settle(slot, now)
            self._changed.notify_all()

    async def block_for(self, seconds: float) -> None:
        """The server said 429 Retry-After: nobody sends before it has passed."""
        async with self._changed:
            self.blocked_until = max(self.blocked_until, self._monotonic() + seconds)
            self._changed.notify_all()

    def _drop(self, slot: _Slot) -> None:
        if slot in self._slots:
            self._slots.remove(slot)

    def _settle(self, slot: _Slot, answered_at: float) -> None:
        window = self.window if self.window is not None else 60.0
        slot.frees_at = answered_at + window

    def _learn(self, slot: _Slot, info: RateLimitInfo, now: float, *, refused: bool) -> None:
        if info.reset_epoch is None or info.remaining is None or refused:
            return
        reset_at = now + (info.reset_epoch - self._wall())
        used = info.limit - info.remaining  # type: ignore[operator]
        if used == 1:
            # This request is alone in the server's window: the reset is its expiry.
            estimate = reset_at - slot.sent_at
            if estimate > 0 and (self.window is None or estimate < self.window):
                self.window = estimate
                for s in self._slots:
                    if s.frees_at is not math.inf and s.frees_at > now + estimate:
                        s.frees_at = now + estimate
                slot.frees_at = min(slot.frees_at, now + estimate)
        if self.window is None:
            self.window = max(reset_at - slot.sent_at, 1.0)
            slot.frees_at = now + self.window
        counted = sum(1 for s in self._slots if s.frees_at > now)
        for _ in range(used - counted):
            # Requests the server counted that we did not send: another user of the token.
            phantom = _Slot(now)
            phantom.frees_at = max(reset_at, now)
            self._slots.append(phantom)


# Keyed by event loop too: an asyncio.Condition belongs to the loop that first used it.
_limiters: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakValueDictionary[str, RateLimiter]
] = weakref.WeakKeyDictionary()


def limiter_for_token(token: str) -> RateLimiter:
    """The limiter of ``token`` in this event loop: all clients of one token share one budget."""
    loop = asyncio.get_running_loop()
    per_loop = _limiters.setdefault(loop, weakref.WeakValueDictionary())
    key = hashlib.sha256(token.encode()).hexdigest()
    limiter = per_loop.get(key)
    if limiter is None:
        limiter = RateLimiter()
        per_loop[key] = limiter
    return limiter
