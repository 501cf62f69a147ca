"""Requests leave in the order the rate limiter let them go.

The limiter grants turns in arrival order, but requests granted in the same instant race to
the wire: one whose pooled connection turns out to be stale must open a new one, and a
request granted after it takes the idle connection and arrives first. So each request's
headers wait (through httpx's ``trace`` extension, which httpcore awaits) until the requests
granted before it have written theirs, or have failed, or ``patience`` seconds have passed:
a connection that hangs does not hold the others back for long.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

__all__ = ["SendOrder", "SendTurn"]

PATIENCE = 0.5
"""Seconds a request waits, at most, for those granted before it to start sending."""

_HEADERS = "send_request_headers"


class SendOrder:
    """The requests of one HTTP client that were granted and have not started sending."""

    def __init__(self, patience: float = PATIENCE) -> None:
        self.patience = patience
        self._unsent: dict[int, asyncio.Future[None]] = {}
        self._numbers = itertools.count()

    def take(self) -> SendTurn:
        """The next turn; take it as the limiter grants the request, with no await between."""
        earlier = [future for future in self._unsent.values() if not future.done()]
        number = next(self._numbers)
        self._unsent[number] = asyncio.get_running_loop().create_future()
        return SendTurn(self, number, earlier)

    def _done(self, number: int) -> None:
        sent = self._unsent.pop(number, None)
        if sent is not None and not sent.done():
            sent.set_result(None)


class SendTurn:
    """One request's place in the sending order; pass :meth:`trace` to httpx, then close."""

    __slots__ = ("_earlier", "_number", "_order")

    def __init__(self, order: SendOrder, number: int, earlier: list[asyncio.Future[None]]) -> None:
        self._order = order
        self._number = number
        self._earlier = earlier

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpx's ``trace`` callback: hold the headers back, then mark them written."""
        step, _, stage = event.rpartition(".")
        if not step.endswith(_HEADERS):
            return
        if stage == "started":
            waiting = [future for future in self._earlier if not future.done()]
            if waiting:
                await asyncio.wait(waiting, timeout=self._order.patience)
        else:  # "complete" or "failed": the ones after it may go
            self.close()

    def close(self) -> None:
        """This request is sent, failed or was never made: stop holding the later ones."""
        self._earlier = []
        self._order._done(self._number)
