"""``astream_events`` of low-level ``Pregel`` programs, side by side with LangGraph 1.2.22, and
live equals replayed from the log alone.

A node whose whole run is one runnable (no function and one runnable writer, or a function, a
LangChain runnable or a program and no writers) is that runnable's own run, named after the
node, its start in the node's place among its step's starts. A program run as a node (of a
state graph or of a program) is streamed: its output is its last ``values`` chunk (all its
channels, or its stream channels: one's value), which the parent's writes take.
(``tests/runtime/side_by_side``: ``sbs_79_pregel_nodes_and_options`` compares them too.)
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

import pytest
from langchain_core.runnables import RunnableLambda

from rewind import areplay, open_log
from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.log.codec import encode
from tests.runtime.side_by_side import harness

ENGINES = ("langgraph", "rewind")
CONFIG = {"configurable": {"thread_id": "t"}, "tags": ["root"], "metadata": {"team": "blue"}}


class _Engine:
    """An engine's modules: ``channels``, ``pregel``, ``_read`` (``PregelNode``), ``graph``."""

    def __init__(self, engine: str) -> None:
        self.channels = importlib.import_module(f"{engine}.channels")
        self.pregel = importlib.import_module(f"{engine}.pregel")
        self.read = importlib.import_module(f"{engine}.pregel._read")
        self.graph = importlib.import_module(f"{engine}.graph")

    def program(self, nodes: dict[str, Any], saver: Any, **options: Any) -> Any:
        return self.pregel.Pregel(
            nodes=nodes,
            channels={k: self.channels.LastValue(object) for k in "abcd"},
            input_channels="a",
            output_channels=options.pop("output_channels", ["b", "c", "d"]),
            checkpointer=saver,
            **options,
        )


def _double(text: str) -> str:
    return text + text


async def _shout(text: str) -> str:
    return text.upper()


async def _slow_upper(text: str) -> str:
    await asyncio.sleep(0.05)
    return text.upper()


def _writer(e: _Engine, saver: Any) -> Any:
    """``n``: no function, one runnable writer."""
    n = e.read.PregelNode(channels="a", triggers=["a"], writers=[RunnableLambda(_double)])
    return e.program({"n": n, "m": e.pregel.NodeBuilder().subscribe_only("a").write_to("b")}, saver)


def _bound(e: _Engine, saver: Any) -> Any:
    """``n``: a LangChain runnable of tags of its own and no writers, after ``m``."""
    n = e.read.PregelNode(
        channels="b", triggers=["b"], bound=RunnableLambda(_double).with_config(tags=["own"])
    )
    m = e.pregel.NodeBuilder().subscribe_only("a").do(_shout).write_to("b")
    return e.program({"n": n, "m": m}, saver)


def _function(e: _Engine, saver: Any) -> Any:
    """``n``: a function and no writers (``NodeBuilder``'s, its writers taken away)."""
    n = e.pregel.NodeBuilder().subscribe_only("a").do(_double).build()
    n.writers = []
    return e.program({"n": n}, saver)


def _sequence(e: _Engine, saver: Any) -> Any:
    """``n``: a LangChain sequence and no writers (one run of its own, its steps inside)."""
    chain = RunnableLambda(_double) | RunnableLambda(str.upper)
    return e.program({"n": e.read.PregelNode(channels="a", triggers=["a"], bound=chain)}, saver)


def _parallel(e: _Engine, saver: Any) -> Any:
    """``m`` (a function) and ``n`` (a runnable, the node's whole run) in one step."""
    n = e.read.PregelNode(channels="a", triggers=["a"], bound=RunnableLambda(_shout))
    m = e.pregel.NodeBuilder().subscribe_only("a").do(_slow_upper).write_to("b")
    return e.program({"m": m, "n": n}, saver)


class Outer(TypedDict, total=False):
    a: str
    b: str
    c: str


def _inner(e: _Engine, stream_channels: Any = None) -> Any:
    """a -> b -> c, its output ``c``."""
    n1 = e.pregel.NodeBuilder().subscribe_only("a").do(lambda x: x + "1").write_to("b")
    n2 = e.pregel.NodeBuilder().subscribe_only("b").do(lambda x: x + "2").write_to("c")
    return e.pregel.Pregel(
        nodes={"n1": n1, "n2": n2},
        channels={k: e.channels.LastValue(str) for k in "abc"},
        input_channels=["a"],
        output_channels=["c"],
        stream_channels=stream_channels,
    )


