"""The PostgreSQL store: :class:`PostgresStore`, and what it shares with the async one.

The store keeps its items in rewind's schema (``store_items``, ``store_vectors``), created by
rewind's migrations: a store and rewind's event log can share one database, and any number of
processes on any number of machines can use it at once. ``setup()`` migrates the database as
opening an event log there does (:func:`rewind.log.postgres.open_postgres`: under its advisory
lock, through a connection of its own to the database the store's connection or pool is
connected to); the first operation runs it if it was not called. LangGraph's tables (``store``,
``store_migrations``, ...) are neither read nor written.

The planning of a batch and its statements are those of rewind's SQLite store
(:mod:`rewind.store._sql`); this module gives them PostgreSQL's SQL. So, as there: values are
JSON text (through ``orjson``), a batch runs in one transaction and one that fails writes
nothing, TTLs are refreshed by reads as their ``refresh_ttl`` says (the config's
``refresh_on_read`` by default, itself ``True`` by default), ``omit_expired`` is honoured, a put
or a delete removes the item's old vectors (a sweep too), sweeps report what they removed to
the write listeners, and ``IndexConfig.fields`` (or ``text_fields``) names what is embedded.

Differences from LangGraph's ``PostgresStore``:

* Filters give what rewind's (and LangGraph's) ``SqliteStore`` gives: ``$gt``, ``$gte``,
  ``$lt`` and ``$lte`` compare numbers as numbers (LangGraph's compares their text), a dotted
  key reads nested members, ``None`` (or ``{"$eq": None}``) matches a missing member too, and
  keys are checked (one with an empty part, ``a..b``, raises ``ValueError`` here, where SQLite's
  JSON path parser raises its own error). They are evaluated in SQL.
* Vector search needs no extension: vectors are float32 ``BYTEA`` ranked in Python, scored as
  pgvector scores them (``cosine``: 1 - the cosine distance, ``l2``: minus the distance,
  ``inner_product``: the inner product) over the same window of best vectors as LangGraph's
  query. ``ann_index_config`` is accepted and has no effect.
* Values come back with their keys in the order they were put (LangGraph's ``jsonb`` sorts
  them), are checked by ``orjson`` (LangGraph's by ``json``), and a ``deserializer`` gets
  their JSON text.
* Times come from the client's clock, to the microsecond (LangGraph's: the server's
  transaction time); they are aware UTC datetimes and a put keeps ``created_at``, as there.
  Searches without a query order by the last update, newest first, and items written by one
  batch (at the same time) by namespace, then key (LangGraph's leaves those in any order).
* A negative ``limit`` means no limit and a negative ``offset`` none; ``max_depth=0`` lists
  ``("",)`` and a negative one nothing (LangGraph's raises for all of these). A fractional
  TTL is kept as it is (LangGraph's rounds it to whole minutes for its refreshes).
* ``pipeline`` and ``pipe`` are accepted; the statements are not pipelined.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypedDict, cast

try:
    import psycopg
    from psycopg.rows import tuple_row
except ImportError as error:  # pragma: no cover - the extra is missing
    raise ImportError(
        "rewind's PostgreSQL store needs the psycopg driver: pip install 'rewind[postgres]'"
    ) from error

from rewind.checkpoint.postgres import url_of_connection
from rewind.log.postgres import upgrade_postgres
from rewind.store import writes as _writes
from rewind.store._sql import Condition, Deserializer, Query, SqlStore, _Plan, drive
from rewind.store._sql import now_us as _now_us
from rewind.store._ttl import ThreadSweeper, ThreadSweeping
from rewind.store._vectors import pgvector_score
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

__all__ = [
    "ANNIndexConfig",
    "BasePostgresStore",
    "HNSWConfig",
    "IVFFlatConfig",
    "PoolConfig",
    "PostgresIndexConfig",
    "PostgresStore",
    "migrate",
]


class PoolConfig(TypedDict, total=False):
    """A connection pool for ``from_conn_string`` (``psycopg_pool``), as LangGraph's."""

    min_size: int
    """Connections kept open (default 1)."""
    max_size: int | None
    """Connections at most (``None``: ``min_size``)."""
    kwargs: dict[str, Any]
    """Arguments of each connection (``autocommit=True`` is set for you)."""


