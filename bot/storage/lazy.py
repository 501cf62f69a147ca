"""The core's subscription store on ``DATABASE_URL``, opened and migrated on first use.

Building one costs nothing (``mlc-bot exec`` does not import SQLAlchemy for a command that
does not touch digests); the first call creates the engine and brings the schema up to
date. A database that cannot be reached becomes the core's :class:`StorageUnavailable`,
with one log line that names the database without its password.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING

from commands.digests.store import NewSubscription, StorageUnavailable, Subscription

from .failures import cannot_open

if TYPE_CHECKING:
    from .alerts import AlertRecords
    from .digests import DigestStore

__all__ = ["LazyDatabase", "LazySubscriptionStore"]

log = logging.getLogger("mlc_bot.storage")


class LazyDatabase:
    """``DATABASE_URL``, connected and migrated when first used; one engine for everything."""

    def __init__(self, database_url: str, **engine_options: object) -> None:
        self._database_url = database_url
        self._engine_options = engine_options
        self._store: DigestStore | None = None
        self._migrated = False
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        """Dispose of the engine; safe to call twice. A later call opens it again.

        On SQLite, closing the last connection also folds the ``-wal`` file back and
        removes it and the ``-shm`` file.
        """
        async with self._lock:
            store, self._store, self._migrated = self._store, None, False
        if store is not None:
            await store.aclose()

    @contextlib.asynccontextmanager
    async def opened(self, *, quiet: bool = False) -> AsyncIterator[DigestStore]:
        """The store, opened and migrated on first use; an unreachable database raises the
        core's :class:`StorageUnavailable` (with one log line, none when ``quiet``: the
        caller says it once for all its requests)."""
        try:
            async with self._lock:
                if self._store is None:
                    from .digests import DigestStore

                    self._store = DigestStore.from_url(self._database_url, **self._engine_options)
                if not self._migrated:
                    await self._store.migrate()
                    self._migrated = True
        except Exception as exc:
            # Anything that stops the database from opening (refused, no such database,
            # not a database file) is the same to a user: it is not there.
            if cannot_open(exc) is None:
                raise
            raise self._unavailable(exc, quiet) from exc
        try:
            yield self._store
        except (OSError, TimeoutError) as exc:
            raise self._unavailable(exc, quiet) from exc
        except Exception as exc:
            from sqlalchemy.exc import InterfaceError, OperationalError

            if isinstance(exc, OperationalError | InterfaceError):
                raise self._unavailable(exc, quiet) from exc
            raise

    async def store(self) -> DigestStore:
        """The whole schema's store, opened and migrated (the scheduler works on it)."""
        async with self.opened() as store:
            return store

    @contextlib.asynccontextmanager
    async def alert_records(self) -> AsyncIterator[AlertRecords]:
        """The alert tables, on the same engine (and with the same error mapping)."""
        async with self.opened() as store:
            from .alerts import AlertRecords

            yield AlertRecords(store.engine)

    def _unavailable(self, exc: BaseException, quiet: bool = False) -> StorageUnavailable:
        from .urls import display_url

        if quiet:
            return StorageUnavailable()
        log.error(
            "digest database %s unavailable: %s",
            display_url(self._database_url),
            cannot_open(exc) or type(exc).__name__,
        )
        return StorageUnavailable()

    def describe(self, exc: BaseException) -> str:
        """The database and why it failed, for a log line (never its password)."""
        from .urls import display_url

        return f"{display_url(self._database_url)}: {cannot_open(exc) or type(exc).__name__}"


class LazySubscriptionStore:
    """The core's :class:`~commands.digests.store.SubscriptionStore` on a lazy database."""

    def __init__(self, database: LazyDatabase | str) -> None:
        self.database = database if isinstance(database, LazyDatabase) else LazyDatabase(database)
        self._opened = self.database.opened

    async def aclose(self) -> None:
        await self.database.aclose()

    @property
    def _store(self) -> DigestStore | None:
        return self.database._store

    async def add(self, new: NewSubscription, now: datetime) -> Subscription:
        async with self._opened() as store:
            return await store.add(new, now)

    async def get(self, subscription_id: int) -> Subscription | None:
        async with self._opened() as store:
            return await store.get(subscription_id)

    async def list_for(self, platform: str, workspace_id: str | None) -> list[Subscription]:
        async with self._opened() as store:
            return await store.list_for(platform, workspace_id)

    async def list_in_channel(self, platform: str, channel_id: str) -> list[Subscription]:
        async with self._opened() as store:
            return await store.list_in_channel(platform, channel_id)

    async def remove(self, subscription_id: int) -> bool:
        async with self._opened() as store:
            return await store.remove(subscription_id)

    async def set_paused(
        self, subscription_id: int, paused: bool, now: datetime, *, reason: str | None = None
    ) -> Subscription | None:
        async with self._opened() as store:
            return await store.set_paused(subscription_id, paused, now, reason=reason)
