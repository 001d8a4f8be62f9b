"""A dict given as ``context=`` is made the graph's ``context_schema`` (LangGraph's "runtime
context" how-to, with the context passed as the JSON a server or a config file gives).

A support bot: ``StateGraph(State, context_schema=Context)``, START -> greet -> (approve: an
``interrupt``) -> answer. Nodes read ``runtime.context`` and show its type, so a dict left a
dict shows. ``Context`` is a dataclass with defaults; ``build_pydantic`` uses a pydantic model,
``build_typed_dict`` a TypedDict (whose dict stays a dict), ``build_subgraphs`` a parent whose
nodes are a subgraph with its own schema (run as a node: the parent's context; invoked with a
dict of its own: that dict made its schema), ``build_entrypoint`` the functional API's
``@entrypoint(context_schema=...)``. Scenarios: invoke, stream, astream and ainvoke with a
dict; an empty dict (the defaults); an object as it is; the interrupt answered by
``Command(resume=...)`` with a dict context; a dict a dataclass or a pydantic model refuses
(the run fails before it starts, as LangGraph's).

The entrypoint pauses after its task's result: under ``astream_events``, LangGraph hands the
graph's ``updates`` chunk of a sync task's end to the stream a moment after the task ends (as
in sbs_48); rewind streams it as the task ends.
"""

import time
from dataclasses import dataclass
from typing import TypedDict

from langgraph.func import entrypoint, task
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from pydantic import BaseModel


@dataclass
class Context:
    user: str = "anon"
    language: str = "en"


class PydanticContext(BaseModel):
    user: str = "anon"
    language: str = "en"


class TypedContext(TypedDict):
    user: str


class State(TypedDict, total=False):
    question: str
    log: list[str]


def _seen(runtime: Runtime) -> str:
    ctx = runtime.context
    user = ctx.get("user") if isinstance(ctx, dict) else getattr(ctx, "user", None)
    return f"{type(ctx).__name__}:{user}"


def greet(state: State, runtime: Runtime[Context]) -> dict:
    return {"log": [f"greet {_seen(runtime)}"]}


def approve(state: State, runtime: Runtime[Context]) -> dict:
    answer = interrupt({"question": state["question"], "for": _seen(runtime)})
    return {"log": [*state["log"], f"approved {answer} {_seen(runtime)}"]}


def answer(state: State, runtime: Runtime[Context]) -> dict:
    language = getattr(runtime.context, "language", "?")
    return {"log": [*state["log"], f"answer in {language} {_seen(runtime)}"]}


def _graph(checkpointer, schema, *, ask: bool = False):
    g = StateGraph(State, context_schema=schema)
    g.add_node("greet", greet)
    g.add_node("answer", answer)
    g.add_edge(START, "greet")
    if ask:
        g.add_node("approve", approve)
        g.add_edge("greet", "approve")
        g.add_edge("approve", "answer")
    else:
        g.add_edge("greet", "answer")
    g.add_edge("answer", END)
    return g.compile(checkpointer=checkpointer)


def build(checkpointer):
    return _graph(checkpointer, Context)


def build_interrupt(checkpointer):
    return _graph(checkpointer, Context, ask=True)


def build_pydantic(checkpointer):
    return _graph(checkpointer, PydanticContext)


def build_typed_dict(checkpointer):
    return _graph(checkpointer, TypedContext)


@dataclass
class TeamContext:
    team: str = "none"


def team_node(state: State, runtime: Runtime[TeamContext]) -> dict:
    ctx = runtime.context
    seen = f"team {type(ctx).__name__}:{getattr(ctx, 'team', None)}"
    return {"log": [*state.get("log", []), seen]}


def build_subgraphs(checkpointer):
    sub = StateGraph(State, context_schema=TeamContext)
    sub.add_node("team_node", team_node)
    sub.add_edge(START, "team_node")
    team = sub.compile()

    def escalate(state: State) -> dict:
        return team.invoke(state, context={"team": "billing"})

    g = StateGraph(State, context_schema=Context)
    g.add_node("greet", greet)
    g.add_node("team", team)  # the parent's context
    g.add_node("escalate", escalate)  # a dict of its own, made its schema
    g.add_edge(START, "greet")
    g.add_edge("greet", "team")
    g.add_edge("team", "escalate")
    return g.compile(checkpointer=checkpointer)


@task
def lookup(question: str) -> str:
    return f"looked up {question}"


def build_entrypoint(checkpointer):
    @entrypoint(checkpointer=checkpointer, context_schema=Context)
    def support(question: str, *, runtime: Runtime[Context]) -> dict:
        found = lookup(question).result()
        time.sleep(0.05)  # see the module's docstring
        return {"found": found, "by": _seen(runtime), "language": runtime.context.language}

    return support


_BOB = {"user": "bob", "language": "fr"}

SCENARIOS = [
    {
        "name": "dict_made_dataclass",
        "calls": [
            {"input": {"question": "refund?"}, "kwargs": {"context": _BOB}},
            {"input": {"question": "again"}, "api": "stream", "kwargs": {"context": _BOB}},
            {"input": {"question": "async"}, "api": "astream", "kwargs": {"context": _BOB}},
            {"input": {"question": "ainvoke"}, "api": "ainvoke", "kwargs": {"context": _BOB}},
        ],
    },
    {
        "name": "empty_dict_defaults",
        "calls": [{"input": {"question": "who?"}, "kwargs": {"context": {}}}],
    },
    {
        "name": "object_as_is",
        "calls": [{"input": {"question": "obj"}, "kwargs": {"context": Context(user="cy")}}],
    },
    {"name": "no_context", "calls": [{"input": {"question": "none"}}]},
    {
        "name": "unknown_key_refused",
        "calls": [{"input": {"question": "bad"}, "kwargs": {"context": {"usr": "typo"}}}],
    },
    {
        "name": "resume_with_dict_context",
        "build": "build_interrupt",
        "calls": [
            {"input": {"question": "refund?"}, "kwargs": {"context": _BOB}},
            {"input": Command(resume="yes"), "kwargs": {"context": {"user": "dee"}}},
        ],
    },
    {
        "name": "pydantic_context",
        "build": "build_pydantic",
        "calls": [
            {"input": {"question": "p"}, "kwargs": {"context": _BOB}},
            {"input": {"question": "p2"}, "api": "stream", "kwargs": {"context": {}}},
        ],
    },
    {
        "name": "pydantic_refuses",
        "build": "build_pydantic",
        "calls": [{"input": {"question": "p"}, "kwargs": {"context": {"user": 42}}}],
    },
    {
        "name": "typed_dict_stays_dict",
        "build": "build_typed_dict",
        "calls": [{"input": {"question": "t"}, "kwargs": {"context": {"user": "eve"}}}],
    },
    {
        "name": "subgraph_contexts",
        "build": "build_subgraphs",
        "calls": [
            {"input": {"question": "s"}, "kwargs": {"context": _BOB}},
            {"input": {"question": "s2"}, "api": "stream", "kwargs": {"context": _BOB}},
        ],
    },
    {
        "name": "entrypoint_context",
        "build": "build_entrypoint",
        "calls": [
            {"input": "hours", "kwargs": {"context": _BOB}},
            {"input": "days", "api": "astream", "kwargs": {"context": {}}},
        ],
    },
]
