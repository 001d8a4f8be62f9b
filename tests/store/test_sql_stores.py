"""What rewind's SQL stores (SQLite and PostgreSQL, sync and async) do alike, tested once on
each: failed batches write nothing, values go through a deserializer, embeddings are asked for
once, old vectors go with their items, TTLs are swept by a thread or a task, and the async
stores gather a tick's calls into one batch and refuse sync calls on their own loop."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

import rewind.store.base as rw
from rewind.store.writes import StoreWrite
from tests.store.calls import op_of
from tests.store.conftest import FakeClock
from tests.store.differential import aletters, letters
from tests.store.kinds import (
    SQL_KINDS,
    STORES,
    async_store,
    idle,
    location,
    plain_store,
    sync_store,
)

pytestmark = pytest.mark.parametrize("kind", SQL_KINDS)


def vectors(store: Any) -> int:
    row = store.conn.execute("SELECT count(*) FROM store_vectors").fetchone()
    return int(row[0])


def test_a_failing_batch_writes_nothing(kind: str) -> None:
    with sync_store(kind) as store:
        store.put(("a",), "k", {"v": 1})
        with pytest.raises(TypeError, match="not JSON serializable"):
            store.batch([rw.PutOp(("a",), "k", {"v": 2}), rw.PutOp(("a",), "j", {"s": {1}})])
        with pytest.raises(ValueError, match="Unsupported operator"):
            store.batch([rw.PutOp(("a",), "k", {"v": 3}), rw.SearchOp(("a",), {"v": {"$x": 1}})])
        assert store.get(("a",), "k").value == {"v": 1}
        assert store.get(("a",), "j") is None
        assert idle(store)


def test_a_deserializer_reads_the_values(kind: str) -> None:
    seen: list[Any] = []

    def load(text: Any) -> dict[str, Any]:
        seen.append(text)
        return {"loaded": text}

    with plain_store(kind, deserializer=load) as store:
        store.put(("a",), "k", {"v": 1})
        assert store.get(("a",), "k").value == {"loaded": '{"v":1}'}
    assert seen == ['{"v":1}']


def test_puts_deletes_and_sweeps_remove_an_items_old_vectors(kind: str, clock: FakeClock) -> None:
    index: Any = {"dims": 8, "embed": letters, "fields": ["parts[*]"]}
    with sync_store(kind, index=index, ttl={}) as store:
        store.put(("d",), "k", {"parts": ["a", "b", "c"]})
        store.put(("d",), "k", {"parts": ["a"]})
        assert vectors(store) == 1
        store.put(("d",), "k", {"parts": ["a"], "t": "b"}, index=["t"])
        assert vectors(store) == 1
        assert store.search(("d",), query="b")[0].score == pytest.approx(1.0)
        store.put(("d",), "k", {"parts": ["a"]}, index=False)
        assert vectors(store) == 0
        assert [(i.key, i.score) for i in store.search(("d",), query="a")] == []
        store.put(("d",), "k", {"parts": ["a", "b"]})
        store.delete(("d",), "k")
        assert vectors(store) == 0
        store.put(("d",), "k", {"parts": ["a", "b"]}, ttl=1)
        clock.advance(minutes=2)
        assert store.sweep_ttl() == 1
        assert vectors(store) == 0


def test_embeddings_of_a_batch_are_asked_for_once_each(kind: str) -> None:
    asked: list[list[str]] = []

    def embed(texts: Any) -> list[list[float]]:
        asked.append(list(texts))
        return letters(texts)

    index: Any = {"dims": 8, "embed": embed, "fields": ["t"]}
    with sync_store(kind, index=index) as store:
        store.batch(
            [
                rw.PutOp(("d",), "1", {"t": "ab"}),
                rw.PutOp(("d",), "2", {"t": "cd"}),
                rw.SearchOp(("d",), query="ab"),
                rw.SearchOp(("d",), query="cd"),
            ]
        )
        assert asked == [["ab", "cd"], ["ab", "cd"]]  # the queries, then the puts
        store.embeddings.func = lambda texts: []
        with pytest.raises(ValueError, match="Number of embeddings"):
            store.put(("d",), "3", {"t": "x"})
        assert store.get(("d",), "3") is None


def test_the_sweeper_thread_sweeps_and_stops(kind: str) -> None:
    with sync_store(kind, ttl={"default_ttl": 0.0005}) as store:
        assert type(store)(store.conn).start_ttl_sweeper().done()  # no TTL config
        store.put(("a",), "k", {"v": 1})
        future = store.start_ttl_sweeper(sweep_interval_minutes=0.001)
        deadline = time.monotonic() + 5
        while store.get(("a",), "k", refresh_ttl=False) is not None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert store.stop_ttl_sweeper(timeout=2)
        assert future.result(timeout=2) is None


# --- async --------------------------------------------------------------------------------------


async def test_the_async_store_gives_what_the_sync_one_gives(kind: str, tmp_path: Path) -> None:
    sync_class, async_class = STORES[kind]
    script: list[tuple[Any, ...]] = [
        ("put", ("a",), "k1", {"n": 1, "f": 0.0}),
        ("put", ("a", "b"), "k2", {"n": 2, "f": 1.0}),
        ("batch", [("put", ("b",), "k3", {"n": 3, "f": 2.0}), ("delete", ("a",), "k9")]),
    ]
    with location(kind, tmp_path / "a.db") as where:
        async with async_class.from_conn_string(where) as ours:
            for call in script:
                if call[0] == "put":
                    await ours.aput(call[1], call[2], call[3])
                else:
                    await ours.abatch([op_of(rw, c) for c in call[1]])
            got = [
                await ours.alist_namespaces(),
                (await ours.aget(("a",), "k1")).value,
                [(i.key, i.value) for i in await ours.asearch((), filter={"n": {"$gte": 2}})],
            ]
            await ours.adelete(("a",), "k1")
            assert await ours.aget(("a",), "k1") is None
        with sync_class.from_conn_string(where) as sync:
            assert sync.get(("a", "b"), "k2").value == {"n": 2, "f": 1.0}
            assert sync.list_namespaces() == [("a", "b"), ("b",)]
    assert got[0] == [("a",), ("a", "b"), ("b",)]
    assert got[1] == {"n": 1, "f": 0.0}
    assert sorted(got[2]) == [("k2", {"n": 2, "f": 1.0}), ("k3", {"n": 3, "f": 2.0})]


async def test_the_async_store_gathers_a_ticks_calls_into_one_batch(kind: str) -> None:
    async with async_store(kind) as store:
        await store.setup()
        sizes: list[int] = []
        plan = store._plan

        def counting(ops: Any) -> Any:
            planned = plan(ops)
            sizes.append(planned.size)
            return planned

        store._plan = counting
        await asyncio.gather(*(store.aput(("a",), f"k{n}", {"n": n}) for n in range(5)))
        found = await asyncio.gather(*(store.aget(("a",), f"k{n}") for n in range(5)))
        assert [i.value["n"] for i in found if i is not None] == [0, 1, 2, 3, 4]
        assert sizes == [5, 5]


async def test_the_async_store_refuses_bad_values_and_keeps_going(kind: str) -> None:
    async with async_store(kind) as store:
        with pytest.raises(TypeError, match="not JSON serializable"):
            await store.aput(("a",), "k", {"s": {1}})
        with pytest.raises(ValueError, match="Unsupported operator"):
            await store.asearch(("a",), filter={"v": {"$x": 1}})
        await store.aput(("a",), "k", {"v": 1})
        assert (await store.aget(("a",), "k")).value == {"v": 1}


async def test_the_async_store_semantic_search_and_ttl(kind: str, clock: FakeClock) -> None:
    index: Any = {"dims": 8, "embed": aletters, "fields": ["t"]}
    async with async_store(kind, index=index, ttl={"default_ttl": 0.001}) as store:
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


async def test_the_async_sweeper_task_sweeps_and_stops(kind: str) -> None:
    async with async_store(kind, ttl={"default_ttl": 0.0005}) as store:
        await store.aput(("a",), "k", {"v": 1})
        task = await store.start_ttl_sweeper(sweep_interval_minutes=0.001)
        assert await store.start_ttl_sweeper() is task  # already running
        for _ in range(250):
            if await store.aget(("a",), "k", refresh_ttl=False) is None:
                break
            await asyncio.sleep(0.02)
        assert await store.aget(("a",), "k") is None
        assert await store.stop_ttl_sweeper(timeout=2)
        assert task.done()
        assert await store.stop_ttl_sweeper()


def test_sync_calls_on_the_async_stores_loop_are_refused(kind: str) -> None:
    async def main() -> None:
        async with async_store(kind) as store:
            with pytest.raises(asyncio.InvalidStateError, match=r"await store\.aget"):
                store.get(("a",), "k")
            await store.aput(("a",), "k", {"v": 1})
            got = await asyncio.to_thread(store.get, ("a",), "k")  # from another thread: fine
            assert got is not None and got.value == {"v": 1}
            await asyncio.to_thread(store.put, ("a",), "j", {"v": 2})
            assert await asyncio.to_thread(store.list_namespaces) == [("a",)]

    asyncio.run(main())
