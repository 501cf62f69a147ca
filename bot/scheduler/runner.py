"""``mlc-bot scheduler`` (Procfile ``clock:``): post digests until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.storage import DEFAULT_LEASE, DigestStore, display_url

from .delivery import DigestSender
from .digest_scheduler import DigestScheduler
from .posting import Poster, close_poster

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = ["build_posters", "run"]

log = logging.getLogger("mlc_bot.digests")

POLL_INTERVAL = 10.0
"""Seconds between checks for subscriptions added, changed or removed by the bot process."""


async def build_posters(settings: Settings) -> dict[str, Poster]:
    """A poster for each platform whose bot token is set."""
    posters: dict[str, Poster] = {}
    if settings.slack_bot_token:
        from adapters.slack.poster import SlackPoster

        posters["slack"] = SlackPoster.from_settings(settings)
    if settings.discord_token:
        from adapters.discord.poster import DiscordPoster

        posters["discord"] = await DiscordPoster.from_settings(settings)
    return posters


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
    from bot.wiring import build_api_client

    # Our own lines say what was posted and why; APScheduler's repeat them every poll.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    api = build_api_client(settings)  # fails first, with a clear message, without a token
    store = DigestStore.from_url(settings.database_url)
    posters: dict[str, Poster] = {}
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
        sender = DigestSender(store, api, posters, lease=lease)
        scheduler = DigestScheduler(store, sender, poll_interval=poll_interval)
        stop = _stop_event()
        log.info(
            "posting digests to %s from %s",
            ", ".join(sorted(posters)),
            display_url(settings.database_url),
        )
        await scheduler.start()
        await stop.wait()
        log.info("stopping the digest scheduler")
        await scheduler.stop()
        return 0
    finally:
        for poster in posters.values():
            await close_poster(poster)
        await api.aclose()
        await store.aclose()


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # Windows has no signal handlers
            loop.add_signal_handler(sig, stop.set)
    return stop
