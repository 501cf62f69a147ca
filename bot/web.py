"""The web process's HTTP server: the endpoints its parts add, and ``/healthz``.

Each part (the Slack app's request URL, and later the webhook receiver and ``/metrics``)
adds its routes to :attr:`WebServer.app` before :meth:`WebServer.start`.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from adapters.web import listen

__all__ = ["HEALTH_PATH", "WebServer"]

HEALTH_PATH = "/healthz"


class WebServer:
    """One aiohttp application on one port (0 picks a free one)."""

    def __init__(self, port: int, host: str = "0.0.0.0") -> None:
        self.app = web.Application()
        self.host = host
        self.port = port
        self._figures: dict[str, Callable[[], object]] = {}
        self._runner: web.AppRunner | None = None
        self.app.router.add_get(HEALTH_PATH, self._health)

    def report(self, name: str, figure: Callable[[], object]) -> None:
        """Show ``figure()`` under ``name`` in ``/healthz``."""
        self._figures[name] = figure

    async def _health(self, _request: web.Request) -> web.Response:
        return web.json_response({"ok": True, **{k: f() for k, f in self._figures.items()}})

    async def start(self) -> None:
        self._runner = await listen(self.app, self.host, self.port)
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
