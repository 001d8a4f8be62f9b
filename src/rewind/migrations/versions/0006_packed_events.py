"""Packed rows: consecutive chat-model tokens of one task stored in one row of ``events``.

``events.packed`` is ``NULL`` for a row that holds one event (every row written before this
revision, and every event that is not a token). A row that holds ``k`` (at least 2) events has
``packed = k``; its ``position`` and ``seq`` are those of its last event (its events have the
``k`` positions and seqs ending there), its ``ts`` is its first event's, and its payload lists
``[ts offset in µs, payload]`` per event (see :mod:`rewind.log.packs`). Stored rows are
unchanged; a rewind before this revision refuses the upgraded file as newer than it knows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("packed", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("packed")
