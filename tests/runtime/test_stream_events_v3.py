"""LangGraph's ``stream_events``: v1/v2 are not synchronous in either library, and v3 (its
experimental run streams) is refused by rewind with a message saying what to use."""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

import pytest
from langgraph.graph import START as LG_START
from langgraph.graph import StateGraph as LgGraph

from rewind.graph import START, StateGraph


class State(TypedDict):
    x: int


def _graph(graph_cls: Any, start: str) -> Any:
    builder = graph_cls(State)
    builder.add_node("a", lambda state: {"x": state["x"] + 1})
    builder.add_edge(start, "a")
    return builder.compile()


def test_sync_v2_is_not_implemented_in_either() -> None:
    with pytest.raises(NotImplementedError, match="astream_events"):
        _graph(StateGraph, START).stream_events({"x": 0}, version="v2")
    with pytest.raises(NotImplementedError, match="astream_events"):
        _graph(LgGraph, LG_START).stream_events({"x": 0}, version="v2")


def test_v3_is_refused_with_what_to_use_instead() -> None:
    graph = _graph(StateGraph, START)
    with pytest.raises(NotImplementedError, match=r"stream_events\(version='v3'\).*stream/events"):
        graph.stream_events({"x": 0}, version="v3")

    async def events() -> None:
        async for _ in graph.astream_events({"x": 0}, version="v3"):
            pass

    with pytest.raises(NotImplementedError, match="not implemented in rewind"):
        asyncio.run(events())
