"""Write listeners: every write that takes effect, through any path of any store, reaches each
listener once per call, in order, in the caller's thread (or task), after it took effect;
failed calls and reads report nothing."""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import gc
import sqlite3
import threading
from collections.abc import Iterable
from typing import Any

import pytest

from rewind.store import writes as writes_module
from rewind.store.base import (
    BaseStore,
    GetOp,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchOp,
)
from rewind.store.base.batch import AsyncBatchedBaseStore
from rewind.store.memory import InMemoryStore
from rewind.store.sqlite import SqliteStore
from rewind.store.writes import StoreWrite
from tests.store.conftest import FakeClock
from tests.store.kinds import KINDS, SQL_KINDS, async_store, mark, sync_store


def put(ns: tuple[str, ...], key: str, value: dict[str, Any] | None, **kw: Any) -> StoreWrite:
    """The write a put (or, with ``None``, a delete) reports."""
    return StoreWrite(ns, key, value, kw.get("index"), kw.get("ttl") if value is not None else None)


class Recorder:
    """A listener that records each call's writes, the thread it ran on, and what the store
    held for the first write when it ran."""

    def __init__(self, store: Any = None) -> None:
        self.calls: list[list[StoreWrite]] = []
        self.threads: list[int] = []
        self.seen: list[Any] = []
        self.store = store

    def __call__(self, writes: list[StoreWrite]) -> None:
        self.calls.append(writes)
        self.threads.append(threading.get_ident())
        if self.store is not None:
            first = writes[0]
            if isinstance(self.store, InMemoryStore):
                item = self.store._data.get(first.namespace, {}).get(first.key)
            else:
                m = mark(self.store)
                item = self.store.conn.execute(
                    f"SELECT value FROM store_items WHERE prefix = {m} AND key = {m}",
                    (".".join(first.namespace), first.key),
                ).fetchone()
            self.seen.append(item is not None)


@pytest.mark.parametrize("kind", KINDS)
def test_every_sync_write_path_reports_once_per_call(kind: str) -> None:
    with sync_store(kind, ttl={}) as store:
        record = Recorder(store)
        store.add_write_listener(record)
        store.put(("a",), "k1", {"v": 1})
        store.put(("a",), "k2", {"v": 2}, index=False, ttl=5)
        store.delete(("a",), "k1")
        store.delete(("a",), "never")  # a delete of nothing is still a (successful) write
        store.get(("a",), "k2")
        store.search(("a",))
        store.list_namespaces()
        store.batch([GetOp(("a",), "k2"), SearchOp(("a",)), ListNamespacesOp()])  # reads only
        store.batch(
            [
                PutOp(("b",), "x", {"n": 1}),
                GetOp(("b",), "x"),
                PutOp(("b",), "y", {"n": 2}, index=["n"]),
                PutOp(("b",), "x", None),
                PutOp(("b",), "x", {"n": 3}),
            ]
        )
        store.batch(iter([PutOp(("c",), "g", {"n": 4})]))  # any iterable
    assert record.calls == [
        [put(("a",), "k1", {"v": 1})],
        [put(("a",), "k2", {"v": 2}, index=False, ttl=5)],
        [put(("a",), "k1", None)],
        [put(("a",), "never", None)],
        [
            put(("b",), "x", {"n": 1}),
            put(("b",), "y", {"n": 2}, index=["n"]),
            put(("b",), "x", None),
            put(("b",), "x", {"n": 3}),
        ],
        [put(("c",), "g", {"n": 4})],
    ]
    assert set(record.threads) == {threading.get_ident()}
    # Each listener call came after its write took effect (a delete: after it was gone).
    assert record.seen == [True, True, False, False, True, True]


