"""Sync and async nodes (and an async router) in one graph, run with ainvoke.

START -> fetch_a (async, sleeps), fetch_b (sync), fetch_c (async) in parallel
      -> combine (sync; waits for all three) --(async router)--> polish (async) | END
Completion order differs from task order; the reducer order must not.
"""

import asyncio
import operator
import time
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    q: str
    parts: Annotated[list[str], operator.add]
    answer: str


async def fetch_a(state: State) -> dict:
    await asyncio.sleep(0.03)
    return {"parts": [f"a:{state['q']}"]}


def fetch_b(state: State) -> dict:
    time.sleep(0.01)
    return {"parts": [f"b:{state['q']}"]}


async def fetch_c(state: State) -> dict:
    return {"parts": [f"c:{state['q']}"]}


def combine(state: State) -> dict:
    return {"answer": " + ".join(state["parts"])}


async def needs_polish(state: State) -> str:
    await asyncio.sleep(0)
    return "polish" if len(state["answer"]) < 40 else END


async def polish(state: State) -> dict:
    return {"answer": state["answer"].title(), "parts": ["polished"]}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("fetch_a", fetch_a)
    g.add_node("fetch_b", fetch_b)
    g.add_node("fetch_c", fetch_c)
    g.add_node("combine", combine)
    g.add_node("polish", polish)
    for name in ("fetch_a", "fetch_b", "fetch_c"):
        g.add_edge(START, name)
    g.add_edge(["fetch_a", "fetch_b", "fetch_c"], "combine")
    g.add_conditional_edges("combine", needs_polish, ["polish", END])
    g.add_edge("polish", END)
    return g.compile(checkpointer=checkpointer)


# Parallel sync nodes finish in the same instant here: LangGraph interleaves their
# astream_events (one task's on_chain_stream before or after the other's on_chain_end) by
# thread timing. Each task's own events are the same; their interleaving is not compared.
EVENTS_COMPARABLE = False

SCENARIOS = [
    {"name": "short", "calls": [{"input": {"q": "hi"}, "api": "ainvoke"}]},
    {
        "name": "long_then_short",
        "calls": [
            {"input": {"q": "a much longer question"}, "api": "ainvoke"},
            {"input": {"q": "x"}, "api": "ainvoke"},
        ],
    },
]
