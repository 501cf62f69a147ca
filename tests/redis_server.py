"""Redis for tests: the machine's (``MLC_TEST_REDIS_URL``, default 127.0.0.1:6379), checked
once, and a ``redis-server`` of a test's own that it can stop and start again.

Tests that need Redis skip with the reason when it is unreachable, unless
``MLC_REQUIRE_REDIS=1`` (CI), which makes them fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from functools import cache

import pytest
import redis

__all__ = ["REDIS_URL", "RedisServer", "need_redis", "need_redis_server"]

REDIS_URL = os.environ.get("MLC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _unavailable(reason: str) -> None:
    if os.environ.get("MLC_REQUIRE_REDIS") == "1":
        pytest.fail(f"{reason} (MLC_REQUIRE_REDIS=1: Redis tests must run)", pytrace=False)
    pytest.skip(reason)


@cache
def _reachable(url: str) -> str | None:
    """None when Redis at ``url`` answers PING, else why not."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"Redis at {url} is unreachable ({exc}); set MLC_TEST_REDIS_URL"
    finally:
        client.close()
    return None


def need_redis() -> str:
    """The test Redis's URL, or skip (fail under MLC_REQUIRE_REDIS=1) saying why not."""
    reason = _reachable(REDIS_URL)
    if reason:
        _unavailable(reason)
    return REDIS_URL


def need_redis_server() -> str:
    """The ``redis-server`` program, or skip (fail under MLC_REQUIRE_REDIS=1)."""
    program = shutil.which("redis-server")
    if program is None:
        _unavailable("redis-server is not installed: the tests that stop Redis need one")
    assert program is not None
    return program


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A ``redis-server`` on a free port of 127.0.0.1, nothing saved to disk."""

    def __init__(self, program: str) -> None:
        self.program = program
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        nothing_on_disk = ["--save", "", "--appendonly", "no"]
        self._process = subprocess.Popen(
            [self.program, "--port", str(self.port), "--bind", "127.0.0.1", *nothing_on_disk],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if self._process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server did not start on {self.port}") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        """Stop it at once (SIGKILL): whatever it held is gone."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)
