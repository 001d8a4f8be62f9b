"""The SQLite store: :class:`SqliteStore`, and what it shares with the async one.

The store's tables (``store_items``, ``store_vectors``) are part of rewind's schema, created by
its migrations: a store and an event log can share one file, opened in either order, in one
process or several (WAL, a busy timeout). ``setup()`` brings the file to rewind's current
schema as opening a log there would, and refuses another application's file with the log's
:class:`~rewind.errors.NotARewindDatabaseError`.

Values are stored as JSON text (through ``orjson``, as LangGraph's ``SqliteStore`` does), so
filters are evaluated by SQLite's ``json_extract`` with LangGraph's semantics. Vectors are kept
as float32 BLOBs and ranked in Python: no SQLite extension is needed. The planning of a batch
and its statements are shared with rewind's PostgreSQL store (:mod:`rewind.store._sql`); this
module gives them SQLite's SQL.

Differences from LangGraph's ``SqliteStore``, besides the file it writes: ``created_at`` and
``updated_at`` keep microseconds (naive UTC datetimes, as LangGraph's; its own have whole
seconds), and searches order as LangGraph's ends up ordering (by the second of the last update,
newest first, then in the order the items were written); ``IndexConfig.fields`` is honoured
(LangGraph's reads only ``text_fields``); a put or delete removes the item's old vectors (a
sweep too); a batch that fails writes nothing; reads refresh TTLs when their ``refresh_ttl``
says so, which defaults to the config's ``refresh_on_read``, itself ``True`` by default
(LangGraph's refreshes only with ``refresh_on_read=True`` set); ``omit_expired`` is honoured.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, NamedTuple

from rewind.log.files import hold_file, release_file
from rewind.log.sqlite_files import upgrade_connection, upgrade_file
from rewind.store import writes as _writes
from rewind.store._sql import (
    Condition,
    Deserializer,
    Query,
    SqlStore,
    _Plan,
    drive,
)
from rewind.store._sql import now_us as _now_us
from rewind.store._ttl import ThreadSweeper, ThreadSweeping
from rewind.store._vectors import score
from rewind.store.base import (  # GetOp, ... as LangGraph's module has them
    BaseStore,
    GetOp,  # noqa: F401
    IndexConfig,
    Item,  # noqa: F401
    ListNamespacesOp,  # noqa: F401
    Op,
    PutOp,  # noqa: F401
    Result,
    SearchItem,  # noqa: F401
    SearchOp,
    TTLConfig,
    ensure_embeddings,  # noqa: F401
    get_text_at_path,  # noqa: F401
    tokenize_path,  # noqa: F401
    validate_op_namespace,  # noqa: F401
)
from rewind.store.writes import StoreWrite

__all__ = ["BaseSqliteStore", "PreparedGetQuery", "SqliteIndexConfig", "SqliteStore"]

_AIO_ERROR_MSG = (
    "The SqliteStore does not support async methods. "
    "Consider using AsyncSqliteStore instead.\n"
    "from rewind.store.sqlite.aio import AsyncSqliteStore\n"
)

BUSY_TIMEOUT = 10.0
"""Seconds a store's connection (from ``from_conn_string``) waits for another writer's lock,
as the event log's do."""


class PreparedGetQuery(NamedTuple):
    """One statement of a batch of gets, as LangGraph's ``SqliteStore`` prepares them (rewind's
    store plans its statements in :mod:`rewind.store._sql` and does not make these)."""

    query: str
    """The SQL."""
    params: tuple[Any, ...]
    """Its parameters."""
    namespace: tuple[str, ...]
    """The namespace the gets read."""
    items: list[Any]
    """The gets it answers."""
    kind: Literal["get", "refresh"]
    """Whether it reads the items or refreshes their TTLs."""


