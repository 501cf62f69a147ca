"""Live alerts under a burst: how fast the receiver acks, how soon each alert is posted, that
each is posted once, and that 50 people clicking Claim at once make one claim.

Run: ``.venv/bin/python benchmarks/alerts.py``

Three processes, so that no event loop's work shows up in another's timings:

- this one runs the MyLiveChat sandbox (which provisions the alert subscription and holds
  its secret) and the fake Slack Web API, which records when each ``chat.postMessage``
  arrives;
- the bot is the real ``mlc-bot web`` (Slack, the receiver and the alert worker on one
  port), configured through its environment, on a fresh SQLite database;
- the sender (this script with ``--send``) signs 200 ``handoff`` events with the
  subscription's secret and delivers each twice (as MyLiveChat retrying would), 400 POSTs
  in a shuffled order with 50 in flight, and times each ack from sending to its HTTP answer.

Slack takes about one message per second per channel, and the bot keeps that pace, so 200
alerts into one channel would take 200 s whatever the bot does. The bot is measured instead:
200 rules (``alerts add handoff --reason bench-NNN``), each alerting its own channel, and
event N's reason names rule N, so every event is checked against 200 rules and makes one
alert in its own channel. Event-to-post latency is from the first delivery's send to the
fake Slack receiving the alert's ``chat.postMessage`` (both read this host's wall clock).

The same sender is first run against a server that only answers 200: what it measures
there is this host's floor, printed beside the bot's figures. Afterwards 50 members click
Claim on one alert at once (signed ``block_actions``).

Exits 1 when a target is missed: ack p99 < 100 ms, event-to-post p95 < 500 ms, exactly 200
posts (one per event), exactly 1 winner of 50 claims.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import aiohttp.web
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.alerts.secrets import new_key  # noqa: E402
from bot.sandbox import SandboxServer  # noqa: E402
from commands.alerts.inbox import signature_of  # noqa: E402
from commands.alerts.service import RECEIVER_PATH, SUBSCRIPTION_LABEL  # noqa: E402
from tests.fakes.slack_api import FakeSlack, FakeUser  # noqa: E402
from tests.slack.payloads import SlackSender  # noqa: E402

EVENTS = 200
COPIES = 2
IN_FLIGHT = 50
RACERS = 50
TARGET_ACK_P99_MS = 100.0
TARGET_POST_P95_MS = 500.0
POST_WAIT_S = 60.0
SETTLE_S = 3.0
"""After the last post: time for a repeated post to show up, if there were one."""
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
MLC_BOT = str(Path(sys.executable).parent / "mlc-bot")
SECRET_ENV = "MLC_BENCH_WEBHOOK_SECRET"


def channel(n: int) -> str:
    return f"C_BENCH_{n:03d}"


def reason(n: int) -> str:
    return f"bench-{n:03d}"


# --- the sender process -------------------------------------------------------------------------


def _event(n: int) -> bytes:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    payload = {
        "id": f"evt_{secrets.token_hex(12)}",
        "event": "handoff",
        "site_id": 1,
        "occurred_utc": stamp,
        "data": {
            "id": 10_000 + n,
            "session_id": f"s_bench_{n:03d}",
            "visitor_name": f"Visitor {n:03d}",
            "reason": f"{reason(n)}: asked for a human",
            "assigned_to": None,
            "created_utc": stamp,
        },
    }
    return json.dumps(payload, separators=(",", ":")).encode()


async def send(receiver_url: str) -> None:
    """Deliver every event twice, shuffled, 50 in flight; print, as JSON, each delivery's
    event, wall-clock send time, ack latency (ms) and status.

    aiohttp rather than httpx: httpx's own overhead at 50 requests in flight would be
    measured as ack latency.
    """
    secret = os.environ[SECRET_ENV]
    bodies = [_event(n) for n in range(EVENTS)]
    order = [n for n in range(EVENTS) for _ in range(COPIES)]
    random.Random(12).shuffle(order)
    gate = asyncio.Semaphore(IN_FLIGHT)
    results: list[tuple[int, float, float, int]] = []
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(n: int) -> None:
            body = bodies[n]
            async with gate:
                headers = {
                    "Content-Type": "application/json",
                    "X-MLC-Signature": signature_of(secret, body),
                    "X-MLC-Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
                sent_at = time.time()
                started = time.perf_counter()
                async with session.post(receiver_url, data=body, headers=headers) as response:
                    await response.read()
                    ms = (time.perf_counter() - started) * 1000
                    results.append((n, sent_at, ms, response.status))

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in order))
        elapsed = time.perf_counter() - started
    print(json.dumps({"deliveries": results, "elapsed": elapsed}))


def serve_nothing(port: int) -> None:
    """A server that reads each request and answers 200: the floor the sender can measure."""

    async def answer(request: aiohttp.web.Request) -> aiohttp.web.Response:
        await request.read()
        return aiohttp.web.Response(text="")

    app = aiohttp.web.Application()
    app.router.add_post(RECEIVER_PATH, answer)
    app.router.add_get("/healthz", answer)
    aiohttp.web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# --- the harness --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait_healthy(process: asyncio.subprocess.Process, port: int) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if process.returncode is not None:
                raise SystemExit(f"a server exited with status {process.returncode}")
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("a server did not become healthy in 30 s")


async def _start_bot(
    sandbox: SandboxServer, slack: FakeSlack, port: int, database: Path
) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MLC_", "DATABASE_"))}
    env.update(
        MLC_API_URL=sandbox.url,
        MLC_API_TOKEN=sandbox.tokens.site_a_write,
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.url,
        MLC_BOT_PUBLIC_URL=f"http://127.0.0.1:{port}",
        MLC_BOT_SECRET_KEY=new_key(),
        DATABASE_URL=f"sqlite:///{database}",
        PORT=str(port),
        LOG_LEVEL="WARNING",
    )
    process = await asyncio.create_subprocess_exec(
        MLC_BOT, "web", env=env, stderr=asyncio.subprocess.PIPE
    )
    await _wait_healthy(process, port)
    return process


async def _run_sender(receiver_url: str, secret: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--send",
        receiver_url,
        env={**os.environ, SECRET_ENV: secret},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"the sender failed with status {process.returncode}")
    result: dict[str, Any] = json.loads(out)
    return result


async def _floor() -> list[float]:
    """Ack latencies of the same sender against a server that does nothing."""
    port = _free_port()
    process = await asyncio.create_subprocess_exec(sys.executable, __file__, "--nothing", str(port))
    try:
        await _wait_healthy(process, port)
        sent = await _run_sender(f"http://127.0.0.1:{port}{RECEIVER_PATH}", "floor")
    finally:
        process.terminate()
        await process.wait()
    return [ms for _, _, ms, _ in sent["deliveries"]]


async def _add_rules(sender: SlackSender, slack: FakeSlack) -> None:
    """One rule per channel, each for the handoffs whose reason names it."""
    for n in range(EVENTS):
        sent = await sender.command(
            f"alerts add handoff --reason {reason(n)}", user="U_ADMIN", channel=channel(n)
        )
        assert sent.response_url is not None
        (reply,) = await slack.wait_for_responses(1, within=15, response_url=sent.response_url)
        if "alerts on" not in reply.text:
            raise SystemExit(f"alerts add was refused: {reply.text}")


def _alert_posts(slack: FakeSlack) -> list[Any]:
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if not c.args.get("thread_ts") and str(c.args.get("channel", "")).startswith("C_BENCH_")
    ]


async def _claim_race(sender: SlackSender, slack: FakeSlack) -> tuple[int, int]:
    """50 members click Claim on the first alert at once: (winners, answers)."""
    message = next((m for m in slack.messages if m.channel == channel(0) and not m.thread_ts), None)
    claims = [
        e
        for b in (message.blocks if message else [])
        if b.get("type") == "actions"
        for e in b["elements"]
        if e["text"]["text"] == "Claim"
    ]
    if message is None or not claims:
        return 0, 0  # nothing to claim: the figures show why
    claim = claims[0]
    sent = await asyncio.gather(
        *(
            sender.click(
                claim,
                user=f"U_RACE{i:02d}",
                channel=channel(0),
                message_ts=message.ts,
                ephemeral=False,
            )
            for i in range(RACERS)
        )
    )
    urls = [s.response_url or "" for s in sent]
    with contextlib.suppress(AssertionError):  # fewer: counted below
        await slack.wait_for_responses(RACERS, within=30)
    answers = [r.text for u in urls for r in slack.responses_to(u)]
    return sum(a.startswith("You claimed alert #") for a in answers), len(answers)


def _percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


async def main() -> int:
    users = [FakeUser("U_ADMIN", role="admin")] + [
        FakeUser(f"U_RACE{i:02d}", name=f"racer{i:02d}") for i in range(RACERS)
    ]
    floor = await _floor()
    with tempfile.TemporaryDirectory() as folder:
        async with (
            SandboxServer(rate_limit=10_000, window=60.0) as sandbox,
            FakeSlack(users=users) as slack,
        ):
            port = _free_port()
            bot = await _start_bot(sandbox, slack, port, Path(folder) / "bench.db")
            try:
                async with httpx.AsyncClient(timeout=15) as client:
                    events_url = f"http://127.0.0.1:{port}/slack/events"
                    sender = SlackSender(client, events_url, SIGNING_SECRET, slack.response_url)
                    await _add_rules(sender, slack)
                    (sub,) = [
                        s for s in sandbox.state.webhooks.values() if s.label == SUBSCRIPTION_LABEL
                    ]
                    slack.calls.clear()
                    sent = await _run_sender(f"http://127.0.0.1:{port}{RECEIVER_PATH}", sub.secret)
                    with contextlib.suppress(AssertionError):  # fewer: counted below
                        await slack.wait_for_messages(EVENTS, within=POST_WAIT_S)
                    await asyncio.sleep(SETTLE_S)
                    posts = _alert_posts(slack)
                    slack.responses.clear()
                    winners, answers = await _claim_race(sender, slack)
            finally:
                bot.send_signal(signal.SIGTERM)
                _, bot_log = await bot.communicate()

    deliveries = sent["deliveries"]
    acks = [ms for _, _, ms, _ in deliveries]
    ok = sum(1 for *_, status in deliveries if status == 200)
    first_sent: dict[int, float] = {}
    for n, at, _, _ in deliveries:
        first_sent[n] = min(at, first_sent.get(n, at))
    posted_at: dict[int, float] = {}
    per_event: dict[int, int] = {}
    for call in posts:
        match = re.fullmatch(r"C_BENCH_(\d{3})", str(call.args["channel"]))
        if match:
            n = int(match.group(1))
            per_event[n] = per_event.get(n, 0) + 1
            posted_at[n] = min(call.at, posted_at.get(n, call.at))
    latencies = [(posted_at[n] - first_sent[n]) * 1000 for n in posted_at if n in first_sent]
    ack_p50, ack_p99 = statistics.median(acks), _percentile(acks, 99)
    floor_p50, floor_p99 = statistics.median(floor), _percentile(floor, 99)
    print(
        f"Alerts benchmark: {EVENTS} signed handoff events, each delivered {COPIES} times "
        f"({EVENTS * COPIES} POSTs, shuffled), {IN_FLIGHT} in flight, to `mlc-bot web` on SQLite"
    )
    print(f"  {EVENTS} rules, one per channel; bot, sender and fakes in separate processes")
    print(
        f"  receiver ack: p50 {ack_p50:.1f} ms, p99 {ack_p99:.1f} ms, max {max(acks):.1f} ms "
        f"(target p99 < {TARGET_ACK_P99_MS:.0f} ms); HTTP 200: {ok}/{len(deliveries)}, "
        f"all sent in {sent['elapsed']:.2f} s"
    )
    print(
        f"  the same sender against a server that only answers 200: p50 {floor_p50:.1f} ms, "
        f"p99 {floor_p99:.1f} ms (this host's floor)"
    )
    if latencies:
        post_p50, post_p95 = statistics.median(latencies), _percentile(latencies, 95)
        print(
            f"  event to post: p50 {post_p50:.0f} ms, p95 {post_p95:.0f} ms, "
            f"max {max(latencies):.0f} ms (target p95 < {TARGET_POST_P95_MS:.0f} ms)"
        )
    else:
        post_p95 = float("inf")
        print("  event to post: nothing was posted")
    repeated = sum(1 for count in per_event.values() if count > 1)
    missing = EVENTS - len(per_event)
    print(
        f"  posts made: {len(posts)} (target exactly {EVENTS}: one per event); "
        f"events posted twice or more: {repeated}, never: {missing}"
    )
    print(
        f"  claim race: {winners} winner(s) of {RACERS} clicks at once, {answers} answered "
        "(target exactly 1)"
    )
    passed = (
        ack_p99 < TARGET_ACK_P99_MS
        and ok == len(deliveries)
        and post_p95 < TARGET_POST_P95_MS
        and len(posts) == EVENTS
        and repeated == 0
        and missing == 0
        and winners == 1
        and answers == RACERS
    )
    if bot.returncode != 0 or b"Traceback" in bot_log:
        print(bot_log.decode()[-3000:], file=sys.stderr)
        passed = False
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--send", metavar="RECEIVER_URL", help=argparse.SUPPRESS)
    parser.add_argument("--nothing", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.nothing:
        serve_nothing(args.nothing)
        sys.exit(0)
    if args.send:
        asyncio.run(send(args.send))
        sys.exit(0)
    sys.exit(asyncio.run(main()))
