"""A saver's read side: LangGraph's checkpoint tuples, answered from the event log.

A checkpoint tuple is built from the checkpoint's folded view (:mod:`rewind.thread_state`):
its state channels' values, its metadata, its parent, and as pending writes what the tasks
that ran from it wrote (state channels, interrupts and errors), in LangGraph's write order.
rewind does not version channels (its log records what each step wrote), so
``channel_versions`` and ``versions_seen`` are empty and ``updated_channels`` is ``None``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

from rewind.checkpoint.base import Checkpoint, CheckpointTuple, PendingWrite
from rewind.checkpoint.serde.types import ERROR, INTERRUPT
from rewind.log import EventLog
from rewind.projections.state import CheckpointView
from rewind.runtime.channels import MISSING
from rewind.thread_state import ThreadState, history, read_checkpoint, read_head

__all__ = ["CHECKPOINT_FORMAT", "checkpoint_tuple", "get_tuple", "list_tuples"]

CHECKPOINT_FORMAT = 4
"""The ``v`` of the checkpoints a saver shows (LangGraph 1.x's)."""


def _configurable(config: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict((config or {}).get("configurable") or {})


def _config(thread_id: str, checkpoint_id: str) -> dict[str, Any]:
    return {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": "",
            "checkpoint_id": checkpoint_id,
        }
    }


def _pending_writes(view: CheckpointView) -> list[PendingWrite]:
    """What the tasks that ran from ``view`` wrote, as LangGraph orders a step's writes."""
    out: list[PendingWrite] = []
    for task in sorted(view.next, key=lambda t: "~".join(str(p) for p in t["path"][:3])):
        task_id = task["id"]
        for channel, values in view.writes.get(task_id, {}).items():
            out.extend((task_id, channel, value) for value in values)
        if task_id in view.errors:
            out.append((task_id, ERROR, view.errors[task_id]))
        if view.interrupts.get(task_id):
            out.append((task_id, INTERRUPT, list(view.interrupts[task_id])))
    return out


def checkpoint_tuple(thread_id: str, view: CheckpointView) -> CheckpointTuple:
    """The checkpoint tuple of a folded checkpoint of a thread's root graph."""
    checkpoint = {
        "v": CHECKPOINT_FORMAT,
        "id": view.id,
        "ts": view.ts.isoformat(),
        "channel_values": {k: v for k, v in view.values.items() if v is not MISSING},
        "channel_versions": {},
        "versions_seen": {},
        "updated_channels": None,
    }
    return CheckpointTuple(
        config=_config(thread_id, view.id),
        checkpoint=cast(Checkpoint, checkpoint),
        metadata=cast(Any, dict(view.metadata)),
        parent_config=_config(thread_id, view.parent_id) if view.parent_id else None,
        pending_writes=_pending_writes(view),
    )


async def get_tuple(log: EventLog, config: Mapping[str, Any]) -> CheckpointTuple | None:
    """The tuple of the checkpoint ``config`` names (its thread's newest without an id)."""
    configurable = _configurable(config)
    thread_id = configurable.get("thread_id")
    if thread_id is None or configurable.get("checkpoint_ns"):
        return None  # subgraph checkpoints are not listed (see the README)
    checkpoint_id = configurable.get("checkpoint_id")
    state: ThreadState | None
    if checkpoint_id is None:
        state = await read_head(log, str(thread_id))
    else:
        state = await read_checkpoint(log, str(checkpoint_id), thread_id=str(thread_id))
    if state is None or state.view is None:
        return None
    return checkpoint_tuple(str(thread_id), state.view)


async def list_tuples(
    log: EventLog,
    config: Mapping[str, Any] | None,
    *,
    filter: Mapping[str, Any] | None = None,
    before: Mapping[str, Any] | None = None,
    limit: int | None = None,
) -> AsyncIterator[CheckpointTuple]:
    """Checkpoints newest first: of ``config``'s thread (or of every thread, most recently
    updated first), whose metadata has ``filter``'s pairs, before ``before``'s checkpoint."""
    if limit is not None and limit <= 0:
        return
    configurable = _configurable(config)
    if configurable.get("checkpoint_ns"):
        return
    wanted = configurable.get("checkpoint_id")
    earlier = _configurable(before).get("checkpoint_id")
    if "thread_id" in configurable:
        threads = [str(configurable["thread_id"])]
    else:
        threads = [t.thread_id for t in await log.list_threads()]
    given = 0
    for thread_id in threads:
        if wanted is not None:
            found = await get_tuple(log, {"configurable": {**configurable, "thread_id": thread_id}})
            if found is not None and _matches(found, filter, earlier):
                yield found
                given += 1
        else:
            try:
                views = history(log, thread_id, before=earlier, metadata=filter)
                async for view in views:
                    yield checkpoint_tuple(thread_id, view)
                    given += 1
                    if limit is not None and given >= limit:
                        return
            except ValueError:  # `before` is another thread's checkpoint
                if "thread_id" in configurable:
                    raise
        if limit is not None and given >= limit:
            return


def _matches(found: CheckpointTuple, filter: Mapping[str, Any] | None, earlier: str | None) -> bool:
    metadata = cast(Mapping[str, Any], found.metadata)
    if any(metadata.get(k) != v for k, v in (filter or {}).items()):
        return False
    return earlier is None or found.checkpoint["id"] < earlier
