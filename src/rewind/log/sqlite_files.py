"""A SQLite database file as rewind finds it: its header, schema revision and owner, whether
this process may write it, its integrity, and bringing its schema to the current revision.

A file is inspected read-only before anything writes to it: random bytes, another application's
SQLite database and a schema newer than this code are refused and left untouched. An older schema
is migrated (unless the caller says not to). rewind marks its files with SQLite's
``application_id``.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event, pool
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from rewind import migrations
from rewind.errors import (
    DatabaseError,
    NotARewindDatabaseError,
    SchemaOutdatedError,
    SchemaTooNewError,
)
from rewind.log.files import in_use

__all__ = [
    "APPLICATION_ID",
    "PAGE_SIZE",
    "integrity_problems",
    "needs_migration",
    "read_revision",
    "upgrade_connection",
    "upgrade_file",
]


PAGE_SIZE = 2048
"""The page size of a new database file. Smaller than SQLite's 4096 default: a group commit
rewrites the last page of each B-tree it touches (events, runs, heads, indexes) into the WAL,
so small commits, the log's usual kind, write half as much; and the log's rows, mostly well
under a kilobyte, pack as tightly."""

APPLICATION_ID = 0x52574E44  # "RWND"
"""The SQLite ``application_id`` that marks a rewind database."""

_HEADER = b"SQLite format 3\x00"


def prepare_file(cursor: Any, busy_timeout: float) -> None:
    """Make a new file with rewind's page size, incremental auto-vacuum (see SqliteLog.aclose)
    and WAL; an existing file keeps its own. SQLite may answer these "database is locked" at
    once, without its busy wait (another process opening the file, or folding its WAL back):
    they are tried again, with backoff, for as long as a busy lock is waited for.

    A file already in WAL mode was made so before: nothing is set, as setting
    ``auto_vacuum`` again takes the database's write lock (a connection opened while another
    of the process holds it would wait out its busy timeout)."""
    deadline = time.monotonic() + busy_timeout
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode")
            if cursor.fetchone()[0] == "wal":
                return
            cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")  # before WAL fixes it
            cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def read_revision(file: Path) -> str | None:
    """Read a file's schema revision without writing to it; ``None`` for a new database."""
    if not file.exists() or file.stat().st_size == 0:
        return None
    if in_use(file):  # read through SQLite only: see rewind.log.files (checked when opened)
        try:
            return _revision_through_sqlite(file)
        except DatabaseError as exc:  # not a database SQLite reads (so no lock of ours on it,
            if type(exc) is not DatabaseError:  # whatever an inode reused since says): its
                raise  # header tells why, below
    with file.open("rb") as fh:
        header = fh.read(100)
    if not header.startswith(_HEADER):
        raise NotARewindDatabaseError(str(file), "it is not an SQLite database file")
    damage = _header_damage(header)
    if damage is not None:
        found = ValueError(f"its SQLite header is not valid ({damage})")
        raise DatabaseError(
            str(file),
            f"{file} is damaged: {found}; it was left untouched: restore it from a backup.",
        ) from found
    app_id = int.from_bytes(header[68:72], "big") if len(header) >= 72 else 0
    if app_id not in (0, APPLICATION_ID):
        raise NotARewindDatabaseError(
            str(file), f"it is another application's (application_id {app_id:#x})"
        )
    return _revision_through_sqlite(file)


def _revision_through_sqlite(file: Path) -> str | None:
    conn = _read_only(file)
    try:
        return _revision_in(conn, str(file))
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(
            str(file),
            f"{file} cannot be read as a database ({exc}); it was left untouched. "
            "If it is a rewind database, restore it from a backup.",
        ) from exc
    finally:
        conn.close()


