"""A local receiver of MyLiveChat webhook deliveries that verifies them as a user's would.

Besides answering every verified delivery with ``ok_status``, it can play a script, to stand
for a receiver that is down or slow for a while: ``statuses`` are answered, in order, to the
verified deliveries (then ``ok_status``), ``answer_delays`` are waited, in order, before
answering each delivery, and ``on_delivery`` runs before each answer (e.g. to rotate the
secret while the sender waits for its retry).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web

__all__ = ["Delivery", "WebhookReceiver"]


@dataclass(frozen=True, slots=True)
class Delivery:
    body: bytes
    headers: dict[str, str]
    verified: bool
    status: int  # what the receiver answered (or was about to, if the sender gave up first)
    received_at: float  # time.monotonic() on arrival

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """Answers ``ok_status`` to a delivery signed with ``secret`` and stamped, else 401."""

    def __init__(
        self,
        *,
        path: str = "/hook",
        ok_status: int = 200,
        statuses: Sequence[int] = (),
        answer_delays: Sequence[float] = (),
        on_delivery: Callable[[Delivery], Awaitable[None]] | None = None,
    ) -> None:
        self.path = path
        self.ok_status = ok_status
        self.statuses = deque(statuses)
        self.answer_delays = deque(answer_delays)
        self.on_delivery = on_delivery
        self.secret = ""
        self.url = ""
        self.deliveries: list[Delivery] = []
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    @property
    def accepted(self) -> list[Any]:
        """The JSON bodies of the deliveries that verified."""
        return [d.json() for d in self.deliveries if d.verified]

    def verifies(self, body: bytes, signature: str) -> bool:
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature, expected)

    async def wait_for(self, count: int, *, safety: float = 30.0) -> list[Delivery]:
        """Wait until `count` deliveries have arrived (`safety` only stops a hung test)."""
        async with asyncio.timeout(safety), self._arrived:
            await self._arrived.wait_for(lambda: len(self.deliveries) >= count)
        return self.deliveries[:count]

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        arrived = time.monotonic()
        stamped = bool(request.headers.get("X-MLC-Timestamp"))
        verified = stamped and self.verifies(body, request.headers.get("X-MLC-Signature", ""))
        status = 401
        if verified:
            status = self.statuses.popleft() if self.statuses else self.ok_status
        delivery = Delivery(body, dict(request.headers), verified, status, arrived)
        async with self._arrived:
            self.deliveries.append(delivery)
            self._arrived.notify_all()
        if self.on_delivery is not None:
            await self.on_delivery(delivery)
        if self.answer_delays:
            await asyncio.sleep(self.answer_delays.popleft())
        return web.Response(status=status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(self.path, self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}{self.path}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
