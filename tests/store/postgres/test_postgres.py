"""``PostgresStore`` and ``AsyncPostgresStore`` on a real server: constructed as LangGraph's are
(a connection string, a psycopg connection, a pool), set up by rewind's migrations, and
behaving as documented where they differ from LangGraph's (times, orders, limits, scores).

What they share with rewind's SQLite store (filters, TTLs, listings, write reports) is compared
with it in test_like_sqlite.py; what they share with LangGraph's in test_langgraph.py.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from langgraph.store.postgres import AsyncPostgresStore as LgAsyncStore
from langgraph.store.postgres import PostgresStore as LgStore
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool

import rewind.store.base as rw
from rewind import migrations
from rewind.errors import DatabaseError, SchemaTooNewError
from rewind.store.postgres import AsyncPostgresStore, PostgresStore
from rewind.store.postgres.base import PostgresIndexConfig
from rewind.store.writes import StoreWrite
from tests.store.conftest import FakeClock
from tests.store.differential import letters

LANGGRAPH_KWARGS: dict[str, Any] = {
    "autocommit": True,
    "prepare_threshold": 0,
    "row_factory": dict_row,
}
"""The connection options LangGraph's ``PostgresStore`` gives its own connections."""


def count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def check_round_trip(store: PostgresStore, key: str) -> None:
    store.put(("via",), key, {"k": key})
    item = store.get(("via",), key)
    assert item is not None and item.value == {"k": key}


# --- construction and setup -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("ours", "theirs"), [(PostgresStore, LgStore), (AsyncPostgresStore, LgAsyncStore)]
)
@pytest.mark.parametrize(
    "method",
    ["__init__", "from_conn_string", "setup", "sweep_ttl", "start_ttl_sweeper", "stop_ttl_sweeper"],
)
def test_methods_take_langgraphs_parameters(ours: type, theirs: type, method: str) -> None:
    def parameters(cls: type) -> list[tuple[str, Any, Any]]:
        found = inspect.signature(getattr(cls, method)).parameters.values()
        return [(p.name, p.kind, p.default) for p in found]

    assert parameters(ours) == parameters(theirs)
    assert inspect.iscoroutinefunction(getattr(ours, method)) == inspect.iscoroutinefunction(
        getattr(theirs, method)
    )


def test_a_store_is_made_as_langgraphs_is(url: str) -> None:
    with PostgresStore.from_conn_string(url) as store:
        store.setup()
        check_round_trip(store, "from_conn_string")
    with psycopg.connect(url, **LANGGRAPH_KWARGS) as conn:
        check_round_trip(PostgresStore(conn), "connection")
    with PostgresStore.from_conn_string(url, pool_config={"min_size": 1, "max_size": 2}) as store:
        check_round_trip(store, "pool_config")
    with ConnectionPool(url, kwargs=LANGGRAPH_KWARGS, open=False) as pool:
        check_round_trip(PostgresStore(pool), "pool")
    conninfo = make_conninfo(**conninfo_to_dict(url))  # libpq's key=value form
    with PostgresStore.from_conn_string(conninfo, pipeline=True) as store:
        check_round_trip(store, "conninfo")
        assert len(store.search(("via",))) == 5


def test_a_connection_in_a_transaction_of_its_own_commits_the_stores_writes(url: str) -> None:
    with psycopg.connect(url) as conn:  # not in autocommit
        store = PostgresStore(conn)
        store.put(("a",), "k", {"v": 1})
        with PostgresStore.from_conn_string(url) as other:
            assert other.get(("a",), "k") is not None  # committed
        conn.execute("SELECT 1")
        store.put(("a",), "j", {"v": 2})  # inside the connection's own transaction now
        with PostgresStore.from_conn_string(url) as other:
            assert other.get(("a",), "j") is None
        conn.commit()
        with PostgresStore.from_conn_string(url) as other:
            assert other.get(("a",), "j") is not None


def test_setup_is_idempotent_and_the_first_call_runs_it(url: str) -> None:
    with PostgresStore.from_conn_string(url) as store:
        assert not store.is_setup
        store.put(("a",), "k", {"v": 1})  # sets up first
        assert store.is_setup
        store.setup()
    with PostgresStore.from_conn_string(url) as again:
        again.setup()  # nothing left to migrate
        assert again.get(("a",), "k") is not None
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert row == (migrations.head_revision(),)


