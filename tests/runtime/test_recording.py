"""What a run leaves in the log: chat-model calls, tokens, tools, custom writes, forks,
redaction; and the sync API called from code that already runs an event loop."""

from __future__ import annotations

import asyncio
import itertools
import logging
import operator
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables.config import ContextThreadPoolExecutor
from langchain_core.tools import tool

from rewind import EventType, open_log
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.config import get_stream_writer
from rewind.events import StoredEvent
from rewind.graph import END, START, StateGraph
from rewind.graph.message import add_messages
from rewind.prebuilt import ToolNode
from rewind.replay import areplay


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    reply: str


@tool
def shout(text: str) -> str:
    """Upper-case a text."""
    return text.upper()


@pytest.fixture
def saver(tmp_path: Path) -> Iterator[SqliteSaver]:
    with SqliteSaver.from_conn_string(str(tmp_path / "runs.db")) as saver:
        yield saver


def chat_graph(saver: SqliteSaver) -> Any:
    model = GenericFakeChatModel(messages=iter([AIMessage("hello there"), AIMessage("again")]))

    def talk(state: State) -> dict[str, Any]:
        streamed = "".join(str(chunk.content) for chunk in model.stream("hi"))
        whole = model.invoke("hi again")
        get_stream_writer()({"progress": 1})
        return {"reply": streamed + "|" + str(whole.content), "log": [shout.invoke("ok")]}

    g = StateGraph(State)
    g.add_node("talk", talk)
    g.add_edge(START, "talk")
    g.add_edge("talk", END)
    return g.compile(checkpointer=saver)


async def events_of(path: Path) -> list[StoredEvent]:
    store = await open_log(path)
    try:
        return await store.read_all()
    finally:
        await store.aclose()


def test_chat_models_tokens_tools_and_custom_writes_reach_the_log(
    saver: SqliteSaver, tmp_path: Path
) -> None:
    graph = chat_graph(saver)
    out = graph.invoke({"log": []}, {"configurable": {"thread_id": "t"}})
    assert out == {"log": ["OK"], "reply": "hello there|again"}
    events = asyncio.run(events_of(tmp_path / "runs.db"))
    kinds = [e.type for e in events if e.node == "talk"]
    assert kinds.count(EventType.CHAT_STARTED) == 2
    assert kinds.count(EventType.CHAT_ENDED) == 2
    tokens = [e.payload["chunk"].content for e in events if e.type == EventType.CHAT_TOKEN]
    assert "".join(tokens) == "hello there"  # the streamed call, token by token
    tool_events = [e for e in events if e.type in (EventType.TOOL_STARTED, EventType.TOOL_ENDED)]
    assert [e.payload.get("name") for e in tool_events[:1]] == ["shout"]
    assert tool_events[-1].payload["output"] == "OK"
    custom = [e.payload for e in events if e.type == EventType.CUSTOM]
    assert custom == [{"progress": 1}]
    started = events[0].payload
    assert started["graph"] == "LangGraph"
    assert len(started["graph_digest"]) == 64
    assert started["process"]["pid"] > 0


def test_model_calls_streaming_in_turns_keep_their_own_tokens(
    saver: SqliteSaver, tmp_path: Path
) -> None:
    # A recorder keeps the ids of the call whose token came last: tokens of two calls of one
    # task, in turns, each still name their own call, live and in the log, and each call's
    # first-token delay is noted once.
    first = GenericFakeChatModel(messages=iter([AIMessage("a b c")]))
    second = GenericFakeChatModel(messages=iter([AIMessage("x y z")]))

    def talk(state: State) -> dict[str, Any]:
        turns = itertools.zip_longest(first.stream("1"), second.stream("2"))
        return {"reply": "".join(str(c.content) for pair in turns for c in pair if c is not None)}

    g = StateGraph(State)
    g.add_node("talk", talk)
    g.add_edge(START, "talk")
    g.add_edge("talk", END)
    graph = g.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "turns"}}
    live = [(m.id, m.content) for m, _ in graph.stream({}, config, stream_mode="messages")]
    assert "".join(content for _, content in live) == "ax  by  cz"
    events = asyncio.run(events_of(tmp_path / "runs.db"))
    calls = [e.payload["run_id"] for e in events if e.type == EventType.CHAT_STARTED]
    tokens = [e.payload for e in events if e.type == EventType.CHAT_TOKEN]
    assert [t["chunk"].content for t in tokens] == [content for _, content in live]
    assert [t["run_id"] for t in tokens] == [calls[0], calls[1]] * 5
    assert all(t["run_id"] in i for t, (i, _) in zip(tokens, live, strict=True))  # its call's
    ended = [e.payload for e in events if e.type == EventType.CHAT_ENDED]
    assert sorted(p["run_id"] for p in ended) == sorted(calls)
    assert all(isinstance(p["time_to_first_token"], float) for p in ended)


