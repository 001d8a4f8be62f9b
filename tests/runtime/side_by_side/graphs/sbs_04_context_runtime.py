"""context_schema with ``runtime: Runtime[Context]`` injected into nodes.

START -> personalise -> sign -> END. Both nodes read ``runtime.context`` (a dataclass passed as
``context=``). Scenarios: a context, a different context on a second invoke of the same thread,
ainvoke with a context, and no context at all.
"""

from dataclasses import dataclass
from typing import TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime


@dataclass
class Context:
    user: str
    tone: str = "polite"


class State(TypedDict, total=False):
    text: str
    out: str
    signed_by: str


def personalise(state: State, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    if ctx is None:
        return {"out": f"{state['text']} (no context)"}
    return {"out": f"[{ctx.tone}] {state['text']}, {ctx.user}"}


def sign(state: State, runtime: Runtime[Context]) -> dict:
    user = runtime.context.user if runtime.context is not None else "nobody"
    return {"signed_by": user, "out": state["out"] + f" -- {user}"}


def build(checkpointer):
    g = StateGraph(State, context_schema=Context)
    g.add_node("personalise", personalise)
    g.add_node("sign", sign)
    g.add_edge(START, "personalise")
    g.add_edge("personalise", "sign")
    g.add_edge("sign", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {
        "name": "with_context",
        "calls": [
            {"input": {"text": "hi"}, "kwargs": {"context": Context(user="ann")}},
            {"input": {"text": "bye"}, "kwargs": {"context": Context(user="bo", tone="curt")}},
        ],
    },
    {
        "name": "ainvoke",
        "calls": [
            {"input": {"text": "hey"}, "api": "ainvoke", "kwargs": {"context": Context("cy")}}
        ],
    },
    {"name": "no_context", "calls": [{"input": {"text": "yo"}}]},
]
