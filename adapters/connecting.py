"""The first connection of an SDK that retries forever, and its retries as one line each.

discord.py's gateway and slack_sdk's Socket Mode client both log every failed attempt
to connect with its whole traceback, then try again, without end. At start that hides a
plain cause (the network, a closed port) behind pages of traceback and never stops; so
:class:`ConnectionAttempts` hands the first failure to the start, which ends with one
line, and once connected turns each retry into one warning line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

__all__ = ["ConnectionAttempts"]


class ConnectionAttempts(logging.Filter):
    """A filter on ``logger`` for its records that start with ``message_start`` and carry an
    exception: the SDK's report of a failed attempt.

    :meth:`attach` it for the connection's life; ``await first(connected)`` at start.
    """

    def __init__(self, logger: logging.Logger, message_start: str, retry_line: str) -> None:
        super().__init__()
        self._logger = logger
        self._start = message_start
        self._retry_line = retry_line
        """A %-format with one ``%s``: the exception's type name."""
        self._failed: asyncio.Future[BaseException] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self) -> None:
        """Start filtering ``logger``'s records (again: no-op)."""
        self._logger.addFilter(self)

    def detach(self) -> None:
        self._logger.removeFilter(self)

    async def first(self, connected: Awaitable[object]) -> BaseException | None:
        """Wait for ``connected``: None once it is done, else why the connection failed (the
        exception of the first failed attempt, or the one ``connected`` raised)."""
        self._loop = asyncio.get_running_loop()
        failed: asyncio.Future[BaseException] = self._loop.create_future()
        done = asyncio.ensure_future(connected)
        self._failed = failed
        try:
            await asyncio.wait({failed, done}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._failed = None
        if done.done():
            return None if done.cancelled() else done.exception()
        done.cancel()
        await asyncio.gather(done, return_exceptions=True)
        return failed.result()

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or not str(record.msg).startswith(self._start):
            return True
        failed = self._failed
        if failed is not None:  # starting: the start reports it, in one line
            self._loop.call_soon_threadsafe(_settle, failed, exc)
            return False
        record.msg, record.args = self._retry_line, (type(exc).__name__,)
        record.exc_info = record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _settle(failed: asyncio.Future[BaseException], exc: BaseException) -> None:
    if not failed.done():
        failed.set_result(exc)
