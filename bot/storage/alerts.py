"""Alert rules, the webhook secret, the event outbox and the alerts posted from it.

Every guard that makes something happen once is a row the database enforces: one event
row per event id (redeliveries and replays), one alert per (event, rule), a lease on an
event or an alert while a process routes or posts it (a crashed holder's work is taken over
when its lease runs out), and claims taken with a conditional UPDATE (the first wins).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Table, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from commands.alerts.model import Alert, AlertEvent, NewRule, Rule
from commands.alerts.store import Claim

from .schema import alert_events, alert_rules, alerts, webhook_secrets

__all__ = ["AlertRecords", "Posting"]


@dataclass(frozen=True, slots=True)
class Posting:
    """An alert a process holds the lease of, to post it."""

    alert: Alert
    started_before: datetime | None
    """When a previous holder began posting it: the message may be there already."""


class AlertRecords:
    """Reads and writes alert rows. Each method is one short transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # -- rules -----------------------------------------------------------------------------

    async def add_rule(self, new: NewRule, now: datetime) -> Rule:
        values = {
            "platform": new.platform,
            "workspace_id": new.workspace_id,
            "channel_id": new.channel_id,
            "event": new.event,
            "reason": new.reason,
            "sla_seconds": new.sla_seconds,
            "mention": new.mention,
            "max_rating": new.max_rating,
            "with_comment": new.with_comment,
            "paused": False,
            "created_by": new.created_by,
            "created_utc": now,
        }
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(insert(alert_rules).values(**values).returning(*alert_rules.c))
            ).one()
        return _rule(row)

    async def rule(self, rule_id: int) -> Rule | None:
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(select(alert_rules).where(alert_rules.c.id == rule_id))
            ).one_or_none()
        return _rule(row) if row else None

    async def rules(
        self, *, platform: str | None = None, workspace_id: str | None = None, any_place: bool
    ) -> list[Rule]:
        query = select(alert_rules).order_by(alert_rules.c.id)
        if not any_place:
            query = query.where(
                alert_rules.c.platform == platform,
                alert_rules.c.workspace_id.is_(None)
                if workspace_id is None
                else alert_rules.c.workspace_id == workspace_id,
            )
        async with self.engine.begin() as conn:
            return [_rule(r) for r in (await conn.execute(query)).all()]

    async def remove_rule(self, rule_id: int) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(alert_rules).where(alert_rules.c.id == rule_id))
        return result.rowcount > 0

    async def pause_rule(self, rule_id: int, paused: bool) -> Rule | None:
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    update(alert_rules)
                    .where(alert_rules.c.id == rule_id)
                    .values(paused=paused)
                    .returning(*alert_rules.c)
                )
            ).one_or_none()
        return _rule(row) if row else None

    # -- the webhook secret (encrypted by the caller) ----------------------------------------

    async def put_secret(
        self, subscription_id: int, token: str, now: datetime, *, grace: timedelta
    ) -> None:
        """Keep ``token``; the current ones (of any subscription) verify for ``grace`` more."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(webhook_secrets)
                .where(webhook_secrets.c.retired_utc.is_(None))
                .values(retired_utc=now, valid_until_utc=now + grace)
            )
            await conn.execute(
                delete(webhook_secrets).where(webhook_secrets.c.valid_until_utc < now)
            )
            await conn.execute(
                insert(webhook_secrets).values(
                    subscription_id=subscription_id, secret=token, created_utc=now
                )
            )

    async def secrets(self, now: datetime) -> list[tuple[str, datetime | None]]:
        """(token, valid until: None while current) of the secrets valid at ``now``, newest
        first."""
        query = (
            select(webhook_secrets.c.secret, webhook_secrets.c.valid_until_utc)
            .where(
                or_(
                    webhook_secrets.c.retired_utc.is_(None),
                    webhook_secrets.c.valid_until_utc >= now,
                )
            )
            .order_by(webhook_secrets.c.id.desc())
        )
        async with self.engine.begin() as conn:
            return [(r.secret, r.valid_until_utc) for r in (await conn.execute(query)).all()]

    async def current_subscription(self) -> int | None:
        query = select(webhook_secrets.c.subscription_id).where(
            webhook_secrets.c.retired_utc.is_(None)
        )
        async with self.engine.begin() as conn:
            return await conn.scalar(query.order_by(webhook_secrets.c.id.desc()).limit(1))

    async def forget_secrets(self) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(webhook_secrets))

    # -- the event outbox ------------------------------------------------------------------

    async def enqueue(self, event: AlertEvent, now: datetime) -> bool:
        """Keep a received event; False when its id was kept before."""
        (kept,) = await self.enqueue_many([event], now)
        return kept

    async def enqueue_many(self, events: Sequence[AlertEvent], now: datetime) -> list[bool]:
        """Keep received events in one transaction; for each, False when its id was kept
        before (or earlier in ``events``)."""
        first: dict[str, AlertEvent] = {}
        for event in events:
            first.setdefault(event.event_id, event)
        rows = [
            {
                "event_id": event.event_id,
                "kind": event.kind,
                "site_id": event.site_id,
                "occurred_utc": event.occurred_utc,
                "payload": event.data,
                "received_utc": now,
            }
            for event in first.values()
        ]
        async with self.engine.begin() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            statement = (
                dialect.insert(alert_events)
                .values(rows)
                .on_conflict_do_nothing(index_elements=[alert_events.c.event_id])
                .returning(alert_events.c.event_id)
            )
            inserted = set((await conn.execute(statement)).scalars())
        kept = []
        for event in events:
            kept.append(event.event_id in inserted)
            inserted.discard(event.event_id)  # a second copy in this batch is a redelivery
        return kept

    async def take_events(
        self, holder: str, now: datetime, lease: timedelta, *, limit: int = 50
    ) -> list[tuple[int, AlertEvent]]:
        """Lease events not routed yet (new, or whose holder's lease ran out)."""
        waiting = and_(alert_events.c.routed_utc.is_(None), _unleased(alert_events, now))
        query = select(alert_events).where(waiting).order_by(alert_events.c.id).limit(limit)
        async with self.engine.begin() as conn:
            rows = (await conn.execute(query.with_for_update(skip_locked=True))).all()
            won = await _lease(
                conn, alert_events, [r.id for r in rows], waiting, holder, now, lease
            )
        return [(row.id, _event(row)) for row in rows if row.id in won]

    async def route(self, routes: Sequence[tuple[int, Sequence[Rule]]], now: datetime) -> None:
        """For each (event row, matching rules): one alert per rule (none twice), and the
        event marked routed; all in one transaction."""
        if not routes:
            return
        rows = [row for row, _ in routes]
        async with self.engine.begin() as conn:
            found = await conn.execute(
                select(alerts.c.event_row_id, alerts.c.rule_id).where(
                    alerts.c.event_row_id.in_(rows)
                )
            )
            existing = {(row, rule) for row, rule in found}
            new = [
                {
                    "event_row_id": row,
                    "rule_id": rule.id,
                    "platform": rule.platform,
                    "workspace_id": rule.workspace_id,
                    "channel_id": rule.channel_id,
                    "mention": rule.mention,
                    "sla_seconds": rule.sla_seconds,
                    "created_utc": now,
                }
                for row, rules in routes
                for rule in rules
                if (row, rule.id) not in existing
            ]
            if new:
                await conn.execute(insert(alerts), new)
            await conn.execute(
                update(alert_events)
                .where(alert_events.c.id.in_(rows))
                .values(routed_utc=now, holder=None, lease_expires_utc=None)
            )

    # -- posting alerts --------------------------------------------------------------------

    async def take_postings(
        self, holder: str, now: datetime, lease: timedelta, *, limit: int = 50
    ) -> list[Posting]:
        """Lease alerts not posted yet (new, or whose holder's lease ran out)."""
        waiting = and_(alerts.c.posted_utc.is_(None), _unleased(alerts, now))
        return await self._take(waiting, "posting_started_utc", holder, now, lease, limit)

    async def _take(
        self, free: Any, started: str, holder: str, now: datetime, lease: timedelta, limit: int
    ) -> list[Posting]:
        """Lease up to ``limit`` alerts that are ``free``, each with its ``started`` column."""
        query = _alert_query().where(free).order_by(alerts.c.id).limit(limit)
        async with self.engine.begin() as conn:
            rows = (await conn.execute(query.with_for_update(of=alerts, skip_locked=True))).all()
            won = await _lease(conn, alerts, [r.id for r in rows], free, holder, now, lease)
        return [Posting(_alert(row), getattr(row, started)) for row in rows if row.id in won]

    async def posting_many(
        self, alert_ids: Sequence[int], holder: str, now: datetime, lease: timedelta
    ) -> set[int]:
        """Mark the posts as begun (from now on the messages may be there) and hold the
        alerts a lease from now, in one transaction; the ids still held (the others were
        taken over by another worker)."""
        return await self._mine_many(
            alert_ids, holder, posting_started_utc=now, lease_expires_utc=now + lease
        )

    async def renew_many(
        self, alert_ids: Sequence[int], holder: str, now: datetime, lease: timedelta
    ) -> set[int]:
        """Hold the alerts a lease from now (their posts are still going); the ids still
        held."""
        return await self._mine_many(alert_ids, holder, lease_expires_utc=now + lease)

    async def renew(self, alert_id: int, holder: str, now: datetime, lease: timedelta) -> bool:
        """Hold the alert a lease from now; False: another worker took it over."""
        return alert_id in await self.renew_many([alert_id], holder, now, lease)

    async def posted_many(
        self, posted: Sequence[tuple[int, str | None, int | None]], holder: str, now: datetime
    ) -> None:
        """Record posted messages (alert id, message id, the alert's SLA in seconds), each
        if ``holder`` still holds it, and when each one's SLA reminder falls due."""
        if not posted:
            return
        statement = (
            update(alerts)
            .where(
                alerts.c.id == bindparam("alert_id"),
                alerts.c.holder == holder,
                alerts.c.lease_expires_utc >= now,
            )
            .values(
                message_id=bindparam("message"),
                posted_utc=now,
                holder=None,
                lease_expires_utc=None,
                sla_due_utc=bindparam("due"),
            )
        )
        rows = [
            {
                "alert_id": alert_id,
                "message": message_id,
                "due": now + timedelta(seconds=sla) if sla else None,
            }
            for alert_id, message_id, sla in posted
        ]
        async with self.engine.begin() as conn:
            await conn.execute(statement, rows)

    async def _mine_many(self, alert_ids: Sequence[int], by: str, **values: Any) -> set[int]:
        """:meth:`_mine` for several alerts in one statement; the ids updated."""
        if not alert_ids:
            return set()
        statement = (
            update(alerts)
            .where(alerts.c.id.in_(alert_ids), alerts.c.holder == by)
            .values(**values)
            .returning(alerts.c.id)
        )
        async with self.engine.begin() as conn:
            return set((await conn.execute(statement)).scalars())

    async def _mine(self, where: Any, by: str, **values: Any) -> bool:
        """Update the alert ``where`` matches if no other worker took it over from ``by``.

        Its lease may have run out: taking an alert over rewrites its holder in the same
        UPDATE that checks the lease, so of this and a takeover exactly one happens.
        (An alert waiting its turn behind others to the same channel may outlast the
        lease without anyone wanting it.)
        """
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(alerts).where(where, alerts.c.holder == by).values(**values)
            )
        return result.rowcount == 1

    async def _held(self, where: Any, by: str, now: datetime, **values: Any) -> bool:
        """Update the alert ``where`` matches if ``by`` still holds its lease."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(alerts)
                .where(where, alerts.c.holder == by, alerts.c.lease_expires_utc >= now)
                .values(**values)
            )
        return result.rowcount == 1

    async def alert(self, alert_id: int) -> Alert | None:
        async with self.engine.begin() as conn:
            row = (await conn.execute(_alert_query().where(alerts.c.id == alert_id))).one_or_none()
        return _alert(row) if row else None

    async def all_alerts(self) -> list[Alert]:
        async with self.engine.begin() as conn:
            rows = (await conn.execute(_alert_query().order_by(alerts.c.id))).all()
        return [_alert(r) for r in rows]

    # -- claims and reminders --------------------------------------------------------------

    async def claim(self, alert_id: int, user_id: str, name: str, now: datetime) -> Claim | None:
        async with self.engine.begin() as conn:
            won = await conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id, alerts.c.claimed_by.is_(None))
                .values(claimed_by=user_id, claimed_name=name[:128], claimed_utc=now)
            )
        alert = await self.alert(alert_id)
        return Claim(alert, won=won.rowcount == 1) if alert else None

    async def release(self, alert_id: int, user_id: str) -> Alert | None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id, alerts.c.claimed_by == user_id)
                .values(claimed_by=None, claimed_name=None, claimed_utc=None)
            )
        return await self.alert(alert_id)

    async def take_reminders(
        self, holder: str, now: datetime, lease: timedelta, *, limit: int = 50
    ) -> list[Posting]:
        """Lease posted, unclaimed alerts whose SLA passed and that were not reminded."""
        due = and_(
            alerts.c.sla_due_utc <= now,
            alerts.c.reminded_utc.is_(None),
            alerts.c.claimed_by.is_(None),
            alerts.c.message_id.is_not(None),
            _unleased(alerts, now),
        )
        return await self._take(due, "reminder_started_utc", holder, now, lease, limit)

    async def reminding(self, alert_id: int, holder: str, now: datetime, lease: timedelta) -> bool:
        """Mark the reminder as begun, unless the alert was claimed or taken over meanwhile."""
        return await self._mine(
            and_(alerts.c.id == alert_id, alerts.c.claimed_by.is_(None)),
            holder,
            reminder_started_utc=now,
            lease_expires_utc=now + lease,
        )

    async def reminded(self, alert_id: int, holder: str, now: datetime) -> bool:
        return await self._held(
            alerts.c.id == alert_id,
            holder,
            now,
            reminded_utc=now,
            holder=None,
            lease_expires_utc=None,
        )

    async def let_go(self, alert_id: int, holder: str) -> None:
        """Give an alert's lease back (a claim came first: no reminder)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id, alerts.c.holder == holder)
                .values(holder=None, lease_expires_utc=None)
            )


