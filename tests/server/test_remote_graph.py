"""RemoteGraph against rewind's own server, side by side with LangGraph's RemoteGraph.

Each call is made by both clients on threads of their own; the answers are compared with the
ids (threads, checkpoints, runs, messages) set aside.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypedDict

import pytest
from langchain_core.runnables import RunnableConfig
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


# --- a RemoteGraph node's chunks in the parent's stream ------------------------------------------

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HEX_ID = re.compile(r"\b[0-9a-f]{32}\b")
_TIMES = frozenset(("timestamp", "created_at", "ts", "__request_start_time_ms__"))


def _normal(value: Any) -> Any:
    """A chunk with its ids (task, run, checkpoint, thread, interrupt ids: also inside
    namespaces and metadata) and times set aside; lists and tuples kept apart, interrupts
    and errors compared by what they hold (LangGraph's classes or rewind's)."""
    if isinstance(value, str):
        return _HEX_ID.sub("<id>", _UUID.sub("<uuid>", value))
    if isinstance(value, dict):
        return {_normal(k): _normal(v) for k, v in value.items() if k not in _TIMES}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # the SDK's StreamPart
        return ("part", *(_normal(v) for v in value))
    if isinstance(value, tuple):
        return tuple(_normal(v) for v in value)
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if type(value).__name__ == "Interrupt":
        return ("Interrupt", _normal(value.value))
    if isinstance(value, BaseException):
        return (type(value).__name__, _normal(value.args))
    return value


def _parents(remote: Callable[..., Any], assistant: str, checkpointer: bool = False) -> Any:
    """The same parent graph (START -> remote), on rewind with rewind's RemoteGraph as its
    node and on LangGraph with LangGraph's, both calling this server's ``assistant``."""
    from langgraph.checkpoint.memory import InMemorySaver as LgSaver
    from langgraph.graph import START as LG_START
    from langgraph.graph import StateGraph as LgStateGraph

    from rewind.checkpoint.memory import InMemorySaver

    ours = StateGraph(Outer)
    ours.add_node("remote", remote(assistant))
    ours.add_edge(START, "remote")
    theirs = LgStateGraph(Outer)
    theirs.add_node("remote", remote(assistant, LgRemoteGraph))
    theirs.add_edge(LG_START, "remote")
    return (
        ours.compile(checkpointer=InMemorySaver() if checkpointer else None),
        theirs.compile(checkpointer=LgSaver() if checkpointer else None),
    )


ALL_MODES = ["updates", "values", "custom", "messages", "debug", "tasks", "checkpoints"]
HI = {"messages": [{"type": "human", "content": "hi"}]}


@pytest.mark.parametrize(
    ("assistant", "kwargs"),
    [
        ("agent", {"stream_mode": ALL_MODES, "subgraphs": True}),
        ("agent", {"stream_mode": ALL_MODES}),
        ("agent", {"stream_mode": "custom", "subgraphs": True}),
        ("agent", {"stream_mode": "messages", "subgraphs": True}),
        ("agent", {"stream_mode": ("values", "updates"), "subgraphs": True}),
        ("agent", {"stream_mode": ["values", "updates"], "subgraphs": True, "version": "v2"}),
        ("nested", {"stream_mode": ["updates", "messages", "custom"], "subgraphs": True}),
        ("echo", {"stream_mode": ["values", "messages"], "subgraphs": True}),
        ("boom", {"stream_mode": ["updates", "values", "tasks"], "subgraphs": True}),
    ],
    ids=repr,
)
def test_a_remote_nodes_chunks_reach_the_parents_stream_as_langgraphs(
    remote: Callable[..., Any], assistant: str, kwargs: dict[str, Any]
) -> None:
    ours, theirs = _parents(remote, assistant)

    def streamed(graph: Any) -> tuple[list[Any], Any]:
        chunks: list[Any] = []
        try:
            for chunk in graph.stream(HI, **kwargs):
                chunks.append(chunk)
        except Exception as exc:  # a failed remote run fails the parent's, after its chunks
            return chunks, (type(exc).__name__, exc.args)
        return chunks, None

    got, failed = streamed(ours)
    expected, their_failure = streamed(theirs)
    assert _normal(got) == _normal(expected)
    assert failed == their_failure
    forwarded = [c for c in got if _namespace_of(c)]
    assert bool(forwarded) == bool(kwargs.get("subgraphs"))


def _namespace_of(chunk: Any) -> tuple[str, ...]:
    if isinstance(chunk, dict):
        return tuple(chunk["ns"])
    if isinstance(chunk, tuple) and chunk and isinstance(chunk[0], tuple):
        return chunk[0]
    return ()


def test_with_a_checkpointer_and_async_as_langgraphs(remote: Callable[..., Any]) -> None:
    ours, theirs = _parents(remote, "agent", checkpointer=True)
    kwargs: dict[str, Any] = {"stream_mode": ["checkpoints", "updates"], "subgraphs": True}

    async def streamed(graph: Any) -> list[Any]:
        return [c async for c in graph.astream(HI, _thread(), **kwargs)]

    got = asyncio.run(streamed(ours))
    expected = asyncio.run(streamed(theirs))
    # The remote run is on the parent's thread (its id goes to the server): its checkpoints
    # come too. The parent's own show the RemoteGraph task's state as a subgraph's (a config
    # naming its namespace), as LangGraph's. (A task's interrupts: a list here, LangGraph's a
    # tuple.)
    assert _normal(_listed(got)) == _normal(_listed(expected))
    (state,) = {
        t["state"]["configurable"]["checkpoint_ns"].split(":")[0]
        for c in got
        if not _namespace_of(c) and c[1] == "checkpoints"
        for t in c[2]["tasks"]
        if t["state"]
    }
    assert state == "remote"
    forwarded = [c for c in got if _namespace_of(c)]
    assert _normal(forwarded) == _normal([c for c in expected if _namespace_of(c)])
    assert {"checkpoints", "updates"} == {c[1] for c in forwarded}


def _listed(chunks: list[Any]) -> list[Any]:
    """The chunks with their checkpoints' task interrupts as lists."""
    out = []
    for ns, mode, chunk in chunks:
        if mode == "checkpoints":
            tasks = [{**t, "interrupts": list(t.get("interrupts", []))} for t in chunk["tasks"]]
            chunk = {**chunk, "tasks": tasks}
        out.append((ns, mode, chunk))
    return out


