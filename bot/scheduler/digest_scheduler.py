"""The digest scheduler: APScheduler cron jobs rebuilt from the database, plus catch-up.

The database is the source of truth, not APScheduler's job store (APScheduler forbids
sharing one between schedulers): at start and whenever the subscriptions' revision
changes, the jobs are rebuilt from ``digest_subscriptions``. Every job, and the catch-up
at start, goes through :class:`~bot.scheduler.delivery.DigestSender`, whose claim in
``digest_deliveries`` keeps each period to one post even with two schedulers running.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.storage import DigestStore, Subscription

from .clock import Clock, utc_now
from .delivery import DigestSender, Outcome
from .schedule import Schedule

__all__ = ["CatchUp", "DigestScheduler"]

log = logging.getLogger("mlc_bot.digests")

_JOB_PREFIX = "digest-"
_REFRESH_JOB = "digest-refresh"
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
    ) -> None:
        self.store = store
        self.sender = sender
        self.clock = clock
        self.poll_interval = poll_interval
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._revision: int | None = None
        self._jobs: dict[int, tuple[str, str, str]] = {}
        self._inflight: set[asyncio.Task[object]] = set()
        self._refresh_lock = asyncio.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> list[CatchUp]:
        """Build the jobs, send what was missed while down, then start firing."""
        await self.refresh(force=True)
        caught_up = await self.catch_up()
        self.scheduler.add_job(
            self._refresh_job,
            IntervalTrigger(seconds=self.poll_interval),
            id=_REFRESH_JOB,
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
        current = asyncio.current_task()
        pending = {t for t in self._inflight if not t.done() and t is not current}
        if pending:
            await asyncio.wait(pending, timeout=grace)
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn

    # -- jobs ------------------------------------------------------------------------------

    def job_ids(self) -> list[str]:
        return sorted(j.id for j in self.scheduler.get_jobs() if j.id != _REFRESH_JOB)

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
        self._track()
        try:
            if await self.refresh():
                # A subscription added just before its time would otherwise wait a day:
                # its job is built after the run it should have made.
                await self.catch_up()
        except Exception:
            log.exception("could not read digest subscriptions; keeping the current jobs")

    async def _fire_job(self, subscription_id: int) -> None:
        self._track()
        try:
            await self.fire(subscription_id)
        except Exception:
            log.exception("digest #%d failed unexpectedly", subscription_id)

    def _track(self) -> None:
        """Remember the running job so :meth:`stop` can let it finish."""
        task = asyncio.current_task()
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
