"""The aiohttp application: one endpoint, resource chosen by `?resource=`, strict like the vendor.

Order of checks for every call (each step can answer early):

1. the request is recorded; configured latency is waited; a pending injected fault is taken
   (except by OPTIONS): "502" answers an HTML proxy page here without touching the rate limit
   (the proxy answered, not the app), "slow" waits its delay and goes on (a client that gives
   up meanwhile has not had the request applied yet);
2. OPTIONS is a CORS preflight: 204, no auth, no rate limit;
3. auth (`Authorization: Bearer`, else the `token=` query fallback): 401 unauthorized;
4. the token's rolling-window bucket: 429 rate_limited with Retry-After;
5. an injected "500" fault: 500 internal_error;
6. POST/PATCH/DELETE with a read-only token: 403 forbidden_scope (before any body check);
7. missing or unknown `resource=`: 404 unknown_resource;
8. a verb the resource does not support (e.g. GET apply_tag, POST ping, PUT anything):
   404 unknown_resource too; the vendor documents no 405, so the sandbox never sends one;
9. POST/PATCH body: not JSON or not a JSON object: 400 bad_request;
10. the handler: missing_field / bad_field / not_found / duplicate_name as it finds them;
11. the answer of steps 3-10 is lost after the fact by an "apply-then-..." fault, whose
    request has been applied (the handler ran): "apply-then-timeout" holds the answer for
    its delay before sending it (a client with a shorter timeout gives up), "apply-then-garbage"
    replaces it with a 200 HTML page, "apply-then-drop" closes the connection without one.

X-RateLimit-* headers go on every answer once the token is known (steps 4-10); a 401 has none
because an unknown token has no bucket. Every answer carries X-MLC-Request-Id and
Access-Control-Allow-Origin: *. HEAD is GET with the body dropped (aiohttp drops it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from aiohttp import web

from bot.sandbox.ratelimit import RateDecision, RollingWindowLimiter
from bot.sandbox.resources import ROUTES, Ctx
from bot.sandbox.state import SandboxState
from bot.sandbox.validate import ApiError, bad_request

log = logging.getLogger(__name__)

API_PATH = "/v1/api.ashx"
ALLOWED_METHODS = ("GET", "HEAD", "POST", "DELETE", "PATCH", "OPTIONS")
WRITE_METHODS = frozenset({"POST", "PATCH", "DELETE"})
FaultKind = Literal[
    "500", "502", "slow", "apply-then-timeout", "apply-then-garbage", "apply-then-drop"
]
FAULT_KINDS: tuple[FaultKind, ...] = (
    "500",
    "502",
    "slow",
    "apply-then-timeout",
    "apply-then-garbage",
    "apply-then-drop",
)

_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "X-MLC-Request-Id, X-RateLimit-Limit, "
    "X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After",
}
_PROXY_502 = """<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


# A 200 that is not the API's JSON: what a captive portal or a confused CDN sends.
_GARBLED_200 = """<!DOCTYPE html>
<html><head><title>Welcome</title></head>
<body><p>Please wait while we check your browser...</p></body></html>
"""


@dataclass(frozen=True)
class RecordedRequest:
    """One API request as the sandbox received it.

    `status` is 0 while the request is being answered, and stays 0 if it never was (the client
    gave up during a "slow" or "apply-then-timeout" fault and the server stopped, or an
    "apply-then-drop" fault closed the connection).
    """

    method: str
    resource: str | None
    query: dict[str, str]
    body: Any
    token: str | None
    token_in_query: bool
    status: int
    at: float


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    delay: float


@dataclass
class SandboxControl:
    """The mutable runtime the app serves from; SandboxServer exposes it to tests."""

    state: SandboxState
    limiter: RollingWindowLimiter
    latency: float = 0.0
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: deque[Fault] = field(default_factory=deque)
    rate_limited_count: int = 0


CONTROL_KEY = web.AppKey("sandbox_control", SandboxControl)


def new_request_id() -> str:
    return f"req_{secrets.token_hex(10)}"


def build_app(control: SandboxControl) -> web.Application:
    """The aiohttp application serving the API endpoint from `control`."""
    app = web.Application(client_max_size=1024 * 1024)
    app[CONTROL_KEY] = control
    app.router.add_route("*", API_PATH, _handle)
    return app


def _json_response(status: int, payload: dict[str, Any], headers: dict[str, str]) -> web.Response:
    return web.json_response(payload, status=status, headers=headers)


def _error(
    err: ApiError, request_id: str, rate: RateDecision | None, extra: dict[str, str] | None = None
) -> web.Response:
    payload = {
        "ok": False,
        "error": {"code": err.code, "message": err.message, "request_id": request_id},
    }
    headers = _headers(request_id, rate)
    headers.update(extra or {})
    return _json_response(err.status, payload, headers)


def _headers(request_id: str, rate: RateDecision | None) -> dict[str, str]:
    headers = {"X-MLC-Request-Id": request_id, **_CORS}
    if rate is not None:
        headers.update(rate.headers())
    return headers


def _token_of(request: web.Request) -> tuple[str | None, bool]:
    """The raw bearer token and whether it came from the `token=` query fallback."""
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    query_token = request.query.get("token")
    if query_token:
        return query_token, True
    return None, False


