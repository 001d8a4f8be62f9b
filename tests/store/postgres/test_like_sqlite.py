"""The PostgreSQL store answers as rewind's SQLite store does wherever the PostgreSQL store's
documentation says nothing else: filters (PostgreSQL's SQL giving what SQLite's
``json_extract`` gives, on values of every JSON kind), TTLs and their refreshes, namespace
listings, what write listeners are told, cosine rankings.

Both stores run on one fake clock (the ``clock`` fixture), so their times are compared too.
Searches are compared unpaged and sorted: items written at one time come in another order
(documented), which tests/store/postgres/test_postgres.py covers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rewind.store.base as rw
from rewind.store.postgres import PostgresStore
from rewind.store.sqlite import SqliteStore
from rewind.store.writes import StoreWrite
from tests.store.calls import NAMESPACES, calls, perform
from tests.store.conftest import FakeClock
from tests.store.differential import letters, outcome, pseudo

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def both(url: str, **config: Any) -> Iterator[tuple[PostgresStore, SqliteStore]]:
    """The PostgreSQL store on ``url`` (emptied) and a SQLite store in memory, configured
    alike."""
    with (
        PostgresStore.from_conn_string(url, **config) as ours,
        SqliteStore.from_conn_string(":memory:", **config) as reference,
    ):
        ours.setup()
        reference.setup()
        ours.conn.execute("DELETE FROM store_items")
        ours.conn.execute("DELETE FROM store_vectors")
        yield ours, reference


def updated(item: Any) -> Any:
    """An item's update time, naive (the SQLite store's are; the PostgreSQL store's are UTC)."""
    return item.updated_at.replace(tzinfo=None)


def sorted_searches(result: Any) -> Any:
    """A result with every search's items in (namespace, key) order."""
    if isinstance(result, list) and result and isinstance(result[0], rw.SearchItem):
        return sorted(result, key=lambda item: (item.namespace, item.key))
    if isinstance(result, list):
        return [sorted_searches(r) for r in result]
    return result


def same(ours: Any, reference: Any, call: Callable[[Any], Any], what: Any) -> None:
    got = outcome(lambda: sorted_searches(call(ours)), times=updated)
    want = outcome(lambda: sorted_searches(call(reference)), times=updated)
    assert got == want, what


# --- filters ------------------------------------------------------------------------------------

TEXTS = ["", "x", "y", "X", "3", "10", "9", " 3", "3abc", "-.5e3x", "1e999", "1e-999", "1e00005"]
TEXTS += ["0x10", "inf", "+7", ".", "-", "é", 'a"b', "line\nbreak", "[1,2]", "{}", "true", "null"]
LABELS = ["a", "b", "0", "l"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 12),
    st.sampled_from([0.0, 1.0, -1.5, 2.5, 0.1, 1e16, 3.0, 1e-7]),
    st.sampled_from(TEXTS),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(LABELS), inner),
    max_leaves=5,
)
documents = st.dictionaries(st.sampled_from(LABELS), json_values, max_size=4)
KEYS = ["a", "b", "0", "l", "a.b", "a.0", "l.0", "a.b.a", "missing", "a-b"]
arguments = scalars | st.lists(scalars, max_size=2)
operators = st.dictionaries(
    st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]),
    arguments | st.dictionaries(st.sampled_from(LABELS), scalars, max_size=1),
    min_size=1,
    max_size=2,
)
filters = st.dictionaries(st.sampled_from(KEYS), arguments | operators, min_size=1, max_size=2)


def test_filters_select_what_the_sqlite_stores_select(url: str) -> None:
    @SETTINGS
    @given(st.lists(documents, min_size=1, max_size=8), st.lists(filters, min_size=1, max_size=6))
    def check(values: list[dict[str, Any]], conditions: list[dict[str, Any]]) -> None:
        with both(url) as (ours, reference):
            for store in (ours, reference):
                store.batch([rw.PutOp(("f",), f"k{n}", v) for n, v in enumerate(values)])
            for condition in conditions:

                def keys(store: Any, condition: Any = condition) -> list[str]:
                    return sorted(i.key for i in store.search(("f",), filter=condition, limit=99))

                same(ours, reference, keys, condition)

    check()


def test_a_text_without_a_leading_number_compares_as_zero(url: str) -> None:
    """SQLite's ``CAST(text AS REAL)`` reads a text that starts with no number as 0 (a case
    the random filters found: the PostgreSQL store read it as the lowest double)."""
    texts = ["X", "null", "line\nbreak", "", "-", ".", "e5"]
    with both(url) as (ours, reference):
        for store in (ours, reference):
            store.batch([rw.PutOp(("f",), f"k{n}", {"a": t}) for n, t in enumerate(texts)])
        every = sorted(f"k{n}" for n in range(len(texts)))
        for condition, want in (
            ({"a": {"$gte": False}}, every),
            ({"a": {"$lt": False}}, []),
            ({"a": {"$lte": 0}}, every),
            ({"a": {"$gt": -1}}, every),
            ({"a": {"$lt": -1e300}}, []),
        ):

            def keys(store: Any, condition: Any = condition) -> list[str]:
                return sorted(i.key for i in store.search(("f",), filter=condition, limit=99))

            same(ours, reference, keys, condition)
            assert keys(ours) == want, condition


# --- any calls ----------------------------------------------------------------------------------


def unpaged(call: tuple[Any, ...]) -> tuple[Any, ...]:
    """A call with its searches unpaged (their order among equal times differs)."""
    if call[0] == "search":
        return (*call[:3], 100, 0)
    if call[0] == "batch":
        return ("batch", [unpaged(c) for c in call[1]])
    return call


