"""A waiting edge: ``join`` runs once both branches are done, one branch being longer.

START -> fast ----------------------\\
START -> slow1 -> slow2 -> slow3 ----+--> join (add_edge(["fast", "slow3"], "join")) -> END
fast -> side -> END  (an ordinary edge: side runs in step 2, alongside slow2)

``fast`` finishes in step 1, ``slow3`` in step 3: the join must wait (its progress shows in the
history) and run exactly once, in step 4. A second invoke on the same thread runs it all again.
"""

import operator
import time
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    joined: int


def _step(name: str, delay: float = 0.0):
    def node(state: State) -> dict:
        time.sleep(delay)
        return {"log": [name]}

    return node


def join(state: State) -> dict:
    return {"log": ["join"], "joined": state.get("joined", 0) + 1}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("fast", _step("fast"))
    g.add_node("slow1", _step("slow1", 0.02))
    g.add_node("slow2", _step("slow2"))
    g.add_node("slow3", _step("slow3"))
    g.add_node("side", _step("side"))
    g.add_node("join", join)
    g.add_edge(START, "fast")
    g.add_edge(START, "slow1")
    g.add_edge("slow1", "slow2")
    g.add_edge("slow2", "slow3")
    g.add_edge("fast", "side")
    g.add_edge(["fast", "slow3"], "join")
    g.add_edge("side", END)
    g.add_edge("join", END)
    return g.compile(checkpointer=checkpointer)


# Parallel sync nodes finish in the same instant here: LangGraph interleaves their
# astream_events (one task's on_chain_stream before or after the other's on_chain_end) by
# thread timing. Each task's own events are the same; their interleaving is not compared.
EVENTS_COMPARABLE = False

SCENARIOS = [
    {"name": "main", "calls": [{"input": {"log": ["start"]}}]},
    {"name": "twice", "calls": [{"input": {"log": ["run1"]}}, {"input": {"log": ["run2"]}}]},
]
