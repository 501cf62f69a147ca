"""Reply work: handed from the front thread to the main loop, bounded, drained on stop."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from adapters.slack.tasks import BackgroundTasks


async def test_work_spawned_on_another_thread_runs_on_the_bound_loop() -> None:
    tasks = BackgroundTasks()
    tasks.bind()
    main_loop = asyncio.get_running_loop()
    ran_on: list[asyncio.AbstractEventLoop] = []

    async def work() -> None:
        ran_on.append(asyncio.get_running_loop())

    thread = threading.Thread(target=lambda: asyncio.run(_spawn(tasks, work)))
    thread.start()
    await asyncio.to_thread(thread.join)
    await tasks.wait_idle()
    assert ran_on == [main_loop] and len(tasks) == 0


async def _spawn(tasks: BackgroundTasks, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
    tasks.spawn(work(), name="from the front thread")


async def test_a_burst_runs_at_most_limit_at_once_and_all_finish() -> None:
    tasks = BackgroundTasks(limit=3)
    tasks.bind()
    running, peak, done = 0, 0, 0

    async def work() -> None:
        nonlocal running, peak, done
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        done += 1

    for _ in range(10):
        tasks.spawn(work(), name="reply")
    assert len(tasks) == 10
    await tasks.wait_idle()
    assert (peak, done, len(tasks)) == (3, 10, 0)


async def test_drain_cancels_what_outlives_the_grace_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = BackgroundTasks(limit=1)
    tasks.bind()
    tasks.spawn(asyncio.sleep(30), name="stuck reply")
    tasks.spawn(asyncio.sleep(30), name="queued reply")
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING):
        await tasks.drain(0.05)
    assert len(tasks) == 0
    assert "cancelled 2 Slack reply task(s)" in caplog.text
