"""Command(goto=..., update=...) from nodes: a single node, a list of nodes, a Send, and END.

Only START -> triage is a static edge; every other hop is a Command.
triage: Command(update=..., goto="plan" | ["fix", "test"] | END)   (Literal return annotation)
plan:   Command(update=..., goto=Send("fix", {...}))                   (a Send as goto)
fix, test: plain updates, fix -> END, test -> END
(String annotations: the Command[Literal[...]] return types are resolved from the module.)
"""

from __future__ import annotations

import operator
from typing import Annotated, Literal, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, Send


class State(TypedDict, total=False):
    kind: str
    path: Annotated[list[str], operator.add]
    note: str


def triage(state: State) -> Command[Literal["plan", "fix", "test", "__end__"]]:
    if state["kind"] == "feature":
        return Command(update={"path": ["triage"], "note": "plan first"}, goto="plan")
    if state["kind"] == "bug":
        return Command(update={"path": ["triage"]}, goto=["fix", "test"])
    return Command(update={"note": "nothing to do"}, goto=END)


def plan(state: State) -> Command[Literal["fix"]]:
    return Command(update={"path": ["plan"]}, goto=Send("fix", {"kind": "planned", "path": []}))


def fix(state: State) -> dict:
    return {"path": [f"fix:{state['kind']}"]}


def test(state: State) -> dict:
    return {"path": ["test"], "note": "tested"}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("triage", triage)
    g.add_node("plan", plan)
    g.add_node("fix", fix)
    g.add_node("test", test)
    g.add_edge(START, "triage")
    g.add_edge("fix", END)
    g.add_edge("test", END)
    return g.compile(checkpointer=checkpointer)


# Parallel sync nodes finish in the same instant here: LangGraph interleaves their
# astream_events (one task's on_chain_stream before or after the other's on_chain_end) by
# thread timing. Each task's own events are the same; their interleaving is not compared.
EVENTS_COMPARABLE = False

SCENARIOS = [
    {"name": "goto_one_then_send", "calls": [{"input": {"kind": "feature"}}]},
    {"name": "goto_list", "calls": [{"input": {"kind": "bug"}}]},
    {"name": "goto_end", "calls": [{"input": {"kind": "question"}}]},
]
