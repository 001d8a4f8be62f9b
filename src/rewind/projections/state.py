"""Folding the log into state: the values at every checkpoint of a thread, from events alone.

A ``checkpoint`` event carries the changes its super-step applied, channel by channel, in the
form the channel's reducer needs to be replayed without the graph's code: ``set`` (the new
value), ``add`` (the writes, combined with ``operator.add``), ``messages`` (the writes, combined
with ``add_messages``; their ids were assigned before they were logged) or ``value`` (the value
after a user's own reducer). Pure functions; no I/O.

A ``task.ended`` event records the task's writes as ``{channel: value}``, or, when the task
wrote a channel more than once (a list of ``Command``s), as ``[[channel, value], ...]`` in
order: the fold applies every one of them, as the live run did.

A thread's head and its snapshots hold a checkpoint as :func:`head_state` describes it; a fold
resumes from one with :func:`view_of_head`.

Events leave out what the events before them in their run already say (:class:`Expander`
fills it back in, for every consumer alike): a checkpoint's step (the event's own column), its
source when ``loop``, its parent when it is the checkpoint before it in the same run and
namespace, the ids of the tasks it lists (derived: :func:`~rewind.events.task_id_for`), a pull
task's path, and, in its changes, the tasks of the step as their index in the previous
checkpoint's list; a task's start leaves out its node's name (the event's column) and a pull
task's path.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rewind._imports import import_class
from rewind.events import (
    PULL,
    EventType,
    NewEvent,
    StateSlice,
    StoredEvent,
    fields_of,
    task_id_for,
)
from rewind.projections.calls import caller_of, entrypoint_writes, is_call, is_return
from rewind.types import Command, Overwrite

__all__ = [
    "ROOT",
    "VALUE_CHANGES",
    "CheckpointView",
    "Expander",
    "StateFold",
    "apply_changes",
    "channel_writes_of",
    "fold_checkpoints",
    "fold_thread",
    "head_state",
    "kept",
    "node_input",
    "with_managed",
    "recorded_writes",
    "refer_to_state",
    "resolve_state",
    "task_result_of",
    "to_known_keys",
    "with_sent",
    "task_writes_of",
    "view_of_head",
]

VALUE_CHANGES = ("value", "untracked")
ROOT = "__root__"
"""The one channel of a graph whose state is one value (LangGraph's root channel)."""
"""The kinds of checkpoint change that carry the channel's value (the others name tasks)."""

HEAD_FORMAT = 1
"""The version of :func:`head_state`'s layout (a head of another version is not used)."""


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
    writes: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    """Per task id: the writes it made from this checkpoint, per channel in order, as the
    reducers take them."""
    subgraphs: dict[str, str] = field(default_factory=dict)
    """Per task id: the namespace of the subgraph it ran, if it ran one."""
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per task call id (functional API): the result of a call a task made from this
    checkpoint that finished, ``{"return": value}``; a resumed task that makes the call again
    gets it without running it (a call that failed runs again, as in LangGraph)."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """LangGraph's checkpoint metadata (source, step, parents)."""


def _add_messages(left: Any, right: Any) -> Any:
    from rewind.graph.message import add_messages

    return add_messages(left, right)


def apply_changes(
    values: dict[str, Any],
    changes: Iterable[list[Any]],
    task_writes: Mapping[str, Mapping[str, list[Any]]],
    *,
    untracked: bool = True,
) -> None:
    """Apply a checkpoint's logged changes to ``values`` in place.

    ``value`` changes carry the channel's new value, ``untracked`` ones the value of a channel
    no checkpoint keeps (applied for a run's streams; ``untracked=False`` for the state a
    checkpoint holds), ``clear`` ones empty the channel; the others name the tasks (in task
    order, once per write) whose logged writes to the channel the step applied, so no write
    is stored twice.
    """
    for name, kind, payload in changes:
        if kind == "value" or (kind == "untracked" and untracked):
            values[name] = payload
            continue
        if kind == "clear" or kind == "untracked":
            values.pop(name, None)
            continue
        writes: list[Any] = []
        for task_id in dict.fromkeys(payload):  # a task named twice wrote twice: both logged
            writes += task_writes[task_id].get(name, ())
        values[name] = apply_writes(values.get(name), kind, name, writes)


def apply_writes(current: Any, kind: str, name: str, writes: Iterable[Any]) -> Any:
    """A channel's value after ``writes``, combined as its change ``kind`` says (an
    ``Overwrite`` wins over the step's later writes, as the channel applies them)."""
    overwritten = False
    for write in writes:
        if isinstance(write, Overwrite):
            current, overwritten = write.value, True
        elif overwritten:
            continue
        elif kind == "set" or current is None:
            current = write
        elif kind == "add":
            current = operator.add(current, write)
        elif kind == "messages":
            current = _add_messages(current, write)
        else:  # pragma: no cover - a newer rewind's change kind
            raise ValueError(f"unknown change kind {kind!r} for channel {name!r}")
    return current


def task_result_of(payload: Mapping[str, Any] | None) -> Any:
    """What LangGraph shows as a task's result: its writes as the node returned them (what an
    entrypoint returned, for an entrypoint's task), but those to an ``UntrackedValue`` (no
    checkpoint keeps them)."""
    if is_return(payload):
        return (payload or {})["return"]
    update = (payload or {}).get("update")
    if isinstance(update, Command):
        update = update.update
    if isinstance(update, dict):
        result = with_sent(to_known_keys(update, payload), update, payload)
    else:  # (a channel written more than once, by a list of Commands: its writes, as LangGraph's)
        writes = channel_writes_of(payload)
        result = {k: v[-1] if len(v) == 1 else {"$writes": v} for k, v in writes.items()}
    untracked = (payload or {}).get("untracked")
    if untracked:
        return {k: v for k, v in result.items() if k not in untracked}
    return result


def with_sent(
    known: dict[str, Any], update: dict[str, Any], payload: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A node's update with the writes it made while it ran (``push_ui_message``: channels
    its return does not write) ahead of it, as LangGraph shows a task's writes."""
    if (payload or {}).get("writes") is None:
        return known
    writes = channel_writes_of(payload)
    if all(k in update for k in writes):
        return known
    # (a channel written more than once shows its writes as LangGraph folds them)
    sent = {k: v[-1] if len(v) == 1 else {"$writes": v} for k, v in writes.items()}
    return {**{k: v for k, v in sent.items() if k not in update}, **known}


def to_known_keys(update: dict[str, Any], payload: Mapping[str, Any] | None) -> dict[str, Any]:
    """A node's update as LangGraph shows it in ``updates`` and a task's result: without the
    keys that are no channel of the state (a managed value's, a key the schema lacks), which
    its writes (recorded apart when they differ) leave out."""
    writes = (payload or {}).get("writes")
    if isinstance(writes, dict) and any(k not in writes for k in update):
        return {k: v for k, v in update.items() if k in writes}
    return dict(update)


def task_writes_of(payload: Mapping[str, Any] | None) -> dict[str, Any]:
    """The state writes a ``task.ended`` event records (its update, unless written apart), one
    value per channel (the last, where a channel was written more than once)."""
    return {name: values[-1] for name, values in channel_writes_of(payload).items()}


def channel_writes_of(payload: Mapping[str, Any] | None) -> dict[str, list[Any]]:
    """Every state write a ``task.ended`` event records, per channel in order."""
    payload = payload or {}
    if "return" in payload:  # a functional-API function's: an entrypoint's, or a call's (none)
        return entrypoint_writes(payload)
    writes = payload.get("writes")
    if writes is None:
        update = payload.get("update")
        writes = update if isinstance(update, dict) else {}
    if isinstance(writes, list):  # [[channel, value], ...]: a channel written more than once
        out: dict[str, list[Any]] = {}
        for name, value in writes:
            out.setdefault(name, []).append(value)
        return out
    return {name: [value] for name, value in writes.items()}


def recorded_writes(writes: Iterable[tuple[str, Any]]) -> dict[str, Any] | list[list[Any]]:
    """How a ``task.ended`` event records a task's writes: ``{channel: value}``, or the pairs
    in order when a channel was written more than once."""
    pairs = list(writes)
    as_dict = dict(pairs)
    return as_dict if len(as_dict) == len(pairs) else [[name, value] for name, value in pairs]


class Expander:
    """Fills in what a run's events leave out, from the events before them in the run (fed in
    seq order; a fold that starts mid-run is told the checkpoint it starts from)."""

    def __init__(self, start: CheckpointView | None = None) -> None:
        self._last: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        if start is not None:
            self._last[""] = (start.id, start.next)

    def starting_at(self, ns: str, view: CheckpointView) -> None:
        """The fold of namespace ``ns`` starts from ``view`` (a head, a snapshot)."""
        self._last[ns] = (view.id, view.next)

    def expand(self, event: Any) -> Any:
        """The event with its payload whole (the same event when nothing was left out)."""
        kind = event.type
        if kind == EventType.CHECKPOINT:
            ns = event.ns or ""
            payload = expand_checkpoint(
                event.payload, ns=ns, step=event.step, last=self._last.get(ns)
            )
            self._last[ns] = (payload["id"], payload["next"])
            return _with_payload(event, payload)
        if kind == EventType.TASK_STARTED:
            payload = event.payload or {}
            if "name" in payload and "path" in payload:
                return event
            full = {"name": event.node, "path": [PULL, event.node], **payload}
            return _with_payload(event, full)
        return event


def _with_payload(event: Any, payload: Any) -> Any:
    """``event`` with another payload; a live event built directly (``dataclasses.replace``
    looks its fields up on every call, several times per step of a stream)."""
    if type(event) is NewEvent:
        return event.changed(payload=payload)
    return dataclasses.replace(event, payload=payload)


def expand_checkpoint(
    payload: Mapping[str, Any],
    *,
    ns: str,
    step: int | None,
    last: tuple[str, list[dict[str, Any]]] | None,
) -> dict[str, Any]:
    """A checkpoint's payload with everything its event left out filled in (``last``: the
    checkpoint before it in the run and namespace, with its tasks)."""
    full = dict(payload)
    if "step" not in full:
        full["step"] = step
    full.setdefault("source", "loop")
    if "parent_id" not in full:
        full["parent_id"] = last[0] if last is not None else None
    checkpoint_id, at = full["id"], full["step"]
    tasks = []
    for task in full.get("next") or ():
        if "id" not in task or "path" not in task:
            task = dict(task)
            task.setdefault("path", [PULL, task["name"]])
            task.setdefault(
                "id", task_id_for(checkpoint_id, ns, at + 1, task["name"], task["path"])
            )
        tasks.append(task)
    full["next"] = tasks
    changes = full.get("changes") or []
    if last is not None and any(
        kind not in VALUE_CHANGES and _refers(refs) for _, kind, refs in changes
    ):
        previous = [task["id"] for task in last[1]]
        full["changes"] = [
            [name, kind, refs if kind in VALUE_CHANGES else [_task_of(r, previous) for r in refs]]
            for name, kind, refs in changes
        ]
    return full


def _refers(refs: Any) -> bool:
    return any(isinstance(r, int) for r in refs)


def _task_of(ref: Any, previous: list[str]) -> Any:
    return previous[ref] if isinstance(ref, int) else ref


def refer_to_state(batches: Any, values: Mapping[str, Any]) -> Any:
    """A chat call's input with each run of messages that is a slice of a state key's message
    list (the same messages, in the same order) replaced by a
    :class:`~rewind.events.StateSlice`: the log holds them already."""
    if not values or not isinstance(batches, list):
        return batches
    where = _message_places(values)
    if not where:
        return batches
    return [_referred(b, values, where) if isinstance(b, list) else b for b in batches]


def _message_places(values: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    from langchain_core.messages import BaseMessage

    places: dict[str, tuple[str, int]] = {}
    for key, value in values.items():
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseMessage) and item.id:
                    places[item.id] = (key, i)
    return places


def _referred(
    batch: list[Any], values: Mapping[str, Any], where: Mapping[str, tuple[str, int]]
) -> list[Any]:
    out: list[Any] = []
    i = 0
    while i < len(batch):
        message = batch[i]
        place = where.get(getattr(message, "id", None) or "")
        if place is None or values[place[0]][place[1]] != message:
            out.append(message)
            i += 1
            continue
        key, start = place
        stop = start + 1
        source = values[key]
        while i + stop - start < len(batch) and stop < len(source):
            if source[stop] != batch[i + stop - start]:
                break
            stop += 1
        out.append(StateSlice(key, start, stop))
        i += stop - start
    return out


def resolve_state(batches: Any, values: Mapping[str, Any]) -> Any:
    """A recorded chat input with each :class:`~rewind.events.StateSlice` replaced by the
    messages it names in ``values`` (the state the call's task was given)."""
    if not isinstance(batches, list) or not any(
        isinstance(m, StateSlice) for b in batches if isinstance(b, list) for m in b
    ):
        return batches
    out = []
    for batch in batches:
        if not isinstance(batch, list):
            out.append(batch)
            continue
        items: list[Any] = []
        for item in batch:
            if isinstance(item, StateSlice):
                items += list((values.get(item.channel) or [])[item.start : item.stop])
            else:
                items.append(item)
        out.append(items)
    return out


def kept(event: Any) -> bool:
    """Whether a task's failure records writes it made before it failed, kept as its writes
    (a ``Pregel`` node whose writer failed after a ``ChannelWrite`` wrote: LangGraph streams
    them, as a finished task's, its error besides; see ``PregelLoop.kept_writes``)."""
    return event.type == EventType.TASK_FAILED and "update" in fields_of(event.payload)


class StateFold:
    """The state per namespace, folded from a run's (expanded) checkpoint and task events.

    A task's writes are kept from its end until the next checkpoint of its namespace, which
    applies them (a resumed step's finished tasks end again in the run that resumes it): what
    the fold keeps does not grow with the run.
    """

    def __init__(
        self, initial: Mapping[str, Any] | None, key_order: list[str], output: str | None = None
    ) -> None:
        self.values: dict[tuple[str, ...], dict[str, Any]] = {(): dict(initial or {})}
        self.writes: dict[str, dict[str, list[Any]]] = {}
        """Per task id: the writes of tasks whose step's checkpoint has not come yet."""
        self._ended: dict[str, list[str]] = {}  # per namespace: those tasks, in order
        self.order = key_order
        self.output = output
        """The channel the root state is shown as (an entrypoint's ``__end__``), if one."""
        self.shown_keys: tuple[str, ...] | None = None
        """The channels the root state is shown as, in that order, when not all (a ``Pregel``
        program's ``stream_channels``)."""
        self._shown_by_ns: dict[tuple[str, ...], tuple[tuple[str, ...], str | None]] = {}
        """Per subgraph namespace: the channels a ``Pregel`` program run there is shown as
        (its ``stream_channels``), and the one whose value it is shown as, if one."""

    def feed(self, event: Any) -> None:
        """Fold one event (its payload whole: see :class:`Expander`)."""
        if event.type == EventType.SUBGRAPH_STARTED:
            keys = (event.payload or {}).get("stream_keys")
            single = (event.payload or {}).get("output_channel")
            if keys is None and single == ROOT:  # a root-valued graph's: its one value
                keys = [ROOT]
            if keys is not None:  # (a Pregel program's stream_channels, as it shows itself)
                self._shown_by_ns[_namespace(event.ns)] = (tuple(keys), single)
            return
        if (event.type == EventType.TASK_ENDED or kept(event)) and event.task_id is not None:
            self.writes[event.task_id] = channel_writes_of(event.payload)
            self._ended.setdefault(event.ns or "", []).append(event.task_id)
        elif event.type == EventType.CHECKPOINT:
            payload = event.payload
            values = self.values.setdefault(_namespace(event.ns), {})
            if payload["source"] == "input" and payload["step"] == -1:
                values.clear()
            apply_changes(values, payload["changes"], self.writes)
            for task_id in self._ended.pop(event.ns or "", ()):
                self.writes.pop(task_id, None)

    def shown_ended(self, pending: Mapping[str, Any] | None) -> Any:
        """The root state as an interrupted run's end shows it (its last ``values``, its
        output): with the writes of its step's tasks that finished (``pending``), in the
        state's order."""
        shown = self.shown(())
        if pending and isinstance(shown, dict):
            return with_managed(shown, pending, self.order)
        return shown

    def shown(self, ns: tuple[str, ...]) -> Any:
        """The state of namespace ``ns`` as LangGraph shows it: the whole state (a new dict),
        or for an entrypoint its output channel's value (``None`` before it has one)."""
        if ns and ns in self._shown_by_ns:
            keys, single = self._shown_by_ns[ns]
            state = self.state(ns)
            if single is not None and keys == (single,):
                return state.get(single)
            return {k: state[k] for k in keys if k in state}
        if self.output is None or ns:
            state = self.state(ns)
            if self.shown_keys is None or ns:
                return state
            return {k: state[k] for k in self.shown_keys if k in state}
        return self.values.get(ns, {}).get(self.output)

    def state(self, ns: tuple[str, ...]) -> dict[str, Any]:
        """The state of namespace ``ns``, keys in schema order (a new dict)."""
        values = self.values.get(ns, {})
        ordered = {k: values[k] for k in self.order if k in values}
        # The root graph shows its own channels only, as LangGraph's: a thread another graph
        # ran keeps that graph's keys, for it (a subgraph's keys are not the root's).
        if len(ordered) < len(values) and (ns or not self.order):
            ordered.update((k, v) for k, v in values.items() if k not in ordered)
        return ordered


def _namespace(ns: str | None) -> tuple[str, ...]:
    return tuple(ns.split("|")) if ns else ()


def fold_checkpoints(
    events: Iterable[StoredEvent],
    *,
    base: Mapping[str, Any] | None = None,
    base_barriers: Mapping[str, list[str]] | None = None,
    by_task: dict[str, CheckpointView] | None = None,
    ns: str = "",
    start: CheckpointView | None = None,
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
        start: The checkpoint the events follow, when they start mid-run (a head, a
            snapshot): what their events leave out refers to it.
    """
    expander = Expander()
    if start is not None:
        expander.starting_at(ns, start)
    values: dict[str, Any] = _copy(dict(base or {}))
    barriers: dict[str, list[str]] = {k: list(v) for k, v in (base_barriers or {}).items()}
    views: list[CheckpointView] = []
    by_task = {} if by_task is None else by_task
    writes: dict[str, dict[str, list[Any]]] = {}
    callers: dict[str, str] = {}  # task call id -> the node's task the calls started from
    for event in events:
        event_ns = event.ns or ""
        if event_ns != ns:
            _mark_subgraph(event_ns, ns, by_task)
            continue
        event = expander.expand(event)
        if event.task_id in callers or (
            event.type == EventType.TASK_STARTED and is_call(event.payload)
        ):
            _fold_call(event, callers, by_task)
        elif event.type == EventType.CHECKPOINT:
            p = event.payload
            apply_changes(values, p["changes"], _TaskWrites(writes, by_task), untracked=False)
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
            writes[event.task_id] = channel_writes_of(event.payload)
            if event.task_id in by_task:
                by_task[event.task_id].results[event.task_id] = task_result_of(event.payload)
                by_task[event.task_id].writes[event.task_id] = writes[event.task_id]
        elif event.type == EventType.TASK_FAILED and event.task_id in by_task:
            if not (event.payload or {}).get("retrying"):  # a retried attempt is no failure
                view = by_task[event.task_id]
                view.errors[event.task_id] = event.payload.get("repr", "")
                if kept(event):  # writes made before it failed, kept as its own
                    writes[event.task_id] = channel_writes_of(event.payload)
                    view.results[event.task_id] = task_result_of(event.payload)
                    view.writes[event.task_id] = writes[event.task_id]
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


def _fold_call(event: Any, callers: dict[str, str], by_task: dict[str, CheckpointView]) -> None:
    """A task call's event: its result lands on the checkpoint its caller runs from.

    Only a result does, as LangGraph keeps only a finished task's output for a resume: a
    call that failed (or was interrupted, or cancelled) is made again by a resumed caller.
    """
    task_id = event.task_id or ""
    if event.type == EventType.TASK_STARTED:
        callers[task_id] = caller_of(event.payload["call"], event.ns)
        return
    view = by_task.get(callers[task_id])
    if view is not None and event.type == EventType.TASK_ENDED and is_return(event.payload):
        view.calls[task_id] = {"return": event.payload["return"]}


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


class _TaskWrites(dict[str, dict[str, list[Any]]]):
    """This run's task writes, falling back to those an earlier run recorded for a task it
    left cached (a resumed step re-uses the writes of siblings that had finished)."""

    def __init__(
        self, own: dict[str, dict[str, list[Any]]], by_task: dict[str, CheckpointView]
    ) -> None:
        super().__init__()
        self._own, self._by_task = own, by_task

    def __getitem__(self, task_id: str) -> dict[str, list[Any]]:
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
    known: Iterable[CheckpointView] = (),
) -> list[CheckpointView]:
    """The checkpoints of a thread at namespace ``ns`` in ``events_by_run``, in the order they
    were written.

    Args:
        runs: ``(run_id, origin_checkpoint_id)`` of the runs to fold, oldest first.
        events_by_run: Each run's events in seq order (all of them, or those after a known
            checkpoint).
        ns: The (sub)graph namespace.
        known: Checkpoints folded before (a thread's head, a snapshot, the origin of a run):
            a run starts from its origin among them, and what their tasks did lands on them.
    """
    views: list[CheckpointView] = []
    by_task: dict[str, CheckpointView] = {}
    by_id: dict[str, CheckpointView] = {}
    for view in known:
        by_id[view.id] = view
        by_task.update((task["id"], view) for task in view.next)
    for run_id, origin_id in runs:
        # A run starts from its origin checkpoint (a fork's may be far back); a subgraph
        # namespace continues from its own newest checkpoint.
        origin = by_id.get(origin_id or "") if not ns else None
        base = origin or (views[-1] if views and ns else None)
        folded = fold_checkpoints(
            events_by_run.get(run_id, []),
            base=base.values if base else None,
            base_barriers=base.barriers if base else None,
            by_task=by_task,
            ns=ns,
            start=base,
        )
        views += folded
        by_id.update((v.id, v) for v in folded)
    return views


def head_state(view: CheckpointView) -> dict[str, Any]:
    """What a thread's head (or a snapshot) keeps of a checkpoint: enough to resume folding
    from it. Its tasks' outcomes are not kept: they come from the events after it."""
    return {
        "format": HEAD_FORMAT,
        "id": view.id,
        "parent_id": view.parent_id,
        "run_id": view.run_id,
        "step": view.step,
        "source": view.source,
        "ts": view.ts,
        "values": view.values,
        "barriers": view.barriers,
        "next": view.next,
        "metadata": view.metadata,
    }


def view_of_head(state: Any) -> CheckpointView | None:
    """The checkpoint a head or snapshot describes (``None`` for another layout)."""
    if not isinstance(state, Mapping) or state.get("format") != HEAD_FORMAT:
        return None
    return CheckpointView(
        id=state["id"],
        parent_id=state.get("parent_id"),
        run_id=state["run_id"],
        step=state["step"],
        source=state["source"],
        ts=state["ts"],
        values=dict(state["values"]),
        barriers={k: list(v) for k, v in (state.get("barriers") or {}).items()},
        next=list(state["next"]),
        metadata=dict(state.get("metadata") or {}),
    )


def node_input(shape: Mapping[str, Any] | None, state: dict[str, Any]) -> Any:
    """The input a node was given: the state, filtered to its input schema's keys and built as
    its class, as the runtime built it (a tagged dict when that class cannot be imported), or
    the root value (``"root"``)."""
    if not shape:
        return state
    if shape.get("root"):  # a root-valued graph's node is given the one value
        return state.get(ROOT)
    keys = set(shape.get("keys") or ())
    values = {k: v for k, v in state.items() if k in keys}
    path = shape.get("class")
    if not path:
        return values
    try:
        return import_class(path)(**values)
    except Exception:  # the class is gone, or no longer takes these values: keep the data
        return {"__class__": path.replace(":", "."), **values}


def with_managed(
    state: dict[str, Any], managed: Mapping[str, Any] | None, order: Sequence[str] | None
) -> dict[str, Any]:
    """The state a task read: with the managed values (``RemainingSteps``...) its start
    recorded, in the state schema's ``order``."""
    if not managed:
        return state
    merged = {**state, **managed}
    keys = order or ()
    return {
        **{k: merged[k] for k in keys if k in merged},
        **{k: v for k, v in merged.items() if k not in keys},
    }
