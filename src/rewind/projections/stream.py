"""The stream of a run: every mode's projection, fed the run's events in order.

One :class:`Projector` serves a live stream (fed by the runtime as events are appended) and a
replay (fed from the log): the same events give the same chunks. It knows only what the log
says: the run's ``run.started`` event describes the run (thread, config, checkpointer,
durability, channel order), and a resumed checkpoint's state comes from folding the thread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic

from rewind.events import EventType, fields_of
from rewind.projections.events import EventsMode
from rewind.projections.messages import MessagesMode, ToolsMode
from rewind.projections.modes import (
    CheckpointsMode,
    CustomMode,
    DebugMode,
    EventLike,
    Projection,
    TasksMode,
    UpdatesMode,
    ValuesMode,
    _Fold,
    _interrupt_dicts,
    namespace,
    of_subgraph,
    unapplied,
)
from rewind.projections.state import ROOT, CheckpointView, Expander

__all__ = [
    "MODES",
    "Mappers",
    "PROPAGATED_KEYS",
    "Item",
    "Projector",
    "RunFacts",
    "event_types",
    "mappers_of",
    "parse_stream_mode",
    "shape_chunk",
    "shaper",
    "tokens_needed",
]

MODES = (
    "values",
    "updates",
    "messages",
    "custom",
    "tasks",
    "checkpoints",
    "debug",
    "tools",
    "events",
)
"""The stream modes rewind projects."""

_ORDER = [
    "events",
    "messages",
    "tools",
    "updates",
    "values",
    "custom",
    "tasks",
    "checkpoints",
    "debug",
]
"""The order in which the modes' chunks of one event reach the caller (LangGraph's)."""

Item = tuple[str, tuple[str, ...], Any]
"""(mode, namespace, chunk)."""

_TASKS = frozenset(
    {
        EventType.TASK_STARTED,
        EventType.TASK_ENDED,
        EventType.TASK_FAILED,
        EventType.INTERRUPT,
        EventType.CHECKPOINT,
    }
)
# (a subgraph's start: the channels a Pregel program run there shows, see StateFold; a task's
# failure: the writes it kept)
_CHECKPOINTS = frozenset(
    {EventType.TASK_ENDED, EventType.TASK_FAILED, EventType.CHECKPOINT, EventType.SUBGRAPH_STARTED}
)
_EVENTS_SKIP = frozenset({EventType.CUSTOM, EventType.STATE_WRITE, EventType.REMOTE_CHUNK})
_REMOTE_CHUNK = EventType.REMOTE_CHUNK.value
_READS: dict[str, frozenset[str]] = {
    # A subgraph's start: its output keys, when it has an output schema of its own; a task's
    # failure: the writes it made before it, when they are kept (see modes.kept).
    "updates": frozenset(
        {
            EventType.TASK_ENDED,
            EventType.TASK_FAILED,
            EventType.INTERRUPT,
            EventType.SUBGRAPH_STARTED,
        }
    ),
    # Task starts: a task call's writes show its caller's namespace; a subgraph's start: a
    # node streamed it itself, its writes to that stream (see CustomMode).
    "custom": frozenset({EventType.CUSTOM, EventType.TASK_STARTED, EventType.SUBGRAPH_STARTED}),
    # The run's end: an interrupted run's last values, with its finished tasks' writes.
    "values": frozenset(
        {
            EventType.TASK_ENDED,
            EventType.TASK_FAILED,
            EventType.CHECKPOINT,
            EventType.INTERRUPT,
            EventType.RUN_ENDED,
            EventType.SUBGRAPH_STARTED,
        }
    ),
    "tasks": _TASKS,
    "checkpoints": _CHECKPOINTS,
    "debug": _TASKS | _CHECKPOINTS,
    "messages": frozenset(
        {
            EventType.TASK_STARTED,
            EventType.TASK_ENDED,
            EventType.TASK_FAILED,
            EventType.CHECKPOINT,
            EventType.CHAT_STARTED,
            EventType.CHAT_TOKEN,
            EventType.CHAT_ENDED,
            EventType.CHAT_EVENT,
        }
    ),
    "tools": frozenset({EventType.TOOL_STARTED, EventType.TOOL_ENDED, EventType.TOOL_DELTA}),
    # Everything but the writers' data and state writes: those reach it only through the
    # graph's own stream, whose modes add what they read (see event_types). When another mode
    # reads them, the node starts the events mode holds go out first (Projector.feed).
    "events": frozenset(EventType) - _EVENTS_SKIP,
}
"""The event types each mode's projection reads (with the shared fold's, where it reads it):
the other events make no chunk and change nothing it keeps."""
# And a RemoteGraph's forwarded chunks (remote.chunk), in each mode LangGraph forwards.
_READS = {m: k if m == "events" else k | {_REMOTE_CHUNK} for m, k in _READS.items()}


def event_types(modes: list[str], *, events_stream_mode: Any = "updates") -> frozenset[str] | None:
    """The event types the projections of ``modes`` read; ``None`` for all of them.

    ``events_stream_mode``: the modes of the graph's own stream in the ``events`` mode.
    """
    needed: set[str] = {EventType.RUN_STARTED, EventType.RESUME}
    for mode in modes:
        if mode not in _READS:
            return None
        needed |= _READS[mode]
    if "events" in modes:
        inner, _ = parse_stream_mode(events_stream_mode)
        if "events" in inner:
            return None
        more = event_types(inner)
        if more is None:
            return None
        needed |= more
    return frozenset(needed)


# The ``configurable`` keys LangGraph copies into its callbacks' metadata.
PROPAGATED_KEYS = (
    "thread_id",
    "checkpoint_id",
    "checkpoint_ns",
    "run_id",
    "graph_id",
    "assistant_id",
    "task_id",
)


FORM = 2
"""What the stream modes show of a run recorded by this code, numbered where that changed in a
way a replay must not apply to runs recorded before (a replay shows what the run's live client
got). ``run.started`` records it; a run without it is of form 1.

