"""The thread protocol's events (``POST /threads/{thread_id}/stream/events``), made from the log
as LangGraph's server makes them from its runs' streams.

:class:`ThreadEvents` folds a thread's log events, in log order, into protocol events
``{"type": "event", "event_id", "seq", "method", "params": {"namespace", "timestamp", "data"}}``.
``seq`` counts every event made for the thread (whatever a connection's filter keeps), so a
reconnecting client's ``since`` means the same thing on any connection. Each run's events go
through the projections of :mod:`.stream` (``values``, ``updates``, ``messages-tuple`` and
``tasks``, subgraphs included) and come out as LangGraph's server shows them:

- ``lifecycle``: ``running`` when a run starts; ``started`` for a subgraph when its first task
  starts, ``completed`` once its parent's node ended; the run's end (``completed``, ``failed``
  with the error's message, ``interrupted``);
- ``values``: the state after each step (messages in the protocol's form,
  :mod:`.protocol_state`), not an empty one;
- ``input.requested``: each interrupt (``interrupt_id``, ``payload``), then the run's
  ``interrupted`` lifecycle, then the state it stopped in;
- ``messages``: a chat model's streamed tokens as content-block events (``message-start``,
  ``content-block-start``, ``content-block-delta``..., ``content-block-finish``,
  ``message-finish``); the messages a node returns whole are not shown (they are in ``values``).

Updates, tasks and custom events make none (nor do they on LangGraph's server without stream
transformers). Ids: an event made from a log event is ``{position}-0`` (``.{n}`` after the
first), one the session makes up ``synth:{run_id}:...`` as LangGraph's server names it; the
same log gives the same ids on every connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rewind.events import EventType, StoredEvent
from rewind.log import EventLog
from rewind.server.protocol_state import state_payload
from rewind.server.stream import RunProjection
from rewind.server.wire import jsonable

__all__ = ["CHANNELS", "EventFilter", "ThreadEvents", "supported_channel"]

CHANNELS: frozenset[str] = frozenset(
    {"values", "updates", "checkpoints", "messages", "tools", "custom", "lifecycle", "input"}
    | {"tasks"}
)
"""The channels a subscription may name (and ``custom:<name>``)."""

_MODES = ("values", "updates", "messages-tuple", "tasks")
_LIFECYCLE_OF = {
    "success": "completed",
    "interrupted": "interrupted",
    "error": "failed",
    "cancelled": "interrupted",
}


def supported_channel(value: str) -> bool:
    """Whether ``value`` is a channel of the protocol."""
    return value in CHANNELS or (value.startswith("custom:") and len(value) > len("custom:"))


def _key(namespace: list[str]) -> str:
    return "\0".join(namespace)


def _bare(segment: str) -> str:
    return segment.split(":")[0]


def _prefix_of(namespace: list[str], prefix: list[str]) -> bool:
    """Whether ``namespace`` starts with ``prefix`` (a segment without ``:`` matches a
    segment's name whatever its task id)."""
    if len(prefix) > len(namespace):
        return False
    for want, have in zip(prefix, namespace, strict=False):
        if have == want:
            continue
        if ":" in want or _bare(have) != want:
            return False
    return True


def _graph_name(namespace: list[str]) -> str:
    return _bare(namespace[-1]) if namespace else "root"


@dataclass
class EventFilter:
    """What one connection (or subscription) wants: channels, namespaces, depth."""

    channels: set[str]
    namespaces: list[list[str]] | None = None
    depth: int | None = None

    def matches(self, event: dict[str, Any]) -> bool:
        method = str(event.get("method", ""))
        channel = "input" if method == "input.requested" else method
        if not supported_channel(channel):
            return False
        params = event.get("params") or {}
        if channel == "custom":
            data = params.get("data")
            name = data.get("name") if isinstance(data, dict) else None
            if "custom" not in self.channels and (
                name is None or f"custom:{name}" not in self.channels
            ):
                return False
        elif channel not in self.channels:
            return False
        if not self.namespaces:
            return True
        namespace = params.get("namespace") or []
        return any(
            _prefix_of(namespace, prefix)
            and (self.depth is None or len(namespace) - len(prefix) <= self.depth)
            for prefix in self.namespaces
        )


@dataclass
class _Namespace:
    namespace: list[str]
    status: str
    graph_name: str


@dataclass
class _Run:
    """One run's protocol session: what it has shown so far."""

    run_id: str
    graph_name: str
    projection: RunProjection
    namespaces: dict[str, _Namespace] = field(default_factory=dict)
    started: set[str] = field(default_factory=set)
    interrupts: dict[str, list[str]] = field(default_factory=dict)
    messages: dict[str, tuple[list[str], str]] = field(default_factory=dict)
    ended: bool = False


class ThreadEvents:
    """A thread's protocol events, from its log events fed in log order."""

    def __init__(self) -> None:
        self.seq = 0
        self._runs: dict[str, _Run] = {}
        self._out: list[dict[str, Any]] = []
        self._source: tuple[int, int] | None = None  # (position, events made from it)
        self._ms = 0

    async def feed(self, event: StoredEvent, log: EventLog) -> list[dict[str, Any]]:
        """The protocol events one log event of the thread makes."""
        self._out = []
        self._source = (event.position, 0)
        self._ms = int(event.ts.timestamp() * 1000)
        if event.type == EventType.RUN_STARTED:
            payload = event.payload or {}
            if "update" in payload:  # a state update, recorded as a run: no stream
                return []
            projection = RunProjection(event.run_id, _MODES, subgraphs=True)
            await projection.prepare(log)
            configurable = (payload.get("config") or {}).get("configurable") or {}
            graph = configurable.get("graph_id")
            name = graph if isinstance(graph, str) else str(configurable.get("assistant_id"))
            begun = _Run(event.run_id, name, projection)
            self._runs[event.run_id] = begun
            self._set(begun, [], "running", name)
            running = {"event": "running", "graph_name": name}
            self._push("lifecycle", [], running, synth=(begun, "lc", "", "running"))
        run = self._runs.get(event.run_id)
        if run is None:
            return []
        for _, name, data in run.projection.feed(event):
            method, *namespace = name.split("|")
            self._item(run, method, namespace, jsonable(data))
        if event.type == EventType.RUN_ENDED:
            status = str((event.payload or {}).get("status"))
            self._end(run, _LIFECYCLE_OF.get(status, "completed"))
            del self._runs[event.run_id]
        return self._out

    # --- one projected item ----------------------------------------------------------------

    def _item(self, run: _Run, method: str, namespace: list[str], data: Any) -> None:
        if method == "error":
            message = data.get("message") if isinstance(data, dict) else None
            run.ended = True
            self._lifecycle(run, [], "failed", error=str(message or data))
            return
        if method == "messages":
            self._message(run, namespace, data)
            return
        if method == "metadata":
            return
        self._register(run, namespace)
        if method == "tasks":
            if namespace and isinstance(data, dict) and "input" in data:
                self._subgraph_started(run, namespace)
        elif method == "values":
            self._interrupts(run, namespace, data)
            cleaned = state_payload(data)
            if not isinstance(cleaned, dict) or cleaned:
                self._push("values", namespace, cleaned)
        elif method == "updates":
            self._finish_messages(run, namespace)
            if isinstance(data, dict) and len(data) == 1:
                node = next(iter(data))
                if node == "__interrupt__":
                    self._interrupts(run, namespace, data)
                else:
                    self._child_completed(run, namespace, node)

    def _interrupts(self, run: _Run, namespace: list[str], data: Any) -> None:
        found = data.get("__interrupt__") if isinstance(data, dict) else None
        shown = False
        for entry in found if isinstance(found, list) else []:
            interrupt_id = entry.get("id") if isinstance(entry, dict) else None
            if not isinstance(interrupt_id, str) or interrupt_id in run.interrupts:
                continue
            run.interrupts[interrupt_id] = list(namespace)
            request: dict[str, Any] = {"interrupt_id": interrupt_id}
            if "value" in entry:
                request["payload"] = entry["value"]
            self._push(
                "input.requested",
                namespace,
                request,
                synth=(run, "input", _key(namespace), interrupt_id),
            )
            shown = True
        if shown:
            self._lifecycle(run, [], "interrupted")
            run.ended = True

    def _message(self, run: _Run, namespace: list[str], data: Any) -> None:
        message = data[0] if isinstance(data, list) and data else None
        if not isinstance(message, dict) or message.get("type") != "AIMessageChunk":
            return  # a message a node returned whole: in the state, not streamed
        if namespace:
            self._register(run, namespace)
        message_id = str(message.get("id") or "")
        if message_id not in run.messages:
            run.messages[message_id] = (list(namespace), "")
            start = {"event": "message-start", "role": "ai", "id": message_id}
            self._push("messages", namespace, start)
            block = {"event": "content-block-start", "index": 0}
            self._push("messages", namespace, {**block, "content": {"type": "text", "text": ""}})
        text = message.get("content")
        if isinstance(text, str) and text:
            ns, so_far = run.messages[message_id]
            run.messages[message_id] = (ns, so_far + text)
            delta = {"type": "text-delta", "text": text}
            self._push(
                "messages",
                namespace,
                {"event": "content-block-delta", "index": 0, "delta": delta},
            )
        if message.get("chunk_position") == "last":
            self._finish_message(run, message_id)

    def _finish_message(self, run: _Run, message_id: str) -> None:
        namespace, text = run.messages.pop(message_id)
        content = {"type": "text", "text": text}
        self._push(
            "messages",
            namespace,
            {"event": "content-block-finish", "index": 0, "content": content},
        )
        self._push("messages", namespace, {"event": "message-finish"})

    def _finish_messages(self, run: _Run, namespace: list[str]) -> None:
        for message_id, (ns, _) in list(run.messages.items()):
            if ns == namespace:
                self._finish_message(run, message_id)

    # --- namespaces and lifecycle ------------------------------------------------------------

    def _set(self, run: _Run, namespace: list[str], status: str, name: str | None) -> None:
        known = run.namespaces.get(_key(namespace))
        run.namespaces[_key(namespace)] = _Namespace(
            list(namespace),
            status,
            name
            or (known.graph_name if known else None)
            or (run.graph_name if not namespace else _graph_name(namespace)),
        )

    def _register(self, run: _Run, namespace: list[str]) -> None:
        """Each prefix of ``namespace`` is known as started (no event for it)."""
        for length in range(1, len(namespace) + 1):
            known = run.namespaces.get(_key(namespace[:length]))
            if known is None or known.status != "started":
                self._set(run, namespace[:length], "started", None)

    def _subgraph_started(self, run: _Run, namespace: list[str]) -> None:
        key = _key(namespace)
        if key in run.started:
            return
        run.started.add(key)
        name = _graph_name(namespace)
        self._set(run, namespace, "started", name)
        _, _, call_id = namespace[-1].partition(":")
        data = {
            "event": "started",
            "namespace": list(namespace),
            "graph_name": name,
            "trigger_call_id": call_id,
        }
        self._push("lifecycle", namespace, data)

    def _child_completed(self, run: _Run, parent: list[str], node: str) -> None:
        """A node of ``parent`` ended: the oldest open subgraph it ran completed."""
        if not node or node.startswith("__"):
            return
        for known in list(run.namespaces.values()):
            ns = known.namespace
            if len(ns) != len(parent) + 1 or known.status != "started" or ns[:-1] != parent:
                continue
            if ns[-1] == node or ns[-1].startswith(f"{node}:"):
                self._lifecycle(run, ns, "completed", name=known.graph_name)
                return

    def _end(self, run: _Run, status: str) -> None:
        for message_id in list(run.messages):
            self._finish_message(run, message_id)
        if run.ended:
            return
        run.ended = True
        stale = [k for k in run.namespaces.values() if k.namespace and k.status == "started"]
        for known in sorted(stale, key=lambda k: len(k.namespace), reverse=True):
            if run.namespaces[_key(known.namespace)].status == "started":
                self._lifecycle(run, known.namespace, "completed", name=known.graph_name)
        self._lifecycle(run, [], status, name=run.graph_name)

    def _lifecycle(
        self,
        run: _Run,
        namespace: list[str],
        status: str,
        *,
        name: str | None = None,
        error: str | None = None,
    ) -> None:
        key = _key(namespace)
        if namespace and key not in run.namespaces:
            self._register(run, namespace)
        known = run.namespaces.get(key)
        name = (
            name
            or (known.graph_name if known else None)
            or (run.graph_name if not namespace else _graph_name(namespace))
        )
        if known is not None and (known.status, known.graph_name) == (status, name) and not error:
            return
        self._set(run, namespace, status, name)
        data: dict[str, Any] = {"event": status, "graph_name": name}
        if error is not None:
            data["error"] = error
        self._push("lifecycle", namespace, data, synth=(run, "lc", key, status))

    # --- making events -----------------------------------------------------------------------

    def _push(
        self,
        method: str,
        namespace: list[str],
        data: Any,
        *,
        synth: tuple[_Run, str, str, str] | None = None,
    ) -> None:
        self.seq += 1
        if synth is not None:
            run, *parts = synth
            event_id = f"synth:{run.run_id}:{'|'.join(parts)}"
        else:
            assert self._source is not None
            position, made = self._source
            self._source = (position, made + 1)
            event_id = f"{position}-0" if made == 0 else f"{position}-0.{made}"
        self._out.append(
            {
                "type": "event",
                "event_id": event_id,
                "seq": self.seq,
                "method": method,
                "params": {"namespace": list(namespace), "timestamp": self._ms, "data": data},
            }
        )
