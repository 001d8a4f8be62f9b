"""The reference probe graphs, on rewind: what the server tests run.

graph "agent":  START -> agent -> sub (subgraph: sub_a -> sub_b) -> ask_human -> final -> END
  * agent: streams tokens from langchain_core GenericFakeChatModel, writes custom events
  * sub: compiled subgraph node (namespaced events when stream_subgraphs=True)
  * ask_human: interrupt({"question": ...}) -> resumed via Command(resume=...)
graph "slow":   emits N custom events with sleeps (for join / Last-Event-ID reconnect)
graph "boom":   raises ValueError (error event format)
graph "echo":   node returns a finished AIMessage (messages/complete)
graph "nested": the LLM node lives inside a subgraph (namespaced messages events)
"""

from __future__ import annotations

import asyncio
import operator
import os
from typing import Annotated, Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from typing_extensions import TypedDict

from rewind.config import get_stream_writer
from rewind.graph import END, START, StateGraph
from rewind.graph.message import add_messages
from rewind.types import interrupt


class State(TypedDict, total=False):
    messages: Annotated[list, add_messages]
    steps: Annotated[list[str], operator.add]
    sub_steps: Annotated[list[str], operator.add]
    approved: Any
    answer: str


class SubState(TypedDict, total=False):
    sub_steps: Annotated[list[str], operator.add]


async def agent(state: State) -> dict:
    writer = get_stream_writer()
    writer({"progress": "agent:start"})
    model = GenericFakeChatModel(
        messages=iter([AIMessage(content="Hello from the fake model", id="ai-msg-1")])
    )
    msg = await model.ainvoke(state.get("messages", []))
    writer({"progress": "agent:end"})
    return {"messages": [msg], "steps": ["agent"]}


def sub_a(state: SubState) -> dict:
    get_stream_writer()({"progress": "sub_a"})
    return {"sub_steps": ["sub_a"]}


def sub_b(state: SubState) -> dict:
    return {"sub_steps": ["sub_b"]}


_sub = StateGraph(SubState)
_sub.add_node("sub_a", sub_a)
_sub.add_node("sub_b", sub_b)
_sub.add_edge(START, "sub_a")
_sub.add_edge("sub_a", "sub_b")
_sub.add_edge("sub_b", END)
subgraph = _sub.compile()


def ask_human(state: State) -> dict:
    value = interrupt({"question": "approve?"})
    return {"approved": value, "steps": ["ask_human"]}


def final(state: State) -> dict:
    return {"answer": f"approved={state.get('approved')!r}", "steps": ["final"]}


_b = StateGraph(State)
_b.add_node("agent", agent)
_b.add_node("sub", subgraph)
_b.add_node("ask_human", ask_human)
_b.add_node("final", final)
_b.add_edge(START, "agent")
_b.add_edge("agent", "sub")
_b.add_edge("sub", "ask_human")
_b.add_edge("ask_human", "final")
_b.add_edge("final", END)
graph = _b.compile()


class SlowState(TypedDict, total=False):
    n: int
    count: Annotated[int, operator.add]


async def tick(state: SlowState) -> dict:
    writer = get_stream_writer()
    n = state.get("n", 8)
    for i in range(n):
        writer({"tick": i})
        await asyncio.sleep(0.5)
    return {"count": n}


_s = StateGraph(SlowState)
_s.add_node("tick", tick)
_s.add_edge(START, "tick")
_s.add_edge("tick", END)
slow = _s.compile()


class BoomState(TypedDict, total=False):
    x: int


def explode(state: BoomState) -> dict:
    raise ValueError("kaboom")


_e = StateGraph(BoomState)
_e.add_node("explode", explode)
_e.add_edge(START, "explode")
_e.add_edge("explode", END)
boom = _e.compile()


def echo(state: State) -> dict:
    """Returns a complete (non-streamed) AI message -> messages/complete."""
    return {"messages": [AIMessage(content="echo!", id="echo-1")]}


_x = StateGraph(State)
_x.add_node("echo", echo)
_x.add_edge(START, "echo")
_x.add_edge("echo", END)
echo_graph = _x.compile()


_inner = StateGraph(State)
_inner.add_node("agent", agent)
_inner.add_edge(START, "agent")
_inner.add_edge("agent", END)
_n = StateGraph(State)
_n.add_node("inner", _inner.compile())
_n.add_edge(START, "inner")
_n.add_edge("inner", END)
nested = _n.compile()


class ChatState(TypedDict, total=False):
    messages: Annotated[list, add_messages]


async def chat(state: ChatState) -> dict:
    """Streams a reply of N tokens (``TOKENS`` words), for the load test and the bench."""
    words = " ".join(f"w{i}" for i in range(int(os.environ.get("REWIND_TEST_TOKENS", "20"))))
    model = GenericFakeChatModel(messages=iter([AIMessage(content=words)]))
    msg = await model.ainvoke(state.get("messages", []))
    return {"messages": [msg]}


_c = StateGraph(ChatState)
_c.add_node("chat", chat)
_c.add_edge(START, "chat")
_c.add_edge("chat", END)
chatty = _c.compile()
