"""The sandbox's own control endpoint, beside the emulated API: emit an event on demand.

`POST /sandbox/events` with `Authorization: Bearer <a site's read,write token>` and the JSON
body `{"event": "handoff"|"feedback", "site_id": N (optional), "data": {...overrides}}` adds a
new row to the token's site, delivers it like `SandboxServer.emit_new`, and answers
`{"ok": true, "data": {"payload": {...}, "deliveries": [...]}}` once the first attempts are
made (retries go on in the background). Errors use the API's envelope. The real MyLiveChat has
no such endpoint: these calls are not rate limited and not in `SandboxServer.requests`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from bot.sandbox.delivery import EmittedEvent
from bot.sandbox.events import EVENTS, EventError
from bot.sandbox.state import SandboxState

log = logging.getLogger(__name__)

EVENTS_PATH = "/sandbox/events"

EmitNew = Callable[[int, str, Mapping[str, Any]], Awaitable[EmittedEvent]]


def add_event_routes(app: web.Application, state: SandboxState, emit: EmitNew) -> None:
    """Serve `POST /sandbox/events` on `app`, emitting through `emit(site_id, event, data)`."""

    async def handle(request: web.Request) -> web.Response:
        try:
            site_id, event, overrides = await _parse(request, state)
            emitted = await emit(site_id, event, overrides)
        except _Refused as refused:
            return _error(refused.status, refused.code, refused.message)
        except EventError as exc:
            return _error(400, "bad_field", str(exc))
        except Exception:
            log.exception("sandbox control endpoint crashed")
            return _error(500, "internal_error", "the sandbox could not emit the event")
        return web.json_response({"ok": True, "data": emitted.to_json()})

    app.router.add_post(EVENTS_PATH, handle)


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error": {"code": code, "message": message}}, status=status
    )


async def _parse(request: web.Request, state: SandboxState) -> tuple[int, str, dict[str, Any]]:
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    token = state.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise _Refused(401, "unauthorized", "send a site's token as Authorization: Bearer")
    if not token.can_write:
        raise _Refused(403, "forbidden_scope", "emitting an event needs a read,write token")
    try:
        body = json.loads(await request.read())
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = None
    if not isinstance(body, dict):
        raise _Refused(400, "bad_request", "the body must be a JSON object")
    event = body.get("event")
    if event is None:
        raise _Refused(400, "missing_field", "missing required field 'event'")
    if event not in EVENTS:
        raise _Refused(400, "bad_field", f"'event' must be one of {', '.join(EVENTS)}")
    site_id = body.get("site_id", token.site_id)
    if site_id != token.site_id:
        raise _Refused(403, "forbidden_site", f"this token belongs to site {token.site_id}")
    overrides = body.get("data") or {}
    if not isinstance(overrides, dict):
        raise _Refused(400, "bad_field", "'data' must be a JSON object of row fields")
    return token.site_id, event, overrides
