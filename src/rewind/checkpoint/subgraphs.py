"""A thread's subgraph checkpoints, for a saver's ``list`` and ``get_tuple``.

A subgraph's checkpoints are events of the run of its parent's task, after the root
checkpoint that task ran from: each root checkpoint's tail (:mod:`rewind.thread_state`) holds
those of the subgraphs its tasks ran, folded per namespace (``node:task_id``, nested ones
joined by ``|``, as LangGraph names them). Root checkpoints are read a page at a time, their
tails together, so the reads grow with the pages, not the checkpoints.
"""

from __future__ import annotations

from rewind.log import EventLog
from rewind.projections.state import CheckpointView
from rewind.runtime.read_back import checkpointed
from rewind.thread_state import read_checkpoints

__all__ = ["subgraph_checkpoints"]

_PAGE = 32


async def subgraph_checkpoints(log: EventLog, thread_id: str) -> dict[str, list[CheckpointView]]:
    """Per subgraph namespace of the thread, in the order they first ran: its checkpoints,
    oldest first, as LangGraph's checkpointer gives them back (tuples as lists: see
    :mod:`rewind.runtime.read_back`)."""
    cache: dict[str, CheckpointView] = {}
    newest_first: list[list[tuple[str, list[CheckpointView]]]] = []
    below: int | None = None
    while True:
        page = await log.list_checkpoints(thread_id, before_position=below, limit=_PAGE)
        for state in await read_checkpoints(log, page, cache=cache, read_back=checkpointed):
            namespaces = dict.fromkeys(event.ns for event in state.tail if event.ns)
            newest_first.append([(ns, state.views_at(ns)) for ns in namespaces])
        if len(page) < _PAGE:
            break
        below = page[-1].position
    found: dict[str, dict[str, CheckpointView]] = {}
    for under_root in reversed(newest_first):
        for ns, views in under_root:
            for view in views:
                found.setdefault(ns, {}).setdefault(view.id, view)
    return {ns: list(views.values()) for ns, views in found.items()}
