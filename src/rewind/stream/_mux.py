"""``StreamMux``: hands each protocol event of a run to its transformers, then to its main log.

A mux is made from transformer factories (``factory(scope) -> StreamTransformer``), so a
subgraph's handle gets a mux of its own, with fresh transformers scoped to the subgraph's
namespace (:meth:`StreamMux._make_child`). Channels found in the transformers' projections
are bound to the mux's lane, wired to the main log when named, and closed or failed with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rewind.stream._types import (
    ProtocolEvent,
    StreamTransformer,
    TransformerFactory,
    transformer_requires_async,
)
from rewind.stream.stream_channel import StreamChannel

__all__ = ["StreamMux", "TransformerFactory"]


class StreamMux:
    """The transformers of one scope of a run stream, and the scope's main event log.

    Attributes:
        extensions: every transformer's projection, merged (read-only by convention).
        native_keys: the projection keys of native transformers (run stream attributes).
    """

    def __init__(
        self,
        transformers: list[StreamTransformer] | None = None,
        *,
        is_async: bool = False,
        factories: list[TransformerFactory] | None = None,
        scope: tuple[str, ...] = (),
        _assign_seq: bool = True,
    ) -> None:
        """Register the factories' transformers (the ``before_builtins`` ones first), then
        the pre-built ``transformers`` (this scope only: they cannot be cloned for a child).

        Raises:
            RuntimeError: a transformer needs the async lane and the mux is sync.
            TypeError: a transformer's ``init()`` returned no dict.
            ValueError: two transformers' projections share a key.
        """
        self.is_async = is_async
        self.scope: tuple[str, ...] = scope
        self._assign_seq = _assign_seq
        self._events: StreamChannel[ProtocolEvent] = StreamChannel()
        self._events._bind(is_async=is_async)
        self._events._bind_mux(self)
        self._transformers: list[StreamTransformer] = []
        self._channels: list[StreamChannel[Any]] = []
        self._seq = 0
        self._push_seq = 0
        # The timestamp of the last event handed to the transformers: what the events they
        # make of it are stamped with (a replay's are then the run's times too, not the
        # replay's).
        self._clock: int | None = None
        self.extensions: dict[str, Any] = {}
        self.native_keys: set[str] = set()
        self._owners: dict[str, StreamTransformer] = {}
        self._factories = list(factories) if factories is not None else None
        self._pump_fn: Callable[[], bool] | None = None
        self._apump_fn: Callable[[], Awaitable[bool]] | None = None
        made = [factory(scope) for factory in factories or ()]
        for group in (made, list(transformers or ())):
            for transformer in sorted(group, key=lambda t: not getattr(t, "before_builtins", 0)):
                self._register(transformer)

    def transformer_by_key(self, key: str) -> StreamTransformer | None:
        """The transformer whose projection holds ``key``."""
        return self._owners.get(key)

    def _next_push_seq(self) -> int:
        self._push_seq += 1
        return self._push_seq

    def bind_pump(self, fn: Callable[[], bool]) -> None:
        """Make ``fn`` what every reader of this mux calls for one more event (sync lane):
        the main log's, the channels', and transformers that hand out streams of their own."""
        self._pump_fn = fn
        self._events._request_more = fn
        for channel in self._channels:
            channel._request_more = fn
        for transformer in self._transformers:
            if (bind := getattr(transformer, "_bind_pump", None)) is not None:
                bind(fn)

    def bind_apump(self, fn: Callable[[], Awaitable[bool]]) -> None:
        """:meth:`bind_pump` for the async lane."""
        self._apump_fn = fn
        self._events._arequest_more = fn
        for channel in self._channels:
            channel._arequest_more = fn
        for transformer in self._transformers:
            if (bind := getattr(transformer, "_bind_apump", None)) is not None:
                bind(fn)

    def _make_child(self, scope: tuple[str, ...]) -> StreamMux:
        """A mux for a subgraph at ``scope``: the same factories, this mux's pump, no ``seq``
        of its own (it shares the events it is given with its parent's log).

        Raises:
            RuntimeError: this mux was given pre-built transformers, not factories.
        """
        if self._factories is None:
            raise RuntimeError(
                "StreamMux._make_child requires the mux to be constructed with `factories=`; "
                "pre-built transformers can't be cloned to a new scope."
            )
        child = StreamMux(
            factories=self._factories, is_async=self.is_async, scope=scope, _assign_seq=False
        )
        if self._pump_fn is not None:
            child.bind_pump(self._pump_fn)
        if self._apump_fn is not None:
            child.bind_apump(self._apump_fn)
        return child

    def _register(self, transformer: StreamTransformer) -> None:
        if transformer_requires_async(transformer) and not self.is_async:
            raise RuntimeError(
                f"{type(transformer).__name__} requires an async run — it overrides "
                "aprocess/afinalize/afail or sets requires_async=True. Use astream(), not "
                "stream()."
            )
        projection = transformer.init()
        if not isinstance(projection, dict):
            raise TypeError(
                f"StreamTransformer.init() must return a dict, got {type(projection).__name__}"
            )
        taken = sorted(set(projection) & set(self.extensions))
        if taken:
            owners = ", ".join(f"{k!r} (owned by {type(self._owners[k]).__name__})" for k in taken)
            raise ValueError(
                f"Transformer {type(transformer).__name__} returned projection keys that "
                f"conflict with already-registered keys: {owners}"
            )
        native = bool(getattr(transformer, "_native", False))
        self._transformers.append(transformer)
        for value in projection.values():
            if isinstance(value, StreamChannel):
                self._adopt(value, native=native)
        self.extensions.update(projection)
        self._owners.update(dict.fromkeys(projection, transformer))
        if native:
            self.native_keys.update(projection)
        transformer._on_register(self)

    def _adopt(self, channel: StreamChannel[Any], *, native: bool) -> None:
        channel._bind(is_async=self.is_async)
        channel._bind_mux(self)
        self._channels.append(channel)
        if channel.name is not None:
            method = channel.name if native else f"custom:{channel.name}"
            channel._wire(lambda item: self._forward(method, item))

    def _log(self, event: ProtocolEvent) -> None:
        """Append to the main log; the root mux numbers events as they enter it (so events a
        transformer's channel forwarded while processing come before the one it processed)."""
        if self._assign_seq:
            self._seq += 1
            event["seq"] = self._seq
        self._events.push(event)

    def _forward(self, method: str, item: Any) -> None:
        # Straight to the log, not through the transformers (which pushed it).
        stamp = self._clock or int(time.time() * 1000)
        self._log(
            {
                "type": "event",
                "method": method,
                "params": {"namespace": [], "timestamp": stamp, "data": item},
            }
        )

    def push(self, event: ProtocolEvent) -> None:
        """Hand ``event`` to every transformer (sync lane), then log it unless one of them
        returned False."""
        self._clock = event["params"].get("timestamp")
        keep = True
        for transformer in self._transformers:
            if not transformer.process(event):
                keep = False
        if keep:
            self._log(event)

    async def apush(self, event: ProtocolEvent) -> None:
        """:meth:`push` on the async lane (each ``aprocess`` awaited in turn)."""
        self._clock = event["params"].get("timestamp")
        keep = True
        for transformer in self._transformers:
            if not await transformer.aprocess(event):
                keep = False
        if keep:
            self._log(event)

    def _close_channels(self) -> None:
        for channel in self._channels:
            if not channel._closed:
                channel.close()
        self._events.close()

    def _fail_channels(self, err: BaseException) -> None:
        for channel in self._channels:
            if not channel._closed:
                channel.fail(err)
        if not self._events._closed:
            self._events.fail(err)

    def close(self) -> None:
        """The run ended: finalize every transformer, close every channel and the log; then
        raise the first error a ``finalize`` raised."""
        first: BaseException | None = None
        for transformer in self._transformers:
            try:
                transformer.finalize()
            except BaseException as e:
                first = first or e
        self._close_channels()
        if first is not None:
            raise first

    async def aclose(self) -> None:
        """:meth:`close` on the async lane, once every scheduled coroutine finished (the
        first to fail with ``on_error="raise"`` is raised)."""
        pending = self._scheduled()
        if pending:
            results = await asyncio.gather(*pending, return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException) and not isinstance(
                    result, asyncio.CancelledError
                ):
                    raise result
        first: BaseException | None = None
        for transformer in self._transformers:
            try:
                await transformer.afinalize()
            except BaseException as e:
                first = first or e
        self._close_channels()
        if first is not None:
            raise first

    def fail(self, err: BaseException) -> None:
        """The run failed with ``err``: tell every transformer, fail every channel."""
        for transformer in self._transformers:
            with contextlib.suppress(BaseException):  # the run's own error is the one told
                transformer.fail(err)
        self._fail_channels(err)

    async def afail(self, err: BaseException) -> None:
        """:meth:`fail` on the async lane, scheduled coroutines cancelled first."""
        pending = self._scheduled()
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        for transformer in self._transformers:
            with contextlib.suppress(BaseException):  # the run's own error is the one told
                await transformer.afail(err)
        self._fail_channels(err)

    def _scheduled(self) -> list[asyncio.Task[Any]]:
        return [
            task
            for transformer in self._transformers
            for task in getattr(transformer, "_stream_scheduled_tasks", ())
            if not task.done()
        ]
