"""A graph a node streams itself: the parent's stream (which leaves out what went to the node's
own stream) replays from the log as it streamed live, in every mode and as events."""

from __future__ import annotations

import asyncio
import operator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from rewind import open_log
from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.config import get_stream_writer
from rewind.graph import END, START, StateGraph
from rewind.log.codec import encode
from rewind.types import Command, interrupt

ALL = ["values", "updates", "custom", "tasks", "checkpoints", "debug"]


class State(TypedDict, total=False):
    topic: str
    seen: Annotated[list[str], operator.add]


def _research() -> Any:
    def search(state: State) -> dict[str, Any]:
        get_stream_writer()({"searching": state["topic"]})
        return {"seen": ["searched"]}

    def get(state: State) -> dict[str, Any]:
        get_stream_writer()({"fetching": True})
        return {"seen": ["fetched"]}

    fetch = StateGraph(State)
    fetch.add_node("get", get)
    fetch.add_edge(START, "get")
    fetch.add_edge("get", END)
    g = StateGraph(State)
    g.add_node("search", search)
    g.add_node("fetch", fetch.compile())
    g.add_edge(START, "search")
    g.add_edge("search", "fetch")
    g.add_edge("fetch", END)
    return g.compile()


def _build(checkpointer: Any) -> Any:
    research = _research()

    async def own_custom(state: State) -> dict[str, Any]:
        chunks = [c async for c in research.astream({"topic": "a"}, stream_mode="custom")]
        return {"seen": [repr(chunks)]}

    async def own_subgraphs(state: State) -> dict[str, Any]:
        stream = research.astream({"topic": "b"}, stream_mode=["values"], subgraphs=True)
        return {"seen": [repr([c async for c in stream])]}

    g = StateGraph(State)
    g.add_node("own_custom", own_custom)
    g.add_node("own_subgraphs", own_subgraphs)
    g.add_edge(START, "own_custom")
    g.add_edge("own_custom", "own_subgraphs")
    g.add_edge("own_subgraphs", END)
    return g.compile(checkpointer=checkpointer)


def _text(chunks: list[Any]) -> list[str]:
    return [encode(c) for c in chunks]


def _build_twice(checkpointer: Any) -> Any:
    """A node that streams a graph, then invokes it: the second runs under ``|1``."""
    research = _research()

    def answer(state: State) -> dict[str, Any]:
        model = GenericFakeChatModel(messages=iter([AIMessage("an answer")]))
        return {"seen": [model.invoke(state["topic"]).content]}

    answering = StateGraph(State)
    answering.add_node("answer", answer)
    answering.add_edge(START, "answer")
    answered = answering.compile()

    async def twice(state: State) -> dict[str, Any]:
        stream = research.astream({"topic": "a"}, stream_mode=["custom"], subgraphs=True)
        chunks = [c async for c in stream]
        return {"seen": [repr(chunks), *(await answered.ainvoke({"topic": "b"}))["seen"]]}

    g = StateGraph(State)
    g.add_node("twice", twice)
    g.add_edge(START, "twice")
    return g.compile(checkpointer=checkpointer)


async def _live_and_replayed(
    path: Path,
    live_call: str,
    kwargs: dict[str, Any],
    replay_kwargs: dict[str, Any],
    build: Any = _build,
) -> tuple[list[Any], list[Any]]:
    from rewind import areplay

    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        graph = build(saver)
        config = {"configurable": {"thread_id": "t"}}
        made = getattr(graph, live_call)({"topic": "x", "seen": []}, config, **kwargs)
        live = [c async for c in made]
    store = await open_log(path)
    try:
        (run,) = await store.list_runs(thread_id="t")
        replayed = [c async for c in areplay(store, run.run_id, **replay_kwargs)]
    finally:
        await store.aclose()
    return live, replayed


