"""A local fake of Discord's REST API (v10) and gateway, for discord.py to talk to.

It answers what discord.py calls when it logs in (``GET /users/@me``, ``GET
/oauth2/applications/@me``), syncs commands (``PUT .../commands``), answers
interactions (``POST /interactions/{id}/{token}/callback``, follow-ups on
``/webhooks/{app_id}/{token}``), opens DMs (``POST /users/@me/channels``),
describes channels (``GET /channels/{id}``, a text channel named "support"),
posts to channels (``POST /channels/{id}/messages``, with ``message_reference`` for a reply)
and edits those messages (``PATCH /channels/{id}/messages/{message_id}``); and it runs a minimal
gateway (HELLO, heartbeat ACK, READY) that can push events such as
``INTERACTION_CREATE``. Bodies that break Discord's limits (embeds,
components, command names, a nonce over 25 characters) get the 400 Discord would send.
A channel message with a ``nonce`` and ``enforce_nonce`` that repeats one posted within
``nonce_window`` seconds returns the first message and creates none, as Discord does.

Every REST request is recorded as a :class:`DiscordRequest` with its decoded
JSON body (multipart bodies are unpacked from ``payload_json``)::

    async with FakeDiscord() as fake, fake.installed():
        ...  # discord.py now talks to the fake
        fake.channel_messages("123")  # bodies of the messages created in channel 123
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord
import yarl
from aiohttp import web

__all__ = ["API_PREFIX", "DiscordRequest", "FakeDiscord", "logged_in"]

API_PREFIX = "/api/v10"


@dataclass
class DiscordRequest:
    """One REST request as the fake received it. ``path`` excludes ``/api/v10``.

    ``status`` is the HTTP status the fake answered (0 until it has).
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any
    at: float = field(default_factory=time.monotonic)
    status: int = 0

    @property
    def ephemeral(self) -> bool:
        """Whether the body asks for an ephemeral message (flag 64), directly or in ``data``."""
        body = self.json if isinstance(self.json, dict) else {}
        flags = body.get("flags") or (body.get("data") or {}).get("flags") or 0
        return bool(int(flags) & 64)


