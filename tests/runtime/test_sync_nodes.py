"""Sync nodes under the sync API: a step's lone task runs on the loop's thread (no hand-off to
a worker thread), and still behaves as in LangGraph's sync runner: no event loop is running in
it, graphs it invokes or streams run inside its run, what it streams reaches the caller as it
is made, and the tasks of a wider step run in parallel."""

from __future__ import annotations

import asyncio
import operator
import threading
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from rewind import open_log
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.config import get_stream_writer
from rewind.events import EventType
from rewind.graph import END, START, StateGraph


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def _line(*nodes: tuple[str, Any]) -> StateGraph:
    g = StateGraph(State)
    previous = START
    for name, fn in nodes:
        g.add_node(name, fn)
        g.add_edge(previous, name)
        previous = name
    g.add_edge(previous, END)
    return g


def test_asyncio_run_works_inside_a_sync_node() -> None:
    async def answer() -> str:
        await asyncio.sleep(0)
        return "from asyncio.run"

    def node(state: State) -> dict[str, Any]:
        return {"log": [asyncio.run(answer())]}

    graph = _line(("n", node)).compile()
    assert graph.invoke({"log": []}) == {"log": ["from asyncio.run"]}


def test_graphs_invoked_and_streamed_inside_a_sync_node(
    tmp_path: Path,
) -> None:
    inner = _line(("inner", lambda s: {"log": ["inner"]})).compile()

    def outer(state: State) -> dict[str, Any]:
        invoked = inner.invoke({"log": []})
        streamed = list(inner.stream({"log": []}, stream_mode="updates"))
        return {"log": [*invoked["log"], f"{len(streamed)} chunk(s)"]}

    with SqliteSaver.from_conn_string(str(tmp_path / "log.db")) as saver:
        graph = _line(("outer", outer)).compile(checkpointer=saver)
        out = graph.invoke({"log": []}, {"configurable": {"thread_id": "t"}})
    assert out == {"log": ["inner", "1 chunk(s)"]}

    async def nodes_logged() -> list[str]:
        store = await open_log(tmp_path / "log.db")
        try:
            (run,) = await store.list_runs(thread_id="t")
            events = await store.read(run.run_id, types=[EventType.TASK_STARTED])
            return [e.node for e in events if e.node != START]
        finally:
            await store.aclose()

    # Both graphs ran inside the caller's run (their nodes are in the caller's log), the
    # streamed one yielding its chunk to the node, as in LangGraph.
    assert asyncio.run(nodes_logged()) == ["outer", "inner", "inner"]


def test_what_a_sync_node_streams_reaches_the_caller_while_the_node_runs() -> None:
    seen_first = threading.Event()

    def node(state: State) -> dict[str, Any]:
        writer = get_stream_writer()
        writer("first")
        # The caller sets this on receiving "first": were chunks held until the node ends,
        # this would wait out its timeout.
        got = seen_first.wait(timeout=10)
        writer("second")
        return {"log": ["got it" if got else "not streamed live"]}

    graph = _line(("n", node)).compile()
    chunks = []
    for mode, chunk in graph.stream({"log": []}, stream_mode=["custom", "values"]):
        chunks.append((mode, chunk))
        if chunk == "first":
            seen_first.set()
    assert chunks[-1] == ("values", {"log": ["got it"]})
    assert [c for m, c in chunks if m == "custom"] == ["first", "second"]


def test_chat_tokens_of_a_sync_node_stream_live() -> None:
    seen_token = threading.Event()
    reply = AIMessage(content="one two three")

    def node(state: State) -> dict[str, Any]:
        model = GenericFakeChatModel(messages=iter([reply]))
        message = model.invoke("go")
        return {"log": [message.content if seen_token.wait(timeout=10) else "late"]}

    graph = _line(("n", node)).compile()
    tokens = []
    for mode, chunk in graph.stream({"log": []}, stream_mode=["messages", "values"]):
        if mode == "messages":
            tokens.append(chunk[0].content)
            seen_token.set()
    assert "".join(tokens) == "one two three"


