"""The span model: a run's events folded into span records, with no I/O.

One fold serves the live mirror (events fed as they are appended) and the post-hoc export (the
stored events fed in order), so both give the same spans. A span opens at an event and closes at a
later one; its id is derived from the run and the opening event's seq (:mod:`rewind.trace_ids`),
its parent is whatever the events say (the run span, the node that ran a subgraph, the callback
run a model was called from), never ambient context.

Shapes:

* ``invoke_workflow {graph}``: the run, from ``run.started`` to ``run.ended``;
* a node span per task (named after its node), from ``task.started`` to ``task.ended``, its final
  ``task.failed``, or its ``interrupt``; a subgraph's tasks nest under the task running it, a
  functional-API task call's under the task that called it (a call answered from the log on a
  resume did not run: it has no span);
* ``chat {model}`` from ``chat.started`` to ``chat.ended``; ``execute_tool {tool}`` from
  ``tool.started`` to ``tool.ended``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from rewind.events import EventType, StoredEvent
from rewind.projections.state import Expander, StateFold, resolve_state
from rewind.telemetry.content import ContentPolicy
from rewind.telemetry.genai import (
    as_mapping,
    chat_end_attributes,
    chat_start_attributes,
    model_name,
    put_value,
)
from rewind.telemetry.messages import field_of, genai_input, genai_output, is_message, readable
from rewind.trace_ids import caller_span_id, span_id_for, trace_id_for

__all__ = [
    "Origin",
    "RunSpans",
    "SpanEvent",
    "SpanKind",
    "SpanRecord",
    "SpanStatus",
    "build_spans",
    "origin_of",
    "origin_run_id",
    "SPAN_EVENT_TYPES",
]


class SpanKind(StrEnum):
    """The OTel span kinds rewind's spans use."""

    INTERNAL = "internal"
    CLIENT = "client"


class SpanStatus(StrEnum):
    """A span's status code."""

    UNSET = "unset"
    OK = "ok"
    ERROR = "error"


Attributes = dict[str, Any]
_OPENINFERENCE_KINDS = {"chat": "LLM", "execute_tool": "TOOL"}


@dataclass(frozen=True, kw_only=True, slots=True)
class SpanEvent:
    """Something that happened during a span (a checkpoint, an interrupt, an exception)."""

    name: str
    """The event's name (``checkpoint``, ``interrupt``, ``resume``, ``exception``)."""
    ts: datetime
    """When it happened (the log event's time)."""
    attributes: Attributes = field(default_factory=dict)
    """Its attributes."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Origin:
    """The span a run links to: the run it continues (a resumed thread) or forks from."""

    trace_id: int
    """The origin run's trace id."""
    span_id: int
    """The origin run's root span id."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SpanRecord:
    """One finished span, as the log says it happened."""

    name: str
    """The span name (``invoke_workflow {graph}``, a node name, ``chat {model}``, ...)."""
    trace_id: int
    """The run's trace id."""
    span_id: int
    """Derived from the run id and :attr:`seq`."""
    parent_id: int
    """The parent span's id, or 0 for a root span (one with no caller)."""
    kind: SpanKind
    """``client`` for model calls, ``internal`` otherwise."""
    start: datetime
    """The opening event's time."""
    end: datetime
    """The closing event's time."""
    attributes: Attributes
    """Its attributes (GenAI conventions, ``rewind.*``)."""
    events: tuple[SpanEvent, ...] = ()
    """Its span events, in log order."""
    status: SpanStatus = SpanStatus.UNSET
    """``error`` when what it covers failed."""
    status_message: str | None = None
    """For ``error``: the exception's type and message."""
    links: tuple[Origin, ...] = ()
    """Spans it links to (a continuation's origin run)."""
    run_id: str = ""
    """The run it belongs to."""
    seq: int = 0
    """The seq of the event that opened it."""


@dataclass(kw_only=True, slots=True)
class _Open:
    name: str
    span_id: int
    parent_id: int
    kind: SpanKind
    start: datetime
    seq: int
    attributes: Attributes
    events: list[SpanEvent] = field(default_factory=list)
    status: SpanStatus = SpanStatus.UNSET
    status_message: str | None = None
    links: tuple[Origin, ...] = ()