class FakeDiscord:
    """Discord's REST API and gateway on 127.0.0.1, recording what discord.py sends."""

    def __init__(
        self,
        *,
        application_id: int = 900000000000000001,
        bot_user_id: int = 900000000000000002,
        bot_name: str = "mlc-bot",
        latency: float = 0.0,
        nonce_window: float = 300.0,
    ) -> None:
        self.application_id = application_id
        self.latency = latency
        """Seconds every REST request waits before it is handled (a client that hangs up
        meanwhile does not stop it: the message is still created, as on Discord)."""
        self.nonce_window = nonce_window
        """Seconds a nonce sent with ``enforce_nonce`` is remembered ("a few minutes")."""
        self.bot_user = {
            "id": str(bot_user_id),
            "username": bot_name,
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
        }
        self.requests: list[DiscordRequest] = []
        self.identified = asyncio.Event()
        self.fail_next: dict[str, int] = {}
        """Path substrings whose next request gets HTTP 500 (value: how many times)."""
        self.token: str | None = None
        """When set, requests with another bot token get 401, as Discord answers."""
        self.guild_id = "800000000000000001"
        """The server every channel ``GET /channels/{id}`` describes belongs to."""
        self.gone_channels: set[str] = set()
        """Channel ids that answer 404 Unknown Channel, as for a deleted channel."""
        self.forbidden_channels: set[str] = set()
        """Channel ids that answer 403 Missing Access, as when the bot was removed."""
        self.refused: list[tuple[DiscordRequest, list[str]]] = []
        """Requests answered 400 because their body broke Discord's rules, with the reasons."""
        self.created: list[tuple[str, Any]] = []
        """(channel id, request body) of every channel message created, oldest first."""
        self.repeats = 0
        """Channel posts answered with an earlier message: they repeated an enforced nonce."""
        self.edits: list[tuple[str, str, Any]] = []
        """(channel id, message id, request body) of every channel message edit, oldest first."""
        self._shown: dict[str, tuple[str, dict[str, Any]]] = {}
        self._nonces: dict[str, tuple[float, dict[str, Any]]] = {}
        self._ids = itertools.count(1_000_000_000_000_000_000)
        self._sockets: list[web.WebSocketResponse] = []
        self._sequence = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.gateway_url = ""

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}{API_PREFIX}"
        self.gateway_url = f"ws://127.0.0.1:{port}/gateway"

    async def stop(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @contextlib.contextmanager
    def installed(self) -> Iterator[FakeDiscord]:
        """Point discord.py's REST base URL and gateway at this fake while inside."""
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

        saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
        Route.BASE = self.url
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield self
        finally:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved

    # --- what was received --------------------------------------------------------------------

    def matching(self, method: str | None = None, path: str = "") -> list[DiscordRequest]:
        """Requests with ``method`` whose path contains ``path``, in arrival order."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper()) and path in r.path
        ]

    def interaction_callbacks(self, interaction_id: int | str) -> list[DiscordRequest]:
        return self.matching("POST", f"/interactions/{interaction_id}/")

    def followups(self, token: str) -> list[DiscordRequest]:
        """Follow-up messages (``POST /webhooks/{app}/{token}``) for an interaction token."""
        return [
            r
            for r in self.matching("POST", f"/webhooks/{self.application_id}/{token}")
            if "/messages/" not in r.path
        ]

    def original_edits(self, token: str) -> list[DiscordRequest]:
        return self.matching("PATCH", f"/webhooks/{self.application_id}/{token}/messages/@original")

    def channel_messages(self, channel_id: int | str) -> list[Any]:
        """The bodies of the messages created in a channel, oldest first (a post that
        repeated an enforced nonce created none)."""
        return [body for channel, body in self.created if channel == str(channel_id)]

    def shown(self, channel_id: int | str) -> dict[str, dict[str, Any]]:
        """The channel's messages as it shows them now (edits applied): id -> body."""
        return {
            message_id: body
            for message_id, (channel, body) in self._shown.items()
            if channel == str(channel_id)
        }

    def synced_commands(self, guild_id: int | str | None = None) -> list[Any] | None:
        """The last bulk-overwrite body, globally or for one guild; None if never synced."""
        where = (
            f"/applications/{self.application_id}/guilds/{guild_id}/commands"
            if guild_id is not None
            else f"/applications/{self.application_id}/commands"
        )
        bodies = [r.json for r in self.matching("PUT") if r.path == where]
        return bodies[-1] if bodies else None

    def clear(self) -> None:
        self.requests.clear()

    async def wait_for(self, predicate: Callable[[], object], within: float = 5.0) -> None:
        """Wait until ``predicate()`` is truthy (e.g. a follow-up arrived)."""
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("the fake Discord did not receive what was expected")
            await asyncio.sleep(0.01)

    # --- gateway ------------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event (e.g. ``INTERACTION_CREATE``) to every connected client."""
        await self.identified.wait()
        message = {"op": 0, "t": event, "s": next(self._sequence), "d": data}
        for socket in list(self._sockets):
            await socket.send_str(json.dumps(message))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        try:
            async for message in socket:
                payload = json.loads(message.data)
                if payload.get("op") == 1:
                    await socket.send_str(json.dumps({"op": 11}))
                elif payload.get("op") == 2:
                    ready = {
                        "v": 10,
                        "user": self.bot_user,
                        "guilds": [],
                        "session_id": "fake-session",
                        "resume_gateway_url": self.gateway_url,
                        "application": {"id": str(self.application_id), "flags": 0},
                    }
                    await socket.send_str(
                        json.dumps({"op": 0, "t": "READY", "s": next(self._sequence), "d": ready})
                    )
                    self.identified.set()
        finally:
            self._sockets.remove(socket)
        return socket

    # --- REST ---------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body = await _decode_body(request)
        received = DiscordRequest(request.method, path, dict(request.query), body)
        self.requests.append(received)
        if self.latency:
            await asyncio.sleep(self.latency)
        response = self._respond(received, request.headers.get("Authorization", ""))
        received.status = response.status
        return response

    def _respond(self, received: DiscordRequest, auth: str) -> web.Response:
        path = received.path
        if self.token is not None and auth.startswith("Bot ") and auth != f"Bot {self.token}":
            return _error(401, 0, "401: Unauthorized")
        for fragment, times in list(self.fail_next.items()):
            if fragment in path and times > 0:
                self.fail_next[fragment] = times - 1
                return _error(500, 0, "fake internal error")
        problems = _problems(received.method, path, received.json)
        if problems:
            self.refused.append((received, problems))
            return _error(400, 50035, "Invalid Form Body: " + "; ".join(problems))
        return self._answer(received.method, path, received.json)

    def _answer(self, method: str, path: str, body: Any) -> web.Response:
        app = str(self.application_id)
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/users/@me":
            return _json(self.bot_user)
        if method == "GET" and path == "/oauth2/applications/@me":
            return _json(self._application())
        if method == "GET" and path in ("/gateway", "/gateway/bot"):
            return _json(
                {
                    "url": self.gateway_url,
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 1000,
                        "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }
            )
        if method == "PUT" and parts[:2] == ["applications", app] and parts[-1] == "commands":
            return _json([self._command(c) for c in body or []])
        if method == "POST" and parts[0] == "interactions" and parts[-1] == "callback":
            return _json(self._callback(parts[1], body or {}))
        if parts[:2] == ["webhooks", app] and len(parts) >= 3:
            if method == "DELETE":
                return web.Response(status=204)
            return _json(self._message(None, body or {}))
        if method == "GET" and parts[0] == "channels" and len(parts) == 2:
            if parts[1] in self.gone_channels:
                return _error(404, 10003, "Unknown Channel")
            if parts[1] in self.forbidden_channels:
                return _error(403, 50001, "Missing Access")
            return _json({"id": parts[1], "type": 0, "guild_id": self.guild_id, "name": "support"})
        if method == "POST" and parts[0] == "channels" and parts[-1] == "messages":
            if parts[1] in self.gone_channels:
                return _error(404, 10003, "Unknown Channel")
            if parts[1] in self.forbidden_channels:
                return _error(403, 50001, "Missing Access")
            return _json(self._channel_message(parts[1], body or {}))
        if method == "PATCH" and parts[0] == "channels" and parts[2:3] == ["messages"]:
            return self._edit(parts[1], parts[3] if len(parts) > 3 else "", body or {})
        if method == "POST" and path == "/users/@me/channels":
            recipient = str((body or {}).get("recipient_id"))
            dm = {"id": str(next(self._ids)), "type": 1, "last_message_id": None}
            return _json({**dm, "recipients": [{**self.bot_user, "id": recipient, "bot": False}]})
        return _error(404, 10000, f"the fake Discord does not serve {method} {path}")

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": self.bot_user["username"],
            "description": "",
            "icon": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": {**self.bot_user, "id": "900000000000000003", "bot": False},
            "verify_key": "0" * 64,
            "flags": 0,
            "interactions_endpoint_url": None,
        }

    def _command(self, command: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(next(self._ids)),
            "application_id": str(self.application_id),
            "version": "1",
            "default_member_permissions": None,
            "dm_permission": True,
            **command,
        }

    def _callback(self, interaction_id: str, body: dict[str, Any]) -> dict[str, Any]:
        data = body.get("data") or {}
        kind = body.get("type")
        return {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & 64),
            },
            "resource": {"type": kind},
        }

    def _channel_message(self, channel_id: str, body: dict[str, Any]) -> dict[str, Any]:
        nonce = body.get("nonce")
        enforced = nonce is not None and bool(body.get("enforce_nonce"))
        now = time.monotonic()
        if enforced:
            seen = self._nonces.get(str(nonce))
            if seen is not None and now - seen[0] <= self.nonce_window:
                self.repeats += 1
                return seen[1]  # the first message, and no second one
        message = self._message(channel_id, body)
        self.created.append((channel_id, body))
        self._shown[message["id"]] = (channel_id, dict(body))
        if enforced:
            self._nonces[str(nonce)] = (now, message)
        return message

    def _edit(self, channel_id: str, message_id: str, body: dict[str, Any]) -> web.Response:
        """Edit a message: the fields sent replace the message's (Discord's PATCH)."""
        if channel_id in self.gone_channels:
            return _error(404, 10003, "Unknown Channel")
        if channel_id in self.forbidden_channels:
            return _error(403, 50001, "Missing Access")
        shown = self._shown.get(message_id)
        if shown is None or shown[0] != channel_id:
            return _error(404, 10008, "Unknown Message")
        self.edits.append((channel_id, message_id, body))
        updated = {**shown[1], **body}
        self._shown[message_id] = (channel_id, updated)
        return _json({**self._message(channel_id, updated), "id": message_id})

    def _message(self, channel_id: str | None, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(next(self._ids)),
            "channel_id": channel_id or "800000000000000001",
            "type": 0,
            "content": body.get("content") or "",
            "author": self.bot_user,
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "flags": int(body.get("flags") or 0),
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "webhook_id": str(self.application_id),
            **({"nonce": str(body["nonce"])} if body.get("nonce") is not None else {}),
        }


