"""The crash scenario: two real scheduler processes on one database, one killed by SIGKILL.

Shared by ``tests/digests/test_crash.py`` and ``benchmarks/digest_crash.py``. The parent
runs the sandbox and the fake platform (Slack or Discord) and makes ``digests``
subscriptions due at once, each in its own channel; both schedulers catch them up and
race for the claims. The parent watches the database and kills, with SIGKILL, the
scheduler holding the most claims at the chosen moment:

- ``build``: the sandbox answers slowly, so the claims are taken and the digests are
  being built (nothing was posted yet);
- ``posting``: the platform answers slowly, so posts are on the wire: the platform has
  the request and will create the message, but the killed process never hears back.

Then it waits until every claim is finished and counts the messages each channel shows.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy import insert, update

from bot.sandbox import SandboxServer
from bot.storage import DeliveryRecord, DeliveryStatus, DigestStore
from bot.storage.schema import revisions, subscriptions
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import FakeSlack
from tests.processes import ChildProcess, child_env, python_module

__all__ = ["CrashRun", "Kill", "Platform", "run_crash"]


Kill = Literal["build", "posting"]
Platform = Literal["slack", "discord"]

_STARTED = "digest scheduler started"
_RETAKE = "the previous holder"
_RETAKE_AFTER_POSTING = "stopped while posting it"
_DEADLINE = 120.0  # seconds any one phase may take before the run is declared stuck


@dataclass(frozen=True)
class CrashRun:
    """What one run did and what the channels show afterwards."""

    platform: str
    kill: str
    digests: int
    held_at_kill: int
    """Claims the killed scheduler held when it died."""
    posting_at_kill: int
    """Of those, how many had begun posting (the platform may have the message)."""
    survivor_held_at_kill: int
    copies: dict[str, int]
    """Channel -> the number of digest messages it shows (one subscription per channel)."""
    statuses: dict[str, int]
    retakes: int
    """Claims the surviving scheduler says it took over."""
    retakes_after_posting: int
    """Of those, how many it says the killed one had begun posting."""
    found_in_channel: int
    """Of those, how many it found already in the channel (Slack's history check)."""
    repeats_dropped: int
    """Posts Discord answered with the earlier message: they repeated its nonce."""
    recovery: float
    """Seconds from the kill until every claim was finished."""
    survivor_log: str
    victim: str
    """The killed scheduler's instance name, as its claims named it."""

    @property
    def lost(self) -> int:
        return sum(1 for n in self.copies.values() if n == 0)

    @property
    def duplicated(self) -> int:
        return sum(n - 1 for n in self.copies.values() if n > 1)


class SchedulerProcess(ChildProcess):
    """``python -m tests.digests.scheduler_process`` with its log in a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        super().__init__(python_module("tests.digests.scheduler_process"), env, log_path)


def pid_of(instance: str | None) -> int | None:
    """The process id in a scheduler's instance name (``host:pid:suffix``)."""
    if not instance:
        return None
    parts = instance.rsplit(":", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


async def _wait_until(
    condition: Callable[[], object], what: str, within: float = _DEADLINE
) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {within:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


def _channels(platform: str, count: int) -> list[str]:
    if platform == "discord":
        return [str(710_000_000_000_000_000 + i) for i in range(count)]
    return [f"C{i:04d}" for i in range(count)]


async def _subscribe_all(store: DigestStore, platform: str, channels: Sequence[str]) -> None:
    """Subscriptions whose run fell due a minute ago, all in one transaction, so both
    schedulers see them at the same poll and race for them."""
    now = datetime.now(UTC)
    at = (now - timedelta(minutes=1)).strftime("%H:%M")
    created = now - timedelta(hours=1)
    workspace = "T0TEAM" if platform == "slack" else None
    rows = [
        {
            "platform": platform,
            "workspace_id": workspace,
            "channel_id": channel,
            "kind": ("usage", "feedback")[i % 2],
            "at_time": at,
            "timezone": "UTC",
            "days": "daily",
            "paused": False,
            "created_by": "U_ADMIN" if platform == "slack" else "600000000000000001",
            "created_utc": created,
            "updated_utc": created,
            "active_since_utc": created,
        }
        for i, channel in enumerate(channels)
    ]
    async with store.engine.begin() as conn:
        await conn.execute(insert(subscriptions), rows)
        await conn.execute(
            update(revisions)
            .where(revisions.c.name == "digests")
            .values(revision=revisions.c.revision + 1)
        )


class _Platform:
    """The fake platform, seen the same way for Slack and Discord."""

    def __init__(self, platform: str, latency: float) -> None:
        self.name = platform
        self.slack = FakeSlack(latency=latency) if platform == "slack" else None
        self.discord = FakeDiscord(latency=latency) if platform == "discord" else None

    async def __aenter__(self) -> _Platform:
        if self.slack is not None:
            await self.slack.start()
        if self.discord is not None:
            await self.discord.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.slack is not None:
            await self.slack.stop()
        if self.discord is not None:
            await self.discord.stop()

    def env(self) -> dict[str, str]:
        if self.slack is not None:
            return {"SLACK_BOT_TOKEN": self.slack.bot_token, "SLACK_API_URL": self.slack.url}
        assert self.discord is not None
        return {
            "DISCORD_TOKEN": "fake-token.for-crash-tests",
            "MLC_TEST_DISCORD_API": self.discord.url,
        }

    def copies(self, channel: str) -> int:
        """Messages the channel shows."""
        if self.slack is not None:
            return sum(1 for m in self.slack.messages if m.channel == channel)
        assert self.discord is not None
        return len(self.discord.channel_messages(channel))

    def in_flight(self, channel: str) -> bool:
        """Whether a post to ``channel`` reached the platform and is not answered yet."""
        if self.slack is not None:
            asked = sum(
                1 for c in self.slack.calls_to("chat.postMessage") if c.args["channel"] == channel
            )
            return asked > self.copies(channel)
        assert self.discord is not None
        return any(r.status == 0 for r in self.discord.matching("POST", f"/channels/{channel}/"))

    def anything_in_flight(self, channels: Sequence[str]) -> bool:
        return any(self.in_flight(c) for c in channels)


def _pick_victim(
    kill: str,
    rows: Sequence[DeliveryRecord],
    alive: dict[int, SchedulerProcess],
    platform: _Platform,
    channel_of: dict[int, str],
) -> SchedulerProcess | None:
    """The scheduler holding the most claims in the state to kill it in, if any does."""
    held: Counter[int] = Counter()
    for row in rows:
        pid = pid_of(row.claimed_by)
        if row.status is not DeliveryStatus.CLAIMED or pid not in alive:
            continue
        if kill == "build" and row.posting_started_utc is None:
            held[pid] += 1
        elif kill == "posting" and row.posting_started_utc is not None:
            # Only a post the platform already has makes this moment count.
            channel = channel_of.get(row.subscription_id)
            if channel is not None and platform.in_flight(channel):
                held[pid] += 1
    if not held:
        return None
    [(pid, _)] = held.most_common(1)
    return alive[pid]


async def run_crash(
    database_url: str,
    workdir: Path,
    *,
    platform: Platform,
    kill: Kill,
    digests: int = 30,
    lease: float = 4.0,
    poll: float = 0.05,
    latency: float = 1.5,
    slack_history: bool = True,
) -> CrashRun:
    """Run the scenario once on an empty database; see the module's docstring.

    ``slack_history=False`` makes the fake Slack refuse ``conversations.history`` with
    ``missing_scope``, as for an app installed without the history scopes.
    """
    store = DigestStore.from_url(database_url)
    try:
        await store.migrate()
        async with (
            SandboxServer(rate_limit=10_000) as sandbox,
            _Platform(platform, latency if kill == "posting" else 0.0) as fake,
        ):
            sandbox.latency = latency if kill == "build" else 0.0
            if fake.slack is not None and not slack_history:
                fake.slack.reply_with(
                    "conversations.history",
                    {"ok": False, "error": "missing_scope", "needed": "channels:history"},
                )
            return await _run(
                store, sandbox, fake, database_url, workdir, kill, digests, lease, poll
            )
    finally:
        await store.aclose()


async def _run(
    store: DigestStore,
    sandbox: SandboxServer,
    fake: _Platform,
    database_url: str,
    workdir: Path,
    kill: str,
    digests: int,
    lease: float,
    poll: float,
) -> CrashRun:
    env = child_env(
        MLC_API_URL=sandbox.url,
        MLC_API_TOKEN=sandbox.tokens.site_a_read,
        DATABASE_URL=database_url,
        LOG_LEVEL="INFO",
        MLC_TEST_LEASE=str(lease),
        MLC_TEST_POLL=str(poll),
        **fake.env(),
    )
    schedulers = [SchedulerProcess(env, workdir / f"scheduler-{n}.log") for n in range(2)]
    try:
        for scheduler in schedulers:
            await scheduler.start()
        await _wait_until(
            lambda: all(_STARTED in s.log() or not s.running for s in schedulers),
            "both schedulers to start",
        )
        for scheduler in schedulers:
            assert scheduler.running, f"a scheduler did not start:\n{scheduler.log()}"
        channels = _channels(fake.name, digests)
        await _subscribe_all(store, fake.name, channels)
        channel_of = {s.id: s.channel_id for s in await store.list_all()}

        alive = {s.pid: s for s in schedulers}
        deadline = time.monotonic() + _DEADLINE
        while True:
            rows = await store.deliveries()
            # In the middle of the burst: every digest claimed, some still in the state.
            victim = _pick_victim(kill, rows, alive, fake, channel_of)
            if victim is not None and len(rows) == digests:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"never caught a scheduler {kill}: {_summary(rows)}")
            await asyncio.sleep(0.02)
        await victim.kill()
        killed_at = time.monotonic()
        rows = await store.deliveries()
        victim_rows = [
            r
            for r in rows
            if r.status is DeliveryStatus.CLAIMED and pid_of(r.claimed_by) == victim.pid
        ]
        survivor = next(s for s in schedulers if s is not victim)
        survivor_held = sum(
            1
            for r in rows
            if r.status is DeliveryStatus.CLAIMED and pid_of(r.claimed_by) == survivor.pid
        )

        async def settled() -> bool:
            current = await store.deliveries()
            return len(current) == digests and all(
                r.status is not DeliveryStatus.CLAIMED for r in current
            )

        finish_by = time.monotonic() + _DEADLINE
        while not await settled():
            if time.monotonic() > finish_by:
                raise AssertionError(
                    f"claims still open {_DEADLINE:.0f} s after the kill: "
                    f"{_summary(await store.deliveries())}\n--- survivor log ---\n"
                    f"{survivor.log()[-4000:]}"
                )
            await asyncio.sleep(0.05)
        recovery = time.monotonic() - killed_at
        await _wait_until(lambda: not fake.anything_in_flight(channels), "the last posts")
        await asyncio.sleep(poll * 2)  # one more sweep: it must find nothing to do
        assert await survivor.stop(within=30.0) == 0, survivor.log()[-4000:]
        log = survivor.log()
        final = await store.deliveries()
    finally:
        for scheduler in schedulers:
            await scheduler.kill()
            scheduler.close()
    return CrashRun(
        platform=fake.name,
        kill=kill,
        digests=digests,
        held_at_kill=len(victim_rows),
        posting_at_kill=sum(1 for r in victim_rows if r.posting_started_utc is not None),
        survivor_held_at_kill=survivor_held,
        copies={channel: fake.copies(channel) for channel in channels},
        statuses=dict(Counter(r.status.value for r in final)),
        retakes=log.count(_RETAKE),
        retakes_after_posting=log.count(_RETAKE_AFTER_POSTING),
        found_in_channel=log.count("the channel shows it"),
        repeats_dropped=fake.discord.repeats if fake.discord is not None else 0,
        recovery=recovery,
        survivor_log=log,
        victim=(victim_rows[0].claimed_by or "") if victim_rows else "",
    )


def _summary(rows: Sequence[DeliveryRecord]) -> str:
    states = Counter(
        (r.status.value, "posting" if r.posting_started_utc else "-", pid_of(r.claimed_by))
        for r in rows
    )
    return ", ".join(f"{n} {state}" for state, n in sorted(states.items(), key=str)) or "no rows"