class RunSpans:
    """The span fold of one run: feed it the run's events in seq order, collect finished spans.

    Args:
        run_id: The run.
        content: What content goes on spans (off by default).
    """

    def __init__(
        self,
        run_id: str,
        *,
        content: ContentPolicy | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> None:
        self.run_id = run_id
        self.content = content or ContentPolicy()
        self.trace_id = trace_id_for(run_id)
        self.root_id = span_id_for(run_id, 0)
        self.thread_id: str | None = None
        self.next_seq = 0
        """The seq of the next event this fold expects."""
        self._before: set[Any] = set()  # ids of the messages the run was given or began with
        # With content on spans: the state each task was given, folded from the state the run
        # started from (``state``), so the messages chat calls name (events.StateSlice) show.
        self._state = StateFold(state, []) if self.content.enabled else None
        self._expander = Expander()
        self.ended = False
        """Whether ``run.ended`` was fed."""
        self._open: dict[int, _Open] = {}
        self._tasks: dict[tuple[str, str], int] = {}  # (ns, task_id) -> span id
        self._callbacks: dict[str, int] = {}  # LangChain callback run id -> span id

    # --- feeding ------------------------------------------------------------------------------

    def feed(self, event: StoredEvent, *, origin: Origin | None = None) -> list[SpanRecord]:
        """Fold one event; return the spans it closes.

        Args:
            event: The run's next event, in seq order (an event already fed is ignored; events
                of types the fold ignores, see :data:`SPAN_EVENT_TYPES`, may be left out).
            origin: For ``run.started`` of a run that continues or forks another: the span to
                link to.
        """
        if event.run_id != self.run_id:
            raise ValueError(f"event of run {event.run_id} fed to the spans of run {self.run_id}")
        if event.seq < self.next_seq:
            return []
        self.next_seq = event.seq + 1
        if self._state is not None and event.type in _FOLDED:
            self._state.feed(self._expander.expand(event))
        handler = _HANDLERS.get(event.type)
        if handler is None:
            return []
        return handler(self, event, origin)

    def close_all(self, ts: datetime) -> list[SpanRecord]:
        """Close every span still open at ``ts`` (children first)."""
        still = sorted(self._open.values(), key=lambda span: span.seq, reverse=True)
        return [self._close(span.span_id, ts) for span in still]

    # --- handlers -----------------------------------------------------------------------------

    def _run_started(self, event: StoredEvent, origin: Origin | None) -> list[SpanRecord]:
        payload = as_mapping(event.payload)
        context = payload.get("trace_context")
        self.trace_id = trace_id_for(self.run_id, context)
        self.thread_id = event.thread_id
        graph = str(payload.get("graph") or "graph")
        attributes: Attributes = {
            "gen_ai.operation.name": "invoke_workflow",
            "gen_ai.workflow.name": graph,
            "gen_ai.conversation.id": event.thread_id,
            "rewind.graph": graph,
            "rewind.thread_id": event.thread_id,
        }
        source = as_mapping(payload.get("origin"))
        if source.get("run_id"):
            attributes["rewind.origin.run_id"] = str(source["run_id"])
        if source.get("checkpoint_id"):
            attributes["rewind.origin.checkpoint_id"] = str(source["checkpoint_id"])
        if payload.get("durability"):
            attributes["rewind.durability"] = str(payload["durability"])
        given = payload.get("input")
        if self._state is not None:
            put_value(self.content, attributes, "input", readable(given))
            messages = _messages_in(given)
            if messages:
                self.content.put(attributes, "gen_ai.input.messages", genai_input(messages)[0])
            self._before = _ids(messages) | _ids(_messages_in(self._state.shown(())))
        self._opened(
            event,
            name=f"invoke_workflow {graph}",
            parent_id=caller_span_id(context),
            attributes=attributes,
            links=(origin,) if origin is not None else (),
        )
        return []

    def _run_ended(self, event: StoredEvent, _origin: Origin | None) -> list[SpanRecord]:
        self.ended = True
        payload = as_mapping(event.payload)
        status = str(payload.get("status") or "")
        root = self._open.get(self.root_id)
        if root is not None:
            root.attributes["rewind.run.status"] = status
            if self._state is not None and status != "error":
                self._workflow_output(root.attributes)
            if status == "error":
                error = as_mapping(payload.get("error"))
                self._fail(root, event, error.get("type"), error.get("message"), None)
        return self.close_all(event.ts)

    def _task_started(self, event: StoredEvent, _origin: Origin | None) -> list[SpanRecord]:
        payload = as_mapping(event.payload)
        node = str(payload.get("name") or event.node or "node")
        if node == "__start__":  # LangGraph's input step: its data is the run span's input
            return []
        attributes: Attributes = {
            "rewind.node": node,
            "rewind.task_id": event.task_id or "",
            "rewind.step": event.step if event.step is not None else -1,
        }
        path: Any = payload.get("path") or ()
        caller = payload.get("call")  # a functional-API task call: a child of its caller's span
        if caller is not None:
            if payload.get("cached"):  # answered from the log: it did not run
                return []
            attributes["rewind.task.caller_ns"] = str(caller)
        elif len(path) > 1 and path[0] == "__pregel_push":  # a Send: which one of its step
            attributes["rewind.task.send"] = path[1]
        if self.thread_id is not None:
            attributes["gen_ai.conversation.id"] = self.thread_id
        if event.ns:
            attributes["rewind.ns"] = event.ns
        if self._state is not None:  # a pull task is given the state (not logged again)
            given = payload["input"] if "input" in payload else self._state.shown(_ns(event))
            put_value(self.content, attributes, "input", readable(given))
        parent = self._owner(event.ns)
        if caller is not None:
            parent = self._tasks.get((event.ns or "", str(caller).rpartition(":")[2]), parent)
        span_id = self._opened(event, name=node, parent_id=parent, attributes=attributes)
        self._tasks[(event.ns or "", event.task_id or "")] = span_id
        if payload.get("run_id"):
            self._callbacks[str(payload["run_id"])] = span_id
        return []

    def _task_ended(self, event: StoredEvent, _origin: Origin | None) -> list[SpanRecord]:
        span = self._open.get(self._task_span(event))
        if span is None:
            return []
        payload = as_mapping(event.payload)
        if payload.get("cached"):
            span.attributes["rewind.task.cached"] = True
        output = payload["return"] if "return" in payload else payload.get("update")
        put_value(self.content, span.attributes, "output", readable(output))
        return [self._close(span.span_id, event.ts)]

    def _task_failed(self, event: StoredEvent, _origin: Origin | None) -> list[SpanRecord]:
        span = self._open.get(self._task_span(event))
        if span is None:
            return []
        payload = as_mapping(event.payload)
        attempt = int(payload.get("attempt") or 1)
        span.attributes["rewind.task.attempts"] = attempt
        retrying = bool(payload.get("retrying"))
        extra = {"rewind.attempt": attempt, "rewind.retrying": retrying, "rewind.seq": event.seq}
        if retrying:  # visible as an exception event; the span goes on with the next attempt
            span.events.append(_exception(event, payload, extra))
            return []
        self._fail(span, event, payload.get("type"), payload.get("message"), payload, extra)
        return [self._close(span.span_id, event.ts)]

    def _interrupt(self, event: StoredEvent, _origin: Origin | None) -> list[SpanRecord]:
        payload = as_mapping(event.payload)
        interrupts = payload.get("interrupts") or []
        attributes: Attributes = {
            "rewind.seq": event.seq,
            "rewind.interrupt.ids": [str(getattr(i, "id", "")) for i in interrupts],
        }
        if payload.get("static"):
            attributes["rewind.interrupt.static"] = str(payload["static"])
        if self.content.enabled and interrupts:
            self.content.put(
                attributes, "rewind.interrupt.values", [getattr(i, "value", i) for i in interrupts]
            )
        span = self._open.get(self._task_span(event) if event.task_id else self._owner(event.ns))
        if span is None:
            return []
        span.events.append(SpanEvent(name="interrupt", ts=event.ts, attributes=attributes))
        if event.task_id:  # the task stops here, until a later run resumes it
            span.attributes["rewind.task.interrupted"] = True
            return [self._close(span.span_id, event.ts)]
        return []

    def _resume(self, event: StoredEvent, _origin: Origin | None) -> list[SpanRecord]:
        payload = as_mapping(event.payload)
        attributes: Attributes = {
            "rewind.seq": event.seq,
            "rewind.checkpoint_id": str(payload.get("checkpoint_id") or ""),
        }
        self.content.put(attributes, "rewind.resume.values", payload.get("values"))
        self._add_event(
            self._owner(event.ns), SpanEvent(name="resume", ts=event.ts, attributes=attributes)
        )
        return []

    def _checkpoint(self, event: StoredEvent, _origin: Origin | None) -> list[SpanRecord]:
        payload = as_mapping(event.payload)
        attributes: Attributes = {
            "rewind.seq": event.seq,
            "rewind.checkpoint_id": str(payload.get("id") or ""),
            "rewind.step": event.step if event.step is not None else -1,
        }
        self._add_event(
            self._owner(event.ns), SpanEvent(name="checkpoint", ts=event.ts, attributes=attributes)
        )
        return []

    def _store_write(self, event: StoredEvent, _origin: Origin | None) -> list[SpanRecord]:
        """A long-term memory write: an event of the span of the task that made it."""
        payload = as_mapping(event.payload)
        attributes: Attributes = {
            "rewind.seq": event.seq,
            "rewind.store.namespace": [str(n) for n in payload.get("namespace") or ()],
            "rewind.store.key": str(payload.get("key")),
            "rewind.store.deleted": payload.get("value") is None,
        }
        if payload.get("value") is not None:
            self.content.put(attributes, "rewind.store.value", payload["value"])
        owner = self._task_span(event) if event.task_id else None
        self._add_event(
            owner or self._owner(event.ns),
            SpanEvent(name="store.write", ts=event.ts, attributes=attributes),
        )
        return []

    def _chat_started(self, event: StoredEvent, _origin: Origin | None) -> list[SpanRecord]:
        payload = as_mapping(event.payload)
        if self._state is not None and "messages" in payload:
            values = self._state.state(_ns(event))
            payload = {**payload, "messages": resolve_state(payload["messages"], values)}
        attributes = chat_start_attributes(payload, self.content)
        if self.thread_id is not None:
            attributes["gen_ai.conversation.id"] = self.thread_id
        span_id = self._opened(
            event,
            name=f"chat {model_name(payload) or 'model'}",
            parent_id=self._caller(event, payload),
            attributes=attributes,
            kind=SpanKind.CLIENT,
        )
        self._callbacks[str(payload.get("run_id"))] = span_id
        return []

    def _chat_ended(self, event: StoredEvent, _origin: Origin | None) -> list[SpanRecord]:
        payload = as_mapping(event.payload)
        span = self._call_span(payload)
        if span is None:
            return []
        span.attributes.update(chat_end_attributes(payload, self.content))
        error = as_mapping(payload.get("error"))
        if error:
            self._fail(span, event, error.get("type"), error.get("message"), None)
        return [self._close(span.span_id, event.ts)]

    def _tool_started(self, event: StoredEvent, _origin: Origin | None) -> list[SpanRecord]:
        payload = as_mapping(event.payload)
        tool = str(payload.get("name") or "tool")
        attributes: Attributes = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": tool,
            "gen_ai.tool.type": "function",
        }
        if payload.get("tool_call_id"):
            attributes["gen_ai.tool.call.id"] = str(payload["tool_call_id"])
        if self.thread_id is not None:
            attributes["gen_ai.conversation.id"] = self.thread_id
        if self.content.enabled:
            arguments = _tool_arguments(payload.get("input"))
            self.content.put(attributes, "gen_ai.tool.call.arguments", arguments)
            put_value(self.content, attributes, "input", arguments)
        span_id = self._opened(
            event,
            name=f"execute_tool {tool}",
            parent_id=self._caller(event, payload),
            attributes=attributes,
        )
        self._callbacks[str(payload.get("run_id"))] = span_id
        return []

    def _tool_ended(self, event: StoredEvent, _origin: Origin | None) -> list[SpanRecord]:
        payload = as_mapping(event.payload)
        span = self._call_span(payload)
        if span is None:
            return []
        error = as_mapping(payload.get("error"))
        if error:
            self._fail(span, event, error.get("type"), error.get("message"), None)
        else:
            self.content.put(span.attributes, "gen_ai.tool.call.result", _tool_result(payload))
        return [self._close(span.span_id, event.ts)]

    # --- helpers ------------------------------------------------------------------------------

    def _workflow_output(self, attributes: Attributes) -> None:
        """The run's output on its span: the state it ended with (what ``invoke`` returns),
        and as the GenAI output message, its last message, if the run added it."""
        assert self._state is not None
        final = self._state.shown(())
        put_value(self.content, attributes, "output", readable(final))
        messages = _messages_in(final)
        if messages and _id(messages[-1]) not in self._before:
            self.content.put(attributes, "gen_ai.output.messages", [genai_output(messages[-1])])

    def _opened(
        self,
        event: StoredEvent,
        *,
        name: str,
        parent_id: int,
        attributes: Attributes,
        kind: SpanKind = SpanKind.INTERNAL,
        links: tuple[Origin, ...] = (),
    ) -> int:
        span_id = span_id_for(self.run_id, event.seq)
        attributes["rewind.run_id"] = self.run_id
        attributes["rewind.seq"] = event.seq
        # The OpenInference kind, which Phoenix and Arize show spans by (GenAI has no such key).
        operation = str(attributes.get("gen_ai.operation.name"))
        attributes["openinference.span.kind"] = _OPENINFERENCE_KINDS.get(operation, "CHAIN")
        self._open[span_id] = _Open(
            name=name,
            span_id=span_id,
            parent_id=parent_id,
            kind=kind,
            start=event.ts,
            seq=event.seq,
            attributes=attributes,
            links=links,
        )
        return span_id

    def _close(self, span_id: int, ts: datetime) -> SpanRecord:
        span = self._open.pop(span_id)
        return SpanRecord(
            name=span.name,
            trace_id=self.trace_id,
            span_id=span.span_id,
            parent_id=span.parent_id,
            kind=span.kind,
            start=span.start,
            end=max(ts, span.start),
            attributes=span.attributes,
            events=tuple(span.events),
            status=span.status,
            status_message=span.status_message,
            links=span.links,
            run_id=self.run_id,
            seq=span.seq,
        )

    def _owner(self, ns: str | None) -> int:
        """The span a (sub)graph namespace's events belong to: the run, or the running task."""
        if not ns:
            return self.root_id
        parent, _, segment = ns.rpartition("|")
        if segment.isdigit():  # a task's second graph and later: ``|n`` after its segment
            parent, _, segment = parent.rpartition("|")
        task_id = segment.rpartition(":")[2]
        return self._tasks.get((parent, task_id), self.root_id)

    def _task_span(self, event: StoredEvent) -> int:
        return self._tasks.get((event.ns or "", event.task_id or ""), 0)

    def _call_span(self, payload: Mapping[str, Any]) -> _Open | None:
        """The open span of the model or tool call an end event's ``run_id`` names."""
        return self._open.get(self._callbacks.get(str(payload.get("run_id")), 0))

    def _caller(self, event: StoredEvent, payload: Mapping[str, Any]) -> int:
        """A model's or tool's parent: the callback run it was called from, else its task."""
        parent = self._callbacks.get(str(payload.get("parent_run_id")))
        if parent is not None:
            return parent
        return self._task_span(event) or self._owner(event.ns)

    def _add_event(self, span_id: int, span_event: SpanEvent) -> None:
        span = self._open.get(span_id) or self._open.get(self.root_id)
        if span is not None:
            span.events.append(span_event)

    def _fail(
        self,
        span: _Open,
        event: StoredEvent,
        type_: Any,
        message: Any,
        payload: Mapping[str, Any] | None,
        extra: Attributes | None = None,
    ) -> None:
        span.status = SpanStatus.ERROR
        span.status_message = f"{type_ or 'Error'}: {message or ''}".rstrip(": ")
        details = payload or {"type": type_, "message": message}
        span.events.append(_exception(event, details, {"rewind.seq": event.seq, **(extra or {})}))


