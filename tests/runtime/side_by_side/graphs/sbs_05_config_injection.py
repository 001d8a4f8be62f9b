"""``config: RunnableConfig`` injected into nodes and routing functions.

START -> whoami -> (route by config) -> formal | casual -> END. Nodes copy what they read from
the config into the state: a user key from ``configurable``, the thread id, the recursion limit
(``config.get``: LangGraph passes it on only when the caller set it), and LangGraph's per-task
metadata (node, step, triggers, path, checkpoint namespace). Scenarios: two users (the router
reads the config too), and a per-call config on a continued thread with a recursion limit and
run metadata set by the caller.
"""

from typing import TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    seen: list[dict]
    reply: str


def _seen(state: State, config: RunnableConfig) -> list[dict]:
    md = config["metadata"]
    return [
        *state.get("seen", []),
        {
            "user": config["configurable"].get("user"),
            "thread": config["configurable"]["thread_id"],
            "limit": config.get("recursion_limit"),
            "node": md["langgraph_node"],
            "step": md["langgraph_step"],
            "triggers": list(md["langgraph_triggers"]),
            "path": list(md["langgraph_path"]),
            "ns": md["langgraph_checkpoint_ns"],
            "team": md.get("team"),
        },
    ]


def whoami(state: State, config: RunnableConfig) -> dict:
    return {"seen": _seen(state, config)}


def route(state: State, config: RunnableConfig) -> str:
    return "formal" if config["configurable"].get("user") == "the queen" else "casual"


def formal(state: State, config: RunnableConfig) -> dict:
    return {"seen": _seen(state, config), "reply": "Your Majesty"}


def casual(state: State, config: RunnableConfig) -> dict:
    return {"seen": _seen(state, config), "reply": f"hey {config['configurable'].get('user')}"}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("whoami", whoami)
    g.add_node("formal", formal)
    g.add_node("casual", casual)
    g.add_edge(START, "whoami")
    g.add_conditional_edges("whoami", route, ["formal", "casual"])
    g.add_edge("formal", END)
    g.add_edge("casual", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "queen", "config": {"configurable": {"user": "the queen"}}, "calls": [{"input": {}}]},
    {
        "name": "per_call",
        "config": {"recursion_limit": 7, "metadata": {"team": "blue"}},
        "calls": [
            {"input": {}, "config": {"configurable": {"user": "sam"}}},
            {"input": {}, "config": {"configurable": {"user": "the queen"}}},
        ],
    },
]
