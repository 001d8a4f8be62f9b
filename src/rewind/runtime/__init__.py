"""The graph runtime: StateGraph, the super-step executor and the recorder.

Also LangGraph's ``langgraph.runtime`` names (``Runtime``, ``ExecutionInfo``, ``get_runtime``),
so that
``from langgraph.runtime import Runtime`` becomes ``from rewind.runtime import Runtime``.
"""

from __future__ import annotations

from rewind.runtime.context import ExecutionInfo, Runtime, get_runtime

__all__ = ["ExecutionInfo", "Runtime", "get_runtime"]
