"""Two graphs on one thread (one saver): each shows only its own channels (its output, its
``values`` and checkpoints, ``get_state`` and the history, the checkpoints the other graph
wrote included), and reads only them; a key the other graph owns stays in the thread, for it
(as an ``InMemorySaver`` keeps it: LangGraph's ``SqliteSaver`` drops it at the next
checkpoint another graph writes).

asking: START -> ask -> END            counting: START -> tick -> END
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import START, StateGraph


class Asking(TypedDict, total=False):
    question: str
    log: Annotated[list[str], operator.add]


class Counting(TypedDict, total=False):
    n: int
    count: Annotated[int, operator.add]
    log: Annotated[list[str], operator.add]


def ask(state: Asking) -> dict:
    return {"question": f"why {sorted(state)}?", "log": ["ask"]}


def tick(state: Counting) -> dict:
    return {"count": 1, "log": [f"tick {sorted(state)}"]}


def _asking(checkpointer):
    g = StateGraph(Asking)
    g.add_node("ask", ask)
    g.add_edge(START, "ask")
    return g.compile(checkpointer=checkpointer)


def _counting(checkpointer):
    g = StateGraph(Counting)
    g.add_node("tick", tick)
    g.add_edge(START, "tick")
    return g.compile(checkpointer=checkpointer)


def _on(name):
    return {"configurable": {"thread_id": f"thread-{name}"}}


def build(checkpointer):  # the asking graph ran on the thread first
    _asking(checkpointer).invoke({"question": "", "log": ["start"]}, _on("counting_after_asking"))
    return _counting(checkpointer)


def build_back(checkpointer):  # asking, then counting, then asking again
    _asking(checkpointer).invoke({"question": ""}, _on("asking_again"))
    _counting(checkpointer).invoke({"n": 3}, _on("asking_again"))
    return _asking(checkpointer)


_MODES = ["values", "updates", "checkpoints"]

SCENARIOS = [
    {
        "name": "counting_after_asking",
        "calls": [
            {"input": {"n": 3}},
            {"input": {"n": 4}, "api": "stream", "kwargs": {"stream_mode": _MODES}},
        ],
    },
    {
        "name": "asking_again",
        "build": "build_back",
        "calls": [
            {"input": None},
            {"input": {"question": "again"}, "api": "stream", "kwargs": {"stream_mode": _MODES}},
        ],
    },
]