def test_the_sync_api_works_inside_a_running_event_loop(saver: SqliteSaver) -> None:
    graph = chat_graph(saver)
    config = {"configurable": {"thread_id": "t"}}

    async def notebook_cell() -> Any:
        return graph.invoke({"log": []}, config), graph.get_state(config).values

    out, values = asyncio.run(notebook_cell())
    assert out == values == {"log": ["OK"], "reply": "hello there|again"}


def linear(saver: SqliteSaver) -> Any:
    g = StateGraph(State)
    for name in ("a", "b", "c"):
        g.add_node(name, lambda state, name=name: {"log": [name]})
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", "c")
    g.add_edge("c", END)
    return g.compile(checkpointer=saver)


def test_a_fork_starts_a_new_run_from_its_origin_and_stores_only_its_own_events(
    saver: SqliteSaver, tmp_path: Path
) -> None:
    graph = linear(saver)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"log": ["x"]}, config)
    after_a = next(s for s in graph.get_state_history(config) if s.next == ("b",))
    fork_config = graph.update_state(after_a.config, {"log": ["edited"]})
    assert graph.invoke(None, fork_config) == {"log": ["x", "a", "edited", "b", "c"]}
    assert graph.get_state(config).values["log"] == ["x", "a", "edited", "b", "c"]

    async def runs() -> list[Any]:
        store = await open_log(tmp_path / "runs.db")
        try:
            return [
                (r, len(await store.read(r.run_id)))
                for r in await store.list_runs(oldest_first=True)
            ]
        finally:
            await store.aclose()

    (_, n_first), (update, _), (fork, n_fork) = asyncio.run(runs())
    assert update.origin_checkpoint_id == after_a.config["configurable"]["checkpoint_id"]
    assert fork.origin_run_id == update.run_id
    assert n_fork < n_first  # the fork shares its prefix by reference: nothing is copied


def test_redaction_rewrites_payloads_before_they_are_stored(tmp_path: Path) -> None:
    def redact(event: Any) -> Any:
        if event.type == EventType.TASK_ENDED:
            return {"update": {"log": ["<redacted>"]}}
        return event.payload

    with SqliteSaver.from_conn_string(str(tmp_path / "runs.db"), redact=redact) as saver:
        out = linear(saver).invoke({"log": []}, {"configurable": {"thread_id": "t"}})
    assert out == {"log": ["a", "b", "c"]}  # the run itself sees the real values
    ended = [
        e.payload
        for e in asyncio.run(events_of(tmp_path / "runs.db"))
        if e.type == EventType.TASK_ENDED
    ]
    assert ended and all(p == {"update": {"log": ["<redacted>"]}} for p in ended)


def test_without_a_checkpointer_get_state_raises_as_in_langgraph() -> None:
    g = StateGraph(State)
    g.add_node("a", lambda state: {"log": ["a"]})
    g.add_edge(START, "a")
    graph = g.compile()
    assert graph.invoke({"log": []}) == {"log": ["a"]}
    with pytest.raises(ValueError, match="No checkpointer set"):
        graph.get_state({"configurable": {"thread_id": "t"}})


def test_a_checkpointer_needs_a_thread_id(saver: SqliteSaver) -> None:
    with pytest.raises(ValueError, match="thread_id"):
        linear(saver).invoke({"log": []})


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_every_durability_keeps_the_whole_history(saver: SqliteSaver, durability: str) -> None:
    graph = linear(saver)
    config = {"configurable": {"thread_id": durability}}
    graph.invoke({"log": []}, config, durability=durability)
    steps = [s.metadata["step"] for s in graph.get_state_history(config)]
    assert steps == [3, 2, 1, 0, -1]


