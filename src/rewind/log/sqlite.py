"""The SQLite backend: a file (WAL, ``synchronous=NORMAL``, busy timeout) or memory.

What is checked of a file before it is opened, and its migrations: :mod:`rewind.log.sqlite_files`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, TypeVar, overload
from urllib.parse import quote

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from rewind.errors import (
    DatabaseError,
    LogClosedError,
    LogError,
    ReadOnlyDatabaseError,
)
from rewind.log import codec
from rewind.log.base import OPENED_READ_ONLY, EventLog, LogOptions
from rewind.log.commit import (
    CHANGED_COLUMNS,
    CHECKPOINT_COLUMNS,
    EVENT_COLUMNS,
    HEAD_COLUMNS,
    PROGRESS_COLUMNS,
    RUN_COLUMNS,
    SNAPSHOT_COLUMNS,
    CommitPlan,
    TxRun,
    head_threads,
    needs_new_keys,
)
from rewind.log.files import hold_file, release_file
from rewind.log.known import Known, known_after
from rewind.log.leases import Lease, held_leases, refusals
from rewind.log.point import DriverRows, PointRows
from rewind.log.rows import EVENT_COLUMNS as READ_COLUMNS
from rewind.log.rows import fetch_rows
from rewind.log.sqlite_files import (
    PAGE_SIZE,
    async_engine,
    migrate,
    needs_migration,
    prepare_file,
    read_only_uri,
    read_revision,
    thread_engine,
    unwritable,
)
from rewind.log.wal import WalFolder
from rewind.log.writer import PendingAppend

__all__ = ["SqliteLog", "open_sqlite"]

T = TypeVar("T")

_WAL_LIMIT = 1024 * 1024  # bytes of WAL the writer lets accumulate before checkpointing


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


_INSERT_EVENTS = _insert_sql("events", EVENT_COLUMNS)
_INSERT_RUN = _insert_sql("runs", RUN_COLUMNS)
_UPDATE_RUN = (
    f"UPDATE runs SET {', '.join(f'{c} = ?' for c in CHANGED_COLUMNS[:-1])} WHERE run_key = ?"
)
_UPDATE_RUN_PROGRESS = (
    f"UPDATE runs SET {', '.join(f'{c} = ?' for c in PROGRESS_COLUMNS[:-1])} WHERE run_key = ?"
)
_SELECT_TX_RUNS = (
    "SELECT run_key, thread_id, last_seq, last_hash, status, chain_from, run_id FROM runs "
    "WHERE run_id IN"
)
_INSERT_CHECKPOINTS = _insert_sql("checkpoints", CHECKPOINT_COLUMNS)
_INSERT_HEAD = _insert_sql("thread_heads", HEAD_COLUMNS)
_UPDATE_HEAD = (
    f"UPDATE thread_heads SET {', '.join(f'{c} = ?' for c in HEAD_COLUMNS[:-1])} "
    "WHERE thread_id = ?"
)
_INSERT_SNAPSHOTS = _insert_sql("snapshots", SNAPSHOT_COLUMNS)
_SELECT_EVENTS = (
    f"SELECT {', '.join(c.name for c in READ_COLUMNS)} FROM events WHERE run_key = ? AND seq > ?"
)
_THROUGH_SEQ = (
    # Up to seq ?, and the packed row holding it that ends after it (rewind.log.reads.through_seq)
    " AND seq <= COALESCE((SELECT CASE WHEN seq - packed < ? THEN seq END FROM events"
    " WHERE run_key = ? AND seq > ? ORDER BY seq LIMIT 1), ?)"
)
_SELECT_LEASES = "SELECT run_id, owner, attempt, log_run_id FROM run_queue WHERE run_id IN"
_SELECT_HEADS = "SELECT thread_id, logged, unsnapshotted FROM thread_heads WHERE thread_id IN"
_UPSERT_THREAD_METADATA = (
    "INSERT INTO thread_metadata (thread_id, created_at, updated_at, codec, metadata) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (thread_id) DO UPDATE SET "
    "updated_at = excluded.updated_at, codec = excluded.codec, metadata = excluded.metadata "
    "RETURNING created_at"
)


_INLINE_COMMIT = 64
"""Groups someone waits for of at most this many events commit on the loop's thread."""

