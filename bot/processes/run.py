"""``mlc-bot run``: the whole bot in one process, for a team with one small machine.

One event loop, one MyLiveChat client (so one rate limiter), one database engine:

- the web part on ``$PORT`` (``/healthz``; Slack's request URL or its Socket Mode
  connection when SLACK_BOT_TOKEN is set; the alert receiver and worker when
  MLC_BOT_SECRET_KEY is set), as ``mlc-bot web``;
- the Discord bot when DISCORD_TOKEN is set, as ``mlc-bot discord``;
- the digest scheduler when there is a platform to post to, as ``mlc-bot scheduler``.

At start it says which parts run and why the others are off. The Procfile keeps the parts
as separate processes for scaling out (README: "Running it for real").
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from ..config import Settings
from ..scheduler.delivery import DigestSender
from ..scheduler.digest_scheduler import DigestScheduler
from .discord import DiscordPart
from .scheduler import POLL_INTERVAL
from .signals import stop_requested
from .web import WebParts

__all__ = ["Plan", "plan", "run_all"]

log = logging.getLogger("mlc_bot.run")


@dataclass(frozen=True)
class Plan:
    """Which parts run, and for the others why not."""

    on: list[str] = field(default_factory=list)
    off: list[str] = field(default_factory=list)


def plan(settings: Settings) -> Plan:
    """What ``mlc-bot run`` starts with these settings (the same rules it starts by)."""
    result = Plan()
    if settings.slack_bot_token is None:
        result.off.append("Slack: SLACK_BOT_TOKEN is not set")
    elif settings.slack_app_token is not None:
        result.on.append("Slack (Socket Mode)")
    else:
        result.on.append(f"Slack (HTTP, :{settings.port}/slack/events)")
    if settings.discord_token is None:
        result.off.append("Discord: DISCORD_TOKEN is not set")
    else:
        result.on.append("Discord")
    if settings.slack_bot_token is None and settings.discord_token is None:
        result.off.append("digests: no platform to post to (SLACK_BOT_TOKEN, DISCORD_TOKEN)")
    else:
        result.on.append("digests")
    if settings.secret_key is None:
        result.off.append("alerts: MLC_BOT_SECRET_KEY is not set (`mlc-bot keygen` makes one)")
    else:
        result.on.append(f"alerts (receiver :{settings.port}/mlc/webhooks)")
    return result


async def run_all(settings: Settings, *, poll_interval: float = POLL_INTERVAL) -> int:
    """Run every part that is configured until SIGINT/SIGTERM. Returns an exit status."""
    chosen = plan(settings)
    for part in chosen.on:
        log.info("running: %s", part)
    for part in chosen.off:
        log.info("off: %s", part)
    web = WebParts.build(settings)
    discord: DiscordPart | None = None
    scheduler: DigestScheduler | None = None
    # Installed before the start: a SIGTERM while starting stops as cleanly.
    with stop_requested() as stopping:
        try:
            await web.start()
            if settings.discord_token is not None:
                discord = DiscordPart(
                    web.core, settings, database=web.database, posters=web.posters
                )
                await discord.start()
            if web.posters:
                store = await web.database.store()
                sender = DigestSender(store, web.core.api, web.posters, metrics=web.metrics)
                scheduler = DigestScheduler(store, sender, poll_interval=poll_interval)
                await scheduler.start()
            log.info("mlc-bot run: %s", ", ".join(chosen.on) or "only /healthz and /metrics")
            waits = [asyncio.ensure_future(stopping.wait())]
            if discord is not None:
                waits.append(asyncio.ensure_future(discord.wait()))
            done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for waiting in pending:
                waiting.cancel()
            if any(w.exception() for w in done if not w.cancelled()):
                return 1
            log.info("stopping")
        finally:
            if scheduler is not None:
                await scheduler.stop()
            if discord is not None:
                await discord.stop()
            await web.stop()
    return 0