Form 2: ``astream_events(subgraphs=True)`` streams the graph's own stream with namespaces and
its subgraphs' chunks, as LangGraph's (form 1: the root graph's chunks alone, without
namespace, unless the call named a ``stream_mode``)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RunFacts:
    """What a projection needs to know of a run, all of it in its ``run.started`` event."""

    thread_id: str
    """The thread."""
    checkpointer: bool
    """Whether the run was kept (``checkpoints`` is empty otherwise)."""
    durability: str
    """``sync``, ``async`` or ``exit``."""
    key_order: list[str]
    """The state's keys in schema order."""
    metadata: Mapping[str, Any]
    """The caller's config metadata."""
    tags: list[str] | None
    """The caller's config tags."""
    run_id: str = ""
    """The run (the graph run's id in the ``events`` mode)."""
    graph: str = "LangGraph"
    """The graph's name."""
    node_inputs: Mapping[str, Any] | None = None
    """How nodes' inputs differ from the plain state (keys kept, class built as)."""
    state_keys: list[str] | None = None
    """The state schema's keys in order, managed values included (when it has any)."""
    graph_shape: Mapping[str, Any] | None = None
    """Each channel's fold kind (``folds``) and how the state is built (``state_shape``):
    what rebuilds a routing function's input from the fold."""
    configurable: Mapping[str, Any] | None = None
    """The caller's ``configurable`` values."""
    output: str | None = None
    """The one channel the state is shown as (an entrypoint's ``__end__``), if one."""
    stream_keys: list[str] | None = None
    """The channels the run's streams show (a ``Pregel`` program's ``stream_channels``), if
    not all of them."""
    output_keys: str | list[str] | None = None
    """The ``output_keys`` the call asked for: what its ``values`` and ``updates`` show (one
    key: its value; a list: those keys, in that order)."""
    stream_protocol: bool = False
    """Whether the run's chat models streamed content-block events (``chat.event``), as a v3
    run stream asks them to: its ``messages`` mode then showed those events, not tokens."""
    form: int = 1
    """What the stream modes showed of the run when it was recorded (:data:`FORM`)."""

    @property
    def run_metadata(self) -> dict[str, Any]:
        """The metadata LangGraph gives the run's callbacks: the caller's, plus the ids of
        ``configurable`` it propagates (the thread's, when there is one)."""
        out = dict(self.metadata)
        for key in PROPAGATED_KEYS:
            value = (self.configurable or {}).get(key)
            if value and key not in out:
                out[key] = value
        return out

    @classmethod
    def from_started(cls, payload: Mapping[str, Any]) -> RunFacts:
        """The facts recorded in a ``run.started`` payload."""
        config = payload.get("config") or {}
        return cls(
            thread_id=(config.get("configurable") or {}).get("thread_id") or payload["thread_id"],
            checkpointer=bool(payload.get("checkpointer", True)),
            durability=payload.get("durability") or "async",
            key_order=list(payload.get("channels") or []),
            metadata=dict(config.get("metadata") or {}),
            tags=config.get("tags"),
            graph=payload.get("graph") or "LangGraph",
            node_inputs=payload.get("node_inputs"),
            state_keys=payload.get("state_keys"),
            graph_shape={
                k: payload[k] for k in ("folds", "state_shape", "state_keys") if k in payload
            },
            configurable=config.get("configurable"),
            output=payload.get("output_channel"),
            stream_keys=payload.get("stream_keys"),
            output_keys=payload.get("output_keys"),
            stream_protocol=bool(payload.get("stream_protocol")),
            form=int(payload.get("form") or 1),
        )


