"""A store in a dictionary, with optional semantic search (as ``langgraph.store.memory``).

::

    store = InMemoryStore()
    store.put(("users", "123"), "prefs", {"theme": "dark"})
    store.get(("users", "123"), "prefs").value        # {'theme': 'dark'}

With ``index={"dims": ..., "embed": fn}`` items are embedded as they are put and
``search(..., query=...)`` ranks them by cosine similarity (computed in plain Python, or with
numpy when it is installed). The data lasts as long as the process.

It answers as LangGraph's ``InMemoryStore`` does (results, their order, scores, errors), with
these additions and differences:

* TTLs (``ttl=TTLConfig(...)``, ``put(..., ttl=minutes)``), which LangGraph's refuses: an item
  expires that many minutes after its last write (or read, when reads refresh it) and is
  removed by :meth:`InMemoryStore.sweep_ttl` or the sweeper thread
  (:meth:`InMemoryStore.start_ttl_sweeper`); ``omit_expired`` hides it before then.
* A put replaces the item's vectors (LangGraph's keeps those of fields the new value no longer
  has, and of an item put again with ``index=False``).
* Equal texts in one batch are embedded once and serve every field holding them (LangGraph's
  raises ``ValueError``).
* Bad values are refused before anything of the batch is written.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast

from langchain_core.embeddings import Embeddings

from rewind.store import writes as _writes
from rewind.store._ttl import ThreadSweeper, ThreadSweeping
from rewind.store._vectors import cosine_similarities
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
)
from rewind.store.writes import StoreWrite

__all__ = ["InMemoryStore"]

_Key = tuple[tuple[str, ...], str]
_Candidates = list[tuple[Item, list[list[float]]]]
_Searches = dict[int, tuple[SearchOp, _Candidates]]
_Paths = list[tuple[str, Any]]


def _now() -> float:
    """Seconds since the epoch: the clock TTLs are measured on."""
    return time.time()


class InMemoryStore(ThreadSweeping, BaseStore):
    """A dictionary-backed store with optional vector search and TTLs.

    Args:
        index: Semantic search: ``dims``, ``embed`` (a LangChain ``Embeddings``, or a sync or
            async function from texts to vectors) and ``fields`` (the paths embedded,
            ``["$"]`` by default: the whole value).
        ttl: Expiry: ``default_ttl`` (minutes), ``refresh_on_read``, ``omit_expired``,
            ``sweep_interval_minutes``.
    """

    __slots__ = (
        "_data",
        "_expiry",
        "_lock",
        "_sweeper",
        "_vectors",
        "embeddings",
        "index_config",
        "ttl_config",
    )

    supports_ttl = True

    def __init__(self, *, index: IndexConfig | None = None, ttl: TTLConfig | None = None) -> None:
        # _data and _vectors keep LangGraph's names and shapes: code that reads a LangGraph
        # InMemoryStore's contents reads these the same way.
        self._data: dict[tuple[str, ...], dict[str, Item]] = defaultdict(dict)
        # [namespace][key][field path] -> vector
        self._vectors: dict[tuple[str, ...], dict[str, dict[str, list[float]]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        self.index_config: dict[str, Any] | None = None
        self.embeddings: Embeddings | None = None
        if index:
            config: dict[str, Any] = dict(index)
            self.embeddings = ensure_embeddings(config.get("embed"))
            config["__tokenized_fields"] = [
                (p, p if p == "$" else tokenize_path(p)) for p in (config.get("fields") or ["$"])
            ]
            self.index_config = config
        self.ttl_config = ttl
        self._expiry: dict[_Key, tuple[float, float]] = {}
        """(expires at, in seconds since the epoch; the TTL in minutes) of items with a TTL."""
        self._lock = threading.RLock()
        self._sweeper = ThreadSweeper()

    # --- batches ------------------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        results, puts, searches, refresh = self._prepare(ops)
        values = _checked_values(puts)
        if searches:
            self._finish_searches(searches, self._embed_queries(searches), results, refresh)
        texts = self._texts_to_embed(puts, values)
        vectors = self.embeddings.embed_documents(list(texts)) if texts and self.embeddings else []
        self._apply(puts, values, texts, vectors, refresh)
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        results, puts, searches, refresh = self._prepare(ops)
        values = _checked_values(puts)
        if searches:
            query_vectors = await self._aembed_queries(searches)
            self._finish_searches(searches, query_vectors, results, refresh)
        texts = self._texts_to_embed(puts, values)
        vectors = (
            await self.embeddings.aembed_documents(list(texts)) if texts and self.embeddings else []
        )
        self._apply(puts, values, texts, vectors, refresh)
        return results

    def _prepare(
        self, ops: Iterable[Op]
    ) -> tuple[list[Result], dict[_Key, PutOp], _Searches, list[_Key]]:
        """Answer the reads (on the data as it is before the batch's writes), gather the
        writes (the last for each key), the searches' candidates and the items whose TTL the
        reads refresh. Writes nothing."""
        results: list[Result] = []
        puts: dict[_Key, PutOp] = {}
        searches: _Searches = {}
        refresh: list[_Key] = []
        now = _now()
        with self._lock:
            for i, op in enumerate(ops):
                if isinstance(op, GetOp):
                    item = self._data[op.namespace].get(op.key)
                    if item is not None and self._hidden((op.namespace, op.key), now):
                        item = None
                    if item is not None and op.refresh_ttl:
                        refresh.append((op.namespace, op.key))
                    results.append(item)
                elif isinstance(op, SearchOp):
                    searches[i] = (op, self._candidates(op, now))
                    results.append(None)
                elif isinstance(op, ListNamespacesOp):
                    results.append(self._list_namespaces(op, now))
                elif isinstance(op, PutOp):
                    puts[(op.namespace, op.key)] = op
                    results.append(None)
                else:
                    raise ValueError(f"Unknown operation type: {type(op)}")
        return results, puts, searches, refresh

    def _apply(
        self,
        puts: dict[_Key, PutOp],
        values: dict[_Key, dict[str, Any]],
        texts: dict[str, list[tuple[tuple[str, ...], str, str]]],
        vectors: list[list[float]],
        refresh: list[_Key],
    ) -> None:
        if len(vectors) != len(texts):
            raise ValueError(
                f"Number of embeddings ({len(vectors)}) does not"
                f" match number of indices ({len(texts)})"
            )
        now = datetime.now(UTC)
        expires_from = _now()
        with self._lock:
            if self._expiry:
                for place in refresh:
                    self._refresh(place, expires_from)
            for (namespace, key), op in puts.items():
                self._vectors[namespace].pop(key, None)
                if op.value is None:
                    self._data[namespace].pop(key, None)
                    self._expiry.pop((namespace, key), None)
                    continue
                self._data[namespace][key] = Item(
                    value=values[(namespace, key)],
                    key=key,
                    namespace=namespace,
                    created_at=now,
                    updated_at=now,
                )
                if op.ttl is None:
                    self._expiry.pop((namespace, key), None)
                else:
                    self._expiry[(namespace, key)] = (expires_from + op.ttl * 60, op.ttl)
            for vector, places in zip(vectors, texts.values(), strict=True):
                for namespace, key, path in places:
                    self._vectors[namespace][key][path] = vector

    # --- search -------------------------------------------------------------------------------

    def _candidates(self, op: SearchOp, now: float) -> _Candidates:
        """The items a search may return, in store order, with their vectors (when ranking)."""
        conditions = op.filter
        ranking = bool(op.query and self.embeddings)
        # Without a filter or ranking only the first offset + limit can be returned.
        stop = (
            op.offset + op.limit
            if not conditions and not ranking and min(op.offset, op.limit) >= 0
            else None
        )
        width = len(op.namespace_prefix)
        found: _Candidates = []
        for namespace, items in self._data.items():
            if namespace[:width] != op.namespace_prefix:
                continue
            vectors_of = self._vectors.get(namespace)
            for key, item in items.items():
                if conditions and not all(
                    _compare_values(item.value.get(field), wanted)
                    for field, wanted in conditions.items()
                ):
                    continue
                if self._hidden((namespace, key), now):
                    continue
                vectors = vectors_of.get(key) if op.query and vectors_of else None
                found.append((item, list(vectors.values()) if vectors else []))
                if len(found) == stop:
                    return found
        return found

    def _embed_queries(self, searches: _Searches) -> dict[str, list[float]]:
        if not (self.index_config and self.embeddings):
            return {}
        queries = {op.query for op, _ in searches.values() if op.query}
        return {query: self.embeddings.embed_query(query) for query in queries}

    async def _aembed_queries(self, searches: _Searches) -> dict[str, list[float]]:
        if not (self.index_config and self.embeddings):
            return {}
        queries = list({op.query for op, _ in searches.values() if op.query})
        embedded = await asyncio.gather(*(self.embeddings.aembed_query(q) for q in queries))
        return dict(zip(queries, embedded, strict=True))

    def _finish_searches(
        self,
        searches: _Searches,
        query_vectors: dict[str, list[float]],
        results: list[Result],
        refresh: list[_Key],
    ) -> None:
        for i, (op, candidates) in searches.items():
            if not candidates:
                results[i] = []
                continue
            if op.query and query_vectors:
                kept = _rank(op, candidates, query_vectors[op.query])
            else:
                kept = [(None, item) for item, _ in candidates[op.offset : op.offset + op.limit]]
            found = [
                SearchItem(
                    namespace=item.namespace,
                    key=item.key,
                    value=item.value,
                    created_at=item.created_at,
                    updated_at=item.updated_at,
                    score=None if score is None else float(score),
                )
                for score, item in kept
            ]
            if op.refresh_ttl:
                refresh.extend((item.namespace, item.key) for item in found)
            results[i] = found

    # --- namespaces ---------------------------------------------------------------------------

    def _list_namespaces(self, op: ListNamespacesOp, now: float) -> list[tuple[str, ...]]:
        # Every namespace ever addressed is listed, emptied or not, as LangGraph's lists them.
        namespaces = list(self._data)
        if op.match_conditions:
            namespaces = [
                ns
                for ns in namespaces
                if all(_does_match(condition, ns) for condition in op.match_conditions)
            ]
        if self._omit_expired():
            namespaces = [ns for ns in namespaces if not self._all_expired(ns, now)]
        if op.max_depth is not None:
            namespaces = sorted({ns[: op.max_depth] for ns in namespaces})
        else:
            namespaces = sorted(namespaces)
        return namespaces[op.offset : op.offset + op.limit]

    # --- TTL ----------------------------------------------------------------------------------

    def _omit_expired(self) -> bool:
        return bool(self.ttl_config and self.ttl_config.get("omit_expired", False))

    def _hidden(self, key: _Key, now: float) -> bool:
        if not self._expiry or not self._omit_expired():
            return False
        expiry = self._expiry.get(key)
        return expiry is not None and expiry[0] < now

    def _all_expired(self, namespace: tuple[str, ...], now: float) -> bool:
        items = self._data.get(namespace) or {}
        return bool(items) and all(self._hidden((namespace, key), now) for key in items)

    def _refresh(self, key: _Key, now: float) -> None:
        expiry = self._expiry.get(key)
        if expiry is not None:
            self._expiry[key] = (now + expiry[1] * 60, expiry[1])

    def sweep_ttl(self) -> int:
        """Delete the items whose TTL has run out; returns how many.

        The store's write listeners get them as deletions with ``expired=True``.
        """
        now = _now()
        swept: list[StoreWrite] = []
        with self._lock:
            for (namespace, key), (expires_at, _) in list(self._expiry.items()):
                if expires_at >= now:
                    continue
                del self._expiry[(namespace, key)]
                self._data[namespace].pop(key, None)
                self._vectors[namespace].pop(key, None)
                swept.append(StoreWrite(namespace, key, None, None, None, expired=True))
        _writes.notify(self, swept)
        return len(swept)

    # --- embedding ----------------------------------------------------------------------------

    def _texts_to_embed(
        self, puts: dict[_Key, PutOp], values: dict[_Key, dict[str, Any]]
    ) -> dict[str, list[tuple[tuple[str, ...], str, str]]]:
        """Each distinct text to embed, with the (namespace, key, field) places it goes."""
        if not (puts and self.index_config and self.embeddings):
            return {}
        texts: dict[str, list[tuple[tuple[str, ...], str, str]]] = defaultdict(list)
        for (namespace, key), op in puts.items():
            if op.value is None or op.index is False:
                continue
            paths: _Paths = (
                self.index_config["__tokenized_fields"]
                if op.index is None
                else [(p, tokenize_path(p)) for p in op.index]
            )
            for path, tokens in paths:
                found = get_text_at_path(values[(namespace, key)], tokens)
                if len(found) == 1:
                    texts[found[0]].append((namespace, key, path))
                else:
                    for n, text in enumerate(found):
                        texts[text].append((namespace, key, f"{path}.{n}"))
        return texts


def _checked_values(puts: dict[_Key, PutOp]) -> dict[_Key, dict[str, Any]]:
    """The puts' values as dicts, before anything is written (a value that is not a mapping
    raises what ``dict()`` raises for it, as in LangGraph)."""
    return {place: dict(op.value) for place, op in puts.items() if op.value is not None}


def _rank(
    op: SearchOp, candidates: _Candidates, query_vector: list[float]
) -> list[tuple[float | None, Item]]:
    """The page of ``candidates`` ranked by their best vector's similarity to the query; items
    without vectors fill what the page has left, unscored."""
    items: list[Item] = []
    vectors: list[list[float]] = []
    unscored: list[Item] = []
    for item, item_vectors in candidates:
        for vector in item_vectors:
            items.append(item)
            vectors.append(vector)
        if not item_vectors:
            unscored.append(item)
    scores = cosine_similarities(query_vector, vectors)
    ranked = sorted(zip(scores, items, strict=True), key=lambda pair: pair[0], reverse=True)
    seen: set[_Key] = set()
    kept: list[tuple[float | None, Item]] = []
    for score, item in ranked:
        place = (item.namespace, item.key)
        if place in seen:
            continue  # an item counts once, with its best vector
        rank = len(seen)
        seen.add(place)
        if rank >= op.offset + op.limit:
            break
        if rank >= op.offset:
            kept.append((score, item))
    if unscored and len(kept) < op.limit:
        kept.extend((None, item) for item in unscored[: op.limit - len(kept)])
    return kept


def _does_match(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    """Whether ``namespace`` starts (or ends) with the condition's path (``"*"``: any label)."""
    path = condition.path
    if len(namespace) < len(path):
        return False
    if condition.match_type == "prefix":
        pairs = zip(namespace, path, strict=False)
    elif condition.match_type == "suffix":
        pairs = zip(reversed(namespace), reversed(path), strict=False)
    else:
        raise ValueError(f"Unsupported match type: {condition.match_type}")
    return all(wanted == "*" or label == wanted for label, wanted in pairs)


