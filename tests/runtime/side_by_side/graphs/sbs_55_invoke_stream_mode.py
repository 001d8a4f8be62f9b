"""``invoke``/``ainvoke`` with a ``stream_mode`` other than ``values``: the list of that
stream's chunks, as ``stream`` would yield them (one mode: bare chunks; a list of modes:
``(mode, chunk)`` pairs); ``values`` (the default) returns the output state, and an
interrupted run's ``updates`` list ends with its ``__interrupt__`` chunk.

START -> a -> b (asks, when told to) -> END
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    ask: bool


def a(state: State) -> dict:
    return {"log": ["a"]}


def b(state: State) -> dict:
    if state.get("ask"):
        return {"log": [str(interrupt("which?"))]}
    return {"log": ["b"]}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("a", a)
    g.add_node("b", b)
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {
        "name": "updates",
        "calls": [{"input": {"log": []}, "kwargs": {"stream_mode": "updates"}}],
    },
    {
        "name": "several_modes",
        "calls": [{"input": {"log": []}, "kwargs": {"stream_mode": ["values", "updates"]}}],
    },
    {
        "name": "values_is_the_state",
        "calls": [{"input": {"log": []}, "kwargs": {"stream_mode": "values"}}],
    },
    {
        "name": "async_debug",
        "calls": [{"input": {"log": []}, "api": "ainvoke", "kwargs": {"stream_mode": "tasks"}}],
    },
    {
        "name": "interrupted_updates",
        "calls": [{"input": {"log": [], "ask": True}, "kwargs": {"stream_mode": "updates"}}],
    },
]