def mappers_of(state_schema: Any, output_schema: Any) -> Mappers | None:
    """The :class:`Mappers` of a graph whose state and output are these schemas (LangGraph
    coerces to a pydantic model or a dataclass, not a TypedDict); ``None`` when neither is."""
    out, state = _mapper(output_schema), _mapper(state_schema)
    return Mappers(output=out, state=state) if out or state else None


def _mapper(schema: Any) -> Callable[[dict[str, Any]], Any] | None:
    if not isinstance(schema, type):
        return None
    if dataclasses.is_dataclass(schema) and [f.name for f in dataclasses.fields(schema)] == [ROOT]:
        return None  # a root-valued graph's value is shown as it is, as LangGraph's
    if issubclass(schema, pydantic.BaseModel) or dataclasses.is_dataclass(schema):
        return lambda values: schema(**values)
    return None


def parse_stream_mode(stream_mode: Any) -> tuple[list[str], str]:
    """The modes asked for, in emission order, and the shape: ``single``, ``list``, ``tuple``."""
    if isinstance(stream_mode, str):
        modes, shape = [stream_mode], "single"
    elif isinstance(stream_mode, list):
        modes, shape = list(stream_mode), "list"
    else:
        modes, shape = list(stream_mode), "tuple"
    for mode in modes:
        if mode not in MODES:
            raise ValueError(f"unknown stream mode {mode!r}; rewind streams {list(MODES)}")
    return modes, shape


@dataclass(frozen=True)
class Mappers:
    """What turns a state dict into the graph's schema, for v2 parts (as LangGraph 1.2's
    ``version="v2"`` streams: a ``values`` part's data as the output schema's instance, the
    ``values`` of ``checkpoints``/``debug`` checkpoints as the state schema's); ``None``
    where the schema is a TypedDict (the dict is the state)."""

    output: Callable[[dict[str, Any]], Any] | None = None
    state: Callable[[dict[str, Any]], Any] | None = None


