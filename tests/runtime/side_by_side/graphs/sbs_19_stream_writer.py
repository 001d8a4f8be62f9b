"""Custom stream writes from nodes: ``get_stream_writer()`` and an injected ``writer``.

Under ``invoke`` nothing is streamed: the writes must be accepted (and dropped) without changing
the result. START -> fetch (get_stream_writer) -> annotate (writer: StreamWriter) -> END
"""

from typing import TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import StreamWriter


class State(TypedDict, total=False):
    query: str
    docs: list[str]
    note: str


def fetch(state: State) -> dict:
    write = get_stream_writer()
    for i in range(3):
        write({"stage": "fetch", "i": i})
    write("plain string payload")
    return {"docs": [f"{state['query']}-1", f"{state['query']}-2"]}


def annotate(state: State, writer: StreamWriter) -> dict:
    writer(42)
    writer(["a", "list"])
    return {"note": f"{len(state['docs'])} docs"}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("fetch", fetch)
    g.add_node("annotate", annotate)
    g.add_edge(START, "fetch")
    g.add_edge("fetch", "annotate")
    g.add_edge("annotate", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "invoke", "calls": [{"input": {"query": "q"}}]},
    {"name": "ainvoke", "calls": [{"input": {"query": "r"}, "api": "ainvoke"}]},
]
