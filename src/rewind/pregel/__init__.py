"""LangGraph's low-level API: ``Pregel`` programs of channels and nodes, run and recorded by
rewind (see :mod:`rewind.runtime.lowlevel` for what runs and what is not supported)."""

from rewind.pregel.main import NodeBuilder, Pregel

__all__ = ("Pregel", "NodeBuilder")
