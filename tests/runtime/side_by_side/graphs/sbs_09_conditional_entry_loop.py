"""A conditional entry point and a conditional loop that ends.

START --(set_conditional_entry_point, dict map)--> count_up | count_down
count_up --(loop while n < target)--> count_up | done
count_down --(loop while n > target)--> count_down | done
done -> END
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, StateGraph


class State(TypedDict, total=False):
    n: int
    target: int
    seen: Annotated[list[int], operator.add]


def entry(state: State) -> str:
    return "up" if state["n"] < state["target"] else "down"


def count_up(state: State) -> dict:
    return {"n": state["n"] + 1, "seen": [state["n"]]}


def count_down(state: State) -> dict:
    return {"n": state["n"] - 1, "seen": [state["n"]]}


def again_up(state: State) -> str:
    return "count_up" if state["n"] < state["target"] else "done"


def again_down(state: State) -> str:
    return "count_down" if state["n"] > state["target"] else "done"


def done(state: State) -> dict:
    return {"seen": [-1]}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("count_up", count_up)
    g.add_node("count_down", count_down)
    g.add_node("done", done)
    g.set_conditional_entry_point(entry, {"up": "count_up", "down": "count_down"})
    g.add_conditional_edges("count_up", again_up, ["count_up", "done"])
    g.add_conditional_edges("count_down", again_down, ["count_down", "done"])
    g.add_edge("done", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "up", "calls": [{"input": {"n": 0, "target": 3}}]},
    {"name": "down", "calls": [{"input": {"n": 5, "target": 2}}]},
    {"name": "equal", "calls": [{"input": {"n": 4, "target": 4}}]},
]
