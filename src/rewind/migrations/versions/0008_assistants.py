"""The API server's assistants, versioned: ``assistants`` (each as it is now) and
``assistant_versions`` (every version, never changed).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assistants",
        sa.Column("assistant_id", sa.String(64), primary_key=True),
        sa.Column("graph_id", sa.String(255), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("context", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_assistants_graph", "assistants", ["graph_id", "created_at"])
    op.create_table(
        "assistant_versions",
        sa.Column("assistant_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("graph_id", sa.String(255), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("context", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("assistant_versions")
    op.drop_index("ix_assistants_graph", table_name="assistants")
    op.drop_table("assistants")
