"""Real bot processes bursting on one token against one sandbox, with or without Redis.

Shared by ``tests/budget/test_processes.py`` and ``benchmarks/shared_budget.py``. The
parent runs the sandbox (a fresh seed each run, so a fresh token, so fresh Redis keys);
each worker (``burst_worker.py``) is a separate Python process that builds its client with
``bot.compose.build_api_client``, as every ``mlc-bot`` process does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError

from bot.redis_budget import RedisSharedWindow
from bot.sandbox import SandboxServer

__all__ = ["BurstRun", "Worker", "run_burst", "sandbox_for", "workers"]

REPO = Path(__file__).resolve().parents[2]
_DEADLINE = 300.0  # seconds any one wait may take before the run is declared stuck


def physical_bound(calls: int, limit: int, window: float) -> float:
    """The fewest seconds in which the server's window can accept ``calls`` requests: the
    i-th (0-based) cannot be accepted before floor(i / limit) windows have passed."""
    return (math.ceil(calls / limit) - 1) * window


class Worker:
    """One worker process: its stdin, its result line, and every line it logged."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.log: list[str] = []
        self.result: dict[str, Any] | None = None
        self.finished_at: float | None = None
        self._ready = asyncio.Event()
        self._done = asyncio.Event()
        self._readers = [
            asyncio.ensure_future(self._read_stdout()),
            asyncio.ensure_future(self._read_stderr()),
        ]

    @classmethod
    async def start(cls, env: dict[str, str], args: Sequence[str]) -> Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.budget.burst_worker",
            *args,
            cwd=REPO,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode().strip()
            if line == "ready":
                self._ready.set()
            elif line.startswith("{"):
                self.finished_at = time.perf_counter()
                self.result = json.loads(line)
        self._done.set()

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self.log.append(raw.decode().rstrip())

    def logged(self, text: str) -> int:
        """How many of its log lines contain ``text``."""
        return sum(text in line for line in self.log)

    async def ready(self) -> None:
        await self._wait(self._ready, "ready")

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")

    async def finished(self) -> dict[str, Any]:
        await self._wait(self._done, "its result")
        await self.process.wait()
        await asyncio.gather(*self._readers)
        if self.result is None:
            raise RuntimeError(f"worker exited {self.process.returncode}: " + "\n".join(self.log))
        return self.result

    async def _wait(self, event: asyncio.Event, what: str) -> None:
        waiting = asyncio.ensure_future(event.wait())
        exited = asyncio.ensure_future(self.process.wait())
        await asyncio.wait({waiting, exited}, timeout=_DEADLINE, return_when="FIRST_COMPLETED")
        exited.cancel()
        if not event.is_set():
            waiting.cancel()
            if self.process.returncode is None:
                self.process.kill()
            await asyncio.gather(*self._readers, return_exceptions=True)
            raise RuntimeError(f"worker gave no {what}:\n" + "\n".join(self.log))

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


@contextlib.asynccontextmanager
async def sandbox_for(limit: int, window: float) -> AsyncIterator[SandboxServer]:
    """A sandbox with a fresh token (a seed of its own) and the given rolling window."""
    seed = random.randrange(1, 2**31)
    async with SandboxServer(rate_limit=limit, window=window, seed=seed) as sandbox:
        yield sandbox


@contextlib.asynccontextmanager
async def workers(
    sandbox: SandboxServer, n: int, args: Sequence[str], *, redis_url: str | None
) -> AsyncIterator[list[Worker]]:
    """``n`` workers on the sandbox's read,write token, each ready for ``go``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLC_", "REDIS_", "LOG_"))}
    env.update(
        MLC_API_URL=sandbox.url,
        MLC_API_TOKEN=sandbox.tokens.site_a_write,
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    started = await asyncio.gather(*(Worker.start(env, args) for _ in range(n)))
    try:
        await asyncio.gather(*(w.ready() for w in started))
        yield started
    finally:
        for worker in started:
            worker.kill()
        if redis_url:
            await _forget(redis_url, sandbox.tokens.site_a_write)


async def _forget(redis_url: str, token: str) -> None:
    """Delete the token's keys: the machine's Redis is shared by every test run."""
    window = RedisSharedWindow.from_url(redis_url, token)
    with contextlib.suppress(RedisError, OSError):  # a Redis the test stopped
        await window._redis.delete(*window.keys)
    await window.aclose()


@dataclass
class BurstRun:
    """What one burst did."""

    processes: int
    calls: int
    limit: int
    window: float
    makespan: float
    refused: int
    """429s the server sent."""
    completed: int
    failed: list[str] = field(default_factory=list)
    logs: list[list[str]] = field(default_factory=list)
    windows: list[tuple[float | None, float | None]] = field(default_factory=list)
    """The window (seconds) each process knew after its first answer, and at the end."""

    @property
    def total(self) -> int:
        return self.processes * self.calls

    @property
    def bound(self) -> float:
        return physical_bound(self.total, self.limit, self.window)

    @property
    def ratio(self) -> float:
        return self.makespan / self.bound if self.bound else math.nan


async def run_burst(
    *,
    processes: int = 3,
    calls: int = 40,
    limit: int = 20,
    window: float = 4.0,
    redis_url: str | None,
) -> BurstRun:
    """``processes`` workers each make ``calls`` concurrent calls at once on one token."""
    async with (
        sandbox_for(limit, window) as sandbox,
        workers(sandbox, processes, ["--calls", str(calls)], redis_url=redis_url) as started,
    ):
        go = time.perf_counter()
        for worker in started:
            worker.send("go")
        results = [await worker.finished() for worker in started]
        makespan = max(w.finished_at or go for w in started) - go
        return BurstRun(
            processes=processes,
            calls=calls,
            limit=limit,
            window=window,
            makespan=makespan,
            refused=sandbox.rate_limited_count,
            completed=sum(int(r["completed"]) for r in results),
            failed=[f for r in results for f in r["failed"]],
            logs=[w.log for w in started],
            windows=[tuple(r["windows"]) for r in results],
        )
