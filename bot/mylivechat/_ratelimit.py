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

Processes that share a token may also share one window (:mod:`._shared`): then a request
waits its turn here first (arrival order, estimates, deadlines are this process's), and
goes when the shared window grants it a place, which every process's requests hold under
the same rules. When the shared window's store fails, this process's own mirror decides
alone (it keeps learning from the headers, which count the others' requests too), and the
store is asked again every ``shared_retry`` seconds; for a window after it is back, both
must agree (the other processes may not be back yet). Each change is logged once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import itertools
import logging
import math
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from ._errors import BudgetExhausted
from ._shared import Reservation, SharedWindow, SharedWindowUnavailable

__all__ = ["RateLimitInfo", "RateLimiter", "limiter_for_token"]

log = logging.getLogger("mlc_bot.api")

SHARED_RETRY = 5.0
"""Seconds between attempts to reach a shared window's store that failed."""
_UNLIMITED = (1_000_000, 0.0)  # the budget of an API that sends no rate-limit headers
_MIN_WAIT = 0.001  # a store that says "not now, 0 s" is not asked again in a busy loop


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

    @property
    def used(self) -> int | None:
        """Requests the server counts in the window, the one answered included."""
        if self.limit is None or self.remaining is None:
            return None
        return self.limit - self.remaining


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

    __slots__ = ("answered_at", "fixed_expiry", "id", "sent_at", "shared")

    def __init__(self, sent_at: float, *, fixed_expiry: float | None = None, id: str = "") -> None:
        self.sent_at = sent_at
        self.answered_at: float | None = None
        self.fixed_expiry = fixed_expiry
        self.id = id
        self.shared = False
        """Whether the shared window holds a place for it."""

    def expiry(self, window: float) -> float:
        """When the server has surely forgotten this request; infinite while in flight."""
        if self.fixed_expiry is not None:
            return self.fixed_expiry
        return math.inf if self.answered_at is None else self.answered_at + window


class _Ticket:
    """A request waiting for its turn: lower ``priority`` (an arrival time) goes first."""

    __slots__ = ("priority", "seq")

    def __init__(self, priority: float, seq: int) -> None:
        self.priority = priority
        self.seq = seq

    def __lt__(self, other: _Ticket) -> bool:
        return (self.priority, self.seq) < (other.priority, other.seq)


class RateLimiter:
    """Holds requests back until the server's window has room for them.

    Waiting requests are served in order of their priority (the time the command that
    makes them arrived; by default the time they asked), so a command's second request is
    not overtaken by commands that came later, and nobody is overtaken at random.

    With ``shared``, the request at the head of the queue goes when the shared window
    grants it a place (see the module); while its store is down, when this mirror says so.
    """

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        shared: SharedWindow | None = None,
        shared_retry: float = SHARED_RETRY,
    ) -> None:
        self._monotonic = monotonic
        self._wall = wall
        self._slots: list[_Slot] = []
        self._queue: list[_Ticket] = []
        self._seq = itertools.count()
        self._changed = asyncio.Condition()
        self.limit: int | None = None
        self.window: float | None = None
        self.blocked_until = 0.0
        self.shared = shared
        self.shared_retry = shared_retry
        self._shared_down = False
        self._shared_retry_at = 0.0
        self._settling_until = 0.0
        prefix = uuid.uuid4().hex[:12]  # slot ids unique across processes
        self._ids = (f"{prefix}:{n}" for n in itertools.count())
        self._background: set[asyncio.Task[None]] = set()

    @property
    def shared_in_use(self) -> bool:
        """Whether requests go by the shared window (False without one, or while it is down)."""
        return self.shared is not None and not self._shared_down

    @property
    def waiting(self) -> int:
        """Requests waiting for their turn."""
        return len(self._queue)

    async def acquire(
        self,
        *,
        priority: float | None = None,
        deadline: float | None = None,
        on_wait: Callable[[float], None] | None = None,
    ) -> _Slot:
        """Wait until a request can be sent without being refused, and reserve its slot.

        ``deadline`` (monotonic): when the request could only be sent after it, raise
        :class:`BudgetExhausted` at once instead of waiting. ``on_wait(seconds)`` is called
        once, with the estimated wait, when the request has to wait.
        """
        now = self._monotonic()
        ticket = _Ticket(now if priority is None else priority, next(self._seq))
        async with self._changed:
            heapq.heappush(self._queue, ticket)
            try:
                return await self._wait_turn(ticket, deadline, on_wait)
            except BaseException:
                self._leave(ticket)
                raise

    async def _wait_turn(
        self,
        ticket: _Ticket,
        deadline: float | None,
        on_wait: Callable[[float], None] | None,
    ) -> _Slot:
        told = False
        while True:
            slot: _Slot | None = None
            if self._queue[0] is ticket:
                slot = _Slot(self._monotonic(), id=next(self._ids))
                delay = await self._turn_delay(slot)
            else:
                delay = math.inf
            now = self._monotonic()
            if slot is not None and delay <= 0:
                heapq.heappop(self._queue)
                slot.sent_at = now
                self._slots.append(slot)
                self._changed.notify_all()  # the next in line looks again
                return slot
            if not told:
                told = True
                eta = self.estimate(ticket, now)
                if eta is not None and slot is not None and not math.isinf(delay):
                    eta = max(eta, delay)  # the shared window may know of a longer wait
                if deadline is not None and eta is not None and now + eta > deadline:
                    raise BudgetExhausted(
                        f"the token's rate limit is spent for the next {eta:.0f} s",
                        retry_after=eta,
                    )
                if on_wait is not None:
                    on_wait(eta if eta is not None else 0.0)
            timeout = None if math.isinf(delay) else delay
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=timeout)

    def _leave(self, ticket: _Ticket) -> None:
        if ticket in self._queue:
            self._queue.remove(ticket)
            heapq.heapify(self._queue)
            self._changed.notify_all()

    def estimate(self, ticket: _Ticket | None = None, now: float | None = None) -> float | None:
        """Seconds until ``ticket`` (or a request joining the queue now) may be sent.

        None while the budget is not known yet. An estimate, not a promise: answers that
        take long, or other processes using the token, make it later.
        """
        now = self._monotonic() if now is None else now
        ahead = sum(1 for t in self._queue if ticket is None or t < ticket)
        if self.limit is None or self.window is None:
            # Nothing learned but a 429's Retry-After (the first answer of a process whose
            # token was spent): the first in line waits that long, at least.
            blocked = self.blocked_until - now
            return blocked if blocked > 0 and ahead == 0 else None
        start = max(now, self.blocked_until)
        window = self.window
        # When each slot is free again; a request still in flight frees a window from now.
        busy = [
            max(start, now + window if math.isinf(e) else e)
            for s in self._slots
            if (e := s.expiry(window)) > now
        ]
        free = self.limit - len(busy)
        if ahead < free:
            return start - now
        times = sorted(busy + [start] * max(free, 0))
        rounds, index = divmod(ahead, len(times))
        return max(times[index] + rounds * window - now, 0.0)

    async def _turn_delay(self, slot: _Slot) -> float:
        """Seconds until the head of the queue may send ``slot``'s request; 0: it may now
        (and the shared window, when in use, holds its place)."""
        now = self._monotonic()
        if now < self.blocked_until:
            return self.blocked_until - now
        if self.window is not None:
            self._slots = [s for s in self._slots if s.expiry(self.window) > now]
        if self.shared is not None and (not self._shared_down or now >= self._shared_retry_at):
            if now < self._settling_until and (own := self._wait_needed(now)) > 0:
                # Just back: other processes may still be without it, their requests not in
                # the store yet; this mirror has them from the headers. Both must agree.
                return own
            reservation = await self._reserve_shared(self.shared, slot)
            if reservation is not None:
                self._adopt(reservation)
                if reservation.granted:
                    slot.shared = True
                    return 0.0
                return max(reservation.wait, _MIN_WAIT)
        return self._wait_needed(self._monotonic())

    async def _reserve_shared(self, shared: SharedWindow, slot: _Slot) -> Reservation | None:
        """The shared window's answer for ``slot``; None when its store failed."""
        try:
            if self._shared_down:
                await self._restore_shared(shared)
            limit, window = self._budget
            reservation = await shared.reserve(slot.id, limit=limit, window=window)
        except SharedWindowUnavailable as exc:
            self._shared_failed(shared, exc)
            return None
        except BaseException:
            # Cancelled while asking: the store may have granted the place; give it back.
            self._later(shared.record(slot.id, expires_in=None))
            raise
        if self._shared_down:
            self._shared_down = False
            self._settling_until = self._monotonic() + (self.window or 0.0)
            log.info("shared rate-limit budget is back (%s); using it again", shared.name)
        return reservation

    async def _restore_shared(self, shared: SharedWindow) -> None:
        """Put back in the store the places this process took while it was down."""
        now = self._monotonic()
        own: list[tuple[str, float | None]] = []
        others: list[float] = []
        for s in self._slots:
            if s.fixed_expiry is not None:
                if s.fixed_expiry > now:
                    others.append(s.fixed_expiry - now)
            elif s.answered_at is None:
                own.append((s.id, None))
            elif self.window is not None and s.answered_at + self.window > now:
                own.append((s.id, s.answered_at + self.window - now))
        limit, window = self._budget
        await shared.restore(own, others, limit=limit, window=window)
        for s in self._slots:
            s.shared = s.fixed_expiry is None

    def _shared_failed(self, shared: SharedWindow, exc: SharedWindowUnavailable) -> None:
        self._shared_retry_at = self._monotonic() + self.shared_retry
        if not self._shared_down:
            self._shared_down = True
            log.warning(
                "shared rate-limit budget unavailable (%s: %s); using this process's own"
                " until it is back",
                shared.name,
                exc,
            )

    @property
    def _budget(self) -> tuple[int | None, float | None]:
        """The limit and window to tell the shared window: what the headers said (an API
        answering without them is not limited, but one answer without them, such as a
        proxy's error page, must not make every process believe so)."""
        if (self.limit, self.window) == _UNLIMITED:
            return None, None
        return self.limit, self.window

    def _adopt(self, reservation: Reservation) -> None:
        """Learn what other processes learned: the limit, and a smaller window."""
        limit, window = reservation.limit, reservation.window
        if limit is None or limit < 1:
            limit = None
        if (self.limit, self.window) == _UNLIMITED and limit is not None and window is not None:
            self.limit, self.window = limit, window  # they heard the headers; this one did not
            return
        if self.limit is None and limit is not None:
            self.limit = limit
        if window is not None and (self.window is None or window < self.window):
            self.window = window

    async def _tell_shared(self, call: Callable[[SharedWindow], Awaitable[None]]) -> None:
        """Tell the shared window something, unless its store is down (then it is told
        everything it needs when it is back)."""
        shared = self.shared
        if shared is None or self._shared_down:
            return
        try:
            await call(shared)
        except SharedWindowUnavailable as exc:
            self._shared_failed(shared, exc)

    def _later(self, call: Awaitable[None]) -> None:
        async def run() -> None:
            with contextlib.suppress(SharedWindowUnavailable):
                await call

        task = asyncio.ensure_future(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _wait_needed(self, now: float) -> float:
        """Seconds until a new request fits by this process's own mirror; 0 when it fits now."""
        if now < self.blocked_until:
            return self.blocked_until - now
        if self.limit is None or self.window is None:
            # Nothing learned yet: one request at a time until the first answer.
            return math.inf if self._slots else 0.0
        window = self.window
        self._slots = [s for s in self._slots if s.expiry(window) > now]
        if len(self._slots) < self.limit:
            return 0.0
        return min(s.expiry(window) for s in self._slots) - now

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
                slot.answered_at = now
            if info.limit is not None and info.limit > 0:
                if (self.limit, self.window) == _UNLIMITED:
                    self.window = None  # an answer without headers (a proxy's page) said nothing
                self.limit = info.limit
                if not refused:
                    self._learn(slot, info, now)
            elif self.limit is None and not refused:
                # No budget headers at all: nothing to mirror, do not hold callers back.
                self.limit, self.window = _UNLIMITED
            record = self._record(slot, info, refused=refused) if slot.shared else None
            self._changed.notify_all()
        if record is not None:
            await self._tell_shared(record)

    def _record(
        self, slot: _Slot, info: RateLimitInfo, *, refused: bool
    ) -> Callable[[SharedWindow], Awaitable[None]] | None:
        """What the shared window is told of ``slot``'s answer; None: nothing (its place
        stays held until it expires by itself)."""
        limit, window = self._budget
        if refused:
            expires_in = None
        elif self.window is None:
            return None
        else:
            expires_in = self.window
        used, reset_in = None, None
        if not refused and info.used is not None and info.reset_epoch is not None:
            used, reset_in = info.used, max(info.reset_epoch - self._wall(), 0.0)

        def record(shared: SharedWindow) -> Awaitable[None]:
            return shared.record(
                slot.id,
                expires_in=expires_in,
                limit=limit,
                window=window,
                used=used,
                reset_in=reset_in,
            )

        return record

    async def abandon(self, slot: _Slot) -> None:
        """The request got no answer: it may have been counted, so keep it a full window."""
        now = self._monotonic()
        async with self._changed:
            if self.window is None:
                self._drop(slot)  # nothing learned yet; let the next caller probe
            else:
                slot.answered_at = now
            expires_in, (_, window) = self.window, self._budget
            self._changed.notify_all()
        if slot.shared:
            await self._tell_shared(
                lambda shared: shared.record(slot.id, expires_in=expires_in, window=window)
            )

    async def block_for(self, seconds: float) -> None:
        """The server said 429 Retry-After: nobody sends before it has passed."""
        async with self._changed:
            self.blocked_until = max(self.blocked_until, self._monotonic() + seconds)
            self._changed.notify_all()
        await self._tell_shared(lambda shared: shared.block(seconds))

    def _drop(self, slot: _Slot) -> None:
        if slot in self._slots:
            self._slots.remove(slot)

    def _learn(self, slot: _Slot, info: RateLimitInfo, now: float) -> None:
        if info.reset_epoch is None or info.remaining is None or info.limit is None:
            if self.window is None:
                self.window = 60.0
            return
        reset_at = now + (info.reset_epoch - self._wall())
        used = info.limit - info.remaining
        estimate = reset_at - slot.sent_at
        if used == 1 and estimate > 0:
            # This request is alone in the server's window, so the reset is its expiry.
            self.window = estimate if self.window is None else min(self.window, estimate)
        elif self.window is None:
            self.window = max(estimate, 1.0)
        counted = sum(1 for s in self._slots if s.expiry(self.window) > now)
        for _ in range(used - counted):
            # Requests the server counted that we did not send: another user of the token.
            self._slots.append(_Slot(now, fixed_expiry=max(reset_at, now)))


_limiters: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakValueDictionary[str, RateLimiter]
] = weakref.WeakKeyDictionary()


def limiter_for_token(token: str, *, shared: SharedWindow | None = None) -> RateLimiter:
    """The limiter of ``token`` in this event loop: all clients of one token share one budget.

    ``shared``: the token's window shared with other processes, used unless the limiter
    already has one.
    """
    loop = asyncio.get_running_loop()
    per_loop = _limiters.setdefault(loop, weakref.WeakValueDictionary())
    key = hashlib.sha256(token.encode()).hexdigest()
    limiter = per_loop.get(key)
    if limiter is None:
        limiter = RateLimiter(shared=shared)
        per_loop[key] = limiter
    elif limiter.shared is None:
        limiter.shared = shared
    return limiter
