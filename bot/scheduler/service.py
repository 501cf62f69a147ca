"""The digest commands' side of the database: add, list, remove, pause, resume, preview.

Cheap to build: nothing is imported or connected until the first command needs the
database, which is then migrated once. Adapters put one in ``ctx.services["digests"]``
(see :func:`build_digest_service`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.mylivechat import MyLiveChatClient
from commands.reply import Reply

from .clock import Clock, utc_now
from .content import build_digest
from .schedule import Schedule

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.storage import DigestStore, Subscription

__all__ = ["DigestService", "Place", "StorageUnavailable", "build_digest_service"]

log = logging.getLogger("mlc_bot.digests")

PREVIEW_NOTE = "Preview: scheduled digests are not affected."


class StorageUnavailable(Exception):
    """The database could not be reached; the message is safe to show (no URL)."""

    def __init__(self) -> None:
        super().__init__(
            "The bot's database is not reachable right now, so digests cannot be read or "
            "changed. An admin should check DATABASE_URL and the database server."
        )


@dataclass(frozen=True, slots=True)
class Place:
    """The channel a command was typed in."""

    platform: str
    workspace_id: str | None
    channel_id: str


class DigestService:
    """Digest subscriptions as the commands see them: scoped to one workspace."""

    def __init__(
        self,
        database_url: str | None = None,
        *,
        store: DigestStore | None = None,
        clock: Clock = utc_now,
    ) -> None:
        if database_url is None and store is None:
            raise ValueError("give a database URL or a store")
        self._database_url = database_url
        self._store = store
        self._owns_store = store is None
        self._migrated = False
        self._lock = asyncio.Lock()
        self.clock = clock

    async def aclose(self) -> None:
        """Dispose of the database engine if this service opened it; safe to call twice.

        A store given to the constructor belongs to the caller and is left open. On SQLite,
        closing the last connection also folds the ``-wal`` file back and removes it and the
        ``-shm`` file. A later command opens the database again.
        """
        store = self._store
        if not self._owns_store or store is None:
            return
        async with self._lock:
            self._store, self._migrated = None, False
            await store.aclose()

    @contextlib.asynccontextmanager
    async def _database(self) -> AsyncIterator[DigestStore]:
        """The store, created and migrated on first use; its failures become one error."""
        try:
            async with self._lock:
                if self._store is None:
                    from bot.storage import DigestStore

                    assert self._database_url is not None
                    self._store = DigestStore.from_url(self._database_url)
                if not self._migrated:
                    await self._store.migrate()
                    self._migrated = True
            yield self._store
        except (OSError, TimeoutError) as exc:
            raise self._unavailable(exc) from exc
        except Exception as exc:
            from sqlalchemy.exc import InterfaceError, OperationalError

            if isinstance(exc, OperationalError | InterfaceError):
                raise self._unavailable(exc) from exc
            raise

    def _unavailable(self, exc: BaseException) -> StorageUnavailable:
        from bot.storage import display_url

        where = display_url(self._database_url) if self._database_url else "the database"
        log.error("digest database %s unavailable: %s", where, type(exc).__name__)
        return StorageUnavailable()

    async def add(
        self, place: Place, *, kind: str, schedule: Schedule, created_by: str
    ) -> tuple[Subscription, bool]:
        """Subscribe ``place``; returns (subscription, created). An identical one is reused."""
        from bot.storage import NewSubscription

        async with self._database() as store:
            for existing in await store.list_for(place.platform, place.workspace_id):
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
            return await store.add(new, self.clock()), True

    async def list(self, platform: str, workspace_id: str | None) -> list[Subscription]:
        async with self._database() as store:
            return await store.list_for(platform, workspace_id)

    async def get(self, subscription_id: int, place: Place) -> Subscription | None:
        """The subscription, if it belongs to ``place``'s workspace (ids are global)."""
        async with self._database() as store:
            sub = await store.get(subscription_id)
        if sub is None or (sub.platform, sub.workspace_id) != (place.platform, place.workspace_id):
            return None
        return sub

    async def remove(self, subscription_id: int, place: Place) -> Subscription | None:
        sub = await self.get(subscription_id, place)
        if sub is not None:
            async with self._database() as store:
                await store.remove(sub.id)
        return sub

    async def set_paused(
        self, subscription_id: int, place: Place, paused: bool
    ) -> Subscription | None:
        """Pause or resume; resuming starts from the next run (no backlog)."""
        sub = await self.get(subscription_id, place)
        if sub is None or sub.paused == paused:
            return sub
        async with self._database() as store:
            return await store.set_paused(sub.id, paused, self.clock())

    async def preview(
        self, api: MyLiveChatClient, kind: str, place: Place, *, zone_name: str
    ) -> Reply:
        """The digest as it would be posted now, as a private reply. Nothing is recorded.

        It compares against this channel's subscription of that kind when there is one,
        else it covers the last day.
        """
        now = self.clock()
        here = [
            s
            for s in await self.list(place.platform, place.workspace_id)
            if s.channel_id == place.channel_id and s.kind == kind
        ]
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


def build_digest_service(settings: Settings, *, clock: Clock = utc_now) -> DigestService:
    """The service for ``ctx.services["digests"]``, on ``DATABASE_URL``. No I/O here."""
    return DigestService(settings.database_url, clock=clock)