async def _handle(request: web.Request) -> web.StreamResponse:
    control = request.app[CONTROL_KEY]
    request_id = new_request_id()
    method = request.method.upper()
    query = {k: request.query[k] for k in request.query}
    raw = await request.read()
    body, body_error = _parse_body(raw)
    token, token_in_query = _token_of(request)
    record = RecordedRequest(
        method=method,
        resource=query.get("resource"),
        query=query,
        body=body,
        token=token,
        token_in_query=token_in_query,
        status=0,
        at=time.monotonic(),
    )
    control.requests.append(record)
    if control.latency > 0:
        await asyncio.sleep(control.latency)
    fault = control.faults.popleft() if control.faults and method != "OPTIONS" else None
    try:
        response = await _answer(control, request_id, method, query, body, body_error, token, fault)
    except Exception:
        log.exception("sandbox handler crashed (request %s)", request_id)
        response = _error(
            ApiError(500, "internal_error", "internal server error"), request_id, None
        )
    if fault is not None and fault.kind.startswith("apply-then-"):
        lost = await _lose_answer(request, fault, response)
        if lost is None:
            return web.Response()  # never sent: the connection is closed
        response = lost
    _finish_record(control, record, response.status)
    return response


async def _lose_answer(
    request: web.Request, fault: Fault, response: web.Response
) -> web.Response | None:
    """Step 11: the request is applied; its answer comes late, garbled, or not at all."""
    if fault.kind == "apply-then-timeout":
        await asyncio.sleep(fault.delay)
        return response
    if fault.kind == "apply-then-garbage":
        kept = {k: v for k, v in response.headers.items() if k.startswith(("X-", "Access-"))}
        return web.Response(status=200, text=_GARBLED_200, content_type="text/html", headers=kept)
    if request.transport is not None:
        request.transport.abort()
    return None


def _finish_record(control: SandboxControl, record: RecordedRequest, status: int) -> None:
    requests = control.requests
    for index in range(len(requests) - 1, -1, -1):
        if requests[index] is record:
            requests[index] = replace(record, status=status)
            return


def _parse_body(raw: bytes) -> tuple[Any, str | None]:
    """The JSON body (None when empty) and why it could not be parsed, if it could not."""
    if not raw.strip():
        return None, "request body must be a JSON object"
    try:
        return json.loads(raw), None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"malformed JSON body: {exc}"


async def _answer(
    control: SandboxControl,
    request_id: str,
    method: str,
    query: dict[str, str],
    body: Any,
    body_error: str | None,
    token_value: str | None,
    fault: Fault | None,
) -> web.Response:
    if fault is not None and fault.kind == "502":
        return web.Response(
            status=502,
            text=_PROXY_502,
            content_type="text/html",
            headers={"X-MLC-Request-Id": request_id, "Server": "nginx"},
        )
    if fault is not None and fault.kind == "slow":
        await asyncio.sleep(fault.delay)

    if method == "OPTIONS":
        return web.Response(
            status=204,
            headers={
                **_headers(request_id, None),
                "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
                "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Max-Age": "600",
            },
        )

    token = control.state.tokens.get(token_value) if token_value else None
    if token is None:
        message = "missing token" if not token_value else "invalid token"
        return _error(ApiError(401, "unauthorized", message), request_id, None)

    rate = control.limiter.hit(token.value)
    if not rate.allowed:
        control.rate_limited_count += 1
        return _error(
            ApiError(429, "rate_limited", f"rate limit of {rate.limit} requests exceeded"),
            request_id,
            rate,
        )
    now = control.state.now()
    token.request_count += 1
    token.last_used_utc = now.replace(microsecond=0)

    try:
        if fault is not None and fault.kind == "500":
            raise ApiError(500, "internal_error", "internal server error; quote the request_id")
        if method in WRITE_METHODS and not token.can_write:
            raise ApiError(403, "forbidden_scope", f"{method} needs a token with write scope")
        resource = query.get("resource")
        if not resource:
            raise ApiError(404, "unknown_resource", "missing 'resource' query parameter")
        routes = ROUTES.get(resource)
        if routes is None:
            raise ApiError(404, "unknown_resource", f"unknown resource '{resource}'")
        handler = routes.get("GET" if method == "HEAD" else method)
        if handler is None:
            allowed = ", ".join(routes)
            raise ApiError(
                404,
                "unknown_resource",
                f"resource '{resource}' does not support {method} (supports {allowed})",
            )
        if method in ("POST", "PATCH"):
            if body_error is not None:
                raise bad_request(body_error)
            if not isinstance(body, dict):
                raise bad_request("request body must be a JSON object")
            payload = body
        else:
            payload = {}
        ctx = Ctx(state=control.state, token=token, query=query, body=payload, now=now)
        data = await handler(ctx)
    except ApiError as err:
        if err.status >= 500:
            log.error("internal_error (request %s)", request_id)
        return _error(err, request_id, rate)
    except Exception:
        log.exception("sandbox handler crashed (request %s)", request_id)
        return _error(ApiError(500, "internal_error", "internal server error"), request_id, rate)
    return _json_response(
        200, {"ok": True, "data": data, "request_id": request_id}, _headers(request_id, rate)
    )
