"""The typed ``data`` of replies: what ``mlc-bot exec --json`` gives scripts.

Each command declares the shape of its data as a :class:`TypedDict` (``@command(...,
data=...)``); ``docs/commands.md`` documents it and a test checks every command's output
against it. The values are built from the API's values, never from display strings:
integers as integers, timestamps as ISO 8601 UTC strings (:data:`Timestamp`), ``None``
for what the API did not send. The converters here build the objects several commands
share (a tag, a handoff, a webhook subscription...).

``typing_extensions.TypedDict`` rather than ``typing``'s: on Python 3.11 only it keeps
what ``NotRequired`` and validators need.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, overload
from urllib.parse import urlsplit

from typing_extensions import TypedDict

from bot.mylivechat import (
    Feedback,
    Handoff,
    Message,
    NotifierSettings,
    Tag,
    Transcript,
    Visitor,
    WebhookSubscription,
)

from .metrics import FeedbackStats, UsageFigures

__all__ = [
    "ISO_UTC",
    "Distribution",
    "FeedbackData",
    "Format",
    "HandoffData",
    "MessageData",
    "NotifierData",
    "Timestamp",
    "TranscriptData",
    "UsageData",
    "VisitorData",
    "WebhookData",
    "distribution",
    "feedback_data",
    "handoff_data",
    "iso",
    "notifier_data",
    "ratio",
    "tag_data",
    "transcript_data",
    "usage_data",
    "visitor_data",
    "webhook_data",
]


@dataclass(frozen=True, slots=True)
class Format:
    """A string's format: named in the reference, its ``pattern`` checked by the tests.

    ``Annotated[str, Format(...)]`` marks a field. Validators that understand
    ``__get_pydantic_core_schema__`` (the tests use one) check the pattern; nothing in
    the bot depends on one.
    """

    name: str
    pattern: str

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        schema = handler(source)
        schema["pattern"] = self.pattern
        return schema


ISO_UTC = Format(
    "ISO 8601 UTC", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$"
)
Timestamp = Annotated[str, ISO_UTC]
"""An instant as ISO 8601 in UTC with ``Z``: ``2026-04-22T10:00:00Z``."""


@overload
def iso(when: datetime) -> str: ...
@overload
def iso(when: None) -> None: ...
@overload
def iso(when: datetime | None) -> str | None: ...
def iso(when: datetime | None) -> str | None:
    """``when`` as ISO 8601 UTC ending in ``Z`` (a naive datetime is taken as UTC)."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ratio(value: float | None, digits: int = 2) -> float | None:
    """A computed figure (a percentage, an average) rounded for reading; None stays None."""
    return None if value is None else round(float(value), digits)


class TagData(TypedDict):
    id: int | None
    name: str | None
    color: str | None
    description: str | None
    enabled: bool | None
    """False for a deleted tag."""
    created_utc: Timestamp | None


def tag_data(tag: Tag) -> TagData:
    return {
        "id": tag.id,
        "name": tag.name,
        "color": tag.color,
        "description": tag.description,
        "enabled": tag.enabled,
        "created_utc": iso(tag.created_utc),
    }


class HandoffData(TypedDict):
    id: int | None
    session_id: str | None
    visitor_key: str | None
    visitor_name: str | None
    reason: str | None
    assigned_to: str | None
    """The agent it was handed to; null while it waits for one."""
    created_utc: Timestamp | None


def handoff_data(handoff: Handoff) -> HandoffData:
    return {
        "id": handoff.id,
        "session_id": handoff.session_id,
        "visitor_key": handoff.visitor_key,
        "visitor_name": handoff.visitor_name,
        "reason": handoff.reason,
        "assigned_to": handoff.assigned_to,
        "created_utc": iso(handoff.created_utc),
    }


class MessageData(TypedDict):
    role: str | None
    """visitor, agent or ai."""
    author: str | None
    text: str | None
    at_utc: Timestamp | None


def message_data(message: Message) -> MessageData:
    return {
        "role": message.role,
        "author": message.author,
        "text": message.text,
        "at_utc": iso(message.at_utc),
    }


class TranscriptData(TypedDict):
    session_id: str | None
    visitor_key: str | None
    started_utc: Timestamp | None
    ended_utc: Timestamp | None
    """Null while the chat is open."""
    message_count: int
    messages: list[MessageData]


