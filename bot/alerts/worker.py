"""The alert worker: received events become alerts, posted once each, reminded on time.

The receiver keeps each event (an outbox row) before it answers MyLiveChat's delivery, then
wakes this worker. Any number of workers may run (one per web process): each step leases
the rows it works on, so a row is worked on by one worker at a time, and the rows of a
worker that died are taken over once their lease runs out:

1. route: a received event becomes one alert per matching rule (never two per rule);
2. post: each alert is posted under a key derived from its id; a retaken alert whose post
   had begun is looked for in the channel first (Slack), or posted again under the same
   key, which Discord drops as a repeat (the nonce);
3. remind: a posted handoff alert nobody claimed within its rule's SLA gets one reminder in
   its thread; a claim first means no reminder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections import deque
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, timedelta, tzinfo

from commands.alerts.content import alert_reply, reminder_reply
from commands.alerts.model import matching
from commands.ports import ChannelGone, MessageEditor, Poster, PostFinder, PostRefused

from ..metrics import Metrics
from ..scheduler.clock import Clock, utc_now
from ..storage.alerts import AlertRecords, Posting
from ..storage.lazy import LazyDatabase
from .messages import channel_of

__all__ = ["AlertWorker"]

log = logging.getLogger("mlc_bot.alerts")

DEFAULT_LEASE = timedelta(seconds=30)
POLL_SECONDS = 1.0
"""How often waiting work (a retaken lease, a reminder falling due) is looked for."""


def post_key(alert_id: int) -> str:
    return f"alert-{alert_id}"


def reminder_key(alert_id: int) -> str:
    return f"remind-{alert_id}"


class AlertWorker:
    """Drains the alert outbox into channels, exactly once across processes and crashes."""

    def __init__(
        self,
        database: LazyDatabase,
        posters: Mapping[str, Poster],
        *,
        zone: tzinfo = UTC,
        clock: Clock = utc_now,
        lease: timedelta = DEFAULT_LEASE,
        poll: float = POLL_SECONDS,
        instance: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.database = database
        self.posters = dict(posters)
        self.zone = zone
        self.clock = clock
        self.lease = lease
        self.poll = poll
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.metrics = metrics
        """Counts posts and reminders by outcome (``mlc_bot_alerts_total``), when set."""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._rounds = 0
        self._quiet_round = -1
        self._round_done = asyncio.Condition()
        self._warned: set[str] = set()

    def wake(self) -> None:
        """Work now (an event was just received)."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="alert worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            failed = False
            try:
                busy = await self.run_once()
            except Exception as exc:
                log.error("an alert worker round failed (%s); it goes on", type(exc).__name__)
                busy, failed = 0, True
            async with self._round_done:
                self._rounds += 1
                if not busy and not failed:  # a failed round may have left work undone
                    self._quiet_round = self._rounds
                self._round_done.notify_all()
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll)

    async def run_once(self) -> int:
        """One round of routing, posting and reminding; how many rows it worked on."""
        async with self.database.alert_records() as records:
            routed = await self._route(records)
            posted = await self._post(records)
            return routed + posted + await self._remind(records)

    # -- route -----------------------------------------------------------------------------

    async def _route(self, records: AlertRecords) -> int:
        taken = await records.take_events(self.instance, self.clock(), self.lease)
        if not taken:
            return 0
        rules = await records.rules(any_place=True)
        routes = [(row, matching(rules, event)) for row, event in taken]
        await records.route(routes, self.clock())
        for (_, event), (_, alerted) in zip(taken, routes, strict=True):
            log.info("event %s (%s): %d alert(s)", event.event_id, event.kind, len(alerted))
        return len(taken)

    # -- post ------------------------------------------------------------------------------

    async def _post(self, records: AlertRecords) -> int:
        postings = await records.take_postings(self.instance, self.clock(), self.lease)
        # In waves: the oldest alert of every channel at once, then the next of each, so
        # a channel shows its alerts in the order they happened (and the poster keeps each
        # channel's pace anyway). Each wave's leases are marked, renewed and settled in one
        # transaction each: a burst's posts do not crowd out the receiver's writes.
        queues: dict[tuple[str, str | None, str], deque[Posting]] = {}
        for posting in postings:
            alert = posting.alert
            queues.setdefault((alert.platform, alert.workspace_id, alert.channel_id), deque())
            queues[alert.platform, alert.workspace_id, alert.channel_id].append(posting)
        while queues:
            await self._post_wave(records, [queue.popleft() for queue in queues.values()])
            queues = {place: queue for place, queue in queues.items() if queue}
        return len(postings)

    async def _post_wave(self, records: AlertRecords, wave: list[Posting]) -> None:
        postable = []
        for posting in wave:
            if posting.alert.platform in self.posters:
                postable.append(posting)
            else:  # the lease runs out; a process that can post there takes it
                self._cannot(posting.alert.platform)
        found = await asyncio.gather(*(self._already_there(records, p) for p in postable))
        ready = [p for p, there in zip(postable, found, strict=True) if not there]
        ids = [p.alert.id for p in ready]
        mine = await records.posting_many(ids, self.instance, self.clock(), self.lease)
        going = [p for p in ready if p.alert.id in mine]  # the others were taken over
        async with self._holding(records, [p.alert.id for p in going]):
            sent = await asyncio.gather(*(self._post_one(p) for p in going))
        done = [
            (p.alert, message_id) for p, (ok, message_id) in zip(going, sent, strict=True) if ok
        ]
        await records.posted_many(
            [(alert.id, message_id, alert.sla_seconds) for alert, message_id in done],
            self.instance,
            self.clock(),
        )
        for alert, message_id in done:
            if message_id is not None:
                log.info("alert #%d posted to %s %s", alert.id, alert.platform, alert.channel_id)

    async def _already_there(self, records: AlertRecords, posting: Posting) -> bool:
        """For an alert whose earlier holder began posting it: whether the channel shows
        it (then it is recorded as posted)."""
        alert, poster = posting.alert, self.posters[posting.alert.platform]
        if posting.started_before is None or not isinstance(poster, PostFinder):
            return False  # Discord: posted again under the same nonce, which it drops
        found = await _quietly(
            poster.find(channel_of(alert), post_key(alert.id), posting.started_before)
        )
        if not isinstance(found, str):
            return False
        log.warning("alert #%d: its post was there already; not posted again", alert.id)
        self._count("found")
        await records.posted_many(
            [(alert.id, found, alert.sla_seconds)], self.instance, self.clock()
        )
        return True

    @contextlib.asynccontextmanager
    async def _holding(self, records: AlertRecords, alert_ids: list[int]) -> AsyncIterator[None]:
        """Renew the alerts' leases every third of a lease while the block runs (a slow
        answer, a rate limit's wait), so no other worker takes over a post still going."""

        async def renew() -> None:
            held = list(alert_ids)
            while held:
                await asyncio.sleep(self.lease.total_seconds() / 3)
                mine = await records.renew_many(held, self.instance, self.clock(), self.lease)
                for lost in set(held) - mine:
                    log.warning("alert #%d: another worker took it over meanwhile", lost)
                held = [alert_id for alert_id in held if alert_id in mine]

        renewing = asyncio.create_task(renew(), name="renew alert leases")
        try:
            yield
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await renewing

    async def _post_one(self, posting: Posting) -> tuple[bool, str | None]:
        """Post the alert: (settled, the message's id). Not settled when the answer was
        lost: the post may have been made, which a later holder finds out."""
        alert = posting.alert
        poster = self.posters[alert.platform]
        try:
            message_id = await poster.post(
                channel_of(alert), alert_reply(alert, self.zone), key=post_key(alert.id)
            )
        except (ChannelGone, PostRefused) as refused:
            log.warning("alert #%d could not be posted: %s", alert.id, refused)
            self._count("failed")
            return True, None
        except Exception as exc:
            log.warning(
                "alert #%d: the answer to its post was lost (%s); it is settled when its "
                "lease runs out",
                alert.id,
                type(exc).__name__,
            )
            self._count("unknown")
            return False, None
        self._count("posted")
        return True, message_id

    # -- remind ----------------------------------------------------------------------------

    async def _remind(self, records: AlertRecords) -> int:
        due = await records.take_reminders(self.instance, self.clock(), self.lease)
        for posting in due:
            async with self._holding(records, [posting.alert.id]):
                await self._remind_one(records, posting)
        return len(due)

    async def _remind_one(self, records: AlertRecords, posting: Posting) -> None:
        alert = posting.alert
        poster = self.posters.get(alert.platform)
        if not isinstance(poster, MessageEditor) or alert.message_id is None:
            self._cannot(alert.platform)
            return
        channel, key = channel_of(alert), reminder_key(alert.id)
        if posting.started_before is not None and isinstance(poster, PostFinder):
            found = await _quietly(
                poster.find(channel, key, posting.started_before, thread=alert.message_id)
            )
            if found:
                await records.reminded(alert.id, self.instance, self.clock())
                return
        if not await records.reminding(alert.id, self.instance, self.clock(), self.lease):
            await records.let_go(alert.id, self.instance)  # claimed meanwhile: no reminder
            return
        try:
            await poster.reply_to(channel, alert.message_id, reminder_reply(alert), key=key)
        except (ChannelGone, PostRefused) as refused:
            log.warning("alert #%d: its reminder could not be posted: %s", alert.id, refused)
            self._count("reminder_failed")
        except Exception as exc:
            log.warning("alert #%d: the answer to its reminder was lost (%s)", alert.id, exc)
            self._count("reminder_unknown")
            return
        else:
            self._count("reminded")
        await records.reminded(alert.id, self.instance, self.clock())
        log.info("alert #%d: reminded after its SLA", alert.id)

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.alert(outcome)

    def _cannot(self, platform: str) -> None:
        if platform not in self._warned:
            self._warned.add(platform)
            log.warning("alerts for %s wait for a process that can post there", platform)

    async def settled(self) -> None:
        """Until a round that began after this call found nothing to do (tests)."""
        async with self._round_done:
            started = self._rounds
            self.wake()
            await self._round_done.wait_for(lambda: self._quiet_round > started + 1)


async def _quietly(found: object) -> str | bool | None:
    try:
        return await found  # type: ignore[misc,no-any-return]
    except Exception:
        return None
