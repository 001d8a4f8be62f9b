"""A ``Pregel`` node's writers and what a step streams, live and replayed from the log alone:
a node of writers alone (no run of its own in ``astream_events``), a step's task chunks before
its nodes start (side by side with LangGraph: ``sbs_98_pregel_writers_and_events``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import rewind.channels as rw_channels
import rewind.pregel as rw_pregel
from rewind import open_log
from rewind.checkpoint.memory import InMemorySaver
from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.errors import InvalidUpdateError
from rewind.log.codec import encode
from rewind.pregel._read import PregelNode
from rewind.pregel._write import ChannelWrite, ChannelWriteEntry

CONFIG = {"configurable": {"thread_id": "t"}}


async def _upper(text: str) -> str:
    return text.upper()


async def _lower(text: str) -> str:
    await asyncio.sleep(0.02)
    return text.lower()


def _program(saver: Any, nodes: dict[str, Any], outputs: list[str]) -> Any:
    return rw_pregel.Pregel(
        nodes=nodes,
        channels={k: rw_channels.LastValue(str) for k in "abcde"},
        input_channels="a",
        output_channels=outputs,
        checkpointer=saver,
    )


def writers_alone(saver: Any) -> Any:
    """``copy`` runs no function; ``both`` is writers alone; ``shout`` runs one."""
    both = PregelNode(
        channels="b",
        triggers=["b"],
        writers=[ChannelWrite([ChannelWriteEntry("c")]), ChannelWrite([ChannelWriteEntry("d")])],
    )
    nodes = {
        "copy": rw_pregel.NodeBuilder().subscribe_only("a").write_to("b"),
        "both": both,
        "shout": rw_pregel.NodeBuilder().subscribe_only("c").do(_upper).write_to("e"),
    }
    return _program(saver, nodes, ["b", "c", "d", "e"])


def parallel(saver: Any) -> Any:
    """Two nodes in one step (and a node of writers alone in the next)."""
    nodes = {
        "one": rw_pregel.NodeBuilder().subscribe_only("a").do(_upper).write_to("b"),
        "two": rw_pregel.NodeBuilder().subscribe_only("a").do(_lower).write_to("c"),
        "three": rw_pregel.NodeBuilder().subscribe_only("b").do(_lower).write_to("d"),
        "copy": rw_pregel.NodeBuilder().subscribe_only("b").write_to("e"),
    }
    return _program(saver, nodes, ["b", "c", "d", "e"])


async def _live(
    path: Path, build: Callable[[Any], Any], given: Any, modes: list[str]
) -> tuple[list[Any], list[Any], str]:
    """The run's ``astream_events`` (its own stream in ``modes``) and ``astream`` chunks."""
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        app = build(saver)
        events = [
            e async for e in app.astream_events(given, CONFIG, version="v2", stream_mode=modes)
        ]
        chunks = [c async for c in app.astream(given, CONFIG, stream_mode=modes)]
    return events, chunks, (await _run_ids_of(path))[0]


async def _run_ids_of(path: Path) -> list[str]:
    store = await open_log(path)
    try:
        return [r.run_id for r in await store.list_runs(thread_id="t", oldest_first=True)]
    finally:
        await store.aclose()


async def _replayed(path: Path, run_id: str, **kwargs: Any) -> list[Any]:
    from rewind import areplay

    store = await open_log(path)
    try:
        return [c async for c in areplay(store, run_id, **kwargs)]
    finally:
        await store.aclose()


