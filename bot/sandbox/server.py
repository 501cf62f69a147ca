"""`SandboxServer`: the MyLiveChat API emulator on a real local port, plus the CLI entry."""

from __future__ import annotations

import asyncio
import errno
import logging
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
    """A strict MyLiveChat API v1 emulator served over HTTP (normally on 127.0.0.1)."""

    def __init__(
        self,
        *,
        rate_limit: int = 60,
        window: float = 60.0,
        latency: float = 0.0,
        seed: int = 1,
        now: datetime | None = None,
    ) -> None:
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

    async def emit_event(
        self,
        site_id: int,
        event: Literal["handoff", "feedback"],
        data: dict[str, Any] | None = None,
    ) -> list[webhooks.DeliveryAttempt]:
        """Deliver a signed event to every enabled subscription of `site_id` that wants it.

        `data` defaults to the site's newest handoff or feedback row.
        """
        state = self._control.state
        if data is None:
            rows = state.handoffs if event == "handoff" else state.feedback
            newest = max((r for r in rows if r.site_id == site_id), key=lambda r: r.created_utc)
            data = newest.to_api()
        subs = sorted(
            (
                s
                for s in state.webhooks.values()
                if s.site_id == site_id and s.enabled and event in s.events
            ),
            key=lambda s: s.id,
        )
        return [
            await webhooks.deliver(s.url, s.secret, webhooks.build_payload(event, site_id, data))
            for s in subs
        ]

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port (port 0 picks a free one) and set `url`."""
        if self._runner is not None:
            raise RuntimeError("sandbox already started")
        # No access log: the query string may hold a token (the `token=` fallback).
        runner = web.AppRunner(
            build_app(self._control), access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT
        )
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
        log.info("MyLiveChat sandbox listening on %s", self.url)

    async def stop(self) -> None:
        """Stop listening; safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

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


async def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    rate_limit: int = 60,
    window: float = 60.0,
) -> None:
    """Start the sandbox, print its URL and tokens as env lines, and serve until cancelled.

    Raises :class:`ListenError` when it cannot listen (port in use, out of range, bad host).
    """
    server = SandboxServer(rate_limit=rate_limit, window=window)
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
        await asyncio.Event().wait()
    finally:
        await server.stop()
