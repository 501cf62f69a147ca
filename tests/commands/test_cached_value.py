"""The cache's single-flight fetch keeps callers in the order they came."""

from __future__ import annotations

import asyncio

from commands.cache import CachedValue


async def test_callers_waiting_for_a_fetch_are_answered_before_a_later_one() -> None:
    # Commands that waited for a lookup (a user's role, say) go on to MyLiveChat's queue
    # before a command that arrived after the lookup finished.
    cache: CachedValue[int] = CachedValue(ttl=60.0)
    release = asyncio.Event()
    order: list[str] = []

    async def fetch() -> int:
        await release.wait()
        return 1

    async def caller(name: str) -> None:
        assert await cache.get(fetch) == 1
        order.append(name)

    early = [asyncio.create_task(caller(f"early {n}")) for n in range(5)]
    await asyncio.sleep(0)  # all five in line, the first fetching
    release.set()
    # Turn by turn (no event would do: the point is where in the loop this lands).
    while cache.peek() is None:  # noqa: ASYNC110 (until the fetch is done; others still wake)
        await asyncio.sleep(0)
    late = asyncio.create_task(caller("late"))
    await asyncio.gather(*early, late)
    assert order == [f"early {n}" for n in range(5)] + ["late"]


async def test_a_caller_cancelled_in_line_leaves_the_fast_path_open() -> None:
    cache: CachedValue[int] = CachedValue(ttl=60.0)
    release = asyncio.Event()
    fetches = 0

    async def fetch() -> int:
        nonlocal fetches
        fetches += 1
        await release.wait()
        return 1

    fetching = asyncio.create_task(cache.get(fetch))
    waiting = asyncio.create_task(cache.get(fetch))
    await asyncio.sleep(0)
    waiting.cancel()
    release.set()
    assert await fetching == 1
    assert await cache.get(fetch) == 1 and fetches == 1
    assert not cache._lock.locked() and cache._waiting == 0
