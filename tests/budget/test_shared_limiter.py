"""The rate limiter on a shared window in Redis, in one process: several limiters of one
token stay within its budget together, keep their own queue order, fall back to their own
mirror when Redis goes away (saying so once) and use Redis again when it is back."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.compose import build_api_client
from bot.config import ConfigError, Settings
from bot.mylivechat import MyLiveChatClient, RateLimiter, request_budget
from bot.redis_budget import RedisSharedWindow
from bot.sandbox import SandboxServer
from bot.secrets import redact
from tests.redis_server import RedisServer

UNAVAILABLE = "shared rate-limit budget unavailable"
BACK = "shared rate-limit budget is back"


@pytest.fixture
async def tight() -> AsyncIterator[SandboxServer]:
    """A small window, and a token no other test has used (a seed of its own)."""
    async with SandboxServer(rate_limit=5, window=1.5, seed=random.randrange(2**31)) as server:
        yield server


def _client(sandbox: SandboxServer, redis_url: str, **limiter: float) -> MyLiveChatClient:
    """A client with a limiter of its own on the token's shared window: another process."""
    token = sandbox.tokens.site_a_write
    shared = RedisSharedWindow.from_url(redis_url, token)
    return MyLiveChatClient(
        token,
        base_url=sandbox.url,
        limiter=RateLimiter(shared=shared, **limiter),
        shared_window=shared,
    )


async def test_limiters_of_one_token_on_one_shared_window_are_never_refused(
    tight: SandboxServer, redis_url: str
) -> None:
    processes = [_client(tight, redis_url) for _ in range(3)]
    try:
        results = await asyncio.gather(*(p.ping() for p in processes for _ in range(6)))
    finally:
        for p in processes:
            await p.aclose()
    assert len(results) == 18 and all(r.pong for r in results)
    assert tight.rate_limited_count == 0, "each alone would spend the whole budget"
    assert all(p.limiter.shared_in_use for p in processes)
    assert {p.limiter.limit for p in processes} == {5}, "the others learned it from the store"


async def test_waiting_requests_still_go_in_order_of_arrival(redis_url: str) -> None:
    # One request per window, so each goes alone: the order they reach the API is the
    # order they were let through (two let through together may overtake on the wire).
    async with SandboxServer(rate_limit=1, window=0.5, seed=random.randrange(2**31)) as one:
        client = _client(one, redis_url)
        other = _client(one, redis_url)
        try:
            await other.ping()  # another process spends the budget
            arrivals = {n: time.monotonic() + n for n in range(1, 6)}
            order = list(arrivals)
            random.Random(3).shuffle(order)

            async def command(n: int) -> None:
                with request_budget(priority=arrivals[n]):
                    await client.list_handoffs(limit=n)

            tasks = []
            for n in order:
                tasks.append(asyncio.ensure_future(command(n)))
                await asyncio.sleep(0)
            await asyncio.gather(*tasks)
        finally:
            await client.aclose()
            await other.aclose()
    assert order != sorted(order), "they asked in another order than they arrived"
    sent = [int(r.query["limit"]) for r in one.requests if r.resource == "handoffs"]
    assert sent == sorted(arrivals)
    assert one.rate_limited_count == 0


async def test_an_answer_without_budget_headers_teaches_no_process_anything(
    tight: SandboxServer, redis_url: str
) -> None:
    tight.inject_fault("502")  # the first answer: a proxy's page, no X-RateLimit-* headers
    processes = [_client(tight, redis_url) for _ in range(2)]
    try:
        results = await asyncio.gather(*(p.ping() for p in processes for _ in range(6)))
        shared = processes[0].limiter.shared
        assert isinstance(shared, RedisSharedWindow)
        learned = await shared._redis.hgetall(shared.keys[1])
    finally:
        for p in processes:
            await p.aclose()
    assert len(results) == 12
    assert tight.rate_limited_count == 0
    assert float(learned[b"window"]) >= 1500, "the window the headers tell, not 'no limit'"
    assert all(p.limiter.window is not None and p.limiter.window >= 1.5 for p in processes)


async def test_redis_going_away_and_coming_back(
    tight: SandboxServer, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mlc_bot.api")
    client = _client(tight, redis_server.url, shared_retry=0.3)
    key = client.limiter.shared.keys[0]  # type: ignore[union-attr]
    try:
        await asyncio.gather(*(client.ping() for _ in range(6)))
        assert client.limiter.shared_in_use

        await asyncio.to_thread(redis_server.kill)
        during = await asyncio.gather(*(client.ping() for _ in range(8)))
        assert all(r.pong for r in during), "no call fails because Redis did"
        assert not client.limiter.shared_in_use
        assert tight.rate_limited_count == 0, "its own mirror holds the budget meanwhile"

        await asyncio.to_thread(redis_server.start)  # empty: it saved nothing
        await asyncio.sleep(0.4)  # past the retry interval
        after = await asyncio.gather(*(client.ping() for _ in range(4)))
        assert all(r.pong for r in after)
        assert client.limiter.shared_in_use
        with redis_server.client() as redis:
            assert redis.zcard(key) >= 4, "its places are in Redis again"
    finally:
        await client.aclose()
    messages = [r.getMessage() for r in caplog.records]
    assert sum(UNAVAILABLE in m for m in messages) == 1, messages
    assert sum(BACK in m for m in messages) == 1, messages
    (down,) = [r for r in caplog.records if UNAVAILABLE in r.getMessage()]
    assert down.levelno == logging.WARNING
    assert f"127.0.0.1:{redis_server.port}" in down.getMessage()
    assert "using this process's own" in down.getMessage()


async def test_redis_unreachable_from_the_start_costs_no_call(
    tight: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mlc_bot.api")
    client = _client(tight, "redis://127.0.0.1:1/0")
    try:
        results = await asyncio.gather(*(client.ping() for _ in range(8)))
    finally:
        await client.aclose()
    assert all(r.pong for r in results)
    assert tight.rate_limited_count == 0
    assert sum(UNAVAILABLE in r.getMessage() for r in caplog.records) == 1


async def test_build_api_client_shares_the_budget_only_with_redis_url(
    sandbox: SandboxServer, redis_url: str
) -> None:
    env = {"MLC_API_URL": sandbox.url, "MLC_API_TOKEN": sandbox.tokens.site_a_write}
    async with build_api_client(Settings.from_env(env)) as alone:
        await alone.ping()
        assert alone.limiter.shared is None

    password = f"pw{uuid.uuid4().hex[:8]}"
    with_password = redis_url.replace("redis://", f"redis://:{password}@")
    settings = Settings.from_env({**env, "REDIS_URL": with_password})
    assert password not in repr(settings)
    assert password not in redact(f"connecting to {with_password}"), "log lines redact it"
    async with build_api_client(settings) as shared:
        window = shared.limiter.shared
        assert isinstance(window, RedisSharedWindow)
        assert password not in window.name and password not in repr(window)
        assert all(sandbox.tokens.site_a_write not in key for key in window.keys)


def test_a_redis_url_that_is_not_one_says_what_to_type() -> None:
    with pytest.raises(ConfigError, match="redis://localhost:6379/0") as info:
        Settings.from_env({"REDIS_URL": "http://user:s3cret@cache:6379"})
    assert "s3cret" not in str(info.value)
