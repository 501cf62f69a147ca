"""Delivery keys any process has run (``mlc_bot_seen``): shared dedupe on the database.

Used when ``REDIS_URL`` is not set. A key is one row, named by a hash of the key, whose
primary key makes the first insert win across processes. A row past its expiry is taken
over by the same statement's conditional update (``INSERT ... ON CONFLICT DO UPDATE ...
WHERE expired``), so of processes racing for it one wins, and a concurrent sweep cannot
make both lose. Expired rows are deleted now and then by whichever process wins next.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from .schema import seen

__all__ = ["SWEEP_EVERY", "SeenRecords", "row_key"]

SWEEP_EVERY = 60.0
"""Seconds between one process's deletions of expired keys."""


def row_key(key: str) -> str:
    """The row's name for ``key``: its hash (a delivery key is no secret, but need not be
    readable in the database either)."""
    return hashlib.sha256(b"mlc-bot seen\0" + key.encode()).hexdigest()


class SeenRecords:
    """The ``mlc_bot_seen`` table on an engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._swept_at: float | None = None

    async def first_time(self, key: str, ttl: float, *, now: datetime | None = None) -> bool:
        """True for the first process to offer ``key`` within ``ttl`` seconds, False after."""
        now = now or datetime.now(UTC)
        expires = now + timedelta(seconds=ttl)
        async with self.engine.begin() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            offered = dialect.insert(seen).values(key=row_key(key), expires_utc=expires)
            statement = offered.on_conflict_do_update(
                index_elements=[seen.c.key],
                set_={"expires_utc": offered.excluded.expires_utc},
                where=seen.c.expires_utc <= now,
            ).returning(seen.c.key)
            won = (await conn.execute(statement)).first() is not None
        if won:
            await self._sweep(now)
        return won

    async def sweep(self, now: datetime | None = None) -> int:
        """Delete the keys expired by ``now``; how many."""
        async with self.engine.begin() as conn:
            gone = await conn.execute(delete(seen).where(seen.c.expires_utc <= (now or _now())))
        return int(gone.rowcount or 0)

    async def _sweep(self, now: datetime) -> None:
        clock = time.monotonic()
        if self._swept_at is not None and clock - self._swept_at < SWEEP_EVERY:
            return
        self._swept_at = clock
        await self.sweep(now)


def _now() -> datetime:
    return datetime.now(UTC)
