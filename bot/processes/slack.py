"""``mlc-bot slack`` (Procfile ``web:``): the Slack app, over HTTP on ``$PORT`` or Socket Mode.

The web process serves Slack's request URL (in HTTP mode) and ``/healthz`` on one port.
"""

from __future__ import annotations

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
from ..config import ConfigError, Settings
from ..web import WebServer
from .signals import stop_requested

__all__ = ["serve", "slack_credentials"]

log = logging.getLogger("mlc_bot.slack")


def slack_credentials(settings: Settings) -> SlackCredentials:
    """The Slack app's credentials; a ConfigError says what is missing and where to find it."""
    if settings.slack_bot_token is None:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from your "
            "Slack app's OAuth & Permissions page."
        )
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: copy it from your Slack app's Basic Information "
            "page, or set SLACK_APP_TOKEN (xapp-...) to use Socket Mode instead."
        )
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
    """Run the Slack app until SIGINT/SIGTERM. Returns an exit status."""
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
            raise ConfigError(str(exc)) from None
        if credentials.app_token is None:
            add_routes(web.app, bot)
        web.report("replies_in_flight", lambda: len(bot.tasks))
        await web.start()
        if credentials.app_token is not None:
            socket = SocketMode(bot, credentials.app_token, api_url=credentials.api_url)
            try:
                await socket.connect()
            except SlackUnavailable as exc:
                raise ConfigError(str(exc)) from None
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
