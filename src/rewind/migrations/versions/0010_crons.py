"""Scheduled runs (crons), each firing claimed by moving ``next_run_at`` on.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crons",
        sa.Column("cron_id", sa.String(64), primary_key=True),
        sa.Column("assistant_id", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.String(255)),
        sa.Column("schedule", sa.String(255), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("user_id", sa.String(255)),
        sa.Column("end_time", sa.BigInteger),
        sa.Column("next_run_at", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_crons_next", "crons", ["next_run_at"])


def downgrade() -> None:
    op.drop_index("ix_crons_next", table_name="crons")
    op.drop_table("crons")