class ANNIndexConfig(TypedDict, total=False):
    """LangGraph's pgvector index settings: accepted, with no effect (vectors are ranked in
    Python)."""

    kind: Literal["hnsw", "ivfflat", "flat"]
    vector_type: Literal["vector", "halfvec"]


class HNSWConfig(ANNIndexConfig, total=False):
    """LangGraph's HNSW index settings (no effect here)."""

    kind: Literal["hnsw"]  # type: ignore[misc]
    m: int
    ef_construction: int


class IVFFlatConfig(ANNIndexConfig, total=False):
    """LangGraph's IVFFlat index settings (no effect here)."""

    kind: Literal["ivfflat"]  # type: ignore[misc]
    nlist: int


class PostgresIndexConfig(IndexConfig, total=False):
    """Semantic search in a PostgreSQL store: :class:`~rewind.store.base.IndexConfig`, and how
    vectors are compared."""

    ann_index_config: ANNIndexConfig
    """LangGraph's pgvector index (no effect here)."""
    distance_type: Literal["l2", "inner_product", "cosine"]
    """``cosine`` (the default): the score is the cosine similarity; ``l2``: minus the
    euclidean distance; ``inner_product``: the inner product. Higher ranks first."""
    text_fields: list[str] | str | None
    """LangGraph's ``SqliteStore``'s name for ``fields`` (used when ``fields`` is not given)."""


_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# How SQLite compares values of different classes (NULL < numbers < text < BLOBs): whether
# ``a <op> b`` holds when ``a``'s class is above ``b``'s, and when it is below.
_ABOVE = {"=": False, "!=": True, "<": False, "<=": False, ">": True, ">=": True}
_BELOW = {"=": False, "!=": True, "<": True, "<=": True, ">": False, ">=": False}

_TEXTS = "('string', 'array', 'object')"
"""The JSON kinds ``json_extract`` gives as text (an array or object: its JSON text)."""
_NUMBERS = "('number', 'boolean')"
"""The JSON kinds ``json_extract`` gives as numbers (a boolean: 1 or 0)."""

_LEADING_NUMBER = r"^[ \t\n\f\r\v]*([+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?0*[0-9]{1,4})?)"
"""The number a text starts with, as SQLite's ``CAST(text AS REAL)`` reads it (an exponent
beyond 4 digits overflows either way)."""


def _condition_sql(condition: Condition) -> tuple[str, list[Any]]:
    """A filter's condition in PostgreSQL's SQL, true exactly where SQLite's ``json_extract``
    condition LangGraph's ``SqliteStore`` writes is."""
    op = condition.op
    value = "(CAST(value AS json)" + "".join(f" -> '{p}'" for p in condition.key.split(".")) + ")"
    kind = f"json_typeof({value})"
    text = f"({value} #>> '{{}}')"
    if op == "IS NULL":
        return f"({value} IS NULL OR {kind} = 'null')", []
    if op == "IS NOT NULL":
        return f"{kind} <> 'null'", []
    if isinstance(condition.arg, bytes):  # a BLOB: above every value
        return (f"{kind} <> 'null'" if _BELOW[op] else "FALSE"), []
    if isinstance(condition.arg, str):
        sql = f'(CASE WHEN {kind} IN {_TEXTS} THEN {text} END) COLLATE "C" {op} CAST(%s AS text)'
        if _BELOW[op]:
            sql = f"({sql} OR {kind} IN {_NUMBERS})"
        return sql, [condition.arg]
    number = (
        f"CASE {kind} WHEN 'number' THEN CAST({text} AS float8) "
        f"WHEN 'boolean' THEN CASE {text} WHEN 'true' THEN 1 ELSE 0 END"
    )
    if condition.real:  # CAST(... AS REAL): a text by the number it starts with, else 0
        number += (
            f" WHEN 'string' THEN {_leading_number(text)} WHEN 'array' THEN 0 "
            "WHEN 'object' THEN 0 END"
        )
        return f"({number}) {op} CAST(%s AS float8)", [condition.arg]
    sql = f"({number} END) {op} CAST(%s AS float8)"
    if _ABOVE[op]:
        sql = f"({sql} OR {kind} IN {_TEXTS})"
    return sql, [condition.arg]


