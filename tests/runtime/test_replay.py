"""A replay yields exactly what the live stream yielded, runs nothing, and needs no graph code."""

from __future__ import annotations

import asyncio
import json
import operator
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from pydantic import BaseModel, Field

from rewind import open_log
from rewind.channels import EphemeralValue, LastValue, LastValueAfterFinish, NamedBarrierValue
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.graph import START, StateGraph
from rewind.log.codec import encode
from rewind.pregel import NodeBuilder, Pregel
from rewind.types import Command, interrupt
from tests.runtime import replay_graphs

ALL = [
    "values",
    "updates",
    "messages",
    "custom",
    "tasks",
    "checkpoints",
    "debug",
    "tools",
    "events",
]
SHAPES: list[dict[str, Any]] = [
    {"stream_mode": ALL},
    {"stream_mode": ALL, "subgraphs": True},
    {"stream_mode": "messages"},
    {"stream_mode": "events"},
    {"stream_mode": ["updates", "values"], "version": "v2", "subgraphs": True},
    {"stream_mode": ("custom", "values")},
]


def _text(chunks: list[Any]) -> list[str]:
    return [encode(c) for c in chunks]


async def _runs(path: Path, thread: str) -> list[str]:
    store = await open_log(path)
    try:
        return [r.run_id for r in await store.list_runs(thread_id=thread, oldest_first=True)]
    finally:
        await store.aclose()


def _replayed(path: Path, run_id: str, **kwargs: Any) -> list[Any]:
    async def go() -> list[Any]:
        from rewind import areplay

        store = await open_log(path)
        try:
            return [c async for c in areplay(store, run_id, **kwargs)]
        finally:
            await store.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("kwargs", SHAPES, ids=repr)