def _caller_graphs(remote: Callable[..., Any]) -> tuple[Any, Any]:
    """A parent whose node calls the RemoteGraph itself (with its config), inside a subgraph
    node of the parent: on rewind and on LangGraph."""
    from langgraph.graph import START as LG_START
    from langgraph.graph import StateGraph as LgStateGraph

    def build(builder: Any, start: str, graph: Any) -> Any:
        def call(state: Outer, config: RunnableConfig) -> Any:
            return graph.invoke(state, config)

        inner = builder(Outer)
        inner.add_node("call", call)
        inner.add_edge(start, "call")
        outer = builder(Outer)
        outer.add_node("outer", inner.compile())
        outer.add_edge(start, "outer")
        return outer.compile()

    return (
        build(StateGraph, START, remote("nested")),
        build(LgStateGraph, LG_START, remote("nested", LgRemoteGraph)),
    )


def test_a_remote_graph_called_in_a_subgraphs_node_forwards_as_langgraphs(
    remote: Callable[..., Any],
) -> None:
    ours, theirs = _caller_graphs(remote)
    kwargs: dict[str, Any] = {"stream_mode": ["updates", "custom", "messages"], "subgraphs": True}
    got = list(ours.stream(HI, **kwargs))
    assert _normal(got) == _normal(list(theirs.stream(HI, **kwargs)))
    # outer:<id> | call:<id> | inner:<id> (the remote run's subgraph)
    assert [n.split(":")[0] for n in _namespace_of(got[0])] == ["outer", "call", "inner"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"stream_mode": [*ALL_MODES, "events"], "subgraphs": True},
        {"stream_mode": "messages", "subgraphs": True},
        {"stream_mode": ["values", "custom"], "subgraphs": True, "version": "v2"},
    ],
    ids=repr,
)
def test_the_parents_replay_shows_the_forwarded_chunks_as_live(
    remote: Callable[..., Any], tmp_path: Path, kwargs: dict[str, Any]
) -> None:
    from rewind import open_log
    from rewind.checkpoint.sqlite import SqliteSaver
    from rewind.log.codec import encode

    path = tmp_path / "runs.db"
    config = _thread()
    with SqliteSaver.from_conn_string(str(path)) as saver:
        builder = StateGraph(Outer)
        builder.add_node("remote", remote("agent"))
        builder.add_edge(START, "remote")
        live = list(builder.compile(checkpointer=saver).stream(HI, config, **kwargs))
    assert any(_namespace_of(c) for c in live)

    async def replayed() -> tuple[list[Any], list[Any], list[Any]]:
        from rewind import areplay

        store = await open_log(path)
        try:
            thread_id = config["configurable"]["thread_id"]
            (run,) = await store.list_runs(thread_id=thread_id)
            again = [c async for c in areplay(store, run.run_id, **kwargs)]
            alone = {**kwargs, "subgraphs": False}
            root = [c async for c in areplay(store, run.run_id, **alone)]
            return again, root, await store.read(run.run_id)
        finally:
            await store.aclose()

    again, root, events = asyncio.run(replayed())
    assert [encode(c) for c in again] == [encode(c) for c in live]
    # Without subgraphs, the root's chunks only: the namespaced ones (forwarded) left out. (The
    # events mode's chunks of the graph's own stream are shaped by the flag: not compared.)
    if kwargs.get("version") != "v2":
        assert [encode(c) for c in root if c[0] != "events"] == [
            encode(c[1:] if isinstance(kwargs["stream_mode"], list) else c[1])
            for c in live
            if not _namespace_of(c) and c[1] != "events"
        ]
    forwarded = [e for e in events if e.type == "remote.chunk"]
    assert forwarded and {(e.node, e.ns) for e in forwarded} == {("remote", None)}
    _spans_and_ui_take(events)


