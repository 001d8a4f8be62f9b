"""input_schema / output_schema and private channels (string annotations throughout).

The graph takes ``question`` (InputState), returns ``answer`` and ``sources`` (OutputState) and
keeps ``scratch`` and ``hops`` internal. ``plan`` reads the whole state; ``research`` declares a
private input type (PrivateState) by annotation and ``cite`` by ``add_node(input_schema=...)``:
both see only those keys; ``respond`` writes the output keys.
Scenarios: plain input, an input with keys outside the input schema (an output key and an
internal key), and a second invoke on the same thread.
"""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph


class InputState(TypedDict):
    question: str


class OutputState(TypedDict):
    answer: str
    sources: list[str]


class OverallState(InputState, OutputState, total=False):
    scratch: str
    hops: Annotated[list[str], operator.add]


class PrivateState(TypedDict):
    scratch: str


class SourcesState(TypedDict):
    sources: list[str]


def plan(state: OverallState) -> dict:
    return {"scratch": f"plan for {state['question']}", "hops": ["plan"]}


def research(state: PrivateState) -> dict:
    return {"sources": [state["scratch"], f"keys={sorted(state)}"], "hops": ["research"]}


def cite(state) -> dict:
    return {"sources": [*state["sources"], f"cite keys={sorted(state)}"], "hops": ["cite"]}


def respond(state: OverallState) -> dict:
    return {
        "answer": f"{state['question']} -> {len(state['sources'])} sources",
        "hops": ["respond"],
    }


def build(checkpointer):
    g = StateGraph(OverallState, input_schema=InputState, output_schema=OutputState)
    g.add_node("plan", plan)
    g.add_node("research", research)
    g.add_node("cite", cite, input_schema=SourcesState)
    g.add_node("respond", respond)
    g.add_edge(START, "plan")
    g.add_edge("plan", "research")
    g.add_edge("research", "cite")
    g.add_edge("cite", "respond")
    g.add_edge("respond", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "plain", "calls": [{"input": {"question": "why?"}}]},
    {
        "name": "extra_keys",
        "calls": [{"input": {"question": "how?", "answer": "sneaky", "scratch": "hidden"}}],
    },
    {"name": "two_runs", "calls": [{"input": {"question": "one"}}, {"input": {"question": "two"}}]},
]
