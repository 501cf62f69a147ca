"""The web process's HTTP server: the endpoints its parts add, ``/healthz`` and ``/metrics``.

Each part (the Slack app's request URL, the webhook receiver) adds its routes to
:attr:`WebServer.app` before :meth:`WebServer.start`. :func:`metrics_server` is the small
server of a process that serves nothing else over HTTP (``METRICS_PORT``).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from adapters.web import listen

from .config import ConfigError, Problem

if TYPE_CHECKING:
    from .metrics import Metrics

__all__ = ["HEALTH_PATH", "METRICS_PATH", "WebServer", "metrics_server"]

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"


class WebServer:
    """One aiohttp application on one port (0 picks a free one).

    With ``metrics`` it serves them at ``/metrics`` in Prometheus' text format (or
    OpenMetrics, when the scraper asks for it). ``setting`` names the variable that chose
    the port, for the message when it cannot be listened on.
    """

    def __init__(
        self,
        port: int,
        host: str = "0.0.0.0",
        *,
        metrics: Metrics | None = None,
        setting: str = "PORT",
    ) -> None:
        self.app = web.Application()
        self.host = host
        self.port = port
        self.setting = setting
        self._figures: dict[str, Callable[[], object]] = {}
        self._runner: web.AppRunner | None = None
        self.app.router.add_get(HEALTH_PATH, self._health)
        if metrics is not None:
            self.app.router.add_get(METRICS_PATH, make_aiohttp_handler(metrics.registry))

    def report(self, name: str, figure: Callable[[], object]) -> None:
        """Show ``figure()`` under ``name`` in ``/healthz``."""
        self._figures[name] = figure

    async def _health(self, _request: web.Request) -> web.Response:
        return web.json_response({"ok": True, **{k: f() for k, f in self._figures.items()}})

    async def start(self) -> None:
        """Listen; a port that cannot be had is a ConfigError naming the setting."""
        try:
            self._runner = await listen(self.app, self.host, self.port)
        except OSError as exc:
            raise ConfigError(Problem(self._listen_failure(exc), self.setting)) from None
        self.port = self._runner.addresses[0][1]

    def _listen_failure(self, exc: OSError) -> str:
        port, setting = self.port, self.setting
        if exc.errno == errno.EADDRINUSE:
            return (
                f"{setting} {port} is in use by another program: stop it, or set {setting} to a"
                " free port"
            )
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        return (
            f"cannot listen on {setting} {port} ({reason}): set {setting} to a port this user"
            " may open"
        )

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


async def metrics_server(metrics: Metrics, port: int | None) -> WebServer | None:
    """``/metrics`` and ``/healthz`` on ``port`` (``METRICS_PORT``), started; None without a
    port. For the processes that serve nothing else over HTTP (Discord, the scheduler)."""
    if port is None:
        return None
    server = WebServer(port, metrics=metrics, setting="METRICS_PORT")
    await server.start()
    return server
