"""A node that streams a graph itself, as the streaming how-to's "stream from a subgraph inside
a node" does: ``async for chunk in research.astream(...)`` in an async node, ``research.stream``
in a sync one, and ``ainvoke(..., stream_mode=...)``; each node keeps the chunks it got (the
graph's own stream, not the run's), in several modes, with and without ``subgraphs=True``
(whose namespaces are the run's checkpoint namespaces), and relays some with its own writer.
In a node with an idle timeout, the streamed graph's custom writes are no progress of the node
when they go to its own stream (which has ``custom``), and are when they go through its writer.

The every-mode pass streams the parent with ``subgraphs=True``: the streamed graph's chunks
reach the run's stream too, but for its custom writes when its own stream has ``custom`` (they
go to that stream alone).

research: START -> search (writes a custom chunk) -> fetch (a subgraph) -> summarize -> END
fetch:    START -> get (writes a custom chunk) -> END
parent:   START -> streamer -> relay -> collector -> END
"""

import asyncio
import operator
from typing import Annotated, TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import TimeoutPolicy


class Research(TypedDict, total=False):
    topic: str
    notes: Annotated[list[str], operator.add]


def search(state: Research) -> dict:
    get_stream_writer()({"searching": state["topic"]})
    return {"notes": [f"found {state['topic']}"]}


def get(state: Research) -> dict:
    get_stream_writer()({"fetching": len(state["notes"])})
    return {"notes": ["fetched"]}


def summarize(state: Research) -> dict:
    return {"notes": [f"{len(state['notes'])} notes"]}


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
    g.add_node("summarize", summarize)
    g.add_edge(START, "search")
    g.add_edge("search", "fetch")
    g.add_edge("fetch", "summarize")
    g.add_edge("summarize", END)
    return g.compile()


research = _research()


class State(TypedDict, total=False):
    topic: str
    seen: Annotated[list[str], operator.add]


async def streamer(state: State) -> dict:
    """Streams the research graph in two modes, keeping every chunk."""
    seen = []
    async for mode, chunk in research.astream(
        {"topic": state["topic"]}, stream_mode=["updates", "custom"]
    ):
        seen.append(repr((mode, chunk)))
    return {"seen": seen}


def relay(state: State) -> dict:
    """A sync node: streams it, then relays what it got with its own writer (after the
    stream: rewind runs the streamed graph ahead of its reader, LangGraph as it is read)."""
    writer = get_stream_writer()
    seen = [repr(chunk) for chunk in research.stream({"topic": "relayed"}, stream_mode="updates")]
    writer({"relayed": len(seen)})
    return {"seen": seen}


async def collector(state: State) -> dict:
    """Its values, with the subgraph's own (their namespaces shown), and its default mode."""
    seen = [
        repr(chunk)
        async for chunk in research.astream(
            {"topic": "deep"}, stream_mode=["values", "custom"], subgraphs=True
        )
    ]
    return {"seen": seen}


async def defaults(state: State) -> dict:
    return {"seen": [repr(chunk) async for chunk in research.astream({"topic": "default"})]}


async def given_config(state: State, config) -> dict:
    """Given the node's config, its default mode is values (LangGraph's, in a node)."""
    return {"seen": [repr(c) async for c in research.astream({"topic": "configured"}, config)]}


async def invoked(state: State) -> dict:
    # (one graph call per node: LangGraph numbers a node's second one's namespace, rewind not)
    chunks = await research.ainvoke({"topic": "invoked"}, stream_mode="updates")
    return {"seen": [repr(chunks)]}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("streamer", streamer)
    g.add_node("relay", relay)
    g.add_node("collector", collector)
    g.add_edge(START, "streamer")
    g.add_edge("streamer", "relay")
    g.add_edge("relay", "collector")
    g.add_edge("collector", END)
    return g.compile(checkpointer=checkpointer)


def build_defaults(checkpointer):
    g = StateGraph(State)
    g.add_node("defaults", defaults)
    g.add_node("given_config", given_config)
    g.add_node("invoked", invoked)
    g.add_edge(START, "defaults")
    g.add_edge("defaults", "given_config")
    g.add_edge("given_config", "invoked")
    g.add_edge("invoked", END)
    return g.compile(checkpointer=checkpointer)


