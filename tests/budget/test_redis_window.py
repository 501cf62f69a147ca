"""The Redis window's scripts on a real Redis: atomic under concurrent reserves, places
that expire a window after their answer, refunds, the learning probe, Retry-After, restore."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from bot.mylivechat import SharedWindowUnavailable
from bot.redis_budget import POLL, RedisSharedWindow
from tests.redis_server import RedisServer

Windows = Callable[..., RedisSharedWindow]


@pytest.fixture
async def windows(redis_url: str) -> AsyncIterator[Windows]:
    """``windows()``: one more process's view of one fresh token's window (own connection)."""
    token = f"mlc_test_{uuid.uuid4().hex}"
    made: list[RedisSharedWindow] = []

    def make(**options: float) -> RedisSharedWindow:
        window = RedisSharedWindow.from_url(redis_url, token, **options)
        made.append(window)
        return window

    yield make
    if made:
        await made[0]._redis.delete(*made[0].keys)
    for window in made:
        await window.aclose()


async def _learned(window: RedisSharedWindow, *, limit: int, seconds: float) -> None:
    """The first request probes, is answered, and teaches the store the budget."""
    probe = await window.reserve("probe", limit=None, window=None)
    assert probe.granted
    await window.record("probe", expires_in=seconds, limit=limit, window=seconds, used=1)


async def test_concurrent_reserves_from_many_processes_grant_exactly_the_limit(
    windows: Windows,
) -> None:
    await _learned(windows(), limit=5, seconds=30.0)
    processes = [windows() for _ in range(5)]
    answers = await asyncio.gather(
        *(
            processes[n % 5].reserve(f"r{n}", limit=5, window=30.0)
            for n in range(60)  # 12 at once from each of five connections
        )
    )
    assert sum(a.granted for a in answers) == 4  # the probe holds the fifth place
    refused = [a for a in answers if not a.granted]
    assert all(0 < a.wait <= 30.0 for a in refused)


async def test_while_nobody_knows_the_limit_one_request_at_a_time_across_processes(
    windows: Windows,
) -> None:
    first, second = windows(), windows()
    assert (await first.reserve("a", limit=None, window=None)).granted
    waiting = await second.reserve("b", limit=None, window=None)
    assert not waiting.granted and waiting.wait == pytest.approx(POLL)
    assert waiting.limit is None and waiting.window is None

    await first.record("a", expires_in=10.0, limit=3, window=10.0, used=1, reset_in=10.0)
    later = await second.reserve("b", limit=None, window=None)
    assert later.granted, "the other process learned the budget: no second probe"
    assert (later.limit, later.window) == (3, 10.0)


async def test_a_place_is_free_again_a_window_after_its_answer(windows: Windows) -> None:
    window = windows()
    await _learned(window, limit=1, seconds=0.4)
    early = await window.reserve("next", limit=1, window=0.4)
    assert not early.granted and 0 < early.wait <= 0.4
    await asyncio.sleep(early.wait + 0.05)
    assert (await window.reserve("next", limit=1, window=0.4)).granted


async def test_a_request_in_flight_holds_its_place_past_the_window(windows: Windows) -> None:
    window = windows(in_flight=30.0)
    await _learned(window, limit=2, seconds=0.2)
    assert (await window.reserve("slow", limit=2, window=0.2)).granted  # never answered
    await asyncio.sleep(0.3)  # the probe's place is free, the slow request's is not
    assert (await window.reserve("a", limit=2, window=0.2)).granted
    held = await window.reserve("b", limit=2, window=0.2)
    assert not held.granted
    assert held.wait == pytest.approx(POLL), "its end is unknown: ask again soon"


async def test_a_refused_request_gives_its_place_back(windows: Windows) -> None:
    window = windows()
    await _learned(window, limit=2, seconds=30.0)
    assert (await window.reserve("x", limit=2, window=30.0)).granted
    assert not (await window.reserve("y", limit=2, window=30.0)).granted
    await window.record("x", expires_in=None)  # a 429: the server did not count it
    assert (await window.reserve("y", limit=2, window=30.0)).granted


async def test_requests_nobody_holds_are_held_until_the_reported_reset(windows: Windows) -> None:
    window = windows()
    await _learned(window, limit=5, seconds=30.0)
    assert (await window.reserve("x", limit=5, window=30.0)).granted
    # The server counts 5 in the window; we hold 2: someone else made 3.
    await window.record("x", expires_in=30.0, limit=5, window=30.0, used=5, reset_in=12.0)
    full = await window.reserve("y", limit=5, window=30.0)
    assert not full.granted and 11.0 < full.wait <= 12.0


async def test_retry_after_holds_back_every_process(windows: Windows) -> None:
    first, second = windows(), windows()
    await _learned(first, limit=100, seconds=30.0)
    await first.block(20.0)
    await first.block(5.0)  # a shorter one does not shorten it
    blocked = await second.reserve("y", limit=100, window=30.0)
    assert not blocked.granted and 19.0 < blocked.wait <= 20.0


async def test_the_smallest_window_learned_wins_and_the_latest_limit(windows: Windows) -> None:
    first, second, late = windows(), windows(), windows()
    await _learned(first, limit=10, seconds=5.0)
    await second.record("probe", expires_in=5.0, limit=12, window=4.5)
    await first.record("probe", expires_in=5.0, limit=12, window=6.0)
    known = await late.reserve("z", limit=None, window=None)
    assert known.granted and (known.limit, known.window) == (12, 4.5)


async def test_keys_are_a_hash_of_the_token_and_expire_when_idle(
    windows: Windows, redis_url: str
) -> None:
    window = windows()
    await _learned(window, limit=3, seconds=2.0)
    await window.block(1.0)
    client = aioredis.Redis.from_url(redis_url)
    try:
        for key in window.keys:
            assert "mlc_test_" not in key
            assert 0 < await client.pttl(key) <= 3_600_000
        assert await client.pttl(window.keys[0]) <= 2_000 + 1  # slots: the last place's expiry
    finally:
        await client.aclose()


async def test_restore_puts_back_places_and_the_others_when_redis_lost_everything(
    redis_server: RedisServer,
) -> None:
    token = f"mlc_test_{uuid.uuid4().hex}"
    window = RedisSharedWindow.from_url(redis_server.url, token)
    try:
        await _learned(window, limit=3, seconds=30.0)
        await asyncio.to_thread(redis_server.kill)
        with pytest.raises(SharedWindowUnavailable):
            await window.reserve("lost", limit=3, window=30.0)
        await asyncio.to_thread(redis_server.start)  # empty: it saved nothing
        # This process holds one answered place and one in flight, and saw one of another's.
        await window.restore([("a", 20.0), ("b", None)], [15.0], limit=3, window=30.0)
        full = await window.reserve("c", limit=None, window=None)
        assert not full.granted and (full.limit, full.window) == (3, 30.0)
        assert 14.0 < full.wait <= 15.0  # the other's request is the first to leave

        # A second process restoring after the first: the store has it all, no double count.
        await window.record("a", expires_in=None)
        await window.restore([], [15.0], limit=3, window=30.0)
        assert (await window.reserve("d", limit=3, window=30.0)).granted
    finally:
        await window.aclose()


async def test_any_redis_failure_is_unavailable_never_another_error() -> None:
    window = RedisSharedWindow.from_url("redis://127.0.0.1:1/0", "mlc_test_nowhere")
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: window.reserve("a", limit=None, window=None),
        lambda: window.record("a", expires_in=1.0, limit=1, window=1.0, used=1, reset_in=1.0),
        lambda: window.block(1.0),
        lambda: window.restore([("a", None)], [1.0], limit=1, window=1.0),
    ]
    try:
        for call in calls:
            with pytest.raises(SharedWindowUnavailable, match=r"127\.0\.0\.1:1\b"):
                await call()
    finally:
        await window.aclose()
    assert window.name == "Redis at 127.0.0.1:1"
