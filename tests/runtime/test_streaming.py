"""``stream``/``astream`` shapes, side by side with LangGraph on the same graph."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import langgraph.checkpoint.memory as lg_memory
import langgraph.config as lg_config
import langgraph.graph as lg_graph
import pytest

import rewind.checkpoint.memory as rw_memory
import rewind.config as rw_config
import rewind.graph as rw_graph


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    note: str


def build(graph_mod: Any, config_mod: Any, memory_mod: Any) -> Any:
    def a(state: State) -> dict[str, Any]:
        config_mod.get_stream_writer()({"from": "a"})
        return {"log": ["a"]}

    def b(state: State) -> dict[str, Any]:
        return {"note": "done"}

    def c(state: State) -> None:
        return None

    g = graph_mod.StateGraph(State)
    g.add_node("a", a)
    g.add_node("b", b)
    g.add_node("c", c)
    g.add_edge(graph_mod.START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", "c")
    g.add_edge("c", graph_mod.END)
    return g.compile(checkpointer=memory_mod.InMemorySaver())


SHAPES: list[dict[str, Any]] = [
    {},
    {"stream_mode": "values"},
    {"stream_mode": "updates"},
    {"stream_mode": "custom"},
    {"stream_mode": ["values", "updates", "custom"]},
    {"stream_mode": ["values"]},
    {"stream_mode": ("values", "updates")},
    {"stream_mode": ["updates", "custom"], "subgraphs": True},
    {"stream_mode": ["values", "updates"], "version": "v2"},
]


@pytest.mark.parametrize("kwargs", SHAPES, ids=repr)
def test_stream_matches_langgraph(kwargs: dict[str, Any]) -> None:
    config = {"configurable": {"thread_id": "t"}}
    ours = list(build(rw_graph, rw_config, rw_memory).stream({"log": []}, config, **kwargs))
    theirs = list(build(lg_graph, lg_config, lg_memory).stream({"log": []}, config, **kwargs))
    assert ours == theirs


def test_astream_matches_stream() -> None:
    graph = build(rw_graph, rw_config, rw_memory)

    async def collect() -> list[Any]:
        config = {"configurable": {"thread_id": "a"}}
        return [c async for c in graph.astream({"log": []}, config, stream_mode=["values"])]

    streamed = list(
        graph.stream({"log": []}, {"configurable": {"thread_id": "s"}}, stream_mode=["values"])
    )
    assert asyncio.run(collect()) == streamed


def test_an_unsupported_mode_is_refused_with_a_clear_error() -> None:
    graph = build(rw_graph, rw_config, rw_memory)
    with pytest.raises(ValueError, match="unknown stream mode"):
        list(graph.stream({"log": []}, {"configurable": {"thread_id": "t"}}, stream_mode="bogus"))
