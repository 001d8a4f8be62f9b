"""Managed values: ``RemainingSteps`` and ``IsLastStep`` in the state, as LangGraph's
how-to on recursion limits uses them. Nodes and routing functions read them (computed for the
step they run in, from the run's recursion limit); they are not stored (not in the output, not
in ``get_state``); what a node writes to them, or an input gives them, is ignored; ``tasks``
and ``debug`` chunks show them in a task's input. A pydantic state's task input is the model
with every field. (Managed values in an input or output
schema: ``build_errors.py``.)

START -> loop (until two steps remain, or the last step) -> END
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.managed import IsLastStep, RemainingSteps
from pydantic import BaseModel


class State(TypedDict, total=False):
    seen: Annotated[list, operator.add]
    remaining_steps: RemainingSteps
    is_last_step: IsLastStep


def loop(state: State) -> dict:
    return {
        "seen": [[state["remaining_steps"], state["is_last_step"], sorted(state)]],
        "remaining_steps": 99,  # ignored
    }


def route(state: State) -> str:
    return END if state["is_last_step"] or state["remaining_steps"] <= 2 else "loop"


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("loop", loop)
    g.add_edge(START, "loop")
    g.add_conditional_edges("loop", route)
    return g.compile(checkpointer=checkpointer)


class Model(BaseModel):
    count: int = 0
    note: str = "none"
    remaining_steps: RemainingSteps = 0


def bump(state: Model) -> dict:
    return {"count": state.count + 1, "note": f"{state.remaining_steps} left"}


def build_pydantic(checkpointer):
    g = StateGraph(Model)
    g.add_node("bump", bump)
    g.add_edge(START, "bump")
    g.add_edge("bump", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {
        "name": "counts_down_to_the_limit",
        "config": {"recursion_limit": 6},
        "calls": [
            {"input": {"seen": []}},
            {"input": {"seen": [], "remaining_steps": 1}},  # an input to it is ignored
        ],
    },
    {
        "name": "last_step",
        "build": "build",
        "config": {"recursion_limit": 3},
        "calls": [{"input": {"seen": []}, "kwargs": {"stream_mode": ["debug", "updates"]}}],
    },
    {
        "name": "tasks_show_it",
        "config": {"recursion_limit": 4},
        "calls": [{"input": {"seen": []}, "api": "stream", "kwargs": {"stream_mode": "tasks"}}],
    },
    {
        "name": "pydantic_state",
        "build": "build_pydantic",
        "calls": [
            {"input": {"count": 1}, "api": "stream", "kwargs": {"stream_mode": ["tasks", "values"]}}
        ],
    },
    {
        "name": "resumed_after_a_breakpoint",
        "config": {"recursion_limit": 6},
        "calls": [
            {"input": {"seen": []}, "kwargs": {"interrupt_after": ["loop"]}},
            {"input": None, "api": "stream", "kwargs": {"stream_mode": "tasks"}},
        ],
    },
]
