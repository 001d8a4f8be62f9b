"""LangGraph's ``langgraph.pregel.remote``: :class:`RemoteGraph`, a client of a LangGraph-API
server that behaves as a graph (see :mod:`rewind.remote`; ``pip install 'rewind[remote]'``)."""

from __future__ import annotations

from rewind.remote import RemoteException, RemoteGraph

__all__ = ("RemoteGraph", "RemoteException")
