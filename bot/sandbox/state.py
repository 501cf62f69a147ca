"""The sandbox's in-memory store: sites, tokens and every resource row, plus the sandbox clock."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

CYCLE_DAYS = 30


def iso(dt: datetime | None) -> str | None:
    """Format as the API does: UTC, whole seconds, `Z` suffix (2026-04-25T10:00:00Z)."""
    if dt is None:
        return None
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Site:
    id: int
    label: str
    name: str


@dataclass
class Token:
    id: int
    value: str
    site_id: int
    label: str
    scopes: tuple[str, ...]
    created_utc: datetime
    request_count: int = 0
    last_used_utc: datetime | None = None

    @property
    def prefix(self) -> str:
        return self.value[:12]

    @property
    def can_write(self) -> bool:
        return "write" in self.scopes

    def to_api(self) -> dict[str, Any]:
        return {
            "token_id": self.id,
            "token_prefix": self.prefix,
            "site_id": self.site_id,
            "label": self.label,
            "scopes": list(self.scopes),
            "request_count": self.request_count,
            "created_utc": iso(self.created_utc),
            "last_used_utc": iso(self.last_used_utc),
        }


@dataclass
class Tag:
    id: int
    site_id: int
    name: str
    color: str
    description: str
    enabled: bool
    created_utc: datetime

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "color": self.color,
            "description": self.description,
            "enabled": self.enabled,
            "created_utc": iso(self.created_utc),
        }


@dataclass
class Starter:
    id: int
    site_id: int
    text: str
    enabled: bool
    sort_order: int

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "enabled": self.enabled,
            "sort_order": self.sort_order,
        }


@dataclass
class Handoff:
    id: int
    site_id: int
    session_id: str
    visitor_key: str
    visitor_name: str | None
    reason: str
    assigned_to: str | None
    created_utc: datetime

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "visitor_key": self.visitor_key,
            "visitor_name": self.visitor_name,
            "reason": self.reason,
            "assigned_to": self.assigned_to,
            "created_utc": iso(self.created_utc),
        }


@dataclass
class Message:
    role: str  # "visitor" | "agent" | "ai"
    author: str
    text: str
    at_utc: datetime

    def to_api(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "author": self.author,
            "text": self.text,
            "at_utc": iso(self.at_utc),
        }


@dataclass
class Transcript:
    site_id: int
    session_id: str
    visitor_key: str
    started_utc: datetime
    ended_utc: datetime | None
    messages: list[Message]

    def to_api(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "visitor_key": self.visitor_key,
            "started_utc": iso(self.started_utc),
            "ended_utc": iso(self.ended_utc),
            "messages": [m.to_api() for m in self.messages],
        }


@dataclass
class Feedback:
    id: int
    site_id: int
    session_id: str
    rating: int
    comment: str | None
    created_utc: datetime

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "rating": self.rating,
            "comment": self.comment,
            "created_utc": iso(self.created_utc),
        }


@dataclass
class WebhookSubscription:
    id: int
    site_id: int
    label: str
    url: str = field(repr=False)  # receiver URLs often embed a secret path
    events: list[str]
    enabled: bool
    secret: str = field(repr=False)
    created_utc: datetime

    def to_api(self) -> dict[str, Any]:
        """The row as GET shows it: never the secret, only its first 8 characters."""
        return {
            "id": self.id,
            "label": self.label,
            "url": self.url,
            "events": ",".join(self.events),
            "enabled": self.enabled,
            "secret_prefix": self.secret[:8],
            "created_utc": iso(self.created_utc),
        }


@dataclass
class NotifierSettings:
    site_id: int
    platform: str  # "slack" | "discord" | "teams"
    webhook_url: str | None = field(repr=False)
    events: list[str]

    def to_api(self) -> dict[str, Any]:
        url = self.webhook_url
        prefix = None
        if url:
            # The URL is a secret: show at most 32 chars and never more than half of it.
            prefix = url[: min(32, len(url) // 2)] + "..."
        return {
            "platform": self.platform,
            "webhook_url_present": bool(url),
            "webhook_url_prefix": prefix,
            "events": list(self.events),
        }


@dataclass
class Visitor:
    site_id: int
    visitor_key: str
    email: str | None
    name: str | None
    plan: str | None
    attributes: dict[str, Any]
    last_seen_utc: datetime
    event_count: int = 0
    event_counts: dict[str, int] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        return {
            "visitor_key": self.visitor_key,
            "email": self.email,
            "name": self.name,
            "plan": self.plan,
            "attributes": dict(self.attributes),
            "last_seen_utc": iso(self.last_seen_utc),
            "event_count": self.event_count,
        }


@dataclass
class UsagePlan:
    """AI usage for one site; cycle replies accrue at a steady pace from the cycle start."""

    site_id: int
    plan_code: str
    included_replies: int
    cycle_start_utc: datetime
    replies_per_second: float
    previous_cycles_total: int

    def to_api(self, now: datetime) -> dict[str, Any]:
        cycle = timedelta(days=CYCLE_DAYS)
        start = self.cycle_start_utc
        elapsed_cycles = max(0, int((now - start) / cycle))
        start += cycle * elapsed_cycles
        # Cycles that rolled over while the sandbox ran count as fully used at the same pace.
        rolled = int(self.replies_per_second * cycle.total_seconds()) * elapsed_cycles
        cycle_replies = max(0, int(self.replies_per_second * (now - start).total_seconds()))
        return {
            "total_replies": self.previous_cycles_total + rolled + cycle_replies,
            "cycle_replies": cycle_replies,
            "plan_code": self.plan_code,
            "included_replies": self.included_replies,
            "cycle_start_utc": iso(start),
            "cycle_end_utc": iso(start + cycle),
        }


class SandboxState:
    """Every row the sandbox serves, keyed for the lookups the handlers need.

    The sandbox clock starts at the `now` the data was seeded around and then runs with real
    time; `advance()` moves it forward (e.g. to watch usage grow without waiting).
    """

    def __init__(self, now: datetime) -> None:
        self._epoch = now.astimezone(UTC)
        self._mono_start = time.monotonic()
        self._offset = 0.0
        self.sites: dict[int, Site] = {}
        self.tokens: dict[str, Token] = {}
        self.tags: dict[int, Tag] = {}
        self.starters: list[Starter] = []
        self.handoffs: list[Handoff] = []
        self.transcripts: dict[str, Transcript] = {}
        self.feedback: list[Feedback] = []
        self.sessions: dict[str, int] = {}  # session_id -> site_id
        self.webhooks: dict[int, WebhookSubscription] = {}
        self.notifiers: dict[tuple[int, str], NotifierSettings] = {}
        self.visitors: dict[tuple[int, str], Visitor] = {}
        self.usage: dict[int, UsagePlan] = {}
        # (site_id, session_id, tag_id) for every tag currently applied to a session.
        self.tag_applications: set[tuple[int, str, int]] = set()
        self.visitor_events: list[dict[str, Any]] = []
        self._ids = {
            "tag": itertools.count(41),
            "starter": itertools.count(301),
            "handoff": itertools.count(90001),
            "feedback": itertools.count(70001),
            "webhook": itertools.count(11),
            "token": itertools.count(17),
        }

    def now(self) -> datetime:
        """The sandbox's current UTC time."""
        return self._epoch + timedelta(seconds=time.monotonic() - self._mono_start + self._offset)

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward (does not touch the rate limiter)."""
        self._offset += seconds

    def next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    # --- lookups scoped to the calling site --------------------------------------------------

    def site_tags(self, site_id: int) -> list[Tag]:
        return sorted((t for t in self.tags.values() if t.site_id == site_id), key=lambda t: t.id)

    def tag_for(self, site_id: int, tag_id: int) -> Tag | None:
        tag = self.tags.get(tag_id)
        return tag if tag is not None and tag.site_id == site_id else None

    def tag_by_name(self, site_id: int, name: str) -> Tag | None:
        # Names are unique per site, case-insensitively (like a SQL Server CI unique index).
        key = name.casefold()
        return next((t for t in self.site_tags(site_id) if t.name.casefold() == key), None)

    def has_session(self, site_id: int, session_id: str) -> bool:
        return self.sessions.get(session_id) == site_id

    def webhook_for(self, site_id: int, webhook_id: int) -> WebhookSubscription | None:
        sub = self.webhooks.get(webhook_id)
        return sub if sub is not None and sub.site_id == site_id else None

    def site_visitors(self, site_id: int) -> list[Visitor]:
        rows = [v for v in self.visitors.values() if v.site_id == site_id]
        return sorted(rows, key=lambda v: (v.last_seen_utc, v.visitor_key), reverse=True)

    def add_session(self, site_id: int, session_id: str) -> None:
        owner = self.sessions.setdefault(session_id, site_id)
        if owner != site_id:
            raise ValueError(f"session {session_id} already belongs to site {owner}")
