"""The built-in transformers of v3 run streams (LangGraph's ``langgraph.stream.transformers``).

Always registered: ``values`` (the state after each step), ``messages`` (one
``ChatModelStream`` per chat-model call), ``lifecycle`` and ``subgraphs``
(:mod:`._lifecycle`). Registered on request (``compile(transformers=[...])`` or
``stream_events(..., transformers=[...])``): ``updates``, ``custom``, ``checkpoints``,
``debug`` and ``tasks``, each the stream mode of that name. Every one reads the events of its
run stream's own scope only: a subgraph's are read on its handle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, cast

from langchain_core.language_models._compat_bridge import message_to_events
from langchain_core.language_models.chat_model_stream import (
    AsyncChatModelStream,
    ChatModelStream,
)
from langchain_core.messages import AIMessageChunk, BaseMessage, ToolMessage

from rewind.stream._lifecycle import (
    LifecyclePayload,
    LifecycleTransformer,
    SubgraphStatus,
    SubgraphTransformer,
)
from rewind.stream._types import ProtocolEvent, StreamTransformer
from rewind.stream.stream_channel import StreamChannel

__all__ = [
    "CheckpointsTransformer",
    "CustomTransformer",
    "DebugTransformer",
    "LifecyclePayload",
    "LifecycleTransformer",
    "MessagesTransformer",
    "SubgraphStatus",
    "SubgraphTransformer",
    "TasksTransformer",
    "UpdatesTransformer",
    "ValuesTransformer",
]

_ModelStream = ChatModelStream | AsyncChatModelStream


class _ModeTransformer(StreamTransformer):
    """A projection of one stream mode's data, as it comes, at the transformer's scope."""

    _native = True
    mode: ClassVar[str]

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._log: StreamChannel[Any] = StreamChannel()
        self._scope_list: list[str] = list(scope)

    def init(self) -> dict[str, Any]:
        return {self.mode: self._log}

    def _ours(self, event: ProtocolEvent) -> bool:
        return event["method"] == self.mode and event["params"]["namespace"] == self._scope_list

    def process(self, event: ProtocolEvent) -> bool:
        if self._ours(event):
            self._log.push(event["params"]["data"])
        return True


class ValuesTransformer(_ModeTransformer):
    """``run.values``: the state after each step (``output`` and ``interrupts`` are kept by
    the run stream itself, whatever is registered)."""

    mode = "values"
    required_stream_modes = ("values",)

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._latest: dict[str, Any] | None = None
        self._interrupted = False
        self._interrupts: list[Any] = []

    @property
    def error(self) -> BaseException | None:
        """The error the run ended with (``None``: none, or not ended)."""
        return self._log._error

    def process(self, event: ProtocolEvent) -> bool:
        if self._ours(event):
            params = event["params"]
            self._latest = params["data"]
            if interrupts := params.get("interrupts", ()):
                self._interrupted = True
                self._interrupts.extend(interrupts)
            self._log.push(params["data"])
        return True


class CustomTransformer(_ModeTransformer):
    """``run.custom``: what nodes wrote with ``get_stream_writer()``."""

    mode = "custom"
    required_stream_modes = ("custom",)


class UpdatesTransformer(_ModeTransformer):
    """``run.updates``: each step's ``{node: update}``."""

    mode = "updates"
    required_stream_modes = ("updates",)


class CheckpointsTransformer(_ModeTransformer):
    """``run.checkpoints``: each checkpoint, as ``get_state`` shows it (none without a
    checkpointer)."""

    mode = "checkpoints"
    required_stream_modes = ("checkpoints",)


class DebugTransformer(_ModeTransformer):
    """``run.debug``: the ``debug`` mode's checkpoints, tasks and task results."""

    mode = "debug"
    required_stream_modes = ("debug",)


class TasksTransformer(_ModeTransformer):
    """``run.tasks``: each task's start and result, raw."""

    mode = "tasks"
    required_stream_modes = ("tasks",)


class MessagesTransformer(StreamTransformer):
    """``run.messages``: one ``ChatModelStream`` (``AsyncChatModelStream`` on the async lane)
    per chat-model call of the scope, fed its content-block events as they stream (its
    ``text``, ``tool_calls``, ``output``... read them, driving the run); a message a node
    returns whole (not a chunk, not a tool result) comes as an already finished stream."""

    _native = True
    required_stream_modes = ("messages",)

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._log: StreamChannel[_ModelStream] = StreamChannel()
        self._by_run: dict[str, _ModelStream] = {}
        self._ignored_runs: set[str] = set()
        self._pump_fn: Callable[[], bool] | None = None
        self._apump_fn: Callable[[], Awaitable[bool]] | None = None
        self._scope_list: list[str] = list(scope)

    def init(self) -> dict[str, Any]:
        return {"messages": self._log}

    def _bind_pump(self, fn: Callable[[], bool]) -> None:
        self._pump_fn = fn

    def _bind_apump(self, fn: Callable[[], Awaitable[bool]]) -> None:
        self._apump_fn = fn

    def _make_stream(self, *, node: str | None, message_id: str | None) -> _ModelStream:
        """A stream whose readers drive the run (unwired, when no pump is bound)."""
        if self._apump_fn is not None or self._pump_fn is None:
            astream = AsyncChatModelStream(namespace=[], node=node, message_id=message_id)
            if self._apump_fn is not None:
                astream.set_arequest_more(self._apump_fn)
            return astream
        stream = ChatModelStream(namespace=[], node=node, message_id=message_id)
        stream.set_request_more(self._pump_fn)
        return stream

    def process(self, event: ProtocolEvent) -> bool:
        params = event["params"]
        if event["method"] != "messages" or params["namespace"] != self._scope_list:
            return True
        payload, metadata = params["data"]
        node = metadata.get("langgraph_node")
        run_id = str(metadata.get("run_id", "")) if metadata else ""
        if isinstance(payload, dict) and "event" in payload:
            self._route(payload, run_id=run_id, node=node)
        elif isinstance(payload, BaseMessage) and not isinstance(
            payload, AIMessageChunk | ToolMessage
        ):
            stream = self._make_stream(node=node, message_id=payload.id)
            for part in message_to_events(payload, message_id=payload.id):
                stream.dispatch(part)
            self._log.push(stream)
        # (A chunk of a v1 token stream: not this projection's.)
        return True

    def _route(self, event: dict[str, Any], *, run_id: str, node: str | None) -> None:
        kind = event.get("event")
        if kind == "message-start":
            if event.get("role") == "tool":  # tool results: not chat tokens
                self._ignored_runs.add(run_id)
                return
            message_id = event.get("message_id")
            stream = self._make_stream(
                node=node, message_id=None if message_id is None else str(message_id)
            )
            self._by_run[run_id] = stream
            self._log.push(stream)
            stream.dispatch(cast(Any, event))
        elif run_id in self._ignored_runs:
            if kind == "message-finish":
                self._ignored_runs.discard(run_id)
        elif (running := self._by_run.get(run_id)) is not None:
            running.dispatch(cast(Any, event))
            if kind == "message-finish":
                del self._by_run[run_id]

    def finalize(self) -> None:
        self._by_run.clear()
        self._ignored_runs.clear()

    def fail(self, err: BaseException) -> None:
        for stream in self._by_run.values():
            stream.fail(err)
        self.finalize()