def _leading_number(text: str) -> str:
    # Within a double's range, as SQLite's reading gives (an infinity or a subnormal compares
    # as the nearest double that PostgreSQL's float8 accepts); a text with no leading number
    # reads as 0 (tested first: GREATEST and LEAST skip a NULL, and would make it the lowest
    # double).
    return (
        "(SELECT COALESCE(CAST(CASE WHEN n IS NULL THEN 0 "
        "WHEN abs(n) < 2.2250738585072014e-308 THEN 0 "
        "ELSE LEAST(GREATEST(n, -1.7976931348623157e308), 1.7976931348623157e308) END "
        f"AS float8), 0) FROM (SELECT CAST(substring({text} FROM '{_LEADING_NUMBER}') "
        "AS numeric) AS n) AS parsed)"
    )


class BasePostgresStore(SqlStore):
    """What the sync and async PostgreSQL stores share: PostgreSQL's SQL for the statements of
    rewind's SQL stores."""

    index_config: PostgresIndexConfig | None = None
    is_setup = False

    _MARK = "%s"
    _PUT_ITEM = (
        "INSERT INTO store_items (prefix, key, value, created_at, updated_at, expires_at, "
        "ttl_minutes) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (prefix, key) DO UPDATE "
        "SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at, "
        "expires_at = EXCLUDED.expires_at, ttl_minutes = EXCLUDED.ttl_minutes"
    )
    _PUT_VECTOR = (
        "INSERT INTO store_vectors (prefix, key, field, embedding) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (prefix, key, field) DO UPDATE SET embedding = EXCLUDED.embedding"
    )
    _TTL_MICROS = "CAST(trunc(ttl_minutes * 60000000) AS BIGINT)"
    _LOCK_ROWS = " FOR UPDATE"  # a sweeper running at the same time does not report them too

    def _where(self, conditions: list[Condition]) -> tuple[list[str], list[Any]]:
        sql: list[str] = []
        params: list[Any] = []
        for condition in conditions:
            if any(not part for part in condition.key.split(".")):
                raise ValueError(
                    f"Invalid filter key: '{condition.key}'. A filter key's dot-separated "
                    "parts cannot be empty."
                )
            where, args = _condition_sql(condition)
            sql.append(where)
            params.extend(args)
        return sql, params

    def _in_namespace(self, text: str, column: str) -> tuple[str, list[Any]]:
        return f"({column} = %s OR starts_with({column}, %s))", [text, text + "."]

    def _search_order(self, op: SearchOp) -> tuple[str, list[Any]]:
        return 'i.updated_at DESC, i.prefix COLLATE "C", i.key COLLATE "C"', []

    def _limits(self, limit: int, offset: int) -> list[Any]:
        return [None if limit < 0 else limit, max(offset, 0)]

    def _stamp(self, us: int) -> datetime:
        return _UTC_EPOCH + timedelta(microseconds=us)

    def _score(self, distance: str, query: Sequence[float], vector: Sequence[float]) -> float:
        return pgvector_score(distance, query, vector)

    def _window(self, limit: int) -> int:
        # LangGraph's query: limit * (vectors an item has, by the config's fields) * 2 + 1.
        estimate = cast(dict[str, Any], self.index_config or {}).get("__estimated_num_vectors", 1)
        return limit * int(estimate) * 2 + 1

    def _now(self) -> int:
        """The store's clock (this module's, which tests replace)."""
        return _now_us()

    def _run(self, conn: psycopg.Connection[Any], plan: _Plan) -> list[Result]:
        """Run a planned batch on ``conn``, in one transaction."""
        with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
            steps = self._batch_steps(plan, self._now(), one_transaction=True)
            results, _ = drive(steps, _executor(cur))
        return results

    def _sweep(self, conn: psycopg.Connection[Any]) -> list[StoreWrite]:
        """Delete the expired items, in a transaction; returns them as writes."""
        with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
            return drive(self._sweep_steps(self._now()), _executor(cur))


def _executor(cur: psycopg.Cursor[Any]) -> Callable[[Query], list[tuple[Any, ...]]]:
    """Runs a statement on ``cur`` and gives its rows."""

    def execute(query: Query) -> list[tuple[Any, ...]]:
        if query.many:
            cur.executemany(query.sql, query.params)
            return []
        cur.execute(query.sql, query.params)
        return cur.fetchall() if cur.description is not None else []

    return execute


