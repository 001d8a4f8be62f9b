"""Streaming subgraph outputs, as the subgraphs how-to does (``subgraphs=True``), in several modes:
made through ``astream_events`` too (the events test), where the graph's own
``on_chain_stream`` events carry its subgraphs' chunks, with their namespaces, as LangGraph's,
each shown after the subgraph's next node starts (LangGraph's reach the graph's stream through
a queue). A subgraph two levels down, and one that interrupts and is resumed.

parent: START -> prepare -> writer (a subgraph) -> review (a subgraph that interrupts) -> END
writer: START -> outline -> draft (a subgraph) -> END
draft:  START -> words -> polish -> END
review: START -> ask (interrupts) -> END
watcher: START -> watcher -> watcher_of_subgraphs -> END (each streams writer's events itself)
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt


class State(TypedDict, total=False):
    topic: str
    steps: Annotated[list[str], operator.add]


def _chain(*nodes):
    g = StateGraph(State)
    previous = START
    for name, action in nodes:
        g.add_node(name, action)
        g.add_edge(previous, name)
        previous = name
    g.add_edge(previous, END)
    return g


def prepare(state: State) -> dict:
    return {"steps": ["prepared"]}


def outline(state: State) -> dict:
    return {"steps": [f"outline of {state['topic']}"]}


def words(state: State) -> dict:
    return {"steps": ["words"]}


async def polish(state: State) -> dict:
    return {"steps": ["polished"]}


def ask(state: State) -> dict:
    verdict = interrupt({"question": f"publish {state['topic']}?"})
    return {"steps": [f"verdict: {verdict}"]}


def _writer():
    draft = _chain(("words", words), ("polish", polish)).compile(name="draft")
    return _chain(("outline", outline), ("draft", draft)).compile(name="writer")


def build(checkpointer):
    review = _chain(("ask", ask)).compile(name="review")
    parent = _chain(("prepare", prepare), ("writer", _writer()), ("review", review))
    return parent.compile(checkpointer=checkpointer, name="parent")


writer = _writer()


class Watched(TypedDict, total=False):
    topic: str
    events: Annotated[list[dict], operator.add]


async def watcher(state: Watched) -> dict:
    """Streams the writer graph's events itself (LangGraph: under the node's run)."""
    stream = writer.astream_events({"topic": state["topic"], "steps": []}, version="v2")
    return {"events": [event async for event in stream]}


async def watcher_of_subgraphs(state: Watched) -> dict:
    stream = writer.astream_events(
        {"topic": state["topic"], "steps": []},
        version="v2",
        subgraphs=True,
        stream_mode=["updates", "values"],
    )
    return {"events": [event async for event in stream]}


def build_watcher(checkpointer):
    g = StateGraph(Watched)
    g.add_node("watcher", watcher)
    g.add_node("watcher_of_subgraphs", watcher_of_subgraphs)
    g.add_edge(START, "watcher")
    g.add_edge("watcher", "watcher_of_subgraphs")
    g.add_edge("watcher_of_subgraphs", END)
    return g.compile(checkpointer=checkpointer)


def build_without_review(checkpointer):
    parent = _chain(("prepare", prepare), ("writer", _writer()))
    return parent.compile(checkpointer=checkpointer, name="parent")


INPUT = {"topic": "pregel", "steps": []}


def _streamed(inp, stream_mode=None) -> dict:
    kwargs = {"subgraphs": True, **({"stream_mode": stream_mode} if stream_mode else {})}
    return {"input": inp, "api": "astream", "kwargs": kwargs}


SCENARIOS = [
    {"name": "updates", "build": "build_without_review", "calls": [_streamed(INPUT)]},
    {"name": "values", "build": "build_without_review", "calls": [_streamed(INPUT, "values")]},
    {
        "name": "updates_and_tasks",
        "build": "build_without_review",
        "calls": [_streamed(INPUT, ["updates", "tasks"])],
    },
    {
        "name": "events_streamed_by_a_node",
        "build": "build_watcher",
        "calls": [{"input": {"topic": "events", "events": []}, "api": "ainvoke"}],
    },
    {
        "name": "interrupted_and_resumed",
        "calls": [
            _streamed(INPUT, ["values", "updates"]),
            _streamed(Command(resume="yes"), ["values", "updates"]),
        ],
    },
]
