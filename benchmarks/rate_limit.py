"""How close the client's rate limiter comes to the server's physical bound.

Sends N = 3 x limit concurrent calls on one token to the sandbox (a short
rolling window) and prints the makespan, the physical bound (the fewest
seconds in which the server's window can accept N requests), their ratio and
how many 429s the server sent. Target: ratio <= 1.15 and no 429 surfaced.

    python benchmarks/rate_limit.py [--limit 20] [--window 10] [--factor 3]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time

from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer

TARGET_RATIO = 1.15


async def measure(limit: int, window: float, factor: int) -> int:
    n = factor * limit
    # The i-th request (0-based) cannot be accepted before floor(i / limit) windows have passed.
    bound = (math.ceil(n / limit) - 1) * window
    async with SandboxServer(rate_limit=limit, window=window) as server:
        async with MyLiveChatClient(server.tokens.site_a_write, base_url=server.url) as client:
            started = time.perf_counter()
            outcomes = await asyncio.gather(
                *(client.ping() for _ in range(n)), return_exceptions=True
            )
            makespan = time.perf_counter() - started
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        refused = server.rate_limited_count
    ratio = makespan / bound if bound else float("nan")
    print(f"calls                 {n} on one token ({limit} per {window:g} s rolling window)")
    print(f"makespan              {makespan:.3f} s")
    print(f"physical bound        {bound:.3f} s")
    print(f"ratio                 {ratio:.3f}   (target <= {TARGET_RATIO})")
    print(f"429s sent by server   {refused}")
    print(f"errors to callers     {len(failures)}   (target 0)")
    ok = ratio <= TARGET_RATIO and not failures
    print("result                " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=20, help="requests per window")
    parser.add_argument("--window", type=float, default=10.0, help="window in seconds")
    parser.add_argument("--factor", type=int, default=3, help="N = factor x limit")
    args = parser.parse_args()
    return asyncio.run(measure(args.limit, args.window, args.factor))


if __name__ == "__main__":
    sys.exit(main())