def shape_chunk(
    mode: str,
    ns: tuple[str, ...],
    chunk: Any,
    *,
    shape: str,
    subgraphs: bool,
    version: str,
    mappers: Mappers | None = None,
) -> Any:
    """A chunk as LangGraph hands it to the caller."""
    if version == "v2":
        part: dict[str, Any] = {"type": mode, "ns": ns, "data": chunk}
        if mode == "values" and isinstance(chunk, dict):  # (an entrypoint's output may not be)
            data = dict(chunk)
            part["interrupts"] = tuple(data.pop("__interrupt__", ()))
            part["data"] = data
            if mappers is not None and mappers.output is not None:
                part["data"] = mappers.output(data)
        elif mode == "values":
            part["interrupts"] = ()
        elif mode in ("checkpoints", "debug") and mappers is not None and mappers.state:
            part["data"] = _with_state_values(chunk, mappers.state)
        return part
    if shape == "list":
        return (ns, mode, chunk) if subgraphs else (mode, chunk)
    return (ns, chunk) if subgraphs else chunk


def _with_state_values(chunk: Any, state: Callable[[dict[str, Any]], Any]) -> Any:
    """A ``checkpoints`` chunk, or a ``debug`` checkpoint, with its ``values`` as the state
    schema's instance (a copy: the chunk is shared), but an input checkpoint's (whose next
    task is ``__start__``: its state may lack required keys yet), as LangGraph coerces them."""
    if not isinstance(chunk, dict):
        return chunk
    if chunk.get("type") == "checkpoint" and isinstance(chunk.get("payload"), dict):
        payload = _with_state_values(chunk["payload"], state)
        return chunk if payload is chunk["payload"] else {**chunk, "payload": payload}
    values = chunk.get("values")
    if not isinstance(values, dict) or "__start__" in (chunk.get("next") or ()):
        return chunk
    return {**chunk, "values": state(values)}


def shaper(
    *, shape: str, subgraphs: bool, version: str, mappers: Mappers | None = None
) -> Callable[[str, tuple[str, ...], Any], Any]:
    """:func:`shape_chunk` with its keyword arguments given once: ``(mode, ns, chunk)`` to what
    the caller gets."""
    if version == "v2":
        return lambda mode, ns, chunk: shape_chunk(
            mode, ns, chunk, shape=shape, subgraphs=subgraphs, version=version, mappers=mappers
        )
    if shape == "list":
        if subgraphs:
            return lambda mode, ns, chunk: (ns, mode, chunk)
        return lambda mode, ns, chunk: (mode, chunk)
    if subgraphs:
        return lambda mode, ns, chunk: (ns, chunk)
    return lambda mode, ns, chunk: chunk