_COMMIT_PAGES = 6
"""Pages a commit writes to the WAL besides its payloads (index, run and head pages): an
estimate, for when to fold the WAL back."""


def _wal_bytes(plan: CommitPlan) -> int:
    """About how many bytes ``plan``'s commit put into the WAL."""
    payloads = sum(len(row[10]) for row in plan.event_rows)
    snapshots = sum(len(row[3]) for row in plan.snapshot_rows)
    return payloads + snapshots + _COMMIT_PAGES * PAGE_SIZE


def _release_and_close(conn: sqlite3.Connection) -> None:
    """Give the file's free pages back to the filesystem, then close. A new file is made with
    ``auto_vacuum=INCREMENTAL``: pages a head or snapshot left free (a head is replaced at every
    checkpoint) would otherwise stay in the file after the writer is done. Files made before
    keep their mode (the pragma then does nothing); a busy database is left as it is."""
    try:
        with contextlib.suppress(sqlite3.Error):
            free = conn.execute("PRAGMA freelist_count").fetchone()[0]
            if free:
                conn.execute("BEGIN IMMEDIATE")
                # The driver steps the pragma once: one page per statement.
                for _ in range(free):
                    conn.execute("PRAGMA incremental_vacuum(1)")
                conn.execute("COMMIT")
    finally:
        conn.close()


def _why(exc: sqlite3.Error) -> str:
    """SQLite's error, with what a full disk or a write refused means for the appends."""
    name = getattr(exc, "sqlite_errorname", "")
    if name == "SQLITE_FULL" or name.startswith("SQLITE_IOERR"):
        return (
            f"{exc} ({name}: the disk may be full, or the file at a size limit); nothing of "
            "this commit was stored and what was acknowledged before it is kept: free space, "
            "then append again"
        )
    return str(exc)


def _connect_raw(path: str, busy_timeout: float) -> sqlite3.Connection:
    # Used by one commit at a time, on the writer thread or the loop's (see _commit_group).
    conn = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    prepare_file(conn.cursor(), busy_timeout)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    # The WAL is folded back into the database every _WAL_LIMIT bytes or so, not by the commit
    # that fills it but beside the commits (rewind.log.wal), and the file is then cut back: a
    # long run keeps no more than about that beside the database.
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute(f"PRAGMA journal_size_limit={_WAL_LIMIT}")
    return conn


