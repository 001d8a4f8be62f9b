"""Long-term memory across threads: what a user says in one thread is recalled in another.

START -> remember -> recall -> END, compiled with an ``InMemoryStore``. ``remember`` keeps what
the user said under ``("memories", user_id)`` (the user id comes from the runtime context);
``recall`` lists every memory of the user, whichever thread made it. The calls go to different
threads of the same store: two users, memories made in one thread and recalled in the next.
"""

from dataclasses import dataclass
from typing import TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.store.memory import InMemoryStore


@dataclass
class Context:
    user_id: str


class State(TypedDict, total=False):
    said: str
    recalled: list[str]


def remember(state: State, runtime: Runtime[Context]) -> dict:
    namespace = ("memories", runtime.context.user_id)
    if state.get("said"):
        count = len(runtime.store.search(namespace, limit=100))
        runtime.store.put(namespace, f"memory-{count}", {"text": state["said"]})
    return {}


def recall(state: State, runtime: Runtime[Context]) -> dict:
    items = runtime.store.search(("memories", runtime.context.user_id), limit=100)
    return {"recalled": sorted(item.value["text"] for item in items)}


def build(checkpointer):
    g = StateGraph(State, context_schema=Context)
    g.add_node("remember", remember)
    g.add_node("recall", recall)
    g.add_edge(START, "remember")
    g.add_edge("remember", "recall")
    g.add_edge("recall", END)
    return g.compile(checkpointer=checkpointer, store=InMemoryStore())


def _said(text: str, user: str, thread: str) -> dict:
    return {
        "input": {"said": text},
        "kwargs": {"context": Context(user)},
        "config": {"configurable": {"thread_id": thread}},
    }


SCENARIOS = [
    {
        "name": "two_users_three_threads",
        "calls": [
            _said("I like green tea", "ann", "ann-1"),
            _said("I live in Oslo", "ann", "ann-2"),
            _said("I am bo", "bo", "bo-1"),
            _said("", "ann", "ann-3"),
            {**_said("", "bo", "bo-2"), "api": "ainvoke"},
        ],
    },
]