def test_get_state_of_a_past_checkpoint_shows_it_as_written(saver: SqliteSaver) -> None:
    import langgraph.checkpoint.memory as lg_memory
    import langgraph.graph as lg_graph

    def build(graph_mod: Any, checkpointer: Any) -> Any:
        g = graph_mod.StateGraph(State)
        g.add_node("a", lambda state: {"log": ["a"]})
        g.add_node("b", lambda state: {"log": ["b"]})
        g.add_edge(graph_mod.START, "a")
        g.add_edge("a", "b")
        g.add_edge("b", graph_mod.END)
        return g.compile(checkpointer=checkpointer)

    import rewind.graph as rw_graph

    seen = []
    for graph in (build(lg_graph, lg_memory.InMemorySaver()), build(rw_graph, saver)):
        config = {"configurable": {"thread_id": "t"}}
        graph.invoke({"log": []}, config)
        old = list(graph.get_state_history(config))[2]  # step 0: "a" is next
        state = graph.get_state(old.config)
        seen.append((state.values, state.next, [t.result for t in state.tasks]))
    assert seen[0] == seen[1] == ({"log": []}, ("a",), [{"log": ["a"]}])


def test_the_graph_digest_is_the_same_in_every_process() -> None:
    """A custom reducer's repr names its memory address; the digest must not depend on it."""
    script = (
        "from typing import Annotated, TypedDict\n"
        "from rewind.graph import StateGraph, START, END\n"
        "def merge(a, b):\n"
        "    return a + b\n"
        "class State(TypedDict):\n"
        "    log: Annotated[list, merge]\n"
        "g = StateGraph(State)\n"
        "g.add_node('n', lambda s: {'log': ['x']})\n"
        "g.add_edge(START, 'n')\n"
        "g.add_edge('n', END)\n"
        "print(g.compile().digest)\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
        ).stdout.strip()
        for _ in range(2)
    }
    assert len(digests) == 1 and len(digests.pop()) == 64


