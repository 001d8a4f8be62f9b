"""Alembic environment for rewind's schema; run programmatically by :mod:`rewind.migrations`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from rewind.log.schema import metadata

config = context.config
connection = config.attributes.get("connection")


def _run(conn: Connection) -> None:
    context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:  # pragma: no cover - only when alembic's own CLI drives this environment
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
