"""The digest scheduler: APScheduler cron jobs rebuilt from the database, plus catch-up.

The database is the source of truth, not APScheduler's job store (APScheduler forbids
sharing one between schedulers): at start and whenever the subscriptions' revision
changes, the jobs are rebuilt from ``digest_subscriptions``. Every job, and the catch-up
at start, goes through :class:`~bot.scheduler.delivery.DigestSender`, whose leased claim
in ``digest_deliveries`` keeps each period to one post even with two schedulers running.
A sweep (at start, then every ``sweep_interval``) sends the claims of a scheduler that
died holding them, once their lease has run out.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.storage import DigestStore
from commands.digests.schedule import Schedule
from commands.digests.store import Subscription

from .clock import Clock, utc_now
from .delivery import DigestSender, Outcome

__all__ = ["CatchUp", "DigestScheduler"]

log = logging.getLogger("mlc_bot.digests")

_JOB_PREFIX = "digest-"
_REFRESH_JOB = "digest-refresh"
_SWEEP_JOB = "digest-sweep"
_OWN_JOBS = frozenset({_REFRESH_JOB, _SWEEP_JOB})
# A job that fires late (a blocked loop, a slow restart) still runs within this window.
_MISFIRE_GRACE = 3600


@dataclass(frozen=True, slots=True)
class CatchUp:
    subscription_id: int
    period: str
    outcome: Outcome


class DigestScheduler:
    """Runs each active subscription's digest at its time in its own zone."""

    def __init__(
        self,
        store: DigestStore,
        sender: DigestSender,
        *,
        clock: Clock = utc_now,
        poll_interval: float = 10.0,
        sweep_interval: float | None = None,
    ) -> None:
        self.store = store
        self.sender = sender
        self.clock = clock
        self.poll_interval = poll_interval
        self.sweep_interval = poll_interval if sweep_interval is None else sweep_interval
        """Seconds between looks for expired claims (those of a scheduler that died)."""
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._revision: int | None = None
        self._jobs: dict[int, tuple[str, str, str]] = {}
        self._inflight: set[asyncio.Task[object]] = set()
        self._refresh_lock = asyncio.Lock()
        self._retaking: set[tuple[int, str]] = set()
        self._refreshing = False

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> list[CatchUp]:
        """Build the jobs, send what was missed while down, then start firing."""
        await self.refresh(force=True)
        caught_up = await self.catch_up()
        caught_up += await self.sweep()
        self.scheduler.add_job(
            self._refresh_job,
            IntervalTrigger(seconds=self.poll_interval),
            id=_REFRESH_JOB,
            coalesce=True,
            # A second instance returns at once while a long catch-up runs, where
            # APScheduler would log a warning for every poll it had to skip.
            max_instances=2,
        )
        self.scheduler.add_job(
            self._sweep_job,
            IntervalTrigger(seconds=self.sweep_interval),
            id=_SWEEP_JOB,
            coalesce=True,
            max_instances=1,
        )
        self.scheduler.start()
        log.info("digest scheduler started with %d active subscription(s)", len(self._jobs))
        return caught_up

    async def stop(self, grace: float = 30.0) -> None:
        """Stop firing; let digests being posted right now finish (up to ``grace`` seconds)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        current = asyncio.current_task()
        # Again until none is left: a job already handed to the loop starts after the
        # shutdown, and one left running would be cancelled mid-query when the loop ends.
        while pending := {t for t in self._inflight if not t.done() and t is not current}:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.wait(pending, timeout=remaining)

    # -- jobs ------------------------------------------------------------------------------

    def job_ids(self) -> list[str]:
        return sorted(j.id for j in self.scheduler.get_jobs() if j.id not in _OWN_JOBS)

    async def refresh(self, *, force: bool = False) -> bool:
        """Rebuild the jobs when the subscriptions changed; True when it rebuilt them."""
        async with self._refresh_lock:
            revision = await self.store.revision()
            if not force and revision == self._revision:
                return False
            active = {s.id: s for s in await self.store.list_all(active_only=True)}
            for sub_id in set(self._jobs) - set(active):
                self.scheduler.remove_job(f"{_JOB_PREFIX}{sub_id}")
                del self._jobs[sub_id]
            for sub in active.values():
                shape = (sub.at_time, sub.timezone, sub.days)
                if self._jobs.get(sub.id) == shape:
                    continue  # unchanged: keep its next fire time
                self.scheduler.add_job(
                    self._fire_job,
                    Schedule.of(sub).trigger(),
                    args=[sub.id],
                    id=f"{_JOB_PREFIX}{sub.id}",
                    name=f"{sub.kind} digest #{sub.id}",
                    replace_existing=True,
                    coalesce=True,
                    max_instances=1,
                    misfire_grace_time=_MISFIRE_GRACE,
                )
                self._jobs[sub.id] = shape
            self._revision = revision
            return True

    async def _refresh_job(self) -> None:
        if self._refreshing:
            return  # the last poll is still catching up (sending); the next poll looks again
        self._track()
        self._refreshing = True
        try:
            if await self.refresh():
                # A subscription added just before its time would otherwise wait a day:
                # its job is built after the run it should have made.
                await self.catch_up()
        except Exception:
            log.exception("could not read digest subscriptions; keeping the current jobs")
        finally:
            self._refreshing = False

    async def _sweep_job(self) -> None:
        # Returns at once: sending what one sweep found must not hold up the next one.
        self._track(asyncio.create_task(self._sweep_logged()))

    async def _sweep_logged(self) -> None:
        try:
            await self.sweep()
        except Exception:
            log.exception("could not look for digests left by a stopped scheduler; next time")

    async def _fire_job(self, subscription_id: int) -> None:
        self._track()
        try:
            await self.fire(subscription_id)
        except Exception:
            log.exception("digest #%d failed unexpectedly", subscription_id)

    def _track(self, task: asyncio.Task[Any] | None = None) -> None:
        """Remember the running job (or ``task``) so :meth:`stop` can let it finish."""
        task = task or asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def fire(self, subscription_id: int) -> Outcome | None:
        """Send the subscription's digest for its latest run (what a cron job does)."""
        sub = await self.store.get(subscription_id)
        if sub is None or sub.paused:
            return None  # removed or paused since the jobs were built
        return await self._send_due(sub, catching_up=False)

    # -- catch-up --------------------------------------------------------------------------

    async def catch_up(self) -> list[CatchUp]:
        """For each active subscription, send its latest run if it was missed and is recent.

        One digest per subscription at most, however many runs were missed; a run older
        than the subscription's interval is recorded as skipped with a log line.
        """
        now = self.clock()
        missed = []
        for sub in await self.store.list_all(active_only=True):
            due = Schedule.of(sub).due_run(now)
            if due is not None and await self.store.delivery(sub.id, due.period) is None:
                missed.append((sub, due.period))
        # Concurrently: posts to different channels need not queue behind each other.
        outcomes = await asyncio.gather(
            *(self._send_due(sub, catching_up=True) for sub, _ in missed)
        )
        return [
            CatchUp(sub.id, period, outcome)
            for (sub, period), outcome in zip(missed, outcomes, strict=True)
            if outcome is not None
        ]

    async def _send_due(self, sub: Subscription, *, catching_up: bool) -> Outcome | None:
        due = Schedule.of(sub).due_run(self.clock())
        if due is None or due.run < sub.active_since_utc:
            return None  # before the subscription existed or was resumed: no backlog
        if due.stale:
            return await self.sender.skip(sub, due)
        if catching_up:
            log.info("digest #%d missed its run for %s; sending it now", sub.id, due.period)
        return await self.sender.send(sub, due)

    # -- claims left by a scheduler that stopped -------------------------------------------

    async def sweep(self) -> list[CatchUp]:
        """Send the periods whose claim expired: their holder died before finishing them.

        A claim for the subscription's latest run, still younger than its interval, is
        taken over and sent (the sender logs the retake). One that must not be sent any
        more (stale, superseded by a later run, its subscription paused or resumed since)
        is recorded as skipped with a log line, never left claimed.
        """
        now = self.clock()
        expired = await self.store.expired_claims(now)
        if not expired:
            return []
        outcomes = await asyncio.gather(
            *(self._retake(d.subscription_id, d.period) for d in expired)
        )
        return [
            CatchUp(d.subscription_id, d.period, outcome)
            for d, outcome in zip(expired, outcomes, strict=True)
            if outcome is not None
        ]

    async def _retake(self, subscription_id: int, period: str) -> Outcome | None:
        key = (subscription_id, period)
        if key in self._retaking:
            return None  # an earlier sweep of this process is on it
        self._retaking.add(key)
        try:
            return await self._retake_expired(subscription_id, period)
        finally:
            self._retaking.discard(key)

    async def _retake_expired(self, subscription_id: int, period: str) -> Outcome | None:
        sub = await self.store.get(subscription_id)
        if sub is None:
            return None  # removed meanwhile; its deliveries went with it
        due = Schedule.of(sub).due_run(self.clock())
        if sub.paused:
            reason = "and its subscription is paused"
        elif due is None or due.period != period:
            reason = "and a later run has come due since"
        elif due.run < sub.active_since_utc:
            reason = "and its subscription was resumed after that run"
        elif due.stale:
            reason = f"and it is now {due.age} old, more than its interval of {due.interval}"
        else:
            return await self.sender.send(sub, due)
        return await self.sender.give_up(sub, period, reason)