# --- Discord's rules for what it accepts ----------------------------------------------------------

_NAME = re.compile(r"^[-_\w]{1,32}$")
_EMBED_TEXT = {"title": 256, "description": 4096}


def _problems(method: str, path: str, body: Any) -> list[str]:
    """Why Discord would refuse this body with 400 (50035), or an empty list."""
    if not isinstance(body, dict | list):
        return []
    if method == "PUT" and path.endswith("/commands") and isinstance(body, list):
        return [p for command in body for p in _command_problems(command, command["name"])]
    if isinstance(body, list):
        return []
    message = body.get("data") if "/interactions/" in path else body
    if not isinstance(message, dict):
        return []
    nonce = message.get("nonce")
    nonce_problems = (
        ["nonce longer than 25 characters"] if nonce is not None and len(str(nonce)) > 25 else []
    )
    return (
        nonce_problems
        + _embed_problems(message.get("embeds") or [])
        + _component_problems(message.get("components") or [])
    )


def _command_problems(node: dict[str, Any], where: str) -> list[str]:
    problems = []
    if not _NAME.match(node.get("name", "")) or node["name"] != node["name"].lower():
        problems.append(f"{where}: bad name {node.get('name')!r}")
    if not 1 <= len(node.get("description", "")) <= 100:
        problems.append(f"{where}: description must be 1-100 characters")
    options = node.get("options") or []
    if len(options) > 25:
        problems.append(f"{where}: more than 25 options")
    required = [o.get("required", False) for o in options if o.get("type", 0) > 2]
    if required != sorted(required, reverse=True):
        problems.append(f"{where}: required options must come first")
    for option in options:
        name = f"{where} {option.get('name')}"
        if option.get("type") in (1, 2):
            problems += _command_problems(option, name)
        else:
            problems += _command_problems({**option, "options": []}, name)
            if len(option.get("choices") or []) > 25:
                problems.append(f"{name}: more than 25 choices")
    return problems