IDLE = 0.3
"""The timed node's idle timeout; the talker writes every sixth of it, ten times."""


async def talker(state: Research) -> dict:
    writer = get_stream_writer()
    for i in range(10):
        writer({"talker": i})
        await asyncio.sleep(IDLE / 6)
    return {"notes": ["talked"]}


def _talk():
    g = StateGraph(Research)
    g.add_node("talker", talker)
    g.add_edge(START, "talker")
    g.add_edge("talker", END)
    return g.compile()


talk = _talk()


async def timed_own_custom(state: State) -> dict:
    """Its stream has custom: the talker's writes go to it, and are no progress of the node."""
    seen = [repr(c) async for c in talk.astream({"topic": "t"}, stream_mode="custom")]
    return {"seen": seen}


async def timed_updates(state: State) -> dict:
    """Its stream has no custom: the talker writes through the node's writer (the run is
    streamed with subgraphs=True), its progress."""
    seen = [repr(c) async for c in talk.astream({"topic": "t"}, stream_mode="updates")]
    return {"seen": seen}


def _timed(checkpointer, node):
    g = StateGraph(State)
    g.add_node("timed", node, timeout=TimeoutPolicy(idle_timeout=IDLE))
    g.add_edge(START, "timed")
    g.add_edge("timed", END)
    return g.compile(checkpointer=checkpointer)


def build_timed_own_custom(checkpointer):
    return _timed(checkpointer, timed_own_custom)


def build_timed_updates(checkpointer):
    return _timed(checkpointer, timed_updates)


async def answer(state: Research) -> dict:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="a short answer", id="a-1")]))
    reply = await model.ainvoke(f"tell me about {state['topic']}")
    return {"notes": [reply.content]}


def _answering():
    g = StateGraph(Research)
    g.add_node("answer", answer)
    g.add_edge(START, "answer")
    g.add_edge("answer", END)
    return g.compile()


answering = _answering()


async def token_streamer(state: State) -> dict:
    """Streams the tokens of the graph's chat model: its own stream makes the model stream."""
    seen = []
    async for token, metadata in answering.astream({"topic": "x"}, stream_mode="messages"):
        seen.append(repr((token.content, metadata["langgraph_node"])))
    return {"seen": seen}


def build_messages(checkpointer):
    g = StateGraph(State)
    g.add_node("token_streamer", token_streamer)
    g.add_edge(START, "token_streamer")
    g.add_edge("token_streamer", END)
    return g.compile(checkpointer=checkpointer)


INPUT = {"topic": "pregel", "seen": []}

# Made through astream_events(subgraphs=True), the sync node's stream runs in LangGraph's worker
# thread: its chunks reach the graph's on_chain_stream events as that thread and the event loop
# interleave. sbs_85 compares the events of graphs that async nodes stream.
EVENTS_COMPARABLE = False
TIMED = {
    "input": INPUT,
    "api": "astream",
    "kwargs": {"stream_mode": ["custom", "updates"], "subgraphs": True},
}


SCENARIOS = [
    {"name": "invoked", "calls": [{"input": INPUT, "api": "ainvoke"}]},
    {
        "name": "streamed_with_subgraphs",
        "calls": [
            {
                "input": INPUT,
                "api": "astream",
                "kwargs": {"stream_mode": ["updates", "custom"], "subgraphs": True},
            }
        ],
    },
    {
        "name": "streamed_custom",
        "calls": [{"input": INPUT, "api": "astream", "kwargs": {"stream_mode": "custom"}}],
    },
    {"name": "timed_own_custom", "build": "build_timed_own_custom", "calls": [TIMED]},
    {"name": "timed_updates", "build": "build_timed_updates", "calls": [TIMED]},
    {
        "name": "messages",
        "build": "build_messages",
        "calls": [{"input": INPUT, "api": "ainvoke"}],
        # Streamed with messages, the run's stream shows the tokens of a chat model in a graph
        # called from a node with metadata of its own namespace and no thread_id, LangGraph's
        # with the node's (the config a graph called from a node gives its nodes' callbacks:
        # the same for an invoked graph, not of these streams).
        "streams": False,
    },
    {"name": "defaults", "build": "build_defaults", "calls": [{"input": INPUT, "api": "ainvoke"}]},
]
