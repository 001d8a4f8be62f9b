"""The store's queries from a node: filters, paging, namespaces, get and delete.

One node fills a catalogue under ``("shop", <aisle>)`` and reports what the store answers:
``search`` with a filter (``$eq``, ``$gt``, ``$lte``, ``$ne``), ``limit``/``offset`` paging,
``list_namespaces`` by prefix, suffix and depth, ``get`` of an item and of a missing key, and a
``delete`` seen by the next ``get``. The store is reached with ``get_store()`` in a sync node and
as the injected ``store`` parameter in an async one.
"""

from typing import Any, TypedDict

from langgraph.config import get_store
from langgraph.graph import END, START, StateGraph
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore


class State(TypedDict, total=False):
    aisle: str
    found: dict[str, Any]


def fill(state: State) -> dict:
    store = get_store()
    aisle = state["aisle"]
    for i, (name, price) in enumerate([("apple", 3), ("pear", 5), ("plum", 7), ("fig", 11)]):
        store.put(("shop", aisle), name, {"name": name, "price": price, "rank": i})
    store.put(("shop", aisle, "archive"), "quince", {"name": "quince", "price": 2, "rank": 9})
    return {}


def _keys(items: list[Any]) -> list[str]:
    return [item.key for item in items]


async def query(state: State, store: BaseStore) -> dict:
    ns = ("shop", state["aisle"])
    found = {
        "eq": _keys(await store.asearch(ns, filter={"price": 5})),
        "gt": sorted(_keys(await store.asearch(ns, filter={"price": {"$gt": 4}}))),
        "lte_ne": sorted(_keys(await store.asearch(ns, filter={"price": {"$lte": 7, "$ne": 3}}))),
        "page": len(await store.asearch(ns, limit=2, offset=1)),
        "all_below": sorted(_keys(await store.asearch(("shop",), limit=50))),
        "namespaces": await store.alist_namespaces(prefix=("shop",)),
        "depth_2": await store.alist_namespaces(prefix=("shop",), max_depth=2),
        "suffix": await store.alist_namespaces(suffix=("archive",)),
        "get": (await store.aget(ns, "plum")).value,
        "missing": await store.aget(ns, "kiwi"),
    }
    await store.adelete(ns, "plum")
    found["after_delete"] = await store.aget(ns, "plum")
    return {"found": found}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("fill", fill)
    g.add_node("query", query)
    g.add_edge(START, "fill")
    g.add_edge("fill", "query")
    g.add_edge("query", END)
    return g.compile(checkpointer=checkpointer, store=InMemoryStore())


SCENARIOS = [
    {"name": "fruit", "calls": [{"input": {"aisle": "fruit"}, "api": "ainvoke"}]},
]
