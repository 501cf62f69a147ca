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

__all__ = ["UTCDateTime", "deliveries", "metadata", "revisions", "subscriptions"]

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
