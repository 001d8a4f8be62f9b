"""``output_keys`` on a call: what its output and its ``values`` and ``updates`` show. One key:
its value (``updates`` give each node's write to it, ``None`` for none; a step that did not
write it streams no ``values``); a list: those keys, in the list's order. Tasks, checkpoints
and the state keep every channel. With an interrupt, one key gives the interrupts alone. A key
that is not a channel is refused before the run starts.

START -> plan -> review (interrupt) -> END
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt


class State(TypedDict, total=False):
    topic: str
    draft: str
    notes: Annotated[list[str], operator.add]


def plan(state: State) -> dict:
    return {"draft": f"about {state['topic']}", "notes": ["planned"]}


def review(state: State) -> dict:
    verdict = interrupt({"draft": state["draft"]})
    return {"notes": [f"review: {verdict}"]}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("plan", plan)
    g.add_node("review", review)
    g.add_edge(START, "plan")
    g.add_edge("plan", "review")
    g.add_edge("review", END)
    return g.compile(checkpointer=checkpointer)


_MODES = ["values", "updates", "tasks", "checkpoints"]

SCENARIOS = [
    {
        "name": "one_key",
        "calls": [
            {"input": {"topic": "owls", "notes": []}, "kwargs": {"output_keys": "draft"}},
            {"input": Command(resume="ok"), "kwargs": {"output_keys": "notes"}},
        ],
    },
    {
        "name": "key_list_in_its_order",
        "calls": [
            {"input": {"topic": "cats"}, "kwargs": {"output_keys": ["notes", "draft"]}},
            {"input": Command(resume="fine"), "kwargs": {"output_keys": ["notes", "topic"]}},
        ],
    },
    {
        "name": "streamed_one_key",
        "calls": [
            {
                "input": {"topic": "bats", "notes": []},
                "api": "stream",
                "kwargs": {"stream_mode": _MODES, "output_keys": "draft"},
            },
            {
                "input": Command(resume="good"),
                "api": "stream",
                "kwargs": {"stream_mode": _MODES, "output_keys": "notes"},
            },
        ],
    },
    {
        "name": "streamed_key_list",
        "calls": [
            {
                "input": {"topic": "rats"},
                "api": "stream",
                "kwargs": {"stream_mode": ["values", "updates"], "output_keys": ["notes", "draft"]},
            },
            {
                "input": Command(resume="yes"),
                "api": "stream",
                "kwargs": {"stream_mode": "values", "output_keys": ["draft"]},
            },
        ],
    },
    {
        "name": "unknown_key",
        "calls": [
            {"input": {"topic": "x"}, "kwargs": {"output_keys": ["draft", "nope"]}},
            {"input": {"topic": "y"}, "api": "stream", "kwargs": {"output_keys": "nope"}},
        ],
    },
]
