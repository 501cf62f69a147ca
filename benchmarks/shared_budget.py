"""Several bot processes on one token: the budget shared in Redis, and not.

Run: ``.venv/bin/python benchmarks/shared_budget.py [--processes 3] [--calls 40]
[--limit 20] [--window 4] [--redis-url URL] [--runs 3]``

Each run is the scenario of ``tests/budget/test_processes.py`` (``tests/budget/burst.py``):
``--processes`` real Python processes, each building its API client as every ``mlc-bot``
process does (``bot.compose.build_api_client``), make ``--calls`` concurrent calls at once
on one token against the sandbox (a rolling window of ``--limit`` per ``--window`` s).
Once without ``REDIS_URL`` (each process believes it has the whole budget: the server
refuses what the others spent, and each waits out its ``Retry-After``), once with it.

For each row: the 429s the server sent, the makespan (``go`` to the last result), the
physical bound (the fewest seconds in which the server's window can accept all the calls),
their ratio, and calls that failed. Target with Redis: 0 refused and 0 failed in every run,
and the median ratio of the runs <= 1.15; exit 1 otherwise.

The ratio's floor is how well the window is known: ``X-RateLimit-Reset`` is whole seconds,
so the first answer bounds the window to within a second above, and only an answer alone
in the window (the token idle for a window) tightens it. Each process's estimate after its
first answer (what the burst ran on) and at the end is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.budget.burst import BurstRun, run_burst

TARGET_RATIO = 1.15


def _seconds(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f}"


def _row(name: str, run: BurstRun) -> str:
    windows = ", ".join(f"{_seconds(first)}>{_seconds(last)}" for first, last in run.windows)
    return (
        f"{name:<16} {run.refused:>11} {run.makespan:>10.2f} s {run.bound:>6.1f} s"
        f" {run.ratio:>6.3f} {len(run.failed):>7}   {windows}"
    )


async def measure(args: argparse.Namespace) -> int:
    total = args.processes * args.calls
    print(
        f"{args.processes} processes x {args.calls} calls = {total} on one token,"
        f" {args.limit} per {args.window:g} s rolling window; Redis at {args.redis_url}"
    )
    print(
        f"{'':<16} {'server 429s':>11} {'makespan':>12} {'bound':>8} {'ratio':>6} {'failed':>7}"
        "   window known per process: first answer > end (s)"
    )
    with_redis: list[BurstRun] = []
    for _ in range(args.runs):
        for name, url in (("without Redis", None), ("with REDIS_URL", args.redis_url)):
            run = await run_burst(
                processes=args.processes,
                calls=args.calls,
                limit=args.limit,
                window=args.window,
                redis_url=url,
            )
            print(_row(name, run), flush=True)
            if url:
                with_redis.append(run)
    ratio = statistics.median(r.ratio for r in with_redis)
    refused = sum(r.refused for r in with_redis)
    failed = sum(len(r.failed) for r in with_redis)
    which = "ratio" if args.runs == 1 else f"median ratio of {args.runs} runs"
    print(
        f"with Redis: {which} {ratio:.3f} (target <= {TARGET_RATIO}),"
        f" {refused} refused (target 0), {failed} failed (target 0)"
    )
    ok = ratio <= TARGET_RATIO and refused == 0 and failed == 0
    print("result: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=3, help="bot processes (N)")
    parser.add_argument("--calls", type=int, default=40, help="calls per process")
    parser.add_argument("--limit", type=int, default=20, help="requests per window")
    parser.add_argument("--window", type=float, default=4.0, help="window in seconds")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        help="the Redis the processes share (default: $REDIS_URL, else 127.0.0.1:6379)",
    )
    parser.add_argument("--runs", type=int, default=3, help="repeat both rows this often")
    return asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
