"""The run queue: runs an API server accepted, shared by every server and worker process.

``run_queue`` holds one row per run the API accepted: its request and where it stands
(``pending``, ``running``, ``success``, ``error``, ``interrupted``). A worker claims a pending
run (on PostgreSQL with ``FOR UPDATE SKIP LOCKED``) by writing itself as ``owner`` with a lease
(``lease_until``, microseconds since the epoch) that its heartbeat extends; a run whose lease
expired is claimed again, with the next ``attempt``. ``cancel`` records a cancellation asked by
any server process; ``hidden`` a rolled-back or deleted run, left out of listings. What the run
did is in the log (``log_run_id``: the current attempt's run there).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_queue",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("thread_id", sa.String(255), nullable=False),
        sa.Column("graph_id", sa.String(255), nullable=False),
        sa.Column("assistant_id", sa.String(64), nullable=False),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("multitask_strategy", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("not_before", sa.BigInteger, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("log_run_id", sa.String(64)),
        sa.Column("owner", sa.String(255)),
        sa.Column("lease_until", sa.BigInteger),
        sa.Column("cancel", sa.String(16)),
        sa.Column("hidden", sa.SmallInteger, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_run_queue_status", "run_queue", ["status", "created_at"])
    op.create_index("ix_run_queue_thread", "run_queue", ["thread_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_run_queue_thread", table_name="run_queue")
    op.drop_index("ix_run_queue_status", table_name="run_queue")
    op.drop_table("run_queue")
