"""LangGraph's ``langgraph.constants`` names: the graph's virtual first and last nodes, and the
tags that keep a chat model from streaming or a node from tracing views.

``Send`` and ``Interrupt`` imported from here still work, with LangGraph's deprecation warning
(they live in :mod:`rewind.types`).
"""

from __future__ import annotations

import sys
from typing import Any
from warnings import warn

from rewind.errors import LangGraphDeprecatedSinceV10
from rewind.runtime.graph import END, START

__all__ = (
    "CONF",
    "CONFIG_KEY_CHECKPOINTER",
    "END",
    "START",
    "TAG_HIDDEN",
    "TAG_NOSTREAM",
    "TASKS",
)

TAG_NOSTREAM = sys.intern("nostream")
"""Tag to disable streaming for a chat model (its tokens are not in the ``messages`` mode)."""
TAG_HIDDEN = sys.intern("langsmith:hidden")
"""Tag to hide a node or edge from tracing and streaming views."""
CONF = sys.intern("configurable")
"""The key of a config's configurable values (kept for code written against LangGraph's)."""
TASKS = sys.intern("__pregel_tasks")
"""LangGraph's name of the channel of ``Send`` packets (kept for code that names it)."""
CONFIG_KEY_CHECKPOINTER = sys.intern("__pregel_checkpointer")
"""LangGraph's configurable key of a subgraph's checkpointer (kept for code that names it)."""


def __getattr__(name: str) -> Any:
    if name in ("Send", "Interrupt"):
        warn(
            f"Importing {name} from langgraph.constants is deprecated. "
            f"Please use 'from langgraph.types import {name}' instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        from rewind import types

        return getattr(types, name)
    raise AttributeError(f"module 'rewind.constants' has no attribute {name!r}")
