"""The core's rule and alert stores on the bot's database (opened on first use)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from commands.alerts.model import Alert, AlertEvent, NewRule, Rule
from commands.alerts.store import Claim
from commands.digests.store import StorageUnavailable

from ..storage.lazy import LazyDatabase

__all__ = ["AlertOutbox", "AlertTables"]

_BATCH = 500
"""Events kept in one transaction at most (one INSERT: its parameters stay within bounds)."""


class AlertTables:
    """:class:`~commands.alerts.store.RuleStore` and ``AlertStore`` on one lazy database.

    Every call maps an unreachable database to the core's ``StorageUnavailable``.
    """

    def __init__(self, database: LazyDatabase) -> None:
        self.database = database

    # -- RuleStore -------------------------------------------------------------------------

    async def add(self, new: NewRule, now: datetime) -> Rule:
        async with self.database.alert_records() as records:
            return await records.add_rule(new, now)

    async def get(self, rule_id: int) -> Rule | None:
        async with self.database.alert_records() as records:
            return await records.rule(rule_id)

    async def list_for(self, platform: str, workspace_id: str | None) -> list[Rule]:
        async with self.database.alert_records() as records:
            return await records.rules(
                platform=platform, workspace_id=workspace_id, any_place=False
            )

    async def all(self) -> list[Rule]:
        async with self.database.alert_records() as records:
            return await records.rules(any_place=True)

    async def remove(self, rule_id: int) -> bool:
        async with self.database.alert_records() as records:
            return await records.remove_rule(rule_id)

    async def set_paused(self, rule_id: int, paused: bool) -> Rule | None:
        async with self.database.alert_records() as records:
            return await records.pause_rule(rule_id, paused)


class AlertOutbox:
    """:class:`~commands.alerts.store.AlertStore` on one lazy database.

    Events received at the same time are kept in one transaction (a group commit): each
    :meth:`enqueue` returns once the transaction holding its event has committed, and
    while one commits, the next ones gather for the one after. A burst of deliveries then
    costs a few transactions instead of one each, which is what bounds the receiver's
    answer time on SQLite (one writer at a time).
    """

    def __init__(self, database: LazyDatabase) -> None:
        self.database = database
        self._waiting: list[tuple[AlertEvent, datetime, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def enqueue(self, event: AlertEvent, now: datetime) -> bool:
        kept: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        kept.add_done_callback(_retrieved)
        self._waiting.append((event, now, kept))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="alert outbox writer")
        # Shielded: a delivery whose sender hung up is still kept (it may be retried:
        # then it is a duplicate), and the others in its transaction are not disturbed.
        return await asyncio.shield(kept)

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:_BATCH], self._waiting[_BATCH:]
            try:
                async with self.database.alert_records() as records:
                    kept = await records.enqueue_many([e for e, _, _ in batch], batch[-1][1])
            except Exception as exc:
                if len(batch) > 1 and not isinstance(exc, StorageUnavailable):
                    await self._one_by_one(batch)  # one event refused: the others are kept
                    continue
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, _, future), new in zip(batch, kept, strict=True):
                if not future.done():
                    future.set_result(new)

    async def _one_by_one(
        self, batch: list[tuple[AlertEvent, datetime, asyncio.Future[bool]]]
    ) -> None:
        for event, now, future in batch:
            try:
                async with self.database.alert_records() as records:
                    (new,) = await records.enqueue_many([event], now)
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(new)

    async def get(self, alert_id: int) -> Alert | None:
        async with self.database.alert_records() as records:
            return await records.alert(alert_id)

    async def claim(self, alert_id: int, user_id: str, name: str, now: datetime) -> Claim | None:
        async with self.database.alert_records() as records:
            return await records.claim(alert_id, user_id, name, now)

    async def release(self, alert_id: int, user_id: str) -> Alert | None:
        async with self.database.alert_records() as records:
            return await records.release(alert_id, user_id)


def _retrieved(future: asyncio.Future[bool]) -> None:
    """Take the outcome even when the delivery's handler is gone (no "never retrieved")."""
    if not future.cancelled():
        future.exception()
