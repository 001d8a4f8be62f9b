"""Threads at constant cost: the checkpoint index, thread heads, and run indexes.

``checkpoints`` indexes every root checkpoint event (filled here from the events already in
the log). ``thread_heads`` caches each thread's state at its newest checkpoint; for a database
written before this revision it starts empty and a thread's head is built the first time the
thread is read. The new run indexes find a thread's latest runs, the runs started from a
checkpoint and the runs still running without reading a thread's history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    # A thread's runs in log order (its listings, and the runs after its head) replace the
    # thread's runs by creation time.
    op.drop_index("ix_runs_thread_created", table_name="runs")
    op.create_index("ix_runs_thread", "runs", ["thread_id", "first_position"])
    op.create_index("ix_runs_origin_checkpoint", "runs", ["origin_checkpoint_id"])
    op.create_index(
        "ix_runs_running",
        "runs",
        ["thread_id"],
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )
    checkpoints = op.create_table(
        "checkpoints",
        sa.Column("thread_id", sa.String(255), primary_key=True),
        sa.Column("checkpoint_id", sa.String(64), primary_key=True),
        sa.Column("run_key", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_checkpoints_thread_position", "checkpoints", ["thread_id", "position"])
    op.create_table(
        "thread_heads",
        sa.Column("thread_id", sa.String(255), primary_key=True),
        sa.Column("checkpoint_id", sa.String(64), nullable=False),
        sa.Column("run_key", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("logged", sa.BigInteger, nullable=False),
        sa.Column("unsnapshotted", sa.BigInteger, nullable=False),
        sa.Column("codec", sa.SmallInteger, nullable=False),
        sa.Column("state", sa.Text),
        sqlite_with_rowid=False,
    )
    _index_existing_checkpoints(checkpoints)
    _without_rowid(
        "snapshots",
        ("run_key", "seq", "codec", "state", "created_at"),
        sa.Column("run_key", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("codec", sa.SmallInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    _without_rowid(
        "thread_metadata",
        ("thread_id", "created_at", "updated_at", "codec", "metadata"),
        sa.Column("thread_id", sa.String(255), primary_key=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("codec", sa.SmallInteger, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
    )


def _without_rowid(name: str, columns: tuple[str, ...], *spec: sa.Column[object]) -> None:
    """Rebuild a table keyed by its primary key alone (SQLite keeps one B-tree, not two)."""
    op.create_table(f"{name}_new", *spec, sqlite_with_rowid=False)
    listed = ", ".join(columns)
    op.execute(f"INSERT INTO {name}_new ({listed}) SELECT {listed} FROM {name}")
    op.drop_table(name)
    op.rename_table(f"{name}_new", name)


def _index_existing_checkpoints(checkpoints: sa.Table) -> None:
    """Fill the index from the root checkpoint events already stored (codec 1 is JSON whose
    top level holds the checkpoint's ``id``)."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT e.position, e.run_key, e.seq, e.payload, r.thread_id FROM events e "
            "JOIN runs r ON r.run_key = e.run_key "
            "WHERE e.type = 'checkpoint' AND e.ns IS NULL ORDER BY e.position"
        )
    )
    batch: list[dict[str, object]] = []
    for position, run_key, seq, payload, thread_id in rows:
        batch.append(
            {
                "checkpoint_id": json.loads(payload)["id"],
                "thread_id": thread_id,
                "run_key": run_key,
                "seq": seq,
                "position": position,
            }
        )
        if len(batch) >= _BATCH:
            op.bulk_insert(checkpoints, batch)
            batch = []
    if batch:
        op.bulk_insert(checkpoints, batch)


def downgrade() -> None:
    op.drop_table("thread_heads")
    op.drop_index("ix_checkpoints_thread_position", table_name="checkpoints")
    op.drop_table("checkpoints")
    op.drop_index("ix_runs_running", table_name="runs")
    op.drop_index("ix_runs_origin_checkpoint", table_name="runs")
    op.drop_index("ix_runs_thread", table_name="runs")
    op.create_index("ix_runs_thread_created", "runs", ["thread_id", "created_at"])
