"""The event model: what one row of the log says.

This module is neutral ground: the log, the runtime, the projections and telemetry all use it
and it imports none of them. A run's log begins with ``run.started`` (its payload names the
thread, the graph and any fork origin) and closes with ``run.ended`` (its payload names the
status); everything in between is whatever the runtime recorded.

The functional API's task calls are tasks of the step their caller runs in, recorded with the
task events (``node`` is the task's name, ``task_id`` the call's id):

* ``task.started``: ``call`` (the checkpoint namespace of the task that made the call: it marks
  the event as a call's), ``path`` (LangGraph's ``("__pregel_push", <caller's path>, <index>,
  True)``), ``triggers`` (``["__pregel_push"]``), ``input`` (``(args, kwargs)``),
  ``arguments`` (how they bound to the function's parameters: ``[[name, ref], ...]``, see
  :func:`rewind.projections.calls.bound_arguments`) and ``run_id``; or ``cached: true`` when a
  resumed caller's call was answered from the log (it had finished: it did not run again,
  and has no end; a call that had failed runs again, with events of its own);
* ``task.ended``: ``return``, what the call returned;
* ``task.failed``: as a node's, for each failed attempt.

An entrypoint's own task ends with ``return`` too, with ``entrypoint: true`` (its return value
is written to the ``__end__`` and ``__previous__`` channels) and ``save`` when it returned
``entrypoint.final(value=..., save=...)``. An ``interrupt()`` inside a call is recorded on the
entrypoint's (or node's) task the calls started from, as LangGraph reports it.

A low-level ``Pregel`` node's ``task.ended`` has ``returned`` too: what its function returned
(its ``update`` is its writes), the output of its run as LangGraph's ``astream_events`` shows it.

The runnables a node runs inside itself (a prompt, an LCEL sequence and its steps, a parser, a
``RunnableLambda``, a retriever) are recorded as LangChain's callbacks report them, with the
events of the task they run in:

* ``chain.started``: ``run_id``, ``parent_run_id``, ``name``, ``run_type`` (LangChain's:
  ``chain``, ``prompt``, ``parser``, ``retriever``...), ``tags``, ``metadata``, and ``input``
  (absent when LangChain gave none yet: a streamed run's input comes with its end);
* ``chain.chunk``: ``run_id``, ``chunk``, one streamed output chunk (recorded while chat models
  stream, as LangChain's event stream taps them);
* ``chain.ended``: ``run_id`` and ``output``, with ``input`` when LangChain gave it at the end;
  or ``error`` (type, message) when the run failed.

A ``RemoteGraph`` run inside a task of a run streamed with ``subgraphs=True`` forwards the
remote run's chunks into the stream, as LangGraph's does (see
:mod:`rewind.runtime.forwarding`); each is a ``remote.chunk`` event of that task:
``mode`` (the stream mode, LangGraph's name: ``messages`` for the server's
``messages-tuple``), ``ns`` (the chunk's namespace: the task's checkpoint namespace, then the
remote run's own) and ``chunk`` (the data as the server sent it: JSON, messages as dicts).

No value the log holds already is copied: an input that is the one the task was given is
``node_input: true`` instead (an output or chunk, ``output_is_node_input`` or
``chunk_is_node_input``), and a run of the state's messages is a list of
:class:`StateSlice`. A value the codec cannot store is recorded as
:func:`rewind.log.codec.unrecorded` names it.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

__all__ = [
    "PULL",
    "PUSH",
    "REDACTED",
    "STATE_EVENTS",
    "EventType",
    "NewEvent",
    "Redacted",
    "RunStatus",
    "StateSlice",
    "StoredEvent",
    "fields_of",
    "new_uuid4",
    "run_ended",
    "run_started",
    "announced_order",
    "path_order",
    "task_id_for",
]

PULL = "__pregel_pull"
"""The first element of a task's path when an edge triggered it (LangGraph's name)."""
PUSH = "__pregel_push"
"""The first element of a task's path when a ``Send`` made it (LangGraph's name)."""
_KEEP: Any = object()
"""A field :meth:`NewEvent.changed` leaves as it is."""
_TASK_NAMESPACE = uuid.UUID("6f1c3c7e-52d4-4f0e-9a57-7265776e6421")
_TASK_NAMESPACE_BYTES = _TASK_NAMESPACE.bytes
# A UUID's version (bits 76-79) and variant (bits 62-63), as uuid.UUID(version=) sets them.
_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_4 = (4 << 76) | (0x8000 << 48)
_VERSION_5 = (5 << 76) | (0x8000 << 48)


@dataclass(frozen=True, slots=True)
class StateSlice:
    """In a chat model's recorded input: messages of the state the call's task was given,
    ``state[channel][start:stop]``, named instead of copied (the log holds them; readers put
    them back from the fold)."""

    channel: str
    """The state key holding the messages."""
    start: int
    """The first one's index in it."""
    stop: int
    """One past the last one's index."""


