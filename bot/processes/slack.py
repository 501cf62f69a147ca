"""``mlc-bot slack`` (Procfile ``web:``): the Slack app, over HTTP on ``$PORT`` or Socket Mode.

The web process serves Slack's request URL (in HTTP mode) and ``/healthz`` on one port.
"""

from __future__ import annotations

import errno
import logging

from adapters.slack.app import SlackBot, SlackCredentials
from adapters.slack.server import (
    DRAIN_SECONDS,
    SlackUnavailable,
    SocketMode,
    add_routes,
    quiet_sdk_logs,
    start_bot,
)

from ..compose import build_core
from ..config import REQUIREMENTS, ConfigError, Problem, Settings
from ..web import WebServer
from .signals import stop_requested

__all__ = ["serve", "slack_credentials"]

log = logging.getLogger("mlc_bot.slack")


def slack_credentials(settings: Settings) -> SlackCredentials:
    """The Slack app's credentials; a ConfigError names everything missing and where to find it."""
    settings.require(*REQUIREMENTS["slack"])
    assert settings.slack_bot_token is not None
    return SlackCredentials(
        bot_token=settings.slack_bot_token.reveal(),
        signing_secret=(
            settings.slack_signing_secret.reveal() if settings.slack_signing_secret else None
        ),
        app_token=settings.slack_app_token.reveal() if settings.slack_app_token else None,
        app_id=settings.slack_app_id,
        api_url=settings.slack_api_url,
    )


async def serve(settings: Settings) -> int:
    """Run the Slack app until SIGINT/SIGTERM. Returns an exit status.

    Anything that stops the start (a token Slack refuses, Slack out of reach, a port in
    use) is a :class:`ConfigError` that says so in one line.
    """
    credentials = slack_credentials(settings)
    quiet_sdk_logs()
    core = build_core(settings)
    bot = SlackBot(core, credentials)
    web = WebServer(settings.port)
    socket: SocketMode | None = None
    try:
        try:
            await start_bot(bot)
        except SlackUnavailable as exc:
            raise ConfigError(Problem(str(exc), exc.variable)) from None
        if credentials.app_token is None:
            add_routes(web.app, bot)
        web.report("replies_in_flight", lambda: len(bot.tasks))
        try:
            await web.start()
        except OSError as exc:
            raise ConfigError(Problem(_listen_failure(web.port, exc), "PORT")) from None
        if credentials.app_token is not None:
            socket = SocketMode(bot, credentials.app_token, api_url=credentials.api_url)
            try:
                await socket.connect()
            except SlackUnavailable as exc:
                raise ConfigError(Problem(str(exc), exc.variable)) from None
            log.info("Slack app connected in Socket Mode; health check on :%s", web.port)
        else:
            log.info("Slack app listening on :%s/slack/events", web.port)
        with stop_requested() as stopping:
            await stopping.wait()
        log.info("stopping: finishing replies in flight")
    finally:
        if socket is not None:
            await socket.close()
        await web.stop()
        await bot.aclose(DRAIN_SECONDS)
        await core.aclose()
    return 0


def _listen_failure(port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"PORT {port} is in use by another program: stop it, or set PORT to a free port"
    reason = exc.strerror or type(exc).__name__
    return f"cannot listen on PORT {port} ({reason}): set PORT to a port this user may open"
