"""Delivery claims become leases: an expiry the holder renews, an attempt counter, and
the moment posting started.

A claim left by a scheduler of the previous version has no lease; it gets one that ends
five minutes after it was claimed, so a scheduler still running the old code during an
upgrade finishes its post before anyone may take the row over, and a claim whose holder
died long ago is taken over (or, if too old, recorded as skipped) by the next sweep.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-02
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_LEGACY_LEASE = timedelta(minutes=5)


def upgrade() -> None:
    with op.batch_alter_table("digest_deliveries") as batch:
        batch.add_column(sa.Column("lease_expires_utc", sa.DateTime(timezone=False), nullable=True))
        batch.add_column(sa.Column("attempt", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(
            sa.Column("posting_started_utc", sa.DateTime(timezone=False), nullable=True)
        )
        batch.create_index("ix_digest_deliveries_lease", ["status", "lease_expires_utc"])
    deliveries = sa.table(
        "digest_deliveries",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("claimed_utc", sa.DateTime),
        sa.column("lease_expires_utc", sa.DateTime),
    )
    connection = op.get_bind()
    claimed = connection.execute(
        sa.select(deliveries.c.id, deliveries.c.claimed_utc).where(deliveries.c.status == "claimed")
    ).all()
    for row in claimed:  # few rows; datetime arithmetic in SQL differs per database
        connection.execute(
            sa.update(deliveries)
            .where(deliveries.c.id == row.id)
            .values(lease_expires_utc=row.claimed_utc + _LEGACY_LEASE)
        )


def downgrade() -> None:
    with op.batch_alter_table("digest_deliveries") as batch:
        batch.drop_index("ix_digest_deliveries_lease")
        batch.drop_column("posting_started_utc")
        batch.drop_column("attempt")
        batch.drop_column("lease_expires_utc")
