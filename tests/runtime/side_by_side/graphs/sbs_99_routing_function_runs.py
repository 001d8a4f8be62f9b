"""Routing functions seen through ``astream_events``: each is a run inside its node's run,
tagged with its place in the sequence LangGraph runs a node as (its function, its state
write, one write per static edge and per join the node starts, then its routing functions in
the order they were added): ``seq:step:3`` for a node's only router, more when the node also
has edges out, or several routers.

START -> intake, and START --(first_stop)--> END (the input's node: an edge, then a router)
intake --(edge)--> audit, and intake --(size, then parity)--> END or note
audit --(edge)--> check, audit + check --(join)--> merge, audit --(after_audit)--> END
check (its part of the join), then merge --(done)--> END

One task a step: the order of parallel tasks' events is another matter (sbs_07).
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    n: int
    path: Annotated[list[str], operator.add]


def _visit(name: str):
    async def node(state: State) -> dict:
        return {"path": [name]}

    return node


def first_stop(state: State) -> list[str]:
    return [END] if state["n"] % 2 else []


def size(state: State) -> str:
    return END


def parity(state: State) -> str:
    return "note" if state["n"] > 5 else END


def after_audit(state: State) -> str:
    return END


def done(state: State) -> str:
    return END


def build(checkpointer):
    g = StateGraph(State)
    for name in ("intake", "audit", "check", "note", "merge"):
        g.add_node(name, _visit(name))
    g.add_edge(START, "intake")
    g.add_conditional_edges(START, first_stop, [END])
    g.add_edge("intake", "audit")
    g.add_conditional_edges("intake", size, [END])
    g.add_conditional_edges("intake", parity, ["note", END])
    g.add_edge("audit", "check")
    g.add_edge(["audit", "check"], "merge")
    g.add_conditional_edges("audit", after_audit, [END])
    g.add_conditional_edges("merge", done, [END])
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "odd_small", "calls": [{"input": {"n": 3}}]},
    {"name": "even_small", "calls": [{"input": {"n": 2}}]},
]
