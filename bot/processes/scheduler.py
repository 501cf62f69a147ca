"""``mlc-bot scheduler`` (Procfile ``clock:``): post digests until SIGTERM or SIGINT.

With METRICS_PORT set it serves ``/metrics`` (and ``/healthz``) on it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from commands.ports import Poster

from ..compose import build_api_client, build_posters, close_posters
from ..config import REQUIREMENTS, ConfigError, Problem
from ..metrics import Metrics
from ..scheduler.delivery import DigestSender
from ..scheduler.digest_scheduler import DigestScheduler
from ..storage import DEFAULT_LEASE, DigestStore, display_url
from ..storage.failures import cannot_open
from ..web import WebServer, metrics_server
from .signals import stop_requested

if TYPE_CHECKING:
    from ..config import Settings

__all__ = ["POLL_INTERVAL", "run"]

log = logging.getLogger("mlc_bot.digests")

POLL_INTERVAL = 10.0
"""Seconds between checks for subscriptions added, changed or removed by the bot process."""


async def run(
    settings: Settings,
    *,
    lease: timedelta = DEFAULT_LEASE,
    poll_interval: float = POLL_INTERVAL,
) -> int:
    """Migrate, then schedule every subscription until told to stop. Returns an exit status;
    what stops the start (a database or platform out of reach) is a :class:`ConfigError`.

    ``lease`` is how long a digest's claim holds without renewal (how soon another
    scheduler sends the digests of one that died); expired claims are looked for every
    ``poll_interval`` seconds, like subscription changes.
    """
    # Our own lines say what was posted and why; APScheduler's repeat them every poll.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    settings.require(*REQUIREMENTS["scheduler"])
    api = build_api_client(settings)
    metrics = Metrics()
    api.observer = metrics
    store = DigestStore.from_url(settings.database_url)
    posters: dict[str, Poster] = {}
    metrics_web: WebServer | None = None
    try:
        await _open(store, settings.database_url)
        posters = await build_posters(settings)
        await _check_slack(posters)
        metrics_web = await metrics_server(metrics, settings.metrics_port)
        sender = DigestSender(store, api, posters, lease=lease, metrics=metrics)
        scheduler = DigestScheduler(store, sender, poll_interval=poll_interval)
        log.info(
            "posting digests to %s from %s",
            ", ".join(sorted(posters)),
            display_url(settings.database_url),
        )
        with stop_requested() as stopping:
            await scheduler.start()
            await stopping.wait()
        log.info("stopping the digest scheduler")
        await scheduler.stop()
        return 0
    finally:
        if metrics_web is not None:
            await metrics_web.stop()
        await close_posters(posters)
        await api.aclose()
        await store.aclose()


async def _open(store: DigestStore, database_url: str) -> None:
    """Migrate the database; one that cannot be opened is a :class:`ConfigError`."""
    try:
        await store.migrate()
    except Exception as exc:
        reason = cannot_open(exc)
        if reason is None:
            raise
        raise ConfigError(
            Problem(
                f"cannot open the database {display_url(database_url)} ({reason}): check"
                " DATABASE_URL and that the database is running.",
                "DATABASE_URL",
            )
        ) from None


async def _check_slack(posters: dict[str, Poster]) -> None:
    """A Slack bot token Slack refuses, or Slack out of reach, stops the start."""
    slack = posters.get("slack")
    if slack is None:
        return
    from adapters.slack.poster import SlackPoster
    from adapters.slack.server import SlackUnavailable, check_bot_token

    assert isinstance(slack, SlackPoster)
    try:
        await check_bot_token(slack.client)
    except SlackUnavailable as exc:
        raise ConfigError(Problem(str(exc), exc.variable)) from None
