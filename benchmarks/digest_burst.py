"""Many digests due in the same minute: Slack's pace per channel, shared API reads, one post.

Run: ``.venv/bin/python benchmarks/digest_burst.py [--digests 40] [--channels 8]``

Every subscription's run fell due a minute ago, so the scheduler sends them all at start,
through the real Slack poster to the local Slack fake. Two rounds, each on a fresh
SQLite database:

1. one scheduler: the makespan against its bound (Slack's pace of one message a second
   per channel: ceil(digests / channels) - 1 seconds) and the smallest gap between two
   posts in one channel;
2. two schedulers on the same database (started twice by mistake): posts received.

Exits 1 unless every digest is posted exactly once in both rounds, each scheduler read each
kind of figures once for the whole burst (digests due together share one ``GET usage`` and
one ``GET feedback``), no channel saw two posts from one scheduler less than 0.95 s apart, and
the makespan is within the bound plus 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.compose import build_posters
from bot.config import Settings
from bot.mylivechat import MyLiveChatClient
from bot.sandbox import SandboxServer
from bot.scheduler.delivery import DigestSender
from bot.scheduler.digest_scheduler import DigestScheduler
from bot.storage import DigestStore
from commands.digests.content import KINDS
from commands.digests.store import NewSubscription
from tests.fakes.slack_api import FakeSlack

MIN_GAP = 0.95
MARGIN = 2.0


@dataclass
class Round:
    posts: int
    calls: int
    makespan: float
    min_gap: float


async def one_round(digests: int, channels: int, schedulers: int) -> Round:
    now = datetime.now(UTC)
    at = (now - timedelta(minutes=1)).strftime("%H:%M")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'digests.db'}"
        async with SandboxServer(rate_limit=1000) as sandbox, FakeSlack() as slack:
            setup = DigestStore.from_url(url)
            await setup.migrate()
            for i in range(digests):
                kind, channel = ("usage", "feedback")[i % 2], f"C{i % channels:03d}"
                new = NewSubscription("slack", "T0", channel, kind, at, "UTC", "daily", "U1")
                await setup.add(new, now - timedelta(hours=1))
            await setup.aclose()
            settings = Settings.from_env(
                {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_API_URL": slack.url}
            )
            stores = [DigestStore.from_url(url) for _ in range(schedulers)]
            async with MyLiveChatClient(sandbox.tokens.site_a_read, base_url=sandbox.url) as api:
                running = [
                    DigestScheduler(
                        store,
                        DigestSender(
                            store, api, await build_posters(settings), instance=f"scheduler-{n}"
                        ),
                    )
                    for n, store in enumerate(stores)
                ]
                sandbox.clear_requests()
                started = time.perf_counter()
                await asyncio.gather(*(s.catch_up() for s in running))
                makespan = time.perf_counter() - started
            for store in stores:
                await store.aclose()
            posts = slack.calls_to("chat.postMessage")
            calls = len(sandbox.requests)
    per_channel: dict[str, list[float]] = {}
    for call in posts:
        per_channel.setdefault(call.args["channel"], []).append(call.at)
    gaps = [b - a for times in per_channel.values() for a, b in itertools.pairwise(times)]
    return Round(len(posts), calls, makespan, min(gaps) if gaps else math.inf)


async def measure(digests: int, channels: int) -> int:
    single = await one_round(digests, channels, schedulers=1)
    double = await one_round(digests, channels, schedulers=2)
    bound = math.ceil(digests / channels) - 1
    print(f"digests               {digests} due in the same minute, {channels} channels")
    kinds = len(KINDS)
    print(
        f"one scheduler         {single.posts} posts, {single.calls} MyLiveChat calls"
        f"   (target <= {kinds}: one read per kind of digest)"
    )
    print(f"  smallest gap        {single.min_gap:.3f} s in one channel   (target >= {MIN_GAP})")
    print(f"  makespan            {single.makespan:.3f} s   (pace bound {bound} s, target <= +2)")
    print(
        f"two schedulers        {double.posts} posts, {double.calls} MyLiveChat calls"
        f"   (target <= {2 * kinds})"
    )
    ok = (
        single.posts == double.posts == digests
        and single.calls <= kinds
        and double.calls <= 2 * kinds
        and single.min_gap >= MIN_GAP
        and single.makespan <= bound + MARGIN
    )
    print("result                " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digests", type=int, default=40)
    parser.add_argument("--channels", type=int, default=8)
    args = parser.parse_args()
    return asyncio.run(measure(args.digests, args.channels))


if __name__ == "__main__":
    sys.exit(main())
