"""What Slack sends to an app, built and signed exactly as Slack does (v0 signatures).

:class:`SlackSender` posts slash commands, button clicks and events to a running server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

__all__ = [
    "Sent",
    "SlackSender",
    "app_mention",
    "block_actions",
    "sign",
    "slash_command",
]

TEAM_ID = "T0TEAM"
APP_ID = "A0APP"


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's signature headers: ``v0=`` HMAC-SHA256 of ``v0:<timestamp>:<body>``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{stamp}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def slash_command(
    text: str,
    *,
    user_id: str,
    channel_id: str,
    response_url: str,
    command: str = "/mlc",
    team_id: str = TEAM_ID,
    app_id: str = APP_ID,
    enterprise_id: str | None = None,
) -> str:
    """A slash command's form body (``enterprise_id`` as Slack adds it on Enterprise Grid)."""
    grid = {"enterprise_id": enterprise_id, "enterprise_name": "Org"} if enterprise_id else {}
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": team_id,
            "team_domain": "acme",
            "channel_id": channel_id,
            "channel_name": "support",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:12]}",
            **grid,
        }
    )


def block_actions(
    action: dict[str, Any],
    *,
    user_id: str,
    channel_id: str,
    response_url: str,
    message_ts: str = "1700000000.000100",
    ephemeral: bool = True,
    thread_ts: str | None = None,
    team_id: str = TEAM_ID,
    app_id: str = APP_ID,
) -> str:
    """A click on ``action`` (a rendered element plus what the click chose), as a form body."""
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": ephemeral,
    }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "api_app_id": app_id,
        "token": "legacy-verification-token",
        "container": container,
        "trigger_id": f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:12]}",
        "team": {"id": team_id, "domain": "acme"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "support"},
        "response_url": response_url,
        "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
        "state": {"values": {}},
    }
    if not ephemeral:
        message: dict[str, Any] = {"type": "message", "ts": message_ts, "text": "", "blocks": []}
        if thread_ts:
            message["thread_ts"] = thread_ts
        payload["message"] = message
    elif thread_ts:
        container["thread_ts"] = thread_ts
    return urlencode({"payload": json.dumps(payload)})


def app_mention(
    text: str,
    *,
    user_id: str,
    channel_id: str,
    ts: str,
    thread_ts: str | None = None,
    event_id: str | None = None,
    team_id: str = TEAM_ID,
    app_id: str = APP_ID,
) -> str:
    """An ``app_mention`` event callback's JSON body."""
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": user_id,
        "text": text,
        "ts": ts,
        "channel": channel_id,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": team_id,
            "api_app_id": app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "team_id": team_id,
                    "user_id": "U0BOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
        }
    )


@dataclass(frozen=True, slots=True)
class Sent:
    """A delivery and how the app answered it."""

    response: httpx.Response
    elapsed_ms: float
    body: str
    response_url: str | None = None


class SlackSender:
    """Slack's side of the HTTP conversation: signs and posts deliveries to the app."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        events_url: str,
        secret: str,
        mint_url: Callable[[], str],
    ) -> None:
        """``mint_url`` makes a fresh response URL for each delivery."""
        self.client = client
        self.events_url = events_url
        self.secret = secret
        self._mint_url = mint_url

    async def post(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        timestamp: int | None = None,
        secret: str | None = None,
        retry_num: int | None = None,
        response_url: str | None = None,
    ) -> Sent:
        headers = {"Content-Type": content_type, **sign(secret or self.secret, body, timestamp)}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        started = time.perf_counter()
        response = await self.client.post(self.events_url, content=body, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        return Sent(response, elapsed, body, response_url)

    async def command(
        self, text: str, *, user: str = "U_ADMIN", channel: str = "C_SUPPORT", **kwargs: Any
    ) -> Sent:
        url = self._mint_url()
        body = slash_command(text, user_id=user, channel_id=channel, response_url=url)
        return await self.post(body, response_url=url, **kwargs)

    async def click(
        self,
        element: dict[str, Any],
        *,
        user: str = "U_ADMIN",
        channel: str = "C_SUPPORT",
        block_id: str = "b1",
        selected: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Sent:
        """Click a rendered button, or choose ``selected`` in a rendered select."""
        url = self._mint_url()
        action = {
            "type": element["type"],
            "action_id": element["action_id"],
            "block_id": block_id,
            "text": element.get("text") or element.get("placeholder"),
        }
        if "value" in element:
            action["value"] = element["value"]
        if selected is not None:
            action["selected_option"] = selected
        body = block_actions(action, user_id=user, channel_id=channel, response_url=url, **kwargs)
        return await self.post(body, response_url=url)

    async def mention(
        self,
        text: str,
        *,
        user: str = "U_ADMIN",
        channel: str = "C_SUPPORT",
        ts: str = "1700000100.000200",
        thread_ts: str | None = None,
        event_id: str | None = None,
        retry_num: int | None = None,
    ) -> Sent:
        body = app_mention(
            text, user_id=user, channel_id=channel, ts=ts, thread_ts=thread_ts, event_id=event_id
        )
        return await self.post(body, content_type="application/json", retry_num=retry_num)
