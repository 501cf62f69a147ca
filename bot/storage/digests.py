"""Digest subscriptions and deliveries in the database: the scheduler's source of truth."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from sqlalchemy import Row, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .engine import create_engine
from .migrate import migrate
from .schema import deliveries, revisions, subscriptions

__all__ = ["Delivery", "DeliveryStatus", "DigestStore", "NewSubscription", "Subscription"]

_REVISION = "digests"


class DeliveryStatus(enum.StrEnum):
    CLAIMED = "claimed"  # a scheduler took the period and is posting it
    POSTED = "posted"
    FAILED = "failed"  # the API or the channel failed; a notice went out instead
    SKIPPED = "skipped"  # missed while down, too old to matter


@dataclass(frozen=True, slots=True)
class NewSubscription:
    platform: str
    workspace_id: str | None
    channel_id: str
    kind: str
    at_time: str
    timezone: str
    days: str
    created_by: str


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    platform: str
    workspace_id: str | None
    channel_id: str
    kind: str
    at_time: str
    timezone: str
    days: str
    paused: bool
    paused_reason: str | None
    created_by: str
    created_utc: datetime
    updated_utc: datetime
    active_since_utc: datetime
    """Runs scheduled before this are never sent (set on creation and on resume)."""
    last_snapshot: dict[str, Any] | None
    """Figures of the last digest posted, for "change since the previous digest"."""
    last_sent_period: str | None

    @classmethod
    def _from_row(cls, row: Row[Any]) -> Self:
        return cls(**row._mapping)


@dataclass(frozen=True, slots=True)
class Delivery:
    subscription_id: int
    period: str
    status: DeliveryStatus
    claimed_by: str | None
    claimed_utc: datetime
    finished_utc: datetime | None
    request_id: str | None
    detail: str | None


class DigestStore:
    """Reads and writes digest rows. Each method is one short transaction."""

    def __init__(self, engine: AsyncEngine, *, owns_engine: bool = False) -> None:
        self.engine = engine
        self._owns_engine = owns_engine

    @classmethod
    def from_url(cls, database_url: str, **engine_options: Any) -> Self:
        return cls(create_engine(database_url, **engine_options), owns_engine=True)

    async def migrate(self) -> None:
        await migrate(self.engine)

    async def aclose(self) -> None:
        if self._owns_engine:
            await self.engine.dispose()

    # -- subscriptions ---------------------------------------------------------------------

    async def add(self, new: NewSubscription, now: datetime) -> Subscription:
        values = _fields(new) | {
            "paused": False,
            "created_utc": now,
            "updated_utc": now,
            "active_since_utc": now,
        }
        async with self.engine.begin() as conn:
            result = await conn.execute(
                insert(subscriptions).values(**values).returning(*subscriptions.c)
            )
            row = result.one()
            await _bump(conn)
        return Subscription._from_row(row)

    async def get(self, subscription_id: int) -> Subscription | None:
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    select(subscriptions).where(subscriptions.c.id == subscription_id)
                )
            ).one_or_none()
        return Subscription._from_row(row) if row else None

    async def list_all(self, *, active_only: bool = False) -> list[Subscription]:
        query = select(subscriptions).order_by(subscriptions.c.id)
        if active_only:
            query = query.where(subscriptions.c.paused.is_(False))
        async with self.engine.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [Subscription._from_row(r) for r in rows]

    async def list_for(self, platform: str, workspace_id: str | None) -> list[Subscription]:
        """The subscriptions of one workspace (``None``: the console's)."""
        where = and_(
            subscriptions.c.platform == platform,
            subscriptions.c.workspace_id.is_(None)
            if workspace_id is None
            else subscriptions.c.workspace_id == workspace_id,
        )
        query = select(subscriptions).where(where).order_by(subscriptions.c.id)
        async with self.engine.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [Subscription._from_row(r) for r in rows]

    async def remove(self, subscription_id: int) -> bool:
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(deliveries).where(deliveries.c.subscription_id == subscription_id)
            )
            result = await conn.execute(
                delete(subscriptions).where(subscriptions.c.id == subscription_id)
            )
            removed = result.rowcount > 0
            if removed:
                await _bump(conn)
        return removed

    async def set_paused(
        self, subscription_id: int, paused: bool, now: datetime, *, reason: str | None = None
    ) -> Subscription | None:
        """Pause (with an optional reason) or resume. Resuming never replays a backlog."""
        values: dict[str, Any] = {"paused": paused, "paused_reason": reason, "updated_utc": now}
        if not paused:
            values["active_since_utc"] = now
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(subscriptions)
                .where(subscriptions.c.id == subscription_id)
                .values(**values)
                .returning(*subscriptions.c)
            )
            row = result.one_or_none()
            if row is not None:
                await _bump(conn)
        return Subscription._from_row(row) if row else None

    async def revision(self) -> int:
        """A counter every subscription change raises; the scheduler polls it."""
        async with self.engine.begin() as conn:
            value = await conn.scalar(
                select(revisions.c.revision).where(revisions.c.name == _REVISION)
            )
        return int(value or 0)

    # -- deliveries: the exactly-once guard ------------------------------------------------

    async def claim(
        self, subscription_id: int, period: str, now: datetime, *, claimed_by: str
    ) -> bool:
        """Take ``period`` for posting. Only the one caller that gets True may post it."""
        return await self._insert_delivery(
            subscription_id, period, DeliveryStatus.CLAIMED, now, claimed_by=claimed_by
        )

    async def record_skipped(
        self, subscription_id: int, period: str, now: datetime, *, detail: str
    ) -> bool:
        return await self._insert_delivery(
            subscription_id, period, DeliveryStatus.SKIPPED, now, finished=now, detail=detail
        )

    async def _insert_delivery(
        self,
        subscription_id: int,
        period: str,
        status: DeliveryStatus,
        now: datetime,
        *,
        claimed_by: str | None = None,
        finished: datetime | None = None,
        detail: str | None = None,
    ) -> bool:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    insert(deliveries).values(
                        subscription_id=subscription_id,
                        period=period,
                        status=status.value,
                        claimed_by=claimed_by,
                        claimed_utc=now,
                        finished_utc=finished,
                        detail=detail,
                    )
                )
        except IntegrityError:
            # The unique (subscription_id, period) row exists: someone else has it. A
            # subscription removed meanwhile also lands here (foreign key): nothing to send.
            return False
        return True

    async def finish(
        self,
        subscription_id: int,
        period: str,
        status: DeliveryStatus,
        now: datetime,
        *,
        request_id: str | None = None,
        detail: str | None = None,
        snapshot: Mapping[str, Any] | None = None,
    ) -> None:
        """Record how a claimed period ended; a posted one becomes the new baseline."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.subscription_id == subscription_id,
                    deliveries.c.period == period,
                )
                .values(status=status.value, finished_utc=now, request_id=request_id, detail=detail)
            )
            if status is DeliveryStatus.POSTED:
                values: dict[str, Any] = {"last_sent_period": period}
                if snapshot is not None:
                    values["last_snapshot"] = dict(snapshot)
                await conn.execute(
                    update(subscriptions)
                    .where(subscriptions.c.id == subscription_id)
                    .values(**values)
                )

    async def delivery(self, subscription_id: int, period: str) -> Delivery | None:
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    select(deliveries).where(
                        deliveries.c.subscription_id == subscription_id,
                        deliveries.c.period == period,
                    )
                )
            ).one_or_none()
        return _delivery(row) if row else None

    async def deliveries(self, subscription_id: int | None = None) -> list[Delivery]:
        query = select(deliveries).order_by(deliveries.c.id)
        if subscription_id is not None:
            query = query.where(deliveries.c.subscription_id == subscription_id)
        async with self.engine.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [_delivery(r) for r in rows]


def _fields(new: NewSubscription) -> dict[str, Any]:
    return {name: getattr(new, name) for name in NewSubscription.__slots__}


def _delivery(row: Row[Any]) -> Delivery:
    data = dict(row._mapping)
    data.pop("id")
    data["status"] = DeliveryStatus(data["status"])
    return Delivery(**data)


async def _bump(conn: AsyncConnection) -> None:
    await conn.execute(
        update(revisions)
        .where(revisions.c.name == _REVISION)
        .values(revision=revisions.c.revision + 1)
    )
