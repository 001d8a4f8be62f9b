"""``AsyncBatchedBaseStore`` gathers a tick's calls as LangGraph's does."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import langgraph.store.base as lg
import langgraph.store.base.batch as lg_batch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rewind.store.base as rw
import rewind.store.base.batch as rw_batch
from rewind.store.base import Op, PutOp, Result

ops = st.lists(
    st.one_of(
        st.tuples(st.just("get"), st.sampled_from(["a", "b"]), st.sampled_from(["k", "j"])),
        st.tuples(
            st.just("put"),
            st.sampled_from(["a", "b"]),
            st.sampled_from(["k", "j"]),
            st.integers(0, 3) | st.none(),
        ),
        st.tuples(st.just("search"), st.sampled_from(["a", "b"]), st.none() | st.just({"v": 1})),
        st.tuples(st.just("list"), st.integers(0, 3)),
    ),
    max_size=8,
)


def build(mod: Any, spec: tuple[Any, ...]) -> Any:
    kind = spec[0]
    if kind == "get":
        return mod.GetOp((spec[1],), spec[2])
    if kind == "put":
        return mod.PutOp((spec[1],), spec[2], None if spec[3] is None else {"v": spec[3]})
    if kind == "search":
        return mod.SearchOp((spec[1],), spec[2])
    return mod.ListNamespacesOp(max_depth=spec[1])


@settings(max_examples=200, deadline=None)
@given(ops)
def test_deduplication_matches_langgraphs(specs: list[tuple[Any, ...]]) -> None:
    ours = rw_batch._dedupe_ops([build(rw, s) for s in specs])
    theirs = lg_batch._dedupe_ops([build(lg, s) for s in specs])
    assert ours[0] == theirs[0]
    assert [tuple(op) for op in ours[1]] == [tuple(op) for op in theirs[1]]


class Echo(rw_batch.AsyncBatchedBaseStore):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[list[Op]] = []
        self.fail = False

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        self.seen.append(ops)
        if self.fail:
            raise RuntimeError("down")
        return [None for _ in ops]


async def test_a_ticks_calls_run_as_one_deduplicated_batch() -> None:
    store = Echo()
    await asyncio.gather(
        store.aput(("a",), "k", {"v": 1}),
        store.aget(("a",), "k"),
        store.aget(("a",), "k"),
        store.aput(("a",), "k", {"v": 2}),
        store.alist_namespaces(),
    )
    assert len(store.seen) == 1
    batch = store.seen[0]
    assert len(batch) == 3 and batch[0] == PutOp(("a",), "k", {"v": 2})


async def test_a_failed_batch_fails_every_call_in_it_and_the_store_goes_on() -> None:
    store = Echo()
    store.fail = True
    results = await asyncio.gather(
        store.aput(("a",), "k", {"v": 1}), store.aget(("a",), "k"), return_exceptions=True
    )
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    store.fail = False
    assert await store.aget(("a",), "k") is None


def test_it_needs_a_running_loop() -> None:
    with pytest.raises(RuntimeError, match="no running event loop"):
        Echo()
