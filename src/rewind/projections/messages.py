"""The ``messages`` and ``tools`` stream modes: chat-model tokens as they stream, whole
messages of models that did not stream and of nodes' returns (each once, with LangGraph's
metadata), and tool calls as they start and finish."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.messages import AIMessageChunk, BaseMessage, ToolMessage

from rewind.events import EventType, fields_of
from rewind.projections.calls import bound_arguments, call_ns, is_return
from rewind.projections.modes import (
    EventLike,
    _Fold,
    namespace,
)
from rewind.types import Command

__all__ = ["MessagesMode", "ToolsMode"]

_CHAT_TOKEN = EventType.CHAT_TOKEN.value


class MessagesMode:
    """``messages``: chat-model tokens as they stream, whole messages of models that did not
    stream, and messages that nodes return; each once (by id), with LangGraph's metadata."""

    def __init__(
        self,
        fold: _Fold,
        *,
        metadata: Mapping[str, Any],
        tags: list[str] | None = None,
        subgraphs: bool = True,
        protocol: bool = False,
    ) -> None:
        self._fold = fold
        self._subgraphs = subgraphs
        self._protocol = protocol
        # Model calls whose content-block events were streamed (protocol mode): their whole
        # message is not shown again when they end.
        self._streamed: set[str] = set()
        self._run_meta = dict(metadata)
        self._tags = list(tags or [])
        self._seen: set[str] = set()
        self._models: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {}
        self._nodes: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {}
        # Per namespace and channel: the value whose messages were last noted, and its length.
        self._noted: dict[tuple[tuple[str, ...], str], tuple[Any, int]] = {}

    def feed(self, event: EventLike) -> list[tuple[tuple[str, ...], Any]]:
        if event.ns and not self._subgraphs:
            # Not streamed: a subgraph's messages show once, whole, when its node ends.
            return []
        kind = event.type
        if kind == _CHAT_TOKEN:  # the most frequent by far: first, in few steps
            return [(ns, chunk) for _, ns, chunk in self.token(event)]
        payload = fields_of(event.payload)  # none, for a payload redacted whole
        ns = namespace(event.ns)
        if kind == EventType.CHAT_EVENT:
            return self._protocol_event(payload) if self._protocol else []
        if kind == EventType.TASK_STARTED and event.node not in (None, "__start__"):
            if not (payload.get("cached") and "call" in payload):  # a call not run again
                self._node_started(event, ns, payload)
        elif kind == EventType.CHAT_STARTED:
            tags = list(payload.get("tags") or [])
            if "nostream" not in tags:
                meta = dict(payload.get("metadata") or {})
                user_tags = [t for t in tags if not _internal_tag(t)]
                if user_tags:
                    meta["tags"] = user_tags
                if "run_id" in payload:  # (not when the payload was redacted whole)
                    self._models[payload["run_id"]] = (ns, meta)
        elif kind == EventType.CHAT_ENDED:
            found = self._models.pop(payload.get("run_id", ""), None)
            generations = payload.get("generations") or []
            streamed = payload.get("run_id", "") in self._streamed
            self._streamed.discard(payload.get("run_id", ""))
            if found is not None and generations and generations[0]:
                message = generations[0][0]
                if isinstance(message, BaseMessage):
                    if streamed:  # its events were shown: only noted, as LangGraph's v2 handler
                        if message.id is None:
                            message.id = str(uuid.uuid4())
                        self._seen.add(message.id)
                        return []
                    return self._emit(found, message, dedupe=True)
        elif kind == EventType.TASK_ENDED and event.task_id in self._nodes:
            found = self._nodes.pop(event.task_id)
            if payload.get("late"):  # (ended after its step timed out: not streamed)
                return []
            update = payload["return"] if is_return(payload) else payload.get("update")
            if isinstance(update, Command):
                update = update.update
            messages = _messages_in(update)
            if self._protocol:  # tool results are not chat tokens in LangGraph's v3 streams
                messages = [m for m in messages if not isinstance(m, ToolMessage)]
            return [c for m in messages for c in self._emit(found, m, dedupe=True)]
        return []

    def _protocol_event(self, payload: Mapping[str, Any]) -> list[tuple[tuple[str, ...], Any]]:
        """A chat model's content-block event (``message-start``, ``content-block-delta``...)
        as LangGraph's v3 messages stream gives it: ``(event, metadata)``, the metadata with
        the model call's ``run_id`` (what ties the events of one message together)."""
        run_id = payload.get("run_id", "")
        found = self._models.get(run_id)
        event = payload.get("event")
        if found is None or not isinstance(event, dict):
            return []
        if event.get("event") == "message-start":
            self._streamed.add(run_id)
            if event.get("message_id"):
                self._seen.add(event["message_id"])
        ns, meta = found
        return [(ns, (event, {**meta, "run_id": run_id}))]

    def token(self, event: EventLike) -> list[tuple[str, tuple[str, ...], Any]]:
        """:meth:`feed` of a ``chat.token`` event, as the stream's ``(mode, ns, chunk)`` items:
        what a stream whose only reader of tokens is this mode takes, one call per token."""
        if (event.ns and not self._subgraphs) or self._protocol:
            return []  # (tokens of a protocol stream: a model called with .stream(), unshown)
        payload = event.payload
        if type(payload) is not dict:
            payload = fields_of(payload)  # none, for a payload redacted whole
        found = self._models.get(payload.get("run_id", ""))
        chunk = payload.get("chunk")
        if found is None or not isinstance(chunk, BaseMessage):
            return []
        message_id = chunk.id
        if message_id is None:
            message_id = chunk.id = str(uuid.uuid4())
        self._seen.add(message_id)
        ns, meta = found
        return [("messages", ns, (chunk, meta))]

    def delivering(self, deliver: Callable[[Any], None]) -> Callable[[EventLike], None]:
        """:meth:`token` for a stream that takes the root graph's chunks bare: each token's
        ``(chunk, metadata)`` handed to ``deliver`` at once, in one call per token (what the
        stream would hand it of :meth:`token`'s items: none of a subgraph's)."""
        chunk_token = self.delivering_chunks(deliver)

        def token(event: EventLike) -> None:
            payload = event.payload
            if type(payload) is not dict:
                payload = fields_of(payload)  # none, for a payload redacted whole
            chunk_token(payload.get("run_id", ""), payload.get("chunk"), event.ns)

        return token

    def delivering_chunks(self, deliver: Callable[[Any], None]) -> Callable[[str, Any, Any], None]:
        """:meth:`delivering` of a token given as the fields of its event the mode reads: its
        model call's run id, its chunk, its namespace (a recorder's token whose event need not
        be made: see :meth:`RunLog.record_chunk <rewind.runtime.runlog.RunLog.record_chunk>`)."""
        models, seen, subgraphs = self._models, self._seen, self._subgraphs

        def chunk_token(call: str, chunk: Any, ns: Any) -> None:
            if ns and not subgraphs:
                return
            found = models.get(call)
            if found is None or (
                type(chunk) is not AIMessageChunk and not isinstance(chunk, BaseMessage)
            ):  # (a chat model's chunk, mostly: pydantic's isinstance is a call of its own)
                return
            message_id = chunk.id
            if message_id is None:
                message_id = chunk.id = str(uuid.uuid4())
            seen.add(message_id)
            if not found[0]:
                deliver((chunk, found[1]))

        return chunk_token

    def _node_started(
        self, event: EventLike, ns: tuple[str, ...], payload: Mapping[str, Any]
    ) -> None:
        segment = f"{event.node}:{event.task_id}"
        caller = payload.get("call")  # a task call's namespace nests in its caller's
        meta = {
            **self._run_meta,
            "ls_integration": "langgraph",
            "langgraph_step": getattr(event, "step", None),
            "langgraph_node": event.node,
            "langgraph_triggers": tuple(payload.get("triggers") or ()),
            "langgraph_path": tuple(payload.get("path") or ()),
            "langgraph_checkpoint_ns": call_ns(caller, event.node, event.task_id)
            if caller is not None
            else "|".join((*ns, segment)),
        }
        if ns:  # LangChain's child config keeps the first namespace it was given
            meta["checkpoint_ns"] = ns[0]
        if self._tags:
            meta["tags"] = list(self._tags)
        self._nodes[event.task_id or ""] = (ns, meta)
        if caller is not None:
            arguments = bound_arguments(payload.get("arguments"), *payload["input"])
            self._note(_messages_in(arguments))
        elif "input" in payload:
            self._note(_messages_in(payload["input"]))
        else:
            self._note_state(ns)

    def _note(self, messages: list[BaseMessage]) -> None:
        self._seen.update(m.id for m in messages if m.id is not None)

    def _note_state(self, ns: tuple[str, ...]) -> None:
        """Note the messages of the state of ``ns`` (a node's input) as seen, looking again
        only at what changed since the last look (the state only grows between steps: looking
        at all of it at every step would cost the square of the run's length)."""
        for key, value in self._fold.values.get(ns, {}).items():
            noted = self._noted.get((ns, key))
            self._noted[ns, key] = (value, len(value) if isinstance(value, list) else 0)
            if noted is not None:
                if value is noted[0] and not isinstance(value, list):
                    continue
                value = _grown_by(value, *noted)
            if isinstance(value, BaseMessage):
                self._note([value])
            elif isinstance(value, list | tuple):
                self._note([v for v in value if isinstance(v, BaseMessage)])

    def _emit(
        self, found: tuple[tuple[str, ...], dict[str, Any]], message: BaseMessage, *, dedupe: bool
    ) -> list[tuple[tuple[str, ...], Any]]:
        if dedupe and message.id in self._seen:
            return []
        if message.id is None:
            message.id = str(uuid.uuid4())
        self._seen.add(message.id)
        ns, meta = found
        return [(ns, (message, meta))]


