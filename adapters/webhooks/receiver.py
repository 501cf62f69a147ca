"""``POST /mlc/webhooks``: MyLiveChat's signed event deliveries, answered at once.

The core's :class:`~commands.alerts.inbox.Inbox` verifies and keeps each delivery before
this answers it, so an answered delivery is never lost; posting happens afterwards, in the
alert worker. The answers follow what a sender expects: 2xx for anything verified (also a
duplicate or an event the bot cannot use, so the sender does not retry it forever), 401
without detail for a wrong signature or timestamp, 413 for a body over 1 MB, and 503
(so it is sent again) when the delivery could not be kept in time: the database is busy
or unreachable.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from commands.alerts.inbox import Inbox, Verdict
from commands.alerts.service import RECEIVER_PATH
from commands.digests.store import StorageUnavailable

__all__ = ["ACK_DEADLINE", "MAX_BODY", "RECEIVER_PATH", "add_routes"]

log = logging.getLogger("mlc_bot.alerts")

MAX_BODY = 1_000_000
"""Bytes a delivery may have (1 MB)."""
ACK_DEADLINE = 0.9
"""Seconds a delivery waits to be kept before it is answered 503 (MyLiveChat's sender
expects an answer within a second)."""

_STATUS = {
    Verdict.ACCEPTED: 200,
    Verdict.DUPLICATE: 200,
    Verdict.TEST: 200,
    Verdict.IGNORED: 202,
    Verdict.FORGED: 401,
    Verdict.STALE: 401,
}


def add_routes(app: web.Application, inbox: Inbox) -> None:
    """The receiver's route on ``app``."""

    async def receive(request: web.Request) -> web.Response:
        declared = request.content_length
        if declared is not None and declared > MAX_BODY:
            return web.Response(status=413)
        body = await _read_at_most(request, MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return web.Response(status=413)
        accepting = asyncio.ensure_future(
            inbox.accept(
                body,
                request.headers.get("X-MLC-Signature"),
                request.headers.get("X-MLC-Timestamp"),
            )
        )
        try:
            # Shielded: past the deadline the delivery is still kept if it can be (then
            # MyLiveChat's retry of it is a duplicate), but the answer does not wait.
            verdict = await asyncio.wait_for(asyncio.shield(accepting), ACK_DEADLINE)
        except TimeoutError:
            accepting.add_done_callback(_settled_late)
            log.warning(
                "a webhook delivery could not be kept within %.1f s (the database is busy); "
                "answered 503 so that MyLiveChat sends it again",
                ACK_DEADLINE,
            )
            return web.Response(status=503, headers={"Retry-After": "10"})
        except StorageUnavailable:  # logged where it happened, without the database's address
            return web.Response(status=503, headers={"Retry-After": "30"})
        except Exception as exc:
            log.error("a webhook delivery could not be kept (%s)", type(exc).__name__)
            return web.Response(status=500)  # not kept: MyLiveChat sends it again
        if verdict in (Verdict.FORGED, Verdict.STALE):
            log.info("refused a webhook delivery: %s", verdict.value)
        return web.Response(status=_STATUS[verdict])

    app.router.add_post(RECEIVER_PATH, receive)


def _settled_late(accepting: asyncio.Future[Verdict]) -> None:
    if accepting.cancelled():
        return
    if isinstance(accepting.exception(), StorageUnavailable):
        return  # logged where it happened
    if accepting.exception() is not None:
        log.error(
            "a late webhook delivery could not be kept (%s); MyLiveChat sends it again",
            type(accepting.exception()).__name__,
        )
    elif accepting.result() is Verdict.ACCEPTED:
        log.info("a late webhook delivery was kept after all; it is alerted")


async def _read_at_most(request: web.Request, limit: int) -> bytes:
    """The body, or its first ``limit`` bytes. (One ``read(n)`` returns only what has
    arrived so far, so a body sent in pieces would be cut short.)"""
    body = bytearray()
    while len(body) < limit:
        chunk = await request.content.read(limit - len(body))
        if not chunk:
            break
        body += chunk
    return bytes(body)
