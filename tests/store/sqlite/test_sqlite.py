"""``SqliteStore`` answers as LangGraph's does (items, orders, namespaces, errors), semantic
search ranks as LangGraph's SQL defines it, TTLs expire items, and ``AsyncSqliteStore`` does the
same from asyncio.

LangGraph's ``SqliteStore`` stamps items with SQLite's clock, to the second, and orders searches
by those stamps; the differential tests give both stores one virtual clock (rewind's through its
``_now_us``, LangGraph's by restamping the rows a call wrote) so that ties and their order can
be compared.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
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
from rewind.store.sqlite import AsyncSqliteStore, SqliteStore
from rewind.store.sqlite.base import SqliteIndexConfig
from rewind.store.writes import StoreWrite
from tests.store.calls import calls, op_of, perform
from tests.store.conftest import FakeClock
from tests.store.differential import letters, outcome, scores_close

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


def written(call: tuple[Any, ...]) -> list[tuple[tuple[str, ...], str]]:
    """The items a call puts (not deletes)."""
    if call[0] == "put":
        return [(call[1], call[2])]
    if call[0] == "batch":
        return [place for c in call[1] for place in written(c)]
    return []


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
    script: list[tuple[Any, ...]] = [
        ("put", ("a",), "k1", {"n": 1, "s": "x", "f": 0.5}),
        ("put", ("a", "b"), "k2", {"n": 2, "meta": {"x": 1}, "f": 1.0}),
        ("put", ("b",), "k1", {"n": 3, "l": [1, 2], "t": True, "f": -1.0}),
        ("put", ("a-c",), "k3", {"n": 0, "f": 0.0}),
        ("put", ("a",), "k1", {"n": 4, "f": 2.0}),  # written again: last among equal times
        ("get", ("a",), "k1"),
        ("search", ("a",), None, 10, 0),
        ("search", (), {"n": {"$gte": 2, "$lt": 4}}, 10, 0),
        ("search", (), {"meta": {"x": 1}}, 10, 0),  # unsupported in SQLite: an error
        ("search", (), {"l": [1, 2]}, 10, 0),
        ("search", (), {"t": True}, 10, 0),
        ("search", (), {"n": {"$gt": 0}}, 2, 1),
        ("search", (), {"missing": {"$gt": 0}}, 10, 0),
        ("search", (), {"n": {"$like": 1}}, 10, 0),
        ("search", (), {"bad key": 1}, 10, 0),
        ("list", None, None, None, 100, 0),
        ("list", ("a",), None, 1, 100, 0),
        ("list", ("*", "b"), None, None, 100, 0),
        ("list", None, ("b",), None, 100, 0),
        ("list", None, None, 0, 100, 0),
        ("list", None, None, -1, 100, 0),
        ("list", None, None, None, -1, -2),
        ("delete", ("a", "b"), "k2"),
        ("list", None, None, None, 100, 0),  # an emptied namespace is not listed
        ("batch", [("put", ("c",), "k1", {"n": 1}), ("get", ("c",), "k1")]),
        ("get", ("c",), "k1"),
        (
            "batch",
            [
                ("put", ("c",), "k1", {"n": 1}),
                ("put", ("c",), "k2", {}),
                ("put", ("c",), "k1", {"n": 2}),
            ],
        ),
        ("search", ("c",), None, 10, 0),
        ("search", ("a",), None, -1, -1),
    ]
    check_same(script, [0, 1, 0], tmp_path)  # in files


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


def test_a_failing_batch_writes_nothing() -> None:
    with SqliteStore.from_conn_string(":memory:") as store:
        store.put(("a",), "k", {"v": 1})
        with pytest.raises(TypeError, match="not JSON serializable"):
            store.batch([rw.PutOp(("a",), "k", {"v": 2}), rw.PutOp(("a",), "j", {"s": {1}})])
        with pytest.raises(ValueError, match="Unsupported operator"):
            store.batch([rw.PutOp(("a",), "k", {"v": 3}), rw.SearchOp(("a",), {"v": {"$x": 1}})])
        assert store.get(("a",), "k").value == {"v": 1}  # type: ignore[union-attr]
        assert store.get(("a",), "j") is None
        assert not store.conn.in_transaction


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


def test_a_deserializer_reads_the_values() -> None:
    seen: list[Any] = []

    def load(text: Any) -> dict[str, Any]:
        seen.append(text)
        return {"loaded": text}

    conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    store = SqliteStore(conn, deserializer=load)
    store.put(("a",), "k", {"v": 1})
    assert store.get(("a",), "k").value == {"loaded": '{"v":1}'}  # type: ignore[union-attr]
    assert seen == ['{"v":1}']


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


def _pseudo(texts: Any) -> list[list[float]]:
    """Vectors that differ for every text (no ties between distinct texts)."""
    import hashlib

    out = []
    for text in texts:
        digest = hashlib.sha256(text.encode()).digest()
        out.append([b / 255 - 0.5 for b in digest[:8]])
    return out


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
    index: Any = {"dims": 8, "embed": _pseudo, "fields": ["text"]}
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


def test_puts_deletes_and_sweeps_remove_an_items_old_vectors() -> None:
    index: Any = {"dims": 8, "embed": letters, "fields": ["parts[*]"]}
    with SqliteStore.from_conn_string(":memory:", index=index, ttl={}) as store:
        store.put(("d",), "k", {"parts": ["a", "b", "c"]})
        store.put(("d",), "k", {"parts": ["a"]})
        count = "SELECT count(*) FROM store_vectors"
        assert store.conn.execute(count).fetchone()[0] == 1
        store.put(("d",), "k", {"parts": ["a"]}, index=False)
        assert store.conn.execute(count).fetchone()[0] == 0
        assert [(i.key, i.score) for i in store.search(("d",), query="a")] == []
        store.put(("d",), "k", {"parts": ["a", "b"]})
        store.delete(("d",), "k")
        assert store.conn.execute(count).fetchone()[0] == 0
        store.put(("d",), "k", {"parts": ["a", "b"]}, ttl=0.0001)
        time.sleep(0.01)  # 6 ms
        assert store.sweep_ttl() == 1
        assert store.conn.execute(count).fetchone()[0] == 0


def test_embeddings_of_a_batch_are_asked_for_once_each() -> None:
    asked: list[list[str]] = []

    def embed(texts: Any) -> list[list[float]]:
        asked.append(list(texts))
        return letters(texts)

    index: Any = {"dims": 8, "embed": embed, "fields": ["t"]}
    with SqliteStore.from_conn_string(":memory:", index=index) as store:
        store.batch(
            [
                rw.PutOp(("d",), "1", {"t": "ab"}),
                rw.PutOp(("d",), "2", {"t": "cd"}),
                rw.SearchOp(("d",), query="ab"),
                rw.SearchOp(("d",), query="cd"),
            ]
        )
        assert asked == [["ab", "cd"], ["ab", "cd"]]  # the queries, then the puts
        store.embeddings.func = lambda texts: []  # type: ignore[union-attr]
        with pytest.raises(ValueError, match="Number of embeddings"):
            store.put(("d",), "3", {"t": "x"})
        assert store.get(("d",), "3") is None


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


def test_the_sweeper_thread_sweeps_and_stops(tmp_path: Path) -> None:
    with SqliteStore.from_conn_string(str(tmp_path / "t.db"), ttl={"default_ttl": 0.0005}) as s:
        assert SqliteStore(s.conn).start_ttl_sweeper().done()  # no TTL config
        s.put(("a",), "k", {"v": 1})
        future = s.start_ttl_sweeper(sweep_interval_minutes=0.001)  # type: ignore[arg-type]
        deadline = time.monotonic() + 3
        while s.get(("a",), "k", refresh_ttl=False) is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert s.get(("a",), "k") is None
        assert s.stop_ttl_sweeper(timeout=2)
        assert future.result(timeout=2) is None


# --- async --------------------------------------------------------------------------------------


async def test_the_async_store_gives_what_the_sync_one_gives(tmp_path: Path) -> None:
    path = str(tmp_path / "a.db")
    ops_script: list[tuple[Any, ...]] = [
        ("put", ("a",), "k1", {"n": 1, "f": 0.0}),
        ("put", ("a", "b"), "k2", {"n": 2, "f": 1.0}),
        ("batch", [("put", ("b",), "k3", {"n": 3, "f": 2.0}), ("delete", ("a",), "k9")]),
    ]
    async with AsyncSqliteStore.from_conn_string(path) as ours:
        for call in ops_script:
            if call[0] == "put":
                await ours.aput(call[1], call[2], call[3])
            else:
                await ours.abatch([op_of(rw, c) for c in call[1]])
        got = [
            [(i.namespace, i.key, i.value) for i in await ours.asearch((), limit=10)],
            await ours.alist_namespaces(),
            (await ours.aget(("a",), "k1")).value,  # type: ignore[union-attr]
            [(i.key, i.value) for i in await ours.asearch((), filter={"n": {"$gte": 2}})],
        ]
        await ours.adelete(("a",), "k1")
        assert await ours.aget(("a",), "k1") is None
    with SqliteStore.from_conn_string(path) as sync:
        assert sync.get(("a", "b"), "k2").value == {"n": 2, "f": 1.0}  # type: ignore[union-attr]
        assert sync.list_namespaces() == [("a", "b"), ("b",)]
    assert got[1] == [("a",), ("a", "b"), ("b",)]
    assert got[2] == {"n": 1, "f": 0.0}
    assert sorted(got[3]) == [("k2", {"n": 2, "f": 1.0}), ("k3", {"n": 3, "f": 2.0})]


async def test_the_async_store_gathers_a_ticks_calls_into_one_batch() -> None:
    async with AsyncSqliteStore.from_conn_string(":memory:") as store:
        await store.setup()
        sizes: list[int] = []
        run = store._run

        def counting(conn: Any, plan: Any) -> Any:
            sizes.append(plan.size)
            return run(conn, plan)

        store._run = counting  # type: ignore[method-assign]
        await asyncio.gather(*(store.aput(("a",), f"k{n}", {"n": n}) for n in range(5)))
        found = await asyncio.gather(*(store.aget(("a",), f"k{n}") for n in range(5)))
        assert [i.value["n"] for i in found if i is not None] == [0, 1, 2, 3, 4]
        assert sizes == [5, 5]


async def test_the_async_store_refuses_bad_values_and_keeps_going() -> None:
    async with AsyncSqliteStore.from_conn_string(":memory:") as store:
        with pytest.raises(TypeError, match="not JSON serializable"):
            await store.aput(("a",), "k", {"s": {1}})
        with pytest.raises(ValueError, match="Unsupported operator"):
            await store.asearch(("a",), filter={"v": {"$x": 1}})
        await store.aput(("a",), "k", {"v": 1})
        assert (await store.aget(("a",), "k")).value == {"v": 1}  # type: ignore[union-attr]


async def test_the_async_store_semantic_search_and_ttl(clock: FakeClock) -> None:
    from tests.store.differential import aletters

    index: Any = {"dims": 8, "embed": aletters, "fields": ["t"]}
    async with AsyncSqliteStore.from_conn_string(
        ":memory:", index=index, ttl={"default_ttl": 0.001}
    ) as store:
        await store.aput(("d",), "near", {"t": "aab"})
        await store.aput(("d",), "far", {"t": "hhh"}, ttl=None)
        found = await store.asearch(("d",), query="aab")
        assert [i.key for i in found] == ["near", "far"]
        assert found[0].score == pytest.approx(1.0)
        seen: list[list[StoreWrite]] = []
        store.add_write_listener(seen.append)
        clock.advance(minutes=0.01)
        assert await store.sweep_ttl() == 1
        assert seen == [[StoreWrite(("d",), "near", None, None, None, expired=True)]]


async def test_the_async_sweeper_task_sweeps_and_stops() -> None:
    async with AsyncSqliteStore.from_conn_string(":memory:", ttl={"default_ttl": 0.0005}) as store:
        await store.aput(("a",), "k", {"v": 1})
        task = await store.start_ttl_sweeper(sweep_interval_minutes=0.001)  # type: ignore[arg-type]
        assert await store.start_ttl_sweeper() is task  # already running
        for _ in range(100):
            if await store.aget(("a",), "k", refresh_ttl=False) is None:
                break
            await asyncio.sleep(0.02)
        assert await store.aget(("a",), "k") is None
        assert await store.stop_ttl_sweeper(timeout=2)
        assert task.done()
        assert await store.stop_ttl_sweeper()


def test_sync_calls_on_the_async_stores_loop_are_refused() -> None:
    async def main() -> None:
        async with AsyncSqliteStore.from_conn_string(":memory:") as store:
            with pytest.raises(asyncio.InvalidStateError, match=r"await store\.aget"):
                store.get(("a",), "k")
            await store.aput(("a",), "k", {"v": 1})
            got = await asyncio.to_thread(store.get, ("a",), "k")  # from another thread: fine
            assert got is not None and got.value == {"v": 1}
            await asyncio.to_thread(store.put, ("a",), "j", {"v": 2})
            assert await asyncio.to_thread(store.list_namespaces) == [("a",)]

    asyncio.run(main())