class Projector:
    """Feeds a run's events to the projections of the modes asked for."""

    def __init__(
        self,
        modes: list[str],
        facts: RunFacts,
        initial: Mapping[str, Any] | None = None,
        *,
        events_stream_mode: Any = "updates",
        subgraphs: bool = True,
        messages_protocol: bool = False,
    ) -> None:
        """``messages_protocol``: the messages mode gives chat models' content-block events
        (LangGraph's v3 run streams), not their tokens."""
        order = facts.key_order
        self.fold = _Fold(initial, order, facts.output)
        if facts.stream_keys is not None:
            self.fold.shown_keys = tuple(facts.stream_keys)
        self._values = ValuesMode(self.fold)
        updates = UpdatesMode()
        if facts.stream_keys is not None:  # the root's, as a subgraph's output keys are
            self._values.only((), facts.stream_keys, ordered=True)
            updates.only((), facts.stream_keys, single=facts.output)
        if facts.output_keys is not None:  # the call's own, for these two modes only
            asked = facts.output_keys
            keys = [asked] if isinstance(asked, str) else list(asked)
            single = asked if isinstance(asked, str) else None
            self._values.only((), keys, single=single, ordered=True)
            updates.only((), keys, single=single)
        tasks = TasksMode(
            self.fold,
            metadata=facts.run_metadata,
            tags=facts.tags,
            node_inputs=facts.node_inputs,
            state_keys=facts.state_keys,
        )
        if facts.stream_keys is not None:
            tasks.shown_keys = frozenset(facts.stream_keys)
        self._checkpoints = CheckpointsMode(
            self.fold,
            thread_id=facts.thread_id,
            enabled=facts.checkpointer,
            parentless=facts.durability == "exit",
            configurable=facts.configurable,
        )
        # (a run recorded before form 2 streamed its subgraphs' chunks to no events client)
        events_subgraphs = subgraphs and facts.form >= 2
        made: dict[str, Projection] = {
            "values": self._values,
            "updates": updates,
            "custom": CustomMode(),
            "tasks": tasks,
            "checkpoints": self._checkpoints,
            "debug": DebugMode(tasks, self._checkpoints),
            "tools": ToolsMode(),
            "messages": MessagesMode(
                self.fold,
                metadata=facts.run_metadata,
                tags=facts.tags,
                subgraphs=subgraphs,
                protocol=messages_protocol,
            ),
            "events": EventsMode(
                self.fold,
                run_id=facts.run_id,
                graph=facts.graph,
                metadata=facts.run_metadata,
                tags=facts.tags,
                node_inputs=facts.node_inputs,
                graph_shape=facts.graph_shape,
                graph_stream=None
                if "events" not in modes
                or (events_stream_mode == "updates" and not events_subgraphs)
                else _GraphStream(events_stream_mode, facts, initial, subgraphs=subgraphs),
                output_keys=facts.output_keys,
                stream_subgraphs=events_subgraphs,
            ),
        }
        self.projections = {m: made[m] for m in _ORDER if m in modes}
        events = self.projections.get("events")
        self._events = events if isinstance(events, EventsMode) and events.holds else None
        # Each kind of event goes only to the projections that read it, in emission order (a
        # kind none reads has no route).
        self._routes: dict[str, list[tuple[str, Projection]]] = {
            kind: [(m, self.projections[m]) for m in names]
            for kind, names in _route_names(list(self.projections), events_stream_mode).items()
        }
        # Whether LangGraph's stream takes chunks as they come (its runner waits for them):
        # else a step's one task whose writes are refused streams nothing (see unapplied).
        self._takes_as_they_come = subgraphs or bool({"custom", "messages"} & set(modes))
        # Only these read the shared fold; without them it need not be kept up to date.
        self._folding = bool(_FOLDING & set(modes))
        self._expander = Expander()
        # Graphs a node streamed with subgraphs=True: their subgraphs' chunks went to it alone.
        self._own_streams: set[tuple[str, ...]] = set()
        # A token read by the messages mode alone (no fold, no expansion, no events mode to
        # release): straight to it, the most frequent event by far.
        token_routes = self._routes.get(EventType.CHAT_TOKEN)
        messages = self.projections.get("messages")
        self.token_feed: Callable[[EventLike], list[Item]] | None = (
            messages.token
            if isinstance(messages, MessagesMode) and token_routes == [("messages", messages)]
            else None
        )
        """What :meth:`feed` does with a ``chat.token`` event, when only the messages mode
        reads tokens (a live stream calls it itself: one call fewer per token)."""

    @property
    def ignores_tokens(self) -> bool:
        """Whether no mode reads ``chat.token`` events (:meth:`feed` makes nothing of one)."""
        return not self._routes.get(EventType.CHAT_TOKEN) and self.token_feed is None

    @property
    def wants_tokens(self) -> bool:
        """Whether chat models must stream for these modes (as LangGraph's handlers make them)."""
        return tokens_needed(self.projections)

    def feed(self, event: EventLike) -> list[Item]:
        """The items one event produces."""
        kind = event.type
        if kind == _CHAT_TOKEN and self.token_feed is not None:
            return self.token_feed(event)
        if kind == _REMOTE_CHUNK:
            return self._forwarded(event)
        if kind in _EXPANDED:
            event = self._expander.expand(event)
        if self._folding and kind in _FOLDED:
            self.fold.feed(event)
        if kind == _SUBGRAPH_STARTED and fields_of(event.payload).get("stream_subgraphs"):
            self._own_streams.add(namespace(event.ns))
        routes = self._routes.get(kind)
        if not routes:
            return []
        if len(routes) == 1:
            mode, projection = routes[0]
            out = [(mode, ns, chunk) for ns, chunk in projection.feed(event)]
        else:
            out = [
                (mode, ns, chunk)
                for mode, projection in routes
                for ns, chunk in projection.feed(event)
            ]
        if self._own_streams and out:
            out = [item for item in out if not _in_own_stream(item, self._own_streams)]
        if out and kind == _TASK_ENDED and not self._takes_as_they_come and unapplied(event):
            out = [item for item in out if item[0] == "events"]
        if self._events is not None and kind in _EVENTS_SKIP:
            # An event the events mode skips still lets the node starts it holds go out, before
            # the other modes' chunks of it, as a live stream that fed it every event did.
            out[:0] = [("events", ns, chunk) for ns, chunk in self._events.release()]
        return out

    def _forwarded(self, event: EventLike) -> list[Item]:
        """A chunk a ``RemoteGraph`` run inside a task forwarded (``remote.chunk``): as it came,
        in its mode, if that is one of these; in the events mode, in the graph's own stream."""
        payload = fields_of(event.payload)
        mode = payload.get("mode")
        out: list[Item] = []
        if mode != "events" and mode in self.projections:
            out.append((mode, tuple(payload.get("ns") or ()), payload.get("chunk")))
        events = self.projections.get("events")
        if isinstance(events, EventsMode):  # the graph's own stream, in its on_chain_stream
            out[:0] = [("events", ns, chunk) for ns, chunk in events.forwarded(event)]
        if out and self._events is not None:  # the node starts the events mode holds go first
            out[:0] = [("events", ns, chunk) for ns, chunk in self._events.release()]
        return out

    def resumed(self, ns: str, head: CheckpointView, *, fork: bool = False) -> list[Item]:
        """What a (sub)graph resuming from ``head`` re-emits first: its state, its checkpoint;
        a run that forks ``head`` (time travel), its state only (the fork's own checkpoint
        follows, as LangGraph 1.2 streams it)."""
        key = namespace(ns)
        self.fold.values[key] = dict(head.values)
        self._expander.starting_at(ns, head)
        out: list[Item] = []
        if self._events is not None and not fork:
            self._events.resumed(ns, head)
        if "values" in self.projections:
            out += [("values", k, c) for k, c in self._values.resumed(ns)]
        if fork:
            return out
        if {"checkpoints", "debug"} & set(self.projections) and self._checkpoints.enabled:
            chunk = self._checkpoints.payload(
                _described(head), ns, self.fold.shown(key), _left_by_tasks(head)
            )
            if "checkpoints" in self.projections:
                out.append(("checkpoints", key, chunk))
            if "debug" in self.projections:
                out.append(
                    (
                        "debug",
                        key,
                        {
                            "step": head.step,
                            "timestamp": head.ts.isoformat(),
                            "type": "checkpoint",
                            "payload": chunk,
                        },
                    )
                )
        return out


