"""LangGraph's ``langgraph.graph`` names: the graph builder and its constants."""

from __future__ import annotations

from rewind.graph.message import MessageGraph, MessagesState, add_messages
from rewind.runtime.compiled import CompiledStateGraph
from rewind.runtime.graph import END, START, StateGraph

__all__ = [
    "END",
    "START",
    "CompiledStateGraph",
    "MessageGraph",
    "MessagesState",
    "StateGraph",
    "add_messages",
]
