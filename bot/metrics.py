"""The process's metrics, in Prometheus' format: what the bot did and how long it waited.

One :class:`Metrics` per process, on its own registry (not prometheus_client's global one,
so tests can build several side by side). The floors below know nothing of Prometheus:
they call neutral hooks, which :class:`Metrics` implements:

- the API client's :class:`~bot.mylivechat.RequestObserver`: every attempt's answer (or
  the code of the failure that left it unanswered) and the seconds it waited for the budget;
- the core's :class:`~commands.ports.CommandObserver`: each command's name and outcome;
- the Slack adapter's ``on_ack``: seconds from a request's arrival to its answer;

and the application counts the digests (:mod:`bot.scheduler.delivery`) and alerts
(:mod:`bot.alerts.worker`) it posts. ``/metrics`` is served by :class:`bot.web.WebServer`.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

if TYPE_CHECKING:
    from commands.core import Core

__all__ = ["Metrics"]

# A `_created` gauge beside every counter and histogram doubles the text format for
# figures Prometheus itself does not use (it works from resets).
disable_created_metrics()

_ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
"""Seconds; Slack gives up on an answer after 3."""
_WAIT_BUCKETS = (0.01, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0)
"""Seconds; a command may wait up to its reply's lifetime (Slack's response URL: 30 min)."""
_API_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)


class Metrics:
    """The counters and histograms of one process, and the hooks that move them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        counter = partial(Counter, registry=registry)
        histogram = partial(Histogram, registry=registry)
        self.commands = counter(
            "mlc_bot_commands",
            "Commands run, by name and outcome (ok, usage, denied, api, unknown, input,"
            " internal, cancelled).",
            ["command", "outcome"],
        )
        self.api_requests = counter(
            "mlc_bot_api_requests",
            "MyLiveChat API attempts (retries count one each), by resource, method and HTTP"
            " status, or the error code when no answer came (timeout, connection_error, ...).",
            ["resource", "method", "status"],
        )
        self.api_seconds = histogram(
            "mlc_bot_api_request_seconds",
            "MyLiveChat API round trips, rate-limit waits excluded.",
            buckets=_API_BUCKETS,
        )
        self.rate_limited = counter(
            "mlc_bot_api_rate_limited",
            "MyLiveChat answers 429: requests the server refused for the rate limit.",
        )
        self.budget_wait = histogram(
            "mlc_bot_budget_wait_seconds",
            "Seconds each API attempt waited for the token's rate limit before it was sent.",
            buckets=_WAIT_BUCKETS,
        )
        self.slack_ack = histogram(
            "mlc_bot_slack_ack_seconds",
            "Seconds from a Slack request's arrival to the bot's answer.",
            buckets=_ACK_BUCKETS,
        )
        self.digests = counter(
            "mlc_bot_digests",
            "Digest runs, by outcome (posted, failed, duplicate, lease-lost, channel-gone,"
            " skipped, no-poster, error).",
            ["outcome"],
        )
        self.alerts = counter(
            "mlc_bot_alerts",
            "Alert posts and reminders, by outcome (posted, found, failed, unknown, reminded,"
            " reminder_failed, reminder_unknown).",
            ["outcome"],
        )

    def instrument(self, core: Core) -> None:
        """Count the commands ``core`` runs and the API requests its client makes."""
        core.dispatcher.observer = self
        core.api.observer = self

    # -- the API client's RequestObserver ----------------------------------------------------

    def request_done(self, method: str, resource: str, status: str, seconds: float) -> None:
        self.api_requests.labels(resource=resource, method=method, status=status).inc()
        self.api_seconds.observe(seconds)
        if status == "429":
            self.rate_limited.inc()

    def budget_waited(self, seconds: float) -> None:
        self.budget_wait.observe(seconds)

    # -- the core's CommandObserver --------------------------------------------------------

    def command_done(self, command: str, outcome: str) -> None:
        self.commands.labels(command=command, outcome=outcome).inc()

    # -- the application's own ---------------------------------------------------------------

    def slack_acked(self, seconds: float) -> None:
        self.slack_ack.observe(seconds)

    def digest(self, outcome: str) -> None:
        self.digests.labels(outcome=outcome).inc()

    def alert(self, outcome: str) -> None:
        self.alerts.labels(outcome=outcome).inc()