class SqliteIndexConfig(IndexConfig, total=False):
    """Semantic search in a SQLite store: :class:`~rewind.store.base.IndexConfig`, and how
    vectors are compared."""

    distance_type: Literal["cosine", "l2", "inner_product"]
    """``cosine`` (the default): the score is the cosine similarity. ``l2`` and
    ``inner_product`` score as LangGraph's ``SqliteStore`` does: the L2 distance, and minus the
    L1 distance, higher first."""
    text_fields: list[str] | str | None
    """LangGraph's ``SqliteStore``'s name for ``fields`` (used when ``fields`` is not given)."""


class BaseSqliteStore(SqlStore):
    """What the sync and async SQLite stores share: running a planned batch on a ``sqlite3``
    connection (in one transaction), with SQLite's SQL for what the SQL stores share."""

    index_config: SqliteIndexConfig | None = None
    _own_connection = False
    """Whether the store opened its connection (``from_conn_string``), and so tunes it."""

    _PUT_ITEM = (
        "INSERT OR REPLACE INTO store_items (prefix, key, value, created_at, updated_at, "
        "expires_at, ttl_minutes) VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    _PUT_VECTOR = (
        "INSERT OR REPLACE INTO store_vectors (prefix, key, field, embedding) VALUES (?, ?, ?, ?)"
    )
    _TTL_MICROS = "CAST(ttl_minutes * 60000000 AS INTEGER)"

    def _where(self, conditions: list[Condition]) -> tuple[list[str], list[Any]]:
        """The conditions through ``json_extract``, as LangGraph's ``SqliteStore`` writes them."""
        sql: list[str] = []
        params: list[Any] = []
        for condition in conditions:
            path = f"json_extract(value, '$.{condition.key}')"
            if condition.op in ("IS NULL", "IS NOT NULL"):
                sql.append(f"{path} {condition.op}")
                continue
            if condition.real:
                path = f"CAST({path} AS REAL)"
            sql.append(f"{path} {condition.op} ?")
            params.append(condition.arg)
        return sql, params

    def _in_namespace(self, text: str, column: str) -> tuple[str, list[Any]]:
        # A range of the primary key (labels hold no ``.``; ``/`` is the character after it).
        return (
            f"({column} = ? OR ({column} > ? AND {column} < ?))",
            [text, text + ".", text + "/"],
        )

    def _search_order(self, op: SearchOp) -> tuple[str, list[Any]]:
        # LangGraph's SqliteStore orders by its whole-second update time, newest first; equal
        # times come in the order its query plan reads them: the searched namespace's own
        # items, then those of the namespaces under it by namespace, each in the order they
        # were written (the whole store: in the order written). So does this.
        if not op.namespace_prefix:
            return "i.updated_at / 1000000 DESC, i.rowid", []
        return (
            "i.updated_at / 1000000 DESC, i.prefix <> ?, i.prefix, i.rowid",
            [".".join(op.namespace_prefix)],
        )

    def _score(self, distance: str, query: Sequence[float], vector: Sequence[float]) -> float:
        return score(distance, query, vector)

    def _run(self, conn: sqlite3.Connection, plan: _Plan) -> list[Result]:
        """Run a planned batch on ``conn``, in one transaction (a write one if it writes)."""
        writing = bool(plan.puts)
        with _transaction(conn, write=writing):
            steps = self._batch_steps(plan, _now_us(), one_transaction=False)
            results, refresh = drive(steps, _executor(conn))
        if refresh:  # a read-only batch restarts TTLs in a short write transaction of its own
            with _transaction(conn, write=True):
                drive(self._refresh_steps(refresh, _now_us()), _executor(conn))
        return results

    def _sweep(self, conn: sqlite3.Connection) -> list[StoreWrite]:
        """Delete the expired items, in a transaction; returns them as writes."""
        with _transaction(conn, write=True):
            return drive(self._sweep_steps(_now_us()), _executor(conn))


@contextmanager
def _transaction(conn: sqlite3.Connection, *, write: bool) -> Iterator[None]:
    """A transaction on ``conn`` (taking the write lock first if ``write``), rolled back if the
    block raises."""
    conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _executor(conn: sqlite3.Connection) -> Callable[[Query], list[tuple[Any, ...]]]:
    """Runs a statement on ``conn`` and gives its rows."""

    def execute(query: Query) -> list[tuple[Any, ...]]:
        if query.many:
            conn.executemany(query.sql, query.params)
            return []
        return conn.execute(query.sql, query.params).fetchall()

    return execute