def _in_state_graph(e: _Engine, saver: Any) -> Any:
    """A program as a node of a state graph, then one whose stream channels are b and c."""
    outer = e.graph.StateGraph(Outer)
    outer.add_node("all", _inner(e))
    outer.add_node("some", _inner(e, ["b", "c"]))
    outer.add_edge(e.graph.START, "all")
    outer.add_edge("all", "some")
    return outer.compile(checkpointer=saver)


def _in_program(e: _Engine, saver: Any) -> Any:
    """Programs as nodes of a program: one stream channel (its value), all its channels, and
    a program that is its node's whole run."""
    one = e.pregel.NodeBuilder().subscribe_only("a").do(_inner(e, "c")).write_to("b")
    every = e.pregel.NodeBuilder().subscribe_only("b").do(_wrapped(e)).write_to("c")
    whole = e.pregel.NodeBuilder().subscribe_only("c").do(_inner(e)).build()
    whole.writers = []
    return e.program({"one": one, "every": every, "whole": whole}, saver)


def _wrapped(e: _Engine) -> Any:
    """A program reading its input as channel ``a`` (its one input channel)."""
    n1 = e.pregel.NodeBuilder().subscribe_only("a").do(lambda x: x + "!").write_to("b")
    return e.pregel.Pregel(
        nodes={"n1": n1},
        channels={k: e.channels.LastValue(str) for k in "ab"},
        input_channels="a",
        output_channels=["b"],
    )


PROGRAMS: dict[str, Callable[[_Engine, Any], Any]] = {
    "runnable_writer": _writer,
    "runnable_bound": _bound,
    "function_bound": _function,
    "sequence_bound": _sequence,
    "program_in_state_graph": _in_state_graph,
    "program_in_program": _in_program,
}
INPUTS = {"program_in_state_graph": {"a": "x"}, "program_in_program": {"a": "x"}}


def _events(engine: str, name: str) -> list[Any]:
    """The run's ``astream_events`` (v2) and its state after, serialised and normalised."""
    e = _Engine(engine)
    saver = importlib.import_module(f"{engine}.checkpoint.memory").InMemorySaver()
    app = PROGRAMS[name](e, saver)
    harness.check_engine(app, engine)

    async def run() -> list[Any]:
        made = app.astream_events(INPUTS.get(name, "x"), CONFIG, version="v2")
        return [harness.ser(event) async for event in made]

    events = asyncio.run(run())
    return harness.Normalizer().norm([events, harness.ser(app.get_state(CONFIG).values)])


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_events_are_langgraph_s(name: str) -> None:
    reference, candidate = (_events(engine, name) for engine in ENGINES)
    diff = harness.first_diff(reference, candidate)
    assert diff is None, harness.explain_diff(reference, candidate, diff)


def test_a_whole_run_node_starts_in_its_place_among_its_step_s_starts() -> None:
    """``n``'s runnable begins after ``m``'s function's run does, but ``n``'s start (its
    runnable's) is shown with the step's node starts, before it, as in LangGraph."""
    for engine in ENGINES:
        events, _ = _events_of(engine, _parallel)
        starts = [e["name"] for e in events if e["event"] == "on_chain_start"]
        assert starts[:4] == ["LangGraph", "m", "n", "_slow_upper"], engine


def _events_of(engine: str, build: Callable[[_Engine, Any], Any]) -> tuple[list[Any], Any]:
    e = _Engine(engine)
    saver = importlib.import_module(f"{engine}.checkpoint.memory").InMemorySaver()
    app = build(e, saver)

    async def run() -> list[Any]:
        return [x async for x in app.astream_events("x", CONFIG, version="v2")]

    return asyncio.run(run()), app


async def _live_and_replayed(
    path: Path, build: Callable[[_Engine, Any], Any], given: Any, modes: list[str]
) -> tuple[list[Any], list[Any]]:
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        app = build(_Engine("rewind"), saver)
        live = [e async for e in app.astream_events(given, CONFIG, version="v2", stream_mode=modes)]
    store = await open_log(path)
    try:
        (run,) = await store.list_runs(thread_id="t")
        replayed = [
            c
            async for c in areplay(
                store, run.run_id, stream_mode="events", events_stream_mode=modes
            )
        ]
    finally:
        await store.aclose()
    return live, replayed


@pytest.mark.parametrize(
    "name", ["runnable_bound", "sequence_bound", "program_in_program", "parallel"]
)
def test_a_replay_equals_the_live_events(tmp_path: Path, name: str) -> None:
    build = _parallel if name == "parallel" else PROGRAMS[name]
    modes = ["values", "updates", "tasks"]
    live, replayed = asyncio.run(
        _live_and_replayed(tmp_path / "runs.db", build, INPUTS.get(name, "x"), modes)
    )
    assert live and [encode(e) for e in replayed] == [encode(e) for e in live]