def task_id_for(checkpoint_id: str, ns: str, step: int, name: str, path: Sequence[Any]) -> str:
    """The id of a task: the same for the same task from the same checkpoint (resumes keep it),
    so a checkpoint event need not record the ids of the tasks it lists."""
    key = f"{checkpoint_id}|{ns}|{step}|{name}|{'/'.join(map(str, path))}"
    # str(uuid.uuid5(_TASK_NAMESPACE, key)), without the UUID objects made on the way
    digest = hashlib.sha1(_TASK_NAMESPACE_BYTES + key.encode()).digest()
    value = int.from_bytes(digest[:16], "big") & _VERSION_MASK | _VERSION_5
    return _uuid_text(value)


def new_uuid4() -> str:
    """``str(uuid.uuid4())`` (a random UUID's text), without the UUID made on the way: the
    runtime gives one to every task it runs."""
    value = int.from_bytes(os.urandom(16), "big") & _VERSION_MASK | _VERSION_4
    return _uuid_text(value)


def _uuid_text(value: int) -> str:
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def path_order(path: Sequence[Any]) -> str:
    """LangGraph's order of a step's tasks where their writes apply (its ``task_path_str`` of
    the path's first three parts: numbers zero-padded, so the 10th ``Send`` comes after the
    2nd)."""
    return "~".join(
        f"{p:010d}"
        if isinstance(p, int) and not isinstance(p, bool)
        else path_order(p)
        if isinstance(p, tuple | list)
        else str(p)
        for p in path[:3]
    )


def announced_order(path: Sequence[Any]) -> tuple[bool, str]:
    """Where LangGraph lists a task among its step's (the tasks it announces, a checkpoint's
    next tasks): ``Send`` tasks first, in the order sent, then pull tasks by node name."""
    return (bool(path) and path[0] == PULL, path_order(path))


class EventType(StrEnum):
    """The kinds of event the log holds."""

    RUN_STARTED = "run.started"
    RUN_ENDED = "run.ended"
    TASK_STARTED = "task.started"
    TASK_ENDED = "task.ended"
    TASK_FAILED = "task.failed"
    ROUTE = "route"
    STATE_WRITE = "state.write"
    CUSTOM = "custom"
    CUSTOM_EVENT = "custom.event"
    CHAT_STARTED = "chat.started"
    CHAT_TOKEN = "chat.token"
    CHAT_ENDED = "chat.ended"
    CHAT_EVENT = "chat.event"
    TOOL_STARTED = "tool.started"
    TOOL_ENDED = "tool.ended"
    TOOL_DELTA = "tool.delta"
    CHAIN_STARTED = "chain.started"
    CHAIN_CHUNK = "chain.chunk"
    CHAIN_ENDED = "chain.ended"
    INTERRUPT = "interrupt"
    RESUME = "resume"
    CHECKPOINT = "checkpoint"
    SUBGRAPH_STARTED = "subgraph.started"
    SUBGRAPH_ENDED = "subgraph.ended"
    STORE_WRITE = "store.write"
    REMOTE_CHUNK = "remote.chunk"


