"""Digest subscriptions, their deliveries (the exactly-once guard) and change revisions.

Revision ID: 0001
Revises:
Create Date: 2026-04-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=True),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at_time", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("days", sa.String(64), nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("paused_reason", sa.Text, nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_utc", sa.DateTime(timezone=False), nullable=False),
        sa.Column("updated_utc", sa.DateTime(timezone=False), nullable=False),
        sa.Column("active_since_utc", sa.DateTime(timezone=False), nullable=False),
        sa.Column("last_snapshot", sa.JSON, nullable=True),
        sa.Column("last_sent_period", sa.String(32), nullable=True),
    )
    op.create_index(
        "ix_digest_subscriptions_place",
        "digest_subscriptions",
        ["platform", "workspace_id", "channel_id"],
    )
    op.create_table(
        "digest_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "subscription_id",
            sa.Integer,
            sa.ForeignKey("digest_subscriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_utc", sa.DateTime(timezone=False), nullable=False),
        sa.Column("finished_utc", sa.DateTime(timezone=False), nullable=True),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
        sa.UniqueConstraint("subscription_id", "period", name="uq_digest_deliveries_period"),
    )
    op.create_table(
        "mlc_bot_revisions",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
    )
    op.bulk_insert(
        sa.table("mlc_bot_revisions", sa.column("name"), sa.column("revision")),
        [{"name": "digests", "revision": 0}],
    )


def downgrade() -> None:
    op.drop_table("mlc_bot_revisions")
    op.drop_table("digest_deliveries")
    op.drop_index("ix_digest_subscriptions_place", table_name="digest_subscriptions")
    op.drop_table("digest_subscriptions")
