"""Deferred nodes (``add_node(..., defer=True)``), as LangGraph's how-to on branches of unequal
length uses them: the node waits until every other branch is done, then runs once.

START -> a -> b -> b_2 -> d(deferred) -> END
          \\-> c ---------/

Also: a deferred node reached by a join edge; a deferred node reached while ``Send`` tasks run
(it runs beside them, as LangGraph's "after finish" channels allow); an interrupt in a longer
branch while the deferred node waits (the wait survives the checkpoint); and the triggers a
task lists: every channel its node listens to (branch and joins), sorted.
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, Send, interrupt


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    ask: bool


def node(name: str):
    def run(state: State) -> dict:
        return {"log": [name]}

    run.__name__ = name
    return run


def asking(state: State) -> dict:
    if state.get("ask"):
        return {"log": [f"b_2:{interrupt('continue?')}"]}
    return {"log": ["b_2"]}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("a", node("a"))
    g.add_node("b", node("b"))
    g.add_node("b_2", asking)
    g.add_node("c", node("c"))
    g.add_node("d", node("d"), defer=True)
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("a", "c")
    g.add_edge("b", "b_2")
    g.add_edge("b_2", "d")
    g.add_edge("c", "d")
    g.add_edge("d", END)
    return g.compile(checkpointer=checkpointer)


def build_join(checkpointer):
    g = StateGraph(State)
    for name in ("a", "b", "c", "long", "longer"):
        g.add_node(name, node(name))
    g.add_node("summary", node("summary"), defer=True)
    g.add_edge(START, "a")
    g.add_edge(START, "b")
    g.add_edge(START, "long")
    g.add_edge("long", "longer")
    g.add_edge(["a", "b"], "summary")
    g.add_edge("a", "c")
    g.add_edge("c", "summary")
    return g.compile(checkpointer=checkpointer)


def fan_out(state: State) -> Command:
    return Command(goto=[Send("worker", {"log": ["job"]}), "tail"])


def build_send(checkpointer):
    g = StateGraph(State)
    g.add_node("fan_out", fan_out)
    g.add_node("worker", node("worker"))
    g.add_node("tail", node("tail"), defer=True)
    g.add_edge(START, "fan_out")
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "runs_once_at_the_end", "calls": [{"input": {"log": []}}]},
    {
        "name": "streamed",
        "calls": [
            {
                "input": {"log": []},
                "api": "stream",
                "kwargs": {"stream_mode": ["updates", "tasks", "checkpoints"]},
            }
        ],
    },
    {"name": "joined", "build": "build_join", "calls": [{"input": {"log": []}}]},
    {
        "name": "joined_tasks",
        "build": "build_join",
        "calls": [
            {
                "input": {"log": []},
                "api": "stream",
                "kwargs": {"stream_mode": "tasks"},
                "unordered": True,  # c and longer run in parallel threads
            }
        ],
    },
    {"name": "beside_sends", "build": "build_send", "calls": [{"input": {"log": []}}]},
    {
        "name": "waits_across_an_interrupt",
        "calls": [
            {"input": {"log": [], "ask": True}},
            {"input": Command(resume="yes")},
        ],
    },
]

# Parallel sync nodes finish in the same instant here: LangGraph interleaves their
# astream_events (one task's on_chain_stream before or after the other's on_chain_end) by
# thread timing. Each task's own events are the same; their interleaving is not compared.
EVENTS_COMPARABLE = False
