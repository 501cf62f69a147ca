"""Typed results of the MyLiveChat API, parsed tolerantly.

Missing fields become ``None``, unknown fields are ignored, timestamps become
aware ``datetime`` objects, and a value of the wrong type is dropped rather
than trusted: the real service may differ from the shapes we assume.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

__all__ = [
    "EVENTS",
    "PLATFORMS",
    "AppliedTag",
    "ConversationStarter",
    "DeletedSubscription",
    "Feedback",
    "Handoff",
    "Message",
    "NotifierSettings",
    "Ping",
    "Platform",
    "RemovedTag",
    "RotatedSecret",
    "Tag",
    "Transcript",
    "Usage",
    "Visitor",
    "VisitorEvent",
    "WebhookEvent",
    "WebhookSubscription",
    "WebhookTestResult",
    "WhoAmI",
    "is_platform",
    "parse_datetime",
    "parse_list",
]

# A number the API sent as text: ASCII digits only ("²" passes str.isdigit() but not int()),
# and few enough of them that int() is cheap and cannot refuse.
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")


Platform = typing.Literal["slack", "discord", "teams"]
"""The chat platforms MyLiveChat's own notifiers post to (``<platform>_settings``)."""
PLATFORMS: tuple[Platform, ...] = typing.get_args(Platform)

WebhookEvent = typing.Literal["handoff", "feedback"]
"""The events notifiers and webhook subscriptions deliver."""
EVENTS: tuple[WebhookEvent, ...] = typing.get_args(WebhookEvent)


def is_platform(name: str) -> typing.TypeGuard[Platform]:
    return name in PLATFORMS