def _spans_and_ui_take(events: list[Any]) -> None:
    """The run's spans are those of its other events (a forwarded chunk opens none), and the
    UI's event list sums each one up by its mode and chunk."""
    from rewind.telemetry.spans import build_spans
    from rewind.ui.views import event_row, timeline

    others = [e for e in events if e.type != "remote.chunk"]
    assert build_spans(events) == build_spans(others)
    assert [s.name for s in build_spans(events)][-1].startswith("invoke_workflow")
    rows = [event_row(e) for e in events if e.type == "remote.chunk"]
    assert all(r["summary"].split(" ")[0] in ALL_MODES for r in rows)
    assert timeline(events) == timeline(others)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"stream_mode": ["values", "messages", "custom", "events"], "subgraphs": True},
        {"stream_mode": ["updates", "messages", "custom"]},
        {},
    ],
    ids=repr,
)
def test_a_remote_node_asks_the_server_for_what_langgraphs_asks(
    remote: Callable[..., Any], kwargs: dict[str, Any]
) -> None:
    ours, theirs = _parents(remote, "echo")
    asked = []
    for graph in (ours, theirs):
        config = _thread()
        if graph is theirs and "events" in kwargs.get("stream_mode", ()):
            # (not a stream mode of LangGraph's: without it, what it asks is the same)
            kwargs = {**kwargs, "stream_mode": kwargs["stream_mode"][:-1]}
        list(graph.stream(HI, config, **kwargs))
        (run,) = remote("echo").sync_client.runs.list(config["configurable"]["thread_id"])
        asked.append(sorted(run["kwargs"]["stream_mode"]))
    assert asked[0] == asked[1]


# --- distributed tracing -------------------------------------------------------------------------

_TRACING = ("langsmith-trace", "baggage", "traceparent", "tracestate")


def _sent_headers(graph: Any) -> list[dict[str, str]]:
    """The tracing headers of each run the graph's sync client starts (filled as it runs)."""
    sent: list[dict[str, str]] = []

    def seen(request: Any) -> None:
        if request.url.path.endswith("/runs/stream"):
            sent.append({k: v for k, v in request.headers.items() if k in _TRACING})

    graph.sync_client.http.client.event_hooks["request"].append(seen)
    return sent