def _grown_by(value: Any, before: Any, length: int) -> Any:
    """What a list ``value`` adds to ``before`` (its first ``length`` items, as they were
    when noted), if it starts with them; else all of ``value``."""
    if not (isinstance(value, list) and isinstance(before, list) and len(value) >= length):
        return value
    try:  # the same objects: compared by identity, each in C
        same = value[:length] == before[:length]
    except Exception:  # an item's __eq__ that does not answer with a bool
        return value
    return value[length:] if same else value


def _internal_tag(tag: str) -> bool:
    return tag.startswith(("seq:step", "graph:step", "langsmith:")) or tag == "nostream"


def _messages_in(value: Any) -> list[BaseMessage]:
    if isinstance(value, BaseMessage):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, BaseMessage)]
    if isinstance(value, Mapping):
        out: list[BaseMessage] = []
        for item in value.values():
            if isinstance(item, BaseMessage):
                out.append(item)
            elif isinstance(item, list | tuple):
                out += [v for v in item if isinstance(v, BaseMessage)]
        return out
    return []


class ToolsMode:
    """``tools`` (LangGraph accepts it though its StreamMode type omits it): tool calls as they
    start and finish."""

    def __init__(self) -> None:
        self._calls: dict[str, Any] = {}

    def feed(self, event: EventLike) -> list[tuple[tuple[str, ...], Any]]:
        payload = fields_of(event.payload)
        ns = namespace(event.ns)
        if event.type == EventType.TOOL_STARTED:
            call_id = payload.get("tool_call_id")
            self._calls[payload.get("run_id", "")] = call_id
            return [
                (
                    ns,
                    {
                        "event": "tool-started",
                        "tool_call_id": call_id,
                        "tool_name": payload.get("name"),
                        "input": payload.get("input"),
                    },
                )
            ]
        if event.type == EventType.TOOL_DELTA:
            delta = {"event": "tool-output-delta", "tool_call_id": payload.get("tool_call_id")}
            return [(ns, {**delta, "delta": payload.get("delta")})]
        if event.type == EventType.TOOL_ENDED:
            call_id = self._calls.pop(payload.get("run_id", ""), None)
            if "error" in payload:
                return [
                    (
                        ns,
                        {"event": "tool-error", "tool_call_id": call_id, "error": payload["error"]},
                    )
                ]
            return [
                (
                    ns,
                    {
                        "event": "tool-finished",
                        "tool_call_id": call_id,
                        "output": payload.get("output"),
                    },
                )
            ]
        return []
