"""Send map-reduce: a router fans out one ``work`` task per item, results reduced with a reducer.

START -> split --(Send per item, from a conditional edge)--> work x N -> reduce -> END
``work`` takes its own input type (the Send argument, not the state) and sleeps in reverse order
so that completion order differs from send order: the reducer must apply them in send order.
Scenarios: three items, no item (router returns ``[]``: nothing runs, the run ends), and two
runs on the same thread.
"""

import operator
import time
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send


class State(TypedDict, total=False):
    items: list[str]
    results: Annotated[list[str], operator.add]
    total: int


class WorkInput(TypedDict):
    item: str
    index: int


def split(state: State) -> dict:
    return {"items": [s.strip() for s in state["items"]]}


def fan_out(state: State) -> list[Send]:
    return [Send("work", {"item": s, "index": i}) for i, s in enumerate(state["items"])]


def work(arg: WorkInput) -> dict:
    time.sleep(0.01 * (3 - arg["index"]) if arg["index"] < 3 else 0)
    return {"results": [f"{arg['index']}:{arg['item'].upper()}"]}


def reduce(state: State) -> dict:
    return {"total": len(state["results"])}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("split", split)
    g.add_node("work", work)
    g.add_node("reduce", reduce)
    g.add_edge(START, "split")
    g.add_conditional_edges("split", fan_out, ["work"])
    g.add_edge("work", "reduce")
    g.add_edge("reduce", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "three", "calls": [{"input": {"items": [" alpha", "beta ", " gamma "]}}]},
    {"name": "empty", "calls": [{"input": {"items": []}}]},
    {"name": "two_runs", "calls": [{"input": {"items": ["x"]}}, {"input": {"items": ["y", "z"]}}]},
]
