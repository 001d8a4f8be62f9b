"""The SQLite backend: a file (WAL, ``synchronous=NORMAL``, busy timeout) or memory.

A file is inspected read-only before anything writes to it: random bytes, another application's
SQLite database and a schema newer than this code are refused and left untouched. An older schema
is migrated (unless ``upgrade=False``). rewind marks its files with SQLite's ``application_id``.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import event, pool
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from rewind import migrations
from rewind.errors import (
    DatabaseError,
    NotARewindDatabaseError,
    SchemaOutdatedError,
    SchemaTooNewError,
)
from rewind.store.base import EventStore, StoreOptions

__all__ = ["APPLICATION_ID", "SqliteStore", "open_sqlite"]

APPLICATION_ID = 0x52574E44  # "RWND"
"""The SQLite ``application_id`` that marks a rewind database."""

_HEADER = b"SQLite format 3\x00"


class SqliteStore(EventStore):
    """An event store in one SQLite file, or in memory."""

    _write_options = {"rewind_begin": "IMMEDIATE"}

    def __init__(self, engine: AsyncEngine, *, url: str, options: StoreOptions, memory: bool):
        self._serialize = memory  # one shared connection: one transaction at a time
        self._poll_other_processes = not memory
        self.path = None if memory else url
        """The database file, or ``None`` in memory."""
        super().__init__(engine, url=url, options=options)

    async def _vacuum(self) -> None:
        async with self._engine.connect() as conn:
            conn = await conn.execution_options(rewind_begin="NONE")
            await conn.exec_driver_sql("VACUUM")
            if self.path is not None:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            await conn.commit()

    async def backup(self, target: str | os.PathLike[str]) -> None:
        """Write a consistent, compacted copy of the database to ``target`` while it is in use.

        Raises:
            FileExistsError: ``target`` exists; rewind never overwrites a file.
        """
        path = Path(target)
        if path.exists():
            raise FileExistsError(f"{path} exists; back up to a new path")
        await self._writer.drain()
        async with self._engine.connect() as conn:
            conn = await conn.execution_options(rewind_begin="NONE")
            await conn.exec_driver_sql("VACUUM INTO ?", (str(path),))
            await conn.commit()


async def open_sqlite(
    path: str | os.PathLike[str] | None,
    *,
    options: StoreOptions | None = None,
    upgrade: bool = True,
    busy_timeout: float = 10.0,
) -> SqliteStore:
    """Open (creating if needed) a SQLite event store.

    Args:
        path: The database file; ``None`` or ``":memory:"`` for a store in memory.
        options: Durability and tuning.
        upgrade: Migrate an older schema; when ``False`` an older schema is refused with
            :class:`~rewind.errors.SchemaOutdatedError`.
        busy_timeout: Seconds to wait for another process's write lock.

    Raises:
        NotARewindDatabaseError: the file is not a rewind database (left untouched).
        SchemaTooNewError: a newer rewind wrote it (left untouched).
        SchemaOutdatedError: its schema is older and ``upgrade`` is ``False``.
    """
    memory = path is None or str(path) == ":memory:"
    if memory:
        url, label = "sqlite+aiosqlite://", ":memory:"
        needs_migration = True
    else:
        file = Path(path).expanduser().resolve()  # type: ignore[arg-type]
        label = str(file)
        revision = await asyncio.to_thread(_inspect, file)
        needs_migration = _check_revision(label, revision, upgrade)
        url = f"sqlite+aiosqlite:///{quote(label)}"
    engine = _engine(url, memory=memory, busy_timeout=busy_timeout)
    try:
        if needs_migration:
            await _migrate(engine, label)
    except BaseException:
        await engine.dispose()
        raise
    return SqliteStore(engine, url=label, options=options or StoreOptions(), memory=memory)


def _inspect(file: Path) -> str | None:
    """Read a file's schema revision without writing to it; ``None`` for a new database."""
    if not file.exists() or file.stat().st_size == 0:
        return None
    with file.open("rb") as fh:
        if fh.read(len(_HEADER)) != _HEADER:
            raise NotARewindDatabaseError(str(file), "it is not an SQLite database file")
    uri = f"file:{quote(str(file))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise DatabaseError(str(file), f"cannot open {file} read-only: {exc}") from exc
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if app_id != APPLICATION_ID:
            if app_id == 0 and not tables:
                return None  # an empty SQLite file: ours to initialise
            owner = f"application_id {app_id:#x}" if app_id else f"tables {sorted(tables)[:5]}"
            raise NotARewindDatabaseError(str(file), f"it is another application's ({owner})")
        if "alembic_version" not in tables:
            raise DatabaseError(str(file), f"{file} is marked as rewind's but has no schema "
                                "version; it may be damaged. Restore it from a backup.")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(
            str(file), f"{file} cannot be read as a database ({exc}); it was left untouched. "
            "If it is a rewind database, restore it from a backup."
        ) from exc
    finally:
        conn.close()


def _check_revision(label: str, revision: str | None, upgrade: bool) -> bool:
    """Whether the database needs migrating; refuses what this code cannot open."""
    head = migrations.head_revision()
    if revision is None:
        return True
    if revision == head:
        return False
    if not migrations.is_known_revision(revision):
        raise SchemaTooNewError(label, revision, head)
    if not upgrade:
        raise SchemaOutdatedError(label, revision, head)
    return True


def _engine(url: str, *, memory: bool, busy_timeout: float) -> AsyncEngine:
    kwargs: dict[str, Any] = {"poolclass": pool.StaticPool} if memory else {
        "poolclass": pool.AsyncAdaptedQueuePool, "pool_size": 4, "max_overflow": 8,
    }
    engine = create_async_engine(url, connect_args={"timeout": busy_timeout}, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # rewind issues BEGIN itself (see _on_begin)
        cursor = dbapi_conn.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front: a deferred transaction that reads first and
        # writes later can fail with SQLITE_BUSY instead of waiting for the lock.
        mode = conn.get_execution_options().get("rewind_begin", "DEFERRED")
        if mode != "NONE":
            conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


async def _migrate(engine: AsyncEngine, label: str) -> None:
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(rewind_begin="IMMEDIATE")
            async with conn.begin():
                await conn.run_sync(_upgrade_in_transaction)
    except DBAPIError as exc:
        raise DatabaseError(label, f"cannot migrate {label}: {exc.orig}") from exc


def _upgrade_in_transaction(conn: Connection) -> None:
    # Under the write lock: another process may have created or migrated it meanwhile.
    current = migrations.current_revision(conn)
    if current is not None and not migrations.is_known_revision(current):
        raise SchemaTooNewError(str(conn.engine.url), current, migrations.head_revision())
    migrations.upgrade(conn)
    conn.exec_driver_sql(f"PRAGMA application_id={APPLICATION_ID}")
