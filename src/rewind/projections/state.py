"""Folding the log into state: the values at every checkpoint of a thread, from events alone.

A ``checkpoint`` event carries the changes its super-step applied, channel by channel, in the
form the channel's reducer needs to be replayed without the graph's code: ``set`` (the new
value), ``add`` (the writes, combined with ``operator.add``), ``messages`` (the writes, combined
with ``add_messages``; their ids were assigned before they were logged) or ``value`` (the value
after a user's own reducer). Pure functions; no I/O.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rewind.events import EventType, StoredEvent
from rewind.types import Command, Overwrite

__all__ = [
    "CheckpointView",
    "fold_thread",
    "apply_changes",
    "fold_checkpoints",
    "task_result_of",
    "task_writes_of",
]


@dataclass(kw_only=True, slots=True)
class CheckpointView:
    """A checkpoint as the log describes it, with the state folded up to it."""

    id: str
    """The checkpoint id."""
    parent_id: str | None
    """The checkpoint before it on the thread."""
    run_id: str
    """The run that wrote it."""
    step: int
    """LangGraph's step number."""
    source: str
    """``input``, ``loop``, ``update`` or ``fork``."""
    ts: Any
    """When it was written."""
    values: dict[str, Any]
    """Every channel with a value, after this checkpoint's changes."""
    barriers: dict[str, list[str]]
    """Progress of waiting edges: which sources have arrived."""
    next: list[dict[str, Any]]
    """The tasks that run from it (id, name, path, triggers, and a Send's argument)."""
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per task id: the state writes that task made from this checkpoint."""
    errors: dict[str, str] = field(default_factory=dict)
    """Per task id: the error (repr) it failed with from this checkpoint."""
    interrupts: dict[str, list[Any]] = field(default_factory=dict)
    """Per task id: the interrupts its latest attempt from this checkpoint raised."""
    resumes: dict[str, list[Any]] = field(default_factory=dict)
    """Per task id: the resume values given to it so far, in order."""
    interrupted_order: list[str] = field(default_factory=list)
    """Task ids in the order their interrupts were raised."""
    writes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per task id: the writes it made from this checkpoint, as the reducers take them."""
    subgraphs: dict[str, str] = field(default_factory=dict)
    """Per task id: the namespace of the subgraph it ran, if it ran one."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """LangGraph's checkpoint metadata (source, step, parents)."""


def _add_messages(left: Any, right: Any) -> Any:
    from rewind.graph.message import add_messages

    return add_messages(left, right)


def apply_changes(
    values: dict[str, Any],
    changes: Iterable[list[Any]],
    task_writes: Mapping[str, Mapping[str, Any]],
) -> None:
    """Apply a checkpoint's logged changes to ``values`` in place.

    ``value`` changes carry the channel's new value; the others name the tasks (in task order)
    whose logged writes to the channel the step applied, so no write is stored twice.
    """
    for name, kind, payload in changes:
        if kind == "value":
            values[name] = payload
            continue
        writes = [task_writes[task_id][name] for task_id in payload]
        current = values.get(name)
        for write in writes:
            if isinstance(write, Overwrite):
                current = write.value
            elif kind == "set" or current is None:
                current = write
            elif kind == "add":
                current = operator.add(current, write)
            elif kind == "messages":
                current = _add_messages(current, write)
            else:  # pragma: no cover - a newer rewind's change kind
                raise ValueError(f"unknown change kind {kind!r} for channel {name!r}")
        values[name] = current


def task_result_of(payload: Mapping[str, Any] | None) -> dict[str, Any]:
    """What LangGraph shows as a task's result: its writes as the node returned them."""
    update = (payload or {}).get("update")
    if isinstance(update, Command):
        update = update.update
    if isinstance(update, dict):
        return dict(update)
    return task_writes_of(payload)


def task_writes_of(payload: Mapping[str, Any] | None) -> dict[str, Any]:
    """The state writes a ``task.ended`` event records (its update, unless written apart)."""
    payload = payload or {}
    writes = payload.get("writes")
    if writes is None:
        update = payload.get("update")
        writes = update if isinstance(update, dict) else {}
    return dict(writes)


