"""LangGraph's channels in state annotations: ``Topic`` (with and without ``accumulate``),
``BinaryOperatorAggregate``, ``EphemeralValue`` (cleared after a step that does not write it),
``UntrackedValue`` (shown while the run runs, never in a checkpoint), ``AnyValue`` (several
writes a step), ``LastValue`` and a channel
class given bare (``Annotated[str, EphemeralValue]``). Errors: two writes in one step to a
``LastValue`` or a guarded ``EphemeralValue``.

START -> fan out to a, b (parallel) -> join -> END
"""

import operator
from typing import Annotated, TypedDict

from langgraph.channels import (
    AnyValue,
    BinaryOperatorAggregate,
    EphemeralValue,
    LastValue,
    Topic,
    UntrackedValue,
)
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt


class State(TypedDict, total=False):
    name: Annotated[str, LastValue(str)]
    topic: Annotated[list[str], Topic(str)]
    log: Annotated[list[str], Topic(str, accumulate=True)]
    total: Annotated[int, BinaryOperatorAggregate(int, operator.add)]
    flash: Annotated[str, EphemeralValue]
    scratch: Annotated[str, UntrackedValue(str)]
    any: Annotated[str, AnyValue]


def a(state: State) -> dict:
    return {
        "topic": ["a1", "a2"],
        "log": "a",
        "total": 1,
        "flash": f"from a, saw {state.get('flash')}",
        "scratch": "a's",
        "any": "same",
    }


def b(state: State) -> dict:
    return {"topic": "b", "log": ["b"], "total": 2, "any": "same"}


def join(state: State) -> dict:
    return {
        "name": f"{state.get('flash')}|{state.get('scratch')}|{state.get('topic')}",
        "total": 10,
    }


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("a", a)
    g.add_node("b", b)
    g.add_node("join", join)
    g.add_edge(START, "a")
    g.add_edge(START, "b")
    g.add_edge(["a", "b"], "join")
    g.add_edge("join", END)
    return g.compile(checkpointer=checkpointer)


def build_chain(checkpointer):  # one task a step: every mode's chunks in a fixed order
    g = StateGraph(State)
    g.add_node("a", a)
    g.add_node("join", join)
    g.add_edge(START, "a")
    g.add_edge("a", "join")
    g.add_edge("join", END)
    return g.compile(checkpointer=checkpointer)


def ask(state: State) -> dict:
    answer = interrupt(f"{state.get('flash')}/{state.get('scratch')}/{state.get('topic')}?")
    return {"name": answer, "log": ["asked"]}


def build_asking(checkpointer):  # a -> ask (interrupts) -> join
    g = StateGraph(State)
    g.add_node("a", a)
    g.add_node("ask", ask)
    g.add_node("join", join)
    g.add_edge(START, "a")
    g.add_edge("a", "ask")
    g.add_edge("ask", "join")
    g.add_edge("join", END)
    return g.compile(checkpointer=checkpointer)


def two_names(state: State) -> dict:
    return {"name": "one"}


def two_flashes(state: State) -> dict:
    return {"flash": "one"}


def _twice(node) -> object:  # two parallel writers of the same key
    def build_it(checkpointer):
        g = StateGraph(State)
        g.add_node("x", node)
        g.add_node("y", node)
        g.add_edge(START, "x")
        g.add_edge(START, "y")
        return g.compile(checkpointer=checkpointer)

    return build_it


build_two_names = _twice(two_names)
build_two_flashes = _twice(two_flashes)

# a and b run in parallel: LangGraph's events of their runs come in the order its threads
# finish (the graph's other comparisons are exact).
EVENTS_COMPARABLE = False

_MODES = ["values", "updates", "checkpoints"]

SCENARIOS = [
    {
        "name": "every_channel",
        "calls": [
            {"input": {"name": "n", "flash": "in", "scratch": "s", "log": ["start"]}},
            {"input": {"name": "again"}, "api": "stream", "kwargs": {"stream_mode": _MODES}},
            {
                "input": {"total": 100, "flash": "x"},
                "api": "astream",
                "kwargs": {"stream_mode": "values"},
            },
        ],
    },
    {
        "name": "update_state_writes_through_the_channels",
        "calls": [
            {"input": {"name": "n"}},
            {
                "input": {"topic": ["u"], "total": 5, "flash": "f"},
                "api": "update_state",
                "kwargs": {"as_node": "join"},
            },
            {"input": None, "api": "stream", "kwargs": {"stream_mode": ["values", "updates"]}},
        ],
    },
    {
        "name": "every_mode",
        "build": "build_chain",
        "calls": [
            {
                "input": {"name": "n", "flash": "in", "scratch": "s"},
                "api": "stream",
                "kwargs": {"stream_mode": ["values", "updates", "debug", "tasks", "checkpoints"]},
            },
            {"input": {"name": "m"}, "api": "astream", "kwargs": {"stream_mode": "debug"}},
        ],
    },
    {
        "name": "no_checkpointer",
        "build": "build_chain",
        "checkpointer": False,
        "calls": [{"input": {"name": "n"}, "api": "stream", "kwargs": {"stream_mode": _MODES}}],
    },
    {
        "name": "two_last_values_in_a_step",
        "build": "build_two_names",
        "calls": [{"input": {"name": "n"}}],
    },
    {
        "name": "two_ephemeral_values_in_a_step",
        "build": "build_two_flashes",
        "calls": [{"input": {"name": "n"}}],
    },
    {
        "name": "interrupt_and_resume",
        "build": "build_asking",
        "calls": [
            {
                "input": {"name": "n", "flash": "in", "scratch": "s"},
                "api": "stream",
                "kwargs": {"stream_mode": ["values", "updates"]},
            },
            {
                "input": Command(resume="answer"),
                "api": "stream",
                "kwargs": {"stream_mode": ["values", "updates"]},
            },
            {"input": {"name": "again"}, "at": ["ask"]},  # time travel to the question
        ],
    },
]
