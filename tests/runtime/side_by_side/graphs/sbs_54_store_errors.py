"""Bad store input fails as in LangGraph, and items with a TTL behave the same.

Nodes make one store call each, chosen by the input: a value that is not a dict, an empty
namespace, a namespace label with a period, a reserved ``langgraph`` namespace, an unknown
filter operator; the graph's error (type and message) must be LangGraph's. (A ``ttl`` is not
among them: LangGraph's ``InMemoryStore`` refuses it, rewind's supports it.)
"""

from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore


class State(TypedDict, total=False):
    case: str
    out: Any


def act(state: State, store: BaseStore) -> dict:
    case = state["case"]
    if case == "not_a_dict":
        store.put(("a",), "k", ["not", "a", "dict"])  # type: ignore[arg-type]
    elif case == "empty_namespace":
        store.put((), "k", {"v": 1})
    elif case == "period":
        store.put(("a.b",), "k", {"v": 1})
    elif case == "reserved":
        store.put(("langgraph", "x"), "k", {"v": 1})
    elif case == "bad_operator":
        store.put(("a",), "k", {"v": 1})
        return {"out": [i.key for i in store.search(("a",), filter={"v": {"$near": 1}})]}
    return {"out": "done"}


def build_with(store: Any, checkpointer: Any) -> Any:
    g = StateGraph(State)
    g.add_node("act", act)
    g.add_edge(START, "act")
    g.add_edge("act", END)
    return g.compile(checkpointer=checkpointer, store=store)


def build(checkpointer):
    return build_with(InMemoryStore(), checkpointer)


SCENARIOS = [
    {"name": name, "calls": [{"input": {"case": name}}]}
    for name in ["not_a_dict", "empty_namespace", "period", "reserved", "bad_operator"]
]