_CHAT_TOKEN = EventType.CHAT_TOKEN.value
_TASK_ENDED = EventType.TASK_ENDED.value
_SUBGRAPH_STARTED = EventType.SUBGRAPH_STARTED.value
_OWN_STREAMED = frozenset({"values", "updates", "tasks", "checkpoints", "debug"})
"""The modes whose chunks a graph's loop streams (to a node's own stream of it, and to its
subgraphs' loops); custom writes, chat tokens and events go their own ways."""


def _in_own_stream(item: Item, graphs: set[tuple[str, ...]]) -> bool:
    """Whether ``item`` is of a subgraph of one of ``graphs`` (streamed by a node with
    ``subgraphs=True``: the subgraph's loop streams to that stream, not the run's). A graph
    the same node runs after it (``|n``: numbered) is no subgraph of it."""
    mode, ns, _ = item
    return mode in _OWN_STREAMED and any(
        len(ns) > len(g) and ns[: len(g)] == g and not ns[len(g)].isdigit() for g in graphs
    )


_FOLDING = frozenset({"values", "tasks", "checkpoints", "debug", "messages", "events"})
"""The modes that read the shared fold."""
_FOLDED = frozenset(
    {EventType.TASK_ENDED, EventType.TASK_FAILED, EventType.CHECKPOINT, EventType.SUBGRAPH_STARTED}
)
"""The event types the shared fold reads (a failure: the writes it kept, see
:class:`~rewind.projections.state.StateFold`)."""
_EXPANDED = frozenset({EventType.CHECKPOINT, EventType.TASK_STARTED})
"""The event types whose payloads leave out what earlier events say (see ``Expander``)."""


