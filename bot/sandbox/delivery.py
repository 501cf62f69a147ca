"""Delivering events like a real SaaS: signed POSTs, and retries with backoff in the background.

One event (one id, one body) goes to every enabled subscription of its site that wants it. The
first attempts are made at once; a subscription whose receiver fails (no connection, no answer
in time, a non-2xx status) is tried again after each of `retry_delays` in turn, in a background
task, until one attempt gets a 2xx. Every attempt looks the subscription up afresh: it is signed
with the secret the subscription has *then* (a rotated secret applies to retries), stamped with
a fresh `X-MLC-Timestamp`, and not made at all once the subscription is deleted, disabled or no
longer wants the event.

Every attempt is recorded for tests with the receiver's host only, never its URL or the secret.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp

from bot.sandbox import webhooks
from bot.sandbox.state import SandboxState, WebhookSubscription

log = logging.getLogger(__name__)

DEFAULT_RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0)

Outcome = Literal["retrying", "delivered", "failed", "cancelled"]


@dataclass(frozen=True)
class Attempt:
    """One POST of an event to one subscription's receiver."""

    event_id: str
    subscription_id: int
    number: int  # 1 is the first try, 2 the first retry...
    host: str  # the receiver's host only: its URL may embed a secret
    status: int | None  # None: no answer (see `error`)
    error: str | None  # "timeout", or the connection error's class name
    at: datetime  # wall clock, UTC, when it was sent
    sent_monotonic: float  # time.monotonic() when it was sent, to measure gaps

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        return {
            "attempt": self.number,
            "host": self.host,
            "status": self.status,
            "error": self.error,
            "delivered": self.delivered,
            "at_utc": self.at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        }


class Delivery:
    """One event on its way to one subscription: the attempts so far and how it ended.

    `outcome` is "retrying" until it settles as "delivered" (a 2xx), "failed" (every retry
    used up) or "cancelled" (the subscription went away or stopped wanting it, or the sandbox
    stopped). `await delivery.settled()` waits for that.
    """

    def __init__(
        self, event: str, site_id: int, payload: dict[str, Any], body: bytes, subscription_id: int
    ) -> None:
        self.event = event
        self.site_id = site_id
        self.payload = payload
        self.body = body
        self.subscription_id = subscription_id
        self.attempts: list[Attempt] = []
        self.outcome: Outcome = "retrying"
        self.cancelled_because: str | None = None
        self._settled = asyncio.Event()

    @property
    def event_id(self) -> str:
        return str(self.payload["id"])

    @property
    def done(self) -> bool:
        return self._settled.is_set()

    async def settled(self) -> Outcome:
        await self._settled.wait()
        return self.outcome

    def settle(self, outcome: Outcome, because: str | None = None) -> None:
        if self.done:
            return
        self.outcome = outcome
        self.cancelled_because = because
        self._settled.set()

    def to_json(self) -> dict[str, Any]:
        return {
            "subscription_id": self.subscription_id,
            "outcome": self.outcome,
            "cancelled_because": self.cancelled_because,
            "attempts": [a.to_json() for a in self.attempts],
        }

    def __repr__(self) -> str:
        return (
            f"<Delivery {self.event_id} {self.event} to subscription {self.subscription_id}: "
            f"{self.outcome}, {len(self.attempts)} attempt(s)>"
        )


@dataclass(frozen=True)
class EmittedEvent:
    """An event the sandbox emitted: its new row, the payload, and one delivery per subscription."""

    event: str
    site_id: int
    row: dict[str, Any]
    payload: dict[str, Any]
    deliveries: tuple[Delivery, ...] = field(default=())

    @property
    def id(self) -> str:
        return str(self.payload["id"])

    @property
    def attempts(self) -> list[Attempt]:
        return sorted(
            (a for d in self.deliveries for a in d.attempts), key=lambda a: a.sent_monotonic
        )

    async def settled(self) -> list[Outcome]:
        """Wait until every delivery has settled (retries included); their outcomes."""
        return [await d.settled() for d in self.deliveries]

    def to_json(self) -> dict[str, Any]:
        return {"payload": self.payload, "deliveries": [d.to_json() for d in self.deliveries]}


