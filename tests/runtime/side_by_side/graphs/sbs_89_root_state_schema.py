"""A state schema without annotations: the whole state is one value (LangGraph's root channel).

LangGraph makes a schema's channels of its annotations; a schema that has none (``dict``,
``list``, ``int``, ``Annotated[list, operator.add]``) is one channel, ``__root__``: a node is
given the value and what it returns is the new value (the reducer's input, for an
``Annotated`` one), and ``invoke``, every stream mode and ``get_state`` show the value itself.

``build`` is a word counter on ``StateGraph(dict)``: START -> count -> (route: ``long`` or
``short``) -> END, each node returning a new dict. ``build_list`` is a log on
``StateGraph(Annotated[list, operator.add])`` whose nodes append lines, with an ``interrupt``
answered by ``Command(resume=...)``; ``build_int`` a counter on ``StateGraph(int)``;
``build_parent`` a graph with a ``TypedDict`` state whose node is the word counter (its
values, in its namespace, are its one value).
Scenarios: invoke, stream, astream, a second run of the thread, ``update_state`` and a
run continued from it.
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt


def count(state: dict) -> dict:
    words = state.get("text", "").split()
    return {"text": state.get("text", ""), "words": len(words), "runs": state.get("runs", 0) + 1}


def route(state: dict) -> str:
    return "long" if state["words"] > 3 else "short"


def long(state: dict) -> dict:
    return {**state, "verdict": "long"}


def short(state: dict) -> dict:
    return {**state, "verdict": "short"}


def build(checkpointer):
    g = StateGraph(dict)
    g.add_node("count", count)
    g.add_node("long", long)
    g.add_node("short", short)
    g.add_edge(START, "count")
    g.add_conditional_edges("count", route, ["long", "short"])
    g.add_edge("long", END)
    g.add_edge("short", END)
    return g.compile(checkpointer=checkpointer)


def first(lines: list) -> list:
    return [f"first saw {len(lines)}"]


def ask(lines: list) -> list:
    answer = interrupt({"lines": len(lines)})
    return [f"answer {answer}"]


def build_list(checkpointer):
    g = StateGraph(Annotated[list, operator.add])
    g.add_node("first", first)
    g.add_node("ask", ask)
    g.add_edge(START, "first")
    g.add_edge("first", "ask")
    g.add_edge("ask", END)
    return g.compile(checkpointer=checkpointer)


def build_int(checkpointer):
    g = StateGraph(int)
    g.add_node("double", lambda n: n * 2)
    g.add_node("plus_one", lambda n: n + 1)
    g.add_edge(START, "double")
    g.add_edge("double", "plus_one")
    return g.compile(checkpointer=checkpointer)


class Parent(TypedDict, total=False):
    text: str
    words: int
    verdict: str


def build_parent(checkpointer):
    g = StateGraph(Parent)
    g.add_node("counter", build(None))
    g.add_node("shout", lambda s: {"text": s["text"].upper()})
    g.add_edge(START, "counter")
    g.add_edge("counter", "shout")
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {
        "name": "dict_state",
        "calls": [
            {"input": {"text": "one two"}},
            {"input": {"text": "one two three four five", "runs": 7}, "api": "stream"},
            {"input": {"text": "x"}, "api": "astream", "kwargs": {"stream_mode": "values"}},
            {"input": {"text": "a b c d e f"}, "api": "ainvoke"},
        ],
    },
    {
        "name": "dict_update_state",
        "calls": [
            {"input": {"text": "to be"}},
            {"input": {"text": "edited by hand", "words": 9}, "api": "update_state"},
            {"input": None},
        ],
    },
    {"name": "dict_no_checkpointer", "checkpointer": False, "calls": [{"input": {"text": "hi"}}]},
    {
        "name": "list_state_interrupt",
        "build": "build_list",
        "calls": [
            {"input": ["start"]},
            {"input": Command(resume="yes"), "api": "stream"},
        ],
    },
    {
        "name": "int_state",
        "build": "build_int",
        "calls": [
            {"input": 5},
            {"input": 2, "api": "stream", "kwargs": {"stream_mode": ["values", "updates"]}},
        ],
    },
    {
        "name": "root_valued_subgraph",
        "build": "build_parent",
        "calls": [
            {"input": {"text": "one two three four"}},
            {"input": {"text": "hi"}, "api": "stream", "kwargs": {"subgraphs": True}},
        ],
    },
]
