"""Conditional edges in every form: a dict path map, a list path map, a ``Literal``-annotated
router without a path map, and a router returning a list of destinations (fan-out).

START -> classify --(dict map: "small"/"big"/"done")--> small | big | END
small --(list map ["polish", "finish"])--> polish | finish
big   --(Literal["polish", "finish", "__end__"])--> polish | finish | END
polish --(returns a list)--> [check, audit] (both run in one step) | finish
check, audit -> finish -> END
"""

import operator
from typing import Annotated, Literal, TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    n: int
    path: Annotated[list[str], operator.add]


def _visit(name: str):
    def node(state: State) -> dict:
        return {"path": [name]}

    return node


def by_size(state: State) -> str:
    if state["n"] < 0:
        return "done"
    return "small" if state["n"] < 10 else "big"


def small_next(state: State) -> str:
    return "polish" if state["n"] % 2 else "finish"


def big_next(state: State) -> Literal["polish", "finish", "__end__"]:
    if state["n"] >= 1000:
        return END
    return "polish" if state["n"] % 2 else "finish"


def fan(state: State) -> list[str]:
    return ["check", "audit"] if state["n"] % 3 else ["finish"]


def build(checkpointer):
    g = StateGraph(State)
    for name in ("classify", "small", "big", "polish", "check", "audit", "finish"):
        g.add_node(name, _visit(name))
    g.add_edge(START, "classify")
    g.add_conditional_edges("classify", by_size, {"small": "small", "big": "big", "done": END})
    g.add_conditional_edges("small", small_next, ["polish", "finish"])
    g.add_conditional_edges("big", big_next)
    g.add_conditional_edges("polish", fan, ["check", "audit", "finish"])
    g.add_edge("check", "finish")
    g.add_edge("audit", "finish")
    g.add_edge("finish", END)
    return g.compile(checkpointer=checkpointer)


# Parallel sync nodes finish in the same instant here: LangGraph interleaves their
# astream_events (one task's on_chain_stream before or after the other's on_chain_end) by
# thread timing. Each task's own events are the same; their interleaving is not compared.
EVENTS_COMPARABLE = False

SCENARIOS = [
    {"name": "small_odd_fan_out", "calls": [{"input": {"n": 7}}]},
    {"name": "small_even", "calls": [{"input": {"n": 4}}]},
    {"name": "big_odd_no_fan", "calls": [{"input": {"n": 33}}]},
    {"name": "big_end", "calls": [{"input": {"n": 1001}}]},
    {"name": "mapped_end", "calls": [{"input": {"n": -1}}]},
]
