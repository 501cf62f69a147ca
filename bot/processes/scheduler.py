"""``mlc-bot scheduler`` (Procfile ``clock:``): post digests until SIGTERM or SIGINT.

With METRICS_PORT set it serves ``/metrics`` (and ``/healthz``) on it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from commands.ports import Poster

from ..compose import build_api_client, build_posters, close_posters
from ..metrics import Metrics
from ..scheduler.delivery import DigestSender
from ..scheduler.digest_scheduler import DigestScheduler
from ..storage import DEFAULT_LEASE, DigestStore, display_url
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
    """Migrate, then schedule every subscription until told to stop. Returns an exit status.

    ``lease`` is how long a digest's claim holds without renewal (how soon another
    scheduler sends the digests of one that died); expired claims are looked for every
    ``poll_interval`` seconds, like subscription changes.
    """
    # Our own lines say what was posted and why; APScheduler's repeat them every poll.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    api = build_api_client(settings)  # fails first, with a clear message, without a token
    metrics = Metrics()
    api.observer = metrics
    store = DigestStore.from_url(settings.database_url)
    posters: dict[str, Poster] = {}
    metrics_web: WebServer | None = None
    try:
        try:
            await store.migrate()
        except Exception as exc:
            log.error(
                "cannot open the database %s (%s); check DATABASE_URL",
                display_url(settings.database_url),
                type(exc).__name__,
            )
            return 1
        posters = await build_posters(settings)
        if not posters:
            log.error("no platform to post digests to: set SLACK_BOT_TOKEN and/or DISCORD_TOKEN")
            return 2
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
