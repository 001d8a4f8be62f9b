"""LangGraph's ``langgraph.pregel._read``: :class:`PregelNode`, a ``Pregel`` program's node
(as ``NodeBuilder`` builds it, or made directly: with a ``mapper`` of what it reads)."""

from rewind.runtime.pregel_nodes import PregelNode

__all__ = ("PregelNode",)
