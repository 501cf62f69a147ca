"""Small named values the processes keep between starts (the last Discord command sync).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mlc_bot_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_utc", sa.DateTime(timezone=False), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mlc_bot_state")