@pytest.mark.parametrize("subgraphs", [True, False])
def test_the_parent_stream_replays_as_it_streamed(tmp_path: Path, subgraphs: bool) -> None:
    kwargs = {"stream_mode": ALL, "subgraphs": subgraphs}
    live, replayed = asyncio.run(
        _live_and_replayed(tmp_path / "runs.db", "astream", kwargs, kwargs)
    )
    if subgraphs:
        # A streamed graph's custom writes went to the node's own stream when it had custom;
        # its subgraph's chunks, when it had subgraphs=True (but custom writes, which go
        # through the writers, as LangGraph's).
        custom = [c[0][0].split(":")[0] for c in live if c[1] == "custom"]
        assert custom == ["own_subgraphs", "own_subgraphs"]
        deeper = [c for c in live if len(c[0]) > 1 and c[1] != "custom"]
        assert deeper, "the subgraph streamed without subgraphs=True streams to the run's"
        assert [c for c in deeper if c[0][0].startswith("own_subgraphs")] == []
    assert _text(replayed) == _text(live)


def test_astream_events_with_subgraphs_replays_as_it_streamed(tmp_path: Path) -> None:
    kwargs = {"version": "v2", "subgraphs": True, "stream_mode": ["updates", "values"]}
    replay_kwargs = {
        "stream_mode": "events",
        "events_stream_mode": ["updates", "values"],
        "subgraphs": True,
    }
    live, replayed = asyncio.run(
        _live_and_replayed(tmp_path / "runs.db", "astream_events", kwargs, replay_kwargs)
    )
    chunks = [e["data"]["chunk"] for e in live if e["event"] == "on_chain_stream"]
    assert any(c[0] for c in chunks if isinstance(c, tuple) and len(c) == 3), "subgraph chunks"
    # (a replay with subgraphs=True gives each event with its namespace: the root's)
    assert {ns for ns, _ in replayed} == {()}
    assert _text([event for _, event in replayed]) == _text(live)


def test_a_node_s_second_graph_replays_as_it_streamed(tmp_path: Path) -> None:
    """The graph a node runs after its first is under ``node:<task id>|1``; its chunks (its
    chat model's tokens too, with the thread's id and the node's namespace as checkpoint_ns)
    reach the run's stream, as the first one's own stream took its custom writes."""
    kwargs = {"stream_mode": [*ALL, "messages"], "subgraphs": True}
    live, replayed = asyncio.run(
        _live_and_replayed(tmp_path / "runs.db", "astream", kwargs, kwargs, _build_twice)
    )
    second = {c[0] for c in live if len(c[0]) == 2}
    (node,) = {ns[0] for ns in second}
    assert second == {(node, "1")}
    assert [c for c in live if c[1] == "custom"] == []
    tokens = [c[2] for c in live if c[1] == "messages"]
    assert [token.content for token, _ in tokens] == ["an", " ", "answer"]
    metadata = tokens[0][1]
    assert (metadata["thread_id"], metadata["checkpoint_ns"]) == ("t", node)
    assert metadata["langgraph_checkpoint_ns"].startswith(f"{node}|1|answer:")
    assert _text(replayed) == _text(live)


def test_a_resumed_node_s_finished_graph_replays_as_it_streamed(tmp_path: Path) -> None:
    """Resumed, a node runs again: the graph it called before it interrupted, done, is found
    at its end (its values and checkpoint stream again, its nodes do not run), live and
    replayed alike."""
    research = _research()

    async def ask(state: State) -> dict[str, Any]:
        done = await research.ainvoke({"topic": "a"})
        return {"seen": [*done["seen"], interrupt("ok?")]}

    async def go() -> tuple[list[Any], list[Any]]:
        from rewind import areplay

        path = tmp_path / "runs.db"
        kwargs = {"stream_mode": ALL, "subgraphs": True}
        async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
            g = StateGraph(State)
            g.add_node("ask", ask)
            g.add_edge(START, "ask")
            graph = g.compile(checkpointer=saver)
            config = {"configurable": {"thread_id": "t"}}
            await graph.ainvoke({"topic": "x", "seen": []}, config)
            live = [c async for c in graph.astream(Command(resume="yes"), config, **kwargs)]
        store = await open_log(path)
        try:
            runs = await store.list_runs(thread_id="t", oldest_first=True)
            replayed = [c async for c in areplay(store, runs[-1].run_id, **kwargs)]
        finally:
            await store.aclose()
        return live, replayed

    live, replayed = asyncio.run(go())
    inner = [c[1] for c in live if c[0] and c[0][0].startswith("ask:")]
    assert inner == ["values", "checkpoints", "debug"]
    assert _text(replayed) == _text(live)
