"""Real ``mlc-bot`` processes for the shared-store tests, each with its log in a file."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import httpx

__all__ = ["MLC_BOT", "BotProcess"]

MLC_BOT = Path(sys.executable).with_name("mlc-bot")
REPO = Path(__file__).resolve().parents[2]


class BotProcess:
    """``mlc-bot <args>`` serving ``/healthz`` on ``PORT`` once started."""

    def __init__(self, args: list[str], env: Mapping[str, str], log_path: Path) -> None:
        self.args = args
        self.env = dict(env)
        self.port = int(self.env["PORT"])
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._log_file = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            str(MLC_BOT), *self.args, cwd=self.log_path.parent, env=self.env,
            stdin=asyncio.subprocess.DEVNULL, stdout=self._log_file, stderr=self._log_file,
        )  # fmt: skip
        async with httpx.AsyncClient(timeout=2) as client:
            deadline = time.monotonic() + 30
            while True:
                if self.process.returncode is not None:
                    raise AssertionError(f"mlc-bot exited:\n{self.log()[-3000:]}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(self.url + "/healthz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise AssertionError(f"mlc-bot never served:\n{self.log()[-3000:]}")
                await asyncio.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no handler, no cleanup, no last write: a crash."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()
        self._close()

    async def stop(self, within: float = 20.0) -> int | None:
        """SIGTERM, as a platform stops a process; its exit status."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), within)
            except TimeoutError:
                await self.kill()
        self._close()
        return self.process.returncode if self.process else None

    def _close(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
