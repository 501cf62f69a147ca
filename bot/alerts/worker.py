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
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, timedelta, tzinfo

from commands.alerts.content import alert_reply, reminder_reply
from commands.alerts.model import matches
from commands.ports import ChannelGone, MessageEditor, Poster, PostFinder, PostRefused

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
    ) -> None:
        self.database = database
        self.posters = dict(posters)
        self.zone = zone
        self.clock = clock
        self.lease = lease
        self.poll = poll
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
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
        for row, event in taken:
            matching = [rule for rule in rules if matches(rule, event)]
            await records.route(row, matching, self.clock())
            log.info("event %s (%s): %d alert(s)", event.event_id, event.kind, len(matching))
        return len(taken)

    # -- post ------------------------------------------------------------------------------

    async def _post(self, records: AlertRecords) -> int:
        postings = await records.take_postings(self.instance, self.clock(), self.lease)
        # Channels in parallel; in each, one alert after the other, oldest first, so they
        # show in the order they happened (the poster keeps each channel's pace anyway).
        queues: dict[tuple[str, str | None, str], list[Posting]] = {}
        for posting in postings:
            alert = posting.alert
            queues.setdefault((alert.platform, alert.workspace_id, alert.channel_id), [])
            queues[alert.platform, alert.workspace_id, alert.channel_id].append(posting)
        await asyncio.gather(*(self._post_in_turn(records, queue) for queue in queues.values()))
        return len(postings)

    async def _post_in_turn(self, records: AlertRecords, queue: list[Posting]) -> None:
        for posting in queue:
            async with self._holding(records, posting.alert.id):
                await self._post_one(records, posting)

    @contextlib.asynccontextmanager
    async def _holding(self, records: AlertRecords, alert_id: int) -> AsyncIterator[None]:
        """Renew the alert's lease every third of it while the block runs (a slow answer,
        a rate limit's wait), so no other worker takes over a post that is still going."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.lease.total_seconds() / 3)
                if not await records.renew(alert_id, self.instance, self.clock(), self.lease):
                    log.warning("alert #%d: another worker took it over meanwhile", alert_id)
                    return

        renewing = asyncio.create_task(renew(), name=f"renew alert {alert_id}")
        try:
            yield
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await renewing

    async def _post_one(self, records: AlertRecords, posting: Posting) -> None:
        alert = posting.alert
        poster = self.posters.get(alert.platform)
        if poster is None:
            self._cannot(alert.platform)
            return  # the lease runs out; a process that can post there takes it
        channel, key = channel_of(alert), post_key(alert.id)
        if posting.started_before is not None and isinstance(poster, PostFinder):
            found = await _quietly(poster.find(channel, key, posting.started_before))
            if isinstance(found, str):
                log.warning("alert #%d: its post was there already; not posted again", alert.id)
                await records.posted(alert.id, self.instance, found, self.clock())
                return
        if not await records.posting(alert.id, self.instance, self.clock(), self.lease):
            return  # another worker took it over meanwhile
        try:
            message_id = await poster.post(channel, alert_reply(alert, self.zone), key=key)
        except (ChannelGone, PostRefused) as refused:
            log.warning("alert #%d could not be posted: %s", alert.id, refused)
            await records.posted(alert.id, self.instance, None, self.clock())
            return
        except Exception as exc:
            log.warning(
                "alert #%d: the answer to its post was lost (%s); it is settled when its "
                "lease runs out",
                alert.id,
                type(exc).__name__,
            )
            return
        await records.posted(alert.id, self.instance, message_id, self.clock())
        log.info("alert #%d posted to %s %s", alert.id, alert.platform, alert.channel_id)

    # -- remind ----------------------------------------------------------------------------

    async def _remind(self, records: AlertRecords) -> int:
        due = await records.take_reminders(self.instance, self.clock(), self.lease)
        for posting in due:
            async with self._holding(records, posting.alert.id):
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
        except Exception as exc:
            log.warning("alert #%d: the answer to its reminder was lost (%s)", alert.id, exc)
            return
        await records.reminded(alert.id, self.instance, self.clock())
        log.info("alert #%d: reminded after its SLA", alert.id)

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
