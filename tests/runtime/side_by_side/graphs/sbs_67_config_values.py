"""What a run's config carries besides the thread: ``configurable`` values (a user id, a number,
a dict; a live object, as LangGraph's how-tos pass a database client) and ``metadata``. The
``checkpoints`` and ``debug`` streams show the whole configurable in each checkpoint's config
and only the loop's metadata (source, step, parents); ``get_state`` shows the stored metadata,
the config's scalar values merged in; a task's start in ``tasks`` shows the caller's metadata
with the ids LangGraph propagates from ``configurable`` (``run_id``, ``graph_id``...); a node
reads the live object from its config.

START -> lookup -> END
"""

import operator
import threading
from typing import Annotated, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    seen: Annotated[list[str], operator.add]


class Client:
    """A live object, as a database client is: nothing a log can store."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __repr__(self) -> str:
        return "Client()"

    def user(self, user_id: str) -> str:
        with self.lock:
            return f"user {user_id}"


def lookup(state: State, config: RunnableConfig) -> dict:
    configurable = config["configurable"]
    client = configurable.get("client")
    who = client.user(configurable["user_id"]) if client else configurable["user_id"]
    return {"seen": [who]}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("lookup", lookup)
    g.add_edge(START, "lookup")
    g.add_edge("lookup", END)
    return g.compile(checkpointer=checkpointer)


VALUES = {
    "configurable": {"user_id": "u1", "n": 3, "obj": {"x": 1}, "graph_id": "g", "run_id": "r1"},
    "metadata": {"m": "x"},
}

SCENARIOS = [
    {
        "name": "checkpoints_and_debug_show_the_configurable",
        "config": VALUES,
        "calls": [
            {
                "input": {"seen": []},
                "api": "stream",
                "kwargs": {"stream_mode": ["checkpoints", "debug", "tasks"]},
            },
        ],
    },
    {
        "name": "a_live_object_in_the_configurable",
        # Deliberate: the checkpoints and debug streams are rebuilt from the log, which names
        # a live object ("<not recorded: module.Type>") where LangGraph's show the object.
        "streams": False,
        "calls": [
            {
                "input": {"seen": []},
                "config": {"configurable": {"user_id": "u2", "client": Client()}},
            },
            {
                "input": {"seen": []},
                "config": {"configurable": {"user_id": "u3", "client": Client()}},
                "api": "stream",
                "kwargs": {"stream_mode": ["values", "updates"]},
            },
        ],
    },
]