STATE_EVENTS: frozenset[str] = frozenset(
    {EventType.CHECKPOINT, EventType.TASK_ENDED, EventType.INTERRUPT, EventType.RESUME}
)
"""The event types whose payloads a checkpoint's state is folded from: its channels' values,
its tasks' writes, interrupts and resume values (see :mod:`rewind.projections.state`)."""


class Redacted(str):
    """What a redacted value reads back as (``rewind db redact``): the text ``[redacted]``.

    A whole payload that was redacted reads back as one; so does each value a redaction of
    contents replaced inside a payload (a message's text, a tool call's arguments, a string
    holding the erased text). Being a string, it shows where text is expected (a message's
    content, a span attribute, JSON output); ``isinstance(value, Redacted)`` tells it apart.
    Message models keep the text only (their validation turns it into a plain ``str``).
    """

    __slots__ = ()

    def __new__(cls) -> Redacted:
        return super().__new__(cls, "[redacted]")

    def __repr__(self) -> str:
        return "Redacted()"

    def __reduce__(self) -> tuple[type[Redacted], tuple[()]]:
        return (Redacted, ())


REDACTED = Redacted()
"""The value a redacted payload (or a value inside one) reads back as."""

_NO_FIELDS: Mapping[str, Any] = MappingProxyType({})


def fields_of(payload: Any) -> Mapping[str, Any]:
    """A payload's fields: the payload when it is a mapping, else none (a payload redacted
    whole reads back as :data:`REDACTED`, a string; readers of fields see an empty one)."""
    if type(payload) is dict:  # (the common case, without the abstract class's check)
        return payload
    return payload if isinstance(payload, Mapping) else _NO_FIELDS


class RunStatus(StrEnum):
    """Where a run stands. Every status but ``running`` is final."""

    RUNNING = "running"
    SUCCESS = "success"
    INTERRUPTED = "interrupted"
    ERROR = "error"
    CANCELLED = "cancelled"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True, slots=True)
class NewEvent:
    """An event about to be appended; the log gives it its seq, position and hash."""

    type: str
    """What happened: an :class:`EventType` value."""
    payload: Any = None
    """The event's data; encoded by the log's codec when appended."""
    ts: datetime | None = None
    """When it happened (UTC); ``None`` stamps it with the time of the append."""
    step: int | None = None
    """The super-step it belongs to, when it belongs to one."""
    ns: str | None = None
    """The subgraph namespace path (LangGraph's ``checkpoint_ns``), ``None`` at the root."""
    node: str | None = None
    """The node it concerns, if any."""
    task_id: str | None = None
    """The task it concerns, if any."""

    def changed(self, *, payload: Any = _KEEP, ts: Any = _KEEP, ns: Any = _KEEP) -> NewEvent:
        """A copy with the fields given replaced (built directly: ``dataclasses.replace``
        looks the fields up on every call, and live streams copy events per token)."""
        return made_event(
            self.type,
            self.payload if payload is _KEEP else payload,
            self.ts if ts is _KEEP else ts,
            self.step,
            self.ns if ns is _KEEP else ns,
            self.node,
            self.task_id,
        )


def made_event(
    type_: str,
    payload: Any,
    ts: datetime | None,
    step: int | None,
    ns: str | None,
    node: str | None,
    task_id: str | None,
) -> NewEvent:
    """A :class:`NewEvent` of these fields, built without its ``__init__`` (which sets each
    frozen field through ``object.__setattr__``): the recorder makes one per token."""
    event = _Unfrozen()
    event.type = type_
    event.payload = payload
    event.ts = ts
    event.step = step
    event.ns = ns
    event.node = node
    event.task_id = task_id
    # The same slots: it becomes the frozen event, its fields as set.
    event.__class__ = NewEvent  # type: ignore[assignment]
    return event  # type: ignore[return-value]


