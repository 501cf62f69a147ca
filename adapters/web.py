"""Serving an aiohttp application on a port: the one way every HTTP endpoint is served."""

from __future__ import annotations

from aiohttp import web

__all__ = ["listen"]

_SHUTDOWN_SECONDS = 1.0


async def listen(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve ``app`` on ``host:port`` (0 picks a free port); ``cleanup()`` the runner to stop.

    No access log: request lines can carry ids and query strings that are nobody's business.
    """
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_SECONDS)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
