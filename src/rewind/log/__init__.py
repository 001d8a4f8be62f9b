"""The event log: rewind's one ordered log of everything runs do.

Open one with :func:`open_log`::

    async with await open_log("runs.db") as store:
        await store.append(run_id, [run_started(thread_id="t1"), ...], expected_seq=0)
        async for event in store.subscribe(run_id=run_id):
            ...
"""

from __future__ import annotations

import os
from dataclasses import replace as _replace

from rewind.log.base import EventLog, LogOptions
from rewind.log.codec import CODEC_VERSION, register_type
from rewind.log.postgres import PostgresLog, open_postgres
from rewind.log.postgres import is_postgres_url as _is_postgres_url
from rewind.log.records import (
    ChainReport,
    Durability,
    PruneReport,
    RedactedEvent,
    RedactionRecord,
    RedactionReport,
    RunRecord,
    Snapshot,
    ThreadMetadata,
    ThreadRecord,
)
from rewind.log.sqlite import SqliteLog, open_sqlite
from rewind.log.writer import AppendResult

__all__ = [
    "CODEC_VERSION",
    "AppendResult",
    "ChainReport",
    "Durability",
    "EventLog",
    "PruneReport",
    "RedactedEvent",
    "RedactionRecord",
    "RedactionReport",
    "RunRecord",
    "Snapshot",
    "PostgresLog",
    "SqliteLog",
    "LogOptions",
    "ThreadMetadata",
    "ThreadRecord",
    "open_postgres",
    "open_sqlite",
    "open_log",
    "register_type",
]

_SQLITE_PREFIXES = ("sqlite+aiosqlite://", "sqlite+pysqlite://", "sqlite://")


async def open_log(
    target: str | os.PathLike[str] | None = None,
    *,
    durability: Durability = "async",
    upgrade: bool = True,
    options: LogOptions | None = None,
    read_only: bool = False,
) -> EventLog:
    """Open the event log at ``target``, creating it if needed.

    Args:
        target: A file path, a SQLAlchemy URL (``sqlite:///path``), a PostgreSQL URL
            (``postgresql://user@host/database``), or ``None`` / ``":memory:"`` for a store in
            memory.
        durability: Default durability of appends: ``sync``, ``async`` (default) or ``exit``.
        upgrade: Migrate an older schema on open (otherwise refuse it).
        options: Further tuning; its ``durability`` is overridden by ``durability``.
        read_only: Only read (an audit of a database that must stay as it is, or one on a
            read-only file, directory or filesystem): nothing is created, migrated or written;
            appends raise :class:`~rewind.errors.ReadOnlyDatabaseError`. A SQLite file no
            writer holds open is read as it stands when opened.

    Raises:
        ReadOnlyDatabaseError: not ``read_only``, and the SQLite file cannot be written here
            (a read-only file, directory or filesystem).
    """
    opts = options or LogOptions()
    if opts.durability != durability:
        opts = _replace(opts, durability=durability)
    text = None if target is None else os.fspath(target)
    if text is not None and "://" in text:
        for prefix in _SQLITE_PREFIXES:
            if text.startswith(prefix):
                rest = text[len(prefix) :]
                text = rest[1:] if rest.startswith("/") else rest
                text = text or ":memory:"
                break
        else:
            if _is_postgres_url(text):
                return await open_postgres(text, options=opts, upgrade=upgrade, read_only=read_only)
            scheme = text.split("://", 1)[0]
            raise ValueError(
                f"no rewind store backend for {scheme!r} URLs; use a SQLite path, "
                "'sqlite:///path.db' or 'postgresql://user@host/database'"
            )
    return await open_sqlite(text, options=opts, upgrade=upgrade, read_only=read_only)
