"""``Pregel`` and ``NodeBuilder`` (LangGraph's ``langgraph.pregel.main``)."""

from rewind.runtime.lowlevel import NodeBuilder, Pregel

__all__ = ("NodeBuilder", "Pregel")
