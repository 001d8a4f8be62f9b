"""RunControl: a drain request stops the run before its next step, as LangGraph's does, and
the thread continues from there."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import pytest
from langgraph.checkpoint.memory import InMemorySaver as LgSaver
from langgraph.errors import GraphDrained as LgGraphDrained
from langgraph.graph import START as LG_START
from langgraph.graph import StateGraph as LgGraph
from langgraph.runtime import RunControl as LgRunControl
from langgraph.runtime import Runtime as LgRuntime

from rewind import EventType
from rewind.checkpoint.memory import InMemorySaver
from rewind.errors import GraphDrained
from rewind.graph import START, StateGraph
from rewind.runtime import RunControl, Runtime


class State(TypedDict):
    steps: Annotated[list[str], operator.add]


def _graph(graph_cls: Any, start: str, runtime_cls: Any, saver: Any) -> Any:
    def one(state: State, runtime: runtime_cls) -> dict[str, Any]:  # type: ignore[valid-type]
        seen = runtime.drain_requested
        runtime.control.request_drain("deploy")  # as a shutdown hook would, mid-step
        return {"steps": [f"one:{seen}:{runtime.drain_reason}"]}

    def two(state: State) -> dict[str, Any]:
        return {"steps": ["two"]}

    builder = graph_cls(State)
    builder.add_node("one", one)
    builder.add_node("two", two)
    builder.add_edge(start, "one")
    builder.add_edge("one", "two")
    return builder.compile(checkpointer=saver)


def test_a_drain_stops_before_the_next_step_and_resumes_as_langgraphs() -> None:
    ours = _graph(StateGraph, START, Runtime, InMemorySaver())
    theirs = _graph(LgGraph, LG_START, LgRuntime, LgSaver())
    config = {"configurable": {"thread_id": "t"}}
    with pytest.raises(GraphDrained) as mine:
        ours.invoke({"steps": []}, config, control=RunControl())
    with pytest.raises(LgGraphDrained) as other:
        theirs.invoke({"steps": []}, config, control=LgRunControl())
    assert str(mine.value) == str(other.value) == "Graph drained: deploy"
    assert mine.value.reason == other.value.reason == "deploy"
    state, their_state = ours.get_state(config), theirs.get_state(config)
    assert state.values == their_state.values == {"steps": ["one:False:deploy"]}
    assert state.next == their_state.next == ("two",)
    # A run given no control gets its own, never drained: the thread goes on.
    assert ours.invoke(None, config) == theirs.invoke(None, config)
    assert ours.get_state(config).values["steps"] == ["one:False:deploy", "two"]


def test_a_requested_drain_stops_before_the_first_step_and_is_in_the_log() -> None:
    saver = InMemorySaver()
    ours = _graph(StateGraph, START, Runtime, saver)
    theirs = _graph(LgGraph, LG_START, LgRuntime, LgSaver())
    config = {"configurable": {"thread_id": "t"}}
    control, their_control = RunControl(), LgRunControl()
    control.request_drain()
    their_control.request_drain()
    with pytest.raises(GraphDrained, match="Graph drained: shutdown"):
        ours.invoke({"steps": []}, config, control=control)
    with pytest.raises(LgGraphDrained, match="Graph drained: shutdown"):
        theirs.invoke({"steps": []}, config, control=their_control)
    assert ours.get_state(config).next == theirs.get_state(config).next

    async def ended() -> dict[str, Any]:
        log = await saver.log()
        runs = await log.list_runs(thread_id="t")
        events = await log.read(runs[0].run_id)
        return next(e.payload for e in events if e.type == EventType.RUN_ENDED)

    assert asyncio.run(ended()) == {"status": "interrupted", "drained": "shutdown"}


def test_streams_stop_the_same_way() -> None:
    ours = _graph(StateGraph, START, Runtime, InMemorySaver())
    theirs = _graph(LgGraph, LG_START, LgRuntime, LgSaver())
    config = {"configurable": {"thread_id": "t"}}

    def chunks(graph: Any, control: Any, drained: type[BaseException]) -> list[Any]:
        got: list[Any] = []
        stream = graph.stream({"steps": []}, config, control=control)
        with pytest.raises(drained):
            got.extend(stream)
        return got

    assert chunks(ours, RunControl(), GraphDrained) == chunks(
        theirs, LgRunControl(), LgGraphDrained
    )