@pytest.mark.parametrize("kind", KINDS)
async def test_every_async_write_path_reports_once_per_call(kind: str) -> None:
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="none")
    async with async_store(kind, ttl={}) as store:
        record = Recorder()
        tasks: list[str] = []
        store.add_write_listener(lambda writes: (record(writes), tasks.append(marker.get())))

        async def caller(name: str, key: str) -> None:
            marker.set(name)
            await store.aput(("a",), key, {"by": name})

        await asyncio.gather(caller("one", "k1"), caller("two", "k2"), caller("three", "k1"))
        await store.adelete(("a",), "k2")
        await store.abatch([PutOp(("b",), "x", {"n": 1}), GetOp(("a",), "k1")])
        await store.aget(("a",), "k1")
        await store.asearch(("a",))
        assert (await store.aget(("a",), "k1")).value == {"by": "three"}
    assert record.calls == [
        [put(("a",), "k1", {"by": "one"})],
        [put(("a",), "k2", {"by": "two"})],
        [put(("a",), "k1", {"by": "three"})],
        [put(("a",), "k2", None)],
        [put(("b",), "x", {"n": 1})],
    ]
    assert tasks[:3] == ["one", "two", "three"]  # each in its caller's own task


@pytest.mark.parametrize("kind", KINDS)
def test_failed_writes_report_nothing(kind: str) -> None:
    with sync_store(kind, ttl={}) as store:
        store.put(("a",), "other", {"v": 0})  # (the in-memory store checks filters on items)
        record = Recorder()
        store.add_write_listener(record)
        with pytest.raises(ValueError, match="dictionary update sequence"):
            store.put(("a",), "k", "not a mapping")
        with pytest.raises(ValueError, match="Namespace cannot be empty"):
            store.put((), "k", {"v": 1})
        with pytest.raises(ValueError, match="cannot contain periods"):
            store.delete(("a.b",), "k")
        with pytest.raises(ValueError, match="Unsupported operator"):
            store.batch([PutOp(("a",), "k", {"v": 1}), SearchOp(("a",), filter={"v": {"$bad": 1}})])
        if kind == "memory":  # (LangGraph's SQLite store ignores what is not an op)
            with pytest.raises(ValueError, match="Unknown operation type"):
                store.batch([PutOp(("a",), "k", {"v": 1}), "not an op"])
        else:
            with pytest.raises(TypeError, match="not JSON serializable"):
                store.put(("a",), "k", {"v": {1, 2}})
        assert store.get(("a",), "k") is None
    assert record.calls == []


@pytest.mark.parametrize("kind", SQL_KINDS)
async def test_failed_async_writes_report_nothing(kind: str) -> None:
    async with async_store(kind, ttl={}) as store:
        record = Recorder()
        store.add_write_listener(record)
        with pytest.raises(TypeError, match="not JSON serializable"):
            await store.aput(("a",), "k", {"v": {1}})
        with pytest.raises(ValueError, match="Namespace cannot be empty"):
            await store.aput((), "k", {"v": 1})
        with pytest.raises(TypeError, match="not JSON serializable"):
            await store.abatch([PutOp(("a",), "j", {"v": 1}), PutOp(("a",), "k", {"v": {1}})])
        assert await store.aget(("a",), "j") is None
    assert record.calls == []


@pytest.mark.parametrize("kind", KINDS)
def test_sweeps_report_expired_deletions(kind: str, clock: FakeClock) -> None:
    with sync_store(kind, ttl={}) as store:
        record = Recorder()
        store.add_write_listener(record)
        store.put(("a",), "gone", {"v": 1}, ttl=1)
        store.put(("b",), "gone", {"v": 1}, ttl=1)
        store.put(("a",), "kept", {"v": 1})
        clock.advance(minutes=2)
        record.calls.clear()
        assert store.sweep_ttl() == 2
        assert store.sweep_ttl() == 0  # nothing swept: no call
    assert record.calls == [
        [
            StoreWrite(("a",), "gone", None, None, None, expired=True),
            StoreWrite(("b",), "gone", None, None, None, expired=True),
        ]
    ]


# --- listeners themselves -------------------------------------------------------------------------


