"""LangGraph's ``langgraph.graph.state`` names."""

from __future__ import annotations

from rewind.runtime.compiled import CompiledStateGraph
from rewind.runtime.graph import END, START, StateGraph

__all__ = ["END", "START", "CompiledStateGraph", "StateGraph"]