def _header_damage(header: bytes) -> str | None:
    """What is wrong with an SQLite file's 100-byte header (fields whose values the file
    format fixes or bounds), or ``None``."""
    if len(header) < 100:
        return "it is shorter than 100 bytes"
    page = int.from_bytes(header[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        return f"page size {page}"
    if header[18] not in (1, 2) or header[19] not in (1, 2):
        return "file format versions"
    if header[21:24] != bytes((64, 32, 32)):
        return "payload fractions"
    return None


def read_only_uri(file: Path) -> str:
    """The URI that opens ``file`` read-only, leaving no trace: without a WAL file beside it
    (no writer has it open), the file is the whole database and is opened immutable, so
    reading creates no -wal/-shm files and needs no write access to its directory; with one (a
    live or crashed writer), they exist already and are read as a writer left them."""
    wal = file.with_name(file.name + "-wal")
    if not wal.exists():
        return f"file:{quote(str(file))}?mode=ro&immutable=1"
    shm = file.with_name(file.name + "-shm")
    if not shm.exists() and not os.access(file.parent, os.W_OK):
        raise DatabaseError(
            str(file),
            f"{file} has a -wal file beside it (commits not yet folded into the file) but no "
            f"-shm, and SQLite cannot make one in the read-only directory {file.parent}: it "
            "cannot read those commits there. Copy the database and its -wal file to a "
            "writable directory and read them there; nothing was changed.",
        )
    return f"file:{quote(str(file))}?mode=ro"


def unwritable(file: Path) -> str | None:
    """Why this process cannot write the database ``file`` (or create it), or ``None``."""
    folder = file.parent
    try:
        read_only_fs = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        read_only_fs = False
    if read_only_fs:
        return "it is on a read-only filesystem"
    if file.exists() and not os.access(file, os.W_OK):
        return "the file is read-only for this user"
    if not os.access(folder, os.W_OK):
        # SQLite writes beside the file (-wal, -shm): they must exist, writable, already.
        side = [file.with_name(file.name + end) for end in ("-wal", "-shm")]
        if file.exists() and all(p.exists() and os.access(p, os.W_OK) for p in side):
            return None
        return f"its directory {folder} is read-only for this user"
    return None


def _read_only(file: Path) -> sqlite3.Connection:
    """A read-only connection to ``file`` that leaves no trace (see :func:`read_only_uri`)."""
    uri = read_only_uri(file)
    try:
        return sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise DatabaseError(str(file), f"cannot open {file} read-only: {exc}") from exc


def integrity_problems(file: Path, *, most: int = 10) -> list[str]:
    """SQLite's integrity check of a database file, read-only: what it found wrong (at most
    ``most`` lines; none for an intact file). It reads every page: a command asks for it (``rewind
    db verify``), opening a log never does."""
    conn = _read_only(file)
    try:
        rows = conn.execute(f"PRAGMA integrity_check({int(most)})").fetchall()
    except sqlite3.DatabaseError as exc:  # too damaged to check
        return [str(exc)]
    finally:
        conn.close()
    found = [str(row[0]) for row in rows]
    return [] if found == ["ok"] else found


def _revision_in(conn: sqlite3.Connection, label: str) -> str | None:
    """The schema revision of the database behind ``conn``; ``None`` for an empty one.

    Raises:
        NotARewindDatabaseError: it holds another application's tables.
        DatabaseError: it is marked as rewind's but has no schema version.
    """
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if app_id != APPLICATION_ID:
        if app_id == 0 and not tables:
            return None  # an empty SQLite database: ours to initialise
        owner = f"application_id {app_id:#x}" if app_id else f"tables {sorted(tables)[:5]}"
        raise NotARewindDatabaseError(label, f"it is another application's ({owner})")
    if "alembic_version" not in tables:
        raise DatabaseError(
            label,
            f"{label} is marked as rewind's but has no schema "
            "version; it may be damaged. Restore it from a backup.",
        )
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else None


def needs_migration(label: str, revision: str | None, upgrade: bool) -> bool:
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


def thread_engine(label: str, busy_timeout: float, uri: str | None = None) -> Engine:
    """The engine of a file store's reader or writer thread: one connection, kept (``uri``:
    the read-only URI of a log opened read-only)."""
    engine = create_engine(
        f"sqlite+pysqlite:///{quote(label) if uri is None else uri + '&uri=true'}",
        poolclass=pool.StaticPool,
        connect_args={"timeout": busy_timeout, "check_same_thread": False},
    )
    configure(engine, memory=False, busy_timeout=busy_timeout, read_only=uri is not None)
    return engine


def async_engine(url: str, *, memory: bool, busy_timeout: float, read_only: bool) -> AsyncEngine:
    # A file store keeps no reader connection open between reads: each read opens one (cheap
    # with SQLite), so an idle or forgotten store holds nothing that must be closed on a loop
    # that may be gone. Writes go through the writer thread's own connection.
    kwargs: dict[str, Any] = {"poolclass": pool.StaticPool if memory else pool.NullPool}
    engine = create_async_engine(url, connect_args={"timeout": busy_timeout}, **kwargs)
    configure(engine.sync_engine, memory=memory, busy_timeout=busy_timeout, read_only=read_only)
    return engine


def configure(
    engine: Engine, *, memory: bool, busy_timeout: float, read_only: bool = False
) -> None:
    """The file's make (:func:`prepare_file`, on the engine's first connection: a file keeps
    it), ``synchronous=NORMAL`` and the busy timeout on each connection; rewind issues BEGIN
    itself."""
    prepared = memory or read_only

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        nonlocal prepared
        dbapi_conn.isolation_level = None  # rewind issues BEGIN itself (see _on_begin)
        cursor = dbapi_conn.cursor()
        if not prepared:
            prepare_file(cursor, busy_timeout)
            prepared = True
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front: a deferred transaction that reads first and
        # writes later can fail with SQLITE_BUSY instead of waiting for the lock.
        mode = conn.get_execution_options().get("rewind_begin", "DEFERRED")
        if mode != "NONE":
            conn.exec_driver_sql(f"BEGIN {mode}")


async def migrate(engine: AsyncEngine, label: str, busy_timeout: float) -> None:
    # SQLite answers "database is locked" at once, without waiting, in a few cases (a new file
    # turning into WAL while another connection opens it, a lock upgrade that would deadlock):
    # such an open retries, with backoff, for as long as a busy lock would be waited for.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + busy_timeout
    pause = 0.01
    while True:
        try:
            async with engine.connect() as conn:
                conn = await conn.execution_options(rewind_begin="IMMEDIATE")
                async with conn.begin():
                    await conn.run_sync(_upgrade_in_transaction)
            return
        except DBAPIError as exc:
            locked = "locked" in str(exc.orig) or "busy" in str(exc.orig)
            if not locked or loop.time() + pause > deadline:
                raise DatabaseError(label, f"cannot migrate {label}: {exc.orig}") from exc
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.5)


def _upgrade_in_transaction(conn: Connection) -> None:
    # Under the write lock: another process may have created or migrated it meanwhile.
    current = migrations.current_revision(conn)
    if current is not None and not migrations.is_known_revision(current):
        raise SchemaTooNewError(str(conn.engine.url), current, migrations.head_revision())
    if current is None and _is_empty(conn):
        for statement in _fresh_schema():
            conn.exec_driver_sql(statement)
    else:
        migrations.upgrade(conn)
    conn.exec_driver_sql(f"PRAGMA application_id={APPLICATION_ID}")


def _is_empty(conn: Connection) -> bool:
    """Whether the database holds nothing at all (a new file, or one in memory)."""
    return conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar() == 0


_fresh_lock = threading.Lock()


@functools.cache
def _fresh_schema_cached() -> tuple[str, ...]:
    template = sqlite3.connect(":memory:", isolation_level=None)
    try:
        engine = create_engine(
            "sqlite+pysqlite://", creator=lambda: template, poolclass=pool.StaticPool
        )
        with engine.connect() as conn, conn.begin():
            migrations.upgrade(conn)
        return tuple(
            line for line in template.iterdump() if line not in ("BEGIN TRANSACTION;", "COMMIT;")
        )
    finally:
        template.close()


def _fresh_schema() -> tuple[str, ...]:
    """The statements that make an empty SQLite database what running every migration on it
    makes (its tables, indexes and rows, as SQLite dumps them): a new database is made by these
    in a few milliseconds instead of by Alembic's steps, a tenth of a second or more each time
    a log in memory or a new file is opened. Computed once per process, by running the
    migrations on a database in memory; ``tests/log/test_sqlite.py`` checks that both ways give
    the same schema."""
    with _fresh_lock:
        return _fresh_schema_cached()


# --- for callers without an event loop (the memory store, rewind.store.sqlite) ----------------


def upgrade_file(file: Path, *, busy_timeout: float = 10.0) -> None:
    """Bring the database at ``file`` to the current schema, synchronously, creating it if
    needed: what :func:`open_sqlite` does to a file before it opens the log there.

    Raises:
        NotARewindDatabaseError: the file is not a rewind database (left untouched).
        SchemaTooNewError: a newer rewind wrote it (left untouched).
    """
    label = str(file)
    if not needs_migration(label, read_revision(file), upgrade=True):
        return
    engine = create_engine(
        f"sqlite+pysqlite:///{quote(label)}",
        poolclass=pool.NullPool,
        connect_args={"timeout": busy_timeout},
    )
    configure(engine, memory=False, busy_timeout=busy_timeout)
    try:
        _migrate_sync(engine, label, busy_timeout)
    finally:
        engine.dispose()


def upgrade_connection(conn: sqlite3.Connection, *, busy_timeout: float = 10.0) -> None:
    """Bring the database behind ``conn`` to the current schema, on that connection (a database
    in memory, which no other connection can reach). The connection's ``isolation_level`` is
    left as it was.

    Raises:
        NotARewindDatabaseError: the database holds another application's tables (untouched).
        SchemaTooNewError: a newer rewind wrote it (left untouched).
    """
    label = ":memory:"
    if not needs_migration(label, _revision_in(conn, label), upgrade=True):
        return
    isolation = conn.isolation_level
    engine = create_engine("sqlite+pysqlite://", creator=lambda: conn, poolclass=pool.StaticPool)
    configure(engine, memory=True, busy_timeout=busy_timeout)
    try:
        _migrate_sync(engine, label, busy_timeout)
    finally:
        # Not disposed: that would close the caller's connection. The pool holds nothing else.
        conn.isolation_level = isolation


def _migrate_sync(engine: Engine, label: str, busy_timeout: float) -> None:
    """:func:`migrate`, for a sync engine."""
    deadline = time.monotonic() + busy_timeout
    pause = 0.01
    while True:
        try:
            with engine.connect() as conn:
                conn = conn.execution_options(rewind_begin="IMMEDIATE")
                with conn.begin():
                    _upgrade_in_transaction(conn)
            return
        except DBAPIError as exc:
            locked = "locked" in str(exc.orig) or "busy" in str(exc.orig)
            if not locked or time.monotonic() + pause > deadline:
                raise DatabaseError(label, f"cannot migrate {label}: {exc.orig}") from exc
        time.sleep(pause)
        pause = min(pause * 2, 0.5)
