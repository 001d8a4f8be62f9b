"""InvalidUpdateError: two parallel nodes writing the same plain (no reducer) key in one step,
and a node returning something that is not an update.

START -> left, right (parallel, both write ``winner``) -> END       (scenario "concurrent")
START -> bad (returns a string)                                       (scenario "not_a_dict")
The conditional entry point picks the branch. get_state afterwards is compared too.
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, StateGraph


class State(TypedDict, total=False):
    mode: str
    winner: str
    log: Annotated[list[str], operator.add]


def left(state: State) -> dict:
    return {"winner": "left", "log": ["left"]}


def right(state: State) -> dict:
    return {"winner": "right", "log": ["right"]}


def only_log(state: State) -> dict:
    return {"log": ["only_log"]}


def bad(state: State) -> str:
    return "not a dict"


def entry(state: State) -> list[str]:
    if state["mode"] == "concurrent":
        return ["left", "right"]
    if state["mode"] == "reducer_only":
        return ["left", "only_log"]
    return ["bad"]


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("left", left)
    g.add_node("right", right)
    g.add_node("only_log", only_log)
    g.add_node("bad", bad)
    g.set_conditional_entry_point(entry, ["left", "right", "only_log", "bad"])
    for name in ("left", "right", "only_log", "bad"):
        g.add_edge(name, END)
    return g.compile(checkpointer=checkpointer)


# Parallel sync nodes finish in the same instant here: LangGraph interleaves their
# astream_events (one task's on_chain_stream before or after the other's on_chain_end) by
# thread timing. Each task's own events are the same; their interleaving is not compared.
EVENTS_COMPARABLE = False

SCENARIOS = [
    {"name": "concurrent", "calls": [{"input": {"mode": "concurrent"}}]},
    {"name": "reducer_only_is_fine", "calls": [{"input": {"mode": "reducer_only"}}]},
    {"name": "not_a_dict", "calls": [{"input": {"mode": "bad"}}]},
]
