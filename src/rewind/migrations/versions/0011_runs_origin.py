"""An index on the run each run starts from: deleting a thread finds the runs of other threads
that depend on its runs without reading every run.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_runs_origin", "runs", ["origin_run_id"])


def downgrade() -> None:
    op.drop_index("ix_runs_origin", table_name="runs")
