"""Shared dedupe of Slack deliveries on the bot's database (``mlc_bot_seen``), for when
``REDIS_URL`` is not set; :mod:`.redis_seen` is the same on Redis.

Both implement the Slack adapter's ``SeenRequests``: True for the first process to offer a
delivery key, False for every later offer within the TTL, in any process, before or after
a restart. When the store is away the answer is True (the delivery runs: this process's
memory already dropped its own repeats), said once in the log, not per request.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from commands.digests.store import StorageUnavailable

from .outage import Outage

if TYPE_CHECKING:
    from ..storage.lazy import LazyDatabase
    from ..storage.seen import SeenRecords

__all__ = ["BACK", "LOST", "DatabaseSeen"]

log = logging.getLogger("mlc_bot.shared")

LOST = (
    "shared delivery dedupe unavailable ({where}: {error}); until it is back, a Slack retry"
    " that reaches another process, or this one after a restart, may run again"
)
BACK = "shared delivery dedupe is back ({where})"


class DatabaseSeen:
    """Delivery keys in ``DATABASE_URL`` (opened and migrated on first use)."""

    def __init__(self, database: LazyDatabase) -> None:
        self._database = database
        self._records: SeenRecords | None = None
        self.outage = Outage(log, lost=LOST, back=BACK)

    def __repr__(self) -> str:
        return "<DatabaseSeen>"

    async def first_time(self, key: str, ttl: float) -> bool:
        if self.outage.skipping:
            return True
        try:
            async with self._database.opened(quiet=True) as store:
                from ..storage.seen import SeenRecords

                if self._records is None or self._records.engine is not store.engine:
                    self._records = SeenRecords(store.engine)
                first = await self._records.first_time(key, ttl)
        except StorageUnavailable as exc:
            cause = exc.__cause__ or exc
            self.outage.failed("the database", self._database.describe(cause))
            return True
        except Exception as exc:  # whatever else stops the check, the delivery still runs
            self.outage.failed("the database", type(exc).__name__)
            return True
        self.outage.worked("the database")
        return first

    async def aclose(self) -> None:
        """Nothing of its own to close: the database is the core's."""
