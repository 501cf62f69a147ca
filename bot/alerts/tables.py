"""The core's rule and alert stores on the bot's database (opened on first use)."""

from __future__ import annotations

from datetime import datetime

from commands.alerts.model import Alert, AlertEvent, NewRule, Rule
from commands.alerts.store import Claim

from ..storage.lazy import LazyDatabase

__all__ = ["AlertOutbox", "AlertTables"]


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
    """:class:`~commands.alerts.store.AlertStore` on one lazy database."""

    def __init__(self, database: LazyDatabase) -> None:
        self.database = database

    async def enqueue(self, event: AlertEvent, now: datetime) -> bool:
        async with self.database.alert_records() as records:
            return await records.enqueue(event, now)

    async def get(self, alert_id: int) -> Alert | None:
        async with self.database.alert_records() as records:
            return await records.alert(alert_id)

    async def claim(self, alert_id: int, user_id: str, name: str, now: datetime) -> Claim | None:
        async with self.database.alert_records() as records:
            return await records.claim(alert_id, user_id, name, now)

    async def release(self, alert_id: int, user_id: str) -> Alert | None:
        async with self.database.alert_records() as records:
            return await records.release(alert_id, user_id)
