"""Stream modes as projections: pure functions of a run's events, fed one at a time.

The same projection objects serve a live stream (fed as events are appended) and a replay (fed
from the log), so both yield the same chunks. A projection keeps only what its mode needs to
remember (the folded state for ``values``); it does no I/O.

Modes here: ``values``, ``updates``, ``custom``, ``tasks``, ``checkpoints`` and ``debug``;
``messages`` and ``tools`` are in :mod:`rewind.projections.messages`, ``events`` in
:mod:`rewind.projections.events`.
Chunks are returned as ``(ns, chunk)``, where ``ns`` is the subgraph namespace tuple (``()`` at
the root).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from rewind.events import EventType, announced_order, fields_of
from rewind.projections.calls import END, RETURN, is_call, is_return
from rewind.projections.state import (
    ROOT,
    StateFold,
    channel_writes_of,
    kept,
    node_input,
    task_writes_of,
    to_known_keys,
    with_managed,
    with_sent,
)
from rewind.types import Command

__all__ = [
    "CheckpointsMode",
    "CustomMode",
    "DebugMode",
    "EXCLUDED_METADATA_KEYS",
    "Projection",
    "ShownNamespace",
    "TasksMode",
    "UpdatesMode",
    "ValuesMode",
    "namespace",
    "of_subgraph",
]


class EventLike(Protocol):
    """What a projection reads of an event (a new or a stored one)."""

    @property
    def type(self) -> str: ...
    @property
    def payload(self) -> Any: ...
    @property
    def ns(self) -> str | None: ...
    @property
    def node(self) -> str | None: ...
    @property
    def task_id(self) -> str | None: ...


class Projection(Protocol):
    """One stream mode."""

    def feed(self, event: EventLike) -> list[tuple[tuple[str, ...], Any]]:
        """The chunks this event produces, with their namespaces."""
        ...


def unapplied(event: EventLike) -> bool:
    """Whether a root task's end says that its writes, its step's only ones, are refused
    (``unapplied``: the step fails): LangGraph's runner, which ran it alone, streams nothing
    of it then, unless its stream takes chunks as they come (``custom``, ``messages``,
    ``subgraphs=True``)."""
    return not event.ns and bool(fields_of(event.payload).get("unapplied"))


def namespace(ns: str | None) -> tuple[str, ...]:
    """LangGraph's namespace tuple for a stored namespace string."""
    return tuple(ns.split("|")) if ns else ()


def output_keys_of(event: EventLike, outputs: dict[tuple[str, ...], frozenset[str]]) -> None:
    """Note the output keys of a subgraph starting (``subgraph.started``), when its output
    schema is not its state: LangGraph streams such a subgraph's ``values`` and ``updates``
    with those keys only."""
    keys = (event.payload or {}).get("output_keys")
    if keys is not None:  # (one key: a str)
        outputs[namespace(event.ns)] = frozenset([keys] if isinstance(keys, str) else keys)


