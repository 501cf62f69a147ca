"""Live alerts: rules per channel, the webhook secret (encrypted), the event outbox and
the alerts posted from it, with their claims and SLA reminders.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=False)


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=True),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("sla_seconds", sa.Integer, nullable=True),
        sa.Column("mention", sa.String(128), nullable=True),
        sa.Column("max_rating", sa.Integer, nullable=True),
        sa.Column("with_comment", sa.Boolean, nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_utc", _UTC, nullable=False),
    )
    op.create_index("ix_alert_rules_place", "alert_rules", ["platform", "workspace_id"])
    op.create_table(
        "webhook_secrets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subscription_id", sa.Integer, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("created_utc", _UTC, nullable=False),
        sa.Column("retired_utc", _UTC, nullable=True),
        sa.Column("valid_until_utc", _UTC, nullable=True),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(128), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("site_id", sa.Integer, nullable=True),
        sa.Column("occurred_utc", _UTC, nullable=True),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("received_utc", _UTC, nullable=False),
        sa.Column("routed_utc", _UTC, nullable=True),
        sa.Column("holder", sa.String(64), nullable=True),
        sa.Column("lease_expires_utc", _UTC, nullable=True),
    )
    op.create_index("ix_alert_events_pending", "alert_events", ["routed_utc", "lease_expires_utc"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "event_row_id",
            sa.Integer,
            sa.ForeignKey("alert_events.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("rule_id", sa.Integer, nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=True),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("mention", sa.String(128), nullable=True),
        sa.Column("sla_seconds", sa.Integer, nullable=True),
        sa.Column("created_utc", _UTC, nullable=False),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("posted_utc", _UTC, nullable=True),
        sa.Column("posting_started_utc", _UTC, nullable=True),
        sa.Column("holder", sa.String(64), nullable=True),
        sa.Column("lease_expires_utc", _UTC, nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_name", sa.String(128), nullable=True),
        sa.Column("claimed_utc", _UTC, nullable=True),
        sa.Column("sla_due_utc", _UTC, nullable=True),
        sa.Column("reminded_utc", _UTC, nullable=True),
        sa.Column("reminder_started_utc", _UTC, nullable=True),
        sa.UniqueConstraint("event_row_id", "rule_id", name="uq_alerts_event_rule"),
    )
    op.create_index("ix_alerts_posting", "alerts", ["posted_utc", "lease_expires_utc"])
    op.create_index("ix_alerts_sla", "alerts", ["sla_due_utc", "reminded_utc"])


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("alert_events")
    op.drop_table("webhook_secrets")
    op.drop_index("ix_alert_rules_place", table_name="alert_rules")
    op.drop_table("alert_rules")