def test_stores_starting_together_migrate_once(url: str) -> None:
    errors: list[BaseException] = []

    def start(n: int) -> None:
        try:
            with PostgresStore.from_conn_string(url) as store:
                store.put(("started",), str(n), {"n": n})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert count(url, "store_items") == 4


def test_a_database_a_newer_rewind_wrote_is_refused(url: str) -> None:
    with PostgresStore.from_conn_string(url) as store:
        store.setup()
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with PostgresStore.from_conn_string(url) as store, pytest.raises(SchemaTooNewError):
        store.setup()


def test_a_server_that_refuses_the_setup_is_a_database_error(url: str) -> None:
    elsewhere = make_conninfo(**{**conninfo_to_dict(url), "dbname": "no_such_database"})
    with pytest.raises(DatabaseError, match="cannot set up the store"):
        PostgresStore(ConnectionPool(elsewhere, open=False)).setup()


# --- items --------------------------------------------------------------------------------------


def test_items_come_back_as_they_went_in(url: str, clock: FakeClock) -> None:
    value = {"text": "héllo ☃", "n": 10**15, "f": 0.1, "z": {"l": [1, None, True]}, "a": 1}
    with PostgresStore.from_conn_string(url) as store:
        store.put(("a", "b"), "k", value)
        item = store.get(("a", "b"), "k")
        assert item is not None
        assert (item.namespace, item.key, item.value) == (("a", "b"), "k", value)
        assert list(item.value) == list(value)  # keys in the order they were put
        assert item.created_at == item.updated_at
        assert item.created_at == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
            microseconds=clock.micros()
        )
        clock.advance(seconds=3)
        store.put(("a", "b"), "k", {"v": 2})
        again = store.get(("a", "b"), "k")
        assert again is not None and again.created_at == item.created_at  # kept, as LangGraph's
        assert (again.updated_at - item.updated_at).total_seconds() == 3


def test_searches_order_by_update_then_namespace_and_key(url: str, clock: FakeClock) -> None:
    with PostgresStore.from_conn_string(url) as store:
        store.put(("a",), "old", {})
        clock.advance(seconds=1)
        store.batch([rw.PutOp(ns, key, {}) for ns, key in [(("b",), "x"), (("a", "c"), "z")]])
        store.batch([rw.PutOp(("a", "c"), "y", {}), rw.PutOp(("a",), "y", {})])  # same time
        found = [(i.namespace, i.key) for i in store.search((), limit=10)]
        assert found == [
            (("a",), "y"),
            (("a", "c"), "y"),
            (("a", "c"), "z"),
            (("b",), "x"),
            (("a",), "old"),
        ]
        assert [i.key for i in store.search(("a",), limit=2, offset=1)] == ["y", "z"]
        assert len(store.search((), limit=-1, offset=-3)) == 5  # no limit, no offset
        assert [i.key for i in store.search((), limit=0)] == []


def test_namespaces_with_like_characters_are_matched_exactly(url: str) -> None:
    with PostgresStore.from_conn_string(url) as store:
        for ns in [("user_1",), ("userX1",), ("a%",), ("ab",), ("a",), ("a", "b")]:
            store.put(ns, "k", {})
        assert [i.namespace for i in store.search(("user_1",))] == [("user_1",)]
        assert [i.namespace for i in store.search(("a%",))] == [("a%",)]
        assert {i.namespace for i in store.search(("a",))} == {("a",), ("a", "b")}
        assert store.list_namespaces(prefix=("a",)) == [("a",), ("a", "b")]
        assert store.list_namespaces(max_depth=0) == [("",)]
        assert store.list_namespaces(max_depth=-1) == []


def test_a_filter_key_with_an_empty_part_is_refused(url: str) -> None:
    with PostgresStore.from_conn_string(url) as store:
        for key in ["a..b", ".a", "a."]:
            with pytest.raises(ValueError, match="parts cannot be empty"):
                store.search(("a",), filter={key: 1})


def test_a_batch_the_server_refuses_halfway_writes_nothing(url: str) -> None:
    with PostgresStore.from_conn_string(url) as store:
        store.put(("a",), "k", {"v": 1})
        with pytest.raises(psycopg.errors.NumericValueOutOfRange):  # an expiry beyond BIGINT
            store.batch(
                [
                    rw.PutOp(("a",), "k", None),
                    rw.PutOp(("a",), "j", {"v": 4}),
                    rw.PutOp(("a",), "x", {"v": 5}, ttl=1e15),
                ]
            )
        assert store.get(("a",), "k").value == {"v": 1}  # type: ignore[union-attr]
        assert store.get(("a",), "j") is None


