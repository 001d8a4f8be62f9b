"""The state a ``RemoteGraph`` node's task shows, as LangGraph's ``get_state`` shows it.

LangGraph counts a node that is (or calls) a graph run elsewhere as a subgraph: a snapshot's
task of it shows, as its ``state``, a config naming the task's namespace, and
``get_state(subgraphs=True)`` the remote thread's state, asked of its server (the remote run
is on the parent's thread: the ``RemoteGraph`` sends the thread id it runs with).
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from rewind.projections.state import CheckpointView
from rewind.runtime.tasks import remote_graph
from rewind.types import StateSnapshot

__all__ = ["remote_nodes", "remote_states", "task_namespace"]

_FOUND: WeakKeyDictionary[Any, dict[str, Any]] = WeakKeyDictionary()


def remote_nodes(graph: Any) -> dict[str, Any]:
    """The graph's nodes that run a graph elsewhere: name -> its ``RemoteGraph`` (found as
    ``get_subgraphs`` finds subgraphs, once per graph)."""
    found = _FOUND.get(graph)
    if found is None:
        found = {name: sub for name, sub in graph.get_subgraphs() if remote_graph(sub)}
        _FOUND[graph] = found
    return found


def task_namespace(ns: str, name: str, task_id: str) -> str:
    """The namespace of a task of the graph at ``ns``."""
    return f"{ns}|{name}:{task_id}" if ns else f"{name}:{task_id}"


async def remote_states(
    graph: Any, view: CheckpointView, thread_id: str
) -> dict[str, StateSnapshot]:
    """The remote threads' states of the root checkpoint ``view``'s tasks whose node is a
    ``RemoteGraph`` (task id -> snapshot), each asked of its server as LangGraph asks it."""
    remotes = remote_nodes(graph)
    out: dict[str, StateSnapshot] = {}
    for task in view.next:
        remote = remotes.get(task["name"])
        if remote is None:
            continue
        ns = task_namespace("", task["name"], task["id"])
        config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns}}
        out[task["id"]] = await remote.aget_state(config, subgraphs=True)
    return out
