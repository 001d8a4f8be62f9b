"""Cancellations any API server process asks of a run another process executes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_cancels",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("thread_id", sa.String(255), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_run_cancels_thread", "run_cancels", ["thread_id"])


def downgrade() -> None:
    op.drop_index("ix_run_cancels_thread", table_name="run_cancels")
    op.drop_table("run_cancels")
