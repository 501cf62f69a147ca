"""What the ``digest`` commands do: add, list, remove, pause, resume, preview, per workspace."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.mylivechat import MyLiveChatClient

from ..place import Place
from ..reply import Reply
from .content import build_digest
from .schedule import Schedule
from .store import NewSubscription, Subscription, SubscriptionStore

__all__ = ["PREVIEW_NOTE", "DigestService", "Place"]

PREVIEW_NOTE = "Preview: scheduled digests are not affected."


class DigestService:
    """Digest subscriptions as the commands see them: scoped to one workspace."""

    def __init__(
        self,
        store: SubscriptionStore,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.clock = clock

    async def add(
        self, place: Place, *, kind: str, schedule: Schedule, created_by: str
    ) -> tuple[Subscription, bool]:
        """Subscribe ``place``; returns (subscription, created). An identical one is reused."""
        for existing in await self.within(place):
            same = (
                existing.channel_id == place.channel_id
                and existing.kind == kind
                and Schedule.of(existing) == schedule
            )
            if same:
                return existing, False
        new = NewSubscription(
            platform=place.platform,
            workspace_id=place.workspace_id,
            channel_id=place.channel_id,
            kind=kind,
            at_time=schedule.at_time,
            timezone=schedule.timezone,
            days=schedule.days,
            created_by=created_by,
        )
        return await self.store.add(new, self.clock()), True

    async def list(self, platform: str, workspace_id: str | None) -> list[Subscription]:
        return await self.store.list_for(platform, workspace_id)

    async def within(self, place: Place) -> list[Subscription]:
        """The subscriptions ``place`` reaches: its workspace's, or (``by_channel``) its
        channel's."""
        if place.by_channel:
            return await self.store.list_in_channel(place.platform, place.channel_id)
        return await self.store.list_for(place.platform, place.workspace_id)

    async def recorded_workspace(self, platform: str, channel_id: str) -> str | None:
        """The workspace the channel's digests were recorded under, when they agree."""
        known = {s.workspace_id for s in await self.store.list_in_channel(platform, channel_id)}
        known.discard(None)
        return known.pop() if len(known) == 1 else None

    async def get(self, subscription_id: int, place: Place) -> Subscription | None:
        """The subscription, if ``place`` reaches it (ids are global)."""
        sub = await self.store.get(subscription_id)
        if sub is None or not place.holds(sub):
            return None
        return sub

    async def remove(self, subscription_id: int, place: Place) -> Subscription | None:
        sub = await self.get(subscription_id, place)
        if sub is not None:
            await self.store.remove(sub.id)
        return sub

    async def set_paused(
        self, subscription_id: int, place: Place, paused: bool
    ) -> Subscription | None:
        """Pause or resume; resuming starts from the next run (no backlog)."""
        sub = await self.get(subscription_id, place)
        if sub is None or sub.paused == paused:
            return sub
        return await self.store.set_paused(sub.id, paused, self.clock())

    async def preview(
        self, api: MyLiveChatClient, kind: str, place: Place | None, *, zone_name: str
    ) -> Reply:
        """The digest as it would be posted now, as a private reply. Nothing is recorded.

        It compares against the channel's subscription of that kind when there is one (no
        ``place``: there is none), else it covers the last day.
        """
        now = self.clock()
        here = (
            []
            if place is None
            else [
                s
                for s in await self.within(place)
                if s.channel_id == place.channel_id and s.kind == kind
            ]
        )
        sub = here[0] if here else None
        schedule = Schedule.of(sub) if sub else Schedule("09:00", zone_name, "daily")
        digest = await build_digest(
            kind,
            api,
            now=now,
            zone=schedule.zone,
            previous=sub.last_snapshot if sub else None,
            window=schedule.interval_before(now) if sub else timedelta(days=1),
        )
        # Private like any reply: the command's --public flag decides who sees it.
        return replace(digest.reply, notes=(*digest.reply.notes, PREVIEW_NOTE), private=True)