def test_random_calls_give_what_the_sqlite_store_gives(url: str, clock: FakeClock) -> None:
    @SETTINGS
    @given(calls, st.lists(st.sampled_from([0, 0, 1]), min_size=1, max_size=5))
    def check(script: list[tuple[Any, ...]], ticks: list[int]) -> None:
        with both(url) as (ours, reference):
            for n, call in enumerate(map(unpaged, script)):
                clock.advance(seconds=ticks[n % len(ticks)])
                same(ours, reference, lambda store, call=call: perform(store, rw, call), call)
            same(ours, reference, lambda store: store.search((), limit=100), "everything")

    check()


# --- TTLs and write listeners -------------------------------------------------------------------

_puts = st.tuples(
    st.just("put"),
    st.sampled_from(NAMESPACES[:4]),
    st.sampled_from(["k1", "k2"]),
    st.sampled_from([rw.NOT_PROVIDED, None, 0.5, 1, 2.5]),
)
_reads = st.sampled_from([None, True, False])
ttl_calls = st.one_of(
    _puts,
    _puts,
    st.tuples(st.just("get"), st.sampled_from(NAMESPACES[:4]), st.just("k1"), _reads),
    st.tuples(st.just("search"), st.sampled_from([(), ("a",)]), _reads),
    st.tuples(st.just("delete"), st.sampled_from(NAMESPACES[:4]), st.just("k2")),
    st.tuples(st.just("batch"), st.sampled_from(NAMESPACES[:4]), _reads),
    st.just(("list",)),
    st.just(("sweep",)),
    st.just(("sweep",)),
    st.tuples(st.just("advance"), st.sampled_from([0.2, 0.5, 1.0, 1.7])),
)
ttl_configs = st.sampled_from(
    [
        None,
        {},
        {"default_ttl": 1},
        {"default_ttl": 2, "refresh_on_read": False},
        {"default_ttl": 1, "omit_expired": True},
    ]
)


def act(store: Any, call: tuple[Any, ...]) -> Any:
    kind = call[0]
    if kind == "put":
        return store.put(call[1], call[2], {"n": len(call[1])}, ttl=call[3])
    if kind == "get":
        return store.get(call[1], call[2], refresh_ttl=call[3])
    if kind == "search":
        return store.search(call[1], refresh_ttl=call[2], limit=100)
    if kind == "delete":
        return store.delete(call[1], call[2])
    if kind == "batch":  # a read and a write of one item
        get = rw.GetOp(call[1], "k1", refresh_ttl=call[2] is not False)
        return store.batch([get, rw.PutOp(call[1], "k2", {"b": 1}, ttl=1.5)])
    if kind == "list":
        return store.list_namespaces()
    return store.sweep_ttl()


EXPIRIES = "SELECT prefix, key, expires_at, ttl_minutes FROM store_items ORDER BY prefix, key"


def test_ttls_expire_and_refresh_as_in_the_sqlite_store(url: str, clock: FakeClock) -> None:
    @SETTINGS
    @given(ttl_configs, st.lists(ttl_calls, min_size=1, max_size=25))
    def check(config: Any, script: list[tuple[Any, ...]]) -> None:
        with both(url, ttl=config) as (ours, reference):
            told: dict[str, list[list[StoreWrite]]] = {"ours": [], "reference": []}
            ours.add_write_listener(told["ours"].append)
            reference.add_write_listener(told["reference"].append)
            for call in script:
                if call[0] == "advance":
                    clock.advance(minutes=call[1])
                    continue
                same(ours, reference, lambda store, call=call: act(store, call), call)
                assert told["ours"] == told["reference"], call
            assert ours.conn.execute(EXPIRIES).fetchall() == list(reference.conn.execute(EXPIRIES))

    check()


# --- semantic search ----------------------------------------------------------------------------


def test_cosine_search_ranks_as_the_sqlite_store(url: str) -> None:
    # One vector per item, no two alike: the two stores' windows of best vectors hold the
    # same first page, in the same order.
    index: Any = {"dims": 8, "embed": pseudo, "fields": ["text"]}

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.lists(st.text("abcdefgh", min_size=1, max_size=6), min_size=1, max_size=12, unique=True),
        st.text("abcdefgh", min_size=1, max_size=6),
        st.integers(1, 6),
    )
    def check(texts: list[str], query: str, limit: int) -> None:
        with both(url, index=index) as (ours, reference):
            for store in (ours, reference):
                for n, text in enumerate(texts):
                    store.put(("docs", "x") if n % 3 else ("docs",), f"k{n}", {"text": text})
                store.put(("docs",), "unindexed", {"text": "abc"}, index=False)

            def ranked(store: Any) -> list[tuple[Any, ...]]:
                found = store.search(("docs",), query=query, limit=limit)
                return [(i.namespace, i.key, i.score) for i in found]

            assert ranked(ours) == ranked(reference)

    check()


@pytest.mark.parametrize("fields", [["t"], ["t", "u"]])
def test_which_fields_are_embedded_is_as_in_the_sqlite_store(url: str, fields: list[str]) -> None:
    vectors = "SELECT prefix, key, field, embedding FROM store_vectors ORDER BY key, field"
    with both(url, index={"dims": 8, "embed": letters, "text_fields": fields}) as stores:
        for store in stores:
            store.put(("d",), "k", {"t": "ab", "u": ["cd", "ef"], "v": "gh"})
            store.put(("d",), "j", {"t": "ab", "u": "cd"}, index=["u", "v"])
        ours, reference = stores
        assert ours.conn.execute(vectors).fetchall() == list(reference.conn.execute(vectors))
