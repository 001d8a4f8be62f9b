"""A node raising ValueError: the error, and get_state / history afterwards.

START -> prep -> risky -> END, and START -> prep -> steady -> END in parallel with risky.
Scenarios: ``risky`` raises (its sibling ``steady`` succeeds in the same step); a run where it
does not raise; and a thread where the first run fails and a second invoke with new input runs.
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    x: int
    log: Annotated[list[str], operator.add]


def prep(state: State) -> dict:
    return {"log": ["prep"]}


def risky(state: State) -> dict:
    if state["x"] < 0:
        raise ValueError(f"negative x: {state['x']}")
    return {"log": ["risky"]}


def steady(state: State) -> dict:
    return {"log": ["steady"]}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("prep", prep)
    g.add_node("risky", risky)
    g.add_node("steady", steady)
    g.add_edge(START, "prep")
    g.add_edge("prep", "risky")
    g.add_edge("prep", "steady")
    g.add_edge("risky", END)
    g.add_edge("steady", END)
    return g.compile(checkpointer=checkpointer)


# Parallel sync nodes finish in the same instant here: LangGraph interleaves their
# astream_events (one task's on_chain_stream before or after the other's on_chain_end) by
# thread timing. Each task's own events are the same; their interleaving is not compared.
EVENTS_COMPARABLE = False

SCENARIOS = [
    {"name": "raises", "calls": [{"input": {"x": -1}}]},
    {"name": "fine", "calls": [{"input": {"x": 1}}]},
    {"name": "fails_then_new_input", "calls": [{"input": {"x": -2}}, {"input": {"x": 2}}]},
]