def test_abatch_runs_the_batch_on_a_thread(url: str) -> None:
    with PostgresStore.from_conn_string(url) as store:
        seen: list[list[StoreWrite]] = []
        store.add_write_listener(seen.append)

        async def main() -> Any:
            await store.aput(("a",), "k", {"v": 1})
            return await store.aget(("a",), "k")

        assert asyncio.run(main()).value == {"v": 1}
        assert seen == [[StoreWrite(("a",), "k", {"v": 1}, None, None)]]


# --- semantic search ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("distance", "score"), [("cosine", 1.0), ("l2", -0.0), ("inner_product", 5.0)]
)
def test_distance_types_score_as_pgvector_does(url: str, distance: str, score: float) -> None:
    index: Any = {"dims": 8, "embed": letters, "fields": ["t"], "distance_type": distance}
    with PostgresStore.from_conn_string(url, index=index) as store:
        store.put(("d",), "near", {"t": "aab"})
        store.put(("d",), "far", {"t": "hhhhhh"})
        found = store.search(("d",), query="aab")
    assert [i.key for i in found] == ["near", "far"]  # nearest first, for every distance
    assert found[0].score == pytest.approx(score)
    far = {"cosine": 0.0, "l2": -(41**0.5), "inner_product": 0.0}[distance]
    assert found[1].score == pytest.approx(far)


def test_semantic_search_keeps_langgraphs_window_of_best_vectors(url: str) -> None:
    # LangGraph's query takes limit * (vectors per item, by the fields) * 2 + 1 vectors, then
    # each item once: with 4 vectors for "many", limit=1 still reaches "one".
    index: PostgresIndexConfig = {"dims": 8, "embed": letters, "fields": ["parts[*]"]}
    with PostgresStore.from_conn_string(url, index=index) as store:
        store.put(("d",), "many", {"parts": ["aaa", "aab", "aba", "baa"]})
        store.put(("d",), "one", {"parts": ["abb"]})
        store.put(("d",), "far", {"parts": ["hhh"]})
        assert [i.key for i in store.search(("d",), query="aaa", limit=2)] == ["many", "one"]
        assert [i.key for i in store.search(("d",), query="aaa", limit=1, offset=1)] == ["one"]
        assert count(url, "store_vectors") == 6


# --- TTL ----------------------------------------------------------------------------------------


def test_expiries_are_kept_in_microseconds_and_refreshed_by_reads(
    url: str, clock: FakeClock
) -> None:
    expiry = "SELECT expires_at - %s, ttl_minutes FROM store_items WHERE key = %s"
    with PostgresStore.from_conn_string(url, ttl={"default_ttl": 1}) as store:
        store.put(("a",), "k", {"v": 1}, ttl=0.5)
        store.put(("a",), "j", {"v": 1})
        with psycopg.connect(url) as conn:
            assert conn.execute(expiry, (clock.micros(), "k")).fetchone() == (30_000_000, 0.5)
            clock.advance(seconds=20)
            store.get(("a",), "k")
            assert conn.execute(expiry, (clock.micros(), "k")).fetchone() == (30_000_000, 0.5)
            assert conn.execute(expiry, (clock.micros(), "j")).fetchone() == (40_000_000, 1.0)


# --- async --------------------------------------------------------------------------------------


async def test_the_async_store_is_made_as_langgraphs_is(url: str) -> None:
    async with AsyncPostgresStore.from_conn_string(url) as store:
        await store.setup()
        await store.aput(("a",), "k", {"v": 1})
    async with AsyncPostgresStore.from_conn_string(url, pool_config={"max_size": 2}) as store:
        assert (await store.aget(("a",), "k")).value == {"v": 1}  # type: ignore[union-attr]
    async with AsyncConnectionPool(url, kwargs=LANGGRAPH_KWARGS, open=False) as pool:
        store = AsyncPostgresStore(pool)
        await store.aput(("a",), "j", {"v": 2})
        with pytest.raises(ValueError, match="Pipeline should be used only"):
            AsyncPostgresStore(pool, pipe=object())
    async with await psycopg.AsyncConnection.connect(url, **LANGGRAPH_KWARGS) as conn:
        store = AsyncPostgresStore(conn)
        assert [i.key for i in await store.asearch(("a",))] == ["j", "k"]
    with PostgresStore.from_conn_string(url) as sync:
        assert sync.list_namespaces() == [("a",)]
