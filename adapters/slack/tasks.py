"""Reply work started by listeners after ``ack()``: run on the bot's main event loop.

Listeners run on the front door's loop (see :mod:`adapters.front`);
:meth:`BackgroundTasks.spawn` hands their work over to the loop the tasks were bound to.
Tasks are kept referenced, logged when they fail, and waited for (then cancelled) when the
bot stops. They all run at once: work that waits for MyLiveChat's budget waits in the API
client's queue (in order, at no cost), so work that needs no API call (``help``) is never
stuck behind it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from typing import Any

from adapters.front import running_loop

__all__ = ["BackgroundTasks"]

log = logging.getLogger("mlc_bot.slack")


class BackgroundTasks:
    """Runs reply work on one event loop, whichever thread asks."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = threading.Lock()
        self._pending = 0
        self._finishes = asyncio.Event()  # set on the bound loop each time work finishes

    def bind(self) -> None:
        """Run work on the running loop from now on (called on the bot's main loop)."""
        self._loop = asyncio.get_running_loop()

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        with self._lock:
            self._pending += 1
        loop = self._loop
        if loop is None or running_loop() is loop:
            self._start(work, name)
        else:
            loop.call_soon_threadsafe(self._start, work, name)

    def _start(self, work: Coroutine[Any, Any, None], name: str) -> None:
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
        with self._lock:
            self._pending -= 1
        self._finishes.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    def __len__(self) -> int:
        """Work handed over and not finished yet."""
        return self._pending

    async def wait_idle(self) -> None:
        """Wait until all work handed over so far has finished."""
        while self._pending:
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