class SqliteLog(EventLog):
    """An event log in one SQLite file, or in memory."""

    _write_options: ClassVar[Mapping[str, Any]] = {"rewind_begin": "IMMEDIATE"}

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        url: str,
        options: LogOptions,
        memory: bool,
        busy_timeout: float,
        core_writes: bool = False,
        uri: str | None = None,
    ) -> None:
        self._serialize = memory  # one shared connection: one transaction at a time
        self._uri = uri
        """The read-only URI the file is opened with, or ``None`` (read and written)."""
        if uri is not None:
            self.read_only = OPENED_READ_ONLY
        self._poll_other_processes = not memory
        self.path = None if memory else url
        """The database file, or ``None`` in memory."""
        self._held = None if memory else hold_file(url)
        self._busy_timeout = busy_timeout
        self._core_writes = memory or core_writes
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rewind-writer")
        self._raw: sqlite3.Connection | None = None
        self._known: Known | None = None
        """What the raw connection's last group commit left (see rewind.log.known)."""
        self._raw_waits = True
        """Whether the raw connection's busy timeout is set (else 0: it fails at once)."""
        # A file store reads on a thread of its own, through a connection it keeps: a read
        # costs one thread hop, not a connection opened (and a thread started) per read.
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rewind-reader")
        self._reads: Engine | None = None if memory else thread_engine(url, busy_timeout, uri)
        self._read_conn: Connection | None = None
        self._point: sqlite3.Connection | None = None
        """The connection point reads use, on the loop's thread (see :meth:`_point_read`)."""
        # Write transactions other than appends (deletions, the API server's tables) run on
        # the writer thread too, through a connection kept there: a hand-off, not a connection
        # opened (and a thread started) per transaction.
        self._writes: Engine | None = (
            None if memory or uri is not None else thread_engine(url, busy_timeout)
        )
        self._write_conn: Connection | None = None
        self._wal = None if memory or uri is not None else WalFolder(url, _WAL_LIMIT)
        super().__init__(engine, url=url, options=options)

    async def _read(self, fn: Callable[[Connection], T], *, drain: bool = True) -> T:
        if self._reads is None:  # in memory: the one shared connection
            return await super()._read(fn, drain=drain)
        if drain:
            await self._writer.drain()  # the database must know this process's own appends
        if self._closed:
            raise LogClosedError("the store is closed; open a new one to read")
        self.stats.queries += 1
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader, self._read_on_thread, fn)

    async def _point_read(self, fn: Callable[[PointRows], T]) -> T:
        # A run's few index lookups before it starts: on the loop's own thread, straight
        # through the driver, rather than a hop to the reader thread and SQLAlchemy's
        # execution machinery for each (several times what SQLite spends on them). A read
        # transaction in WAL mode waits for no writer.
        if self._reads is None:  # in memory: through aiosqlite, as every read
            return await super()._point_read(fn)
        await self._writer.drain()  # the database must know this process's own appends
        if self._closed:
            raise LogClosedError("the store is closed; open a new one to read")
        self.stats.queries += 1
        if self._point is None:
            self._point = sqlite3.connect(
                self._uri or self.url,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
                uri=self._uri is not None,
            )
            self._point.execute("PRAGMA query_only=1")
        conn = self._point
        try:
            conn.execute("BEGIN")
            try:
                return fn(DriverRows(conn))
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._point = None
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            raise LogError(f"could not read {self.url}: {exc}") from exc

    def _read_on_thread(self, fn: Callable[[Connection], T]) -> T:
        if self._read_conn is None:
            assert self._reads is not None
            self._read_conn = self._reads.connect()
        conn = self._read_conn
        try:
            with conn.begin():
                return fn(conn)
        except DBAPIError as exc:
            if conn.invalidated:
                self._read_conn = None
            raise LogError(f"could not read {self.url}: {exc.orig}") from exc

    async def _write(self, fn: Callable[[Connection], T]) -> T:
        if self._writes is None or self._core_writes:
            return await super()._write(fn)
        if self._closed:
            raise LogClosedError("the store is closed; open a new one to write")
        async with self._write_turn:  # between group commits, never against them
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._thread, self._write_on_thread, fn)

    def _write_on_thread(self, fn: Callable[[Connection], T]) -> T:
        if self._write_conn is None:
            assert self._writes is not None
            self._write_conn = self._writes.connect().execution_options(rewind_begin="IMMEDIATE")
        conn = self._write_conn
        try:
            with conn.begin():
                return fn(conn)
        except DBAPIError as exc:
            if conn.invalidated:
                self._write_conn = None
            raise LogError(f"could not commit to {self.url}: {exc.orig}") from exc

    def _close_writes(self) -> None:
        if self._write_conn is not None:
            self._write_conn.close()
            self._write_conn = None
        if self._writes is not None:
            self._writes.dispose()

    def _event_rows(
        self,
        conn: Connection,
        run_key: int,
        after_seq: int | None,
        until_seq: int | None,
        types: list[str] | None,
        limit: int,
    ) -> Sequence[Sequence[Any]]:
        if self._reads is None:  # in memory: through aiosqlite, as every read
            return super()._event_rows(conn, run_key, after_seq, until_seq, types, limit)
        # The reader thread's own connection, straight through the driver (in the read's
        # transaction): plain tuples, without a result row built around each.
        sql = _SELECT_EVENTS
        after = -1 if after_seq is None else after_seq
        params: list[Any] = [run_key, after]
        if until_seq is not None:
            sql += _THROUGH_SEQ
            params += [until_seq, run_key, until_seq, until_seq]
        if types is not None:
            sql += f" AND type IN ({', '.join('?' * len(types))})"
            params += types
        driver = conn.connection.driver_connection
        assert driver is not None
        cursor = driver.execute(f"{sql} ORDER BY seq LIMIT ?", [*params, limit])
        try:
            return fetch_rows(cursor.fetchmany, limit, after=after, until=until_seq)
        finally:
            cursor.close()

    def _close_reader(self) -> None:
        if self._read_conn is not None:
            self._read_conn.close()
            self._read_conn = None
        if self._reads is not None:
            self._reads.dispose()

    async def aclose(self) -> None:
        """Make everything appended durable, end subscriptions and release the database."""
        try:
            await super().aclose()
        finally:
            release_file(self._held)
            self._held = None
            loop = asyncio.get_running_loop()
            with contextlib.suppress(RuntimeError):  # the interpreter is shutting down
                await loop.run_in_executor(self._thread, self._close_writes)
            if self._wal is not None:
                await self._wal.aclose()
            if self._raw is not None:
                with contextlib.suppress(RuntimeError):
                    await loop.run_in_executor(self._thread, _release_and_close, self._raw)
                self._raw = None
            if self._point is not None:
                self._point.close()
                self._point = None
            with contextlib.suppress(RuntimeError):
                await loop.run_in_executor(self._reader, self._close_reader)
            self._thread.shutdown(wait=False)
            self._reader.shutdown(wait=False)

    async def _commit_group(self, group: list[PendingAppend]) -> list[BaseException | None]:
        # The hot path. A file store commits on its own thread and connection, straight through
        # the driver: the event loop goes on serving appenders while SQLite writes (it releases
        # the GIL), and no per-row parameter processing is spent. The SQLAlchemy Core path
        # (``core_writes=True``, and the in-memory store) writes the same plan; bench/append.py
        # measures both.
        if self._core_writes:
            return await super()._commit_group(group)
        # A worker's appends are fenced (rewind.log.leases): its leases are read here, on the
        # loop where they change, and checked in the commit's own transaction.
        held = held_leases(self._leases, (p.run_id for p in group)) if self._leases else None
        done = None
        # The store's other write transactions (thread metadata, caches) take turns with the
        # group commits here, not in SQLite's busy handler (which sleeps up to 100 ms a try):
        # a server starting runs for a crowd of clients writes a thread for each.
        async with self._write_turn.first():
            if self._wal is not None and self._wal.overdue:  # commits outran the fold
                await self._wal.wait()
            if self._wal is not None and self._wal.behind:  # a fold ended: catch up first
                await asyncio.get_running_loop().run_in_executor(self._thread, self._catch_up)
            if (self._writer.awaited(group) or self._watched(group)) and sum(
                p.count for p in group
            ) <= _INLINE_COMMIT:
                # A small group someone waits for (a `sync` step, a flush, a server's stream
                # of a run) commits in less time than the hand-off to the writer thread and
                # back, which waits for the loop's thread to let go of the interpreter at each
                # step of the commit: right here, on the loop's thread, if the database's write
                # lock is free at once (never waiting for it here: its holder may be another
                # process). Other groups, and this one when the lock is taken, commit on the
                # writer thread.
                done = self._commit_on_thread(group, held, wait=False)
            if done is None:
                loop = asyncio.get_running_loop()
                done = await loop.run_in_executor(self._thread, self._commit_on_thread, group, held)
        head, plan = done
        if self._wal is not None:
            self._wal.committed(_wal_bytes(plan))
        self._publish(head, plan)
        return plan.outcomes

    async def _write_thread_metadata(self, thread_id: str, text: str, now_us: int) -> int:
        # On the writer thread and its connection, in one hand-off: between two group commits,
        # never against them for the database's lock (a server creating a thread for each of
        # a crowd of clients would otherwise queue them through several loop round trips each).
        if self._core_writes:
            return await super()._write_thread_metadata(thread_id, text, now_us)
        if self._closed:
            raise LogClosedError("the store is closed; open a new one to write")
        async with self._write_turn:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._thread, self._thread_metadata_on_thread, thread_id, text, now_us
            )

    def _thread_metadata_on_thread(self, thread_id: str, text: str, now_us: int) -> int:
        conn = self._begin_immediate(wait=True)
        assert conn is not None
        try:
            (created,) = conn.execute(
                _UPSERT_THREAD_METADATA, (thread_id, now_us, now_us, codec.CODEC_VERSION, text)
            ).fetchone()
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        return int(created)

    def _catch_up(self) -> None:
        assert self._wal is not None
        if self._raw is None:
            self._raw = _connect_raw(self.url, self._busy_timeout)
            self._raw_waits = True
        self._wal.catch_up(self._raw)

    def _begin_immediate(self, *, wait: bool) -> sqlite3.Connection | None:
        """Begin a write transaction on the raw connection (``wait=False``: only if the
        database's write lock is free now, else ``None``). Its users take the store's write
        turn, so one of them at a time sets its busy timeout, and only when it changes.

        ``wait=False`` is how the loop's thread commits, which must never wait for SQLite:
        the raw connection is opened (which may wait for another process) only with
        ``wait=True``, on the writer thread. (A worker's loop that waited there could not
        finish its own transaction that held the lock: ten seconds of busy wait, then
        "database is locked".)"""
        if self._raw is None:
            if not wait:
                return None
            self._raw = _connect_raw(self.url, self._busy_timeout)
            self._raw_waits = True
        conn = self._raw
        if wait != self._raw_waits:
            conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout * 1000) if wait else 0}")
            self._raw_waits = wait
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            if wait:
                raise
            return None
        return conn

    @overload
    def _commit_on_thread(
        self, group: list[PendingAppend], held: Mapping[str, Lease] | None
    ) -> tuple[int, CommitPlan]: ...

    @overload
    def _commit_on_thread(
        self, group: list[PendingAppend], held: Mapping[str, Lease] | None, *, wait: bool
    ) -> tuple[int, CommitPlan] | None: ...

    def _commit_on_thread(
        self,
        group: list[PendingAppend],
        held: Mapping[str, Lease] | None,
        *,
        wait: bool = True,
    ) -> tuple[int, CommitPlan] | None:
        """Commit ``group`` (``wait=False``: only if the write lock is free now, else
        ``None`` and nothing done); the appends of runs whose lease in ``held`` is gone are
        refused."""
        conn = self._begin_immediate(wait=wait)
        if conn is None:
            return None  # locked: the writer thread waits for it instead
        # What this connection's last commit left, unless another connection wrote since
        # (rewind.log.known): then only what it does not know is read.
        known, self._known = self._known, None
        try:
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            if known is not None and known.version != version:
                known = None
            ids = list({p.run_id for p in group})
            if known is None:
                head = conn.execute("SELECT position FROM log_head").fetchone()[0]
                tx: dict[str, TxRun] = {}
                unknown = ids
            else:
                head = known.head
                tx, unknown = known.tx_runs(ids)
            for i in range(0, len(unknown), 500):
                chunk = unknown[i : i + 500]
                marks = ",".join("?" * len(chunk))
                for r in conn.execute(f"{_SELECT_TX_RUNS} ({marks})", chunk):
                    tx[r[6]] = TxRun.existing(*r[:6])
            max_key = known.max_key if known is not None else None
            if max_key is None and needs_new_keys(group, tx):
                max_key = conn.execute("SELECT MAX(run_key) FROM runs").fetchone()[0] or 0
            threads = head_threads(group)
            if known is None:
                stored: dict[str, tuple[int, int]] = {}
                read = threads
            else:
                stored, read = known.stored_heads(threads)
            if read:
                marks = ",".join("?" * len(read))
                found = conn.execute(f"{_SELECT_HEADS} ({marks})", read).fetchall()
                stored.update((thread_id, (logged, since)) for thread_id, logged, since in found)
            refused = None
            if held:
                marks = ",".join("?" * len(held))
                queued = [lease.queued_run_id for lease in held.values()]
                refused = refusals(held, conn.execute(f"{_SELECT_LEASES} ({marks})", queued))
            plan = self._plan(group, head, tx, max_key or 0, stored, refused=refused)
            if plan.event_rows:
                # (Each statement only when it has rows: an empty executemany still costs
                # a call into the driver, and a `sync` run commits every step.)
                if plan.created_runs:
                    conn.executemany(_INSERT_RUN, plan.created_runs)
                if plan.changed_runs:
                    conn.executemany(_UPDATE_RUN, plan.changed_runs)
                if plan.progressed_runs:
                    conn.executemany(_UPDATE_RUN_PROGRESS, plan.progressed_runs)
                conn.executemany(_INSERT_EVENTS, plan.event_rows)
                if plan.checkpoint_rows:
                    conn.executemany(_INSERT_CHECKPOINTS, plan.checkpoint_rows)
                for row in plan.head_rows:
                    conn.execute(_UPDATE_HEAD if row.exists else _INSERT_HEAD, row.values)
                if plan.snapshot_rows:
                    conn.executemany(_INSERT_SNAPSHOTS, plan.snapshot_rows)
                conn.execute("UPDATE log_head SET position = ?", (plan.new_head,))
            conn.execute("COMMIT")
            self._known = known_after(known, version, plan, tx, max_key, threads, stored)
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise LogError(f"could not commit to {self.url}: {_why(exc)}") from exc
            raise
        return head, plan

    def _erasing(self, conn: Connection) -> None:
        # Pages and cells a redaction frees are overwritten with zeros, not left for VACUUM.
        conn.exec_driver_sql("PRAGMA secure_delete=ON")

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
    options: LogOptions | None = None,
    upgrade: bool = True,
    busy_timeout: float = 10.0,
    core_writes: bool = False,
    read_only: bool = False,
) -> SqliteLog:
    """Open (creating if needed) a SQLite event log.

    Args:
        path: The database file; ``None`` or ``":memory:"`` for a store in memory.
        options: Durability and tuning.
        upgrade: Migrate an older schema; when ``False`` an older schema is refused with
            :class:`~rewind.errors.SchemaOutdatedError`.
        busy_timeout: Seconds to wait for another process's write lock.
        core_writes: Commit through SQLAlchemy Core and aiosqlite instead of the driver on a
            writer thread (slower; kept to measure against).
        read_only: Only read: nothing is written to the file or beside it (it may be a
            read-only file, directory or filesystem). With no writer holding it open (no
            ``-wal`` file beside it) it is read as it stands when opened. Appends raise
            :class:`~rewind.errors.ReadOnlyDatabaseError`; an older schema is refused.

    Raises:
        NotARewindDatabaseError: the file is not a rewind database (left untouched).
        SchemaTooNewError: a newer rewind wrote it (left untouched).
        SchemaOutdatedError: its schema is older and ``upgrade`` is ``False`` (or
            ``read_only``).
        ReadOnlyDatabaseError: not ``read_only``, and this process cannot write the file (or
            create it): a read-only file, directory or filesystem.
        DatabaseError: ``read_only``, and there is no database at ``path``.
    """
    memory = path is None or str(path) == ":memory:"
    uri = None
    if memory:
        if read_only:
            raise ValueError("a log in memory starts empty: there is nothing to open read-only")
        url, label = "sqlite+aiosqlite://", ":memory:"
        to_migrate = True
    else:
        file = Path(path).expanduser().resolve()  # type: ignore[arg-type]
        label = str(file)
        if read_only and (not file.is_file() or file.stat().st_size == 0):
            raise DatabaseError(
                label, f"no database at {label} (opened read-only: nothing to read; check the path)"
            )
        if not read_only and not file.parent.is_dir():
            raise DatabaseError(
                label, f"there is no directory {file.parent} to hold {label}; create it first"
            )
        if not read_only and (why := unwritable(file)) is not None:
            raise ReadOnlyDatabaseError(label, why)
        revision = await asyncio.to_thread(read_revision, file)
        to_migrate = needs_migration(label, revision, upgrade and not read_only)
        if read_only:
            uri = read_only_uri(file)
            url = f"sqlite+aiosqlite:///{uri}&uri=true"
        else:
            url = f"sqlite+aiosqlite:///{quote(label)}"
    engine = async_engine(url, memory=memory, busy_timeout=busy_timeout, read_only=read_only)
    try:
        if to_migrate:
            await migrate(engine, label, busy_timeout)
    except BaseException:
        await engine.dispose()
        raise
    return SqliteLog(
        engine,
        url=label,
        options=options or LogOptions(),
        memory=memory,
        busy_timeout=busy_timeout,
        core_writes=core_writes,
        uri=uri,
    )