def _reads(types: frozenset[str] | None, kind: str) -> bool:
    return types is None or kind in types


_ROUTE_NAMES: dict[tuple[tuple[str, ...], Any], dict[str, list[str]]] = {}
"""The modes reading each kind of event, per (modes, events stream mode): every stream of the
same modes routes alike (see :func:`_route_names`)."""


def _route_names(modes: list[str], events_stream_mode: Any) -> dict[str, list[str]]:
    """Per kind of event that one of ``modes`` reads, those modes, in their order."""
    try:
        key = (tuple(modes), events_stream_mode)
        found = _ROUTE_NAMES.get(key)
    except TypeError:  # (an events stream mode given as a list: not kept)
        key, found = None, None
    if found is not None:
        return found
    reads = {m: event_types([m], events_stream_mode=events_stream_mode) for m in modes}
    names: dict[str, list[str]] = {
        kind: [m for m in modes if _reads(reads[m], kind)]
        for kind in EventType
        if any(_reads(reads[m], kind) for m in modes)
    }
    if key is not None and len(_ROUTE_NAMES) < 256:
        _ROUTE_NAMES[key] = names
    return names


def tokens_needed(modes: Iterable[str]) -> bool:
    """Whether chat models must stream for ``modes`` (as LangGraph's handlers make them)."""
    return bool({"messages", "tools", "events"} & set(modes))


class _GraphStream:
    """What the graph's ``astream`` yields in ``stream_mode`` (with ``subgraphs``): the graph's
    own ``on_chain_stream`` chunks in the ``events`` mode."""

    def __init__(
        self,
        stream_mode: Any,
        facts: RunFacts,
        initial: Mapping[str, Any] | None,
        *,
        subgraphs: bool = False,
    ) -> None:
        modes, self._shape = parse_stream_mode(stream_mode)
        if "events" in modes:
            raise ValueError("the events mode cannot stream itself: pick other stream modes")
        self._inner = Projector(modes, facts, initial, subgraphs=subgraphs)
        self._subgraphs = subgraphs

    def __call__(self, event: EventLike) -> list[Any]:
        """The chunks this event makes."""
        return self._shaped(self._inner.feed(event))

    def resumed(self, ns: str, head: CheckpointView, *, fork: bool = False) -> list[Any]:
        """The chunks a run resuming from ``head`` (forking it: ``fork``) starts with."""
        return self._shaped(self._inner.resumed(ns, head, fork=fork))

    def _shaped(self, items: list[Item]) -> list[Any]:
        subgraphs = self._subgraphs
        return [
            shape_chunk(mode, ns, chunk, shape=self._shape, subgraphs=subgraphs, version="v1")
            for mode, ns, chunk in items
            if subgraphs or not of_subgraph(ns)
        ]


def _described(head: CheckpointView) -> dict[str, Any]:
    return {
        "id": head.id,
        "parent_id": head.parent_id,
        "step": head.step,
        "source": head.source,
        "next": head.next,
        "metadata": head.metadata,
    }


def _left_by_tasks(head: CheckpointView) -> dict[str, dict[str, Any]]:
    """What the tasks of a checkpoint being resumed left there: results, errors, interrupts."""
    out: dict[str, dict[str, Any]] = {}
    for task in head.next:
        task_id = task["id"]
        entry: dict[str, Any] = {}
        if task_id in head.errors:  # (a failed task's writes kept: not shown, as LangGraph's)
            entry["error"] = head.errors[task_id]
        else:
            if task_id in head.results:
                entry["result"] = head.results[task_id]
            entry["interrupts"] = _interrupt_dicts(head.interrupts.get(task_id))
        out[task_id] = entry
    return out
