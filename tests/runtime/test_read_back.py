"""A tuple in the state, read back from the log, is what LangGraph's checkpointer gives back
(a list), live and replayed alike; a state without tuples is read back with no round trip.

The side-by-side programs ``sbs_96`` and ``sbs_97`` compare each path with LangGraph; here,
what the harness cannot tell apart (a tuple from a list in a chunk, a ``get_state``) and the
replays.
"""

from __future__ import annotations

import asyncio
import operator
from pathlib import Path
from typing import Annotated, Any, NamedTuple, TypedDict

import pytest

from rewind import open_log
from rewind.cache.memory import InMemoryCache
from rewind.checkpoint.serde.jsonplus import JsonPlusSerializer
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.func import entrypoint
from rewind.graph import END, START, StateGraph
from rewind.log import codec
from rewind.types import CachePolicy, Command, interrupt
from tests.runtime.test_replay import _replayed, _text  # (_text tells a tuple from a list)

ALL = ["values", "updates", "custom", "tasks", "checkpoints", "debug", "events"]


class Point(NamedTuple):
    lat: float
    span: tuple[int, ...]


class State(TypedDict, total=False):
    city: str
    pair: Any
    point: Any
    trail: Annotated[list[Any], operator.add]
    side: Any
    seen: Any


def _look(state: State) -> dict[str, Any]:
    return {"seen": {k: type(v).__name__ for k, v in state.items() if k != "seen"}}


def _build(checkpointer: Any, *, tuples: bool = True) -> Any:
    """``plan`` writes the state (with tuples, or lists); ``side`` and ``ask`` (which
    interrupts) run after it; then a subgraph that interrupts; ``lookup`` is cached, and a
    thread's next run starts there."""

    def value(v: Any) -> Any:
        return v if tuples else list(v)

    def plan(state: State) -> dict[str, Any]:
        point = Point(1.5, (2, 3)) if tuples else {"lat": 1.5, "span": [2, 3]}
        return {"pair": value((1, value((2, 3)))), "point": point, "trail": [value(("a", 1))]}

    def side(state: State) -> dict[str, Any]:
        return {"side": value(("hotel", 3))}

    def ask(state: State) -> dict[str, Any]:
        answer = interrupt("book?")
        return {"seen": {"answer": type(answer).__name__, "pair": type(state["pair"]).__name__}}

    def mark(state: State) -> dict[str, Any]:
        return {"side": value(("inner", 1))}

    inner = StateGraph(State)
    inner.add_node("mark", mark)
    inner.add_node("ask", ask)
    inner.add_edge(START, "mark")
    inner.add_edge("mark", "ask")

    def lookup(state: State) -> dict[str, Any]:
        return {"pair": value((state["city"], 2))}

    g = StateGraph(State)
    g.add_node("plan", plan)
    g.add_node("side", side)
    g.add_node("ask", ask)
    g.add_node("inner", inner.compile())
    g.add_node("lookup", lookup, cache_policy=CachePolicy(key_func=lambda s: s["city"]))
    g.add_node("look", _look)
    g.add_conditional_edges(START, lambda s: "lookup" if "pair" in s else "plan")
    g.add_edge("plan", "side")
    g.add_edge("plan", "ask")
    g.add_edge(["side", "ask"], "inner")
    g.add_edge("inner", "lookup")
    g.add_edge("lookup", "look")
    g.add_edge("look", END)
    return g.compile(checkpointer=checkpointer, cache=InMemoryCache())


def _calls(*, tuples: bool = True) -> list[Any]:
    return [
        {"city": "Paris"},
        Command(resume=("yes", 1) if tuples else ["yes", 1]),
        Command(resume="ok"),
        {"city": "Paris"},  # the thread's second run: lookup is a cache hit
    ]


CALLS = _calls()


def _runs(path: Path, thread: str) -> list[str]:
    async def go() -> list[str]:
        store = await open_log(path)
        try:
            runs = await store.list_runs(thread_id=thread, oldest_first=True)
            return [r.run_id for r in runs]
        finally:
            await store.aclose()

    return asyncio.run(go())


def test_the_codec_notes_a_decoded_tuple() -> None:
    plain = codec.encode({"a": [1, 2], "b": {"c": "d"}})
    tagged = codec.encode({"a": (1, 2)})
    named = codec.encode([Point(1.0, [])])
    mark = codec.tuples_decoded()
    codec.decode(plain)
    codec.decode(codec.encode({1: [2]}))  # tagged, without a tuple
    assert codec.tuples_decoded() == mark
    assert codec.decode(tagged, counted=False) == {"a": (1, 2)}
    assert codec.tuples_decoded() == mark
    assert codec.decode(tagged) == {"a": (1, 2)}
    assert codec.tuples_decoded() != mark
    mark = codec.tuples_decoded()
    assert codec.decode(named) == [Point(1.0, [])]
    assert codec.tuples_decoded() != mark


@pytest.mark.parametrize(
    "kwargs", [{"stream_mode": ALL, "subgraphs": True}, {"stream_mode": "values"}], ids=repr
)
def test_what_runs_read_back_is_listed_live_and_replayed(
    tmp_path: Path, kwargs: dict[str, Any]
) -> None:
    path = tmp_path / "runs.db"
    config = {"configurable": {"thread_id": "t"}}
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = _build(saver)
        live = [list(graph.stream(given, config, **kwargs)) for given in CALLS]
        state = graph.get_state(config).values
        history = [s.values for s in graph.get_state_history(config)]
    assert state["pair"] == ["Paris", 2] and type(state["pair"]) is list
    assert type(state["point"].span) is list and state["trail"] == [["a", 1], ["a", 1]]
    assert all(type(v["pair"]) is list for v in history if "pair" in v)
    assert state["seen"] == {k: "list" for k in ("city", "pair", "point", "trail", "side")} | {
        "point": "Point",
        "city": "str",
    }
    runs = _runs(path, "t")
    assert len(runs) == len(CALLS)
    for run_id, chunks in zip(runs, live, strict=True):
        assert _text(_replayed(path, run_id, **kwargs)) == _text(chunks)