def test_replay_equals_the_live_stream(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    path = tmp_path / "runs.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = replay_graphs.build(saver)
        config = {"configurable": {"thread_id": "t"}}
        live = list(graph.stream({"messages": [("user", "hi")]}, config, **kwargs))
    (run_id,) = asyncio.run(_runs(path, "t"))
    assert live, "the live stream yielded chunks"
    assert _text(_replayed(path, run_id, **kwargs)) == _text(live)


def test_replay_of_astream_events_equals_the_live_events(tmp_path: Path) -> None:
    """``astream_events`` (whose graph stream follows its own ``stream_mode``) replays as the
    ``events`` mode with that ``events_stream_mode``; the filters apply to both alike."""
    path = tmp_path / "runs.db"

    async def live() -> list[Any]:
        async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
            graph = replay_graphs.build(saver)
            config = {"configurable": {"thread_id": "t"}}
            stream = graph.astream_events(
                {"messages": [("user", "hi")]},
                config,
                version="v2",
                stream_mode=["updates", "custom"],
            )
            return [event async for event in stream]

    events = asyncio.run(live())
    (run_id,) = asyncio.run(_runs(path, "t"))
    kinds = {e["event"] for e in events}
    assert {"on_chain_start", "on_chat_model_stream", "on_chain_end"} <= kinds
    replayed = _replayed(
        path, run_id, stream_mode="events", events_stream_mode=["updates", "custom"]
    )
    assert _text(replayed) == _text(events)


def test_replay_of_interrupted_and_resumed_runs(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    kwargs: dict[str, Any] = {"stream_mode": ALL, "subgraphs": True}
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = replay_graphs.build_interrupting(saver)
        config = {"configurable": {"thread_id": "t"}}
        first = list(graph.stream({"log": []}, config, **kwargs))
        second = list(graph.stream(Command(resume="42"), config, **kwargs))
    runs = asyncio.run(_runs(path, "t"))
    assert _text(_replayed(path, runs[0], **kwargs)) == _text(first)
    assert _text(_replayed(path, runs[1], **kwargs)) == _text(second)


def test_replay_from_a_checkpoint_is_the_suffix_from_there(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = replay_graphs.build(saver)
        config = {"configurable": {"thread_id": "t"}}
        graph.invoke({"messages": [("user", "hi")]}, config)
        history = list(graph.get_state_history(config))
    (run_id,) = asyncio.run(_runs(path, "t"))
    full = _text(_replayed(path, run_id, stream_mode=["values", "checkpoints"]))
    middle = history[2].config["configurable"]["checkpoint_id"]
    tail = _text(_replayed(path, run_id, stream_mode=["values", "checkpoints"], start=middle))
    assert tail and full[-len(tail) :] == tail
    assert json.loads(tail[0])["__rw__"] == "tuple"  # (mode, chunk), starting at that point
    with pytest.raises(ValueError, match="no checkpoint"):
        _replayed(path, run_id, start="not-a-checkpoint")


def test_replay_needs_no_graph_code(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = replay_graphs.build(saver)
        live = list(
            graph.stream(
                {"messages": [("user", "hi")]},
                {"configurable": {"thread_id": "t"}},
                stream_mode=ALL,
            )
        )
    (run_id,) = asyncio.run(_runs(path, "t"))
    script = (
        "import sys, json\n"
        "from rewind import replay, open_log\n"
        "from rewind.log.codec import encode\n"
        "import asyncio\n"
        f"store = asyncio.run(open_log({str(path)!r}))\n"
        f"chunks = list(replay(store, {run_id!r}, stream_mode={ALL!r}))\n"
        "assert 'tests.runtime.replay_graphs' not in sys.modules\n"
        "print(json.dumps([encode(c) for c in chunks]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == _text(live)


def test_a_thread_replays_run_after_run(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    kwargs: dict[str, Any] = {"stream_mode": ["updates", "values"], "subgraphs": True}
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = replay_graphs.build_interrupting(saver)
        config = {"configurable": {"thread_id": "t"}}
        live = list(graph.stream({"log": []}, config, **kwargs))
        live += list(graph.stream(Command(resume="42"), config, **kwargs))

    async def go() -> list[Any]:
        from rewind import areplay_thread

        store = await open_log(path)
        try:
            return [c async for c in areplay_thread(store, "t", **kwargs)]
        finally:
            await store.aclose()

    assert _text(asyncio.run(go())) == _text(live)


def test_bad_replays_name_what_is_wrong(tmp_path: Path) -> None:
    from rewind.errors import UnknownRunError, UnknownThreadError

    async def go(**kwargs: Any) -> None:
        from rewind import areplay, areplay_thread

        store = await open_log(tmp_path / "runs.db")
        try:
            if "thread" in kwargs:
                [c async for c in areplay_thread(store, kwargs.pop("thread"))]
            else:
                [c async for c in areplay(store, "no-such-run", **kwargs)]
        finally:
            await store.aclose()

    with pytest.raises(UnknownRunError, match="no-such-run"):
        asyncio.run(go())
    with pytest.raises(UnknownThreadError, match="nowhere"):
        asyncio.run(go(thread="nowhere"))
    with pytest.raises(ValueError, match="'values', 'updates'"):
        asyncio.run(go(stream_mode="bogus"))


def test_the_store_finds_the_run_of_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = replay_graphs.build_interrupting(saver)
        config = {"configurable": {"thread_id": "t"}}
        graph.invoke({"log": []}, config)
        graph.invoke(Command(resume="42"), config)
        history = list(graph.get_state_history(config))

    async def go() -> tuple[list[str], list[str]]:
        store = await open_log(path)
        try:
            found = [
                (await store.run_of_checkpoint(s.config["configurable"]["checkpoint_id"])).run_id
                for s in history
            ]
            runs = [r.run_id for r in await store.list_runs(thread_id="t", oldest_first=True)]
            with pytest.raises(KeyError, match="nope"):
                await store.run_of_checkpoint("nope")
            return found, runs
        finally:
            await store.aclose()

    found, runs = asyncio.run(go())
    assert set(found) == set(runs)  # every checkpoint leads back to the run that wrote it
    assert found[0] == runs[-1] and found[-1] == runs[0]


def test_replay_from_a_checkpoint_in_a_mode_that_reads_no_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = replay_graphs.build(saver)
        config = {"configurable": {"thread_id": "t"}}
        graph.invoke({"messages": [("user", "hi")]}, config)
        history = list(graph.get_state_history(config))
    (run_id,) = asyncio.run(_runs(path, "t"))
    kwargs: dict[str, Any] = {"stream_mode": "custom", "subgraphs": True}
    full = _text(_replayed(path, run_id, **kwargs))
    (middle,) = [s for s in history if s.next == ("work", "work")]  # after the chat node's
    tail = _text(
        _replayed(path, run_id, start=middle.config["configurable"]["checkpoint_id"], **kwargs)
    )
    assert tail and len(tail) < len(full) and full[-len(tail) :] == tail


# --- what a replay reads and keeps ------------------------------------------------------------


def _reads(path: Path, run_id: str, stream_mode: Any) -> int:
    """Events a replay in ``stream_mode`` reads from the store."""

    async def go() -> int:
        from rewind import areplay

        store = await open_log(path)
        try:
            before = store.stats.events_read
            [c async for c in areplay(store, run_id, stream_mode=stream_mode)]
            return store.stats.events_read - before
        finally:
            await store.aclose()

    return asyncio.run(go())


def _counts(path: Path) -> dict[str, int]:
    """Events stored, by type (a packed row of tokens holds several)."""
    with sqlite3.connect(path) as conn:
        query = "SELECT type, SUM(COALESCE(packed, 1)) FROM events GROUP BY type"
        return dict(conn.execute(query).fetchall())


def test_a_replay_reads_only_the_kinds_of_event_its_modes_read(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = replay_graphs.build(saver)
        config = {"configurable": {"thread_id": "t"}}
        list(graph.stream({"messages": [("user", "hi")]}, config, stream_mode="messages"))
    (run_id,) = asyncio.run(_runs(path, "t"))
    n = _counts(path)
    assert n["chat.token"] > 1 and n["custom"] > 1
    every = sum(n.values())
    tasks = n["run.started"] + n["task.started"] + n["task.ended"] + n["checkpoint"]
    chat = n["chat.started"] + n["chat.token"] + n["chat.ended"]
    # custom: task starts too (a functional-API task call's writes show its caller's
    # namespace), and subgraph starts (a node that streams one itself has its writes)
    started = n["run.started"] + n["task.started"] + n["subgraph.started"]
    assert _reads(path, run_id, "custom") == started + n["custom"]
    assert _reads(path, run_id, "tasks") == tasks
    # checkpoints: subgraph starts too (a Pregel program run there shows its stream channels)
    assert _reads(path, run_id, ["checkpoints", "debug"]) == tasks + n.get("subgraph.started", 0)
    assert _reads(path, run_id, "messages") == tasks + chat
    assert _reads(path, run_id, "events") == every - n["custom"]
    # The graph's own stream in the events mode adds what its modes read.
    assert _reads(path, run_id, ["events", "custom"]) == every


async def _fold_checked(path: Path, run_id: str) -> int:
    """Feed a run's events to a projector; after each checkpoint, check that its fold keeps the
    writes of no task of that namespace that ended before it. The checkpoints seen."""
    from rewind.events import EventType
    from rewind.projections.stream import MODES, Projector, RunFacts

    store = await open_log(path)
    try:
        events = await store.read(run_id)
    finally:
        await store.aclose()
    projector = Projector(list(MODES), RunFacts.from_started(events[0].payload))
    ended: dict[str, set[str]] = {}
    checkpoints = 0
    for event in events:
        projector.feed(event)
        if event.type == EventType.TASK_ENDED and event.task_id:
            ended.setdefault(event.ns or "", set()).add(event.task_id)
        elif event.type == EventType.CHECKPOINT:
            checkpoints += 1
            assert not ended.pop(event.ns or "", set()) & set(projector.fold.writes)
    assert not projector.fold.writes  # the run ended: every step's checkpoint applied its writes
    return checkpoints


def test_the_fold_keeps_no_writes_of_tasks_a_checkpoint_has_applied(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = replay_graphs.build(saver)
        graph.invoke({"messages": [("user", "hi")]}, {"configurable": {"thread_id": "t"}})
    (run_id,) = asyncio.run(_runs(path, "t"))
    assert asyncio.run(_fold_checked(path, run_id)) > 4  # the subgraph's among them


class _Log(TypedDict):
    log: Annotated[list[str], operator.add]


def test_an_interrupted_step_s_finished_writes_replay_as_the_last_values(tmp_path: Path) -> None:
    """A step where one task interrupts and another finishes: the run's last ``values`` chunk
    (and ``invoke``'s output) has the finished task's writes, live and on replay."""

    def ask(state: _Log) -> dict[str, Any]:
        time.sleep(0.05)
        return {"log": [str(interrupt("which?"))]}

    path = tmp_path / "runs.db"
    modes = ["values", "updates"]
    with SqliteSaver.from_conn_string(str(path)) as saver:
        g = StateGraph(_Log)
        g.add_node("ask", ask)
        g.add_node("other", lambda state: {"log": ["other"]})
        g.add_edge(START, "ask")
        g.add_edge(START, "other")
        graph = g.compile(checkpointer=saver)
        live = list(
            graph.stream({"log": []}, {"configurable": {"thread_id": "t"}}, stream_mode=modes)
        )
        out = graph.invoke({"log": []}, {"configurable": {"thread_id": "u"}})
    assert live[-1] == ("values", {"log": ["other"]})
    assert out["log"] == ["other"] and len(out["__interrupt__"]) == 1
    (run_id,) = asyncio.run(_runs(path, "t"))
    assert _text(_replayed(path, run_id, stream_mode=modes)) == _text(live)


def test_replay_of_a_time_travel_fork_equals_the_live_stream(tmp_path: Path) -> None:
    """A run continuing a past checkpoint forks it: its stream opens with that state's
    values, then the fork's own checkpoint (not the past one's), live and replayed alike."""
    path = tmp_path / "runs.db"
    kwargs: dict[str, Any] = {"stream_mode": ALL}

    class Log(TypedDict):
        log: Annotated[list[str], operator.add]

    builder = StateGraph(Log)
    builder.add_node("a", lambda state: {"log": ["a"]})
    builder.add_node("b", lambda state: {"log": ["b"]})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = builder.compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "t"}}
        graph.invoke({"log": []}, config)
        past = next(s for s in graph.get_state_history(config) if s.next == ("b",))
        live = list(graph.stream(None, past.config, **kwargs))
    runs = asyncio.run(_runs(path, "t"))
    modes = [mode for mode, _ in live]
    assert modes[0] == "values" and "checkpoints" in modes
    first_checkpoint = next(chunk for mode, chunk in live if mode == "checkpoints")
    assert first_checkpoint["metadata"]["source"] == "fork"
    assert _text(_replayed(path, runs[-1], **kwargs)) == _text(live)


class _Model(BaseModel):
    text: str
    count: int = 0


def test_v2_parts_carry_the_state_models_instances_live_and_replayed_with_the_graph(
    tmp_path: Path,
) -> None:
    """As LangGraph 1.2's v2 streams: ``values`` data as the output model, checkpoint values
    as the state model; a replay given the graph gives the same, without it the dicts."""
    path = tmp_path / "runs.db"
    kwargs: dict[str, Any] = {"stream_mode": ["values", "checkpoints"], "version": "v2"}

    def bump(state: _Model) -> dict[str, Any]:
        return {"count": state.count + 1}

    builder = StateGraph(_Model)
    builder.add_node("bump", bump)
    builder.add_edge(START, "bump")
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = builder.compile(checkpointer=saver)
        live = list(graph.stream({"text": "a"}, {"configurable": {"thread_id": "t"}}, **kwargs))
    (run_id,) = asyncio.run(_runs(path, "t"))
    values = [part["data"] for part in live if part["type"] == "values"]
    assert values == [_Model(text="a"), _Model(text="a", count=1)]
    last = [part["data"] for part in live if part["type"] == "checkpoints"][-1]
    assert last["values"] == _Model(text="a", count=1)
    assert _text(_replayed(path, run_id, graph=graph, **kwargs)) == _text(live)
    plain = [p["data"] for p in _replayed(path, run_id, **kwargs) if p["type"] == "values"]
    assert plain == [{"text": "a"}, {"text": "a", "count": 1}]


class _Checked(BaseModel):
    name: str
    volume: int = Field(default=1, le=10)


def _refusing(saver: Any) -> Any:
    """A pydantic state whose node input is refused after the first step: that step's
    checkpoint is kept and never streamed."""
    g = StateGraph(_Checked)
    g.add_node("louder", lambda s: {"volume": 99})
    g.add_node("check", lambda s: {})
    g.add_edge(START, "louder")
    g.add_edge("louder", "check")
    return g.compile(checkpointer=saver)


def _program(saver: Any) -> Any:
    """A ``Pregel`` program that streams one of its channels (``stream_channels``)."""
    return Pregel(
        nodes={
            "one": NodeBuilder().subscribe_only("a").do(lambda x: x + x).write_to("b"),
            "two": NodeBuilder().subscribe_only("b").do(lambda x: x + "!").write_to("c"),
        },
        channels={"a": EphemeralValue(str), "b": LastValue(str), "c": LastValue(str)},
        input_channels=["a"],
        output_channels=["b", "c"],
        stream_channels="b",
        checkpointer=saver,
    )


class _Finishing(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    late: Annotated[str, LastValueAfterFinish]
    both: Annotated[Any, NamedBarrierValue(str, {"x", "y"})]


def _finishing(saver: Any) -> Any:
    """State keys that show their value once the run finishes, or every name was written."""
    g = StateGraph(_Finishing)
    g.add_node("x", lambda s: {"log": [str(sorted(s))], "late": "x", "both": "x"})
    g.add_node("y", lambda s: {"log": [str(sorted(s))], "both": "y"})
    g.add_edge(START, "x")
    g.add_edge("x", "y")
    return g.compile(checkpointer=saver)


@pytest.mark.parametrize(
    ("build", "given"),
    [(_refusing, {"name": "n"}), (_program, {"a": "x"}), (_finishing, {"log": []})],
    ids=["unprepared_step", "stream_channels", "after_finish_channels"],
)
def test_replay_equals_the_live_stream_of_what_streams_less_than_it_holds(
    tmp_path: Path, build: Any, given: Any
) -> None:
    path = tmp_path / "runs.db"
    kwargs: dict[str, Any] = {"stream_mode": ["values", "updates", "tasks", "checkpoints"]}
    live: list[Any] = []
    refused = False
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = build(saver)
        try:
            for chunk in graph.stream(given, {"configurable": {"thread_id": "t"}}, **kwargs):
                live.append(chunk)
        except ValueError:  # pydantic's ValidationError
            refused = True
    assert refused == (build is _refusing)
    (run_id,) = asyncio.run(_runs(path, "t"))
    assert live
    assert _text(_replayed(path, run_id, **kwargs)) == _text(live)


@pytest.mark.parametrize("output_keys", ["log", ["both", "log"]], ids=["one_key", "key_list"])
def test_replay_equals_the_live_stream_of_a_call_with_output_keys(
    tmp_path: Path, output_keys: Any
) -> None:
    """The call's ``output_keys`` is recorded with its run: a replay's ``values`` and
    ``updates`` show what the live stream showed (one key: its value; a list: those keys)."""
    path = tmp_path / "runs.db"
    modes = ["values", "updates", "tasks", "checkpoints"]
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = _finishing(saver)
        config = {"configurable": {"thread_id": "t"}}
        live = list(graph.stream({"log": []}, config, stream_mode=modes, output_keys=output_keys))
    (run_id,) = asyncio.run(_runs(path, "t"))
    values = [chunk for mode, chunk in live if mode == "values"]
    assert values and all(isinstance(v, list if output_keys == "log" else dict) for v in values)
    assert _text(_replayed(path, run_id, stream_mode=modes)) == _text(live)
