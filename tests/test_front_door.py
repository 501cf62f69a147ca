"""The web process answers on its own thread: a busy main loop does not hold answers back."""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from adapters.front import FrontDoor, on_loop
from bot.config import ConfigError
from bot.web import WebServer

Serve = Callable[[WebServer], Awaitable[WebServer]]


@pytest.fixture
async def front() -> AsyncIterator[FrontDoor]:
    door = FrontDoor()
    await door.open()
    yield door
    await door.close()


@pytest.fixture
async def serve(front: FrontDoor) -> AsyncIterator[Serve]:
    """Start a server now; stop it at the end of the test, before the front door closes."""
    started: list[WebServer] = []

    async def start(server: WebServer) -> WebServer:
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


async def test_requests_are_answered_while_the_main_loop_is_busy(
    front: FrontDoor, serve: Serve
) -> None:
    server = await serve(WebServer(0, host="127.0.0.1", front=front))
    answered: list[float] = []

    def ask() -> None:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz") as response:
            assert response.status == 200
        answered.append(time.monotonic())

    asker = threading.Thread(target=ask)
    asker.start()
    # The main loop is stuck (a burst of CPU-bound work) until the answer has come.
    deadline = time.monotonic() + 30
    while not answered and time.monotonic() < deadline:
        time.sleep(0.01)  # noqa: ASYNC251 (blocking the loop is the point)
    busy_until = time.monotonic()
    await asyncio.to_thread(asker.join)
    assert answered, "no answer while the main loop was busy"
    assert answered[0] <= busy_until


async def test_work_handed_to_the_main_loop_runs_there(front: FrontDoor, serve: Serve) -> None:
    main = asyncio.get_running_loop()
    ran_on: list[asyncio.AbstractEventLoop] = []

    async def keep() -> str:
        ran_on.append(asyncio.get_running_loop())
        return "kept"

    async def handler(_request: web.Request) -> web.Response:
        return web.Response(text=await on_loop(main, keep()))

    server = WebServer(0, host="127.0.0.1", front=front)
    server.app.router.add_post("/keep", handler)
    await serve(server)

    def post() -> bytes:
        url = f"http://127.0.0.1:{server.port}/keep"
        with urllib.request.urlopen(urllib.request.Request(url, b"", method="POST")) as response:
            return response.read()

    assert await asyncio.to_thread(post) == b"kept"
    assert ran_on == [main] and front.loop is not main


async def test_a_port_in_use_is_one_clear_line_from_the_front_door_too(
    front: FrontDoor, serve: Serve
) -> None:
    first = await serve(WebServer(0, host="127.0.0.1", front=front))
    second = WebServer(first.port, host="127.0.0.1", front=front)
    with pytest.raises(ConfigError) as raised:
        await second.start()
    assert f"PORT {first.port} is in use by another program" in str(raised.value)
