"""Time travel, as LangGraph's how-to does it: ``invoke``/``stream`` with ``None`` and the
config of a past checkpoint (from ``get_state_history``). LangGraph 1.2 records a ``fork``
checkpoint after it and runs its tasks again (finished tasks rerun only on time travel); with
``update_state`` first, the run continues from the update's checkpoint without a fork. A
resume (``Command(resume=...)``) at the thread's newest checkpoint still hands back the
writes of the step's finished tasks; at a checkpoint the thread has moved past, they run
again.

START -> a -> b -> c -> END ; START -> ask, other -> END (parallel, one interrupts)
"""

import operator
import time
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def node(name: str):
    def run(state: State) -> dict:
        return {"log": [name]}

    run.__name__ = name
    return run


def build(checkpointer):
    g = StateGraph(State)
    for name in "abc":
        g.add_node(name, node(name))
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", "c")
    g.add_edge("c", END)
    return g.compile(checkpointer=checkpointer)


def ask(state: State) -> dict:
    time.sleep(0.05)  # the other task finishes first, as it does in LangGraph most of the time
    return {"log": [f"ask:{interrupt('which?')}"]}


def build_interrupt(checkpointer):
    g = StateGraph(State)
    g.add_node("ask", ask)
    g.add_node("other", node("other"))
    g.add_edge(START, "ask")
    g.add_edge(START, "other")
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {
        "name": "replay_from_before_b",
        "calls": [
            {"input": {"log": []}},
            {
                "input": None,
                "at": ["b"],
                "api": "stream",
                "kwargs": {"stream_mode": ["updates", "checkpoints"]},
            },
        ],
    },
    {
        "name": "replay_from_the_end",
        "calls": [{"input": {"log": []}}, {"input": None, "at": []}],
    },
    {
        "name": "resume_at_the_newest_checkpoint",
        "build": "build_interrupt",
        "calls": [
            {
                "input": {"log": []},
                "api": "stream",
                "kwargs": {"stream_mode": ["values", "updates"]},
            },
            {
                "input": Command(resume="x"),
                "at": ["ask", "other"],
                "api": "stream",
                "kwargs": {"stream_mode": "updates"},
            },
        ],
    },
    {
        "name": "resume_at_a_superseded_checkpoint",
        "build": "build_interrupt",
        "calls": [
            {"input": {"log": []}},
            {"input": Command(resume="x")},
            {"input": Command(resume="y"), "at": ["ask", "other"]},
        ],
    },
]

# The parallel ask/other tasks: LangGraph interleaves their astream_events by thread timing.
EVENTS_COMPARABLE = False
