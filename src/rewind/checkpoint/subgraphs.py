"""A thread's subgraph checkpoints, for a saver's ``list`` and ``get_tuple``.

A subgraph's checkpoints are events of the run of its parent's task, after the root
checkpoint that task ran from: each root checkpoint's tail (:mod:`rewind.thread_state`) holds
those of the subgraphs its tasks ran, folded per namespace (``node:task_id``, nested ones
joined by ``|``, as LangGraph names them).
"""

from __future__ import annotations

from rewind.log import EventLog
from rewind.projections.state import CheckpointView
from rewind.thread_state import history, read_checkpoint

__all__ = ["subgraph_checkpoints"]


async def subgraph_checkpoints(log: EventLog, thread_id: str) -> dict[str, list[CheckpointView]]:
    """Per subgraph namespace of the thread, in the order they first ran: its checkpoints,
    oldest first."""
    roots = [view async for view in history(log, thread_id)]
    cache: dict[str, CheckpointView] = {}
    found: dict[str, dict[str, CheckpointView]] = {}
    for root in reversed(roots):
        state = await read_checkpoint(log, root.id, thread_id=thread_id, cache=cache)
        if state is None:
            continue
        for ns in dict.fromkeys(event.ns for event in state.tail if event.ns):
            for view in state.views_at(ns):
                found.setdefault(ns, {}).setdefault(view.id, view)
    return {ns: list(views.values()) for ns, views in found.items()}