def test_several_listeners_removal_and_a_listener_that_raises() -> None:
    store = InMemoryStore()
    first, second = Recorder(), Recorder()
    remove_first = store.add_write_listener(first)
    store.add_write_listener(second)

    def boom(writes: list[StoreWrite]) -> None:
        raise RuntimeError("listener failed")

    remove_boom = store.add_write_listener(boom)
    with pytest.raises(RuntimeError, match="listener failed"):
        store.put(("a",), "k", {"v": 1})
    assert store.get(("a",), "k") is not None  # the write itself took effect
    assert first.calls == second.calls == [[put(("a",), "k", {"v": 1})]]
    remove_boom()
    remove_boom()  # twice: no error
    remove_first()
    store.put(("a",), "j", {"v": 2})
    assert len(first.calls) == 1 and len(second.calls) == 2


def test_a_listener_gets_its_own_list_and_a_copy_of_the_value() -> None:
    store = InMemoryStore()
    got: list[list[StoreWrite]] = []
    store.add_write_listener(lambda writes: (got.append(writes), writes.clear()))
    store.add_write_listener(got.append)
    value = {"v": 1}
    store.put(("a",), "k", value)
    value["v"] = 2
    assert got[1] == [put(("a",), "k", {"v": 1})]
    with pytest.raises(dataclasses.FrozenInstanceError):
        got[1][0].key = "x"  # type: ignore[misc]


def test_listeners_go_with_their_store() -> None:
    store = InMemoryStore()
    store.add_write_listener(Recorder())
    key = id(store)
    assert key in writes_module._REGISTRY
    del store
    gc.collect()
    assert key not in writes_module._REGISTRY


def test_stores_without_listeners_pay_nothing_for_them() -> None:
    store = InMemoryStore()
    assert writes_module.listeners_of(store) is None
    ops = (op for op in [PutOp(("a",), "k", {"v": 1})])  # a generator, consumed once
    store.batch(ops)
    assert store.get(("a",), "k") is not None


# --- a user's own stores --------------------------------------------------------------------------


class DictStore(BaseStore):
    """A user's store: a plain dict, both methods its own."""

    def __init__(self) -> None:
        self.data: dict[tuple[tuple[str, ...], str], Any] = {}
        self.fail = False

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        results: list[Result] = []
        for op in ops:
            if self.fail:
                raise RuntimeError("store down")
            if isinstance(op, PutOp):
                if op.value is None:
                    self.data.pop((op.namespace, op.key), None)
                else:
                    self.data[(op.namespace, op.key)] = dict(op.value)
                results.append(None)
            else:
                results.append(None)
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return self.batch(ops)  # falls back to batch, in the same task


class ThreadedStore(DictStore):
    """``abatch`` runs ``batch`` on an executor thread (without the caller's context)."""

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.batch, ops)


class ToThreadStore(DictStore):
    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return await asyncio.to_thread(self.batch, ops)


class SuperStore(InMemoryStore):
    """A subclass of a rewind store that adds to its batch and calls the base's."""

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        return super().batch(ops)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return self.batch(ops)


class Delegating(BaseStore):
    """A store that hands every batch to another store."""

    def __init__(self, inner: BaseStore) -> None:
        self.inner = inner

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return self.inner.batch(ops)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return await self.inner.abatch(ops)


@pytest.mark.parametrize("cls", [DictStore, ThreadedStore, ToThreadStore, SuperStore])
async def test_a_users_store_reports_each_write_once(cls: type[BaseStore]) -> None:
    store = cls()
    record = Recorder()
    store.add_write_listener(record)
    await asyncio.to_thread(store.put, ("a",), "k1", {"v": 1})
    store.delete(("a",), "k1")
    await store.aput(("a",), "k2", {"v": 2})
    await store.adelete(("a",), "k2")
    await store.abatch([PutOp(("a",), "x", {"v": 3}), PutOp(("a",), "y", {"v": 4})])
    store.batch([GetOp(("a",), "x")])
    await store.aget(("a",), "x")
    assert record.calls == [
        [put(("a",), "k1", {"v": 1})],
        [put(("a",), "k1", None)],
        [put(("a",), "k2", {"v": 2})],
        [put(("a",), "k2", None)],
        [put(("a",), "x", {"v": 3}), put(("a",), "y", {"v": 4})],
    ]
    caller = threading.get_ident()
    assert record.threads[0] != caller  # the put made on a thread, reported on it
    assert set(record.threads[1:]) == {caller}


