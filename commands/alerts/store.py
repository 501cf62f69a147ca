"""What the alerts need from outside: where rules, secrets and alerts are kept, and a way to
show a posted alert again after a claim (implemented by ``bot.alerts``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from .model import Alert, AlertEvent, NewRule, Rule

__all__ = ["AlertMessages", "AlertStore", "Claim", "RuleStore", "SecretStore"]


class RuleStore(Protocol):
    async def add(self, new: NewRule, now: datetime) -> Rule: ...

    async def get(self, rule_id: int) -> Rule | None: ...

    async def list_for(self, platform: str, workspace_id: str | None) -> list[Rule]: ...

    async def all(self) -> list[Rule]:
        """Every rule of every workspace (which events the subscription must deliver)."""
        ...

    async def remove(self, rule_id: int) -> bool: ...

    async def set_paused(self, rule_id: int, paused: bool) -> Rule | None: ...


class SecretStore(Protocol):
    """The webhook subscription's secret, kept encrypted at rest."""

    async def subscription_id(self) -> int | None:
        """The subscription whose secret is kept, if any."""
        ...

    async def put(
        self, subscription_id: int, secret: str, now: datetime, *, grace: timedelta
    ) -> None:
        """Keep ``secret``; the one it replaces still verifies for ``grace``, then never."""
        ...

    async def valid(self, now: datetime, *, fresh: bool = False) -> list[str]:
        """The secrets a delivery may be signed with now (newest first); the store may
        answer from a copy a few seconds old unless ``fresh``."""
        ...

    async def forget(self) -> None:
        """The subscription is gone: keep no secret."""
        ...


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of a click on Claim: the alert as it is now, and whether this click won."""

    alert: Alert
    won: bool


class AlertStore(Protocol):
    async def enqueue(self, event: AlertEvent, now: datetime) -> bool:
        """Keep ``event`` to be alerted; False when it was received before (a redelivery)."""
        ...

    async def get(self, alert_id: int) -> Alert | None: ...

    async def claim(self, alert_id: int, user_id: str, name: str, now: datetime) -> Claim | None:
        """Claim an alert: the first claim wins; None when there is no such alert."""
        ...

    async def release(self, alert_id: int, user_id: str) -> Alert | None:
        """Drop ``user_id``'s claim; the alert as it is now (None: no such alert)."""
        ...


class AlertMessages(Protocol):
    async def refresh(self, alert: Alert) -> None:
        """Show ``alert`` as it is now in place of its posted message."""
        ...

    async def post_sample(self, rule: Rule) -> None:
        """Post a sample alert for ``rule`` into its channel (``alerts test``)."""
        ...
