"""An async node under the sync ``invoke``: LangGraph refuses (TypeError naming the node);
``ainvoke`` of the same graph works.

START -> prepare (sync) -> enrich (async) -> END
"""

import asyncio
from typing import TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    x: int
    y: int


def prepare(state: State) -> dict:
    return {"x": state["x"] + 1}


async def enrich(state: State) -> dict:
    await asyncio.sleep(0)
    return {"y": state["x"] * 10}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("prepare", prepare)
    g.add_node("enrich", enrich)
    g.add_edge(START, "prepare")
    g.add_edge("prepare", "enrich")
    g.add_edge("enrich", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "sync_invoke", "calls": [{"input": {"x": 1}}]},
    {"name": "ainvoke", "calls": [{"input": {"x": 1}, "api": "ainvoke"}]},
]