def test_a_saver_left_open_closes_with_the_program_and_keeps_its_run(tmp_path: Path) -> None:
    """``from_conn_string(...).__enter__()`` never exited: the program still ends (Python's
    exit hook closes the log; the context manager's own close at finalization must not wait for
    a thread that can no longer start), and the run is in the file."""
    db = tmp_path / "open.db"
    script = (
        "import sys\n"
        "from typing import TypedDict\n"
        "from rewind.checkpoint.sqlite import SqliteSaver\n"
        "from rewind.graph import StateGraph, START, END\n"
        "class S(TypedDict):\n"
        "    x: int\n"
        "b = StateGraph(S)\n"
        "b.add_node('a', lambda s: {'x': s['x'] + 1})\n"
        "b.add_edge(START, 'a')\n"
        "b.add_edge('a', END)\n"
        "saver = SqliteSaver.from_conn_string(sys.argv[1]).__enter__()\n"
        "config = {'configurable': {'thread_id': 't'}}\n"
        "print(b.compile(checkpointer=saver).invoke({'x': 1}, config))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(db)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{'x': 2}"

    async def stored() -> list[str]:
        log = await open_log(db)
        try:
            (run,) = await log.list_runs(thread_id="t")
            return [e.type for e in await log.read(run.run_id)]
        finally:
            await log.aclose()

    types = asyncio.run(stored())
    assert types[0] == EventType.RUN_STARTED and types[-1] == EventType.RUN_ENDED


def test_a_tool_still_running_when_its_step_failed_is_told_and_leaves_the_log_intact(
    saver: SqliteSaver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """ToolNode runs its tools side by side; one failing fails the run while the other is
    still running in its thread. That one's end comes after the run's: it is not appended (the
    run is over), one warning says so, and nothing is left for the loop to report."""
    release = threading.Event()
    finished = threading.Event()

    @tool
    def slow(city: str) -> str:
        """Waits to be released."""
        release.wait(10)
        finished.set()
        return f"late for {city}"

    @tool
    def failing(city: str) -> str:
        """Always fails."""
        raise ValueError(f"no data for {city}")

    class Calls(TypedDict):
        messages: Annotated[list[Any], add_messages]

    calls = AIMessage(
        "",
        tool_calls=[
            {"name": "slow", "args": {"city": "Oslo"}, "id": "call_1"},
            {"name": "failing", "args": {"city": "Oslo"}, "id": "call_2"},
        ],
    )
    g = StateGraph(Calls)
    g.add_node("tools", ToolNode([slow, failing]))
    g.add_edge(START, "tools")
    graph = g.compile(checkpointer=saver)
    caplog.set_level(logging.WARNING)
    with pytest.raises(ValueError, match="no data for Oslo"):
        graph.invoke({"messages": [calls]}, {"configurable": {"thread_id": "t"}})
    release.set()
    assert finished.wait(10)
    deadline = time.monotonic() + 10  # its end is handed to the loop after the tool returns
    while not _told(caplog) and time.monotonic() < deadline:
        time.sleep(0.01)
    loop_errors = [r.getMessage() for r in caplog.records if r.name == "asyncio"]
    assert loop_errors == []
    late = _told(caplog)
    assert len(late) == 1 and "tool.ended" in late[0] and "'tools'" in late[0]
    events = asyncio.run(events_of(tmp_path / "runs.db"))
    assert events[-1].type == EventType.RUN_ENDED
    assert events[-1].payload["status"] == "error"
    assert [e.seq for e in events] == list(range(len(events)))
    ends = [e for e in events if e.type == EventType.TOOL_ENDED]
    assert all("late for" not in str(e.payload) for e in ends)


def _told(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "rewind.runtime"]


def test_what_a_sync_node_s_own_threads_report_comes_before_its_end(
    saver: SqliteSaver, tmp_path: Path
) -> None:
    """A sync node (run on the loop's thread) that calls a tool from a thread pool of its own:
    the tool's events are handed to the loop by that thread, and still come in the log before
    the node's own later events and its end, in the order they happened."""

    def fan_out(state: State) -> dict[str, Any]:
        with ContextThreadPoolExecutor(2) as pool:  # the node's context goes with it
            shouted = list(pool.map(shout.invoke, ["a", "b"]))
        get_stream_writer()({"after": shouted})
        return {"log": shouted}

    g = StateGraph(State)
    g.add_node("fan_out", fan_out)
    g.add_edge(START, "fan_out")
    graph = g.compile(checkpointer=saver)
    assert graph.invoke({"log": []}, {"configurable": {"thread_id": "t"}}) == {"log": ["A", "B"]}
    kinds = [e.type for e in asyncio.run(events_of(tmp_path / "runs.db")) if e.node == "fan_out"]
    tools = [i for i, k in enumerate(kinds) if k in (EventType.TOOL_STARTED, EventType.TOOL_ENDED)]
    assert len(tools) == 4
    assert max(tools) < kinds.index(EventType.CUSTOM) < kinds.index(EventType.TASK_ENDED)


def test_a_live_object_in_the_configurable_runs_and_is_named_not_stored(
    saver: SqliteSaver, tmp_path: Path
) -> None:
    """A database client in ``configurable`` (LangGraph's how-tos pass one) reaches the node;
    the log names its type in its place, and the ``checkpoints`` stream shows that name live
    and on replay alike."""
    lock = threading.Lock()

    def use(state: State, config: Any) -> dict[str, Any]:
        return {"log": ["locked" if config["configurable"]["db"] is lock else "other"]}

    g = StateGraph(State)
    g.add_node("use", use)
    g.add_edge(START, "use")
    g.add_edge("use", END)
    graph = g.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t", "db": lock, "user": "u1"}}
    live = list(graph.stream({"log": []}, config, stream_mode="checkpoints"))
    assert graph.get_state(config).values == {"log": ["locked"]}
    named = "<not recorded: _thread.lock>"
    assert {c["config"]["configurable"]["db"] for c in live} == {named}
    assert {c["config"]["configurable"]["user"] for c in live} == {"u1"}

    async def recorded() -> tuple[Any, list[Any]]:
        log = await open_log(tmp_path / "runs.db")
        try:
            (run,) = await log.list_runs(thread_id="t")
            started = await log.read(run.run_id, types=[EventType.RUN_STARTED])
            chunks = [c async for c in areplay(log, run.run_id, stream_mode="checkpoints")]
            return started[0].payload["config"]["configurable"], chunks
        finally:
            await log.aclose()

    configurable, replayed = asyncio.run(recorded())
    assert configurable == {"thread_id": "t", "db": named, "user": "u1"}
    assert replayed == live