class UpdatesMode:
    """``updates``: what each task returned, as it finished; interrupts as they happen. In a
    subgraph with an output schema, only its output keys (``None`` for an update of none)."""

    def __init__(self) -> None:
        self._outputs: dict[tuple[str, ...], frozenset[str]] = {}
        self._single: str | None = None

    def only(self, ns: tuple[str, ...], keys: Iterable[str], *, single: str | None) -> None:
        """Show the updates of namespace ``ns`` to ``keys`` only (the root's: a ``Pregel``
        program's ``stream_channels``; ``single``: its one channel, whose value is shown)."""
        self._outputs[ns] = frozenset(keys)
        if not ns:
            self._single = single

    def feed(self, event: EventLike) -> list[tuple[tuple[str, ...], Any]]:
        ns = namespace(event.ns)
        if event.type == EventType.SUBGRAPH_STARTED:
            output_keys_of(event, self._outputs)
            return []
        out = self._updates(event, ns)
        keys = self._outputs.get(ns) if self._outputs else None
        if keys is None or not (event.type == EventType.TASK_ENDED or kept(event)):
            return out
        if self._single is not None and not ns:
            return [(n, _value_of(chunk, self._single)) for n, chunk in out]
        return [(n, _only(chunk, keys)) for n, chunk in out]

    def _updates(self, event: EventLike, ns: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
        ended = event.type == EventType.TASK_ENDED or kept(event)
        if ended and event.node not in (None, "__start__"):
            payload = event.payload or {}
            if payload.get("update_state") or payload.get("late"):  # (late: see TasksMode)
                return []
            if is_return(payload):  # a functional-API function's: what it returned, as it is
                returned: dict[str, Any] = {event.node: payload["return"]}
                if payload.get("cached"):
                    returned["__metadata__"] = {"cached": True}
                return [(ns, returned)]
            update = payload.get("update")
            commanded = isinstance(update, Command) or (
                isinstance(update, list) and any(isinstance(u, Command) for u in update)
            )
            wrote = channel_writes_of(payload) if commanded else {}
            if commanded and list(wrote) == [ROOT]:
                # A root-valued graph's Command: what it wrote to the one value, as LangGraph
                # shows a task's writes to a graph's one output channel (several: a list).
                update = wrote[ROOT][0] if len(wrote[ROOT]) == 1 else wrote[ROOT]
            elif commanded and not wrote:  # (its update's keys are no channel: none)
                update = None
            elif isinstance(update, Command):
                update = update.update
            elif commanded:
                update = task_writes_of(payload) or None
            if isinstance(update, dict) and list(channel_writes_of(payload)) != [ROOT]:
                # (a root-valued graph's dict is its one value, shown as returned)
                update = with_sent(to_known_keys(update, payload), update, payload)
                written = payload.get("writes")
                if isinstance(written, list):  # a channel written more than once (a node
                    # that pushed UI messages): one chunk item per write, as LangGraph's
                    update = [{name: value} for name, value in written]
            if update == {}:
                update = None
            chunk: dict[str, Any] = {event.node: update}
            if payload.get("cached"):
                chunk["__metadata__"] = {"cached": True}
            return [(ns, chunk)]
        if event.type == EventType.INTERRUPT:
            return [(ns, {"__interrupt__": tuple(event.payload.get("interrupts") or ())})]
        return []


class ValuesMode:
    """``values``: the whole state after the input and after every step that wrote to it; in
    a subgraph with an output schema, its output keys after a step that wrote one of them."""

    def __init__(self, fold: _Fold) -> None:
        self._fold = fold
        self._outputs: dict[tuple[str, ...], frozenset[str]] = {}
        self._single: str | None = None
        self._order: list[str] | None = None

    def _shown(self, ns: tuple[str, ...]) -> Any:
        # (a subgraph's values: its state, or its output keys; not its stream channels; a
        # root-valued one's, its value)
        shown = self._fold.shown(ns) if not ns else _root_or_state(self._fold.state(ns))
        keys = self._outputs.get(ns) if self._outputs else None
        if keys is None or not isinstance(shown, dict):
            return shown
        if not ns and self._single is not None:
            return shown.get(self._single)
        if not ns and self._order is not None:
            return {k: shown[k] for k in self._order if k in shown}
        return {k: v for k, v in shown.items() if k in keys}

    def only(
        self,
        ns: tuple[str, ...],
        keys: Iterable[str],
        *,
        single: str | None = None,
        ordered: bool = False,
    ) -> None:
        """Show namespace ``ns`` as ``keys`` (the root's: a ``Pregel`` program's
        ``stream_channels``, or the call's ``output_keys``), after a step that wrote one of
        them; ``single``: the root shown as that key's value; ``ordered``: the root's keys in
        the order given (the state's otherwise)."""
        keys = list(keys)
        self._outputs[ns] = frozenset(keys)
        if not ns:
            self._single = single
            self._order = keys if ordered else None

    def resumed(self, ns: str = "") -> list[tuple[tuple[str, ...], Any]]:
        """The chunk a resumed (sub)graph starts with: the state it resumes from."""
        key = namespace(ns)
        return [(key, self._shown(key))]

    def feed(self, event: EventLike) -> list[tuple[tuple[str, ...], Any]]:
        """The chunks of one event (the fold has been fed it already)."""
        if event.type == EventType.SUBGRAPH_STARTED:
            output_keys_of(event, self._outputs)
        elif event.type == EventType.CHECKPOINT:
            payload = event.payload
            if payload.get("unprepared"):  # the next step's tasks failed: never streamed
                return []
            # (a channel the step emptied, written by no task, is no write: not shown)
            changes = payload["changes"]
            ns = namespace(event.ns)
            keys = self._outputs.get(ns) if self._outputs else None
            # (nor is a value the run finishing made readable, of a channel not written)
            finished = payload.get("finished") or ()
            if payload["source"] != "input" and any(
                c[1] != "clear" and (keys is None or c[0] in keys) and c[0] not in finished
                for c in changes
            ):
                return [(ns, self._shown(ns))]
        elif event.type == EventType.RUN_ENDED and (event.payload or {}).get("pending"):
            # An interrupted run whose step's other tasks finished: the state with their
            # writes, LangGraph's last values.
            shown = self._fold.shown_ended(event.payload["pending"])
            if isinstance(shown, dict):
                return [((), shown)]
        elif event.type == EventType.INTERRUPT and event.payload.get("interrupts"):
            ns = namespace(event.ns)
            shown = self._shown(ns)
            # An entrypoint's output that is not a dict is left out: the interrupts alone.
            state = dict(shown) if isinstance(shown, dict) else {}
            state["__interrupt__"] = tuple(event.payload["interrupts"])
            return [(ns, state)]
        return []


def _root_or_state(state: dict[str, Any]) -> Any:
    """A subgraph's state as its values show it: a root-valued graph's (whose one channel is
    ``__root__``) is that value."""
    return state[ROOT] if list(state) == [ROOT] else state


def _value_of(chunk: Any, key: str) -> Any:
    """An ``updates`` chunk ``{node: update}`` with each update as its write to ``key``
    (``None`` when it wrote none)."""
    if not isinstance(chunk, dict):
        return chunk
    return {
        node: update.get(key) if isinstance(update, dict) and node != "__metadata__" else update
        for node, update in chunk.items()
    }


def _only(chunk: Any, keys: frozenset[str]) -> Any:
    """An ``updates`` chunk ``{node: update}`` with the update's keys among ``keys`` only
    (``None`` when none is)."""
    if not isinstance(chunk, dict):
        return chunk
    out: dict[str, Any] = {}
    for node, update in chunk.items():
        if isinstance(update, dict) and node != "__metadata__":
            update = {k: v for k, v in update.items() if k in keys} or None
        out[node] = update
    return out


class ShownNamespace(tuple[str, ...]):
    """The namespace a chunk shows when it is not that of the graph it belongs to: LangGraph's
    custom writes from a task call show the call's caller's namespace, yet they stream with
    their graph's chunks (a stream without ``subgraphs=True`` has them)."""

    graph: tuple[str, ...] = ()
    """The namespace of the graph the chunk belongs to."""


def of_subgraph(ns: tuple[str, ...]) -> bool:
    """Whether a chunk of namespace ``ns`` is a subgraph's (left out unless
    ``subgraphs=True``)."""
    return bool(ns.graph if isinstance(ns, ShownNamespace) else ns)


class CustomMode:
    """``custom``: what nodes and task calls wrote with their stream writer."""

    def __init__(self) -> None:
        self._callers: dict[str, str] = {}  # task call id -> its caller's namespace
        # Graphs a node streamed with this mode: their writes went to its own stream.
        self._own: set[str] = set()

    def feed(self, event: EventLike) -> list[tuple[tuple[str, ...], Any]]:
        if event.type == EventType.CUSTOM:
            if self._own and _under(event.ns or "", self._own):
                return []
            ns = namespace(event.ns)
            caller = self._callers.get(event.task_id or "")
            if caller is not None:  # shown under its caller's namespace, as LangGraph's
                shown = ShownNamespace(caller.split("|"))
                shown.graph = ns
                return [(shown, event.payload)]
            return [(ns, event.payload)]
        if event.type == EventType.TASK_STARTED and is_call(event.payload):
            self._callers[event.task_id or ""] = event.payload["call"]
        elif event.type == EventType.SUBGRAPH_STARTED:
            if "custom" in (fields_of(event.payload).get("stream_modes") or ()):
                self._own.add(event.ns or "")
            else:  # (called again from the same task: its namespace is the same)
                self._own.discard(event.ns or "")
        return []


def _under(ns: str, graphs: set[str]) -> bool:
    """Whether namespace ``ns`` is one of ``graphs`` or inside one (a graph the same node
    runs after one, ``|n``: numbered, is not)."""
    return any(
        ns == g or (ns.startswith(f"{g}|") and not ns[len(g) + 1 :].partition("|")[0].isdigit())
        for g in graphs
    )


_Fold = StateFold
"""The state per namespace the modes below share (:class:`StateFold`)."""


def _interrupt_dicts(interrupts: Any) -> list[dict[str, Any]]:
    return [
        {"value": i.value, "id": i.id, "response_schema": getattr(i, "response_schema", None)}
        for i in interrupts or ()
    ]


EXCLUDED_METADATA_KEYS = frozenset(
    {
        "thread_id",
        "checkpoint_id",
        "checkpoint_ns",
        "checkpoint_map",
        "langgraph_step",
        "langgraph_node",
        "langgraph_triggers",
        "langgraph_path",
        "langgraph_checkpoint_ns",
    }
)
"""Config metadata keys LangGraph keeps out of what it shows and copies (its
``EXCLUDED_METADATA_KEYS``): a task's start, a checkpoint's metadata."""


class TasksMode:
    """``tasks``: each task's start (with its input) and its result, error or interrupts."""

    def __init__(
        self,
        fold: _Fold,
        *,
        metadata: Mapping[str, Any] | None = None,
        tags: list[str] | None = None,
        node_inputs: Mapping[str, Any] | None = None,
        state_keys: list[str] | None = None,
    ) -> None:
        self._fold = fold
        self.shown_keys: frozenset[str] | None = None
        """The channels the root's task results show, when not all (``stream_channels``)."""
        # How each (sub)graph's nodes take the state (keys kept, class built as), by namespace;
        # a subgraph's come with its start.
        self._shapes: dict[str, Mapping[str, Any]] = {"": node_inputs or {}}
        self._state_keys: dict[str, list[str]] = {"": state_keys or []}
        # As LangGraph's: a task's start carries the caller's metadata and tags, when there are
        # any, without the framework's own keys.
        shown = {k: v for k, v in (metadata or {}).items() if k not in EXCLUDED_METADATA_KEYS}
        user_tags = [t for t in tags or () if not t.startswith("seq:step")]
        if user_tags:
            shown["tags"] = user_tags
        self._metadata = shown
        # The event made chunks last, and them: the debug mode, fed after this mode, shows the
        # same chunks (as LangGraph's, which wraps the same payloads), not a second making.
        self._last: tuple[EventLike | None, list[tuple[tuple[str, ...], str, Any]]] = (None, [])

    def feed(self, event: EventLike) -> list[tuple[tuple[str, ...], Any]]:
        return [(ns, chunk) for ns, kind, chunk in self.task_chunks(event)]

    def _input(self, event: EventLike, payload: Mapping[str, Any]) -> Any:
        """The state as the task's node took it: its input schema's keys (and class), with
        the managed values (``RemainingSteps``...) its start recorded, in schema order."""
        ns = event.ns or ""
        state = with_managed(
            self._fold.state(namespace(ns)), payload.get("managed"), self._state_keys.get(ns)
        )
        return node_input(self._shapes.get(ns, {}).get(str(event.node)), state)

    def task_chunks(self, event: EventLike) -> list[tuple[tuple[str, ...], str, Any]]:
        """(ns, "task" | "task_result", payload) for this event (the same chunks for the
        event made last: the tasks and debug modes both read them)."""
        last, chunks = self._last
        if event is last:
            return chunks
        chunks = self._task_chunks(event)
        self._last = (event, chunks)
        return chunks

    def _task_chunks(self, event: EventLike) -> list[tuple[tuple[str, ...], str, Any]]:
        ns = namespace(event.ns)
        payload = event.payload or {}
        if event.type == EventType.SUBGRAPH_STARTED:
            self._shapes[event.ns or ""] = payload.get("node_inputs") or {}
            self._state_keys[event.ns or ""] = payload.get("state_keys") or []
            return []
        if event.node == "__start__" or event.node is None or event.task_id is None:
            return []
        if event.type == EventType.TASK_STARTED:
            if payload.get("handles") and not payload.get("announced"):
                # an error handler's, run as a node fails: LangGraph announces none
                return []
            value = payload["input"] if "input" in payload else self._input(event, payload)
            return [
                (
                    ns,
                    "task",
                    {
                        "id": event.task_id,
                        "name": event.node,
                        "input": value,
                        "triggers": tuple(payload.get("triggers") or ()),
                        **({"metadata": dict(self._metadata)} if self._metadata else {}),
                    },
                )
            ]
        # (a task that ended after its step timed out, in a sync run: in LangGraph its thread
        # finished after the stream did, its writes saved but not streamed)
        if event.type == EventType.TASK_ENDED and payload.get("late"):
            return []
        if event.type == EventType.TASK_ENDED and not payload.get("cached"):
            writes = channel_writes_of(payload)
            update = payload.get("update")
            if isinstance(update, dict) and "writes" in payload and "return" not in payload:
                # as the node wrote them (a message as a dict, say), not as the state took them
                writes = {
                    name: [update[name]] if len(values) == 1 and name in update else values
                    for name, values in writes.items()
                }
            result = _folded_writes(writes)
            if isinstance(update, Command) and isinstance(update.update, dict):
                # as the node gave them, for the channels it wrote (a key that is no channel,
                # as every key but __root__ of a root-valued graph's, writes nothing)
                given = update.update
                result = {
                    k: given[k] if k in given and len(writes[k]) == 1 else v
                    for k, v in result.items()
                }
            elif is_return(payload) and not payload.get("entrypoint"):
                result = {RETURN: payload["return"]}  # a task call's (LangGraph's write)
            elif is_return(payload):
                result = {END: payload["return"]}  # an entrypoint's output, as streamed
            if self.shown_keys is not None and not ns:
                result = {k: v for k, v in result.items() if k in self.shown_keys}
            return [
                (
                    ns,
                    "task_result",
                    {
                        "id": event.task_id,
                        "name": event.node,
                        "error": None,
                        "result": result,
                        "interrupts": [],
                    },
                )
            ]
        # (a task a step timeout cancelled: its error is saved after the stream, in LangGraph)
        if event.type == EventType.TASK_FAILED and not (
            payload.get("retrying") or payload.get("cancelled")
        ):
            # (with the writes it made before it failed, when they are kept: see kept)
            result = _folded_writes(channel_writes_of(payload)) if kept(event) else {}
            if self.shown_keys is not None and not ns:
                result = {k: v for k, v in result.items() if k in self.shown_keys}
            return [
                (
                    ns,
                    "task_result",
                    {
                        "id": event.task_id,
                        "name": event.node,
                        "error": payload.get("error"),
                        "result": result,
                        "interrupts": [],
                    },
                )
            ]
        if event.type == EventType.INTERRUPT and payload.get("interrupts"):
            return [
                (
                    ns,
                    "task_result",
                    {
                        "id": event.task_id,
                        "name": event.node,
                        "error": None,
                        "result": {},
                        "interrupts": _interrupt_dicts(payload["interrupts"]),
                    },
                )
            ]
        return []


_CHECKPOINT_KEYS = frozenset(
    {"thread_id", "checkpoint_ns", "checkpoint_id", "checkpoint_map", "rewind_stream"}
)
"""``configurable`` keys a checkpoint's config sets itself (and rewind's server's own)."""


class CheckpointsMode:
    """``checkpoints``: each checkpoint as ``get_state`` would show it (needs a checkpointer)."""

    def __init__(
        self,
        fold: _Fold,
        *,
        thread_id: str,
        enabled: bool,
        parentless: bool = False,
        configurable: Mapping[str, Any] | None = None,
    ) -> None:
        self._fold = fold
        self._thread_id = thread_id
        # As LangGraph's: a checkpoint's config carries the run's whole configurable (rewind's
        # own key and the checkpoint's ids aside).
        self._configurable = {
            k: v for k, v in (configurable or {}).items() if k not in _CHECKPOINT_KEYS
        }
        self.enabled = enabled
        self._parentless = parentless  # durability "exit": LangGraph streams no parent
        self._parents: dict[str, dict[str, Any]] = {}
        # The checkpoint event made a chunk last, and it (see TasksMode: the debug mode's too).
        self._last: tuple[EventLike | None, list[tuple[tuple[str, ...], Any]]] = (None, [])

    def feed(self, event: EventLike) -> list[tuple[tuple[str, ...], Any]]:
        if not self.enabled or event.type != EventType.CHECKPOINT:
            return []
        if event.payload.get("unprepared"):  # the next step's tasks failed: never streamed
            return []
        last, chunks = self._last
        if event is last:
            return chunks
        ns = namespace(event.ns)
        chunks = [(ns, self.payload(event.payload, event.ns or "", self._fold.shown(ns), {}))]
        self._last = (event, chunks)
        return chunks

    def payload(
        self, p: Mapping[str, Any], ns: str, values: Any, done: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A checkpoint's chunk; ``done`` adds what its tasks left (results, errors...). Its
        metadata is the loop's (source, step, parents), as LangGraph streams it: the keys the
        run's config adds show in ``get_state``, not here."""
        stored = p.get("metadata") or {}
        metadata = {
            "source": stored.get("source", p["source"]),
            "step": stored.get("step", p["step"]),
            "parents": stored.get("parents", {}),
        }

        def config(checkpoint_id: str) -> dict[str, Any]:
            configurable: dict[str, Any] = {
                "checkpoint_ns": ns,
                "thread_id": self._thread_id,
                **self._configurable,
                "checkpoint_id": checkpoint_id,
            }
            if ns:
                configurable["checkpoint_map"] = {**metadata.get("parents", {}), ns: checkpoint_id}
            return {"configurable": configurable}

        parent = p.get("parent_id")
        first_of_ns = p["source"] == "input" and p["step"] == -1
        # (a next task marked ``waiting`` is in the state's next tasks, not the stream's: see
        # rewind.runtime.lowlevel.WaitingTask)
        ordered = [t for t in p["next"] if not t.get("waiting")]
        if len(ordered) > 1 and p["source"] != "update":  # (an update's: in node order)
            ordered = sorted(ordered, key=lambda t: announced_order(t["path"]))
        tasks = []
        for task in ordered:
            entry: dict[str, Any] = {"id": task["id"], "name": task["name"]}
            entry.update(done.get(task["id"], {}))
            if "error" not in entry:  # a failed task's entry has no interrupts, as LangGraph's
                entry.setdefault("interrupts", [])
            entry["state"] = None
            if task.get("subgraph"):
                child = (
                    f"{ns}|{task['name']}:{task['id']}" if ns else f"{task['name']}:{task['id']}"
                )
                entry["state"] = {
                    "configurable": {"thread_id": self._thread_id, "checkpoint_ns": child}
                }
            tasks.append(entry)
        return {
            "config": config(p["id"]),
            "parent_config": None
            if parent is None or first_of_ns or self._parentless
            else config(parent),
            "values": values,
            "metadata": metadata,
            "next": [t["name"] for t in ordered],
            "tasks": tasks,
        }


def _folded_writes(writes: Mapping[str, list[Any]]) -> dict[str, Any]:
    """A task's writes as LangGraph's ``tasks`` result shows them: a channel's value, or
    ``{"$writes": [...]}`` for a channel the task wrote more than once (a first write of
    ``None`` is replaced by the next, as LangGraph folds them)."""
    result: dict[str, Any] = {}
    for name, values in writes.items():
        for value in values:
            existing = result.get(name)
            if existing is None:
                result[name] = value
                continue
            multiple = isinstance(existing, dict) and isinstance(existing.get("$writes"), list)
            result[name] = {"$writes": [*(existing["$writes"] if multiple else [existing]), value]}
    return result


class DebugMode:
    """``debug``: the checkpoints and tasks streams, interleaved, with step and timestamp."""

    def __init__(self, tasks: TasksMode, checkpoints: CheckpointsMode) -> None:
        self._tasks = tasks
        self._checkpoints = checkpoints

    def feed(self, event: EventLike) -> list[tuple[tuple[str, ...], Any]]:
        step = getattr(event, "step", None)
        ts = getattr(event, "ts", None) or datetime.now(UTC)
        stamp = ts.isoformat()
        out: list[tuple[tuple[str, ...], Any]] = [
            (ns, {"step": step, "timestamp": stamp, "type": "checkpoint", "payload": chunk})
            for ns, chunk in self._checkpoints.feed(event)
        ]
        out += [
            (ns, {"step": step, "timestamp": stamp, "type": kind, "payload": chunk})
            for ns, kind, chunk in self._tasks.task_chunks(event)
        ]
        return out
