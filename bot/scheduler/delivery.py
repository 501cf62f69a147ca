"""Sending one digest for one period: lease it, build it, post it, record how it went."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.mylivechat import MyLiveChatClient, MyLiveChatError
from bot.storage import DEFAULT_LEASE, DeliveryStatus, DigestStore, Lease
from commands.digests.content import DigestData, build_digest, failure_notice
from commands.digests.schedule import DueRun, Schedule, format_run
from commands.digests.store import Subscription
from commands.markup import channel_ref, data
from commands.ports import ChannelGone, ChannelRef, Poster, PostFinder, PostRefused
from commands.reply import Kind, Reply

from ..metrics import Metrics
from .clock import Clock, utc_now

__all__ = ["DigestSender", "Outcome", "post_key"]

log = logging.getLogger("mlc_bot.digests")


class Outcome(enum.StrEnum):
    POSTED = "posted"
    DUPLICATE = "duplicate"  # another scheduler (or an earlier run) has the period
    LEASE_LOST = "lease-lost"  # this process stalled; another scheduler took the period over
    FAILED = "failed"  # MyLiveChat or the platform failed; tried again at the next run
    CHANNEL_GONE = "channel-gone"  # the subscription is now paused
    SKIPPED = "skipped"  # too old to matter
    NO_POSTER = "no-poster"  # this process cannot post to that platform


def post_key(subscription_id: int, period: str) -> str:
    """What identifies one digest post on the platform (Discord's nonce is derived from it)."""
    return f"digest-{subscription_id}-{period}"


@dataclass(frozen=True, slots=True)
class _Prepared:
    reply: Reply
    status: DeliveryStatus
    snapshot: dict[str, Any] | None = None
    request_id: str | None = None


class DigestSender:
    """Posts a subscription's digest for one period, once across every process.

    The period is claimed in the database before anything is built or posted, as a lease
    (``lease``, 60 s by default) that this process renews every third of it while it
    builds and posts. Right before the post the lease is checked and the row marked
    "posting"; right after, it is marked posted. If this process dies, the lease runs out
    and any scheduler's sweep (:meth:`DigestScheduler.sweep`) takes the period over and
    sends it. A second copy can only come from a crash between the platform accepting
    the post and the row being marked: the post carries a key derived from the
    subscription and period, which Discord enforces as a nonce (the repeat is a no-op);
    Slack has no such thing, so before posting again a poster that can look in the
    channel (:class:`PostFinder`) is asked whether the post is there (see
    docs/architecture.md, digests).
    """

    def __init__(
        self,
        store: DigestStore,
        api: MyLiveChatClient,
        posters: Mapping[str, Poster],
        *,
        clock: Clock = utc_now,
        instance: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        metrics: Metrics | None = None,
    ) -> None:
        if lease <= timedelta(0):
            raise ValueError("the lease must be positive")
        self.store = store
        self.data = DigestData(api)
        self.posters = dict(posters)
        self.clock = clock
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = lease
        self.metrics = metrics
        """Counts every run's outcome (``mlc_bot_digests_total``), when set."""
        self._warned_platforms: set[str] = set()

    async def send(self, sub: Subscription, due: DueRun) -> Outcome:
        """Send the digest of ``sub`` for ``due``, unless another process has it."""
        return await self._counted(self._send(sub, due))

    async def _counted(self, running: Awaitable[Outcome]) -> Outcome:
        try:
            outcome = await running
        except Exception:
            self._count("error")
            raise
        self._count(outcome)
        return outcome

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.digest(outcome)

    async def _send(self, sub: Subscription, due: DueRun) -> Outcome:
        poster = self.posters.get(sub.platform)
        if poster is None:
            # Leave the period unclaimed: a process that can post there may take it.
            if sub.platform not in self._warned_platforms:
                self._warned_platforms.add(sub.platform)
                log.warning(
                    "digest #%d is for %s, which this scheduler cannot post to; "
                    "set that platform's bot token",
                    sub.id,
                    sub.platform,
                )
            return Outcome.NO_POSTER
        lease = await self.store.claim(
            sub.id, due.period, self.clock(), claimed_by=self.instance, lease=self.lease
        )
        if lease is None:
            log.info("digest #%d for %s was already claimed; not sending", sub.id, due.period)
            return Outcome.DUPLICATE
        if lease.previous_holder is not None and lease.posting_started_utc is None:
            log.warning(
                "digest #%d for %s: the previous holder %s stopped; sending it now",
                sub.id,
                due.period,
                lease.previous_holder,
            )
        async with self._renewing(lease):
            return await self._deliver(sub, due, poster, lease)

    async def _deliver(
        self, sub: Subscription, due: DueRun, poster: Poster, lease: Lease
    ) -> Outcome:
        try:
            prepared = await self._prepare(sub, due)
        except Exception:
            log.exception("digest #%d for %s could not be built", sub.id, due.period)
            await self._finish(lease, DeliveryStatus.FAILED, detail="internal error")
            return Outcome.FAILED
        channel = ChannelRef(sub.platform, sub.channel_id, sub.workspace_id)
        key = post_key(sub.id, due.period)
        if lease.posting_started_utc is not None and await self._shown_already(
            poster, channel, key, lease
        ):
            posted = prepared.status is DeliveryStatus.POSTED
            await self._finish(
                lease, DeliveryStatus.POSTED, snapshot=prepared.snapshot if posted else None
            )
            return Outcome.POSTED
        if not await self.store.mark_posting(lease, self.clock(), self.lease):
            log.warning(
                "digest #%d for %s: this scheduler lost its claim while building it; "
                "another scheduler sends it",
                sub.id,
                due.period,
            )
            return Outcome.LEASE_LOST
        posting_since = self.clock()
        try:
            await poster.post(channel, prepared.reply, key=key)
        except ChannelGone as gone:
            await self._finish(lease, DeliveryStatus.FAILED, detail=str(gone))
            await self._pause_gone(sub, gone)
            return Outcome.CHANNEL_GONE
        except PostRefused as refused:
            log.warning(
                "digest #%d for %s was not posted (%s); the next run tries again",
                sub.id,
                due.period,
                refused.reason,
            )
            await self._finish(lease, DeliveryStatus.FAILED, detail=refused.reason)
            return Outcome.FAILED
        except Exception as exc:
            if not await self._settle_lost_post(
                poster, channel, prepared.reply, key, posting_since, exc, where=(sub, due)
            ):
                await self._finish(
                    lease, DeliveryStatus.FAILED, detail=f"outcome unknown: {type(exc).__name__}"
                )
                return Outcome.FAILED
        recorded = await self._finish(
            lease, prepared.status, request_id=prepared.request_id, snapshot=prepared.snapshot
        )
        if not recorded:
            log.warning(
                "digest #%d for %s was posted, but another scheduler had taken it over "
                "meanwhile and may post it again",
                sub.id,
                due.period,
            )
        if prepared.status is DeliveryStatus.POSTED:
            log.info("digest #%d (%s) posted for %s", sub.id, sub.kind, due.period)
            return Outcome.POSTED
        return Outcome.FAILED

    async def _settle_lost_post(
        self,
        poster: Poster,
        channel: ChannelRef,
        reply: Reply,
        key: str,
        since: datetime,
        lost: Exception,
        *,
        where: tuple[Subscription, DueRun],
    ) -> bool:
        """The platform's answer to a post was lost: find out, or make sure, that it is there.

        A poster that can look in the channel is asked first; when the post is not there (or
        the poster cannot look, as on Discord where the key makes a repeat a no-op) it is
        posted once more under the same key. True when the post is known to be there.
        """
        sub, due = where
        what = f"digest #{sub.id} for {due.period}: the answer to its post was lost"
        reason = type(lost).__name__
        if isinstance(poster, PostFinder):
            try:
                found = await poster.find(channel, key, since)
            except Exception:
                found = None
            if found:
                log.warning("%s (%s); the channel shows it, so it counts as posted", what, reason)
                return True
            if found is None:
                log.warning(
                    "%s (%s) and the channel cannot be checked: it may or may not show; "
                    "it is not posted again, the next run is on schedule",
                    what,
                    reason,
                )
                return False
        try:
            await poster.post(channel, reply, key=key)
        except Exception as again:
            log.warning(
                "%s (%s), and so was the answer to posting it again (%s): it may or may not "
                "show; the next run is on schedule",
                what,
                reason,
                type(again).__name__,
            )
            return False
        log.warning("%s (%s); posted again under the same key", what, reason)
        return True

    async def _shown_already(
        self, poster: Poster, channel: ChannelRef, key: str, lease: Lease
    ) -> bool:
        """Whether the post of a holder that died while posting is in the channel (a log
        line says what was found and what happens next)."""
        assert lease.posting_started_utc is not None
        where = (
            f"digest #{lease.subscription_id} for {lease.period}: the previous holder "
            f"{lease.previous_holder} stopped while posting it"
        )
        if not isinstance(poster, PostFinder):
            log.warning("%s; it is sent again under the same key (Discord shows it once)", where)
            return False
        try:
            found = await poster.find(channel, key, lease.posting_started_utc)
            reason = "the bot may not read it"
        except Exception as exc:
            found, reason = None, type(exc).__name__
        if found:
            log.warning(
                "%s; the channel shows it, so it is recorded as posted, not sent again", where
            )
            return True
        if found is None:
            log.warning(
                "%s; the channel cannot be checked (%s), so it is sent again and may show twice",
                where,
                reason,
            )
        else:
            log.warning("%s; the channel does not show it, so it is sent now", where)
        return False

    async def give_up(self, sub: Subscription, period: str, reason: str) -> Outcome:
        """Take over an expired claim that must not be sent any more and record it skipped.

        For a claim whose holder died and that is now too old (or superseded, or its
        subscription paused): never silently, a log line says what happened.
        """
        return await self._counted(self._give_up(sub, period, reason))

    async def _give_up(self, sub: Subscription, period: str, reason: str) -> Outcome:
        lease = await self.store.claim(
            sub.id, period, self.clock(), claimed_by=self.instance, lease=self.lease
        )
        if lease is None:
            return Outcome.DUPLICATE  # another scheduler took it over first
        maybe = (
            " (it may have been posted just before that)"
            if lease.posting_started_utc is not None
            else ""
        )
        detail = f"not sent: {lease.previous_holder} stopped before finishing it{maybe}, {reason}"
        await self._finish(lease, DeliveryStatus.SKIPPED, detail=detail)
        log.warning("digest #%d for %s skipped: %s", sub.id, period, detail)
        return Outcome.SKIPPED

    @contextlib.asynccontextmanager
    async def _renewing(self, lease: Lease) -> AsyncIterator[None]:
        """Keep ``lease`` renewed (every third of its length) while the block runs."""
        renewer = asyncio.create_task(self._renew_until_lost(lease))
        try:
            yield
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def _renew_until_lost(self, lease: Lease) -> None:
        every = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                held = await self.store.renew(lease, self.clock(), self.lease)
            except Exception as exc:
                # The next try may work; if the lease runs out meanwhile, the check before
                # posting stops this process from posting.
                log.warning(
                    "digest #%d for %s: could not renew the claim (%s); trying again",
                    lease.subscription_id,
                    lease.period,
                    type(exc).__name__,
                )
                continue
            if not held:
                log.warning(
                    "digest #%d for %s: another scheduler took the claim over",
                    lease.subscription_id,
                    lease.period,
                )
                return

    async def _prepare(self, sub: Subscription, due: DueRun) -> _Prepared:
        """The digest, or the notice that replaces it when MyLiveChat fails."""
        schedule = Schedule.of(sub)
        now = self.clock()
        try:
            digest = await build_digest(
                sub.kind,
                self.data,
                now=now,
                zone=schedule.zone,
                previous=sub.last_snapshot,
                window=due.interval,
            )
        except MyLiveChatError as exc:
            log.warning(
                "digest #%d for %s: MyLiveChat failed (%s, request id %s); posting a notice",
                sub.id,
                due.period,
                exc.code,
                exc.request_id,
            )
            next_run = format_run(schedule.next_run(now), sub.timezone)
            notice = failure_notice(sub.kind, exc, next_run)
            return _Prepared(notice, DeliveryStatus.FAILED, request_id=exc.request_id)
        return _Prepared(digest.reply, DeliveryStatus.POSTED, snapshot=digest.snapshot)

    async def _finish(
        self,
        lease: Lease,
        status: DeliveryStatus,
        *,
        detail: str | None = None,
        request_id: str | None = None,
        snapshot: dict[str, Any] | None = None,
    ) -> bool:
        return await self.store.finish(
            lease,
            status,
            self.clock(),
            detail=detail,
            request_id=request_id,
            snapshot=snapshot,
        )

    async def skip(self, sub: Subscription, due: DueRun) -> Outcome:
        """Record a run missed while down and too old to matter (a log line says so)."""
        detail = f"missed by {due.age}, more than its interval of {due.interval}"
        if await self.store.record_skipped(sub.id, due.period, self.clock(), detail=detail):
            log.info("digest #%d for %s skipped: %s", sub.id, due.period, detail)
            self._count(Outcome.SKIPPED)
        return Outcome.SKIPPED

    async def _pause_gone(self, sub: Subscription, gone: ChannelGone) -> None:
        reason = f"the bot can no longer post in the channel ({gone.reason})"
        await self.store.set_paused(sub.id, True, self.clock(), reason=reason)
        log.warning(
            "digest #%d paused: %s channel %s is out of reach (%s)",
            sub.id,
            sub.platform,
            sub.channel_id,
            gone.reason,
        )
        channel = sub.channel_id if sub.platform == "console" else channel_ref(sub.channel_id)
        notice = Reply(
            title=f"Digest #{sub.id} paused",
            text=(
                f"The {sub.kind} digest for {channel} is paused: {data(reason)}. "
                f"Add the bot to the channel (or unarchive it), then `digest resume {sub.id}`; "
                f"or `digest remove {sub.id}`."
            ),
            kind=Kind.WARNING,
        )
        poster = self.posters[sub.platform]
        admin = ChannelRef(sub.platform, sub.created_by, sub.workspace_id, direct=True)
        try:
            await poster.post(admin, notice)
        except Exception as exc:
            log.warning(
                "could not tell %s that digest #%d was paused (%s); `digest list` shows it",
                sub.created_by,
                sub.id,
                type(exc).__name__,
            )
