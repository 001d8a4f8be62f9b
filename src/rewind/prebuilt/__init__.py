"""LangGraph's ``langgraph.prebuilt`` names: the prebuilt agent, the tool-calling node and its
routing function.

``from langgraph.prebuilt import ToolNode, tools_condition`` becomes
``from rewind.prebuilt import ToolNode, tools_condition``.
"""

from __future__ import annotations

from rewind.prebuilt.chat_agent_executor import create_react_agent
from rewind.prebuilt.tool_calls import ToolCallTransformer
from rewind.prebuilt.tool_node import (
    InjectedState,
    InjectedStore,
    ToolNode,
    ToolRuntime,
    tools_condition,
)
from rewind.prebuilt.tool_validator import ValidationNode

__all__ = [
    "create_react_agent",
    "ToolNode",
    "ToolCallTransformer",
    "tools_condition",
    "ValidationNode",
    "InjectedState",
    "InjectedStore",
    "ToolRuntime",
]
