"""A chat model inside a subgraph, streamed in ``messages`` mode with and without
``subgraphs=True``, on real LangGraph and on rewind: without subgraphs, LangGraph sends the
subgraph's message once, whole, when the parent's node ends; with them, token by token."""

# No ``from __future__ import annotations``: the state class below is built inside a function,
# for each engine, and its annotations must be evaluated there.
import importlib
from typing import Annotated, Any, TypedDict

import pytest

from tests.runtime.side_by_side import harness


def _stream(subgraphs: bool) -> list[Any]:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    graph_module = importlib.import_module("langgraph.graph")
    message_module = importlib.import_module("langgraph.graph.message")
    state_graph, start, end = graph_module.StateGraph, graph_module.START, graph_module.END

    class State(TypedDict, total=False):
        messages: Annotated[list, message_module.add_messages]

    model = GenericFakeChatModel(messages=iter([AIMessage("Hello from the model", id="ai-1")]))

    def agent(state: State) -> dict:
        return {"messages": [model.invoke(state["messages"])]}

    inner = state_graph(State)
    inner.add_node("agent", agent)
    inner.add_edge(start, "agent")
    inner.add_edge("agent", end)
    outer = state_graph(State)
    outer.add_node("inner", inner.compile())
    outer.add_edge(start, "inner")
    outer.add_edge("inner", end)
    chunks = outer.compile().stream(
        {"messages": [("user", "hi")]}, stream_mode="messages", subgraphs=subgraphs
    )
    return harness.Normalizer().norm(harness.ser(list(chunks)))


@pytest.mark.parametrize("subgraphs", [False, True])
def test_a_subgraph_message_streams_as_under_langgraph(subgraphs: bool) -> None:
    reference = _stream(subgraphs)
    with harness.rewind_imports():
        candidate = _stream(subgraphs)
    assert reference, "LangGraph streamed the message"
    assert candidate == reference
