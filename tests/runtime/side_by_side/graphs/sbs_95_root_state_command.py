"""A ``Command`` returned by a node of a graph whose whole state is one value (``__root__``).

In a graph on a schema without annotations (``StateGraph(dict)``, ``StateGraph(int)``,
``StateGraph(Annotated[list, operator.add])``) a node's return value is the new value, but a
``Command``'s ``update`` is read as writes to channels, as in any graph: a dict's keys are
channel names, so only a ``"__root__"`` key writes the value and the others are dropped (with a
logged warning: a write to an unknown channel); a list of ``(key, value)`` pairs is read the
same way; any other value (a number, a list of items) is the new value. The ``goto`` applies
either way, and ``updates`` shows what the node wrote to the value (``None`` when nothing).

``build`` is a support desk on ``StateGraph(dict)``: ``triage`` routes with
``Command(update={...}, goto=...)`` (its update dropped), ``escalate`` writes the ticket with
``Command(update={"__root__": ...})``, ``reply`` and ``answer`` return a new dict.
``build_counter`` counts on ``StateGraph(int)`` with ``Command(update=n, goto=...)``;
``build_log`` appends to ``StateGraph(Annotated[list, operator.add])`` with a ``Command`` of
items, one of ``(key, value)`` pairs (dropped) and a node returning a ``Command`` and a value
in a list (two writes to the value); ``build_fan_out`` sends a word to a node that answers
with a ``Command`` (one word: parallel tasks' events race in LangGraph); ``build_parent`` runs
the desk as a subgraph of a graph with a ``TypedDict`` state.
"""

import operator
from typing import Annotated, Literal, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, Send


def triage(ticket: dict) -> Command[Literal["escalate", "reply"]]:
    urgent = "down" in ticket["text"]
    # The update's keys are channels; this graph's only one is __root__: dropped.
    return Command(
        update={"priority": "high" if urgent else "low"}, goto="escalate" if urgent else "reply"
    )


def escalate(ticket: dict) -> Command[Literal["answer"]]:
    return Command(update={"__root__": {**ticket, "team": "on-call"}}, goto="answer")


def reply(ticket: dict) -> dict:
    return {**ticket, "reply": f"We are looking at: {ticket['text']}"}


def answer(ticket: dict) -> dict:
    return {**ticket, "reply": f"The {ticket['team']} team is on it."}


def build(checkpointer):
    g = StateGraph(dict)
    g.add_node("triage", triage)
    g.add_node("escalate", escalate)
    g.add_node("reply", reply)
    g.add_node("answer", answer)
    g.add_edge(START, "triage")
    g.add_edge("reply", END)
    g.add_edge("answer", END)
    return g.compile(checkpointer=checkpointer)


def double(n: int) -> Command[Literal["check"]]:
    return Command(update=n * 2, goto="check")


def check(n: int) -> Command[Literal["double", "__end__"]]:
    return Command(goto="double" if n < 20 else END)


def build_counter(checkpointer):
    g = StateGraph(int)
    g.add_node("double", double)
    g.add_node("check", check)
    g.add_edge(START, "double")
    return g.compile(checkpointer=checkpointer)


def greet(lines: list) -> Command[Literal["tag"]]:
    return Command(update=["hello", "world"], goto="tag")


def tag(lines: list) -> Command[Literal["both"]]:
    # (key, value) pairs: "source" is no channel of this graph, dropped
    return Command(update=[("source", "tag")], goto="both")


def both(lines: list) -> list:
    return [Command(update=["from a command"]), ["and a value"]]


def build_log(checkpointer):
    g = StateGraph(Annotated[list, operator.add])
    g.add_node("greet", greet)
    g.add_node("tag", tag)
    g.add_node("both", both)
    g.add_edge(START, "greet")
    g.add_edge("both", END)
    return g.compile(checkpointer=checkpointer)


def split(words: list) -> list:
    return []


def to_spell(words: list) -> list:
    return [Send("spell", w) for w in words]


def spell(word: str) -> Command:
    return Command(update={"__root__": [word.upper()], "letters": len(word)})


def build_fan_out(checkpointer):
    g = StateGraph(Annotated[list, operator.add])
    g.add_node("split", split)
    g.add_node("spell", spell)
    g.add_edge(START, "split")
    g.add_conditional_edges("split", to_spell, ["spell"])
    g.add_edge("spell", END)
    return g.compile(checkpointer=checkpointer)


class Inbox(TypedDict, total=False):
    text: str
    reply: str
    team: str


def build_parent(checkpointer):
    g = StateGraph(Inbox)
    g.add_node("desk", build(None))
    g.add_edge(START, "desk")
    return g.compile(checkpointer=checkpointer)


UPDATES_AND_VALUES = {"stream_mode": ["updates", "values"]}

SCENARIOS = [
    {
        "name": "routine_ticket",
        "calls": [{"input": {"text": "how do I reset my password?"}, "api": "stream"}],
    },
    {
        "name": "urgent_ticket",
        "calls": [
            {"input": {"text": "the site is down"}, "api": "stream", "kwargs": UPDATES_AND_VALUES},
            {"input": {"text": "still down"}, "api": "astream"},
        ],
    },
    {
        "name": "counter",
        "build": "build_counter",
        "calls": [{"input": 3}, {"input": 1, "api": "stream", "kwargs": UPDATES_AND_VALUES}],
    },
    {
        "name": "log",
        "build": "build_log",
        "calls": [{"input": ["start"], "api": "stream", "kwargs": UPDATES_AND_VALUES}],
    },
    {
        "name": "fan_out",
        "build": "build_fan_out",
        "calls": [{"input": ["word"], "api": "stream", "kwargs": UPDATES_AND_VALUES}],
    },
    {
        "name": "subgraph",
        "build": "build_parent",
        "calls": [
            {"input": {"text": "the API is down"}, "api": "stream", "kwargs": {"subgraphs": True}},
            {"input": {"text": "a question"}, "api": "ainvoke"},
        ],
    },
]
