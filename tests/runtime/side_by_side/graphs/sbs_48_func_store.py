"""Functional API with the long-term memory store (LangGraph's "add long-term memory" how-to for
the functional API).

``@entrypoint(checkpointer=..., store=InMemoryStore())``: the workflow gets the store as its
``store`` parameter and reads the user's memories; a task (``remember``) writes a new one
through ``get_store()``; ``previous`` counts the thread's turns. The user id comes from the
runtime context. Two threads of one user share the memories; the other user's are separate.

The workflow pauses after its task's result: under ``astream_events``, LangGraph hands the
graph's ``updates`` chunk of a sync task's end to the stream a moment after the task ends (it
arrives after the workflow's own return event otherwise); rewind streams it as the task ends.
"""

import time
from dataclasses import dataclass
from typing import Any

from langgraph.config import get_store
from langgraph.func import entrypoint, task
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore


@dataclass
class Context:
    user_id: str


@task
def remember(user_id: str, text: str) -> str:
    store = get_store()
    namespace = ("memories", user_id)
    key = f"memory-{len(store.search(namespace, limit=100))}"
    store.put(namespace, key, {"text": text})
    return key


def build(checkpointer):
    @entrypoint(checkpointer=checkpointer, store=InMemoryStore(), context_schema=Context)
    def assistant(
        said: str, *, store: BaseStore, runtime: Runtime[Context], previous: Any = None
    ) -> dict:
        user = runtime.context.user_id
        key = remember(user, said).result() if said else None
        time.sleep(0.05)  # see the module's docstring
        known = sorted(item.value["text"] for item in store.search(("memories", user), limit=100))
        return {"turn": (previous or {}).get("turn", 0) + 1, "stored": key, "known": known}

    return assistant


def _said(text: str, user: str, thread: str, **extra: Any) -> dict:
    return {
        "input": text,
        "kwargs": {"context": Context(user)},
        "config": {"configurable": {"thread_id": thread}},
        **extra,
    }


SCENARIOS = [
    {
        "name": "memories_across_threads",
        "calls": [
            _said("I like green tea", "ann", "ann-1"),
            _said("I live in Oslo", "ann", "ann-1", api="stream"),
            _said("I am bo", "bo", "bo-1"),
            _said("", "ann", "ann-2", api="ainvoke"),
        ],
    },
]
