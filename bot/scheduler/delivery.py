"""Sending one digest for one period: claim it, build it, post it, record how it went."""

from __future__ import annotations

import enum
import logging
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.mylivechat import MyLiveChatClient, MyLiveChatError
from bot.storage import DeliveryStatus, DigestStore, Subscription
from commands.reply import Kind, Reply

from .clock import Clock, utc_now
from .content import DigestData, build_digest, failure_notice
from .posting import ChannelGone, ChannelRef, Poster
from .schedule import DueRun, Schedule, format_run

__all__ = ["DigestSender", "Outcome"]

log = logging.getLogger("mlc_bot.digests")


class Outcome(enum.StrEnum):
    POSTED = "posted"
    DUPLICATE = "duplicate"  # another scheduler (or an earlier run) has the period
    FAILED = "failed"  # MyLiveChat or the platform failed; tried again at the next run
    CHANNEL_GONE = "channel-gone"  # the subscription is now paused
    SKIPPED = "skipped"  # too old to matter
    NO_POSTER = "no-poster"  # this process cannot post to that platform


@dataclass(frozen=True, slots=True)
class _Prepared:
    reply: Reply
    status: DeliveryStatus
    snapshot: dict[str, Any] | None = None
    request_id: str | None = None


class DigestSender:
    """Posts a subscription's digest for one period, at most once across every process.

    The period is claimed in the database before anything is built or posted: only the
    process whose INSERT wins posts. A crash after the claim loses that one digest rather
    than risking a second copy.
    """

    def __init__(
        self,
        store: DigestStore,
        api: MyLiveChatClient,
        posters: Mapping[str, Poster],
        *,
        clock: Clock = utc_now,
        instance: str | None = None,
    ) -> None:
        self.store = store
        self.data = DigestData(api)
        self.posters = dict(posters)
        self.clock = clock
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._warned_platforms: set[str] = set()

    async def send(self, sub: Subscription, due: DueRun) -> Outcome:
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
        if not await self.store.claim(sub.id, due.period, self.clock(), claimed_by=self.instance):
            log.info("digest #%d for %s was already claimed; not sending", sub.id, due.period)
            return Outcome.DUPLICATE
        try:
            prepared = await self._prepare(sub, due)
        except Exception:
            log.exception("digest #%d for %s could not be built", sub.id, due.period)
            await self._finish(sub, due, DeliveryStatus.FAILED, detail="internal error")
            return Outcome.FAILED
        channel = ChannelRef(sub.platform, sub.channel_id, sub.workspace_id)
        try:
            await poster.post(channel, prepared.reply)
        except ChannelGone as gone:
            await self._finish(sub, due, DeliveryStatus.FAILED, detail=str(gone))
            await self._pause_gone(sub, gone)
            return Outcome.CHANNEL_GONE
        except Exception as exc:
            log.warning(
                "digest #%d for %s could not be posted (%s); trying again at the next run",
                sub.id,
                due.period,
                type(exc).__name__,
            )
            await self._finish(sub, due, DeliveryStatus.FAILED, detail=type(exc).__name__)
            return Outcome.FAILED
        await self._finish(
            sub, due, prepared.status, request_id=prepared.request_id, snapshot=prepared.snapshot
        )
        if prepared.status is DeliveryStatus.POSTED:
            log.info("digest #%d (%s) posted for %s", sub.id, sub.kind, due.period)
            return Outcome.POSTED
        return Outcome.FAILED

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
        sub: Subscription,
        due: DueRun,
        status: DeliveryStatus,
        *,
        detail: str | None = None,
        request_id: str | None = None,
        snapshot: dict[str, Any] | None = None,
    ) -> None:
        await self.store.finish(
            sub.id,
            due.period,
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
        notice = Reply(
            title=f"Digest #{sub.id} paused",
            text=(
                f"The {sub.kind} digest for channel {sub.channel_id} is paused: {reason}. "
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
