"""The graphs both servers serve, written once against rewind's API.

LangGraph's server gets the same module with its ``rewind`` imports turned into ``langgraph``
ones (:func:`for_langgraph`), so both run the same nodes. Nothing here needs the network:

graph "chat":   START -> reply -> count -> END (a ``messages`` channel; ``reply`` answers with
                a finished AIMessage and writes a custom event)
graph "ask":    START -> ask -> done -> END (``ask`` calls ``interrupt()``)
graph "nested": START -> inner -> END (``inner`` is the compiled "chat" graph)
graph "tokens": START -> model -> END (a fake chat model streams its answer token by token)
graph "slow":   START -> wait -> END (sleeps ``seconds``: for cancel, join and queues)
graph "boom":   START -> explode -> END (raises ValueError)
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AnyMessage
from typing_extensions import TypedDict

from rewind.config import get_stream_writer
from rewind.graph import END, START, StateGraph, add_messages
from rewind.types import interrupt

GRAPHS = {
    "chat": "./graphs.py:chat",
    "ask": "./graphs.py:ask",
    "nested": "./graphs.py:nested",
    "tokens": "./graphs.py:tokens",
    "slow": "./graphs.py:slow",
    "boom": "./graphs.py:boom",
}
"""The ``graphs`` of the ``langgraph.json`` both servers read."""


def for_langgraph() -> str:
    """This module's source, importing LangGraph where it imports rewind."""
    return Path(__file__).read_text().replace("from rewind.", "from langgraph.")


class ChatState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    turns: int


def reply(state: ChatState) -> dict[str, Any]:
    said = state["messages"][-1].content if state.get("messages") else ""
    get_stream_writer()({"replying_to": said})
    return {"messages": [AIMessage(content=f"echo: {said}")]}


def count(state: ChatState) -> dict[str, Any]:
    return {"turns": state.get("turns", 0) + 1}


_chat = StateGraph(ChatState)
_chat.add_node("reply", reply)
_chat.add_node("count", count)
_chat.add_edge(START, "reply")
_chat.add_edge("reply", "count")
_chat.add_edge("count", END)
chat = _chat.compile()


def ask_node(state: ChatState) -> dict[str, Any]:
    answer = interrupt({"question": "approve?"})
    return {"messages": [AIMessage(content=f"approved: {answer}")]}


_ask = StateGraph(ChatState)
_ask.add_node("ask", ask_node)
_ask.add_node("done", count)
_ask.add_edge(START, "ask")
_ask.add_edge("ask", "done")
_ask.add_edge("done", END)
ask = _ask.compile()


_nested = StateGraph(ChatState)
_nested.add_node("inner", chat)
_nested.add_edge(START, "inner")
_nested.add_edge("inner", END)
nested = _nested.compile()


async def model(state: ChatState) -> dict[str, Any]:
    fake = GenericFakeChatModel(messages=iter([AIMessage(content="one two three")]))
    return {"messages": [await fake.ainvoke(state.get("messages", []))]}


_tokens = StateGraph(ChatState)
_tokens.add_node("model", model)
_tokens.add_edge(START, "model")
_tokens.add_edge("model", END)
tokens = _tokens.compile()


class SlowState(TypedDict, total=False):
    seconds: float
    slept: float


async def wait(state: SlowState) -> dict[str, Any]:
    await asyncio.sleep(state.get("seconds", 0))
    return {"slept": state.get("seconds", 0)}


_slow = StateGraph(SlowState)
_slow.add_node("wait", wait)
_slow.add_edge(START, "wait")
_slow.add_edge("wait", END)
slow = _slow.compile()


class BoomState(TypedDict, total=False):
    x: int


def explode(state: BoomState) -> dict[str, Any]:
    raise ValueError("kaboom")


_boom = StateGraph(BoomState)
_boom.add_node("explode", explode)
_boom.add_edge(START, "explode")
_boom.add_edge("explode", END)
boom = _boom.compile()
