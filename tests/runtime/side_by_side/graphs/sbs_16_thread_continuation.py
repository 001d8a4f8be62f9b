"""One thread continued over three invokes: history across runs.

START -> inc -> END. ``total`` accumulates (operator.add), ``last`` is overwritten, ``runs``
counts runs by reading the previous value; the third call passes only part of the state.
Also a second thread, to check threads do not see each other.
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    add: int
    total: Annotated[list[int], operator.add]
    last: int
    runs: int


def inc(state: State) -> dict:
    return {"total": [state["add"]], "last": state["add"], "runs": state.get("runs", 0) + 1}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("inc", inc)
    g.add_edge(START, "inc")
    g.add_edge("inc", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {
        "name": "three_runs",
        "calls": [
            {"input": {"add": 1}},
            {"input": {"add": 10, "total": [100]}},
            {"input": {"add": 5}, "api": "ainvoke"},
            {"input": {"add": 7}, "config": {"configurable": {"thread_id": "other-thread"}}},
        ],
    },
]