def _exception(event: StoredEvent, payload: Mapping[str, Any], extra: Attributes) -> SpanEvent:
    attributes: Attributes = {
        "exception.type": str(payload.get("type") or "Error"),
        "exception.message": str(payload.get("message") or ""),
        **extra,
    }
    if payload.get("traceback"):
        attributes["exception.stacktrace"] = str(payload["traceback"])
    return SpanEvent(name="exception", ts=event.ts, attributes=attributes)


def _ns(event: StoredEvent) -> tuple[str, ...]:
    return tuple(event.ns.split("|")) if event.ns else ()


def _messages_in(value: Any) -> list[Any]:
    """The chat messages of a state or input: its ``messages`` value, or it, if a list of them."""
    if isinstance(value, Mapping):
        value = value.get("messages")
    elif not isinstance(value, list):
        value = getattr(value, "messages", None)
    if isinstance(value, list) and value and all(is_message(m) for m in value):
        return value
    return []


def _id(message: Any) -> Any:
    return field_of(message, "id") or None


def _ids(messages: list[Any]) -> set[Any]:
    return {i for i in map(_id, messages) if i}


def _tool_arguments(given: Any) -> Any:
    """What a tool was called with: its arguments (a model's tool call gives them with its id
    and name; a string of JSON is read as the object it is)."""
    if isinstance(given, Mapping) and given.get("type") == "tool_call" and "args" in given:
        return given["args"]
    if isinstance(given, str):
        try:
            return json.loads(given)
        except ValueError:
            return given
    return given