def test_distributed_tracing_sends_langsmiths_headers_as_langgraphs(
    remote: Callable[..., Any],
) -> None:
    import langsmith
    from langsmith.run_trees import RunTree

    caller = RunTree(name="caller", run_type="chain")
    sent = []
    for cls in (RemoteGraph, LgRemoteGraph):
        graph = remote("echo", cls, distributed_tracing=True)
        sent.append(_sent_headers(graph))
        with langsmith.tracing_context(parent=caller):
            graph.invoke(HI, headers={"baggage": "team=a"})
        graph.invoke(HI)  # no LangSmith run: none
    assert sent[0] == sent[1]
    assert sent[0][0]["langsmith-trace"] == caller.to_headers()["langsmith-trace"]
    assert sent[0][0]["baggage"].startswith("team=a,") and sent[0][1] == {}
    untraced = remote("echo")
    assert untraced.distributed_tracing is False
    headers = _sent_headers(untraced)
    with langsmith.tracing_context(parent=caller):
        untraced.invoke(HI)
    assert headers == [{}]


def test_distributed_tracing_puts_the_remote_run_in_the_nodes_trace(
    remote: Callable[..., Any], server: Server, tmp_path: Path
) -> None:
    """With ``distributed_tracing``, a RemoteGraph node sends the node's span as W3C
    ``traceparent``; rewind's server records it, so the remote run's spans are children of the
    node's span, in the parent run's trace."""
    from rewind import open_log
    from rewind.checkpoint.sqlite import SqliteSaver
    from rewind.telemetry.spans import build_spans

    async def spans_of(path: Path, thread_id: str) -> list[Any]:
        store = await open_log(path)
        try:
            (run,) = await store.list_runs(thread_id=thread_id)
            return build_spans(await store.read(run.run_id))
        finally:
            await store.aclose()

    path = tmp_path / "runs.db"
    config = _thread()
    thread_id = config["configurable"]["thread_id"]
    with SqliteSaver.from_conn_string(str(path)) as saver:
        builder = StateGraph(Outer)
        builder.add_node("remote", remote("echo", distributed_tracing=True))
        builder.add_edge(START, "remote")
        builder.compile(checkpointer=saver).invoke(HI, config)
    (node,) = [s for s in asyncio.run(spans_of(path, thread_id)) if s.name == "remote"]
    # The remote run went to the parent's thread on the server.
    remote_spans = asyncio.run(spans_of(server.db, thread_id))
    root = next(s for s in remote_spans if s.name.startswith("invoke_workflow"))
    assert (root.trace_id, root.parent_id) == (node.trace_id, node.span_id)
    assert {s.trace_id for s in remote_spans} == {node.trace_id}


@pytest.mark.filterwarnings("ignore::langchain_core._api.LangChainBetaWarning")
def test_a_v3_run_stream_of_the_parent_as_langgraphs_and_replayed(
    remote: Callable[..., Any], tmp_path: Path
) -> None:
    """``stream_events(version="v3")`` of a parent streams with subgraphs: the remote node's
    chunks come as protocol events in its namespace, as LangGraph's do; the parent's run stream
    rebuilt from its log (``replay_events``) is the one its live client read (but for the
    events' timestamps: live, when read)."""
    from rewind import open_log
    from rewind.checkpoint.sqlite import SqliteSaver
    from rewind.stream import areplay_events

    def plain(events: Any) -> list[Any]:
        return [{k: v for k, v in e.items() if k not in ("seq", "event_id")} for e in events]

    ours, theirs = _parents(remote, "agent")
    with ours.stream_events(HI, version="v3") as run:
        got = plain(run)
    with theirs.stream_events(HI, version="v3") as run:
        expected = plain(run)
    assert _normal(got) == _normal(expected)
    assert any(e["params"]["namespace"] for e in got)

    path = tmp_path / "runs.db"
    config = _thread()
    with SqliteSaver.from_conn_string(str(path)) as saver:
        builder = StateGraph(Outer)
        builder.add_node("remote", remote("agent"))
        builder.add_edge(START, "remote")
        with builder.compile(checkpointer=saver).stream_events(HI, config, version="v3") as run:
            live = list(run)
    assert any(e["params"]["namespace"] for e in live)

    async def replayed() -> list[Any]:
        store = await open_log(path)
        try:
            (stored,) = await store.list_runs(thread_id=config["configurable"]["thread_id"])
            async with await areplay_events(store, stored.run_id) as again:
                return [e async for e in again]
        finally:
            await store.aclose()

    def untimed(events: list[Any]) -> list[Any]:  # (live: when read; replayed: when made)
        return [{**e, "params": {**e["params"], "timestamp": None}} for e in events]

    assert untimed(asyncio.run(replayed())) == untimed(live)