async def test_a_users_store_that_fails_reports_nothing() -> None:
    store = DictStore()
    record = Recorder()
    store.add_write_listener(record)
    store.fail = True
    with pytest.raises(RuntimeError, match="store down"):
        store.put(("a",), "k", {"v": 1})
    with pytest.raises(RuntimeError, match="store down"):
        await store.aput(("a",), "k", {"v": 1})
    assert record.calls == []


async def test_a_delegating_store_and_its_inner_store_each_report() -> None:
    inner = InMemoryStore()
    outer = Delegating(inner)
    inner_record, outer_record = Recorder(), Recorder()
    inner.add_write_listener(inner_record)
    outer.add_write_listener(outer_record)
    outer.put(("a",), "k", {"v": 1})
    await outer.adelete(("a",), "k")
    inner.put(("a",), "j", {"v": 2})
    assert outer_record.calls == [[put(("a",), "k", {"v": 1})], [put(("a",), "k", None)]]
    assert inner_record.calls == [*outer_record.calls, [put(("a",), "j", {"v": 2})]]


class QueueStore(AsyncBatchedBaseStore):
    """A user's batched store over a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[tuple[str, ...], str], Any] = {}
        self.batches: list[int] = []

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        self.batches.append(len(ops))
        results: list[Result] = []
        for op in ops:
            if isinstance(op, PutOp):
                if op.value is None:
                    self.data.pop((op.namespace, op.key), None)
                else:
                    self.data[(op.namespace, op.key)] = op.value
                results.append(None)
            elif isinstance(op, GetOp):
                results.append(self.data.get((op.namespace, op.key)))
            else:
                results.append([])
        return results


async def test_a_batched_store_reports_each_callers_writes_in_its_task_or_thread() -> None:
    store = QueueStore()
    record = Recorder()
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="none")
    markers: list[str] = []
    store.add_write_listener(lambda writes: (record(writes), markers.append(marker.get())))

    async def caller(name: str) -> None:
        marker.set(name)
        await store.aput(("a",), name, {"by": name})

    await asyncio.gather(*(caller(f"c{n}") for n in range(4)))
    assert store.batches == [4]  # one batch for the tick
    assert markers == ["c0", "c1", "c2", "c3"]
    await asyncio.to_thread(store.put, ("a",), "t", {"by": "thread"})
    await asyncio.to_thread(store.delete, ("a",), "t")
    await asyncio.to_thread(store.batch, [PutOp(("b",), "x", {"n": 1})])
    await store.abatch([PutOp(("b",), "y", {"n": 2})])
    caller_thread = threading.get_ident()
    assert record.calls[4:] == [
        [put(("a",), "t", {"by": "thread"})],
        [put(("a",), "t", None)],
        [put(("b",), "x", {"n": 1})],
        [put(("b",), "y", {"n": 2})],
    ]
    assert all(t != caller_thread for t in record.threads[4:7])  # in the calling threads
    assert record.threads[7] == caller_thread


def test_a_sqlite_store_on_a_plain_connection_reports_too() -> None:
    store = SqliteStore(sqlite3.connect(":memory:", check_same_thread=False))
    record = Recorder(store)
    store.add_write_listener(record)
    store.put(("a",), "k", {"v": 1})
    assert record.calls == [[put(("a",), "k", {"v": 1})]] and record.seen == [True]
