"""A client of a LangGraph-API server (``rewind serve``, or LangGraph's) that behaves as a graph.

``RemoteGraph("agent", url=...)`` has a compiled graph's methods (``invoke``, ``stream``,
``get_state``, ``update_state``, ``get_state_history``, ``stream_events(version="v3")`` and
their async forms), each a call to the server through the official SDK (``pip install
'rewind[remote]'``), and it can be a node of a local graph: streamed with subgraphs, the parent
shows the remote run's chunks, recorded in its log (see :mod:`rewind.runtime.forwarding`).
With ``distributed_tracing=True`` a run carries the caller's trace context (see
:mod:`rewind.remote.tracing`). LangGraph's import path, ``rewind.pregel.remote``, gives the same
classes.
"""

from __future__ import annotations

from rewind.remote.graph import RemoteException, RemoteGraph

__all__ = ["RemoteException", "RemoteGraph"]
