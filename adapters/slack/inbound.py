"""Slack's HTTP requests, checked and parsed before Bolt sees them.

Bolt trusts its input: a timestamp that is not a number, a signature that is not ASCII or a
form body sent as ``application/json`` raise deep inside it (HTTP 500 and a traceback in the
log, which anyone can trigger). And it takes any form body that contains the word "payload"
for an interactivity payload, so ``/mlc help payload`` reaches no listener. Here every
request is checked for the shape Slack sends and parsed by its content type; anything else
is refused with a 4xx before Bolt runs.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

__all__ = ["MalformedRequest", "SlackRequest", "read_slack_request"]

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"


class MalformedRequest(Exception):
    """Not a request Slack would send; ``status`` is the 4xx to answer, ``reason`` is short."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class SlackRequest(AsyncBoltRequest):
    """A Bolt request whose body was parsed by its content type, not by Bolt's guess."""

    def __init__(
        self, *, raw_body: str, body: dict[str, Any], query: str, headers: dict[str, str]
    ) -> None:
        super().__init__(body="", query=query, headers=headers)  # type: ignore[arg-type]
        self.raw_body = raw_body
        self.body = body
        self.context = build_async_context(AsyncBoltContext({}), body)

    def to_copyable(self) -> SlackRequest:
        copied = SlackRequest(raw_body=self.raw_body, body=self.body, query="", headers={})
        copied.query, copied.headers = self.query, self.headers
        copied.context = self.context.to_copyable()
        return copied


async def read_slack_request(request: web.Request) -> SlackRequest:
    """The request as Bolt's input; raises :class:`MalformedRequest` when Slack did not send it.

    Only the signature's *form* is checked here; Bolt checks its value and age.
    """
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        raise MalformedRequest(401, "missing or malformed signature headers")
    try:
        raw = (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest(400, "body is not UTF-8") from None
    body = _parse(raw, request.content_type)
    headers = {name: value for name, value in request.headers.items()}
    return SlackRequest(raw_body=raw, body=body, query=request.query_string, headers=headers)


def _parse(raw: str, content_type: str) -> dict[str, Any]:
    if content_type == _JSON:
        return _json_object(raw, "JSON body")
    if content_type != _FORM:
        raise MalformedRequest(415, f"unexpected content type {content_type[:40]!r}")
    form = dict(parse_qsl(raw, keep_blank_values=True))
    if "payload" in form:  # interactivity: the whole payload is one JSON form field
        return _json_object(form["payload"], "interactivity payload")
    return form


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise MalformedRequest(400, f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedRequest(400, f"{what} is not a JSON object")
    return value
