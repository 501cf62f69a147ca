"""The bot's HTTP endpoints (and Socket Mode) on a thread and event loop of their own.

Slack wants every request acknowledged within 3 seconds, and MyLiveChat a webhook delivery
within one. The web process serves its endpoints on this loop, which does nothing but read,
verify, acknowledge and hand work over; replies, API calls and database writes run on the
bot's main loop (see :func:`on_loop` and :class:`.slack.tasks.BackgroundTasks`). A burst of
replies being rendered and sent then cannot hold an acknowledgement back: the front loop gets
the interpreter within one thread switch interval.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["FrontDoor", "on_loop", "running_loop"]

T = TypeVar("T")


class FrontDoor:
    """One thread running one event loop, from :meth:`open` until :meth:`close`."""

    def __init__(self, name: str = "front-door") -> None:
        self._name = name
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop

    async def open(self) -> None:
        """Start the thread; returns once its loop runs."""
        if self._thread is not None:
            raise RuntimeError("the front door is already open")
        started: concurrent.futures.Future[asyncio.AbstractEventLoop] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._serve, args=(started,), name=self._name, daemon=True
        )
        self._thread.start()
        self._loop = await asyncio.wrap_future(started)

    @staticmethod
    def _serve(started: concurrent.futures.Future[asyncio.AbstractEventLoop]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.call_soon(started.set_result, loop)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work()`` on the front loop and return (or raise) what it did."""
        if self._loop is None:
            raise RuntimeError("the front door is not open")
        return await on_loop(self._loop, _awaited(work))

    async def close(self) -> None:
        """Stop the loop and wait for the thread to end (what runs there is stopped first)."""
        thread, loop = self._thread, self._loop
        self._thread = self._loop = None
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join)


def on_loop(
    loop: asyncio.AbstractEventLoop | None, work: Coroutine[Any, Any, T]
) -> asyncio.Future[T]:
    """``work`` running on ``loop`` (the running loop when None, or when it is that loop),
    as a future of the running loop: what needs the main loop's connections runs there."""
    if loop is None or loop is running_loop():
        return asyncio.ensure_future(work)
    return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, loop))


async def _awaited(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The running loop, or None outside one."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
