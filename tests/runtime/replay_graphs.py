"""Graphs whose live streams tests/runtime/test_replay.py compares with their replays."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from rewind.config import get_stream_writer
from rewind.graph import END, START, StateGraph
from rewind.graph.message import add_messages
from rewind.types import Send, interrupt


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    messages: Annotated[list[Any], add_messages]
    items: list[str]


def _inner() -> Any:
    def deep(state: State) -> dict[str, Any]:
        get_stream_writer()({"deep": True})
        return {"log": ["deep"]}

    g = StateGraph(State)
    g.add_node("deep", deep)
    g.add_edge(START, "deep")
    return g.compile()


def build(checkpointer: Any) -> Any:
    """A graph that streams in every mode: tokens, custom writes, Send, a subgraph."""
    model = GenericFakeChatModel(messages=iter([AIMessage("hello to you")]))

    def chat(state: State) -> dict[str, Any]:
        get_stream_writer()({"stage": "chat"})
        return {"messages": [model.invoke(state["messages"])], "items": ["x", "y"]}

    def fan(state: State) -> list[Send]:
        return [Send("work", {"item": i}) for i in state["items"]]

    def work(arg: dict[str, Any]) -> dict[str, Any]:
        return {"log": [arg["item"]]}

    g = StateGraph(State)
    g.add_node("chat", chat)
    g.add_node("work", work)
    g.add_node("sub", _inner())
    g.add_edge(START, "chat")
    g.add_conditional_edges("chat", fan, ["work"])
    g.add_edge("work", "sub")
    g.add_edge("sub", END)
    return g.compile(checkpointer=checkpointer)


def build_interrupting(checkpointer: Any) -> Any:
    """A graph that stops at an interrupt (inside a subgraph) and is resumed."""

    def ask(state: State) -> dict[str, Any]:
        return {"log": [f"answer:{interrupt('question?')}"]}

    inner = StateGraph(State)
    inner.add_node("ask", ask)
    inner.add_edge(START, "ask")

    def before(state: State) -> dict[str, Any]:
        return {"log": ["before"]}

    g = StateGraph(State)
    g.add_node("before", before)
    g.add_node("inner", inner.compile())
    g.add_edge(START, "before")
    g.add_edge("before", "inner")
    g.add_edge("inner", END)
    return g.compile(checkpointer=checkpointer)