def parse_datetime(value: object) -> datetime | None:
    """An ISO-8601 string (``Z`` or offset; naive means UTC) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _coerce(value: object, annotation: Any) -> object:
    """``value`` as ``annotation``, or None when it cannot be trusted to be one."""
    if value is None:
        return None
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _coerce(value, inner[0]) if len(inner) == 1 else value
    if annotation is datetime:
        return parse_datetime(value)
    if annotation is bool:
        return value if isinstance(value, bool) else None
    if annotation is int:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return None
    if annotation is float:
        return (
            float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        )
    if annotation is str:
        return value if isinstance(value, str) else str(value) if isinstance(value, int) else None
    if origin is list:
        (item_type,) = typing.get_args(annotation) or (object,)
        if not isinstance(value, list):
            return None
        if isinstance(item_type, type) and dataclasses.is_dataclass(item_type):
            return [item_type.from_api(v) for v in value if isinstance(v, Mapping)]
        items = [_coerce(v, item_type) for v in value]
        return [v for v in items if v is not None]
    if origin is dict:
        return dict(value) if isinstance(value, Mapping) else None
    return value


class _Model:
    """Mixin giving a dataclass a tolerant ``from_api`` constructor."""

    @classmethod
    def from_api(cls, data: object) -> Self:
        if not isinstance(data, Mapping):
            data = {}
        values: dict[str, object] = {}
        for name, hint in _field_types(cls):
            if name in data:
                coerced = _coerce(data[name], hint)
                if coerced is not None:
                    values[name] = coerced
        return cls(**values)


@functools.cache
def _field_types(model: type) -> tuple[tuple[str, object], ...]:
    """Each field of ``model`` with its resolved type (resolving them costs more than a
    whole parse, and a list result parses one model per row)."""
    hints = typing.get_type_hints(model)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(model))


ModelT = typing.TypeVar("ModelT", bound=_Model)


def parse_list(model: type[ModelT], data: object) -> list[ModelT]:
    """A list result, given as a bare array or as ``{"items": [...]}``."""
    if isinstance(data, Mapping):
        data = data.get("items", data.get("data"))
    if not isinstance(data, list):
        return []
    return [model.from_api(item) for item in data if isinstance(item, Mapping)]


@dataclass(frozen=True, slots=True)
class Ping(_Model):
    pong: bool | None = None
    time_utc: datetime | None = None
    round_trip: float | None = None
    """Measured by the client, not sent by the API: seconds from sending the request to
    its answer, without any wait for the rate limit."""


@dataclass(frozen=True, slots=True)
class WhoAmI(_Model):
    token_id: int | None = None
    token_prefix: str | None = None
    site_id: int | None = None
    label: str | None = None
    scopes: list[str] = field(default_factory=list)
    request_count: int | None = None
    created_utc: datetime | None = None
    last_used_utc: datetime | None = None

    @property
    def can_write(self) -> bool:
        return "write" in self.scopes


@dataclass(frozen=True, slots=True)
class Tag(_Model):
    id: int | None = None
    name: str | None = None
    color: str | None = None
    description: str | None = None
    enabled: bool | None = None
    created_utc: datetime | None = None
    created: bool | None = None
    """Only on POST: False when the name already existed (POST is idempotent)."""


@dataclass(frozen=True, slots=True)
class AppliedTag(_Model):
    session_id: str | None = None
    tag_id: int | None = None
    created: bool | None = None


@dataclass(frozen=True, slots=True)
class RemovedTag(_Model):
    removed: int | None = None


@dataclass(frozen=True, slots=True)
class ConversationStarter(_Model):
    id: int | None = None
    text: str | None = None
    enabled: bool | None = None
    sort_order: int | None = None


@dataclass(frozen=True, slots=True)
class Handoff(_Model):
    id: int | None = None
    session_id: str | None = None
    visitor_key: str | None = None
    visitor_name: str | None = None
    reason: str | None = None
    assigned_to: str | None = None
    created_utc: datetime | None = None


@dataclass(frozen=True, slots=True)
class Message(_Model):
    role: str | None = None
    author: str | None = None
    text: str | None = None
    at_utc: datetime | None = None


@dataclass(frozen=True, slots=True)
class Transcript(_Model):
    session_id: str | None = None
    visitor_key: str | None = None
    started_utc: datetime | None = None
    ended_utc: datetime | None = None
    messages: list[Message] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Usage(_Model):
    total_replies: int | None = None
    cycle_replies: int | None = None
    plan_code: str | None = None
    included_replies: int | None = None
    cycle_start_utc: datetime | None = None
    cycle_end_utc: datetime | None = None


@dataclass(frozen=True, slots=True)
class Feedback(_Model):
    id: int | None = None
    session_id: str | None = None
    rating: int | None = None
    comment: str | None = None
    created_utc: datetime | None = None


@dataclass(frozen=True, slots=True)
class WebhookSubscription(_Model):
    id: int | None = None
    label: str | None = None
    url: str | None = dataclasses.field(default=None, repr=False)
    """The receiver URL: often a secret in its path, so never in a repr."""
    events: str | None = None
    enabled: bool | None = None
    secret_prefix: str | None = None
    created_utc: datetime | None = None
    secret: str | None = dataclasses.field(default=None, repr=False)
    """Only in the answer to POST: the full secret, shown this once."""

    @property
    def event_list(self) -> list[str]:
        return [e.strip() for e in (self.events or "").split(",") if e.strip()]


@dataclass(frozen=True, slots=True)
class DeletedSubscription(_Model):
    id: int | None = None
    deleted: bool | None = None


@dataclass(frozen=True, slots=True)
class RotatedSecret(_Model):
    id: int | None = None
    secret: str | None = dataclasses.field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class WebhookTestResult(_Model):
    id: int | None = None
    delivered: bool | None = None
    receiver_status: int | None = None
    signature_header: str | None = None


@dataclass(frozen=True, slots=True)
class Visitor(_Model):
    visitor_key: str | None = None
    email: str | None = None
    name: str | None = None
    plan: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    last_seen_utc: datetime | None = None
    event_count: int | None = None
    created: bool | None = None


@dataclass(frozen=True, slots=True)
class VisitorEvent(_Model):
    visitor_key: str | None = None
    event: str | None = None
    event_count: int | None = None


@dataclass(frozen=True, slots=True)
class NotifierSettings(_Model):
    platform: str | None = None
    webhook_url_present: bool | None = None
    webhook_url_prefix: str | None = None
    events: list[str] = field(default_factory=list)
