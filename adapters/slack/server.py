"""Serving the Slack app: HTTP (``/slack/events``, ``/healthz``) or Socket Mode.

``mlc-bot slack`` calls :func:`serve`. Tests start a :class:`SlackServer` on a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import ConfigError, Settings
from bot.logs import configure_logging
from bot.wiring import Core, build_core

from .app import BOLT_LOGGER, SlackBot, build_web_client
from .errors import slack_error
from .front import FrontDoor, Teardown
from .inbound import MalformedRequest, read_slack_request

__all__ = ["EVENTS_PATH", "HEALTH_PATH", "SlackServer", "build_web_app", "serve"]

log = logging.getLogger("mlc_bot.slack")

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
_DRAIN_SECONDS = 10.0


def build_web_app(bot: SlackBot, *, events: bool = True) -> web.Application:
    """The aiohttp app: Slack's request URL (unless ``events`` is off) and a health check."""

    async def handle_events(request: web.Request) -> web.Response:
        try:
            bolt_request = await read_slack_request(request)
        except MalformedRequest as exc:
            log.warning("refused a malformed Slack request: %s", exc.reason)
            return web.Response(status=exc.status, text=exc.reason)
        bolt_response = await bot.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def handle_health(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "replies_in_flight": len(bot.tasks)})

    app = web.Application()
    if events:
        app.router.add_post(EVENTS_PATH, handle_events)
    app.router.add_get(HEALTH_PATH, handle_health)
    return app


class SlackServer:
    """The Slack app over HTTP on one port, with its bot started and stopped around it.

    The endpoints run on their own thread (:class:`.front.FrontDoor`); replies on the loop
    that calls :meth:`start`.
    """

    def __init__(
        self,
        core: Core,
        settings: Settings,
        *,
        client: AsyncWebClient | None = None,
        services: Mapping[str, Any] | None = None,
        reply_lifetime: float | None = None,
    ) -> None:
        self.bot = SlackBot(
            core, settings, client=client, services=services, reply_lifetime=reply_lifetime
        )
        self.url = ""
        self._front = FrontDoor()

    @property
    def events_url(self) -> str:
        return self.url + EVENTS_PATH

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Warm the bot (``auth.test``), then listen; port 0 picks a free port."""
        await self.bot.start()

        async def setup() -> Teardown:
            runner = await _listen(build_web_app(self.bot), host, port)
            self.url = f"http://{host}:{runner.addresses[0][1]}"
            return runner.cleanup

        try:
            await self._front.start(setup)
        except BaseException:
            await self.bot.aclose(0)
            raise

    async def stop(self, drain: float = _DRAIN_SECONDS) -> None:
        """Stop taking requests, then let replies in flight finish."""
        await self._front.stop()
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


async def serve(settings: Settings, *, services: Mapping[str, Any] | None = None) -> int:
    """Run the Slack app until SIGINT/SIGTERM: HTTP on ``$PORT``, or Socket Mode.

    ``services`` reach commands as ``ctx.services`` (the digest commands need ``"digests"``).
    """
    configure_logging(settings.log_level)
    _quiet_sdk_logs()
    app_token = settings.slack_app_token
    if app_token is None and settings.slack_signing_secret is None:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: copy it from your Slack app's Basic Information "
            "page, or set SLACK_APP_TOKEN (xapp-...) to use Socket Mode instead."
        )
    core = build_core(settings)
    bot = SlackBot(core, settings, services=services)
    front = FrontDoor()

    async def setup() -> Teardown:
        runner = await _listen(
            build_web_app(bot, events=app_token is None), "0.0.0.0", settings.port
        )
        if app_token is None:
            log.info("Slack app listening on :%s%s", settings.port, EVENTS_PATH)
            return runner.cleanup
        # Its own Web API client: the bot's shares an HTTP session with the main loop.
        socket = AsyncSocketModeHandler(
            bot.app, app_token.reveal(), web_client=build_web_client(settings)
        )
        try:
            await socket.connect_async()
        except BaseException:
            await runner.cleanup()
            raise
        log.info("Slack app connected in Socket Mode; health check on :%s", settings.port)

        async def teardown() -> None:
            await socket.close_async()
            await runner.cleanup()

        return teardown

    try:
        await _warm(bot)
        with _stop_signal() as stopping:
            await front.start(setup)
            await stopping.wait()
        log.info("stopping: finishing replies in flight")
    finally:
        await front.stop()
        await bot.aclose(_DRAIN_SECONDS)
        await core.aclose()
    return 0


async def _listen(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


async def _warm(bot: SlackBot) -> None:
    try:
        await bot.start()
    except SlackApiError as exc:
        raise ConfigError(
            f"Slack refused SLACK_BOT_TOKEN ({slack_error(exc)}): copy the Bot User "
            "OAuth Token (xoxb-...) from your app's OAuth & Permissions page."
        ) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise ConfigError(
            f"Could not reach Slack's Web API ({type(exc).__name__}); check the network "
            "and SLACK_API_URL."
        ) from None


def _quiet_sdk_logs() -> None:
    """Keep request bodies, which hold response URLs, out of the logs.

    slack_sdk logs whole requests at DEBUG; Bolt logs the body of a request whose signature
    fails at INFO, URL-encoded where the redacting filter cannot recognise it.
    """
    root = logging.getLogger().getEffectiveLevel()
    logging.getLogger("slack_sdk").setLevel(max(root, logging.INFO))
    for name in ("slack_bolt", BOLT_LOGGER):
        logging.getLogger(name).setLevel(max(root, logging.WARNING))


@contextlib.contextmanager
def _stop_signal() -> Iterator[asyncio.Event]:
    """An event set by SIGINT or SIGTERM while the block runs."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopping.set)
            installed.append(sig)
    try:
        yield stopping
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
