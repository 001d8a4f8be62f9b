"""The long-term memory store in graphs: nodes get it as in LangGraph, and every write is logged.

A write made by a node is a ``store.write`` event of its run (namespace, key, value or
deletion), in order with the node's other events; a write made outside any run is a short run
of the ``__store__`` stream in the log of the checkpointer the store was compiled with.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict

import pytest

from rewind import EventType, open_log
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.config import get_store
from rewind.errors import EncodingError
from rewind.events import StoredEvent
from rewind.graph import END, START, StateGraph
from rewind.replay import replay
from rewind.runtime.context import Runtime
from rewind.runtime.memory import STORE_GRAPH, STORE_THREAD
from rewind.store.base import BaseStore
from rewind.store.memory import InMemoryStore
from rewind.types import Command, interrupt


class State(TypedDict, total=False):
    user: str
    note: str
    seen: list[str]


@pytest.fixture
def saver(tmp_path: Path) -> Iterator[SqliteSaver]:
    with SqliteSaver.from_conn_string(str(tmp_path / "runs.db")) as saver:
        yield saver


def _events(path: Path, **filters: Any) -> list[StoredEvent]:
    async def read() -> list[StoredEvent]:
        log = await open_log(path)
        try:
            runs = await log.list_runs(oldest_first=True, **filters)
            found: list[StoredEvent] = []
            for run in runs:
                found += await log.read(run.run_id)
            return found
        finally:
            await log.aclose()

    return asyncio.run(read())


def _writes(events: list[StoredEvent]) -> list[tuple[Any, ...]]:
    return [
        (e.node, tuple(e.payload["namespace"]), e.payload["key"], e.payload["value"])
        for e in events
        if e.type == EventType.STORE_WRITE
    ]


def remember(state: State, store: BaseStore) -> dict[str, Any]:
    store.put(("notes", state["user"]), "last", {"text": state["note"]})
    store.put(("notes", state["user"]), "scratch", {"text": "tmp"})
    store.delete(("notes", state["user"]), "scratch")
    return {}


def recall(state: State, runtime: Runtime[Any]) -> dict[str, Any]:
    assert runtime.store is get_store()
    items = runtime.store.search(("notes", state["user"]))
    return {"seen": [i.value["text"] for i in items]}


def notes_graph(saver: Any, store: Any) -> Any:
    g = StateGraph(State)
    g.add_node("remember", remember)
    g.add_node("recall", recall)
    g.add_edge(START, "remember")
    g.add_edge("remember", "recall")
    g.add_edge("recall", END)
    return g.compile(checkpointer=saver, store=store)


def test_a_nodes_store_writes_are_events_of_its_run_in_order(saver: SqliteSaver) -> None:
    graph = notes_graph(saver, InMemoryStore())
    out = graph.invoke({"user": "ann", "note": "likes tea"}, {"configurable": {"thread_id": "t"}})
    assert out["seen"] == ["likes tea"]
    events = _events(saver.path, thread_id="t")
    assert _writes(events) == [
        ("remember", ("notes", "ann"), "last", {"text": "likes tea"}),
        ("remember", ("notes", "ann"), "scratch", {"text": "tmp"}),
        ("remember", ("notes", "ann"), "scratch", None),
    ]
    # Between the node's start and its end, with its task's id.
    started = next(e for e in events if e.type == EventType.TASK_STARTED and e.node == "remember")
    ended = next(e for e in events if e.type == EventType.TASK_ENDED and e.node == "remember")
    writes = [e for e in events if e.type == EventType.STORE_WRITE]
    assert all(started.seq < w.seq < ended.seq and w.task_id == started.task_id for w in writes)


def test_replay_of_a_run_with_store_writes_equals_its_live_stream(saver: SqliteSaver) -> None:
    graph = notes_graph(saver, InMemoryStore())
    config = {"configurable": {"thread_id": "live"}}
    modes = ["values", "updates", "debug", "tasks", "checkpoints", "custom"]
    live = list(graph.stream({"user": "bo", "note": "n"}, config, stream_mode=modes))

    async def replayed() -> list[Any]:
        log = await open_log(saver.path)
        try:
            (run,) = await log.list_runs(thread_id="live")
            return list(replay(log, run.run_id, stream_mode=modes))
        finally:
            await log.aclose()

    assert _normalised(asyncio.run(replayed())) == _normalised(live)


def _normalised(chunks: list[Any]) -> list[Any]:
    return [repr(c) for c in chunks]


def test_a_subgraph_uses_its_parents_store_and_its_writes_carry_its_namespace(
    saver: SqliteSaver,
) -> None:
    inner = StateGraph(State)
    inner.add_node("remember", remember)
    inner.add_edge(START, "remember")
    inner.add_edge("remember", END)
    g = StateGraph(State)
    g.add_node("inner", inner.compile())
    g.add_node("recall", recall)
    g.add_edge(START, "inner")
    g.add_edge("inner", "recall")
    g.add_edge("recall", END)
    graph = g.compile(checkpointer=saver, store=InMemoryStore())
    out = graph.invoke({"user": "cy", "note": "deep"}, {"configurable": {"thread_id": "sub"}})
    assert out["seen"] == ["deep"]
    writes = [e for e in _events(saver.path, thread_id="sub") if e.type == EventType.STORE_WRITE]
    assert len(writes) == 3
    assert all(w.ns is not None and w.ns.startswith("inner:") for w in writes)


def test_a_resumed_run_does_not_log_a_completed_nodes_writes_again(saver: SqliteSaver) -> None:
    def ask(state: State) -> dict[str, Any]:
        return {"note": interrupt("what note?")}

    g = StateGraph(State)
    g.add_node("first", remember)
    g.add_node("ask", ask)
    g.add_node("second", remember)
    g.add_edge(START, "first")
    g.add_edge("first", "ask")
    g.add_edge("ask", "second")
    g.add_edge("second", END)
    store = InMemoryStore()
    graph = g.compile(checkpointer=saver, store=store)
    config = {"configurable": {"thread_id": "hitl"}}
    graph.invoke({"user": "di", "note": "before"}, config)
    graph.invoke(Command(resume="after"), config)
    writes = _writes(_events(saver.path, thread_id="hitl"))
    assert [(node, value) for node, _, key, value in writes if key == "last"] == [
        ("first", {"text": "before"}),
        ("second", {"text": "after"}),
    ]
    item = store.get(("notes", "di"), "last")
    assert item is not None and item.value == {"text": "after"}


def test_writes_outside_any_run_are_logged_in_the_store_stream(saver: SqliteSaver) -> None:
    store = InMemoryStore()
    notes_graph(saver, store)  # compiled with the saver: its log is the store's home
    store.put(("seed",), "a", {"v": 1})
    store.delete(("seed",), "a")

    async def from_a_loop() -> None:
        await store.aput(("seed",), "b", {"v": 2})

    asyncio.run(from_a_loop())  # handed to rewind's loop, not cancelled with this one
    saver.close()  # flushes what the sync API's log holds
    events = _events(saver.path, thread_id=STORE_THREAD)
    starts = [e for e in events if e.type == EventType.RUN_STARTED]
    assert {e.payload["graph"] for e in starts} == {STORE_GRAPH}
    assert [(ns, key, value) for _, ns, key, value in _writes(events)] == [
        (("seed",), "a", {"v": 1}),
        (("seed",), "a", None),
        (("seed",), "b", {"v": 2}),
    ]
    assert all(e.node is None for e in events if e.type == EventType.STORE_WRITE)


def test_a_value_the_log_cannot_hold_fails_the_write_and_logs_nothing(
    saver: SqliteSaver,
) -> None:
    class Opaque:
        pass

    def keep(state: State, store: BaseStore) -> dict[str, Any]:
        store.put(("odd",), "k", {"thing": Opaque()})
        return {}

    g = StateGraph(State)
    g.add_node("keep", keep)
    g.add_edge(START, "keep")
    g.add_edge("keep", END)
    graph = g.compile(checkpointer=saver, store=InMemoryStore())
    with pytest.raises(EncodingError, match="Opaque"):
        graph.invoke({"user": "x"}, {"configurable": {"thread_id": "odd"}})
    assert _writes(_events(saver.path, thread_id="odd")) == []


def test_get_store_outside_a_run_raises_as_in_langgraph() -> None:
    with pytest.raises(RuntimeError, match="Called get_config outside of a runnable context"):
        get_store()


def test_a_node_asking_for_the_store_of_a_graph_without_one_gets_none() -> None:
    def look(state: State, store: BaseStore) -> dict[str, Any]:
        return {"seen": [repr(store)]}

    g = StateGraph(State)
    g.add_node("look", look)
    g.add_edge(START, "look")
    g.add_edge("look", END)
    assert g.compile().invoke({"user": "z"})["seen"] == ["None"]


def test_compile_refuses_what_is_not_a_store() -> None:
    g = StateGraph(State)
    g.add_node("recall", recall)
    g.add_edge(START, "recall")
    with pytest.raises(TypeError, match=r"rewind\.store\.base\.BaseStore"):
        g.compile(store=object())
