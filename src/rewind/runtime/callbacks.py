"""LangChain callbacks into the log: chat-model calls, tokens, tools, custom events and the
runnables a node runs inside itself (see :mod:`rewind.runtime.chains`).

Each task runs under a LangChain callback manager, exactly as LangGraph runs its nodes, so a chat
model or tool called inside a node (with or without passing ``config``) reports to
:class:`Recorder`, which turns every callback into an event of the run.
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, GenerationChunk, LLMResult
from langchain_core.tracers._streaming import (
    _StreamingCallbackHandler,
    _V2StreamingCallbackHandler,
)

from rewind.events import EventType, NewEvent, made_event
from rewind.projections.state import refer_to_state
from rewind.runtime.chains import NO_INPUT, ChainRecording
from rewind.runtime.loops import call_here, call_in_order, call_on, on_loop_thread

__all__ = ["ProtocolRecorder", "Recorder", "StreamingRecorder"]

Sink = Callable[[NewEvent], None]
TokenSink = Callable[[object, NewEvent], None]
"""Where a recorder's tokens go: given a key per model call, and the event."""
ChunkSink = Callable[[object, str, Any, Any, "str | None"], bool]
"""Where a recorder's token goes as its chunk, no event made (a key per model call, the call's
run id, the token, its chunk, the namespace): whether it was taken (see :meth:`RunLog.
record_chunk <rewind.runtime.runlog.RunLog.record_chunk>`)."""
_CallChunkSink = Callable[[str, Any, Any, "str | None"], bool]
"""A :data:`ChunkSink` given a model call's key."""

_CHAT_TOKEN = EventType.CHAT_TOKEN
_now = datetime.now
_NO_CALL: Any = object()
"""No model call yet: the token cache of a new recorder matches none."""


