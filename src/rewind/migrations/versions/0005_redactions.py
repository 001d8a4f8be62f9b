"""Redactions: erasing a payload for good while the hash chain still verifies.

``runs.chain_from`` says from which seq a run's events are chained over their payload's
digest rather than its text: every run created from now on is (``0``); the runs already
stored keep their hashes and get ``NULL`` (chained over text), until a redaction re-chains one
of them. ``redactions`` records each erased payload: when, why, by whom, and the digest the
chain goes on covering.

This revision follows 0003; a parallel 0004 is re-chained before it when both are merged.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("chain_from", sa.Integer))
    op.create_table(
        "redactions",
        sa.Column("run_key", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("digest", sa.LargeBinary, nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("redacted_at", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("actor", sa.String(255)),
        sa.Column("rechained_from", sa.LargeBinary),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("redactions")
    op.drop_column("runs", "chain_from")
