"""Serving the Slack app: the request URL (``/slack/events``) over HTTP, or Socket Mode.

:func:`add_routes` puts the request URL on any aiohttp application (the bot's web process
serves it next to its other endpoints); :class:`SocketMode` connects to Slack instead;
:class:`SlackServer` is the Slack app alone on a port, with ``/healthz`` (tests use it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.connecting import ConnectionAttempts
from adapters.web import listen
from commands.core import Core

from .app import BOLT_LOGGER, SlackBot, SlackCredentials
from .client import web_client
from .errors import slack_error
from .inbound import MalformedRequest, read_slack_request

__all__ = [
    "EVENTS_PATH",
    "HEALTH_PATH",
    "SlackServer",
    "SlackUnavailable",
    "SocketMode",
    "add_routes",
    "check_bot_token",
    "quiet_sdk_logs",
    "start_bot",
]

log = logging.getLogger("mlc_bot.slack")

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
DRAIN_SECONDS = 10.0


class SlackUnavailable(Exception):
    """Slack refused the bot token or could not be reached; the message says what to do."""

    def __init__(self, message: str, variable: str | None = None) -> None:
        super().__init__(message)
        self.variable = variable
        """The setting to look at: the token refused, or SLACK_API_URL."""


def add_routes(
    app: web.Application, bot: SlackBot, *, on_ack: Callable[[float], None] | None = None
) -> None:
    """Slack's request URL: commands, mentions and clicks, checked, acked and dispatched.

    ``on_ack(seconds)`` is told, for each request handed to the app, how long it took from
    its arrival to the answer (Slack's limit is 3 s).
    """

    async def handle_events(request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        try:
            bolt_request = await read_slack_request(request)
        except MalformedRequest as exc:
            log.warning("refused a malformed Slack request: %s", exc.reason)
            return web.Response(status=exc.status, text=exc.reason)
        bolt_response = await bot.app.async_dispatch(bolt_request)
        response = await to_aiohttp_response(bolt_response)
        if on_ack is not None:
            try:
                on_ack(time.perf_counter() - arrived)
            except Exception:
                log.warning("the ack observer failed", exc_info=True)
        return response

    app.router.add_post(EVENTS_PATH, handle_events)


async def start_bot(bot: SlackBot) -> None:
    """Warm the bot (``auth.test``); raises :class:`SlackUnavailable` when Slack says no."""
    try:
        await bot.start()
    except _START_ERRORS as exc:
        await bot.aclose(0)
        raise _bot_token_unavailable(exc) from None


async def check_bot_token(client: AsyncWebClient) -> None:
    """``auth.test`` with ``client``'s token (a process that only posts checks it at start);
    raises :class:`SlackUnavailable` when Slack says no."""
    try:
        await client.auth_test()
    except _START_ERRORS as exc:
        raise _bot_token_unavailable(exc) from None


class SocketMode:
    """The bot's connection to Slack in Socket Mode (no public URL needed)."""

    def __init__(self, bot: SlackBot, app_token: str, *, api_url: str | None = None) -> None:
        # Its own Web API client: the bot's shares an HTTP session with its replies.
        self._handler = AsyncSocketModeHandler(bot.app, app_token, web_client=web_client(api_url))
        self._app_token = app_token
        # slack_sdk logs each failed connection with its traceback and tries again forever.
        self._attempts = ConnectionAttempts(
            self._handler.client.logger,
            "Failed to connect",
            "the Socket Mode connection failed (%s); slack_sdk reconnects by itself",
        )

    async def connect(self) -> None:
        """Open the connection; raises :class:`SlackUnavailable` when Slack says no.

        The app token is tried first with one ``apps.connections.open`` (slack_sdk would
        retry a refused one forever), and the WebSocket URL it hands out is used.
        """
        client = self._handler.client
        try:
            opened = await client.web_client.apps_connections_open(app_token=self._app_token)
        except _START_ERRORS as exc:
            raise _unavailable(
                exc,
                "SLACK_APP_TOKEN",
                "create an app-level token with connections:write (Basic Information >"
                " App-Level Tokens).",
                unreachable="Could not reach Slack's Web API",
            ) from None
        client.wss_uri = opened["url"]
        self._attempts.attach()
        failure = await self._attempts.first(self._handler.connect_async())
        if failure is not None:
            raise SlackUnavailable(
                f"Could not open Slack's Socket Mode connection ({type(failure).__name__});"
                " check the network."
            )

    async def close(self) -> None:
        await self._handler.close_async()
        self._attempts.detach()


_START_ERRORS = (aiohttp.ClientError, OSError, TimeoutError, SlackClientError)
"""What a first call to Slack's Web API raises when the token is refused or Slack is not reached."""


def _bot_token_unavailable(exc: Exception) -> SlackUnavailable:
    return _unavailable(
        exc,
        "SLACK_BOT_TOKEN",
        "copy the Bot User OAuth Token (xoxb-...) from your app's OAuth & Permissions page.",
        unreachable="Could not reach Slack's Web API",
    )


def _unavailable(exc: Exception, token: str, advice: str, *, unreachable: str) -> SlackUnavailable:
    """One line for a start that Slack stopped: the token refused, or Slack not reached."""
    if isinstance(exc, SlackApiError):
        data = getattr(exc.response, "data", None)
        if isinstance(data, dict) and data.get("error"):
            return SlackUnavailable(f"Slack refused {token} ({slack_error(exc)}): {advice}", token)
        return SlackUnavailable(
            f"What answered at SLACK_API_URL is not Slack's Web API ({slack_error(exc)});"
            " check SLACK_API_URL, or leave it unset for Slack's own.",
            "SLACK_API_URL",
        )
    return SlackUnavailable(
        f"{unreachable} ({type(exc).__name__}); check the network and SLACK_API_URL.",
        "SLACK_API_URL",
    )


def quiet_sdk_logs() -> None:
    """Keep request bodies, which hold response URLs, out of the logs.

    slack_sdk logs whole requests at DEBUG; Bolt logs the body of a request whose signature
    fails at INFO, URL-encoded where the redacting filter cannot recognise it. slack_sdk's
    Web API client also prints its retries at INFO when its own logger's level is DEBUG or
    unset, which is a debugging aid: they show with LOG_LEVEL=DEBUG only.
    """
    root = logging.getLogger().getEffectiveLevel()
    for name in ("slack_sdk", "slack_sdk.web.async_base_client"):
        logging.getLogger(name).setLevel(max(root, logging.INFO))
    for name in ("slack_bolt", BOLT_LOGGER):
        logging.getLogger(name).setLevel(max(root, logging.WARNING))


class SlackServer:
    """The Slack app alone over HTTP on one port (``/slack/events``, ``/healthz``)."""

    def __init__(
        self,
        core: Core,
        credentials: SlackCredentials,
        *,
        client: AsyncWebClient | None = None,
        reply_lifetime: float | None = None,
    ) -> None:
        self.bot = SlackBot(core, credentials, client=client, reply_lifetime=reply_lifetime)
        self.url = ""
        self._runner: web.AppRunner | None = None

    @property
    def events_url(self) -> str:
        return self.url + EVENTS_PATH

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Warm the bot (``auth.test``), then listen; port 0 picks a free port."""
        await start_bot(self.bot)
        app = web.Application()
        add_routes(app, self.bot)

        async def health(_request: web.Request) -> web.Response:
            return web.json_response({"ok": True, "replies_in_flight": len(self.bot.tasks)})

        app.router.add_get(HEALTH_PATH, health)
        try:
            self._runner = await listen(app, host, port)
        except BaseException:
            await self.bot.aclose(0)
            raise
        self.url = f"http://{host}:{self._runner.addresses[0][1]}"

    async def stop(self, drain: float = DRAIN_SECONDS) -> None:
        """Stop taking requests, then let replies in flight finish."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        await self.bot.aclose(drain)

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
