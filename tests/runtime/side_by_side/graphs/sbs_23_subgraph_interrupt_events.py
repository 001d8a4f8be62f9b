"""Subgraphs, an interrupt inside one, resume, and a ``Send`` fan-out to async workers.

parent: START -> plan -> review (a compiled subgraph: draft -> approve) -> fan (Send x3 to
``work``, async, each finishing at its own time) -> gather -> END

``approve`` calls ``interrupt()``; the second call resumes it with ``Command(resume=...)``.
Calls go through ``ainvoke`` (``work`` is async). ``gather`` also runs a small graph itself
(``helper.invoke``), so one subgraph is the node and one is called from a node: their nodes
stream differently under ``astream_events``.
"""

import asyncio
import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, Send, interrupt


class State(TypedDict, total=False):
    topic: str
    log: Annotated[list, operator.add]
    approved: str


def draft(state: State) -> dict:
    return {"log": [f"draft:{state['topic']}"]}


def approve(state: State) -> dict:
    answer = interrupt({"question": "ship it?", "topic": state["topic"]})
    return {"approved": answer, "log": ["approved"]}


def _review_graph():
    g = StateGraph(State)
    g.add_node("draft", draft)
    g.add_node("approve", approve)
    g.add_edge(START, "draft")
    g.add_edge("draft", "approve")
    g.add_edge("approve", END)
    return g.compile()


def _helper_graph():
    def tally(state: State) -> dict:
        return {"log": [f"tally:{len(state.get('log', []))}"]}

    g = StateGraph(State)
    g.add_node("tally", tally)
    g.add_edge(START, "tally")
    g.add_edge("tally", END)
    return g.compile()


def build(checkpointer):
    helper = _helper_graph()

    def plan(state: State) -> dict:
        return {"log": ["plan"]}

    def fan(state: State) -> list:
        return [Send("work", {"topic": f"{state['topic']}-{i}"}) for i in range(3)]

    async def work(state: State) -> dict:
        await asyncio.sleep(0.02 * (3 - int(state["topic"].rsplit("-", 1)[1])))
        return {"log": [f"work:{state['topic']}"]}

    def gather(state: State) -> dict:
        out = helper.invoke({"log": list(state["log"])})
        return {"log": [out["log"][-1]]}

    g = StateGraph(State)
    g.add_node("plan", plan)
    g.add_node("review", _review_graph())
    g.add_node("work", work)
    g.add_node("gather", gather)
    g.add_edge(START, "plan")
    g.add_edge("plan", "review")
    g.add_conditional_edges("review", fan, ["work"])
    g.add_edge("work", "gather")
    g.add_edge("gather", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {
        "name": "interrupt_then_resume",
        "calls": [
            {"input": {"topic": "launch"}, "api": "ainvoke"},
            {"input": Command(resume="yes"), "api": "ainvoke"},
        ],
    },
]
