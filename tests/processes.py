"""Real processes the tests start, kill and stop, each with its output in a log file, and
what such a process (``python -m tests....``) reads at its start: :func:`child_settings`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import IO

import httpx
import pytest

from bot.config import Settings
from bot.logs import configure_logging

__all__ = [
    "MLC_BOT",
    "REPO",
    "ChildProcess",
    "ServingProcess",
    "child_env",
    "child_settings",
    "free_port",
    "processes",
    "python_module",
]

MLC_BOT = Path(sys.executable).with_name("mlc-bot")
REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nothing listens on now, for a server the test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child_env(**values: str) -> dict[str, str]:
    """This environment without the bot's settings (a developer's own must not leak into
    a test's process), plus ``values``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "DISCORD_", "MLC_", "DATABASE_"))
    }
    return env | values


def python_module(module: str) -> list[str]:
    """The command running ``module`` (``python -m``) with the tests' interpreter."""
    return [sys.executable, "-m", module]


class ChildProcess:
    """``command`` in ``cwd`` with ``env``; its output goes to ``log_path``."""

    def __init__(
        self, command: Sequence[str], env: Mapping[str, str], log_path: Path, *, cwd: Path = REPO
    ) -> None:
        self.command = list(command)
        self.env = dict(env)
        self.log_path = log_path
        self.cwd = cwd
        self.process: asyncio.subprocess.Process | None = None
        self._log_file: IO[bytes] | None = None

    async def start(self) -> None:
        self._log_file = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            *self.command, cwd=self.cwd, env=self.env, stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log_file, stderr=self._log_file,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def kill(self) -> None:
        """SIGKILL: no handler, no cleanup, no last write: a crash."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()
        self.close()

    async def stop(self, within: float = 20.0) -> int | None:
        """SIGTERM, as a platform stops a process (SIGKILL after ``within``); its exit status."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), within)
            except TimeoutError:
                await self.kill()
        self.close()
        return self.process.returncode if self.process else None

    def close(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


class ServingProcess(ChildProcess):
    """A process serving ``/healthz`` on its environment's ``PORT``; started once it does."""

    name = "the process"
    """What the failures call it."""

    def __init__(
        self, command: Sequence[str], env: Mapping[str, str], log_path: Path, *, cwd: Path = REPO
    ) -> None:
        super().__init__(command, env, log_path, cwd=cwd)
        self.port = int(self.env["PORT"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        await super().start()
        async with httpx.AsyncClient(timeout=2) as client:
            deadline = time.monotonic() + 30
            while True:
                if not self.running:
                    raise AssertionError(f"{self.name} exited:\n{self.log()[-3000:]}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(self.url + "/healthz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} never served:\n{self.log()[-3000:]}")
                await asyncio.sleep(0.05)


def child_settings() -> tuple[Settings, timedelta, float]:
    """In a test's child process: its settings (logging set up by them), the lease
    (``MLC_TEST_LEASE`` seconds) and the poll interval (``MLC_TEST_POLL``).

    With ``MLC_TEST_DISCORD_API``, discord.py's REST calls go there (it has no setting for
    its base URL, so ``Route.BASE`` is pointed at it).
    """
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    discord_api = os.environ.get("MLC_TEST_DISCORD_API")
    if discord_api:
        from discord.http import Route

        Route.BASE = discord_api
    lease = timedelta(seconds=float(os.environ["MLC_TEST_LEASE"]))
    return settings, lease, float(os.environ["MLC_TEST_POLL"])


@pytest.fixture
async def processes() -> AsyncIterator[list[ChildProcess]]:
    """Every process a test starts (it appends them), killed at the end whatever happened."""
    started: list[ChildProcess] = []
    yield started
    for process in started:
        await process.kill()
