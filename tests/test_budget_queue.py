"""The rate limiter's queue: order by arrival, estimates, deadlines, cancellation."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.mylivechat import BudgetExhausted, MyLiveChatClient, request_budget
from bot.mylivechat._send_order import SendOrder
from bot.sandbox import SandboxServer

LIMIT, WINDOW = 2, 1.5


@pytest.fixture
async def tight() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(rate_limit=LIMIT, window=WINDOW) as server:
        yield server


@pytest.fixture
async def client(tight: SandboxServer) -> AsyncIterator[MyLiveChatClient]:
    async with MyLiveChatClient(tight.tokens.site_a_write, base_url=tight.url) as api:
        await api.ping()  # learn the budget
        await api.ping()  # and spend it
        yield api


def _limits(sandbox: SandboxServer) -> list[int]:
    return [int(r.query["limit"]) for r in sandbox.requests if r.resource == "handoffs"]


async def test_waiting_requests_go_in_order_of_arrival_not_of_asking(
    tight: SandboxServer, client: MyLiveChatClient
) -> None:
    arrivals = {n: time.monotonic() + n for n in range(1, 7)}  # command n arrived n-th

    async def command(n: int) -> None:
        with request_budget(priority=arrivals[n]):
            await client.list_handoffs(limit=n)

    order = list(arrivals)
    random.Random(7).shuffle(order)  # they ask in another order than they arrived
    tasks = []
    for n in order:
        tasks.append(asyncio.ensure_future(command(n)))
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert _limits(tight) == sorted(arrivals)
    assert tight.rate_limited_count == 0


async def test_the_wait_is_told_once_and_grows_with_the_queue(
    tight: SandboxServer, client: MyLiveChatClient
) -> None:
    told: dict[int, list[float]] = {n: [] for n in range(1, 6)}

    async def command(n: int) -> None:
        with request_budget(on_wait=told[n].append):
            await client.list_handoffs(limit=n)

    tasks = []
    for n in told:
        tasks.append(asyncio.ensure_future(command(n)))
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    waits = [told[n] for n in told]
    assert all(len(w) == 1 for w in waits)  # once each: all had to wait
    estimates = [w[0] for w in waits]
    assert estimates == sorted(estimates) and estimates[-1] > estimates[0]
    assert estimates[-1] >= WINDOW  # five behind a budget of two: at least one more window


async def test_a_request_past_its_deadline_is_not_sent(
    tight: SandboxServer, client: MyLiveChatClient
) -> None:
    with (
        request_budget(deadline=time.monotonic() + 0.05),
        pytest.raises(BudgetExhausted) as caught,
    ):
        await client.list_handoffs(limit=9)
    assert 0 < caught.value.retry_after <= WINDOW + 1
    assert 9 not in _limits(tight)
    await client.list_handoffs(limit=8)  # without a deadline it waits its turn instead
    assert _limits(tight) == [8]


async def test_a_cancelled_waiter_does_not_hold_up_the_queue(
    tight: SandboxServer, client: MyLiveChatClient
) -> None:
    first = asyncio.ensure_future(client.list_handoffs(limit=1))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(client.list_handoffs(limit=2))
    await asyncio.sleep(0)
    first.cancel()
    await second
    assert _limits(tight) == [2]
    assert first.cancelled()


async def test_requests_let_go_together_reach_the_server_in_the_order_they_were_let_go(
    sandbox: SandboxServer,
) -> None:
    # The race seen in CI: one pooled connection is past its keep-alive, another is fresh.
    # The first request let go closes the stale one (an await); the second takes the fresh
    # one meanwhile; the first must open a new connection and would arrive second.
    expiry = 2.0
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(keepalive_expiry=expiry))
    token = sandbox.tokens.site_a_write
    async with MyLiveChatClient(token, base_url=sandbox.url, transport=transport) as api:
        await api.ping()  # learn the budget: later requests go at once
        await asyncio.gather(api.ping(), api.ping())  # two connections, idle from now
        await asyncio.sleep(expiry / 2)
        await api.ping()  # one of them is fresh again
        await asyncio.sleep(expiry / 2 + 0.4)  # the other is past its keep-alive
        sandbox.requests.clear()
        await asyncio.gather(*(api.list_handoffs(limit=n) for n in (1, 2, 3)))

    assert _limits(sandbox) == [1, 2, 3]


async def test_a_request_that_never_starts_sending_holds_the_next_one_only_for_a_while() -> None:
    order = SendOrder(patience=0.01)
    stuck, later = order.take(), order.take()
    started = later.trace("http11.send_request_headers.started", {})
    await asyncio.wait_for(started, timeout=30)  # goes without the first (a hang fails)
    later.close()
    stuck.close()
