"""What rewind's SQL stores share: a batch checked and planned before the database is touched,
the statements that run it (written once for SQLite and PostgreSQL, for sync and async
drivers), and what is done with rows in Python.

The stores of :mod:`rewind.store.sqlite` and :mod:`rewind.store.postgres` keep their items in
the same tables of rewind's schema: ``store_items`` (a namespace as its labels joined with
``.``, the key, the value as JSON text, times as integer microseconds since the epoch, the
expiry and the TTL) and ``store_vectors`` (float32 BLOBs, ranked in Python).

A batch is planned by :meth:`SqlStore._plan` (every error LangGraph raises for bad ops is raised
there), then run as the statements :meth:`SqlStore._batch_steps` yields, a generator each of
whose :class:`Query` is answered with the rows it gave by a driver on the backend's connection
(:func:`drive`, :func:`adrive`). What the backends write differently (placeholders, filters,
upserts, the order of unranked searches, timestamps, scores) are the hooks of
:class:`SqlStore`, which each backend's base class sets.
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar, cast

import orjson
from langchain_core.embeddings import Embeddings

from rewind.store._vectors import pack, unpack
from rewind.store.base import (
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

__all__ = [
    "Condition",
    "Deserializer",
    "Query",
    "SqlStore",
    "Steps",
    "adrive",
    "drive",
    "filter_conditions",
    "now_us",
]

T = TypeVar("T")

logger = logging.getLogger(__name__)

Deserializer = Callable[[bytes | str | orjson.Fragment], dict[str, Any]]
"""Turns a stored value's JSON text into the value."""

Rows = list[tuple[Any, ...]]
Place = tuple[str, str]
"""An item's (namespace text, key)."""

_EPOCH = datetime(1970, 1, 1)


def now_us() -> int:
    """Microseconds since the epoch, UTC: the stores' clock."""
    return time.time_ns() // 1000


def naive_datetime(us: int) -> datetime:
    """A time in microseconds as a naive UTC datetime."""
    return _EPOCH + timedelta(microseconds=us)


def ns_text(namespace: tuple[str, ...]) -> str:
    """A namespace as stored: its labels joined with ``.`` (labels never hold one)."""
    return ".".join(namespace)


def ns_tuple(text: str) -> tuple[str, ...]:
    """The namespace a stored text names."""
    return tuple(text.split("."))


def page(rows: list[Any], limit: int, offset: int) -> list[Any]:
    """``rows`` through SQL's ``LIMIT limit OFFSET offset`` (a negative limit: no limit; a
    negative offset: none)."""
    start = max(offset, 0)
    return rows[start:] if limit < 0 else rows[start : start + limit]


