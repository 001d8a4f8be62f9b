"""The SQLite store: :class:`SqliteStore`, and what it shares with the async one.

The store's tables (``store_items``, ``store_vectors``) are part of rewind's schema, created by
its migrations: a store and an event log can share one file, opened in either order, in one
process or several (WAL, a busy timeout). ``setup()`` brings the file to rewind's current
schema as opening a log there would, and refuses another application's file with the log's
:class:`~rewind.errors.NotARewindDatabaseError`.

Values are stored as JSON text (through ``orjson``, as LangGraph's ``SqliteStore`` does), so
filters are evaluated by SQLite's ``json_extract`` with LangGraph's semantics. Vectors are kept
as float32 BLOBs and ranked in Python: no SQLite extension is needed.

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

import concurrent.futures
import logging
import re
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast

import orjson
from langchain_core.embeddings import Embeddings

from rewind.log.sqlite import upgrade_connection, upgrade_file
from rewind.store import writes as _writes
from rewind.store._ttl import ThreadSweeper
from rewind.store._vectors import pack, score, unpack
from rewind.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    ensure_embeddings,
    get_text_at_path,
    tokenize_path,
    validate_op_namespace,
)
from rewind.store.writes import StoreWrite

__all__ = ["BaseSqliteStore", "SqliteIndexConfig", "SqliteStore"]

logger = logging.getLogger(__name__)

_AIO_ERROR_MSG = (
    "The SqliteStore does not support async methods. "
    "Consider using AsyncSqliteStore instead.\n"
    "from rewind.store.sqlite.aio import AsyncSqliteStore\n"
)

BUSY_TIMEOUT = 10.0
"""Seconds a store's connection (from ``from_conn_string``) waits for another writer's lock,
as the event log's do."""

Deserializer = Callable[[bytes | str | orjson.Fragment], dict[str, Any]]


class SqliteIndexConfig(IndexConfig, total=False):
    """Semantic search in a SQLite store: :class:`~rewind.store.base.IndexConfig`, and how
    vectors are compared."""

    distance_type: Literal["cosine", "l2", "inner_product"]
    """``cosine`` (the default): the score is the cosine similarity. ``l2`` and
    ``inner_product`` score as LangGraph's ``SqliteStore`` does: the L2 distance, and minus the
    L1 distance, higher first."""
    text_fields: list[str] | str | None
    """LangGraph's ``SqliteStore``'s name for ``fields`` (used when ``fields`` is not given)."""


_EPOCH = datetime(1970, 1, 1)


def _now_us() -> int:
    """Microseconds since the epoch, UTC: the store's clock."""
    return time.time_ns() // 1000


