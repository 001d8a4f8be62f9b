"""``ToolCallTransformer``: a v3 run stream's tool calls, one handle each (``run.tool_calls``).

Registered by the caller (``compile(transformers=[ToolCallTransformer])`` or
``stream_events(..., transformers=[ToolCallTransformer])``), it reads the ``tools`` stream mode:
each ``tool-started`` event makes a :class:`ToolCallStream`, ``tool-output-delta`` events feed
it, ``tool-finished``/``tool-error`` end it. The ``tools`` events stay in the main log (the
wire's consumers rebuild the handles from them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from langchain_core.messages import ToolMessage

from rewind.stream._types import ProtocolEvent, StreamTransformer
from rewind.stream.stream_channel import StreamChannel

__all__ = ["ToolCallStream", "ToolCallTransformer"]


class ToolCallStream:
    """One tool call, as it runs: ``tool_call_id``, ``tool_name`` and ``input`` from its
    start; ``output_deltas`` (iterate the handle itself too) as the tool streams; ``output``
    or ``error`` once it ended (``completed``). Made by :class:`ToolCallTransformer`."""

    def __init__(self, tool_call_id: str, tool_name: str, input: Any = None) -> None:
        self.tool_call_id = tool_call_id
        self.tool_name = tool_name
        self.input = input
        self._output_deltas: StreamChannel[Any] = StreamChannel()
        self.output: Any = None
        self.error: str | None = None
        self.completed = False

    @property
    def output_deltas(self) -> StreamChannel[Any]:
        """The tool's streamed output deltas, in order (closed when it ends)."""
        return self._output_deltas

    def _bind(self, *, is_async: bool) -> None:
        self._output_deltas._bind(is_async=is_async)

    def _push_delta(self, delta: Any) -> None:
        self._output_deltas.push(delta)

    def _finish(self, output: Any) -> None:
        self.output, self.completed = output, True
        self._output_deltas.close()

    def _fail(self, message: str) -> None:
        self.error, self.completed = message, True
        self._output_deltas.close()

    def __iter__(self) -> Iterator[Any]:
        """The output deltas (sync lane)."""
        return iter(self._output_deltas)

    def __aiter__(self) -> AsyncIterator[Any]:
        """The output deltas (async lane)."""
        return aiter(self._output_deltas)

    def __repr__(self) -> str:
        status = "running" if not self.completed else "failed" if self.error else "completed"
        return (
            f"ToolCallStream(tool_call_id={self.tool_call_id!r}, "
            f"tool_name={self.tool_name!r}, status={status})"
        )


def _tool_output(output: Any) -> Any:
    """A tool's result as the handle gives it: a ``ToolMessage``'s content (also when
    serialized as LangChain's ``constructor`` dict), anything else as it is."""
    if isinstance(output, ToolMessage):
        return output.content
    if (
        isinstance(output, dict)
        and output.get("type") == "constructor"
        and isinstance(output.get("id"), list)
        and output["id"][-1] == "ToolMessage"
        and isinstance(output.get("kwargs"), dict)
    ):
        return output["kwargs"].get("content")
    return output


class ToolCallTransformer(StreamTransformer):
    """``run.tool_calls``: a :class:`ToolCallStream` per tool call of the scope."""

    _native = True
    required_stream_modes = ("tools",)

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._log: StreamChannel[ToolCallStream] = StreamChannel()
        self._active: dict[str, ToolCallStream] = {}
        self._is_async = False
        self._pump_fn: Callable[[], bool] | None = None
        self._apump_fn: Callable[[], Awaitable[bool]] | None = None

    def init(self) -> dict[str, Any]:
        return {"tool_calls": self._log}

    def _bind_pump(self, fn: Callable[[], bool]) -> None:
        self._pump_fn, self._is_async = fn, False

    def _bind_apump(self, fn: Callable[[], Awaitable[bool]]) -> None:
        self._apump_fn, self._is_async = fn, True

    def _new_stream(self, tool_call_id: str, tool_name: str, tool_input: Any) -> ToolCallStream:
        stream = ToolCallStream(tool_call_id, tool_name, tool_input)
        stream._bind(is_async=self._is_async)
        stream._output_deltas._arequest_more = self._apump_fn
        stream._output_deltas._request_more = self._pump_fn
        return stream

    def process(self, event: ProtocolEvent) -> bool:
        if event["method"] != "tools" or tuple(event["params"]["namespace"]) != self.scope:
            return True
        data = event["params"]["data"]
        call_id = data.get("tool_call_id")
        if call_id is None:
            return True
        kind = data.get("event")
        if kind == "tool-started":
            stream = self._new_stream(call_id, data.get("tool_name", ""), data.get("input"))
            self._active[call_id] = stream
            self._log.push(stream)
        elif kind == "tool-output-delta":
            if (running := self._active.get(call_id)) is not None:
                running._push_delta(data.get("delta"))
        elif kind == "tool-finished":
            if (ended := self._active.pop(call_id, None)) is not None:
                ended._finish(_tool_output(data.get("output")))
        elif kind == "tool-error" and (failed := self._active.pop(call_id, None)) is not None:
            failed._fail(data.get("message", ""))
        return True