def _wanted_by(sub: WebhookSubscription | None, delivery: Delivery) -> str | None:
    """Why `sub` must no longer receive `delivery`, or None if it still may."""
    if sub is None or sub.site_id != delivery.site_id:
        return "subscription deleted"
    if not sub.enabled:
        return "subscription disabled"
    if delivery.event not in sub.events:
        return f"subscription no longer wants {delivery.event}"
    return None


class WebhookSender:
    """Sends events to the subscriptions in `state`, retrying failed deliveries."""

    def __init__(
        self,
        state: SandboxState,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        timeout: float = webhooks.DELIVERY_TIMEOUT,
    ) -> None:
        if any(d < 0 for d in retry_delays) or timeout <= 0:
            raise ValueError("retry delays must be >= 0 and the timeout > 0")
        self._state = state
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self.deliveries: list[Delivery] = []
        self._retries: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    @property
    def attempts(self) -> list[Attempt]:
        """Every attempt made, in the order they were sent."""
        return sorted(
            (a for d in self.deliveries for a in d.attempts), key=lambda a: a.sent_monotonic
        )

    async def emit(self, site_id: int, event: str, data: dict[str, Any]) -> EmittedEvent:
        """Deliver one new event; returns after the first attempts, retries go on behind."""
        payload = webhooks.build_payload(event, site_id, data)
        body = webhooks.encode(payload)
        subs = sorted(
            (
                s
                for s in self._state.webhooks.values()
                if s.site_id == site_id and s.enabled and event in s.events
            ),
            key=lambda s: s.id,
        )
        deliveries = tuple(Delivery(event, site_id, payload, body, s.id) for s in subs)
        self.deliveries.extend(deliveries)
        await asyncio.gather(*(self._attempt(d) for d in deliveries))
        for delivery in deliveries:
            if not delivery.done:
                task = asyncio.create_task(self._retry(delivery))
                self._retries.add(task)
                task.add_done_callback(self._retries.discard)
        return EmittedEvent(event, site_id, data, payload, deliveries)

    async def close(self) -> None:
        """Cancel pending retries (their deliveries settle "cancelled") and close the session."""
        tasks = list(self._retries)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _retry(self, delivery: Delivery) -> None:
        try:
            for delay in self.retry_delays:
                await asyncio.sleep(delay)
                await self._attempt(delivery)
                if delivery.done:
                    return
        except asyncio.CancelledError:
            delivery.settle("cancelled", "sandbox stopped")
            raise
        except Exception:
            log.exception("webhook retry of %s crashed", delivery.event_id)
            delivery.settle("failed")

    async def _attempt(self, delivery: Delivery) -> None:
        sub = self._state.webhooks.get(delivery.subscription_id)
        stop = _wanted_by(sub, delivery)
        if stop is not None or sub is None:
            log.info("webhook delivery %s: no more attempts, %s", delivery.event_id, stop)
            delivery.settle("cancelled", stop)
            return
        number = len(delivery.attempts) + 1
        at, sent = datetime.now(UTC), time.monotonic()
        result = await webhooks.post_signed(
            self._client(), sub.url, sub.secret, delivery.body, answer_within=self.timeout
        )
        attempt = Attempt(
            event_id=delivery.event_id,
            subscription_id=sub.id,
            number=number,
            host=webhooks.receiver_host(sub.url),
            status=result.status,
            error=result.error,
            at=at,
            sent_monotonic=sent,
        )
        delivery.attempts.append(attempt)
        if attempt.delivered:
            delivery.settle("delivered")
            return
        why = result.error or f"status {result.status}"
        if number > len(self.retry_delays):
            log.warning(
                "webhook delivery %s to subscription %s (%s) failed (%s); gave up after %d "
                "attempt(s)",
                delivery.event_id,
                sub.id,
                attempt.host,
                why,
                number,
            )
            delivery.settle("failed")
            return
        log.info(
            "webhook delivery %s to subscription %s (%s) failed (%s); retrying in %g s",
            delivery.event_id,
            sub.id,
            attempt.host,
            why,
            self.retry_delays[number - 1],
        )

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # A fresh connection per attempt, as webhook senders make: a receiver that
            # restarted between attempts must not meet a dead pooled connection.
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
        return self._session