def _tool_result(payload: Mapping[str, Any]) -> Any:
    """What a tool returned: the content of the tool message LangChain wraps it in (its
    artifact beside it, if any), else the output as it is."""
    output = payload.get("output")
    if is_message(output):
        content = field_of(output, "content")
        artifact = field_of(output, "artifact")
        return content if artifact is None else {"content": content, "artifact": artifact}
    return output


_HANDLERS = {
    EventType.RUN_STARTED.value: RunSpans._run_started,
    EventType.RUN_ENDED.value: RunSpans._run_ended,
    EventType.TASK_STARTED.value: RunSpans._task_started,
    EventType.TASK_ENDED.value: RunSpans._task_ended,
    EventType.TASK_FAILED.value: RunSpans._task_failed,
    EventType.INTERRUPT.value: RunSpans._interrupt,
    EventType.RESUME.value: RunSpans._resume,
    EventType.CHECKPOINT.value: RunSpans._checkpoint,
    EventType.CHAT_STARTED.value: RunSpans._chat_started,
    EventType.CHAT_ENDED.value: RunSpans._chat_ended,
    EventType.TOOL_STARTED.value: RunSpans._tool_started,
    EventType.TOOL_ENDED.value: RunSpans._tool_ended,
    EventType.STORE_WRITE.value: RunSpans._store_write,
}