class Recorder(ChainRecording, BaseCallbackHandler):
    """Records the callbacks of one task into its run's log (thread-safe).

    ``run_id``: the task's own run (its callbacks are not a nested run's); ``node_input``: what
    its function was given (a nested run given the same names it instead of copying it).
    """

    run_inline = True
    raise_error = False

    def __init__(
        self,
        sink: Sink,
        loop: asyncio.AbstractEventLoop,
        *,
        token_sink: TokenSink | None = None,
        chunk_sink: ChunkSink | None = None,
        step: int,
        node: str,
        task_id: str,
        ns: str | None = None,
        state: Callable[[], Mapping[str, Any]] | None = None,
        run_id: uuid.UUID | None = None,
        node_input: Any = NO_INPUT,
    ) -> None:
        self._sink = sink
        self._token_sink = token_sink
        self._loop = loop
        self._state = state
        self._step, self._node, self._task_id, self._ns = step, node, task_id, ns
        self._first_token: dict[uuid.UUID, float] = {}
        self._id_text: dict[tuple[uuid.UUID, uuid.UUID | None], tuple[str, str | None]] = {}
        self._started: dict[uuid.UUID, float] = {}
        self._own_run_id = run_id
        self._node_input = node_input
        self._chunk_sink = chunk_sink
        self._tokens_of: tuple[Any, Any, str, str | None, Sink, _CallChunkSink | None] = (
            _NO_CALL,
            _NO_CALL,
            "",
            None,
            sink,
            None,
        )
        """The model call whose token came last: its run and parent run ids, their text, and
        where its tokens go (the token sink, given the call's key; and the chunk sink, given
        it too, for a token no event need be made of)."""

    def _emit(self, type_: str, payload: Any) -> None:
        # Stamped here, when it happened, and with its namespace: the run's loop appends it as
        # it is (a live stream would otherwise copy it to stamp it).
        event = made_event(
            type_, payload, _now(UTC), self._step, self._ns, self._node, self._task_id
        )
        call_on(self._loop, self._sink, event)

    def _ids(self, run_id: uuid.UUID, parent_run_id: uuid.UUID | None) -> dict[str, Any]:
        text, parent_text = self._id_text_of(run_id, parent_run_id)
        return {"run_id": text, "parent_run_id": parent_text}

    def _id_text_of(
        self, run_id: uuid.UUID, parent_run_id: uuid.UUID | None
    ) -> tuple[str, str | None]:
        # Made once per model call, not per token (a UUID's text costs more than a token's
        # dict).
        ids = self._id_text.get((run_id, parent_run_id))
        if ids is None:
            ids = self._id_text[run_id, parent_run_id] = (
                str(run_id),
                None if parent_run_id is None else str(parent_run_id),
            )
        return ids

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._model_started(
            run_id, parent_run_id, serialized, tags, metadata, kwargs, messages=messages
        )

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._model_started(
            run_id, parent_run_id, serialized, tags, metadata, kwargs, prompts=prompts
        )

    def _model_started(
        self,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None,
        serialized: dict[str, Any] | None,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
        kwargs: dict[str, Any],
        **inputs: Any,
    ) -> None:
        """A chat model or LLM call began: its inputs (messages or prompts) and parameters.
        Messages of the task's state are named, not copied (the log holds them)."""
        self._started[run_id] = time.monotonic()
        if "messages" in inputs and self._state is not None:
            inputs["messages"] = refer_to_state(inputs["messages"], self._state())
        self._emit(
            EventType.CHAT_STARTED,
            {
                **self._ids(run_id, parent_run_id),
                "serialized": _serialized(serialized),
                **inputs,
                "tags": tags or [],
                "metadata": _plain(metadata or {}),
                "invocation_params": _plain(kwargs.get("invocation_params") or {}),
                "name": kwargs.get("name"),
            },
        )

    def on_llm_new_token(
        self,
        token: str | list[str | dict[str, Any]],
        *,
        chunk: GenerationChunk | ChatGenerationChunk | None = None,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        # Per token, the fewest steps: the call's ids are those of the token before it but for
        # the first token of each call (a UUID hashes in Python: no dict is asked per token).
        call = self._tokens_of
        if call[0] is not run_id or call[1] is not parent_run_id:
            call = self._tokens_of = self._token_call(run_id, parent_run_id)
        message = getattr(chunk, "message", None)
        if message is None:  # a text-completion model's token
            message = chunk if chunk is not None else token
        elif (
            call[5] is not None
            and on_loop_thread(self._loop)
            and call[5](call[2], token, message, self._ns)
        ):  # the common token: packed with its call's others and handed to the streams as it
            return  # is, no event made of it (one that cannot be is recorded below)
        sink = call[4]
        event = made_event(
            _CHAT_TOKEN,
            {"run_id": call[2], "parent_run_id": call[3], "token": token, "chunk": message},
            None,  # appended now: stamped by the log (no projection reads a token's time)
            self._step,
            self._ns,
            self._node,
            self._task_id,
        )
        if not call_here(self._loop, sink, event):  # from another thread: stamped now
            call_in_order(self._loop, sink, event.changed(ts=_now(UTC)))

    def _token_call(
        self, run_id: uuid.UUID, parent_run_id: uuid.UUID | None
    ) -> tuple[uuid.UUID, uuid.UUID | None, str, str | None, Sink, _CallChunkSink | None]:
        """A model call's tokens begin (or resume, after another call's): its ids, their
        text, and where its tokens go (a key of its own with them: see :meth:`EventLog.
        append_token <rewind.log.EventLog.append_token>`); its first token's delay is noted
        once."""
        started = self._started.pop(run_id, None)
        if started is not None:  # its first token
            self._first_token[run_id] = time.monotonic() - started
        text, parent_text = self._id_text_of(run_id, parent_run_id)
        sink: Sink = self._sink
        chunk_sink: _CallChunkSink | None = None
        if self._token_sink is not None:
            key = object()
            sink = functools.partial(self._token_sink, key)
            if self._chunk_sink is not None:
                chunk_sink = functools.partial(self._chunk_sink, key)
        return (run_id, parent_run_id, text, parent_text, sink, chunk_sink)

    def on_llm_end(
        self,
        response: LLMResult,
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> None:
        # A chat model's generations are messages; a text-completion model's, their text with
        # LangChain's generation info and type.
        generations = [
            [
                getattr(g, "message", None)
                or {"text": g.text, "generation_info": _plain(g.generation_info), "type": g.type}
                for g in gens
            ]
            for gens in response.generations
        ]
        self._started.pop(run_id, None)
        self._emit(
            EventType.CHAT_ENDED,
            {
                **self._ids(run_id, parent_run_id),
                "generations": generations,
                "llm_output": None if response.llm_output is None else _plain(response.llm_output),
                "time_to_first_token": self._first_token.pop(run_id, None),
            },
        )

    def on_llm_error(
        self,
        error: BaseException,
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._started.pop(run_id, None)
        self._emit(
            EventType.CHAT_ENDED,
            {
                **self._ids(run_id, parent_run_id),
                "error": {"type": type(error).__name__, "message": str(error)},
            },
        )

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._emit(
            EventType.TOOL_STARTED,
            {
                **self._ids(run_id, parent_run_id),
                "name": (serialized or {}).get("name"),
                "input": inputs if inputs is not None else input_str,
                "tags": tags or [],
                "metadata": _plain(metadata or {}),
                "tool_call_id": kwargs.get("tool_call_id"),
            },
        )

    def on_tool_end(
        self,
        output: Any,
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> None:
        payload = {**self._ids(run_id, parent_run_id), "output": output}
        if isinstance(output, BaseMessage) and output.id is None:
            # The id add_messages would give it later, given now: the log, the live stream and
            # the state then all show the same message (no race with a reader of the stream).
            # The ``events`` mode shows it without, as LangGraph's does.
            output.id = str(uuid.uuid4())
            payload["id_given"] = True
        self._emit(EventType.TOOL_ENDED, payload)

    def on_tool_error(
        self,
        error: BaseException,
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._emit(
            EventType.TOOL_ENDED,
            {
                **self._ids(run_id, parent_run_id),
                "error": {"type": type(error).__name__, "message": str(error)},
            },
        )

    def tool_output_delta(self, tool_call_id: str | None, delta: Any) -> None:
        """A running tool's partial output (``ToolRuntime.emit_output_delta``)."""
        self._emit(EventType.TOOL_DELTA, {"tool_call_id": tool_call_id, "delta": delta})

    def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: uuid.UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._emit(
            EventType.CUSTOM_EVENT,
            {
                "name": name,
                "data": data,
                "run_id": str(run_id),
                "tags": tags or [],
                "metadata": _plain(metadata or {}),
            },
        )


class StreamingRecorder(Recorder, _StreamingCallbackHandler[Any]):
    """A recorder that also asks chat models to stream, so every token reaches the log, and
    records the chunks a nested run streams (``chain.chunk``), as LangChain's event stream
    taps them."""

    def tap_output_aiter(self, run_id: uuid.UUID, output: AsyncIterator[Any]) -> AsyncIterator[Any]:
        return self._tapped_aiter(run_id, output) if self._taps(run_id) else output

    def tap_output_iter(self, run_id: uuid.UUID, output: Iterator[Any]) -> Iterator[Any]:
        return self._tapped_iter(run_id, output) if self._taps(run_id) else output


class ProtocolRecorder(Recorder, _V2StreamingCallbackHandler):
    """A recorder that asks chat models for LangChain's content-block protocol events
    (``message-start``, ``content-block-delta``...) instead of tokens, and records each as a
    ``chat.event``: what LangGraph's v3 run streams (``stream_events(version="v3")``) make of a
    model call. Being a v2 streaming handler changes what ``invoke`` returns (its message's
    content as content blocks), as it does under LangGraph."""

    def on_stream_event(
        self,
        event: Any,
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._emit(EventType.CHAT_EVENT, {**self._ids(run_id, parent_run_id), "event": event})


def _serialized(serialized: dict[str, Any] | None) -> dict[str, Any]:
    if not serialized:
        return {}
    return {k: serialized[k] for k in ("id", "name") if k in serialized}


def _plain(value: Any) -> Any:
    """Keep what the codec can store; drop the rest (callback metadata holds live objects)."""
    from rewind.errors import EncodingError
    from rewind.log.codec import encode

    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            try:
                encode(v)
            except EncodingError:
                continue
            out[k] = v
        return out
    return value