def does_match(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    """Whether ``namespace`` starts (or ends) with the condition's path, ``*`` matching any
    one label."""
    path = condition.path
    if len(namespace) < len(path):
        return False
    if condition.match_type == "prefix":
        pairs = zip(namespace, path, strict=False)
    else:
        pairs = zip(reversed(namespace), reversed(path), strict=False)
    return all(wanted == "*" or label == wanted for label, wanted in pairs)


def truncated(text: str, max_depth: int | None) -> str | None:
    """A namespace cut to ``max_depth`` labels, as LangGraph's SQL cuts it (0 gives ``""``; a
    negative depth, nothing)."""
    if max_depth is None:
        return text
    if max_depth < 0:
        return None
    return ".".join(text.split(".")[:max_depth])


# --- filters ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition of a search's ``filter``, as LangGraph's ``SqliteStore`` puts it to SQLite:
    the value at ``key`` (``json_extract``'s ``$.key``: JSON null and a missing member are SQL
    ``NULL``, booleans the integers 1 and 0, arrays and objects their JSON text) compared by
    ``op`` with ``arg``."""

    key: str
    """The dotted path of object members the value is read at."""
    op: str
    """``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``IS NULL`` or ``IS NOT NULL``."""
    arg: int | float | str | bytes | None = None
    """What the value is compared with: a number, a text, or a BLOB (which SQLite orders above
    every number and text)."""
    real: bool = False
    """Whether the value is first cast to a number (``CAST(... AS REAL)``: a text by its
    leading number, else 0)."""


_FILTER_KEY = re.compile(r"^[a-zA-Z0-9_.-]+$")
_ORDERING = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


def filter_conditions(conditions: Mapping[str, Any]) -> list[Condition]:
    """A search's ``filter`` as conditions typed as LangGraph's ``SqliteStore`` types them.

    Raises:
        ValueError: a key that is not a dotted path of names, or an unknown operator.
        TypeError: a value JSON cannot hold.
    """
    found: list[Condition] = []
    for key, wanted in conditions.items():
        if not _FILTER_KEY.match(key):
            raise ValueError(
                f"Invalid filter key: '{key}'. Filter keys must contain only alphanumeric "
                "characters, underscores, dots, and hyphens."
            )
        if isinstance(wanted, dict):
            found.extend(_operator(key, operator, arg) for operator, arg in wanted.items())
        else:  # a list or another value that is not text nor a number: its JSON text
            found.append(_equality(key, "=", wanted, lambda v: orjson.dumps(v).decode()))
    return found


def _equality(key: str, op: str, arg: Any, other: Callable[[Any], str | bytes]) -> Condition:
    if isinstance(arg, str):
        return Condition(key, op, arg)
    if arg is None:
        return Condition(key, "IS NULL" if op == "=" else "IS NOT NULL")
    if isinstance(arg, bool):  # JSON booleans come out of json_extract as 1 and 0
        return Condition(key, op, 1 if arg else 0)
    if isinstance(arg, int | float):
        return Condition(key, op, float(arg))
    return Condition(key, op, other(arg))


def _operator(key: str, operator: str, arg: Any) -> Condition:
    if operator in ("$eq", "$ne"):
        return _equality(key, "=" if operator == "$eq" else "!=", arg, orjson.dumps)
    comparison = _ORDERING.get(operator)
    if comparison is None:
        raise ValueError(f"Unsupported operator: {operator}")
    if isinstance(arg, int | float):
        return Condition(key, comparison, float(arg), real=True)
    if isinstance(arg, str):
        return Condition(key, comparison, arg)
    return Condition(key, comparison, orjson.dumps(arg))


# --- plans and steps ----------------------------------------------------------------------------


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
    puts: dict[Place, tuple[PutOp, str | None]] = field(default_factory=dict)
    """(prefix, key) -> the last put of the item and its value's JSON (``None``: delete)."""
    texts: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(prefix, key, field path, text) to embed."""
    vectors: list[list[float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Query:
    """One statement of a batch, in the backend's SQL (its placeholders)."""

    sql: str
    params: Sequence[Any] = ()
    """The parameters; with ``many``, a sequence of parameter rows (``executemany``)."""
    many: bool = False


Steps = Generator[Query, Rows, T]
"""Statements, each sent back the rows it gave (none for an ``executemany``); returns ``T``."""


def drive(steps: Steps[T], execute: Callable[[Query], Rows]) -> T:
    """Run ``steps``, answering each statement with the rows ``execute`` gives for it."""
    try:
        query = next(steps)
        while True:
            query = steps.send(execute(query))
    except StopIteration as done:
        return cast(T, done.value)


async def adrive(steps: Steps[T], execute: Callable[[Query], Awaitable[Rows]]) -> T:
    """:func:`drive` with an async ``execute``."""
    try:
        query = next(steps)
        while True:
            query = steps.send(await execute(query))
    except StopIteration as done:
        return cast(T, done.value)


class SqlStore:
    """What rewind's SQL stores share: planning a batch and the statements that run it.

    A backend's base class sets the hooks: the SQL that differs between backends.
    """

    supports_ttl = True
    index_config: Any = None
    ttl_config: TTLConfig | None = None
    embeddings: Embeddings | None = None
    _deserializer: Deserializer | None = None

    _MARK: ClassVar[str] = "?"
    """The driver's placeholder."""
    _PUT_ITEM: ClassVar[str]
    """Inserts an item's row (prefix, key, value, created_at, updated_at, expires_at,
    ttl_minutes), replacing the one it has."""
    _PUT_VECTOR: ClassVar[str]
    """Inserts a vector (prefix, key, field, embedding), replacing the one it has."""
    _TTL_MICROS: ClassVar[str]
    """An item's ``ttl_minutes`` in whole microseconds (truncated), in SQL."""
    _LOCK_ROWS: ClassVar[str] = ""
    """What a sweep's ``SELECT`` ends with to lock the rows it will delete."""

    def _where(self, conditions: list[Condition]) -> tuple[list[str], list[Any]]:
        """A filter's conditions in the backend's SQL (on the column ``value``)."""
        raise NotImplementedError

    def _in_namespace(self, text: str, column: str) -> tuple[str, list[Any]]:
        """SQL for "``column`` is the namespace ``text`` or lies under it"."""
        raise NotImplementedError

    def _search_order(self, op: SearchOp) -> tuple[str, list[Any]]:
        """The ``ORDER BY`` of a search without a query (on ``store_items AS i``)."""
        raise NotImplementedError

    def _limits(self, limit: int, offset: int) -> list[Any]:
        """The parameters of ``LIMIT ? OFFSET ?`` for a search's limit and offset."""
        return [limit, offset]

    def _stamp(self, us: int) -> datetime:
        """A stored time as an item's datetime."""
        return naive_datetime(us)

    def _score(self, distance: str, query: Sequence[float], vector: Sequence[float]) -> float:
        """A vector's score for a query (higher ranks first)."""
        raise NotImplementedError

    def _window(self, limit: int) -> int:
        """How many of the best vectors a ranked search takes before each item is kept once."""
        return limit * 2

    def _configure(
        self, deserializer: Deserializer | None, index: IndexConfig | None, ttl: TTLConfig | None
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
                where, params = self._where(filter_conditions(op.filter)) if op.filter else ([], [])
                plan.searches.append(_Search(i, op, where, params))
            elif isinstance(op, ListNamespacesOp):
                plan.lists.append((i, op))
            elif isinstance(op, PutOp):
                puts.append(op)
        for op in puts:
            # The last put of an item is applied, at the place of its first (as LangGraph's).
            value = None if op.value is None else orjson.dumps(dict(op.value)).decode()
            plan.puts[(ns_text(op.namespace), op.key)] = (op, value)
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

    def _embed(self, plan: _Plan) -> None:
        """Embed the batch's queries, then its texts (before the database is touched)."""
        embeddings = self.embeddings
        if embeddings is not None:
            texts = self._search_texts(plan)
            queries = embeddings.embed_documents(texts) if texts else []
            vectors = embeddings.embed_documents([t[3] for t in plan.texts]) if plan.texts else []
            self._give_vectors(plan, queries, vectors)

    async def _aembed(self, plan: _Plan) -> None:
        """:meth:`_embed`, with the embeddings' async methods."""
        embeddings = self.embeddings
        if embeddings is not None:
            texts = self._search_texts(plan)
            queries = await embeddings.aembed_documents(texts) if texts else []
            vectors = (
                await embeddings.aembed_documents([t[3] for t in plan.texts]) if plan.texts else []
            )
            self._give_vectors(plan, queries, vectors)

    # --- running --------------------------------------------------------------------------

    def _batch_steps(
        self, plan: _Plan, now: int, *, one_transaction: bool
    ) -> Steps[tuple[list[Result], list[Place]]]:
        """A planned batch's statements: its reads, then its writes (a batch that writes makes
        the TTL refreshes its reads call for before them).

        Returns:
            The results, and the items whose TTL a read-only batch is to refresh in a write
            transaction of its own (none with ``one_transaction``: refreshed here).
        """
        results: list[Result] = [None] * plan.size
        refresh: list[Place] = []
        for i, item, stale in (yield from self._get_steps(plan.gets, now)):
            results[i] = item
            refresh.extend(stale)
        for search in plan.searches:
            found, stale = yield from self._search_steps(search, now)
            results[search.index] = found
            refresh.extend(stale)
        for i, op in plan.lists:
            results[i] = yield from self._namespace_steps(op, now)
        if plan.puts or one_transaction:
            yield from self._refresh_steps(refresh, now)
            refresh = []
            yield from self._write_steps(plan, now)
        return results, refresh

    def _live(self, now: int, column: str = "expires_at") -> tuple[str, list[Any]]:
        if self.ttl_config and self.ttl_config.get("omit_expired", False):
            return f"({column} IS NULL OR {column} >= {self._MARK})", [now]
        return "", []

    def _namespace_condition(
        self, prefix: tuple[str, ...], column: str = "prefix"
    ) -> tuple[str, list[Any]]:
        return self._in_namespace(ns_text(prefix), column) if prefix else ("1 = 1", [])

    def _get_steps(
        self, gets: list[tuple[int, GetOp]], now: int
    ) -> Steps[list[tuple[int, Item | None, list[Place]]]]:
        by_namespace: dict[tuple[str, ...], list[tuple[int, GetOp]]] = defaultdict(list)
        for i, op in gets:
            by_namespace[tuple(op.namespace)].append((i, op))
        live, live_params = self._live(now)
        mark = self._MARK
        found: list[tuple[int, Item | None, list[Place]]] = []
        for namespace, ops in by_namespace.items():
            prefix = ns_text(namespace)
            keys = list(dict.fromkeys(op.key for _, op in ops))
            rows: dict[str, tuple[Any, ...]] = {}
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                sql = (
                    "SELECT key, value, created_at, updated_at, ttl_minutes FROM store_items "
                    f"WHERE prefix = {mark} AND key IN ({', '.join([mark] * len(chunk))})"
                )
                if live:
                    sql += f" AND {live}"
                for got in (yield Query(sql, [prefix, *chunk, *live_params])):
                    rows[got[0]] = got
            for i, op in ops:
                row = rows.get(op.key)
                if row is None:
                    found.append((i, None, []))
                    continue
                item = Item(
                    value=self._load(row[1]),
                    key=row[0],
                    namespace=namespace,
                    created_at=self._stamp(row[2]),
                    updated_at=self._stamp(row[3]),
                )
                stale = [(prefix, row[0])] if op.refresh_ttl and row[4] is not None else []
                found.append((i, item, stale))
        return found

    def _search_steps(
        self, search: _Search, now: int
    ) -> Steps[tuple[list[SearchItem], list[Place]]]:
        op = search.op
        mark = self._MARK
        live, live_params = self._live(now, "i.expires_at")
        in_ns, ns_params = self._namespace_condition(tuple(op.namespace_prefix), "i.prefix")
        where = " AND ".join([in_ns, *search.where, *([live] if live else [])])
        params = [*ns_params, *search.params, *live_params]
        columns = "i.prefix, i.key, i.value, i.created_at, i.updated_at, i.ttl_minutes"
        rows: Rows
        scores: list[float | None]
        if search.query_vector is None:
            order, order_params = self._search_order(op)
            sql = (
                f"SELECT {columns} FROM store_items AS i WHERE {where} "
                f"ORDER BY {order} LIMIT {mark} OFFSET {mark}"
            )
            rows = yield Query(sql, [*params, *order_params, *self._limits(op.limit, op.offset)])
            scores = [None] * len(rows)
        else:
            sql = (
                f"SELECT {columns}, v.embedding FROM store_items AS i "
                "JOIN store_vectors AS v ON v.prefix = i.prefix AND v.key = i.key "
                f"WHERE {where}"
            )
            distance = (self.index_config or {}).get("distance_type", "cosine")
            query = unpack(pack(search.query_vector))  # compared in float32, as stored
            scored = [
                (self._score(distance, query, unpack(bytes(row[6]))), row)
                for row in (yield Query(sql, params))
            ]
            scored.sort(key=lambda pair: pair[0], reverse=True)
            # As LangGraph's query: the best vectors, each item once (its best), then the page.
            best: dict[Place, tuple[float, tuple[Any, ...]]] = {}
            for value, row in page(scored, self._window(op.limit), 0):
                best.setdefault((row[0], row[1]), (value, row))
            ranked = page(list(best.values()), op.limit, op.offset)
            rows = [row for _, row in ranked]
            scores = [value for value, _ in ranked]
        found = [
            SearchItem(
                namespace=ns_tuple(row[0]),
                key=row[1],
                value=self._load(row[2]),
                created_at=self._stamp(row[3]),
                updated_at=self._stamp(row[4]),
                score=value,
            )
            for row, value in zip(rows, scores, strict=True)
        ]
        stale = [(row[0], row[1]) for row in rows if op.refresh_ttl and row[5] is not None]
        return found, stale

    def _namespace_steps(self, op: ListNamespacesOp, now: int) -> Steps[list[tuple[str, ...]]]:
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
                in_ns, ns_params = self._namespace_condition(tuple(condition.path))
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
        for (prefix,) in (yield Query(sql, params)):
            if conditions and not all(does_match(c, ns_tuple(prefix)) for c in conditions):
                continue
            cut = truncated(prefix, op.max_depth)
            if cut is not None:
                texts.add(cut)
        return [ns_tuple(text) for text in page(sorted(texts), op.limit, op.offset)]

    def _refresh_steps(self, items: list[Place], now: int) -> Steps[None]:
        """Restart the TTLs of ``items`` (those that have one) at ``now``."""
        mark = self._MARK
        if items:
            yield Query(
                f"UPDATE store_items SET expires_at = {mark} + {self._TTL_MICROS} "
                f"WHERE prefix = {mark} AND key = {mark} AND ttl_minutes IS NOT NULL",
                [(now, prefix, key) for prefix, key in items],
                many=True,
            )

    def _write_steps(self, plan: _Plan, now: int) -> Steps[None]:
        mark = self._MARK
        deleted = [place for place, (_, value) in plan.puts.items() if value is None]
        if deleted:
            yield Query(
                f"DELETE FROM store_items WHERE prefix = {mark} AND key = {mark}",
                deleted,
                many=True,
            )
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
        if rows:
            yield Query(self._PUT_ITEM, rows, many=True)
        # The old vectors go after the rows are written: a batch writing the same item at the
        # same time (PostgreSQL) waits for the row's lock, then removes these in turn.
        if plan.puts:
            yield Query(
                f"DELETE FROM store_vectors WHERE prefix = {mark} AND key = {mark}",
                list(plan.puts),
                many=True,
            )
        if plan.texts:
            yield Query(
                self._PUT_VECTOR,
                [
                    (prefix, key, name, pack(vector))
                    for (prefix, key, name, _), vector in zip(plan.texts, plan.vectors, strict=True)
                ],
                many=True,
            )

    def _sweep_steps(self, now: int) -> Steps[list[StoreWrite]]:
        """Delete the items expired at ``now``; returns them as writes."""
        mark = self._MARK
        expired = yield Query(
            "SELECT prefix, key FROM store_items WHERE expires_at IS NOT NULL AND "
            f"expires_at < {mark} ORDER BY expires_at, prefix, key{self._LOCK_ROWS}",
            [now],
        )
        places = [(prefix, key) for prefix, key in expired]
        if places:
            where = f"WHERE prefix = {mark} AND key = {mark}"
            yield Query(f"DELETE FROM store_items {where}", places, many=True)
            yield Query(f"DELETE FROM store_vectors {where}", places, many=True)
        return [
            StoreWrite(ns_tuple(prefix), key, None, None, None, expired=True)
            for prefix, key in places
        ]

    def _load(self, text: str) -> dict[str, Any]:
        if self._deserializer is not None:
            return self._deserializer(text)
        return cast(dict[str, Any], orjson.loads(text))


def _ensure_index_config(index: IndexConfig) -> tuple[Embeddings, IndexConfig]:
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
    return ensure_embeddings(config.get("embed")), cast(IndexConfig, config)
