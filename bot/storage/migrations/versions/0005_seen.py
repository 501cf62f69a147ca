"""Delivery keys any process has run (shared dedupe of Slack's retries without Redis).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mlc_bot_seen",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("expires_utc", sa.DateTime(timezone=False), nullable=False),
    )
    op.create_index("ix_mlc_bot_seen_expires", "mlc_bot_seen", ["expires_utc"])


def downgrade() -> None:
    op.drop_index("ix_mlc_bot_seen_expires", table_name="mlc_bot_seen")
    op.drop_table("mlc_bot_seen")
