"""``mlc-bot slack`` (Procfile ``web:``): the Slack app, over HTTP on ``$PORT`` or Socket Mode.

The web process serves Slack's request URL (in HTTP mode) and ``/healthz`` on one port.
"""

from __future__ import annotations

import logging

from adapters.slack.app import SlackCredentials

from ..config import REQUIREMENTS, Settings

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
    """``mlc-bot slack``: the web process with Slack required. Returns an exit status."""
    from .web import serve as serve_web

    return await serve_web(settings, require_slack=True)
