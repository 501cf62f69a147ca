"""A local fake of the Slack platform for tests: the Web API, response URLs and Socket Mode.

Start it with ``async with FakeSlack() as slack:`` and point the code under test at it:

- ``slack.url`` is a Web API base URL (ends with ``/``) for
  ``AsyncWebClient(base_url=...)`` or ``SLACK_API_URL``. It serves ``auth.test``,
  ``users.info``, ``chat.postMessage``, ``chat.postEphemeral``, ``chat.update``,
  ``conversations.history`` and ``conversations.replies`` (as for an app granted the
  history scopes and in the channel; ``reply_with`` makes them refuse) and
  ``apps.connections.open``;
  :meth:`FakeSlack.reply_with` adds any other method or replaces one.
- ``slack.response_url()`` mints a response URL like the one Slack puts in slash-command and
  interaction payloads; what is posted there lands in ``slack.responses``.
- Socket Mode: ``apps.connections.open`` hands out a WebSocket URL on this server;
  :meth:`FakeSlack.send_envelope` pushes an envelope to the connected app and returns its ack.

Every Web API call is recorded in ``slack.calls`` (method, merged query/form/JSON arguments,
token); every message a channel would show is in ``slack.messages``. Failures are
configurable per channel (:meth:`fail_channel`) and per method (:meth:`rate_limit`).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import WSMsgType, web

__all__ = [
    "FakeSlack",
    "FakeUser",
    "PostedMessage",
    "ResponsePost",
    "SlackCall",
]

Role = Literal["primary_owner", "owner", "admin", "member", "guest", "single_channel_guest"]

CHANNEL_ERRORS = ("channel_not_found", "is_archived", "not_in_channel", "restricted_action")
_CHAT_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update")


@dataclass
class FakeUser:
    """A workspace member as ``users.info`` describes them."""

    id: str
    name: str = ""
    role: Role = "member"
    tz: str = "Europe/Paris"
    deleted: bool = False

    def to_api(self, team_id: str) -> dict[str, Any]:
        role = self.role
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name or self.id.lower(),
            "real_name": (self.name or self.id).title(),
            "deleted": self.deleted,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": 0,
            "is_admin": role in ("admin", "owner", "primary_owner"),
            "is_owner": role in ("owner", "primary_owner"),
            "is_primary_owner": role == "primary_owner",
            "is_restricted": role in ("guest", "single_channel_guest"),
            "is_ultra_restricted": role == "single_channel_guest",
            "is_bot": False,
            "profile": {"display_name": self.name or self.id.lower()},
        }


@dataclass(frozen=True, slots=True)
class SlackCall:
    """One Web API call as the fake received it."""

    method: str
    args: dict[str, Any]
    token: str | None
    http_method: str
    at: float


@dataclass(frozen=True, slots=True)
class PostedMessage:
    """A message a channel now shows (``user`` is set for ephemeral messages)."""

    method: str
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    user: str | None = None
    metadata: dict[str, Any] | None = None
    """The message metadata posted with it (``event_type``, ``event_payload``), if any."""

    @property
    def ephemeral(self) -> bool:
        return self.user is not None


@dataclass(frozen=True, slots=True)
class ResponsePost:
    """A body posted to a response URL (what ``respond()`` sends)."""

    key: str
    body: dict[str, Any]
    at: float

    @property
    def response_type(self) -> str:
        return str(self.body.get("response_type") or "ephemeral")

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.body.get("blocks") or [])

    @property
    def text(self) -> str:
        return str(self.body.get("text") or "")


@dataclass
class _RateLimit:
    times: int
    retry_after: int


@dataclass
class _SocketLink:
    ws: web.WebSocketResponse
    acks: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)


class FakeSlack:
    """Slack's Web API, response URLs and Socket Mode, served on 127.0.0.1."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-1111-2222-fakebottoken",
        app_token: str = "xapp-1-A0001-3333-fakeapptoken",
        team_id: str = "T0TEAM",
        team: str = "Acme Support",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        users: Sequence[FakeUser] = (),
        latency: float = 0.0,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.team = team
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.latency = latency
        """Seconds every Web API call waits before answering."""
        self.users: dict[str, FakeUser] = {u.id: u for u in users}
        self.calls: list[SlackCall] = []
        self.messages: list[PostedMessage] = []
        self.responses: list[ResponsePost] = []
        self.response_status = 200
        """HTTP status response URLs answer with (Slack answers 404 for expired ones)."""
        self.url = ""
        self.base_url = ""
        self._channel_errors: dict[str, str] = {}
        self._rate_limits: dict[str, _RateLimit] = {}
        self._failures: dict[str, list[int]] = {}
        self._late_answers: dict[str, list[float]] = {}
        self._held: dict[str, asyncio.Event] = {}
        self._dropped: set[asyncio.Event] = set()
        self._canned: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        self._ts = 1_700_000_000_000_100
        self._changed = asyncio.Condition()
        self._links: list[_SocketLink] = []
        self._linked = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # --- configuration ------------------------------------------------------------------------

    def add_user(
        self, user_id: str, role: Role = "member", *, tz: str = "Europe/Paris", name: str = ""
    ) -> FakeUser:
        user = FakeUser(user_id, name=name, role=role, tz=tz)
        self.users[user_id] = user
        return user

    def fail_channel(self, channel: str, error: str = "channel_not_found") -> None:
        """Make chat.* calls to ``channel`` answer ``{"ok": false, "error": error}``."""
        self._channel_errors[channel] = error

    def heal_channel(self, channel: str) -> None:
        self._channel_errors.pop(channel, None)

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP 429 and ``Retry-After``."""
        self._rate_limits[method] = _RateLimit(times, retry_after)

    def hold(self, method: str) -> None:
        """Keep every call of ``method`` waiting, unanswered, until :meth:`release`."""
        self._held.setdefault(method, asyncio.Event()).clear()

    def release(self, method: str) -> None:
        event = self._held.pop(method, None)
        if event is not None:
            event.set()

    def drop_held(self, method: str) -> None:
        """End the calls of ``method`` held so far without doing them, as if they had never
        reached Slack (their sender died before the request went out): they leave
        :attr:`calls` and are answered 503 (nobody is listening any more)."""
        event = self._held.get(method)
        if event is not None:
            self._dropped.add(event)
            self.release(method)

    def delay_answer(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Do the next ``times`` calls of ``method``, then wait ``seconds`` before answering
        (a client that gives up sooner loses an answer to a call that was made)."""
        self._late_answers[method] = [seconds] * times

    def fail_method(self, method: str, *, status: int = 500, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP ``status`` and no JSON."""
        self._failures[method] = [status] * times

    def reply_with(
        self, method: str, answer: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]
    ) -> None:
        """Serve ``method`` with a fixed JSON answer, or one computed from the call's args."""
        self._canned[method] = answer if callable(answer) else (lambda _args, a=answer: a)

    def response_url(self, key: str | None = None) -> str:
        """A fresh response URL; posts to it are recorded under ``key``."""
        return f"{self.base_url}/response/{key or uuid.uuid4().hex}"

    # --- inspection ---------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]

    def responses_to(self, response_url: str) -> list[ResponsePost]:
        key = response_url.rstrip("/").rsplit("/", 1)[-1]
        return [r for r in self.responses if r.key == key]

    async def wait_for_responses(
        self, count: int = 1, *, within: float = 5.0, response_url: str | None = None
    ) -> list[ResponsePost]:
        """Wait until ``count`` posts reached response URLs (or ``response_url``)."""

        def matching() -> list[ResponsePost]:
            return self.responses_to(response_url) if response_url else list(self.responses)

        await self._wait(lambda: len(matching()) >= count, within, f"{count} response(s)")
        return matching()

    async def wait_for_messages(
        self, count: int = 1, *, within: float = 5.0
    ) -> list[PostedMessage]:
        """Wait until channels show ``count`` messages."""
        await self._wait(lambda: len(self.messages) >= count, within, f"{count} message(s)")
        return list(self.messages)

    async def _wait(self, done: Callable[[], bool], within: float, what: str) -> None:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(done), within)
            except TimeoutError:
                raise AssertionError(
                    f"timed out after {within} s waiting for {what}; "
                    f"got {len(self.responses)} response(s), {len(self.messages)} message(s)"
                ) from None

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- Socket Mode --------------------------------------------------------------------------

    async def wait_for_socket(self, within: float = 5.0) -> None:
        """Wait until an app has connected over Socket Mode."""
        await asyncio.wait_for(self._linked.wait(), within)

    async def send_envelope(
        self,
        kind: Literal["slash_commands", "interactive", "events_api"],
        payload: dict[str, Any],
        *,
        within: float = 3.0,
    ) -> dict[str, Any]:
        """Push an envelope to the connected app; return its ack message."""
        if not self._links:
            raise AssertionError("no app is connected over Socket Mode")
        link = self._links[-1]
        envelope_id = uuid.uuid4().hex
        ack: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        link.acks[envelope_id] = ack
        await link.ws.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return await asyncio.wait_for(ack, within)

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response)
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound}"
        self.url = f"{self.base_url}/api/"

    async def stop(self) -> None:
        for link in self._links:
            await link.ws.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- handlers -----------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _arguments(request)
        token = _bearer(request) or args.pop("token", None)
        call = SlackCall(method, args, token, request.method, time.time())
        self.calls.append(call)
        if self.latency:
            await asyncio.sleep(self.latency)
        held = self._held.get(method)
        if held is not None:
            await held.wait()
            if held in self._dropped:
                self.calls.remove(call)
                return web.Response(status=503, text="dropped")
        limit = self._rate_limits.get(method)
        if limit is not None and limit.times > 0:
            limit.times -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(limit.retry_after)},
            )
        failures = self._failures.get(method)
        if failures:
            return web.Response(status=failures.pop(), text="upstream error")
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if not token:
            return _error("not_authed")
        if token != expected:
            return _error("invalid_auth")
        answer = self._answer(method, args)
        if method in _CHAT_METHODS:
            await self._notify()
        late = self._late_answers.get(method)
        if late:
            await asyncio.sleep(late.pop())
        return web.json_response(answer)

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method in self._canned:
            return self._canned[method](args)
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://acme.slack.com/",
                "team": self.team,
                "user": "mlc-bot",
                "team_id": self.team_id,
                "user_id": self.bot_user_id,
                "bot_id": self.bot_id,
                "is_enterprise_install": False,
            }
        if method == "users.info":
            user = self.users.get(str(args.get("user", "")))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": user.to_api(self.team_id)}
        if method in _CHAT_METHODS:
            return self._chat(method, args)
        if method == "conversations.history":
            return self._history(args)
        if method == "conversations.replies":
            return self._replies(args)
        if method == "apps.connections.open":
            ws_url = self.base_url.replace("http://", "ws://") + "/link"
            return {"ok": True, "url": ws_url}
        return {"ok": False, "error": "unknown_method"}

    def _chat(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self._channel_errors:
            return {"ok": False, "error": self._channel_errors[channel]}
        text, blocks = str(args.get("text") or ""), _blocks(args.get("blocks"))
        if not text and not blocks:
            return {"ok": False, "error": "no_text"}
        if method == "chat.update":
            ts = str(args.get("ts") or "")
            for i, message in enumerate(self.messages):
                if message.channel == channel and message.ts == ts and not message.ephemeral:
                    self.messages[i] = PostedMessage(
                        method, channel, ts, text, blocks, message.thread_ts
                    )
                    return {"ok": True, "channel": channel, "ts": ts, "text": text}
            return {"ok": False, "error": "message_not_found"}
        try:
            metadata = _metadata(args.get("metadata"))
        except ValueError:
            return {"ok": False, "error": "invalid_metadata_format"}
        # Slack's ts is the posting time (microseconds), unique per channel.
        self._ts = max(self._ts + 100, int(time.time() * 1_000_000))
        ts = f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"
        user = str(args["user"]) if method == "chat.postEphemeral" else None
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        self.messages.append(
            PostedMessage(method, channel, ts, text, blocks, thread_ts, user, metadata)
        )
        if user is not None:
            return {"ok": True, "message_ts": ts}
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": text, "ts": ts}}

    def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        """A channel's messages, newest first, between ``oldest`` and ``latest``."""
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or "inf")
        limit = int(args.get("limit") or 100)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        shown = [
            m
            for m in self.messages
            if m.channel == channel
            and not m.ephemeral
            and m.thread_ts is None
            and oldest <= float(m.ts) <= latest
        ]
        shown.sort(key=lambda m: float(m.ts), reverse=True)
        return self._page(shown, limit, with_metadata, threaded=False)

    def _replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """A thread: its parent message, then its replies, oldest first, from ``oldest``."""
        channel, parent = str(args.get("channel") or ""), str(args.get("ts") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        shown = [
            m
            for m in self.messages
            if m.channel == channel and not m.ephemeral and parent in (m.ts, m.thread_ts)
        ]
        if not any(m.ts == parent for m in shown):
            return {"ok": False, "error": "thread_not_found"}
        oldest = float(args.get("oldest") or 0)
        limit = int(args.get("limit") or 1000)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        thread = sorted((m for m in shown if float(m.ts) >= oldest), key=lambda m: float(m.ts))
        return self._page(thread, limit, with_metadata, threaded=True)

    def _page(
        self, shown: list[PostedMessage], limit: int, with_metadata: bool, *, threaded: bool
    ) -> dict[str, Any]:
        """The first ``limit`` of ``shown`` as Slack lists them (``thread_ts`` in a thread)."""
        page = []
        for m in shown[:limit]:
            item: dict[str, Any] = {"type": "message", "ts": m.ts}
            if threaded:
                item["thread_ts"] = m.thread_ts or m.ts
            item |= {"text": m.text, "blocks": m.blocks, "bot_id": self.bot_id}
            if with_metadata and m.metadata is not None:
                item["metadata"] = m.metadata
            page.append(item)
        return {"ok": True, "messages": page, "has_more": len(shown) > limit}

    async def _response(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return web.Response(status=400, text="invalid_payload")
        self.responses.append(ResponsePost(request.match_info["key"], body, time.time()))
        await self._notify()
        if self.response_status != 200:
            return web.Response(status=self.response_status, text="expired_url")
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        link = _SocketLink(ws)
        self._links.append(link)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {}})
        self._linked.set()
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            ack = link.acks.pop(str(data.get("envelope_id")), None)
            if ack is not None and not ack.done():
                ack.set_result(data)
        self._links.remove(link)
        return ws


async def _arguments(request: web.Request) -> dict[str, Any]:
    """Query, form and JSON arguments merged, as Slack reads them."""
    args: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                args.update(body)
        else:
            args.update(dict(await request.post()))
    return args


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[len("Bearer ") :] if header.startswith("Bearer ") else None


def _blocks(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, str):
        raw = json.loads(raw) if raw else []
    return list(raw or [])


def _metadata(raw: Any) -> dict[str, Any] | None:
    """The ``metadata`` argument as Slack reads it (None if absent); ValueError if malformed."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        raw = json.loads(raw)  # a JSONDecodeError is a ValueError
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("event_type"), str)
        or not isinstance(raw.get("event_payload"), dict)
    ):
        raise ValueError("metadata needs an event_type string and an event_payload object")
    return raw


def _error(code: str) -> web.Response:
    return web.json_response({"ok": False, "error": code})
