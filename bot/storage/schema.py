"""The tables. Migrations in ``migrations/versions`` create and change them; keep both in step."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "UTCDateTime",
    "alert_events",
    "alert_rules",
    "alerts",
    "deliveries",
    "metadata",
    "revisions",
    "seen",
    "state",
    "subscriptions",
    "webhook_secrets",
]

metadata = MetaData()


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime, stored naive in UTC so SQLite and PostgreSQL agree."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


subscriptions = Table(
    "digest_subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("workspace_id", String(64), nullable=True),
    Column("channel_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at_time", String(5), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("days", String(64), nullable=False),
    Column("paused", Boolean, nullable=False, default=False),
    Column("paused_reason", Text, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_utc", UTCDateTime, nullable=False),
    Column("updated_utc", UTCDateTime, nullable=False),
    # Runs scheduled before this instant are never sent: set at creation and on resume,
    # so neither a new subscription nor a resumed one replays a backlog.
    Column("active_since_utc", UTCDateTime, nullable=False),
    Column("last_snapshot", JSON, nullable=True),
    Column("last_sent_period", String(32), nullable=True),
    Index("ix_digest_subscriptions_place", "platform", "workspace_id", "channel_id"),
)

deliveries = Table(
    "digest_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "subscription_id",
        Integer,
        ForeignKey("digest_subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("period", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_utc", UTCDateTime, nullable=False),
    Column("finished_utc", UTCDateTime, nullable=True),
    Column("request_id", String(128), nullable=True),
    Column("detail", Text, nullable=True),
    # A claim is a lease: its holder renews it while it builds and posts; once it has
    # expired (the holder died), any scheduler may take the row over and send it.
    Column("lease_expires_utc", UTCDateTime, nullable=True),
    Column("attempt", Integer, nullable=False, default=1, server_default="1"),
    # Set just before the post goes out: from then on the platform may have the message.
    Column("posting_started_utc", UTCDateTime, nullable=True),
    # The exactly-once guard: one row per subscription and period, whoever inserts first.
    UniqueConstraint("subscription_id", "period", name="uq_digest_deliveries_period"),
    Index("ix_digest_deliveries_lease", "status", "lease_expires_utc"),
)

revisions = Table(
    "mlc_bot_revisions",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("revision", Integer, nullable=False),
)

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("workspace_id", String(64), nullable=True),
    Column("channel_id", String(64), nullable=False),
    Column("event", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("sla_seconds", Integer, nullable=True),
    Column("mention", String(128), nullable=True),
    Column("max_rating", Integer, nullable=True),
    Column("with_comment", Boolean, nullable=False),
    Column("paused", Boolean, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_utc", UTCDateTime, nullable=False),
    Index("ix_alert_rules_place", "platform", "workspace_id"),
)

webhook_secrets = Table(
    "webhook_secrets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscription_id", Integer, nullable=False),
    Column("secret", Text, nullable=False),  # encrypted (Fernet), never the secret itself
    Column("created_utc", UTCDateTime, nullable=False),
    # When a newer secret replaced it; it still verifies until then plus the grace period.
    Column("retired_utc", UTCDateTime, nullable=True),
    Column("valid_until_utc", UTCDateTime, nullable=True),
)

alert_events = Table(
    "alert_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # The replay and redelivery guard: one row per event id, whoever inserts first.
    Column("event_id", String(128), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("site_id", Integer, nullable=True),
    Column("occurred_utc", UTCDateTime, nullable=True),
    Column("payload", JSON, nullable=False),
    Column("received_utc", UTCDateTime, nullable=False),
    Column("routed_utc", UTCDateTime, nullable=True),
    Column("holder", String(64), nullable=True),
    Column("lease_expires_utc", UTCDateTime, nullable=True),
    Index("ix_alert_events_pending", "routed_utc", "lease_expires_utc"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "event_row_id",
        Integer,
        ForeignKey("alert_events.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("rule_id", Integer, nullable=False),
    Column("platform", String(16), nullable=False),
    Column("workspace_id", String(64), nullable=True),
    Column("channel_id", String(64), nullable=False),
    Column("mention", String(128), nullable=True),
    Column("sla_seconds", Integer, nullable=True),
    Column("created_utc", UTCDateTime, nullable=False),
    Column("message_id", String(64), nullable=True),
    Column("posted_utc", UTCDateTime, nullable=True),
    Column("posting_started_utc", UTCDateTime, nullable=True),
    Column("holder", String(64), nullable=True),
    Column("lease_expires_utc", UTCDateTime, nullable=True),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_name", String(128), nullable=True),
    Column("claimed_utc", UTCDateTime, nullable=True),
    Column("sla_due_utc", UTCDateTime, nullable=True),
    Column("reminded_utc", UTCDateTime, nullable=True),
    Column("reminder_started_utc", UTCDateTime, nullable=True),
    # One alert per event and rule: a redelivered or retaken event posts once.
    UniqueConstraint("event_row_id", "rule_id", name="uq_alerts_event_rule"),
    Index("ix_alerts_posting", "posted_utc", "lease_expires_utc"),
    Index("ix_alerts_sla", "sla_due_utc", "reminded_utc"),
)

state = Table(
    "mlc_bot_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_utc", UTCDateTime, nullable=False),
)

seen = Table(
    "mlc_bot_seen",
    metadata,
    # A hash of the delivery key (Slack's event or trigger id): the first insert wins.
    Column("key", String(64), primary_key=True),
    # Past this the key may be offered again and taken over (a conditional update).
    Column("expires_utc", UTCDateTime, nullable=False),
    Index("ix_mlc_bot_seen_expires", "expires_utc"),
)
