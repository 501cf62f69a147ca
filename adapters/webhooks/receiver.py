"""``POST /mlc/webhooks``: MyLiveChat's signed event deliveries, answered at once.

The core's :class:`~commands.alerts.inbox.Inbox` verifies and keeps each delivery before
this answers it, so an answered delivery is never lost; posting happens afterwards, in the
alert worker. The answers follow what a sender expects: 2xx for anything verified (also a
duplicate or an event the bot cannot use, so the sender does not retry it forever), 401
without detail for a wrong signature or timestamp, 413 for a body over 1 MB.
"""

from __future__ import annotations

import logging

from aiohttp import web

from commands.alerts.inbox import Inbox, Verdict
from commands.alerts.service import RECEIVER_PATH

__all__ = ["MAX_BODY", "RECEIVER_PATH", "add_routes"]

log = logging.getLogger("mlc_bot.alerts")

MAX_BODY = 1_000_000
"""Bytes a delivery may have (1 MB)."""

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
        verdict = await inbox.accept(
            body,
            request.headers.get("X-MLC-Signature"),
            request.headers.get("X-MLC-Timestamp"),
        )
        if verdict in (Verdict.FORGED, Verdict.STALE):
            log.info("refused a webhook delivery: %s", verdict.value)
        return web.Response(status=_STATUS[verdict])

    app.router.add_post(RECEIVER_PATH, receive)


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
