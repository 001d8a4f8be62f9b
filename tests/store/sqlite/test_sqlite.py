"""``SqliteStore`` answers as LangGraph's does (items, orders, namespaces, errors), semantic
search ranks as LangGraph's SQL defines it, and TTLs expire items. What it and
``AsyncSqliteStore`` do as the PostgreSQL stores do is tested on both in
tests/store/test_sql_stores.py.

LangGraph's ``SqliteStore`` stamps items with SQLite's clock, to the second, and orders searches
by those stamps; the differential tests give both stores one virtual clock (rewind's through its
``_now_us``, LangGraph's by restamping the rows a call wrote) so that ties and their order can
be compared.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import langgraph.store.base as lg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langgraph.store.memory import InMemoryStore as LgMemoryStore
from langgraph.store.sqlite import SqliteStore as LgStore

import rewind.store.base as rw
import rewind.store.sqlite.base as sqlite_base
from rewind.store.sqlite import SqliteStore
from rewind.store.sqlite.base import SqliteIndexConfig
from rewind.store.writes import StoreWrite
from tests.store.calls import SCRIPT, calls, perform, written
from tests.store.conftest import FakeClock
from tests.store.differential import letters, outcome, pseudo, scores_close

_BASE = datetime(2001, 2, 3, 4, 5, 6)


class Clock:
    """One virtual clock for both stores: whole seconds the test moves on, and rewind's
    microseconds within a second moving on by themselves."""

    def __init__(self) -> None:
        self.second = 0
        self.micro = 0

    def now_us(self) -> int:
        self.micro = min(self.micro + 7, 999_999)
        stamp = _BASE + timedelta(seconds=self.second)
        return int((stamp - datetime(1970, 1, 1)).total_seconds()) * 1_000_000 + self.micro

    def tick(self, seconds: int) -> None:
        if seconds:
            self.second += seconds
            self.micro = 0

    def text(self) -> str:
        return (_BASE + timedelta(seconds=self.second)).strftime("%Y-%m-%d %H:%M:%S")


def restamp(theirs: LgStore, places: list[tuple[tuple[str, ...], str]], clock: Clock) -> None:
    for namespace, key in places:
        theirs.conn.execute(
            "UPDATE store SET created_at = ?, updated_at = ? WHERE prefix = ? AND key = ?",
            (clock.text(), clock.text(), ".".join(namespace), key),
        )


def stamps(item: Any) -> tuple[datetime, datetime]:
    """An item's times to the second (LangGraph's have no more)."""
    return (item.created_at.replace(microsecond=0), item.updated_at.replace(microsecond=0))


@contextmanager
def stores(clock: Clock, directory: Path | None = None) -> Iterator[tuple[SqliteStore, LgStore]]:
    """Both stores, in memory or in files in ``directory``."""
    ours_at = ":memory:" if directory is None else str(directory / "ours.db")
    theirs_at = ":memory:" if directory is None else str(directory / "theirs.db")
    with (
        mock.patch.object(sqlite_base, "_now_us", clock.now_us),
        SqliteStore.from_conn_string(ours_at) as ours,
        LgStore.from_conn_string(theirs_at) as theirs,
    ):
        theirs.setup()
        yield ours, theirs


def check_same(
    calls: list[tuple[Any, ...]], ticks: list[int], directory: Path | None = None
) -> None:
    clock = Clock()
    with stores(clock, directory) as (ours, theirs):
        for n, call in enumerate(calls):
            clock.tick(ticks[n % len(ticks)])
            got = outcome(lambda call=call: perform(ours, rw, call), times=stamps)
            want = outcome(lambda call=call: perform(theirs, lg, call), times=stamps)
            if want[0] == "ok":
                restamp(theirs, written(call), clock)
            assert got == want, f"call {n}: {call}"
        everything = outcome(lambda: ours.search((), limit=100), times=stamps)
        assert everything == outcome(lambda: theirs.search((), limit=100), times=stamps)
        assert ours.list_namespaces(limit=1000) == theirs.list_namespaces(limit=1000)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls, st.lists(st.sampled_from([0, 0, 1, 2]), min_size=1, max_size=8), st.booleans())
def test_random_calls_give_what_langgraphs_gives(
    calls: list[tuple[Any, ...]], ticks: list[int], in_files: bool
) -> None:
    if not in_files:
        check_same(calls, ticks)
        return
    with tempfile.TemporaryDirectory() as directory:
        check_same(calls, ticks, Path(directory))


def test_a_scripted_session_gives_what_langgraphs_gives(tmp_path: Path) -> None:
    check_same(SCRIPT, [0, 1, 0], tmp_path)  # in files


def test_equal_times_come_in_the_order_langgraphs_query_reads_them() -> None:
    # Written in one second: LangGraph's search reads the namespace's own items first, then
    # those under it namespace by namespace, each in the order written (a put writes anew).
    script: list[tuple[Any, ...]] = [
        ("put", ("a", "c"), "k1", {"n": 1, "f": 0.0}),
        ("put", ("a", "b", "c"), "k1", {"n": 2, "f": 0.0}),
        ("put", ("a", "b"), "k2", {"n": 3, "f": 0.0}),
        ("put", ("a",), "k3", {"n": 4, "f": 0.0}),
        ("put", ("a", "b"), "k1", {"n": 5, "f": 0.0}),
        ("put", ("a",), "k1", {"n": 6, "f": 0.0}),
        ("put", ("a", "c"), "k1", {"n": 7, "f": 0.0}),
        ("search", ("a",), None, 10, 0),
        ("search", ("a", "b"), None, 10, 0),
        ("search", (), None, 10, 0),
        ("search", ("a",), {"n": {"$gt": 2}}, 3, 1),
    ]
    check_same(script, [0])
    check_same([*script[:4], ("search", ("a",), None, 10, 0), *script[4:]], [0, 0, 1])


@pytest.mark.parametrize(
    "value", ["abc", 5, [("a", 1)], {"s": {1, 2}}, {1: "x"}, {"d": datetime(2020, 1, 1)}], ids=repr
)
def test_values_are_checked_as_langgraphs_are(value: Any) -> None:
    with stores(Clock()) as (ours, theirs):
        assert outcome(lambda: ours.put(("a",), "k", value)) == outcome(
            lambda: theirs.put(("a",), "k", value)
        )
        assert outcome(lambda: ours.get(("a",), "k")) == outcome(lambda: theirs.get(("a",), "k"))


def test_batch_ops_namespaces_are_checked_as_langgraphs_are() -> None:
    with stores(Clock()) as (ours, theirs):
        for bad in (("a.b",), ("",)):
            got = outcome(lambda bad=bad: ours.batch([rw.PutOp(bad, "k", {})]))
            assert got == outcome(lambda bad=bad: theirs.batch([lg.PutOp(bad, "k", {})]))
            assert got[0] == "error"


def test_items_come_back_as_they_went_in(tmp_path: Path) -> None:
    value = {"text": "héllo ☃", "n": 10**15, "f": 0.1, "nested": {"l": [1, None, True]}}
    with SqliteStore.from_conn_string(str(tmp_path / "s.db")) as store:
        before = datetime.utcnow().replace(microsecond=0)
        store.put(("a", "b"), "k", value)
        item = store.get(("a", "b"), "k")
    assert item is not None
    assert (item.namespace, item.key, item.value) == (("a", "b"), "k", value)
    assert item.created_at == item.updated_at and item.created_at.tzinfo is None
    assert item.created_at >= before
    with SqliteStore.from_conn_string(str(tmp_path / "s.db")) as again:
        assert again.get(("a", "b"), "k") == item  # read back from the file


def test_abatch_is_refused_as_langgraphs_is() -> None:
    with (
        SqliteStore.from_conn_string(":memory:") as store,
        pytest.raises(NotImplementedError, match="AsyncSqliteStore"),
    ):
        asyncio.run(store.aget(("a",), "k"))


def test_a_connection_in_its_default_transaction_mode_works() -> None:
    conn = sqlite3.connect(":memory:", check_same_thread=False)  # isolation_level ""
    store = SqliteStore(conn)
    store.setup()
    assert conn.isolation_level == ""  # left as it was
    store.put(("a",), "k", {"v": 1})
    assert store.get(("a",), "k").value == {"v": 1}  # type: ignore[union-attr]
    assert conn.execute("SELECT count(*) FROM store_items").fetchone()[0] == 1
    assert not conn.in_transaction


# --- semantic search --------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.text("abcdefgh", min_size=1, max_size=6), min_size=1, max_size=12, unique=True),
    st.text("abcdefgh", min_size=1, max_size=6),
    st.integers(1, 6),
)
def test_semantic_search_ranks_as_cosine_similarity(
    texts: list[str], query: str, limit: int
) -> None:
    # One vector per item: LangGraph's SQL ranks by 1 - cosine distance, as its in-memory
    # store ranks by cosine similarity (there in float64, here in float32).
    index: Any = {"dims": 8, "embed": pseudo, "fields": ["text"]}
    reference = LgMemoryStore(index=index)
    with SqliteStore.from_conn_string(":memory:", index=index) as store:
        for n, text in enumerate(texts):
            namespace = ("docs", "x") if n % 3 else ("docs",)
            store.put(namespace, f"k{n}", {"text": text})
            reference.put(namespace, f"k{n}", {"text": text})
        store.put(("docs",), "unindexed", {"text": "abc"}, index=False)
        got = [
            (i.namespace, i.key, i.score) for i in store.search(("docs",), query=query, limit=limit)
        ]
        want = [
            (i.namespace, i.key, i.score)
            for i in reference.search(("docs",), query=query, limit=limit)
            if i.score is not None
        ]
    assert scores_close(got, want, 1e-6), (got, want)


def test_semantic_search_keeps_langgraphs_window_of_twice_the_limit() -> None:
    # Items with several vectors: the best 2 * limit vectors are taken first, then each item
    # once; LangGraph's query returns fewer items than the limit then, and so does this.
    index: SqliteIndexConfig = {"dims": 8, "embed": letters, "fields": ["parts[*]"]}
    with SqliteStore.from_conn_string(":memory:", index=index) as store:
        store.put(("d",), "many", {"parts": ["aaa", "aab", "aba", "baa"]})
        store.put(("d",), "one", {"parts": ["abb"]})
        store.put(("d",), "far", {"parts": ["hhh"]})
        found = store.search(("d",), query="aaa", limit=2)
        assert [i.key for i in found] == ["many"]
        assert found[0].score == pytest.approx(1.0)
        assert [i.key for i in store.search(("d",), query="aaa", limit=3)] == ["many", "one", "far"]
        vectors = store.conn.execute("SELECT field FROM store_vectors ORDER BY field").fetchall()
        assert [v[0] for v in vectors] == [
            "parts[*]",
            "parts[*]",
            "parts[*].0",
            "parts[*].1",
            "parts[*].2",
            "parts[*].3",
        ]


@pytest.mark.parametrize(
    ("distance", "best"), [("cosine", "near"), ("l2", "far"), ("inner_product", "near")]
)
def test_distance_types_score_as_langgraphs_sql(distance: str, best: str) -> None:
    index: Any = {"dims": 8, "embed": letters, "fields": ["t"], "distance_type": distance}
    with SqliteStore.from_conn_string(":memory:", index=index) as store:
        store.put(("d",), "near", {"t": "aab"})
        store.put(("d",), "far", {"t": "hhhhhh"})
        found = store.search(("d",), query="aab")
    assert found[0].key == best
    if distance == "l2":  # the euclidean distance, higher first (as LangGraph's query orders)
        assert found[0].score == pytest.approx(41**0.5, rel=1e-6)  # (2, 1, 0...) to (0..., 6)
    if distance == "inner_product":  # minus the L1 distance
        assert found[0].score == pytest.approx(0.0)


def test_text_fields_is_read_when_fields_is_not_given() -> None:
    index: Any = {"dims": 8, "embed": letters, "text_fields": ["title"]}
    with SqliteStore.from_conn_string(":memory:", index=index) as store:
        store.put(("d",), "k", {"title": "abc", "body": "hhh"})
        fields = store.conn.execute("SELECT field FROM store_vectors").fetchall()
    assert fields == [("title",)]
    with pytest.raises(ValueError, match="Text fields must be a list or a string"):
        SqliteStore(sqlite3.connect(":memory:"), index={"embed": letters, "fields": 5})  # type: ignore[typeddict-item]


# --- TTL ----------------------------------------------------------------------------------------


def test_items_expire_and_a_sweep_removes_them(clock: FakeClock) -> None:
    with SqliteStore.from_conn_string(":memory:", ttl={"default_ttl": 1}) as store:
        seen: list[list[StoreWrite]] = []
        store.add_write_listener(seen.append)
        store.put(("a",), "short", {"v": 1})
        store.put(("a",), "forever", {"v": 2}, ttl=None)
        store.put(("a",), "long", {"v": 3}, ttl=10)
        row = store.conn.execute(
            "SELECT expires_at - updated_at, ttl_minutes FROM store_items WHERE key = 'long'"
        ).fetchone()
        assert row == (600_000_000, 10.0)
        clock.advance(minutes=0.99)
        assert store.sweep_ttl() == 0
        clock.advance(minutes=0.02)
        assert store.get(("a",), "short", refresh_ttl=False) is not None  # not swept yet
        seen.clear()
        assert store.sweep_ttl() == 1
        assert seen == [[StoreWrite(("a",), "short", None, None, None, expired=True)]]
        assert {i.key for i in store.search(("a",))} == {"forever", "long"}
        clock.advance(minutes=9.9)
        assert store.sweep_ttl() == 0  # "long": its TTL restarted by the search above
        clock.advance(minutes=0.2)
        assert store.sweep_ttl() == 1


def test_reads_refresh_ttls_unless_told_not_to(clock: FakeClock) -> None:
    with SqliteStore.from_conn_string(":memory:", ttl={"default_ttl": 2}) as store:
        store.put(("a",), "read", {"v": 1})
        store.put(("a",), "searched", {"v": 2})
        store.put(("a",), "untouched", {"v": 3})
        for _ in range(3):
            clock.advance(minutes=1)
            store.get(("a",), "read")
            store.search(("a",), filter={"v": 2})
            store.get(("a",), "untouched", refresh_ttl=False)
            store.search(("a",), filter={"v": 3}, refresh_ttl=False)
        assert store.sweep_ttl() == 1
        assert {i.key for i in store.search(("a",))} == {"read", "searched"}
    lazy_config: Any = {"default_ttl": 2, "refresh_on_read": False}
    with SqliteStore.from_conn_string(":memory:", ttl=lazy_config) as lazy:
        lazy.put(("a",), "k", {"v": 1})
        clock.advance(minutes=1.5)
        lazy.get(("a",), "k")  # the config's default: no refresh
        clock.advance(minutes=1)
        assert lazy.sweep_ttl() == 1
        lazy.put(("a",), "k", {"v": 1})
        clock.advance(minutes=1.5)
        lazy.batch([rw.GetOp(("a",), "k", refresh_ttl=True)])  # asked for
        clock.advance(minutes=1)
        assert lazy.sweep_ttl() == 0


def test_a_batch_that_reads_and_writes_an_item_keeps_the_writes_ttl(clock: FakeClock) -> None:
    with SqliteStore.from_conn_string(":memory:") as store:
        store.put(("a",), "k", {"v": 1}, ttl=60)
        store.batch([rw.GetOp(("a",), "k"), rw.PutOp(("a",), "k", {"v": 2}, ttl=1)])
        clock.advance(minutes=2)
        assert store.sweep_ttl() == 1


def test_omit_expired_hides_expired_items_before_the_sweep(clock: FakeClock) -> None:
    config: Any = {"default_ttl": 1, "omit_expired": True}
    with SqliteStore.from_conn_string(":memory:", ttl=config) as store:
        store.put(("a",), "k", {"v": 1})
        store.put(("b",), "k", {"v": 1}, ttl=None)
        clock.advance(minutes=1.5)
        assert store.get(("a",), "k") is None
        assert store.search(("a",)) == []
        assert store.list_namespaces() == [("b",)]
        assert store.sweep_ttl() == 1
