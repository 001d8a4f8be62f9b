"""Thread metadata: what an API says of a thread besides its runs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "thread_metadata",
        sa.Column("thread_id", sa.String(255), primary_key=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("codec", sa.SmallInteger, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("thread_metadata")