def test_sync_nodes_of_one_step_still_run_in_parallel() -> None:
    both = threading.Barrier(2, timeout=10)  # broken (an error) unless both wait at once

    def branch(name: str) -> Any:
        def node(state: State) -> dict[str, Any]:
            both.wait()
            return {"log": [name]}

        return node

    g = StateGraph(State)
    g.add_node("a", branch("a"))
    g.add_node("b", branch("b"))
    g.add_edge(START, "a")
    g.add_edge(START, "b")
    g.add_edge(["a", "b"], END)
    assert sorted(g.compile().invoke({"log": []})["log"]) == ["a", "b"]


def test_a_sync_nodes_error_and_interrupt_surface_as_from_a_thread(tmp_path: Path) -> None:
    from rewind.types import Command, interrupt

    def asks(state: State) -> dict[str, Any]:
        return {"log": [interrupt("yes?")]}

    def fails(state: State) -> dict[str, Any]:
        raise ValueError("boom")

    with SqliteSaver.from_conn_string(str(tmp_path / "log.db")) as saver:
        graph = _line(("asks", asks), ("fails", fails)).compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "t"}}
        first = graph.invoke({"log": []}, config)
        assert first["__interrupt__"][0].value == "yes?"
        with pytest.raises(ValueError, match="boom"):
            graph.invoke(Command(resume="yes"), config)
        assert graph.get_state(config).values == {"log": ["yes"]}


def test_a_lone_sync_node_runs_on_the_runs_own_thread_and_wider_steps_in_workers() -> None:
    # The hand-off to a worker thread and back costs more than a small node: a step of one
    # task does without it. Where each node ran is what this guards.
    ran: dict[str, str] = {}

    def node(name: str) -> Any:
        def run(state: State) -> dict[str, Any]:
            ran[name] = threading.current_thread().name
            return {"log": [name]}

        return run

    g = StateGraph(State)
    for name in ("alone", "left", "right"):
        g.add_node(name, node(name))
    g.add_edge(START, "alone")
    g.add_edge("alone", "left")
    g.add_edge("alone", "right")
    g.add_edge(["left", "right"], END)
    g.compile().invoke({"log": []})
    assert ran["alone"] == "rewind-sync-loop"
    assert ran["left"] != "rewind-sync-loop" and ran["right"] != "rewind-sync-loop"


def test_a_sync_node_may_invoke_graphs_from_threads_it_starts() -> None:
    # Threads a node starts do not carry its context: their invokes are runs of their own.
    # The node waits for them while it holds the loop's thread: they must not need it.
    from concurrent.futures import ThreadPoolExecutor

    inner = _line(("inner", lambda s: {"log": ["inner"]})).compile()

    def fan(state: State) -> dict[str, Any]:
        with ThreadPoolExecutor(max_workers=3) as pool:
            outs = list(pool.map(lambda _: inner.invoke({"log": []}), range(3)))
            streamed = list(pool.map(lambda _: list(inner.stream({"log": []})), range(2)))
        return {"log": [o["log"][0] for o in outs] + [f"{len(s)} chunk(s)" for s in streamed]}

    out = _line(("fan", fan)).compile().invoke({"log": []})
    assert out == {"log": ["inner", "inner", "inner", "1 chunk(s)", "1 chunk(s)"]}


def test_sync_callers_in_two_threads_run_their_nodes_at_the_same_time() -> None:
    # Two threads invoking graphs at once (a threaded web server): neither waits for the
    # other's node to end, whichever started first.
    both = threading.Barrier(2, timeout=10)
    results: dict[str, Any] = {}

    def meet(state: State) -> dict[str, Any]:
        both.wait()
        return {"log": ["met"]}

    graph = _line(("meet", meet)).compile()

    def call(name: str) -> None:
        try:
            results[name] = graph.invoke({"log": []})
        except Exception as exc:  # a broken barrier: the nodes ran one after the other
            results[name] = exc

    threads = [threading.Thread(target=call, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results == {"a": {"log": ["met"]}, "b": {"log": ["met"]}}