def _unleased(table: Table, now: datetime) -> Any:
    """The rows of ``table`` no worker holds: never leased, or their lease ran out."""
    return or_(table.c.lease_expires_utc.is_(None), table.c.lease_expires_utc < now)


async def _lease(
    conn: AsyncConnection,
    table: Table,
    ids: Sequence[int],
    free: Any,
    holder: str,
    now: datetime,
    lease: timedelta,
) -> set[int]:
    """Lease the rows ``ids`` of ``table`` that are still ``free``; the ids leased.

    One conditional UPDATE: of several workers leasing the same row exactly one matches
    (on PostgreSQL the rows were also locked, skipping those another worker holds)."""
    if not ids:
        return set()
    statement = (
        update(table)
        .where(table.c.id.in_(ids), free)
        .values(holder=holder, lease_expires_utc=now + lease)
        .returning(table.c.id)
    )
    return set((await conn.execute(statement)).scalars())


def _rule(row: Row[Any]) -> Rule:
    return Rule(**row._mapping)


def _event(row: Row[Any]) -> AlertEvent:
    return AlertEvent(
        event_id=row.event_id,
        kind=row.kind,
        site_id=row.site_id,
        occurred_utc=row.occurred_utc,
        data=dict(row.payload or {}),
    )


def _alert_query() -> Any:
    return select(
        alerts,
        alert_events.c.event_id,
        alert_events.c.kind,
        alert_events.c.site_id,
        alert_events.c.occurred_utc,
        alert_events.c.payload,
    ).join(alert_events, alerts.c.event_row_id == alert_events.c.id)


def _alert(row: Row[Any]) -> Alert:
    return Alert(
        id=row.id,
        event=_event(row),
        rule_id=row.rule_id,
        platform=row.platform,
        workspace_id=row.workspace_id,
        channel_id=row.channel_id,
        mention=row.mention,
        sla_seconds=row.sla_seconds,
        message_id=row.message_id,
        claimed_by=row.claimed_by,
        claimed_name=row.claimed_name,
        claimed_utc=row.claimed_utc,
        sla_due_utc=row.sla_due_utc,
        reminded_utc=row.reminded_utc,
    )
