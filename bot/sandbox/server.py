"""`SandboxServer`: the MyLiveChat API emulator on a real local port, plus the CLI entry."""

from __future__ import annotations

import asyncio
import errno
import logging
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal

from aiohttp import web

from bot.sandbox import webhooks
from bot.sandbox.app import (
    API_PATH,
    FAULT_KINDS,
    Fault,
    FaultKind,
    RecordedRequest,
    SandboxControl,
    build_app,
)
from bot.sandbox.control_api import EVENTS_PATH, add_event_routes
from bot.sandbox.delivery import (
    DEFAULT_RETRY_DELAYS,
    Attempt,
    Delivery,
    EmittedEvent,
    WebhookSender,
)
from bot.sandbox.events import Event, EventGenerator
from bot.sandbox.ratelimit import RollingWindowLimiter
from bot.sandbox.seed import build_state
from bot.sandbox.state import SandboxState

log = logging.getLogger(__name__)

# Stopping must not wait on requests parked in a "slow" fault or long latency.
_SHUTDOWN_TIMEOUT = 0.5


class ListenError(Exception):
    """The sandbox could not listen on the host and port asked for; the message says why."""


def _listen_failure(host: str, port: int, exc: OSError | OverflowError) -> ListenError:
    if isinstance(exc, OverflowError):
        return ListenError("--port must be 0-65535")
    if exc.errno == errno.EADDRINUSE:
        return ListenError(
            f"port {port} on {host} is in use; pick another with --port N (0 picks a free one)"
        )
    reason = exc.strerror or str(exc) or type(exc).__name__
    return ListenError(f"cannot listen on {host} port {port}: {reason}")


@dataclass(frozen=True)
class SandboxTokens:
    """The four seeded tokens: a read,write and a read-only one for each site."""

    site_a_write: str
    site_a_read: str
    site_b_write: str
    site_b_read: str


