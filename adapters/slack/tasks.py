"""Reply work started by listeners after ``ack()``, as tasks of the bot's event loop.

Tasks are kept referenced, logged when they fail, and waited for (then cancelled) when the
bot stops. They all run at once: work that waits for MyLiveChat's budget waits in the API
client's queue (in order, at no cost), so work that needs no API call (``help``) is never
stuck behind it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

__all__ = ["BackgroundTasks"]

log = logging.getLogger("mlc_bot.slack")


class BackgroundTasks:
    """Runs reply work as tasks of the running loop."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._finishes = asyncio.Event()  # set each time work finishes

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        task = asyncio.get_running_loop().create_task(self._in_turn(work), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    async def _in_turn(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        finally:
            work.close()  # a no-op once run; stops "never awaited" if cancelled before it ran

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._finishes.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    def __len__(self) -> int:
        """Work handed over and not finished yet."""
        return len(self._tasks)

    async def wait_idle(self) -> None:
        """Wait until all work handed over so far has finished."""
        while self._tasks:
            self._finishes.clear()
            await self._finishes.wait()

    async def drain(self, grace: float) -> None:
        """Let work finish for up to ``grace`` seconds, then cancel what is left."""
        try:
            async with asyncio.timeout(grace):
                await self.wait_idle()
        except TimeoutError:
            pending = [task for task in self._tasks if not task.done()]
            for task in pending:
                task.cancel()
            log.warning("cancelled %d Slack reply task(s) still running at shutdown", len(pending))
            if pending:
                await asyncio.wait(pending, timeout=1.0)