def database_file(conn: sqlite3.Connection) -> Path | None:
    """The file behind a connection's main database; ``None`` in memory (or a temporary one)."""
    for _seq, name, file in conn.execute("PRAGMA database_list"):
        if name == "main" and file:
            return Path(file)
    return None


def migrate(conn: sqlite3.Connection, file: Path | None) -> None:
    """Bring the database to rewind's current schema (its own file through a connection of its
    own, as a log opening it would; a database in memory on ``conn`` itself)."""
    if file is not None:
        upgrade_file(file.resolve(), busy_timeout=BUSY_TIMEOUT)
    else:
        upgrade_connection(conn, busy_timeout=BUSY_TIMEOUT)


class SqliteStore(ThreadSweeping, BaseSqliteStore, BaseStore):
    """A store in a SQLite database, with optional vector search and TTLs.

    ::

        with SqliteStore.from_conn_string("rewind.db") as store:   # the log's file, or another
            store.setup()  # optional: the first call runs it
            store.put(("users", "123"), "prefs", {"theme": "dark"})
            store.get(("users", "123"), "prefs")

    Args:
        conn: The connection (its file is migrated to rewind's schema by :meth:`setup`).
        deserializer: Turns a stored JSON text into the value (``orjson.loads`` by default).
        index: Semantic search (see :class:`SqliteIndexConfig`).
        ttl: Expiry (see :class:`~rewind.store.base.TTLConfig`).
    """

    supports_ttl = True

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        deserializer: Deserializer | None = None,
        index: SqliteIndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> None:
        super().__init__()
        self.conn = conn
        self.lock = threading.Lock()
        self.is_setup = False
        self._release: Callable[[], Any] | None = None
        """Releases the store's file (see :mod:`rewind.log.files`) when its connection closes."""

        self._configure(deserializer, index, ttl)
        self._sweeper = ThreadSweeper()

    @classmethod
    @contextmanager
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        index: SqliteIndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> Iterator[SqliteStore]:
        """A store on the database ``conn_string`` (a path, or ``":memory:"``), closed after.

        The connection waits up to :data:`BUSY_TIMEOUT` seconds for another writer (an event
        log on the same file, another process).
        """
        conn = sqlite3.connect(
            conn_string, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT
        )
        store: SqliteStore | None = None
        try:
            store = cls(conn, index=index, ttl=ttl)
            store._own_connection = True
            yield store
        finally:
            conn.close()
            if store is not None and store._release is not None:
                store._release()

    def setup(self) -> None:
        """Bring the database to rewind's current schema (creating the store's tables, and the
        event log's). Runs once; the first operation runs it if needed.

        Raises:
            NotARewindDatabaseError: the database is another application's (left untouched).
            SchemaTooNewError: a newer rewind wrote it.
        """
        with self.lock:
            if self.is_setup:
                return
            file = database_file(self.conn)
            migrate(self.conn, file)
            if file is not None:  # held while the store lives (see rewind.log.files)
                self._release = weakref.finalize(self, release_file, hold_file(file))
            if self._own_connection:  # as the log's connections: durable at each checkpoint
                self.conn.execute("PRAGMA synchronous=NORMAL")
            self.is_setup = True

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        plan = self._plan(ops)
        self._embed(plan)
        if not self.is_setup:
            self.setup()
        with self.lock:
            return self._run(self.conn, plan)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Not supported: use :class:`~rewind.store.sqlite.aio.AsyncSqliteStore`."""
        raise NotImplementedError(_AIO_ERROR_MSG)

    def sweep_ttl(self) -> int:
        """Delete the items whose TTL has run out; returns how many.

        The store's write listeners get them as deletions with ``expired=True``.
        """
        if not self.is_setup:
            self.setup()
        with self.lock:
            swept = self._sweep(self.conn)
        _writes.notify(self, swept)
        return len(swept)
