"""A node that calls graphs more than once, as the subgraphs how-to's "invoke a graph from a
node" does, several times: LangGraph runs the first under the node's namespace and numbers
the ones after it (``node:<task id>|1``, ``|2``), which every stream shows (with
``subgraphs=True``, a namespace of two parts). An async node awaits ``ainvoke`` twice, a sync
node calls ``invoke`` twice, a third streams the graph twice with its subgraphs (its own
streams show the numbered namespaces) and a chat model answers in each. A node whose second
graph interrupts is resumed: its first graph, done, is found at its end and runs nothing.

research: START -> search (writes a custom chunk) -> fetch (a subgraph) -> answer -> END
fetch:    START -> get -> END
parent:   START -> twice -> sync_twice -> stream_twice -> END
"""

import operator
from typing import Annotated, TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt


class Research(TypedDict, total=False):
    topic: str
    notes: Annotated[list[str], operator.add]


def search(state: Research) -> dict:
    get_stream_writer()({"searching": state["topic"]})
    return {"notes": [f"found {state['topic']}"]}


def get(state: Research) -> dict:
    return {"notes": ["fetched"]}


def answer(state: Research) -> dict:
    model = GenericFakeChatModel(messages=iter([AIMessage(content=f"on {state['topic']}")]))
    return {"notes": [model.invoke(state["topic"]).content]}


def _fetch():
    g = StateGraph(Research)
    g.add_node("get", get)
    g.add_edge(START, "get")
    g.add_edge("get", END)
    return g.compile()


def _research():
    g = StateGraph(Research)
    g.add_node("search", search)
    g.add_node("fetch", _fetch())
    g.add_node("answer", answer)
    g.add_edge(START, "search")
    g.add_edge("search", "fetch")
    g.add_edge("fetch", "answer")
    g.add_edge("answer", END)
    return g.compile()


research = _research()


class State(TypedDict, total=False):
    topic: str
    seen: Annotated[list[str], operator.add]


async def twice(state: State) -> dict:
    first = await research.ainvoke({"topic": state["topic"]})
    second = await research.ainvoke({"topic": "again"})
    return {"seen": first["notes"] + second["notes"]}


def sync_twice(state: State) -> dict:
    first = research.invoke({"topic": "sync"})
    second = research.invoke({"topic": "sync again"})
    return {"seen": first["notes"] + second["notes"]}


async def stream_twice(state: State) -> dict:
    seen = []
    for topic in ("streamed", "streamed again"):
        async for ns, chunk in research.astream(
            {"topic": topic}, stream_mode="updates", subgraphs=True
        ):
            seen.append(repr((ns, chunk)))
    return {"seen": seen}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("twice", twice)
    g.add_node("sync_twice", sync_twice)
    g.add_node("stream_twice", stream_twice)
    g.add_edge(START, "twice")
    g.add_edge("twice", "sync_twice")
    g.add_edge("sync_twice", "stream_twice")
    g.add_edge("stream_twice", END)
    return g.compile(checkpointer=checkpointer)


def approve(state: Research) -> dict:
    return {"notes": [f"approved {interrupt(state['topic'])}"]}


def _approving():
    g = StateGraph(Research)
    g.add_node("approve", approve)
    g.add_edge(START, "approve")
    g.add_edge("approve", END)
    return g.compile()


approving = _approving()


async def research_then_approve(state: State) -> dict:
    """Its second graph interrupts. Resumed, the node runs again: its first graph, done, is
    found at its end (its nodes do not run again), its second resumes."""
    first = await research.ainvoke({"topic": state["topic"]})
    second = await approving.ainvoke({"topic": "the notes"})
    return {"seen": first["notes"] + second["notes"]}


def build_interrupting(checkpointer):
    g = StateGraph(State)
    g.add_node("research_then_approve", research_then_approve)
    g.add_edge(START, "research_then_approve")
    g.add_edge("research_then_approve", END)
    return g.compile(checkpointer=checkpointer)


INPUT = {"topic": "pregel", "seen": []}

SCENARIOS = [
    {"name": "invoked", "calls": [{"input": INPUT, "api": "ainvoke"}]},
    {
        "name": "messages",
        "calls": [{"input": INPUT, "api": "astream", "kwargs": {"stream_mode": "messages"}}],
    },
    {
        "name": "second_interrupts",
        "build": "build_interrupting",
        "calls": [
            {"input": INPUT, "api": "ainvoke"},
            {"input": Command(resume="yes"), "api": "ainvoke"},
        ],
    },
    # (with subgraphs=True: the every-mode pass streams every call so. Not made through
    # astream_events: LangGraph's events interleave the chunks of the run's stream as its
    # queue is read)
]