def _embed_problems(embeds: list[dict[str, Any]]) -> list[str]:
    problems = [] if len(embeds) <= 10 else ["more than 10 embeds"]
    total = 0
    for embed in embeds:
        for key, limit in _EMBED_TEXT.items():
            total += len(embed.get(key) or "")
            if len(embed.get(key) or "") > limit:
                problems.append(f"embed {key} longer than {limit}")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems.append("more than 25 fields")
        for item in fields:
            name, value = item.get("name") or "", item.get("value") or ""
            total += len(name) + len(value)
            if not 1 <= len(name) <= 256 or not 1 <= len(value) <= 1024:
                problems.append("field name must be 1-256 and value 1-1024 characters")
        footer = (embed.get("footer") or {}).get("text") or ""
        total += len(footer)
        if len(footer) > 2048:
            problems.append("footer longer than 2048")
    if total > 6000:
        problems.append(f"embeds total {total} characters, more than 6000")
    return problems


def _component_problems(rows: list[dict[str, Any]]) -> list[str]:
    problems = [] if len(rows) <= 5 else ["more than 5 action rows"]
    for row in rows:
        children = row.get("components") or []
        if not 1 <= len(children) <= 5:
            problems.append("an action row holds 1-5 components")
        for child in children:
            if len(child.get("custom_id") or "") > 100:
                problems.append("custom_id longer than 100")
            if len(child.get("label") or "") > 80:
                problems.append("button label longer than 80")
            options = child.get("options")
            if options is not None and not 1 <= len(options) <= 25:
                problems.append("a select menu has 1-25 options")
            for option in options or []:
                if len(option.get("label", "")) > 100 or len(option.get("value", "")) > 100:
                    problems.append("select option label and value are at most 100")
    return problems


async def _decode_body(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        raw = form.get("payload_json")
        return json.loads(raw) if isinstance(raw, str) else None
    text = await request.text()
    return json.loads(text) if text else None


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py decodes a body only when Content-Type is exactly application/json.
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"code": code, "message": message}, status=status)


@contextlib.asynccontextmanager
async def logged_in(client: discord.Client, fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    """``client`` logged in to ``fake`` (login runs ``setup_hook``), closed on exit."""
    with fake.installed():
        await client.login("fake-token.for-tests")
        try:
            yield client
        finally:
            await client.close()