# --- stream_events(version="v3") ------------------------------------------------------------------


def _protocol(events: Any) -> list[Any]:
    """Raw protocol events, their ids, sequence numbers and times set aside."""
    out = []
    for event in events:
        plain = {k: v for k, v in event.items() if k not in ("seq", "event_id")}
        plain["params"] = {k: v for k, v in plain["params"].items() if k != "timestamp"}
        out.append(_normal(plain))
    return out


def test_stream_events_v3_as_langgraphs(pair: tuple[RemoteGraph, LgRemoteGraph]) -> None:
    got = []
    for graph in (remote_echo := [g.copy({"assistant_id": "echo"}) for g in pair]):
        with graph.stream_events(HI, _thread(), version="v3") as run:
            got.append((_protocol(run), _normal(run.output), run.interrupted, run.interrupts))
    assert got[0] == got[1]
    assert [e["method"] for e in got[0][0]] == ["lifecycle", "values", "values", "lifecycle"]
    assert [m["content"] for m in got[0][1]["messages"]] == ["hi", "echo!"]
    for graph in remote_echo:
        graph.sync_client.close()


def test_astream_events_v3_interrupted_and_resumed_as_langgraphs(
    pair: tuple[RemoteGraph, LgRemoteGraph],
) -> None:
    async def main(graph: Any, command: Any) -> list[Any]:
        config, seen = _thread(), []
        async with await graph.astream_events(HI, config, version="v3") as run:
            assert [v async for v in run.values]  # drained up to the interrupt
            seen += [await run.interrupted(), len(await run.interrupts())]
        async with await graph.astream_events(command, config, version="v3") as run:
            seen += [_normal(await run.output()), await run.interrupted()]
        await graph.client.aclose()
        return seen

    ours, theirs = pair
    got = asyncio.run(main(ours, Command(resume="yes")))
    assert got == asyncio.run(main(theirs, LgCommand(resume="yes")))
    assert got[:2] == [True, 1] and got[2]["answer"] == "approved='yes'" and got[3] is False


def test_stream_events_refuses_what_langgraphs_refuses(
    pair: tuple[RemoteGraph, LgRemoteGraph],
) -> None:
    calls: list[Callable[[Any], Any]] = [
        lambda g: g.stream_events(HI, version="v3", control=object()),
        lambda g: g.stream_events(HI, version="v3", interrupt_before=["agent"]),
        lambda g: g.stream_events(HI, version="v3", context={"x": 1}),
        lambda g: asyncio.run(g.astream_events(HI, version="v2")),
        lambda g: g.stream_events(HI, version="v2"),
    ]
    for call in calls:
        with pytest.raises(NotImplementedError) as ours:
            call(pair[0])
        with pytest.raises(NotImplementedError) as theirs:
            call(pair[1])
        assert str(ours.value) == str(theirs.value)
    with (
        pytest.raises(NotImplementedError, match="resume"),
        pair[0].stream_events(Command(goto="agent"), _thread(), version="v3"),
    ):
        pass


@pytest.mark.parametrize("stream_mode", [None, "custom", ["updates", "messages"]], ids=repr)
def test_astream_events_with_subgraphs_shows_the_forwarded_chunks_as_langgraphs(
    remote: Callable[..., Any], tmp_path: Path, stream_mode: Any
) -> None:
    """``astream_events(subgraphs=True)`` streams the graph with subgraphs: a RemoteGraph node
    forwards the remote run's chunks of its stream modes, shown in the graph's own
    ``on_chain_stream`` events as LangGraph's show them; a replay of the parent's events
    mode shows them as live."""
    from rewind import open_log
    from rewind.log.codec import encode
    from rewind.replay import areplay

    kwargs: dict[str, Any] = {"version": "v2", "subgraphs": True}
    if stream_mode is not None:
        kwargs["stream_mode"] = stream_mode

    def graph_stream(events: list[Any]) -> list[Any]:
        return [
            e["data"]["chunk"]
            for e in events
            if e["event"] == "on_chain_stream" and e["name"] == "LangGraph"
        ]

    async def streamed(graph: Any, config: Any = None) -> list[Any]:
        return [e async for e in graph.astream_events(HI, config, **kwargs)]

    ours, theirs = _parents(remote, "agent")
    got = graph_stream(asyncio.run(streamed(ours)))
    assert _normal(got) == _normal(graph_stream(asyncio.run(streamed(theirs))))
    assert any(c[0] for c in got)

    path = tmp_path / "runs.db"
    config = _thread()

    async def live_and_replayed() -> tuple[list[Any], list[Any]]:
        from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
            builder = StateGraph(Outer)
            builder.add_node("remote", remote("agent"))
            builder.add_edge(START, "remote")
            live = await streamed(builder.compile(checkpointer=saver), config)
        store = await open_log(path)
        try:
            (run,) = await store.list_runs(thread_id=config["configurable"]["thread_id"])
            again = areplay(
                store,
                run.run_id,
                stream_mode="events",
                events_stream_mode=stream_mode or "updates",
                subgraphs=True,
            )
            return live, [e async for _, e in again]  # (with subgraphs: (namespace, event))
        finally:
            await store.aclose()

    live, again = asyncio.run(live_and_replayed())
    assert [encode(e) for e in again] == [encode(e) for e in live]
    assert any(c[0] for c in graph_stream(live))


