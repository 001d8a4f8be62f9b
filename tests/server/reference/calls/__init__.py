"""The SDK calls played against each server, in order, as data.

Each :class:`~tests.server.reference.calls.base.Call` names the SDK method it exercises and is a
function ``(client, ctx)`` that returns what the server answered (a stream as its
``[event, data]`` parts). Calls build on each other through ``ctx``: an earlier call puts there
the ids a later one needs (threads, runs, checkpoints, crons), so the same sequence runs against
each server separately. A ``sync`` call takes the client of ``get_sync_client`` and runs in a
thread; an ``http`` call takes plain HTTP (:class:`~tests.server.reference.calls.base.Http`), for
the protocols the SDK has no client for (MCP, A2A, generative UI).
"""

from __future__ import annotations

from tests.server.reference.calls import (
    a2a,
    assistants,
    crons,
    mcp,
    runs,
    store,
    thread_protocol,
    threads,
    ui,
)
from tests.server.reference.calls.base import Call

CALLS: list[Call] = [
    *assistants.CALLS,
    *threads.CALLS,
    *runs.CALLS,
    *crons.CALLS,
    *store.CALLS,
    *thread_protocol.CALLS,
    *mcp.CALLS,
    *a2a.CALLS,
    *ui.CALLS,
]
"""Every call, in the order they are played."""

__all__ = ["CALLS", "Call"]
