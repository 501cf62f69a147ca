"""How fast the Discord adapter defers ``/mlc`` interactions while MyLiveChat is slow.

Run: ``.venv/bin/python benchmarks/discord_defer.py [--interactions 100] [--burst 25]``

Discord drops an interaction that is not acknowledged within 3 s. The adapter defers
(callback type 5) before any I/O and follows up when the command is done; this measures,
per interaction, the time from its ``INTERACTION_CREATE`` leaving the gateway to the defer
callback (``POST /interactions/{id}/{token}/callback``) and to the follow-up (``POST
/webhooks/{app_id}/{token}``) arriving at Discord.

What is real and what is simulated:

- real: the bot process. It runs ``bot.cli.main(["discord"])``, the code of ``mlc-bot
  discord`` (settings from its environment, ``bot.processes.discord.run``, ``MlcBot``,
  ``InteractionHandler``, the command core, ``MyLiveChatClient`` with its rate limiter),
  with discord.py's real HTTP client and gateway client. The only change is that
  discord.py's two base URLs (``discord.http.Route.BASE`` and
  ``DiscordWebSocket.DEFAULT_GATEWAY``) point at the fake, as ``FakeDiscord.installed()``
  does in the tests. Everything travels over TCP on 127.0.0.1.
- simulated: Discord, by ``tests/fakes/discord_api.py`` (REST and a minimal gateway:
  HELLO, IDENTIFY -> READY, events pushed with ``FakeDiscord.dispatch``; it has no rate
  limits). MyLiveChat, by the sandbox (``bot.sandbox.SandboxServer``), which answers every
  API call after 1 s, its rate limit raised to 1000 a minute so that the client's limiter
  holds nothing back. The interactions are the payloads the tests use
  (``tests/discord/payloads.slash``): ``/mlc usage``, ``/mlc handoffs limit:5`` and ``/mlc
  tags list``, from 10 members of one guild the bot has no cache of.

Two processes, so that the bot's work does not show up in the clock that measures it: this
one runs the sandbox and the fake Discord and timestamps both ends (``time.monotonic`` just
before an event is written to the gateway socket; the fake's receipt time of each REST
request); the bot runs in a child process (this script with ``--bot``). The interactions
are sent in bursts (25 back to back, a burst every second, so each burst arrives while the
previous one's MyLiveChat answers come back and its follow-ups go out). One unmeasured
``/mlc usage`` warms the bot first, as any running bot is warm.

The same bursts are first sent to a bare gateway client (``--bare``: aiohttp, which only
posts the defer callback for each event): what it measures is this host's floor, printed
beside the bot's figures.

Exits 1 unless every interaction is deferred (type 5), p99 defer latency is under the 100 ms
target (max under Discord's 3000 ms), every follow-up is delivered without an error, Discord
refused no body, and the bot exits cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.sandbox import SandboxServer
from tests.discord import payloads
from tests.fakes.discord_api import DiscordRequest, FakeDiscord

API_LATENCY = 1.0
RATE_LIMIT = 1000
DISCORD_BOUND_MS = 3000.0
TARGET_P99_MS = 100.0
USERS = 10
MIX: list[tuple[str, dict[str, Any]]] = [
    ("usage", {}),
    ("handoffs", {"limit": 5}),
    ("usage", {}),
    ("tags list", {}),
]
DISCORD_TOKEN = "bench-discord-token.0123456789"
START_WAIT_S = 20.0
SETTLE_WAIT_S = 20.0
TOTAL_BOUND_S = 58.0


# --- child processes ----------------------------------------------------------------------------


def run_bot(rest_url: str, gateway_url: str) -> int:
    """``mlc-bot discord`` with discord.py pointed at the fake (what ``installed()`` does)."""
    import yarl
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    from bot.cli import main as cli_main

    Route.BASE = rest_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    return cli_main(["discord"])


async def run_bare(rest_url: str, gateway_url: str) -> None:
    """A gateway client that only defers each interaction: the floor of this harness."""
    import aiohttp

    headers = {"Authorization": f"Bot {DISCORD_TOKEN}"}
    pending: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession(headers=headers) as session:

        async def defer(data: dict[str, Any]) -> None:
            url = f"{rest_url}/interactions/{data['id']}/{data['token']}/callback"
            body = {"type": 5, "data": {"flags": 64}}
            async with session.post(url, json=body) as response:
                await response.read()

        async with session.ws_connect(gateway_url) as socket:
            await socket.receive_json()  # HELLO
            await socket.send_json({"op": 2, "d": {"token": DISCORD_TOKEN, "properties": {}}})
            async for message in socket:
                event = json.loads(message.data)
                if event.get("t") == "INTERACTION_CREATE":
                    task = asyncio.create_task(defer(event["d"]))
                    pending.add(task)
                    task.add_done_callback(pending.discard)


# --- the harness --------------------------------------------------------------------------------


@dataclass
class Round:
    """What Discord received for one round of interactions."""

    plan: list[dict[str, Any]]
    sent: dict[str, float] = field(default_factory=dict)
    callbacks: dict[str, DiscordRequest] = field(default_factory=dict)
    followups: dict[str, DiscordRequest] = field(default_factory=dict)
    delivery_s: float = 0.0

    def defer_ms(self) -> list[float]:
        return [
            (self.callbacks[i].at - at) * 1000 for i, at in self.sent.items() if i in self.callbacks
        ]

    def followup_ms(self) -> list[float]:
        return [
            (self.followups[p["token"]].at - self.sent[p["id"]]) * 1000
            for p in self.plan
            if p["token"] in self.followups
        ]


def make_plan(count: int) -> list[dict[str, Any]]:
    kinds = itertools.islice(itertools.cycle(MIX), count)
    return [
        payloads.slash(words, dict(options), user_id=payloads.MEMBER_ID + i % USERS)
        for i, (words, options) in enumerate(kinds)
    ]


def _index(fake: FakeDiscord, result: Round) -> None:
    """The first defer callback per interaction id and follow-up per token, in one pass."""
    result.callbacks.clear()
    result.followups.clear()
    for request in fake.requests:
        if request.method != "POST":
            continue
        parts = request.path.strip("/").split("/")
        if parts[0] == "interactions" and parts[-1] == "callback":
            result.callbacks.setdefault(parts[1], request)
        elif parts[0] == "webhooks" and len(parts) == 3:
            result.followups.setdefault(parts[2], request)


async def deliver(fake: FakeDiscord, result: Round, burst: int, interval: float) -> None:
    """Push the plan through the gateway: ``burst`` events back to back every ``interval`` s."""
    began = time.monotonic()
    for number, start in enumerate(range(0, len(result.plan), burst)):
        await asyncio.sleep(max(0.0, began + number * interval - time.monotonic()))
        for payload in result.plan[start : start + burst]:
            result.sent[payload["id"]] = time.monotonic()
            await fake.dispatch("INTERACTION_CREATE", payload)
    result.delivery_s = time.monotonic() - began


async def settle(fake: FakeDiscord, result: Round, *, followups: bool, within: float) -> None:
    """Wait (polling cheaply) until every callback, and follow-up if asked, has arrived."""
    deadline = time.monotonic() + within
    want = len(result.plan)
    while time.monotonic() < deadline:
        _index(fake, result)
        if len(result.callbacks) >= want and (not followups or len(result.followups) >= want):
            return
        await asyncio.sleep(0.05)
    _index(fake, result)


async def _wait_identified(fake: FakeDiscord, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + START_WAIT_S
    while not fake.identified.is_set():
        if process.returncode is not None:
            raise SystemExit(f"the client process exited with status {process.returncode}")
        if time.monotonic() > deadline:
            raise SystemExit(f"the client did not connect to the fake gateway in {START_WAIT_S} s")
        await asyncio.sleep(0.05)


async def _spawn(mode: str, fake: FakeDiscord, env: dict[str, str], log: Any) -> Any:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        mode,
        fake.url,
        fake.gateway_url,
        env=env,
        stdout=log,
        stderr=log,
    )


async def _stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
    return process.returncode if process.returncode is not None else -1


async def floor_round(count: int, burst: int, interval: float, log: Any) -> Round:
    """The same bursts against a client that only defers."""
    result = Round(make_plan(count))
    async with FakeDiscord(application_id=payloads.APPLICATION_ID) as fake:
        process = await _spawn("--bare", fake, dict(os.environ), log)
        try:
            await _wait_identified(fake, process)
            warm = Round(make_plan(1))
            await deliver(fake, warm, 1, 0.0)
            await settle(fake, warm, followups=False, within=5)
            fake.clear()
            await deliver(fake, result, burst, interval)
            await settle(fake, result, followups=False, within=SETTLE_WAIT_S)
        finally:
            await _stop(process)
    return result


@dataclass
class BotRun:
    result: Round
    mylivechat: Counter[str]
    rate_limited: int
    refused: int
    errors: int
    titles: Counter[str]
    exit_status: int


async def bot_round(count: int, burst: int, interval: float, log: Any) -> BotRun:
    result = Round(make_plan(count))
    with tempfile.TemporaryDirectory() as folder:
        async with (
            SandboxServer(rate_limit=RATE_LIMIT, window=60.0, latency=API_LATENCY) as sandbox,
            FakeDiscord(application_id=payloads.APPLICATION_ID) as fake,
        ):
            fake.token = DISCORD_TOKEN
            env = {k: v for k, v in os.environ.items() if not k.startswith(("MLC_", "DISCORD_"))}
            env.update(
                MLC_API_URL=sandbox.url,
                MLC_API_TOKEN=sandbox.tokens.site_a_write,
                DISCORD_TOKEN=DISCORD_TOKEN,
                DATABASE_URL=f"sqlite:///{folder}/bench.db",
                LOG_LEVEL="WARNING",
            )
            process = await _spawn("--bot", fake, env, log)
            try:
                await _wait_identified(fake, process)
                warm = Round(make_plan(1))
                await deliver(fake, warm, 1, 0.0)
                await settle(fake, warm, followups=True, within=10)
                if not warm.followups:
                    raise SystemExit("the warm-up /mlc usage got no follow-up")
                fake.clear()
                sandbox.clear_requests()
                refused_before = len(fake.refused)
                rate_limited_before = sandbox.rate_limited_count
                await deliver(fake, result, burst, interval)
                await settle(fake, result, followups=True, within=SETTLE_WAIT_S)
            finally:
                exit_status = await _stop(process)
            calls = Counter(f"{r.method} {r.resource}" for r in sandbox.requests)
            rate_limited = sandbox.rate_limited_count - rate_limited_before
            refused = len(fake.refused) - refused_before
    titles: Counter[str] = Counter()
    errors = 0
    for request in result.followups.values():
        embeds = (request.json or {}).get("embeds") or [{}]
        footer = (embeds[-1].get("footer") or {}).get("text") or ""
        titles[embeds[0].get("title") or "(no title)"] += 1
        errors += request.status != 200 or "Error code:" in footer
    return BotRun(result, calls, rate_limited, refused, errors, titles, exit_status)


def _percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (nan when there is nothing to rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def _spread(values: list[float]) -> str:
    if not values:
        return "none"
    return (
        f"p50 {statistics.median(values):.1f} ms, p99 {_percentile(values, 99):.1f} ms, "
        f"max {max(values):.1f} ms"
    )


async def main(count: int, burst: int, interval: float) -> int:
    with tempfile.TemporaryFile() as log:
        floor = await floor_round(count, burst, interval, log)
        run = await bot_round(count, burst, interval, log)
        log.seek(0)
        child_log = log.read().decode(errors="replace")

    result = run.result
    defers = result.defer_ms()
    deferred = sum(1 for r in result.callbacks.values() if (r.json or {}).get("type") == 5)
    followups = result.followup_ms()
    mix = Counter(words for words, _ in itertools.islice(itertools.cycle(MIX), count))
    print(
        f"Discord defer benchmark: {count} `/mlc` interactions over the fake gateway "
        f"({', '.join(f'{w} {n}' for w, n in mix.items())}), {burst} at once every {interval:g} s"
    )
    print(
        f"  MyLiveChat sandbox answers every call after {API_LATENCY:.1f} s (rate limit raised "
        f"to {RATE_LIMIT}/60 s); the bot (`mlc-bot discord`'s code) in its own process"
    )
    print(
        f"  defer latency: {_spread(defers)} "
        f"(Discord's bound {DISCORD_BOUND_MS:.0f} ms; target p99 < {TARGET_P99_MS:.0f} ms)"
    )
    print(
        f"  a bare gateway client that only defers: {_spread(floor.defer_ms())} (this host's floor)"
    )
    print(f"  deferred (type 5): {deferred}/{count}, all dispatched in {result.delivery_s:.2f} s")
    print(
        f"  follow-ups delivered: {len(followups)}/{count} ({run.errors} with an error), "
        f"latency {_spread(followups)}"
    )
    print("  follow-up titles: " + ", ".join(f"{t!r} {n}" for t, n in run.titles.most_common()))
    calls = ", ".join(f"{name} {n}" for name, n in sorted(run.mylivechat.items()))
    print(
        f"  MyLiveChat calls: {sum(run.mylivechat.values())} ({calls}); "
        f"{run.rate_limited} answered 429"
    )
    print(f"  Discord bodies refused (400): {run.refused}; bot exit status {run.exit_status}")
    p99 = _percentile(defers, 99)
    passed = (
        deferred == count
        and len(defers) == count
        and p99 < TARGET_P99_MS
        and max(defers) < DISCORD_BOUND_MS
        and len(followups) == count
        and run.errors == 0
        and run.refused == 0
        and run.exit_status == 0
    )
    if not passed and child_log.strip():
        print(child_log[-3000:], file=sys.stderr)
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


async def bounded(count: int, burst: int, interval: float) -> int:
    try:
        return await asyncio.wait_for(main(count, burst, interval), TOTAL_BOUND_S)
    except TimeoutError:
        print(f"the benchmark did not finish in {TOTAL_BOUND_S:.0f} s\nFAIL")
        return 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=100)
    parser.add_argument("--burst", type=int, default=25, help="interactions sent back to back")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between bursts")
    parser.add_argument("--bot", nargs=2, metavar=("REST_URL", "GATEWAY_URL"))
    parser.add_argument("--bare", nargs=2, metavar=("REST_URL", "GATEWAY_URL"))
    args = parser.parse_args()
    if args.bot:
        sys.exit(run_bot(*args.bot))
    if args.bare:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        asyncio.run(run_bare(*args.bare))
        sys.exit(0)
    sys.exit(asyncio.run(bounded(args.interactions, args.burst, args.interval)))
