"""``mlc-bot web`` (Procfile ``web:``): the HTTP side of the bot on ``$PORT``.

It serves, on one port and one event loop:

- Slack's request URL ``/slack/events`` when SLACK_BOT_TOKEN is set (or the Socket Mode
  connection, with SLACK_APP_TOKEN);
- the alert receiver ``/mlc/webhooks`` when MLC_BOT_SECRET_KEY is set, and the alert worker
  that posts what it receives (to Slack and Discord, whichever tokens are set);
- ``/healthz``, and ``/metrics`` (on METRICS_PORT instead, when that is set).

``mlc-bot slack`` is the same process with Slack required. :class:`WebParts` is what
``mlc-bot run`` starts too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from adapters.slack.app import SlackBot
from adapters.slack.server import (
    DRAIN_SECONDS,
    SlackUnavailable,
    SocketMode,
    add_routes,
    quiet_sdk_logs,
    start_bot,
)
from adapters.webhooks import receiver
from commands.core import Core
from commands.ports import Poster
from commands.timefmt import zone

from ..alerts.worker import DEFAULT_LEASE, POLL_SECONDS, AlertWorker
from ..compose import build_core, build_inbox, build_posters, build_seen, close_posters
from ..config import ConfigError, Problem, Settings
from ..metrics import Metrics
from ..storage.lazy import LazyDatabase
from ..web import WebServer, metrics_server
from .signals import stop_requested
from .slack import slack_credentials

__all__ = ["WebParts", "serve"]

log = logging.getLogger("mlc_bot.web")


@dataclass
class WebParts:
    """The parts of the web process, started in order and stopped in reverse."""

    settings: Settings
    core: Core
    database: LazyDatabase
    posters: dict[str, Poster]
    web: WebServer
    metrics: Metrics
    metrics_web: WebServer | None = None
    """The METRICS_PORT server, when that is set to a port of its own."""
    slack: SlackBot | None = None
    socket: SocketMode | None = None
    worker: AlertWorker | None = None
    running: list[str] = field(default_factory=list)
    alert_lease: timedelta = DEFAULT_LEASE
    """How long the alert worker holds a row it posts (the crash tests shorten it)."""
    alert_poll: float = POLL_SECONDS

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        require_slack: bool = False,
        database: LazyDatabase | None = None,
    ) -> WebParts:
        """The parts on ``settings``; ``database`` instead of one on DATABASE_URL (tests give
        one with engine options, e.g. a PostgreSQL schema). Called on the process's event
        loop: with REDIS_URL the core starts hearing the other processes' cache news."""
        if database is None:
            database = LazyDatabase(settings.database_url)
        slack = settings.slack_bot_token is not None or require_slack
        credentials = slack_credentials(settings) if slack else None
        posters: dict[str, Poster] = {}
        core = build_core(settings, database=database, posters=posters, listen=True)
        metrics = Metrics()
        metrics.instrument(core)
        web = WebServer(settings.port, metrics=None if _own_metrics_port(settings) else metrics)
        parts = cls(settings, core, database, posters, web, metrics)
        if credentials is not None:
            # Retries and replays are dropped in whichever process they reach.
            seen = build_seen(settings, database)
            core.close_with(seen.aclose)
            parts.slack = SlackBot(core, credentials, seen=seen)
        return parts

    async def start(self) -> None:
        """Log in where needed, then serve. A ConfigError says what went wrong, in one line."""
        settings = self.settings
        self.posters.update(await build_posters(settings))
        if self.slack is not None:
            quiet_sdk_logs()
            try:
                await start_bot(self.slack)
            except SlackUnavailable as exc:
                raise ConfigError(Problem(str(exc), exc.variable)) from None
            if settings.slack_app_token is None:
                add_routes(self.web.app, self.slack, on_ack=self.metrics.slack_acked)
                self.running.append("Slack (HTTP, /slack/events)")
            self.web.report("replies_in_flight", lambda: len(self.slack.tasks) if self.slack else 0)
        self.worker = AlertWorker(
            self.database,
            self.posters,
            zone=zone(settings.timezone),
            lease=self.alert_lease,
            poll=self.alert_poll,
            metrics=self.metrics,
        )
        inbox = build_inbox(settings, self.database, wake=self.worker.wake)
        if inbox is not None:
            receiver.add_routes(self.web.app, inbox)
            self.running.append(f"the alert receiver ({receiver.RECEIVER_PATH})")
            await self.worker.start()
        await self.web.start()
        if _own_metrics_port(settings):
            self.metrics_web = await metrics_server(self.metrics, settings.metrics_port)
            self.running.append(f"/metrics on :{settings.metrics_port}")
        else:
            self.running.append("/metrics")
        if self.slack is not None and settings.slack_app_token is not None:
            self.socket = SocketMode(
                self.slack, settings.slack_app_token.reveal(), api_url=settings.slack_api_url
            )
            try:
                await self.socket.connect()
            except SlackUnavailable as exc:
                raise ConfigError(Problem(str(exc), exc.variable)) from None
            self.running.append("Slack (Socket Mode)")

    async def stop(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        await self.web.stop()
        if self.metrics_web is not None:
            await self.metrics_web.stop()
        if self.worker is not None:
            await self.worker.stop()
        if self.slack is not None:
            await self.slack.aclose(DRAIN_SECONDS)
        await close_posters(self.posters)
        await self.core.aclose()


def _own_metrics_port(settings: Settings) -> bool:
    """Whether ``/metrics`` is served on a port of its own, rather than on PORT."""
    return settings.metrics_port not in (None, settings.port)


async def serve(settings: Settings, *, require_slack: bool = False) -> int:
    """Serve until SIGINT/SIGTERM. Returns an exit status."""
    parts = WebParts.build(settings, require_slack=require_slack)
    # Installed before the start: a SIGTERM while starting stops as cleanly.
    with stop_requested() as stopping:
        try:
            await parts.start()
            served = ", ".join(parts.running)
            log.info("web process on :%s serving %s", parts.web.port, served)
            await stopping.wait()
            log.info("stopping: finishing replies in flight")
        finally:
            await parts.stop()
    return 0
