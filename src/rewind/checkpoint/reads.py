"""A saver's read side: LangGraph's checkpoint tuples, answered from the event log (the root
graph's checkpoints, and the subgraphs' under their namespaces, :mod:`.subgraphs`).

A checkpoint tuple is built from the checkpoint's folded view (:mod:`rewind.thread_state`):
its state channels' values, its metadata, its parent, and as pending writes what the tasks
that ran from it wrote (state channels, interrupts and errors), in LangGraph's write order.
rewind does not version channels (its log records what each step wrote), so
``channel_versions`` and ``versions_seen`` are empty and ``updated_channels`` is ``None``. A
root checkpoint's values and writes are as LangGraph's savers give them back (through its
serializer: tuples as lists, :mod:`rewind.runtime.read_back`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

from rewind.checkpoint.base import Checkpoint, CheckpointTuple, PendingWrite
from rewind.checkpoint.serde.types import ERROR, INTERRUPT
from rewind.checkpoint.subgraphs import subgraph_checkpoints
from rewind.log import EventLog
from rewind.projections.state import CheckpointView
from rewind.runtime.channels import MISSING
from rewind.runtime.read_back import checkpointed
from rewind.thread_state import ThreadState, history, read_checkpoint, read_head

__all__ = ["CHECKPOINT_FORMAT", "checkpoint_tuple", "get_tuple", "list_tuples"]

CHECKPOINT_FORMAT = 4
"""The ``v`` of the checkpoints a saver shows (LangGraph 1.x's)."""


def _configurable(config: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict((config or {}).get("configurable") or {})


def _config(thread_id: str, checkpoint_id: str, ns: str = "") -> dict[str, Any]:
    return {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": ns,
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


def checkpoint_tuple(thread_id: str, view: CheckpointView, ns: str = "") -> CheckpointTuple:
    """The checkpoint tuple of a folded checkpoint of a thread's root graph (or of the
    subgraph at namespace ``ns``)."""
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
        config=_config(thread_id, view.id, ns),
        checkpoint=cast(Checkpoint, checkpoint),
        metadata=cast(Any, dict(view.metadata)),
        parent_config=_config(thread_id, view.parent_id, ns) if view.parent_id else None,
        pending_writes=_pending_writes(view),
    )


async def get_tuple(log: EventLog, config: Mapping[str, Any]) -> CheckpointTuple | None:
    """The tuple of the checkpoint ``config`` names (its thread's newest without an id)."""
    configurable = _configurable(config)
    thread_id = configurable.get("thread_id")
    if thread_id is None:
        return None
    checkpoint_id = configurable.get("checkpoint_id")
    if ns := configurable.get("checkpoint_ns"):
        views = (await subgraph_checkpoints(log, str(thread_id))).get(ns, [])
        chosen = [v for v in views if checkpoint_id in (None, v.id)]
        return checkpoint_tuple(str(thread_id), chosen[-1], ns) if chosen else None
    state: ThreadState | None
    if checkpoint_id is None:
        state = await read_head(log, str(thread_id), read_back=checkpointed)
    else:
        state = await read_checkpoint(
            log, str(checkpoint_id), thread_id=str(thread_id), read_back=checkpointed
        )
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
    """Checkpoints of ``config``'s thread (or of every thread, most recently updated first),
    as LangGraph's savers list them: the root graph's newest first, then each subgraph
    namespace's (all of them without a ``checkpoint_ns``, one with it, none with ``""``);
    whose metadata has ``filter``'s pairs, with ids below ``before``'s, at most ``limit``."""
    if limit is not None and limit <= 0:
        return
    configurable = _configurable(config)
    earlier = _configurable(before).get("checkpoint_id")
    if "thread_id" in configurable:
        threads = [str(configurable["thread_id"])]
    else:
        threads = [t.thread_id for t in await log.list_threads()]
    given = 0
    for thread_id in threads:
        listed = _thread_tuples(
            log,
            thread_id,
            configurable.get("checkpoint_ns"),
            configurable.get("checkpoint_id"),
            filter,
            earlier,
        )
        async for found in listed:
            yield found
            given += 1
            if limit is not None and given >= limit:
                return


async def _thread_tuples(
    log: EventLog,
    thread_id: str,
    ns: str | None,
    wanted: str | None,
    filter: Mapping[str, Any] | None,
    earlier: str | None,
) -> AsyncIterator[CheckpointTuple]:
    if not ns:
        if wanted is not None:
            found = await get_tuple(
                log, {"configurable": {"thread_id": thread_id, "checkpoint_id": wanted}}
            )
            if found is not None and _matches(found, filter, earlier):
                yield found
        else:
            async for view in _root_history(log, thread_id, filter, earlier):
                yield checkpoint_tuple(thread_id, view)
    if ns == "":
        return
    for name, views in (await subgraph_checkpoints(log, thread_id)).items():
        if ns is not None and name != ns:
            continue
        for view in reversed(views):
            found = checkpoint_tuple(thread_id, view, name)
            if wanted in (None, view.id) and _matches(found, filter, earlier):
                yield found


async def _root_history(
    log: EventLog, thread_id: str, filter: Mapping[str, Any] | None, earlier: str | None
) -> AsyncIterator[CheckpointView]:
    """The root checkpoints, newest first; ``earlier``: those with a lower id (read from its
    place in the log when it is one of the thread's root checkpoints)."""
    if earlier is not None and await log.get_checkpoint(earlier, thread_id=thread_id) is None:
        async for view in history(log, thread_id, metadata=filter, read_back=checkpointed):
            if view.id < earlier:
                yield view
        return
    views = history(log, thread_id, before=earlier, metadata=filter, read_back=checkpointed)
    async for view in views:
        yield view


def _matches(found: CheckpointTuple, filter: Mapping[str, Any] | None, earlier: str | None) -> bool:
    metadata = cast(Mapping[str, Any], found.metadata)
    if any(metadata.get(k) != v for k, v in (filter or {}).items()):
        return False
    return earlier is None or found.checkpoint["id"] < earlier