class _Unfrozen:
    """A :class:`NewEvent` being made: the same slots, in the same order, set as plain
    attributes (a few times cheaper than through the frozen class's slot descriptors)."""

    __slots__ = NewEvent.__slots__
    type: str
    payload: Any
    ts: datetime | None
    step: int | None
    ns: str | None
    node: str | None
    task_id: str | None


def _made_by_setters(
    type_: str,
    payload: Any,
    ts: datetime | None,
    step: int | None,
    ns: str | None,
    node: str | None,
    task_id: str | None,
) -> NewEvent:
    """:func:`made_event` through the frozen class's own slot descriptors: where a class's
    layout cannot be assigned to another's (not CPython)."""
    event = _bare_new_event(NewEvent)
    _set_type(event, type_)
    _set_payload(event, payload)
    _set_ts(event, ts)
    _set_step(event, step)
    _set_ns(event, ns)
    _set_node(event, node)
    _set_task_id(event, task_id)
    return event


_bare_new_event = NewEvent.__new__
_set_type, _set_payload, _set_ts, _set_step, _set_ns, _set_node, _set_task_id = (
    getattr(NewEvent, name).__set__
    for name in ("type", "payload", "ts", "step", "ns", "node", "task_id")
)
try:
    made_event("", None, None, None, None, None, None)
except TypeError:  # pragma: no cover - CPython assigns it
    made_event = _made_by_setters


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredEvent:
    """An event as the log holds it."""

    run_id: str
    """The run it belongs to."""
    thread_id: str
    """The thread of that run."""
    seq: int
    """Its place in the run: 0, 1, 2, ... without gaps."""
    position: int
    """Its place in the whole log, across runs: increasing in commit order."""
    type: str
    """What happened: an :class:`EventType` value."""
    payload: Any
    """The decoded payload."""
    ts: datetime
    """When it happened (UTC)."""
    step: int | None
    """The super-step it belongs to, when it belongs to one."""
    ns: str | None
    """The subgraph namespace path, ``None`` at the root."""
    node: str | None
    """The node it concerns, if any."""
    task_id: str | None
    """The task it concerns, if any."""
    hash: bytes
    """SHA-256 chaining it to the event before it in its run."""


def run_started(
    *,
    thread_id: str,
    graph: str | None = None,
    origin_run_id: str | None = None,
    origin_checkpoint_id: str | None = None,
    extra: Mapping[str, Any] | None = None,
    ts: datetime | None = None,
) -> NewEvent:
    """Build the ``run.started`` event that must open every run.

    Args:
        thread_id: The thread (conversation) the run belongs to.
        graph: The graph's name.
        origin_run_id: For a fork or continuation, the run it starts from.
        origin_checkpoint_id: The checkpoint of that run it starts from.
        extra: Further fields for the payload (input, config, versions, ...).
        ts: When the run started; now by default.
    """
    payload: dict[str, Any] = {"thread_id": thread_id, "graph": graph}
    if origin_run_id is not None:
        payload["origin"] = {"run_id": origin_run_id, "checkpoint_id": origin_checkpoint_id}
    if extra:
        payload.update(extra)
    return NewEvent(type=EventType.RUN_STARTED, payload=payload, ts=ts or _now())


def run_ended(
    status: RunStatus,
    *,
    error: Any = None,
    ts: datetime | None = None,
    pending: dict[str, Any] | None = None,
) -> NewEvent:
    """Build the ``run.ended`` event that closes a run with a final ``status``; ``pending``:
    for a run interrupted in a step some of whose tasks finished, the channels their writes
    change, as they stand with those writes applied (the run's last ``values``)."""
    if status is RunStatus.RUNNING:
        raise ValueError("run.ended needs a final status, not 'running'")
    payload: dict[str, Any] = {"status": status.value}
    if error is not None:
        payload["error"] = error
    if pending:
        payload["pending"] = pending
    return NewEvent(type=EventType.RUN_ENDED, payload=payload, ts=ts or _now())