class SandboxServer:
    """A strict MyLiveChat API v1 emulator served over HTTP (normally on 127.0.0.1).

    It is also a webhook sender: `emit_new` (or `POST /sandbox/events`) adds a handoff or
    feedback row and delivers the event to the site's subscriptions, retrying failures after
    each of `retry_delays` seconds; with `events_every` set, the server emits one every that
    many seconds while it runs, for a site that has an enabled subscription.
    """

    def __init__(
        self,
        *,
        rate_limit: int = 60,
        window: float = 60.0,
        latency: float = 0.0,
        seed: int = 1,
        now: datetime | None = None,
        events_every: float | None = None,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        delivery_timeout: float = webhooks.DELIVERY_TIMEOUT,
    ) -> None:
        if events_every is not None and not (math.isfinite(events_every) and events_every > 0):
            raise ValueError("events_every must be a positive number of seconds, or None")
        now = now or datetime.now(UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        seeded = build_state(seed, now)
        self._control = SandboxControl(
            state=seeded.state,
            limiter=RollingWindowLimiter(rate_limit, window),
            latency=latency,
        )
        self.tokens = SandboxTokens(**seeded.tokens)
        self.site_a_id = seeded.site_a_id
        self.site_b_id = seeded.site_b_id
        self.url = ""
        self.base_url = ""
        self.events_url = ""
        self.events_every = events_every
        # How many times the pace has come round, whether or not it had a site to emit for.
        self.pace_ticks = 0
        self._events = EventGenerator(seed)
        self._sender = WebhookSender(
            seeded.state, retry_delays=retry_delays, timeout=delivery_timeout
        )
        self._pace: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None

    # --- runtime knobs and inspection ---------------------------------------------------------

    @property
    def state(self) -> SandboxState:
        return self._control.state

    @property
    def latency(self) -> float:
        return self._control.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        self._control.latency = seconds

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._control.requests

    @property
    def rate_limited_count(self) -> int:
        return self._control.rate_limited_count

    def count(
        self, *, method: str | None = None, resource: str | None = None, token: str | None = None
    ) -> int:
        """How many recorded requests match every filter given."""
        return sum(
            1
            for r in self._control.requests
            if (method is None or r.method == method.upper())
            and (resource is None or r.resource == resource)
            and (token is None or r.token == token)
        )

    def clear_requests(self) -> None:
        self._control.requests.clear()

    def inject_fault(self, kind: FaultKind, count: int = 1, delay: float = 2.0) -> None:
        """Make the next `count` API requests (OPTIONS aside) meet a fault, in the order given.

        Before the request is applied: "500" (the API's internal_error envelope), "502" (a
        proxy's HTML page), "slow" (waits `delay` seconds, then goes on). After it is applied,
        the answer is lost: "apply-then-timeout" (sent `delay` seconds late),
        "apply-then-garbage" (a 200 HTML page instead), "apply-then-drop" (the connection is
        closed without an answer). See `bot.sandbox.app` for where each step sits.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        if count < 1 or delay < 0:
            raise ValueError("count must be >= 1 and delay >= 0")
        self._control.faults.extend(Fault(kind, delay) for _ in range(count))

    def advance_time(self, seconds: float) -> None:
        """Move the sandbox clock forward (usage grows, new rows are stamped later)."""
        self._control.state.advance(seconds)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every event delivery to a subscription so far, oldest first, with its attempts."""
        return list(self._sender.deliveries)

    @property
    def attempts(self) -> list[Attempt]:
        """Every delivery attempt so far (retries included), in the order they were sent."""
        return self._sender.attempts

    async def emit_new(self, site_id: int, event: Event | str, /, **overrides: Any) -> EmittedEvent:
        """Add a new handoff or feedback row to the site and deliver it as the event's `data`.

        `overrides` set row fields instead of made-up ones (handoff: session_id, visitor_key,
        visitor_name, reason, assigned_to; feedback: session_id, rating, comment); a bad one
        raises `bot.sandbox.events.EventError` (a ValueError) and adds nothing. Returns after
        the first attempt to each subscription; failed ones are retried in the background
        (`await emitted.settled()` waits for them).
        """
        row = self._events.new_row(self.state, site_id, event, overrides)
        return await self._sender.emit(site_id, event, row.to_api())

    async def emit_event(
        self,
        site_id: int,
        event: Literal["handoff", "feedback"],
        data: dict[str, Any] | None = None,
    ) -> list[webhooks.DeliveryAttempt]:
        """Deliver a signed event (with retries) to every enabled subscription that wants it.

        `data` defaults to the site's newest handoff or feedback row; no row is added (see
        `emit_new`). Returns each subscription's first attempt.
        """
        state = self._control.state
        if data is None:
            rows = state.handoffs if event == "handoff" else state.feedback
            newest = max((r for r in rows if r.site_id == site_id), key=lambda r: r.created_utc)
            data = newest.to_api()
        emitted = await self._sender.emit(site_id, event, data)
        return [_first_attempt(state, emitted, d) for d in emitted.deliveries]

    async def _emit_at_pace(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            self.pace_ticks += 1
            picked = self._events.pick(self.state)
            if picked is None:
                continue
            site_id, event = picked
            try:
                emitted = await self.emit_new(site_id, event)
            except Exception:
                log.exception("sandbox could not emit a %s event for site %s", event, site_id)
                continue
            delivered = sum(1 for d in emitted.deliveries if d.outcome == "delivered")
            log.info(
                "sandbox emitted %s %s for site %s: delivered to %d of %d subscription(s)",
                emitted.id,
                event,
                site_id,
                delivered,
                len(emitted.deliveries),
            )

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port (port 0 picks a free one) and set `url`."""
        if self._runner is not None:
            raise RuntimeError("sandbox already started")
        app = build_app(self._control)
        add_event_routes(
            app, self.state, lambda site_id, event, data: self.emit_new(site_id, event, **data)
        )
        # No access log: the query string may hold a token (the `token=` fallback).
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound_port = runner.addresses[0][1]
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{bound_port}"
        self.url = self.base_url + API_PATH
        self.events_url = self.base_url + EVENTS_PATH
        if self.events_every is not None:
            self._pace = asyncio.create_task(self._emit_at_pace(self.events_every))
        log.info("MyLiveChat sandbox listening on %s", self.url)

    async def stop(self) -> None:
        """Stop listening, emitting and retrying; safe to call twice."""
        pace, self._pace = self._pace, None
        if pace is not None:
            pace.cancel()
            await asyncio.gather(pace, return_exceptions=True)
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        await self._sender.close()

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def _first_attempt(
    state: SandboxState, emitted: EmittedEvent, delivery: Delivery
) -> webhooks.DeliveryAttempt:
    first = delivery.attempts[0] if delivery.attempts else None
    sub = state.webhooks.get(delivery.subscription_id)
    return webhooks.DeliveryAttempt(
        url=sub.url if sub is not None else "",
        payload=emitted.payload,
        body=delivery.body,
        delivered=first is not None and first.delivered,
        receiver_status=first.status if first is not None else None,
    )


def _seconds(value: float) -> str:
    if value >= 60 and value % 60 == 0:
        return f"{value / 60:g} min"
    return f"{value:g} s"


async def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    rate_limit: int = 60,
    window: float = 60.0,
    events_every: float | None = None,
) -> None:
    """Start the sandbox, print its URL and tokens as env lines, and serve until cancelled.

    With `events_every`, it also emits an event at that pace and says so on stderr.
    Raises :class:`ListenError` when it cannot listen (port in use, out of range, bad host).
    """
    server = SandboxServer(rate_limit=rate_limit, window=window, events_every=events_every)
    try:
        await server.start(host, port)
    except (OSError, OverflowError) as exc:
        raise _listen_failure(host, port, exc) from exc
    try:
        lines = (
            f"MLC_API_URL={server.url}",
            f"MLC_API_TOKEN={server.tokens.site_a_write}",
            f"MLC_API_TOKEN_READONLY={server.tokens.site_a_read}",
            f"MLC_API_TOKEN_SITE_B={server.tokens.site_b_write}",
        )
        print("\n".join(lines), flush=True)
        if events_every is not None:
            print(
                f"Emitting a handoff or feedback event every {_seconds(events_every)} to each "
                "site's webhook subscriptions (none until one is created); "
                f"POST {server.events_url} emits one now.",
                file=sys.stderr,
                flush=True,
            )
        await asyncio.Event().wait()
    finally:
        await server.stop()
