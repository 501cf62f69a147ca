"""One bot process making API calls on the token of its environment, for ``burst.py``.

    python -m tests.budget.burst_worker --calls 40          # a burst of 40 concurrent calls
    python -m tests.budget.burst_worker --until-stop 10     # 10 callers, one call after another

It builds its API client the way every ``mlc-bot`` process does (``bot.compose`` from
``MLC_API_URL``, ``MLC_API_TOKEN``, ``REDIS_URL``), logs like them (stderr), prints
``ready`` and waits for ``go`` on stdin; with ``--until-stop`` it calls until ``stop``.
Then it prints one JSON line: calls completed, the calls that failed, and the window it
had learned after its first answer and at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from bot.compose import build_api_client
from bot.config import Settings
from bot.logs import configure_logging


async def _line() -> str:
    return (await asyncio.to_thread(sys.stdin.readline)).strip()


async def main(calls: int, callers: int) -> None:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    completed = 0
    failed: list[str] = []
    first_window: float | None = None  # the estimate the burst ran on, before any refinement
    async with build_api_client(settings) as client:

        async def call() -> None:
            nonlocal completed, first_window
            try:
                await client.ping()
            except Exception as exc:
                failed.append(f"{type(exc).__name__}: {exc}")
            else:
                completed += 1
                if first_window is None:
                    first_window = client.limiter.window

        print("ready", flush=True)
        if await _line() != "go":
            return
        if callers:
            stop = asyncio.ensure_future(_line())

            async def caller() -> None:
                while not stop.done():
                    await call()

            await asyncio.gather(*(caller() for _ in range(callers)))
        else:
            await asyncio.gather(*(call() for _ in range(calls)))
        windows = [first_window, client.limiter.window]
    print(json.dumps({"completed": completed, "failed": failed, "windows": windows}), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--until-stop", type=int, default=0, metavar="CALLERS")
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.until_stop))