def transcript_data(chat: Transcript, messages: list[Message] | None = None) -> TranscriptData:
    """``chat`` with ``messages`` (default: all of them); ``message_count`` counts all."""
    shown = chat.messages if messages is None else messages
    return {
        "session_id": chat.session_id,
        "visitor_key": chat.visitor_key,
        "started_utc": iso(chat.started_utc),
        "ended_utc": iso(chat.ended_utc),
        "message_count": len(chat.messages),
        "messages": [message_data(m) for m in shown],
    }


class FeedbackData(TypedDict):
    id: int | None
    session_id: str | None
    rating: int | None
    """1 to 5 stars."""
    comment: str | None
    created_utc: Timestamp | None


def feedback_data(row: Feedback) -> FeedbackData:
    return {
        "id": row.id,
        "session_id": row.session_id,
        "rating": row.rating,
        "comment": row.comment,
        "created_utc": iso(row.created_utc),
    }


Distribution = TypedDict("Distribution", {"1": int, "2": int, "3": int, "4": int, "5": int})
"""How many ratings of each star count, every key present."""


def distribution(stats: FeedbackStats) -> Distribution:
    spread = stats.distribution
    return {
        "1": spread.get(1, 0),
        "2": spread.get(2, 0),
        "3": spread.get(3, 0),
        "4": spread.get(4, 0),
        "5": spread.get(5, 0),
    }


class UsageData(TypedDict):
    plan: str | None
    cycle_replies: int | None
    """AI replies in the current billing cycle."""
    included_replies: int | None
    """AI replies the plan includes per cycle."""
    percent_used: float | None
    """cycle_replies against included_replies, in percent (2 decimals)."""
    total_replies: int | None
    cycle_start_utc: Timestamp | None
    cycle_end_utc: Timestamp | None
    days_left: float | None
    projected_replies: int | None
    """Cycle replies at the cycle's end if the pace so far holds."""
    projected_percent: float | None
    over_plan: bool
    """Whether the projection exceeds the included replies."""


def usage_data(figures: UsageFigures) -> UsageData:
    return {
        "plan": figures.plan,
        "cycle_replies": figures.used,
        "included_replies": figures.included,
        "percent_used": ratio(figures.percent),
        "total_replies": figures.total,
        "cycle_start_utc": iso(figures.cycle_start),
        "cycle_end_utc": iso(figures.cycle_end),
        "days_left": ratio(figures.days_left),
        "projected_replies": figures.projected,
        "projected_percent": ratio(figures.projected_percent),
        "over_plan": figures.over_plan,
    }


class WebhookData(TypedDict):
    id: int | None
    label: str | None
    receiver_origin: str | None
    """The receiver's scheme, host and port only: its path may be a secret."""
    events: list[str]
    enabled: bool | None
    """False while paused."""
    secret_prefix: str | None
    """The first characters of its secret (the secret itself is shown once)."""
    created_utc: Timestamp | None


def origin(url: str | None) -> str | None:
    """``https://host[:port]`` of ``url``, without user, path or query; None if it has none."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def webhook_data(sub: WebhookSubscription) -> WebhookData:
    return {
        "id": sub.id,
        "label": sub.label,
        "receiver_origin": origin(sub.url),
        "events": sub.event_list,
        "enabled": sub.enabled,
        "secret_prefix": sub.secret_prefix,
        "created_utc": iso(sub.created_utc),
    }


class VisitorData(TypedDict):
    visitor_key: str | None
    name: str | None
    email: str | None
    plan: str | None
    attributes: dict[str, Any]
    last_seen_utc: Timestamp | None
    event_count: int | None


def visitor_data(visitor: Visitor) -> VisitorData:
    return {
        "visitor_key": visitor.visitor_key,
        "name": visitor.name,
        "email": visitor.email,
        "plan": visitor.plan,
        "attributes": dict(visitor.attributes),
        "last_seen_utc": iso(visitor.last_seen_utc),
        "event_count": visitor.event_count,
    }


class NotifierData(TypedDict):
    platform: str
    """slack, discord or teams."""
    webhook_url_set: bool | None
    webhook_url_prefix: str | None
    """The start of the webhook URL as MyLiveChat shows it (never the whole URL)."""
    events: list[str]


def notifier_data(platform: str, settings: NotifierSettings) -> NotifierData:
    return {
        "platform": platform,
        "webhook_url_set": settings.webhook_url_present,
        "webhook_url_prefix": settings.webhook_url_prefix if settings.webhook_url_present else None,
        "events": list(settings.events),
    }
