"""Reply work: never held up by other work, drained on stop."""

from __future__ import annotations

import asyncio
import logging

import pytest

from adapters.slack.tasks import BackgroundTasks


async def test_work_that_waits_never_holds_up_other_work() -> None:
    tasks = BackgroundTasks()
    release, quick_done = asyncio.Event(), asyncio.Event()
    finished: list[str] = []

    async def waiting(name: str) -> None:
        await release.wait()
        finished.append(name)

    async def quick() -> None:
        finished.append("quick")
        quick_done.set()

    for index in range(100):
        tasks.spawn(waiting(f"slow {index}"), name="reply")
    tasks.spawn(quick(), name="help")
    await quick_done.wait()
    assert finished == ["quick"] and len(tasks) >= 100  # the slow ones all still wait
    release.set()
    await tasks.wait_idle()
    assert len(finished) == 101 and len(tasks) == 0


async def test_drain_cancels_what_outlives_the_grace_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = BackgroundTasks()
    tasks.spawn(asyncio.sleep(30), name="stuck reply")
    tasks.spawn(asyncio.sleep(30), name="queued reply")
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING):
        await tasks.drain(0.05)
    assert len(tasks) == 0
    assert "cancelled 2 Slack reply task(s)" in caplog.text