def _compare_values(item_value: Any, filter_value: Any) -> bool:
    """Whether a value's field matches a filter's condition: operators (``{"$gt": 3}``), a
    nested mapping field by field, a list element by element, else equality."""
    if isinstance(filter_value, dict):
        if any(k.startswith("$") for k in filter_value):
            return all(_apply_operator(item_value, op, arg) for op, arg in filter_value.items())
        if not isinstance(item_value, dict):
            return False
        return all(_compare_values(item_value.get(k), v) for k, v in filter_value.items())
    if isinstance(filter_value, list | tuple):
        return (
            isinstance(item_value, list | tuple)
            and len(item_value) == len(filter_value)
            and all(_compare_values(i, f) for i, f in zip(item_value, filter_value, strict=True))
        )
    return cast(bool, item_value == filter_value)


def _apply_operator(value: Any, operator: str, arg: Any) -> bool:
    """One comparison operator; the ordering ones compare as floats (a missing field raises
    ``TypeError``, as in LangGraph)."""
    if operator == "$eq":
        return cast(bool, value == arg)
    if operator == "$ne":
        return cast(bool, value != arg)
    if operator == "$gt":
        return float(value) > float(arg)
    if operator == "$gte":
        return float(value) >= float(arg)
    if operator == "$lt":
        return float(value) < float(arg)
    if operator == "$lte":
        return float(value) <= float(arg)
    raise ValueError(f"Unsupported operator: {operator}")
