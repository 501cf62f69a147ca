"""Slack's side of the conversation on its own thread and event loop.

Slack wants every request acknowledged within 3 seconds. The HTTP endpoints (or the Socket
Mode connection) run here, on a loop that does nothing but verify, acknowledge and hand work
over; replies are computed on the bot's main loop (see :class:`.tasks.BackgroundTasks`). A
burst of replies being rendered and sent then cannot hold an acknowledgement back: the
front loop gets the interpreter within one thread switch interval.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable

__all__ = ["FrontDoor", "Teardown"]

Teardown = Callable[[], Awaitable[None]]


class FrontDoor:
    """One thread running one event loop for a ``setup`` until :meth:`stop`."""

    def __init__(self, name: str = "slack-front") -> None:
        self._name = name
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    async def start(self, setup: Callable[[], Awaitable[Teardown]]) -> None:
        """Run ``setup()`` on the front loop; its result runs there on :meth:`stop`.

        Returns once ``setup`` finished, raising what it raised.
        """
        if self._thread is not None:
            raise RuntimeError("the front door is already open")
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run, args=(setup, ready), name=self._name, daemon=True
        )
        self._thread.start()
        try:
            await asyncio.wrap_future(ready)
        except BaseException:
            await asyncio.to_thread(self._thread.join)
            self._thread = None
            raise

    def _run(
        self, setup: Callable[[], Awaitable[Teardown]], ready: concurrent.futures.Future[None]
    ) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
            try:
                teardown = await setup()
            except BaseException as exc:
                ready.set_exception(exc)
                return
            ready.set_result(None)
            await self._stopping.wait()
            await teardown()

        asyncio.run(main())

    async def stop(self) -> None:
        """Run the teardown on the front loop and wait for the thread to end."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        await asyncio.to_thread(thread.join)