def _datetime(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _ns_text(namespace: tuple[str, ...]) -> str:
    return ".".join(namespace)


def _ns_tuple(text: str) -> tuple[str, ...]:
    return tuple(text.split("."))


def _in_namespace(prefix: tuple[str, ...], column: str = "prefix") -> tuple[str, list[Any]]:
    """SQL for "the namespace is ``prefix`` or lies under it", as a range of the primary key
    (labels hold no ``.``; ``/`` is the character after it)."""
    if not prefix:
        return "1", []
    text = _ns_text(prefix)
    return (
        f"({column} = ? OR ({column} > ? AND {column} < ?))",
        [text, text + ".", text + "/"],
    )


_FILTER_KEY = re.compile(r"^[a-zA-Z0-9_.-]+$")


def _filter_path(key: str) -> str:
    if not _FILTER_KEY.match(key):
        raise ValueError(
            f"Invalid filter key: '{key}'. Filter keys must contain only alphanumeric "
            "characters, underscores, dots, and hyphens."
        )
    return f"json_extract(value, '$.{key}')"


def _filter_sql(conditions: Mapping[str, Any]) -> tuple[list[str], list[Any]]:
    """SQL conditions for a search's ``filter``, evaluated as LangGraph's ``SqliteStore``
    evaluates them (``json_extract`` against parameters typed as its are)."""
    sql: list[str] = []
    params: list[Any] = []
    for key, wanted in conditions.items():
        path = _filter_path(key)
        if isinstance(wanted, dict):
            for operator, arg in wanted.items():
                condition, args = _operator_sql(path, operator, arg)
                sql.append(condition)
                params.extend(args)
        elif isinstance(wanted, str):
            sql.append(f"{path} = ?")
            params.append(wanted)
        elif wanted is None:
            sql.append(f"{path} IS NULL")
        elif isinstance(wanted, bool):  # JSON booleans come out of json_extract as 1 and 0
            sql.append(f"{path} = {1 if wanted else 0}")
        elif isinstance(wanted, int | float):
            sql.append(f"{path} = ?")
            params.append(float(wanted))
        else:  # a list or another mapping-like value: its JSON text
            sql.append(f"{path} = ?")
            params.append(orjson.dumps(wanted).decode())
    return sql, params


_ORDERING = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


def _operator_sql(path: str, operator: str, arg: Any) -> tuple[str, list[Any]]:
    if operator in ("$eq", "$ne"):
        equal = operator == "$eq"
        if isinstance(arg, str):
            return f"{path} {'=' if equal else '!='} ?", [arg]
        if arg is None:
            return f"{path} IS {'' if equal else 'NOT '}NULL", []
        if isinstance(arg, bool):
            return f"{path} {'=' if equal else '!='} {1 if arg else 0}", []
        if isinstance(arg, int | float):
            return f"{path} {'=' if equal else '!='} ?", [float(arg)]
        return f"{path} {'=' if equal else '!='} ?", [orjson.dumps(arg)]
    comparison = _ORDERING.get(operator)
    if comparison is None:
        raise ValueError(f"Unsupported operator: {operator}")
    if isinstance(arg, int | float):
        return f"CAST({path} AS REAL) {comparison} ?", [float(arg)]
    if isinstance(arg, str):
        return f"{path} {comparison} ?", [arg]
    return f"{path} {comparison} ?", [orjson.dumps(arg)]


def _page(rows: list[Any], limit: int, offset: int) -> list[Any]:
    """``rows`` through SQL's ``LIMIT limit OFFSET offset`` (a negative limit: no limit; a
    negative offset: none)."""
    start = max(offset, 0)
    return rows[start:] if limit < 0 else rows[start : start + limit]


def _does_match(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    path = condition.path
    if len(namespace) < len(path):
        return False
    if condition.match_type == "prefix":
        pairs = zip(namespace, path, strict=False)
    else:
        pairs = zip(reversed(namespace), reversed(path), strict=False)
    return all(wanted == "*" or label == wanted for label, wanted in pairs)


def _truncated(text: str, max_depth: int | None) -> str | None:
    """A namespace cut to ``max_depth`` labels, as LangGraph's SQL cuts it (0 gives ``""``; a
    negative depth, nothing)."""
    if max_depth is None:
        return text
    if max_depth < 0:
        return None
    return ".".join(text.split(".")[:max_depth])


@dataclass
class _Search:
    index: int
    op: SearchOp
    where: list[str]
    params: list[Any]
    query_vector: list[float] | None = None


@dataclass
class _Plan:
    """A batch checked and prepared before the database is touched."""

    size: int
    gets: list[tuple[int, GetOp]] = field(default_factory=list)
    searches: list[_Search] = field(default_factory=list)
    lists: list[tuple[int, ListNamespacesOp]] = field(default_factory=list)
    puts: dict[tuple[str, str], tuple[PutOp, str | None]] = field(default_factory=dict)
    """(prefix, key) -> the last put of the item and its value's JSON (``None``: delete)."""
    texts: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(prefix, key, field path, text) to embed."""
    vectors: list[list[float]] = field(default_factory=list)


class BaseSqliteStore:
    """What the sync and async SQLite stores share: planning a batch and running it on a
    ``sqlite3`` connection (in one transaction)."""

    supports_ttl = True
    index_config: SqliteIndexConfig | None = None
    ttl_config: TTLConfig | None = None
    embeddings: Embeddings | None = None
    _deserializer: Deserializer | None = None
    _own_connection = False
    """Whether the store opened its connection (``from_conn_string``), and so tunes it."""

    def _configure(
        self,
        deserializer: Deserializer | None,
        index: SqliteIndexConfig | None,
        ttl: TTLConfig | None,
    ) -> None:
        self._deserializer = deserializer
        self.index_config = None
        self.embeddings = None
        if index:
            self.embeddings, self.index_config = _ensure_index_config(index)
        self.ttl_config = ttl

    # --- planning -------------------------------------------------------------------------

    def _plan(self, ops: Iterable[Op]) -> _Plan:
        """Check every op and prepare the batch; raises (LangGraph's errors) before anything
        is read or written."""
        indexed = list(enumerate(ops))
        for _, op in indexed:
            validate_op_namespace(op)
        plan = _Plan(size=len(indexed))
        puts: list[PutOp] = []
        for i, op in indexed:
            if isinstance(op, GetOp):
                plan.gets.append((i, op))
            elif isinstance(op, SearchOp):
                where, params = _filter_sql(op.filter) if op.filter else ([], [])
                plan.searches.append(_Search(i, op, where, params))
            elif isinstance(op, ListNamespacesOp):
                plan.lists.append((i, op))
            elif isinstance(op, PutOp):
                puts.append(op)
        for op in puts:
            # The last put of an item is applied, at the place of its first (as LangGraph's).
            value = None if op.value is None else orjson.dumps(dict(op.value)).decode()
            plan.puts[(_ns_text(op.namespace), op.key)] = (op, value)
        if self.index_config:
            fields = cast(dict[str, Any], self.index_config)["__tokenized_fields"]
            for (prefix, key), (op, _) in plan.puts.items():
                if op.value is None or op.index is False:
                    continue
                paths = fields if op.index is None else [(p, tokenize_path(p)) for p in op.index]
                for path, tokens in paths:
                    found = get_text_at_path(op.value, tokens)
                    for n, text in enumerate(found):
                        name = f"{path}.{n}" if len(found) > 1 else path
                        plan.texts.append((prefix, key, name, text))
        return plan

    def _search_texts(self, plan: _Plan) -> list[str]:
        """The queries to embed (one per ranked search)."""
        if not self.index_config:
            return []
        return [s.op.query for s in plan.searches if s.op.query]

    def _give_vectors(
        self, plan: _Plan, query_vectors: list[list[float]], put_vectors: list[list[float]]
    ) -> None:
        ranked = [s for s in plan.searches if s.op.query] if self.index_config else []
        for search, vector in zip(ranked, query_vectors, strict=False):
            search.query_vector = list(vector)
        if len(put_vectors) != len(plan.texts):
            raise ValueError(
                f"Number of embeddings ({len(put_vectors)}) does not"
                f" match number of indices ({len(plan.texts)})"
            )
        plan.vectors = [list(v) for v in put_vectors]

    # --- running --------------------------------------------------------------------------

    def _run(self, conn: sqlite3.Connection, plan: _Plan) -> list[Result]:
        """Run a planned batch on ``conn``, in one transaction (a write one if it writes)."""
        results: list[Result] = [None] * plan.size
        writing = bool(plan.puts)
        conn.execute("BEGIN IMMEDIATE" if writing else "BEGIN")
        try:
            now = _now_us()
            refresh: list[tuple[str, str]] = []
            for i, items, stale in self._read_gets(conn, plan.gets, now):
                results[i] = items
                refresh.extend(stale)
            for search in plan.searches:
                found, stale = self._read_search(conn, search, now)
                results[search.index] = found
                refresh.extend(stale)
            for i, op in plan.lists:
                results[i] = self._read_namespaces(conn, op, now)
            if writing:
                self._refresh(conn, refresh, now)
                refresh = []
                self._write(conn, plan, now)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if refresh:  # a read-only batch restarts TTLs in a short write transaction of its own
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._refresh(conn, refresh, _now_us())
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return results

    def _live(self, now: int, column: str = "expires_at") -> tuple[str, list[Any]]:
        if self.ttl_config and self.ttl_config.get("omit_expired", False):
            return f"({column} IS NULL OR {column} >= ?)", [now]
        return "", []

    def _read_gets(
        self, conn: sqlite3.Connection, gets: list[tuple[int, GetOp]], now: int
    ) -> Iterator[tuple[int, Item | None, list[tuple[str, str]]]]:
        by_namespace: dict[tuple[str, ...], list[tuple[int, GetOp]]] = defaultdict(list)
        for i, op in gets:
            by_namespace[tuple(op.namespace)].append((i, op))
        live, live_params = self._live(now)
        for namespace, ops in by_namespace.items():
            prefix = _ns_text(namespace)
            keys = list(dict.fromkeys(op.key for _, op in ops))
            rows: dict[str, tuple[Any, ...]] = {}
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                sql = (
                    "SELECT key, value, created_at, updated_at, ttl_minutes FROM store_items "
                    f"WHERE prefix = ? AND key IN ({', '.join('?' * len(chunk))})"
                )
                if live:
                    sql += f" AND {live}"
                for row in conn.execute(sql, [prefix, *chunk, *live_params]):
                    rows[row[0]] = row
            for i, op in ops:
                row = rows.get(op.key)
                if row is None:
                    yield i, None, []
                    continue
                item = Item(
                    value=self._load(row[1]),
                    key=row[0],
                    namespace=namespace,
                    created_at=_datetime(row[2]),
                    updated_at=_datetime(row[3]),
                )
                stale = [(prefix, row[0])] if op.refresh_ttl and row[4] is not None else []
                yield i, item, stale

    def _read_search(
        self, conn: sqlite3.Connection, search: _Search, now: int
    ) -> tuple[list[SearchItem], list[tuple[str, str]]]:
        op = search.op
        live, live_params = self._live(now, "i.expires_at")
        ranked = search.query_vector is not None
        in_ns, ns_params = _in_namespace(tuple(op.namespace_prefix), "i.prefix")
        where = " AND ".join([in_ns, *search.where, *([live] if live else [])])
        params = [*ns_params, *search.params, *live_params]
        columns = "i.prefix, i.key, i.value, i.created_at, i.updated_at, i.ttl_minutes"
        rows: list[tuple[Any, ...]]
        scores: list[float | None]
        if not ranked:
            # LangGraph's SqliteStore orders by its whole-second update time, newest first;
            # equal times come in the order its query plan reads them: the searched namespace's
            # own items, then those of the namespaces under it by namespace, each in the order
            # they were written (the whole store: in the order written). So does this.
            order = "i.updated_at / 1000000 DESC, "
            order_params: list[Any] = []
            if op.namespace_prefix:
                order += "i.prefix <> ?, i.prefix, "
                order_params.append(_ns_text(tuple(op.namespace_prefix)))
            sql = (
                f"SELECT {columns} FROM store_items AS i WHERE {where} "
                f"ORDER BY {order}i.rowid LIMIT ? OFFSET ?"
            )
            rows = conn.execute(sql, [*params, *order_params, op.limit, op.offset]).fetchall()
            scores = [None] * len(rows)
        else:
            assert search.query_vector is not None
            sql = (
                f"SELECT {columns}, v.embedding FROM store_items AS i "
                "JOIN store_vectors AS v ON v.prefix = i.prefix AND v.key = i.key "
                f"WHERE {where}"
            )
            distance = (self.index_config or {}).get("distance_type", "cosine")
            query = unpack(pack(search.query_vector))  # compared in float32, as stored
            scored = [
                (score(distance, query, unpack(row[6])), row) for row in conn.execute(sql, params)
            ]
            scored.sort(key=lambda pair: pair[0], reverse=True)
            # As LangGraph's query: the best 2 * limit vectors, each item once (its best),
            # then the page.
            best: dict[tuple[str, str], tuple[float, tuple[Any, ...]]] = {}
            for value, row in _page(scored, op.limit * 2, 0):
                best.setdefault((row[0], row[1]), (value, row))
            page = _page(list(best.values()), op.limit, op.offset)
            rows = [row for _, row in page]
            scores = [value for value, _ in page]
        found = [
            SearchItem(
                namespace=_ns_tuple(row[0]),
                key=row[1],
                value=self._load(row[2]),
                created_at=_datetime(row[3]),
                updated_at=_datetime(row[4]),
                score=value,
            )
            for row, value in zip(rows, scores, strict=True)
        ]
        stale = [(row[0], row[1]) for row in rows if op.refresh_ttl and row[5] is not None]
        return found, stale

    def _read_namespaces(
        self, conn: sqlite3.Connection, op: ListNamespacesOp, now: int
    ) -> list[tuple[str, ...]]:
        conditions: list[MatchCondition] = []
        sql = "SELECT DISTINCT prefix FROM store_items"
        where: list[str] = []
        params: list[Any] = []
        for condition in op.match_conditions or ():
            if condition.match_type not in ("prefix", "suffix"):
                logger.warning("Unknown match_type in list_namespaces: %s", condition.match_type)
                continue
            if not condition.path:
                continue
            if condition.match_type == "prefix" and "*" not in condition.path:
                in_ns, ns_params = _in_namespace(tuple(condition.path))
                where.append(in_ns)
                params.extend(ns_params)
            else:
                conditions.append(condition)
        live, live_params = self._live(now)
        if live:
            where.append(live)
            params.extend(live_params)
        if where:
            sql += " WHERE " + " AND ".join(where)
        texts: set[str] = set()
        for (prefix,) in conn.execute(sql, params):
            if conditions and not all(_does_match(c, _ns_tuple(prefix)) for c in conditions):
                continue
            cut = _truncated(prefix, op.max_depth)
            if cut is not None:
                texts.add(cut)
        return [_ns_tuple(text) for text in _page(sorted(texts), op.limit, op.offset)]

    def _refresh(self, conn: sqlite3.Connection, items: list[tuple[str, str]], now: int) -> None:
        if items:
            conn.executemany(
                "UPDATE store_items SET expires_at = ? + CAST(ttl_minutes * 60000000 AS INTEGER) "
                "WHERE prefix = ? AND key = ? AND ttl_minutes IS NOT NULL",
                [(now, prefix, key) for prefix, key in items],
            )

    def _write(self, conn: sqlite3.Connection, plan: _Plan, now: int) -> None:
        places = list(plan.puts)
        conn.executemany("DELETE FROM store_items WHERE prefix = ? AND key = ?", places)
        conn.executemany("DELETE FROM store_vectors WHERE prefix = ? AND key = ?", places)
        rows = [
            (
                prefix,
                key,
                value,
                now,
                now,
                None if op.ttl is None else now + int(op.ttl * 60_000_000),
                op.ttl,
            )
            for (prefix, key), (op, value) in plan.puts.items()
            if value is not None
        ]
        conn.executemany(
            "INSERT INTO store_items (prefix, key, value, created_at, updated_at, expires_at, "
            "ttl_minutes) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        if plan.texts:
            conn.executemany(
                "INSERT OR REPLACE INTO store_vectors (prefix, key, field, embedding) "
                "VALUES (?, ?, ?, ?)",
                [
                    (prefix, key, name, pack(vector))
                    for (prefix, key, name, _), vector in zip(plan.texts, plan.vectors, strict=True)
                ],
            )

    def _sweep(self, conn: sqlite3.Connection) -> list[StoreWrite]:
        """Delete the expired items, in a transaction; returns them as writes."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            expired = conn.execute(
                "SELECT prefix, key FROM store_items "
                "WHERE expires_at IS NOT NULL AND expires_at < ? ORDER BY expires_at",
                (_now_us(),),
            ).fetchall()
            conn.executemany("DELETE FROM store_items WHERE prefix = ? AND key = ?", expired)
            conn.executemany("DELETE FROM store_vectors WHERE prefix = ? AND key = ?", expired)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return [
            StoreWrite(_ns_tuple(prefix), key, None, None, None, expired=True)
            for prefix, key in expired
        ]

    def _load(self, text: str) -> dict[str, Any]:
        if self._deserializer is not None:
            return self._deserializer(text)
        return cast(dict[str, Any], orjson.loads(text))


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


class SqliteStore(BaseSqliteStore, BaseStore):
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
        try:
            store = cls(conn, index=index, ttl=ttl)
            store._own_connection = True
            yield store
        finally:
            conn.close()

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
            migrate(self.conn, database_file(self.conn))
            if self._own_connection:  # as the log's connections: durable at each checkpoint
                self.conn.execute("PRAGMA synchronous=NORMAL")
            self.is_setup = True

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        plan = self._plan(ops)
        embeddings = self.embeddings
        if embeddings is not None:
            texts = self._search_texts(plan)
            queries = embeddings.embed_documents(texts) if texts else []
            vectors = embeddings.embed_documents([t[3] for t in plan.texts]) if plan.texts else []
            self._give_vectors(plan, queries, vectors)
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

    def start_ttl_sweeper(
        self, sweep_interval_minutes: int | None = None
    ) -> concurrent.futures.Future[None]:
        """Sweep expired items every ``sweep_interval_minutes`` (or the config's
        ``sweep_interval_minutes``, or 5) on a background thread.

        Returns:
            A future that ends when the sweeper stops; cancel it to stop the sweeper. Without a
            TTL config nothing starts and the future is already done.
        """
        return self._sweeper.start_for(self.ttl_config, self.sweep_ttl, sweep_interval_minutes)

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper thread; whether it stopped within ``timeout`` seconds (``True`` if
        it was not running)."""
        return self._sweeper.stop(timeout)

    def __del__(self) -> None:
        sweeper = getattr(self, "_sweeper", None)
        if sweeper is not None:
            sweeper.stop(timeout=0.1)


def _ensure_index_config(index: SqliteIndexConfig) -> tuple[Embeddings, SqliteIndexConfig]:
    config = cast(dict[str, Any], dict(index))
    fields = config.get("fields") or config.get("text_fields") or ["$"]
    if isinstance(fields, str):
        fields = [fields]
    if not isinstance(fields, list):
        raise ValueError(f"Text fields must be a list or a string. Got {fields}")
    config["__tokenized_fields"] = [(p, "$" if p == "$" else tokenize_path(p)) for p in fields]
    config["__estimated_num_vectors"] = sum(
        1 if p == "$" else len(tokenize_path(p)) for p in fields
    )
    return ensure_embeddings(config.get("embed")), cast(SqliteIndexConfig, config)
