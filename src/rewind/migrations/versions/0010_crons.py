"""Scheduled runs (crons), each firing claimed by moving ``next_run_at`` on.

``crons`` holds one row per cron of the API (``/runs/crons``): its schedule (a cron expression,
in ``timezone`` or UTC), the run request each firing makes (``payload``), and ``next_run_at``,
the tick due next (microseconds since the epoch). A server fires a due cron only after moving
``next_run_at`` on with a compare-and-set update, so one tick fires once however many server
processes share the database.

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
        sa.Column("timezone", sa.String(64)),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("user_id", sa.String(255)),
        sa.Column("on_run_completed", sa.String(16)),
        sa.Column("enabled", sa.SmallInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger),
        sa.Column("next_run_at", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_crons_next", "crons", ["next_run_at"])


def downgrade() -> None:
    op.drop_index("ix_crons_next", table_name="crons")
    op.drop_table("crons")