def migrate(url: str) -> None:
    """Bring the database at ``url`` to rewind's current schema, as opening rewind's event log
    there does (the same migrations, under the same advisory lock).

    Raises:
        DatabaseError: the server cannot be reached, or refuses the connection.
        SchemaTooNewError: a newer rewind wrote the database (left untouched).
    """
    upgrade_postgres(url, what="the store")


def pool_arguments(pool_config: PoolConfig) -> dict[str, Any]:
    """A ``psycopg_pool`` pool's arguments for ``pool_config`` (its connections in autocommit,
    as LangGraph's; the pool is opened by its ``with``)."""
    config = cast(dict[str, Any], dict(pool_config))
    return {
        "min_size": config.pop("min_size", 1),
        "max_size": config.pop("max_size", None),
        "kwargs": {"autocommit": True, **(config.pop("kwargs", None) or {})},
        "open": False,
        **config,
    }


class PostgresStore(ThreadSweeping, BasePostgresStore, BaseStore):
    """A store in a PostgreSQL database, with optional vector search and TTLs.

    ::

        with PostgresStore.from_conn_string("postgresql://user@host/db") as store:
            store.setup()  # optional: the first call runs it
            store.put(("users", "123"), "prefs", {"theme": "dark"})
            store.get(("users", "123"), "prefs")

    Each batch runs in one transaction, on the connection (one batch at a time) or on a
    connection of the pool.

    Args:
        conn: A psycopg ``Connection`` (in autocommit mode, or its transaction is the one the
            store's writes are part of) or a ``psycopg_pool.ConnectionPool``.
        pipe: LangGraph's pipeline (accepted; no effect).
        deserializer: Turns a stored JSON text into the value (``orjson.loads`` by default).
        index: Semantic search (see :class:`PostgresIndexConfig`).
        ttl: Expiry (see :class:`~rewind.store.base.TTLConfig`).
    """

    supports_ttl = True

    def __init__(
        self,
        conn: Any,
        *,
        pipe: Any = None,
        deserializer: Deserializer | None = None,
        index: PostgresIndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> None:
        super().__init__()
        self.conn = conn
        self.pipe = pipe
        self.lock = threading.Lock()
        self._configure(deserializer, index, ttl)
        self._sweeper = ThreadSweeper()

    @classmethod
    @contextmanager
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        pipeline: bool = False,
        pool_config: PoolConfig | None = None,
        index: PostgresIndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> Iterator[PostgresStore]:
        """A store on the database at ``conn_string`` (a URL or a libpq ``key=value`` string),
        on one connection or, with ``pool_config``, a pool (``psycopg_pool``), closed after.
        ``pipeline`` is accepted (no effect)."""
        if pool_config is not None:
            from psycopg_pool import ConnectionPool

            with ConnectionPool(conn_string, **pool_arguments(pool_config)) as pool:
                yield cls(pool, index=index, ttl=ttl)
        else:
            with psycopg.Connection.connect(conn_string, autocommit=True) as conn:
                yield cls(conn, index=index, ttl=ttl)

    def setup(self) -> None:
        """Bring the database to rewind's current schema (creating the store's tables, and the
        event log's) through a connection of its own. Runs once; the first operation runs it
        if needed.

        Raises:
            DatabaseError: the server cannot be reached, or refuses the connection.
            SchemaTooNewError: a newer rewind wrote the database (left untouched).
        """
        with self.lock:
            if not self.is_setup:
                migrate(url_of_connection(self.conn))
                self.is_setup = True

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if isinstance(self.conn, psycopg.Connection):
            with self.lock:
                yield self.conn
        else:
            with self.conn.connection() as conn:
                yield conn

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        plan = self._plan(ops)
        self._embed(plan)
        if not self.is_setup:
            self.setup()
        with self._connection() as conn:
            return self._run(conn, plan)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """:meth:`batch`, on a thread of the loop's default executor (as LangGraph's)."""
        return await asyncio.get_running_loop().run_in_executor(None, self.batch, ops)

    def sweep_ttl(self) -> int:
        """Delete the items whose TTL has run out; returns how many.

        The store's write listeners get them as deletions with ``expired=True``.
        """
        if not self.is_setup:
            self.setup()
        with self._connection() as conn:
            swept = self._sweep(conn)
        _writes.notify(self, swept)
        return len(swept)