def test_a_resume_hands_back_the_finished_writes_as_stored(tmp_path: Path) -> None:
    config = {"configurable": {"thread_id": "t"}}
    with SqliteSaver.from_conn_string(str(tmp_path / "runs.db")) as saver:
        graph = _build(saver)
        graph.invoke(CALLS[0], config)
        assert graph.get_state(config).tasks[0].result == {"side": ["hotel", 3]}
        resumed = list(graph.stream(CALLS[1], config, stream_mode="updates"))
    handed = next(c for c in resumed if "side" in c)
    assert handed["side"] == {"side": ["hotel", 3]}
    assert type(handed["side"]["side"]) is list
    asked = next(c for c in resumed if "ask" in c)
    assert asked["ask"]["seen"] == {"answer": "tuple", "pair": "list"}  # given / loaded


def test_an_entrypoint_s_previous_is_listed_live_and_replayed(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    config = {"configurable": {"thread_id": "e"}}
    with SqliteSaver.from_conn_string(str(path)) as saver:

        @entrypoint(checkpointer=saver)
        def plan(city: str, *, previous: Any = None) -> Any:
            return (city, (1, 2), type(previous).__name__)

        live = [
            list(plan.stream(city, config, stream_mode=["values", "updates", "debug"]))
            for city in ("Paris", "Lyon")
        ]
        assert plan.get_state(config).values == ["Lyon", [1, 2], "list"]
    values = [chunk for mode, chunk in live[1] if mode == "values"]
    assert values[-1] == ("Lyon", (1, 2), "list")
    assert type(values[-1][1]) is tuple  # what the run returned, as it returned it
    for run_id, chunks in zip(_runs(path, "e"), live, strict=True):
        replayed = _replayed(path, run_id, stream_mode=["values", "updates", "debug"])
        assert _text(replayed) == _text(chunks)


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every value put through a serializer's round trip (what a read back costs)."""
    made: list[Any] = []
    dumps = JsonPlusSerializer.dumps_typed

    def counted(self: JsonPlusSerializer, value: Any) -> Any:
        made.append(value)
        return dumps(self, value)

    monkeypatch.setattr(JsonPlusSerializer, "dumps_typed", counted)
    return made


@pytest.mark.parametrize("tuples", [False, True])
def test_a_state_without_tuples_is_read_back_with_no_round_trip(
    tmp_path: Path, round_trips: list[Any], tuples: bool
) -> None:
    """Runs, resumes (in the graph and in a subgraph), a node cache's hit, ``get_state``
    (with subgraphs) and the history: no value is put through the serializer when no tuple
    was read; with tuples, the values read back are."""
    config = {"configurable": {"thread_id": "t"}}
    with SqliteSaver.from_conn_string(str(tmp_path / "runs.db")) as saver:
        graph = _build(saver, tuples=tuples)
        for given in _calls(tuples=tuples):
            graph.invoke(given, config)
            graph.get_state(config, subgraphs=True)
        list(graph.get_state_history(config))
    assert (len(round_trips) > 0) is tuples


def test_a_saver_gives_checkpoints_back_as_langgraph_s_do(tmp_path: Path) -> None:
    """``get_tuple`` and ``list``: a root checkpoint's values and pending writes as stored."""
    config = {"configurable": {"thread_id": "t"}}
    with SqliteSaver.from_conn_string(str(tmp_path / "runs.db")) as saver:
        graph = _build(saver)
        graph.invoke(CALLS[0], config)
        found = saver.get_tuple(config)
        listed = list(saver.list(config))
    assert found is not None
    assert type(found.checkpoint["channel_values"]["pair"]) is list
    assert ("side", ["hotel", 3]) in [(c, v) for _, c, v in found.pending_writes or []]
    assert all(
        type(t.checkpoint["channel_values"]["pair"]) is list
        for t in listed
        if "pair" in t.checkpoint["channel_values"]
    )


def test_a_saver_gives_a_subgraph_s_checkpoints_back_as_langgraph_s_do(tmp_path: Path) -> None:
    """``list`` and ``get_tuple`` of a subgraph's namespace (``checkpoint_ns``): its values
    as stored, as the root's (the subgraph wrote a tuple and stopped at an interrupt)."""
    config = {"configurable": {"thread_id": "t"}}
    with SqliteSaver.from_conn_string(str(tmp_path / "runs.db")) as saver:
        graph = _build(saver)
        graph.invoke(CALLS[0], config)
        graph.invoke(CALLS[1], config)  # on to the subgraph, which interrupts
        namespaces = {
            t.config["configurable"]["checkpoint_ns"]
            for t in saver.list(config)
            if t.config["configurable"]["checkpoint_ns"]
        }
        (ns,) = namespaces
        listed = list(saver.list({"configurable": {"thread_id": "t", "checkpoint_ns": ns}}))
        found = saver.get_tuple({"configurable": {"thread_id": "t", "checkpoint_ns": ns}})
    written = [
        t.checkpoint["channel_values"]["side"]
        for t in listed
        if "side" in t.checkpoint["channel_values"]
    ]
    assert written and all(type(v) is list for v in written), written
    assert found is not None and type(found.checkpoint["channel_values"]["side"]) is list
