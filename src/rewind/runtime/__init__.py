"""The graph runtime: StateGraph, the super-step executor and the recorder.

Also LangGraph's ``langgraph.runtime`` names (``Runtime``, ``ExecutionInfo``, ``get_runtime``,
``ServerInfo``, ``BaseUser``, ``RunControl``),
so that
``from langgraph.runtime import Runtime`` becomes ``from rewind.runtime import Runtime``.
"""

from __future__ import annotations

from rewind.runtime.context import ExecutionInfo, Runtime, get_runtime
from rewind.runtime.control import RunControl
from rewind.runtime.deployment import BaseUser, ServerInfo

__all__ = ["BaseUser", "ExecutionInfo", "RunControl", "Runtime", "ServerInfo", "get_runtime"]
