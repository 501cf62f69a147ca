"""Digest subscriptions and deliveries in the database: the scheduler's source of truth."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Self

from sqlalchemy import ColumnElement, Row, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from commands.digests.store import NewSubscription, Subscription

from .engine import create_engine
from .migrate import migrate
from .schema import deliveries, revisions, subscriptions

__all__ = [
    "DEFAULT_LEASE",
    "DeliveryRecord",
    "DeliveryStatus",
    "DigestStore",
    "Lease",
]

_REVISION = "digests"

DEFAULT_LEASE = timedelta(seconds=60)
"""How long a claim holds without renewal. Its holder renews it every third of this; a
crashed holder's digests are sent by another scheduler about this long after the crash.
Well inside the few minutes Discord remembers a message nonce."""


class DeliveryStatus(enum.StrEnum):
    CLAIMED = "claimed"  # a scheduler holds the period's lease and is building or posting it
    POSTED = "posted"
    FAILED = "failed"  # the API or the channel failed; a notice went out instead
    SKIPPED = "skipped"  # missed while down, too old to matter


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    subscription_id: int
    period: str
    status: DeliveryStatus
    claimed_by: str | None
    claimed_utc: datetime
    finished_utc: datetime | None
    request_id: str | None
    detail: str | None
    lease_expires_utc: datetime | None = None
    attempt: int = 1
    """1 for the first holder; each takeover of an expired lease adds one."""
    posting_started_utc: datetime | None = None
    """When a holder began posting: from then on the platform may show the message."""


@dataclass(frozen=True, slots=True)
class Lease:
    """A period held for posting by one scheduler, until ``expires_utc`` unless renewed."""

    subscription_id: int
    period: str
    holder: str
    attempt: int
    expires_utc: datetime
    previous_holder: str | None = None
    """Set when this lease was taken over from a holder that stopped renewing it."""
    posting_started_utc: datetime | None = None
    """Set when a previous holder had begun posting: the message may already be there."""


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
        return _subscription(row)

    async def get(self, subscription_id: int) -> Subscription | None:
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    select(subscriptions).where(subscriptions.c.id == subscription_id)
                )
            ).one_or_none()
        return _subscription(row) if row else None

    async def list_all(self, *, active_only: bool = False) -> list[Subscription]:
        query = select(subscriptions).order_by(subscriptions.c.id)
        if active_only:
            query = query.where(subscriptions.c.paused.is_(False))
        async with self.engine.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [_subscription(r) for r in rows]

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
        return [_subscription(r) for r in rows]

    async def list_in_channel(self, platform: str, channel_id: str) -> list[Subscription]:
        """The subscriptions of one channel, whatever workspace they were recorded under."""
        where = and_(subscriptions.c.platform == platform, subscriptions.c.channel_id == channel_id)
        query = select(subscriptions).where(where).order_by(subscriptions.c.id)
        async with self.engine.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [_subscription(r) for r in rows]

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
        return _subscription(row) if row else None

    async def revision(self) -> int:
        """A counter every subscription change raises; the scheduler polls it."""
        async with self.engine.begin() as conn:
            value = await conn.scalar(
                select(revisions.c.revision).where(revisions.c.name == _REVISION)
            )
        return int(value or 0)

    # -- deliveries: the exactly-once guard ------------------------------------------------

    async def claim(
        self,
        subscription_id: int,
        period: str,
        now: datetime,
        *,
        claimed_by: str,
        lease: timedelta = DEFAULT_LEASE,
    ) -> Lease | None:
        """Take ``period`` for posting, for ``lease``; only the caller given a Lease may post.

        The first claim inserts the row. A row still ``claimed`` whose lease has expired
        (its holder stopped renewing it: it crashed or hung) is taken over instead; of
        schedulers racing for it, exactly one wins. None: someone else has the period, it
        is finished, or the subscription was removed.
        """
        expires = now + lease
        claimed = {"claimed_by": claimed_by, "lease_expires_utc": expires, "attempt": 1}
        if not await self._insert(subscription_id, period, DeliveryStatus.CLAIMED, now, **claimed):
            # The unique (subscription_id, period) row exists, or the subscription was
            # removed meanwhile (foreign key). Only an expired lease can be taken.
            return await self._take_over(subscription_id, period, now, claimed_by, expires)
        return Lease(subscription_id, period, claimed_by, 1, expires)

    async def _insert(
        self, subscription_id: int, period: str, status: DeliveryStatus, now: datetime, **row: Any
    ) -> bool:
        """Insert the period's row, claimed ``now``; False when it has one (or its subscription
        is gone)."""
        statement = insert(deliveries).values(
            subscription_id=subscription_id, period=period, status=status.value, claimed_utc=now
        )
        try:
            async with self.engine.begin() as conn:
                await conn.execute(statement.values(**row))
        except IntegrityError:
            return False
        return True

    async def _take_over(
        self, subscription_id: int, period: str, now: datetime, holder: str, expires: datetime
    ) -> Lease | None:
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(select(deliveries).where(*_period(subscription_id, period)))
            ).one_or_none()
            if row is None or not _expired(row, now):
                return None
            # The attempt seen above must still be there: of two schedulers that both saw
            # the lease expired, the second one's UPDATE matches no row.
            result = await conn.execute(
                update(deliveries)
                .where(
                    *_period(subscription_id, period),
                    deliveries.c.status == DeliveryStatus.CLAIMED.value,
                    deliveries.c.attempt == row.attempt,
                    deliveries.c.lease_expires_utc < now,
                )
                .values(
                    claimed_by=holder,
                    claimed_utc=now,
                    lease_expires_utc=expires,
                    attempt=row.attempt + 1,
                )
            )
            if result.rowcount != 1:
                return None
        return Lease(
            subscription_id,
            period,
            holder,
            row.attempt + 1,
            expires,
            previous_holder=row.claimed_by,
            posting_started_utc=row.posting_started_utc,
        )

    async def renew(self, lease: Lease, now: datetime, duration: timedelta) -> bool:
        """Extend ``lease`` to ``now + duration``; False if it is no longer held by its holder."""
        return await self._update_held(lease, lease_expires_utc=now + duration)

    async def mark_posting(self, lease: Lease, now: datetime, duration: timedelta) -> bool:
        """Record that the post is about to go out (and renew); False: do not post, the
        lease was lost. After this, a scheduler taking the row over knows the platform may
        already show the message."""
        return await self._update_held(
            lease, lease_expires_utc=now + duration, posting_started_utc=now
        )

    async def _update_held(self, lease: Lease, **values: Any) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(update(deliveries).where(*_held(lease)).values(**values))
        return result.rowcount == 1

    async def record_skipped(
        self, subscription_id: int, period: str, now: datetime, *, detail: str
    ) -> bool:
        """Record a run that will not be sent (missed while down and too old to matter).

        False: someone else has the period (or the subscription is gone)."""
        return await self._insert(
            subscription_id, period, DeliveryStatus.SKIPPED, now, finished_utc=now, detail=detail
        )

    async def finish(
        self,
        lease: Lease,
        status: DeliveryStatus,
        now: datetime,
        *,
        request_id: str | None = None,
        detail: str | None = None,
        snapshot: Mapping[str, Any] | None = None,
    ) -> bool:
        """Record how a leased period ended; a posted one becomes the new baseline.

        Only the lease's holder may finish it: False (and nothing written) when another
        scheduler has taken the period over meanwhile.
        """
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(deliveries)
                .where(*_held(lease))
                .values(status=status.value, finished_utc=now, request_id=request_id, detail=detail)
            )
            if result.rowcount != 1:
                return False
            if status is DeliveryStatus.POSTED:
                values: dict[str, Any] = {"last_sent_period": lease.period}
                if snapshot is not None:
                    values["last_snapshot"] = dict(snapshot)
                await conn.execute(
                    update(subscriptions)
                    .where(subscriptions.c.id == lease.subscription_id)
                    .values(**values)
                )
        return True

    async def expired_claims(self, now: datetime) -> list[DeliveryRecord]:
        """Claims whose lease ran out: their holder stopped before finishing them."""
        query = (
            select(deliveries)
            .where(
                deliveries.c.status == DeliveryStatus.CLAIMED.value,
                deliveries.c.lease_expires_utc < now,
            )
            .order_by(deliveries.c.id)
        )
        async with self.engine.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [_delivery(r) for r in rows]

    async def delivery(self, subscription_id: int, period: str) -> DeliveryRecord | None:
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(select(deliveries).where(*_period(subscription_id, period)))
            ).one_or_none()
        return _delivery(row) if row else None

    async def deliveries(self, subscription_id: int | None = None) -> list[DeliveryRecord]:
        query = select(deliveries).order_by(deliveries.c.id)
        if subscription_id is not None:
            query = query.where(deliveries.c.subscription_id == subscription_id)
        async with self.engine.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [_delivery(r) for r in rows]


def _period(subscription_id: int, period: str) -> tuple[ColumnElement[bool], ...]:
    return (deliveries.c.subscription_id == subscription_id, deliveries.c.period == period)


def _held(lease: Lease) -> tuple[ColumnElement[bool], ...]:
    """The row, if ``lease`` still holds it: nobody took it over and it is not finished."""
    return (
        *_period(lease.subscription_id, lease.period),
        deliveries.c.status == DeliveryStatus.CLAIMED.value,
        deliveries.c.claimed_by == lease.holder,
        deliveries.c.attempt == lease.attempt,
    )


def _expired(row: Row[Any], now: datetime) -> bool:
    expires = row.lease_expires_utc
    return row.status == DeliveryStatus.CLAIMED.value and expires is not None and expires < now


def _fields(new: NewSubscription) -> dict[str, Any]:
    return {name: getattr(new, name) for name in NewSubscription.__slots__}


def _subscription(row: Row[Any]) -> Subscription:
    return Subscription(**row._mapping)


def _delivery(row: Row[Any]) -> DeliveryRecord:
    data = dict(row._mapping)
    data.pop("id")
    data["status"] = DeliveryStatus(data["status"])
    return DeliveryRecord(**data)


async def _bump(conn: AsyncConnection) -> None:
    await conn.execute(
        update(revisions)
        .where(revisions.c.name == _REVISION)
        .values(revision=revisions.c.revision + 1)
    )