def test_a_node_of_writers_alone_is_no_run_of_its_own_live_and_replayed(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    modes = ["updates", "tasks"]
    events, chunks, run_id = asyncio.run(_live(path, writers_alone, "x", modes))
    names = {e["name"] for e in events}
    assert "copy" not in names and "both" not in names and "shout" in names
    assert ("updates", {"copy": {"b": "x"}}) in chunks
    replayed = asyncio.run(_replayed(path, run_id, stream_mode="events", events_stream_mode=modes))
    assert [encode(e) for e in replayed] == [encode(e) for e in events]


def test_a_step_s_task_chunks_come_before_its_nodes_start_live_and_replayed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "runs.db"
    modes = ["tasks", "debug"]
    events, _, run_id = asyncio.run(_live(path, parallel, "Ab", modes))
    starts = [i for i, e in enumerate(events) if e["event"] == "on_chain_start"]
    announced = [
        (i, e["data"]["chunk"][1]["name"])
        for i, e in enumerate(events)
        if e["event"] == "on_chain_stream"
        and e["name"] == "LangGraph"
        and e["data"]["chunk"][0] == "tasks"
        and "input" in e["data"]["chunk"][1]
    ]
    # (both of the first step's, before its first node starts: the graph's, then "one")
    assert [name for _, name in announced[:2]] == ["one", "two"]
    assert announced[1][0] < starts[1] and events[starts[1]]["name"] == "one"
    replayed = asyncio.run(_replayed(path, run_id, stream_mode="events", events_stream_mode=modes))
    assert [encode(e) for e in replayed] == [encode(e) for e in events]


def refused(saver: Any) -> Any:
    """``twice`` writes ``b`` twice: its step fails."""
    twice = rw_pregel.NodeBuilder().subscribe_only("a").do(str.upper).write_to("b", "b")
    return _program(saver, {"twice": twice}, ["b"])


async def _collected(items: Any, into: list[Any]) -> None:
    async for item in items:
        into.append(item)


def test_a_lone_task_whose_writes_are_refused_streams_as_langgraph_s_live_and_replayed(
    tmp_path: Path,
) -> None:
    """Nothing of it unless the stream takes chunks as they come (``custom``), in a replay
    of any modes too, and in ``astream_events`` (the node's run ends, as it ran)."""
    path = tmp_path / "runs.db"
    plain: list[Any] = []
    waiting: list[Any] = []
    events: list[Any] = []

    async def live() -> None:
        async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
            app = refused(saver)
            with pytest.raises(InvalidUpdateError):
                await _collected(app.astream("x", CONFIG, stream_mode=["updates", "tasks"]), plain)
            with pytest.raises(InvalidUpdateError):
                await _collected(
                    app.astream("x", CONFIG, stream_mode=["updates", "custom"]), waiting
                )
            made = app.astream_events("x", CONFIG, version="v2", stream_mode="updates")
            with pytest.raises(InvalidUpdateError):
                await _collected(made, events)

    asyncio.run(live())
    assert [mode for mode, _ in plain] == ["tasks"]  # (its start alone)
    assert waiting == [("updates", {"twice": [{"b": "X"}, {"b": "X"}]})]
    assert ("on_chain_end", "twice") in {(e["event"], e["name"]) for e in events}
    assert not any(e["event"] == "on_chain_stream" and e["name"] == "LangGraph" for e in events)
    first, second, third = asyncio.run(_run_ids_of(path))
    assert asyncio.run(_replayed(path, first, stream_mode=["updates", "tasks"])) == plain
    assert asyncio.run(_replayed(path, first, stream_mode=["updates", "custom"])) == waiting
    assert asyncio.run(_replayed(path, second, stream_mode=["updates", "custom"])) == waiting
    assert asyncio.run(_replayed(path, second, stream_mode="updates")) == []
    replayed = asyncio.run(_replayed(path, third, stream_mode="events"))
    assert [encode(e) for e in replayed] == [encode(e) for e in events]


def _double(text: str) -> str:
    return text + text


def runnable_writers(saver: Any) -> Any:
    """``shout``: its function, a write of b, a runnable writer, a write of c; ``copy``: no
    function, a function writer, a write of d; ``last``: a runnable writer last."""
    from langchain_core.runnables import RunnableLambda

    shout = PregelNode(
        channels="a",
        triggers=["a"],
        bound=RunnableLambda(str.upper),
        writers=[
            ChannelWrite([ChannelWriteEntry("b")]),
            RunnableLambda(_double),
            ChannelWrite([ChannelWriteEntry("c")]),
        ],
    )
    copy = PregelNode(
        channels="c", triggers=["c"], writers=[_double, ChannelWrite([ChannelWriteEntry("d")])]
    )
    last = rw_pregel.NodeBuilder().subscribe_only("d").do(str.lower).write_to("e").build()
    last.writers.append(RunnableLambda(lambda text: text + "!"))
    return _program(saver, {"shout": shout, "copy": copy, "last": last}, ["b", "c", "d", "e"])


def test_runnable_writers_run_as_steps_of_their_node_live_and_replayed(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    modes = ["updates", "tasks"]
    events, chunks, run_id = asyncio.run(_live(path, runnable_writers, "Ab", modes))
    # Each writer's return is passed on: c is the doubled output, d its double.
    assert [c for m, c in chunks if m == "updates"] == [
        {"shout": {"b": "AB", "c": "ABAB"}},
        {"copy": {"d": "ABABABAB"}},
        {"last": {"e": "abababab"}},
    ]
    runs = [
        (e["event"], e["name"], e["tags"][:1], e["data"].get("output"))
        for e in events
        if e["name"] not in ("LangGraph", "shout", "copy") and e["event"] != "on_chain_stream"
    ]
    assert runs[:4] == [  # (the node's function, then the writer: seq:step:3 after the write)
        ("on_chain_start", "upper", ["seq:step:1"], None),
        ("on_chain_end", "upper", ["seq:step:1"], "AB"),
        ("on_chain_start", "_double", ["seq:step:3"], None),
        ("on_chain_end", "_double", ["seq:step:3"], "ABAB"),
    ]
    ended = {e["name"]: e["data"]["output"] for e in events if e["event"] == "on_chain_end"}
    assert ended["last"] == "abababab!"  # (the node's output: its last writer's return)
    replayed = asyncio.run(_replayed(path, run_id, stream_mode="events", events_stream_mode=modes))
    assert [encode(e) for e in replayed] == [encode(e) for e in events]


def test_a_state_update_made_as_a_node_runs_its_runnable_writers() -> None:
    config = {"configurable": {"thread_id": "u"}}
    app = runnable_writers(InMemorySaver())
    app.update_state(config, "xy", as_node="shout")
    assert app.get_state(config).values == {"b": "xy", "c": "xyxy"}
