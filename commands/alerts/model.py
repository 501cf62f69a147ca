"""Alert rules, the events they match, and the alerts posted for them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.mylivechat import EVENTS, Feedback, Handoff, parse_datetime

__all__ = ["EVENT_KINDS", "Alert", "AlertEvent", "NewRule", "Rule", "matches", "matching"]

EVENT_KINDS: tuple[str, ...] = EVENTS
"""The events alerts are made of (the API's webhook events)."""


@dataclass(frozen=True, slots=True)
class NewRule:
    """Which events a channel is alerted to, and how."""

    platform: str
    workspace_id: str | None
    channel_id: str
    event: str  # "handoff" | "feedback"
    created_by: str
    reason: str | None = None
    """Handoffs whose reason contains this text (any case); None: every handoff."""
    sla_seconds: int | None = None
    """An unclaimed handoff alert gets one reminder after this long."""
    mention: str | None = None
    """Who the reminder mentions: a Slack user group, a Discord role."""
    max_rating: int | None = None
    """Feedback of at most this many stars; None: any rating."""
    with_comment: bool = False
    """Only feedback that comes with a comment."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule(NewRule):
    id: int
    paused: bool
    created_utc: datetime


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One webhook event as MyLiveChat delivered it (its ``id`` dedupes redeliveries)."""

    event_id: str
    kind: str
    site_id: int | None
    occurred_utc: datetime | None
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> AlertEvent:
        """The event in a delivery's JSON body; raises ValueError when it has no id or kind."""
        event_id, kind = payload.get("id"), payload.get("event")
        if not isinstance(event_id, str) or not event_id or not isinstance(kind, str):
            raise ValueError("a webhook event needs a string id and event")
        site = payload.get("site_id")
        data = payload.get("data")
        return cls(
            event_id=event_id[:128],
            kind=kind,
            site_id=site if _is_id(site) else None,
            occurred_utc=parse_datetime(payload.get("occurred_utc")),
            data=data if isinstance(data, dict) else {},
        )

    @property
    def handoff(self) -> Handoff:
        return Handoff.from_api(self.data)

    @property
    def feedback(self) -> Feedback:
        return Feedback.from_api(self.data)

    @property
    def session_id(self) -> str | None:
        return self.handoff.session_id if self.kind == "handoff" else self.feedback.session_id


def _is_id(value: object) -> bool:
    """A positive integer a database integer column holds."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


@dataclass(frozen=True, slots=True)
class Alert:
    """An event posted for one rule into its channel, and who claimed it.

    It keeps what it needs of its rule (the channel, the mention, the SLA), so it stays
    claimable when the rule is removed.
    """

    id: int
    event: AlertEvent
    rule_id: int
    platform: str
    workspace_id: str | None
    channel_id: str
    mention: str | None = None
    sla_seconds: int | None = None
    message_id: str | None = None
    """The platform's id of the posted message (Slack ``ts``, Discord message id)."""
    claimed_by: str | None = None
    claimed_name: str | None = None
    claimed_utc: datetime | None = None
    sla_due_utc: datetime | None = None
    reminded_utc: datetime | None = None


def matches(rule: Rule, event: AlertEvent) -> bool:
    """Whether ``event`` should be alerted in ``rule``'s channel."""
    return bool(matching([rule], event))


def matching(rules: Iterable[Rule], event: AlertEvent) -> list[Rule]:
    """The rules whose channels should be alerted of ``event``.

    The event's data is parsed once for all of them (parsing is what a match costs).
    """
    candidates = [rule for rule in rules if not rule.paused and rule.event == event.kind]
    if not candidates:
        return []
    if event.kind == "handoff":
        reason = (event.handoff.reason or "").casefold()
        return [r for r in candidates if r.reason is None or r.reason.casefold() in reason]
    feedback = event.feedback
    commented = bool((feedback.comment or "").strip())
    return [
        r
        for r in candidates
        if (
            r.max_rating is None
            or (feedback.rating is not None and feedback.rating <= r.max_rating)
        )
        and (commented or not r.with_comment)
    ]