_FOLDED = frozenset({EventType.CHECKPOINT.value, EventType.TASK_ENDED.value})
"""The events the state is folded from (both among the span event types)."""

SPAN_EVENT_TYPES = frozenset(_HANDLERS)
"""The event types spans are built from (a reader may leave the others out)."""


def build_spans(
    events: Iterable[StoredEvent],
    *,
    origin: Origin | None = None,
    content: ContentPolicy | None = None,
    close_open: bool = False,
    state: Mapping[str, Any] | None = None,
) -> list[SpanRecord]:
    """The spans of one run's stored events, in the order they close.

    Args:
        events: The run's events in seq order, from ``run.started``.
        origin: The span the run links to (see :meth:`RunSpans.feed`).
        content: What content goes on spans (off by default).
        state: The state the run started from (its chat calls' input names its messages).
        close_open: Close the spans a run that has not ended still has open, at its last
            event's time (otherwise they are left out until it ends).
    """
    spans: list[SpanRecord] = []
    fold: RunSpans | None = None
    last: StoredEvent | None = None
    for event in events:
        if fold is None:
            fold = RunSpans(event.run_id, content=content, state=state)
        spans += fold.feed(event, origin=origin)
        last = event
    if fold is not None and close_open and not fold.ended and last is not None:
        spans += fold.close_all(last.ts)
    return spans


def origin_of(start: StoredEvent) -> Origin:
    """The span a run continuing (or forking) the run of ``start`` links to: its root span."""
    context = as_mapping(start.payload).get("trace_context")
    return Origin(
        trace_id=trace_id_for(start.run_id, context), span_id=span_id_for(start.run_id, 0)
    )


def origin_run_id(event: StoredEvent) -> str | None:
    """For a ``run.started`` event, the run it continues or forks, if any."""
    if event.type != EventType.RUN_STARTED:
        return None
    source = as_mapping(as_mapping(event.payload).get("origin"))
    run_id = source.get("run_id")
    return str(run_id) if run_id else None
