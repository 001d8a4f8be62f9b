"""RemoteGraph against rewind's own server, side by side with LangGraph's RemoteGraph.

Each call is made by both clients on threads of their own; the answers are compared with the
ids (threads, checkpoints, runs, messages) set aside.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypedDict

import pytest
from langgraph.pregel.remote import RemoteException as LgRemoteException
from langgraph.pregel.remote import RemoteGraph as LgRemoteGraph
from langgraph.types import Command as LgCommand

from rewind.graph import START, StateGraph
from rewind.remote import RemoteException, RemoteGraph
from rewind.types import Command, StateSnapshot
from tests.server.conftest import Server


def _thread() -> dict[str, Any]:
    return {"configurable": {"thread_id": str(uuid.uuid4())}}


def _plain(value: Any) -> Any:
    """A value with its ids and times set aside (they differ between two runs)."""
    if isinstance(value, dict):
        return {
            k: _plain(v)
            for k, v in value.items()
            if k not in ("id", "thread_id", "checkpoint_id", "run_id", "created_at", "ts")
        }
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "model_dump"):
        return _plain(value.model_dump())
    if hasattr(value, "_asdict"):
        return _plain(value._asdict())
    return value


def _snapshot(snapshot: Any) -> dict[str, Any]:
    return {
        "values": _plain(snapshot.values),
        "next": snapshot.next,
        "metadata": {
            k: v
            for k, v in (snapshot.metadata or {}).items()
            if k in ("source", "step", "graph_id")
        },
        "tasks": [(t.name, [i.value for i in t.interrupts]) for t in snapshot.tasks],
        "interrupts": [i.value for i in snapshot.interrupts],
        "has_parent": snapshot.parent_config is not None,
    }


@pytest.fixture
def remote(server: Server) -> Iterator[Callable[..., Any]]:
    """Makes RemoteGraphs (rewind's, or LangGraph's with ``cls``) on the server; closes their
    sync clients after the test."""
    made: list[Any] = []

    def make(assistant_id: str, cls: Any = RemoteGraph, **kwargs: Any) -> Any:
        made.append(cls(assistant_id, url=server.url, **kwargs))
        return made[-1]

    yield make
    for graph in made:
        graph.sync_client.close()


@pytest.fixture
def pair(remote: Callable[..., Any]) -> tuple[RemoteGraph, LgRemoteGraph]:
    return remote("agent"), remote("agent", LgRemoteGraph)


def test_invoke_interrupt_resume_and_state_as_langgraphs(
    pair: tuple[RemoteGraph, LgRemoteGraph],
) -> None:
    ours, theirs = pair
    mine, other = _thread(), _thread()
    first = ours.invoke({"messages": [("user", "hi")]}, mine)
    assert _plain(first) == _plain(theirs.invoke({"messages": [("user", "hi")]}, other))
    assert first["steps"] == ["agent"] and "__interrupt__" in first
    state = ours.get_state(mine)
    assert isinstance(state, StateSnapshot) and state.next == ("ask_human",)
    assert _snapshot(state) == _snapshot(theirs.get_state(other))
    done = ours.invoke(Command(resume="yes"), mine)
    assert done["answer"] == "approved='yes'"
    assert _plain(done) == _plain(theirs.invoke(LgCommand(resume="yes"), other))
    history = list(ours.get_state_history(mine))
    assert [_snapshot(s) for s in history] == [
        _snapshot(s) for s in theirs.get_state_history(other)
    ]
    assert [_snapshot(s) for s in ours.get_state_history(mine, limit=2)] == [
        _snapshot(s) for s in history[:2]
    ]
    past = ours.get_state(history[2].config)
    assert (
        past.config["configurable"]["checkpoint_id"]
        == (history[2].config["configurable"]["checkpoint_id"])
    )


def test_update_state_as_langgraphs(pair: tuple[RemoteGraph, LgRemoteGraph]) -> None:
    ours, theirs = pair
    mine, other = _thread(), _thread()
    ours.invoke({"messages": [("user", "hi")]}, mine)
    theirs.invoke({"messages": [("user", "hi")]}, other)
    config = ours.update_state(mine, {"steps": ["by hand"]}, as_node="ask_human")
    their_config = theirs.update_state(other, {"steps": ["by hand"]}, as_node="ask_human")
    assert set(config["configurable"]) == set(their_config["configurable"])
    assert config["configurable"]["thread_id"] == mine["configurable"]["thread_id"]
    assert _snapshot(ours.get_state(mine)) == _snapshot(theirs.get_state(other))
    assert ours.get_state(mine).values["steps"][-1] == "by hand"


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"stream_mode": "values"},
        {"stream_mode": ["updates", "custom"]},
        {"stream_mode": "updates", "subgraphs": True},
        {"stream_mode": ["values", "messages"], "subgraphs": True},
        {"stream_mode": "updates", "version": "v2"},
    ],
    ids=repr,
)
def test_stream_chunks_as_langgraphs(
    pair: tuple[RemoteGraph, LgRemoteGraph], kwargs: dict[str, Any]
) -> None:
    ours, theirs = pair

    def shaped(chunks: list[Any]) -> Any:
        # A subgraph namespace holds its task id: keep the node's name. A message's metadata
        # holds the run's ids: keep the message.
        out = []
        for chunk in chunks:
            if isinstance(chunk, tuple) and chunk and isinstance(chunk[0], tuple):
                chunk = (tuple(n.split(":")[0] for n in chunk[0]), *chunk[1:])
                if chunk[1] == "messages":
                    chunk = (chunk[0], chunk[1], chunk[2][0])
            out.append(chunk)
        return _plain(out)

    got = list(ours.stream({"messages": [("user", "hi")]}, _thread(), **kwargs))
    expected = list(theirs.stream({"messages": [("user", "hi")]}, _thread(), **kwargs))
    assert shaped(got) == shaped(expected) and got


def test_a_failed_run_raises_remote_exception(remote: Callable[..., Any]) -> None:
    with pytest.raises(RemoteException) as ours:
        remote("boom").invoke({"x": 1})
    with pytest.raises(LgRemoteException) as theirs:
        remote("boom", LgRemoteGraph).invoke({"x": 1})
    assert ours.value.args == theirs.value.args
    assert "kaboom" in str(ours.value)


class Outer(TypedDict, total=False):
    messages: list[Any]
    steps: list[str]
    answer: str


def test_a_remote_graph_as_a_node(remote: Callable[..., Any]) -> None:
    echo = remote("echo")
    builder = StateGraph(Outer)
    builder.add_node("remote", echo)
    builder.add_edge(START, "remote")
    out = builder.compile().invoke({"messages": [{"type": "human", "content": "hi"}]})
    assert [m["content"] for m in out["messages"]] == ["hi", "echo!"]


def test_a_remote_interrupt_stops_the_parent(remote: Callable[..., Any]) -> None:
    from rewind.checkpoint.memory import InMemorySaver

    builder = StateGraph(Outer)
    builder.add_node("remote", remote("agent"))
    builder.add_edge(START, "remote")
    graph = builder.compile(checkpointer=InMemorySaver())
    config = _thread()
    out = graph.invoke({"messages": [{"type": "human", "content": "hi"}]}, config)
    assert [i.value for i in out["__interrupt__"]] == [{"question": "approve?"}]
    assert graph.get_state(config).next == ("remote",)


def test_the_async_api(server: Server) -> None:
    async def main() -> tuple[Any, list[Any], Any]:
        ours = RemoteGraph("agent", url=server.url)
        config = _thread()
        first = await ours.ainvoke({"messages": [("user", "hi")]}, config)
        state = await ours.aget_state(config)
        await ours.aupdate_state(config, {"steps": ["async"]})
        chunks = [c async for c in ours.astream(Command(resume="ok"), config)]
        history = [s async for s in ours.aget_state_history(config)]
        await ours.client.aclose()
        return first, chunks, (state, history)

    first, chunks, (state, history) = asyncio.run(main())
    assert first["steps"] == ["agent"] and state.next == ("ask_human",)
    assert [list(c) for c in chunks] == [["ask_human"], ["final"]]
    assert history[0].values["answer"] == "approved='ok'"


def test_clients_are_required_and_the_graph_drawn(remote: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match="Sync client is not initialized"):
        RemoteGraph("agent").invoke({})
    drawn = remote("agent").get_graph()
    theirs = remote("agent", LgRemoteGraph).get_graph()
    assert sorted(drawn.nodes) == sorted(theirs.nodes)
    assert len(drawn.edges) == len(theirs.edges)
    named = remote("agent", name="remote").with_config({"tags": ["t"]})
    expected = remote("agent", LgRemoteGraph, name="remote").with_config({"tags": ["t"]})
    assert named.name == expected.name == "remote" and named.config == expected.config
    named.sync_client.close()
    expected.sync_client.close()


def test_langgraphs_import_path_gives_the_same_classes() -> None:
    from rewind.pregel.remote import RemoteException as Exc
    from rewind.pregel.remote import RemoteGraph as Graph

    assert (Graph, Exc) == (RemoteGraph, RemoteException)
