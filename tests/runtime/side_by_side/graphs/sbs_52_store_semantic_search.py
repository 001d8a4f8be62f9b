"""Semantic search over memories: an ``InMemoryStore`` with an embedding index.

The index's embedding function is the user's own (no model download): a bag of letters, so
similar words have near vectors. A node stores notes (one with ``index=False``, never embedded),
then answers questions with ``search(query=...)``: the ranked keys and their scores, rounded.
"""

from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def embed(texts: list[str]) -> list[list[float]]:
    return [[float(t.lower().count(c)) + 0.01 for c in _LETTERS] for t in texts]


NOTES = {
    "tea": "green tea in the morning",
    "coffee": "strong coffee after lunch",
    "bike": "rides a bike to work",
    "secret": "the door code is 4321",
}


class State(TypedDict, total=False):
    question: str
    answers: list[Any]


def learn(state: State, store: BaseStore) -> dict:
    for key, text in NOTES.items():
        store.put(("notes",), key, {"text": text}, index=False if key == "secret" else None)
    return {}


def ask(state: State, store: BaseStore) -> dict:
    hits = store.search(("notes",), query=state["question"], limit=3)
    return {"answers": [(h.key, round(h.score, 6) if h.score is not None else None) for h in hits]}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("learn", learn)
    g.add_node("ask", ask)
    g.add_edge(START, "learn")
    g.add_edge("learn", "ask")
    g.add_edge("ask", END)
    store = InMemoryStore(index={"dims": len(_LETTERS), "embed": embed, "fields": ["text"]})
    return g.compile(checkpointer=checkpointer, store=store)


SCENARIOS = [
    {
        "name": "questions",
        "calls": [
            {"input": {"question": "tea or coffee"}},
            {"input": {"question": "cycling to the office"}},
        ],
    },
]