def fold_checkpoints(
    events: Iterable[StoredEvent],
    *,
    base: Mapping[str, Any] | None = None,
    base_barriers: Mapping[str, list[str]] | None = None,
    by_task: dict[str, CheckpointView] | None = None,
    ns: str = "",
) -> list[CheckpointView]:
    """Every checkpoint in ``events`` (one run, in order), with its state folded.

    Args:
        events: A run's events in seq order.
        base: The state the run starts from (its origin checkpoint's values).
        base_barriers: The waiting-edge progress it starts from.
        by_task: Checkpoints of earlier runs of the thread by the ids of the tasks that run
            from them, so that a resumed task's result, interrupts and resume values land on
            the checkpoint it runs from (updated in place).
        ns: The (sub)graph namespace to fold; events of other namespaces only mark which
            tasks ran a subgraph.
    """
    values: dict[str, Any] = _copy(dict(base or {}))
    barriers: dict[str, list[str]] = {k: list(v) for k, v in (base_barriers or {}).items()}
    views: list[CheckpointView] = []
    by_task = {} if by_task is None else by_task
    writes: dict[str, dict[str, Any]] = {}
    for event in events:
        event_ns = event.ns or ""
        if event_ns != ns:
            _mark_subgraph(event_ns, ns, by_task)
            continue
        if event.type == EventType.CHECKPOINT:
            p = event.payload
            apply_changes(values, p["changes"], _TaskWrites(writes, by_task))
            barriers.update(p.get("barriers") or {})
            view = CheckpointView(
                id=p["id"],
                parent_id=p.get("parent_id"),
                run_id=event.run_id,
                step=p["step"],
                source=p["source"],
                ts=event.ts,
                values=_copy(values),
                barriers={k: list(v) for k, v in barriers.items()},
                next=p["next"],
                metadata=p.get("metadata")
                or {"source": p["source"], "step": p["step"], "parents": {}},
            )
            views.append(view)
            for task in view.next:
                by_task[task["id"]] = view
        elif event.type == EventType.TASK_ENDED and event.task_id is not None:
            writes[event.task_id] = task_writes_of(event.payload)
            if event.task_id in by_task:
                by_task[event.task_id].results[event.task_id] = task_result_of(event.payload)
                by_task[event.task_id].writes[event.task_id] = writes[event.task_id]
        elif event.type == EventType.TASK_FAILED and event.task_id in by_task:
            if not (event.payload or {}).get("retrying"):  # a retried attempt is no failure
                by_task[event.task_id].errors[event.task_id] = event.payload.get("repr", "")
        elif event.type == EventType.INTERRUPT and event.task_id in by_task:
            view = by_task[event.task_id]
            view.interrupts[event.task_id] = list(event.payload["interrupts"])
            if event.task_id in view.interrupted_order:
                view.interrupted_order.remove(event.task_id)
            view.interrupted_order.append(event.task_id)
        elif event.type == EventType.RESUME:
            for task_id, value in (event.payload.get("values") or {}).items():
                if task_id in by_task:
                    by_task[task_id].resumes.setdefault(task_id, []).append(value)
    return views


def _mark_subgraph(event_ns: str, ns: str, by_task: dict[str, CheckpointView]) -> None:
    """Note that the task owning the next namespace segment below ``ns`` ran a subgraph."""
    rest = event_ns[len(ns) + 1 :] if ns else event_ns
    if ns and not event_ns.startswith(ns + "|"):
        return
    segment = rest.split("|", 1)[0]
    task_id = segment.rpartition(":")[2]
    view = by_task.get(task_id)
    if view is not None:
        view.subgraphs.setdefault(task_id, f"{ns}|{segment}" if ns else segment)


class _TaskWrites(dict[str, dict[str, Any]]):
    """This run's task writes, falling back to those an earlier run recorded for a task it
    left cached (a resumed step re-uses the writes of siblings that had finished)."""

    def __init__(self, own: dict[str, dict[str, Any]], by_task: dict[str, CheckpointView]):
        super().__init__()
        self._own, self._by_task = own, by_task

    def __getitem__(self, task_id: str) -> dict[str, Any]:
        if task_id in self._own:
            return self._own[task_id]
        return self._by_task[task_id].writes[task_id]


def _copy(values: dict[str, Any]) -> dict[str, Any]:
    # Containers are copied one level down, so later folds never mutate an earlier view.
    return {
        k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
        for k, v in values.items()
    }


def fold_thread(
    runs: Sequence[tuple[str, str | None]],
    events_by_run: Mapping[str, Sequence[StoredEvent]],
    *,
    ns: str = "",
) -> list[CheckpointView]:
    """Every checkpoint of a thread at namespace ``ns``, in the order they were written.

    Args:
        runs: ``(run_id, origin_checkpoint_id)`` of the thread's runs, oldest first.
        events_by_run: Each run's events in seq order.
        ns: The (sub)graph namespace.
    """
    views: list[CheckpointView] = []
    by_task: dict[str, CheckpointView] = {}
    by_id: dict[str, CheckpointView] = {}
    for run_id, origin_id in runs:
        # A run starts from its origin checkpoint (a fork's may be far back); a subgraph
        # namespace continues from its own newest checkpoint.
        origin = by_id.get(origin_id or "") if not ns else None
        base = origin or (views[-1] if views and ns else None)
        views += fold_checkpoints(
            events_by_run.get(run_id, []),
            base=base.values if base else None,
            base_barriers=base.barriers if base else None,
            by_task=by_task,
            ns=ns,
        )
        by_id.update((v.id, v) for v in views)
    return views
