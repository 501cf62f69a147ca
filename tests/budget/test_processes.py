"""Three real bot processes on one token and one Redis: none refused by the server; Redis
stopped in the middle: no call fails, each says so once, and uses Redis again once back.

The makespan against the physical bound is a benchmark figure: benchmarks/shared_budget.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import redis.asyncio as aioredis

from tests.budget.burst import run_burst, sandbox_for, workers
from tests.redis_server import RedisServer

UNAVAILABLE = "shared rate-limit budget unavailable"
BACK = "shared rate-limit budget is back"
STUCK = 120.0


async def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition``; the deadline is for a stuck run, not a speed requirement."""
    deadline = time.monotonic() + STUCK
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {STUCK:.0f} s waiting: {what}")
        await asyncio.sleep(0.05)


async def test_three_processes_on_one_token_are_never_refused(redis_url: str) -> None:
    run = await run_burst(processes=3, calls=10, limit=10, window=2.0, redis_url=redis_url)
    assert run.failed == []
    assert run.completed == 30, "every call completed"
    assert run.refused == 0, "each process alone would take the whole budget"
    assert run.makespan >= run.bound  # sanity: the server's window let none through early
    for log in run.logs:
        assert not any(UNAVAILABLE in line for line in log), log


async def test_redis_stopped_in_the_middle_no_call_fails(redis_server: RedisServer) -> None:
    async with (
        sandbox_for(limit=10, window=1.0) as sandbox,
        workers(sandbox, 3, ["--until-stop", "4"], redis_url=redis_server.url) as started,
    ):

        def served() -> int:
            return sandbox.count(resource="ping")

        for worker in started:
            worker.send("go")
        await _until(lambda: served() >= 30, "calls go through Redis")
        assert sandbox.rate_limited_count == 0, "while Redis is there, nothing is refused"

        await asyncio.to_thread(redis_server.kill)
        before = served()
        await _until(lambda: all(w.logged(UNAVAILABLE) for w in started), "each one says so")
        await _until(lambda: served() >= before + 30, "calls go on without Redis")

        await asyncio.to_thread(redis_server.start)  # an empty one: it saved nothing
        await _until(lambda: all(w.logged(BACK) for w in started), "each one is back")
        back = served()
        await _until(lambda: served() >= back + 20, "calls go on")
        client = aioredis.Redis(port=redis_server.port)
        try:
            keys = await client.keys("mlc-bot:budget:*:slots")
            assert len(keys) == 1 and await client.zcard(keys[0]) > 0, "Redis is used again"
        finally:
            await client.aclose()

        for worker in started:
            worker.send("stop")
        results = [await worker.finished() for worker in started]

    assert [r["failed"] for r in results] == [[], [], []], "no call fails because Redis did"
    assert all(r["completed"] > 0 for r in results)
    for worker in started:
        assert worker.logged(UNAVAILABLE) == 1, worker.log  # once, not once per call
        assert worker.logged(BACK) == 1, worker.log
        assert not worker.logged("Traceback"), worker.log
