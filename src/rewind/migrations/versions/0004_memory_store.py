"""The long-term memory store's tables (``rewind.store.sqlite``), beside the event log's.

``store_items`` holds one row per item: its namespace as its labels joined with ``.`` (labels
never contain one), its key, its value as JSON text, its times (microseconds since the epoch,
UTC) and, for an item with a TTL, when it expires and the TTL in minutes. Its primary key
serves reads by namespace and key, and searches and listings by namespace prefix (as a range of
the joined text); a partial index finds the expired items a sweep deletes. Its rowid follows
the order items were last written in (a put replaces the row), which orders equal update times.

``store_vectors`` holds the embeddings of the items of a store with an index: one float32 BLOB
per embedded field path, ranked in Python (no SQLite extension needed).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
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
        "store_items",
        sa.Column("prefix", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger),
        sa.Column("ttl_minutes", sa.Float),
    )
    op.create_index(
        "ix_store_items_expires_at",
        "store_items",
        ["expires_at"],
        sqlite_where=sa.text("expires_at IS NOT NULL"),
        postgresql_where=sa.text("expires_at IS NOT NULL"),
    )
    op.create_table(
        "store_vectors",
        sa.Column("prefix", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("field", sa.Text, primary_key=True),
        sa.Column("embedding", sa.LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("store_vectors")
    op.drop_index("ix_store_items_expires_at", table_name="store_items")
    op.drop_table("store_items")