def test_a_resumed_parent_forwards_the_resumed_remote_run_as_langgraphs(
    remote: Callable[..., Any], tmp_path: Path
) -> None:
    """A parent stopped by the remote run's interrupt, resumed: its node runs again (a run on
    the parent's thread on the server), and that run's chunks reach the parent's stream as
    LangGraph's do; both of the parent's runs replay as they streamed."""
    from rewind import open_log
    from rewind.checkpoint.sqlite import SqliteSaver
    from rewind.log.codec import encode
    from rewind.replay import areplay

    kwargs: dict[str, Any] = {"stream_mode": ["updates", "values", "custom"], "subgraphs": True}
    ours, theirs = _parents(remote, "agent", checkpointer=True)
    got, expected = [], []
    for graph, out, resume in ((ours, got, Command), (theirs, expected, LgCommand)):
        config = _thread()
        out.append(list(graph.stream(HI, config, **kwargs)))
        out.append(list(graph.stream(resume(resume="yes"), config, **kwargs)))
    assert _normal(got) == _normal(expected)
    assert any(c[0] for c in got[1])

    path = tmp_path / "runs.db"
    config = _thread()
    with SqliteSaver.from_conn_string(str(path)) as saver:
        builder = StateGraph(Outer)
        builder.add_node("remote", remote("agent"))
        builder.add_edge(START, "remote")
        graph = builder.compile(checkpointer=saver)
        live = [list(graph.stream(HI, config, **kwargs))]
        live.append(list(graph.stream(Command(resume="yes"), config, **kwargs)))

    async def replayed() -> list[list[Any]]:
        store = await open_log(path)
        try:
            thread_id = config["configurable"]["thread_id"]
            runs = await store.list_runs(thread_id=thread_id, oldest_first=True)
            return [[c async for c in areplay(store, r.run_id, **kwargs)] for r in runs]
        finally:
            await store.aclose()

    again = asyncio.run(replayed())
    assert [[encode(c) for c in run] for run in again] == [[encode(c) for c in run] for run in live]


def test_the_parents_state_shows_the_remote_task_as_a_subgraph_as_langgraphs(
    remote: Callable[..., Any],
) -> None:
    """LangGraph counts a RemoteGraph node as a subgraph: the parent's snapshots show its
    task's state as a config naming the task's namespace, and ``get_state(subgraphs=True)``
    the remote thread's state, asked of the server."""

    def states(graph: Any) -> list[Any]:
        config = _thread()
        graph.invoke(HI, config)
        out = []
        for subgraphs in (False, True):
            (task,) = graph.get_state(config, subgraphs=subgraphs).tasks
            out.append((task.name, _snapshot(task.state) if subgraphs else task.state))
        out.append([[(t.name, t.state) for t in s.tasks] for s in graph.get_state_history(config)])
        return out

    ours, theirs = _parents(remote, "agent", checkpointer=True)
    got = states(ours)
    assert _normal(got) == _normal(states(theirs))
    assert got[0][1]["configurable"]["checkpoint_ns"].startswith("remote:")
    assert got[1][1]["values"]["steps"] == ["agent"] and got[1][1]["next"] == ("ask_human",)
