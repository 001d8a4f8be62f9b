"""Run streams: what ``stream_events(version="v3")`` returns (``astream_events``: awaits).

A run stream pulls the graph's v2 stream parts only when a reader asks for more (iterating a
projection, the raw events, or reading ``output``): the caller's loop is the pump, on both
lanes. Each part becomes a protocol event that the stream's :class:`StreamMux` hands to its
transformers. A subgraph's handle (``run.subgraphs``) is a run stream over a child mux, driven
by the root's pump.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

from langchain_core._api import LangChainBetaWarning

from rewind.stream._mux import StreamMux
from rewind.stream._types import ProtocolEvent, protocol_event

if TYPE_CHECKING:
    from langchain_core.language_models.chat_model_stream import (
        AsyncChatModelStream,
        ChatModelStream,
    )

    from rewind.stream.stream_channel import StreamChannel
    from rewind.stream.transformers import LifecyclePayload, SubgraphStatus

__all__ = [
    "AsyncGraphRunStream",
    "AsyncSubgraphRunStream",
    "GraphRunStream",
    "SubgraphRunStream",
]

EXPERIMENTAL = "The v3 streaming protocol on Pregel is experimental."
"""LangGraph's warning (a ``LangChainBetaWarning``) when a v3 run stream is made."""


_warned: set[str] = set()


def warn_experimental(site: str) -> None:
    """Warn as LangGraph does that v3 run streams are experimental: once per process for
    each of its ``@beta`` functions (``site``: ours in its place)."""
    if site not in _warned:
        _warned.add(site)
        warnings.warn(EXPERIMENTAL, LangChainBetaWarning, stacklevel=3)


def _missing(run: object, name: str) -> NoReturn:
    # ``_mux`` read from __dict__: on a half-made instance ``run._mux`` would recurse here.
    mux = run.__dict__.get("_mux")
    registered = sorted(mux.native_keys) if mux is not None else []
    raise AttributeError(
        f"{type(run).__name__!r} object has no attribute {name!r} "
        f"(registered projections: {', '.join(registered) or 'none'})"
    )


class _RunState:
    """What a run stream keeps of its own scope's values events: the latest state, and the
    interrupts (``output``, ``interrupted``, ``interrupts`` read them)."""

    _mux: StreamMux
    _latest: dict[str, Any] | None
    _interrupted: bool
    _interrupts: list[Any]
    _scope_list: list[str]

    def _start(self, mux: StreamMux) -> None:
        self._mux = mux
        self.extensions: Mapping[str, Any] = MappingProxyType(mux.extensions)
        self._exhausted = False
        self._latest = None
        self._interrupted = False
        self._interrupts = []
        self._scope_list = list(mux.scope)
        for key in mux.native_keys:
            setattr(self, key, mux.extensions[key])

    def _observe_event(self, event: ProtocolEvent) -> None:
        params = event["params"]
        if event["method"] != "values" or params["namespace"] != self._scope_list:
            return
        self._latest = params["data"]
        interrupts = params.get("interrupts", ())
        if interrupts:
            self._interrupted = True
            self._interrupts.extend(interrupts)

    def _raise_error(self) -> None:
        if (err := self._mux._events._error) is not None:
            raise err


class GraphRunStream(_RunState):
    """A run, read as it goes (sync). Native projections are attributes: ``values``,
    ``messages`` (one ``ChatModelStream`` per model call), ``lifecycle``, ``subgraphs``, and
    those of the optional transformers registered. Each projection has one reader (``tee``
    for more); iterating the run stream itself gives its raw protocol events."""

    values: StreamChannel[dict[str, Any]]
    messages: StreamChannel[ChatModelStream]
    lifecycle: StreamChannel[LifecyclePayload]
    subgraphs: StreamChannel[SubgraphRunStream]
    updates: StreamChannel[dict[str, Any]]
    custom: StreamChannel[Any]
    checkpoints: StreamChannel[dict[str, Any]]
    debug: StreamChannel[dict[str, Any]]
    tasks: StreamChannel[dict[str, Any]]

    def __getattr__(self, name: str) -> StreamChannel[Any]:
        """Projections of transformers defined elsewhere (set as attributes when
        registered): reaching here means none has this name."""
        _missing(self, name)

    def __init__(
        self, graph_iter: Iterator[Any] | None, mux: StreamMux, *, wire_pump: bool = True
    ) -> None:
        """Args:
        graph_iter: the graph's v2 stream parts (``None``: a subgraph's handle).
        mux: the transformers and main log of the stream's scope.
        wire_pump: make :meth:`_pump_next` the mux's pump (a handle keeps its parent's).
        """
        warn_experimental("GraphRunStream")
        self._graph_iter = graph_iter
        self._start(mux)
        if wire_pump:
            mux.bind_pump(self._pump_next)

    def _pump_next(self) -> bool:
        """Pull one part from the graph into the mux; False once the run is over."""
        if self._exhausted or self._graph_iter is None:
            return False
        try:
            event = protocol_event(next(self._graph_iter))
            self._observe_event(event)
            self._mux.push(event)
            return True
        except StopIteration:
            self._exhausted = True
            self._mux.close()
            return False
        except Exception as e:
            self._exhausted = True
            self._mux.fail(e)
            return False

    def abort(self) -> None:
        """Stop the run now (its nodes are cancelled) and close the projections."""
        if self._exhausted:
            return
        self._exhausted = True
        graph_iter, self._graph_iter = self._graph_iter, None
        if (close := getattr(graph_iter, "close", None)) is not None:
            with contextlib.suppress(Exception):  # stopping: what it raises is moot
                close()
        with contextlib.suppress(Exception):  # stopping: a finalize error is moot
            self._mux.close()

    def __enter__(self) -> GraphRunStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()

    def _drive(self) -> None:
        while self._pump_next():
            pass
        self._raise_error()

    @property
    def output(self) -> dict[str, Any] | None:
        """Run to the end; the last state (raises the run's error)."""
        self._drive()
        return self._latest

    @property
    def interrupted(self) -> bool:
        """Run to the end; whether it stopped at an interrupt."""
        self._drive()
        return self._interrupted

    @property
    def interrupts(self) -> list[Any]:
        """Run to the end; the interrupts it stopped at."""
        self._drive()
        return self._interrupts

    def __iter__(self) -> Iterator[ProtocolEvent]:
        """The raw protocol events of the main log (one reader)."""
        return iter(self._mux._events)

    def interleave(self, *names: str) -> Iterator[tuple[str, Any]]:
        """Read several projections at once, ``(name, item)`` in the order items arrived.

        Raises:
            KeyError: a name is no projection.
            TypeError: a projection is no channel, or not on the sync lane.
            RuntimeError: a projection already has a reader.
        """
        from rewind.stream.stream_channel import StreamChannel

        channels: dict[str, StreamChannel[Any]] = {}
        try:
            for name in names:
                channel = self.extensions[name]
                if not isinstance(channel, StreamChannel):
                    raise TypeError(
                        "interleave() requires StreamChannel projections, "
                        f"got {type(channel).__name__} for {name!r}"
                    )
                if channel._is_async:
                    raise TypeError(
                        f"StreamChannel {name!r} is bound to async mode — "
                        "sync interleave() cannot consume async channels."
                    )
                if channel._subscribed:
                    raise RuntimeError(
                        f"StreamChannel {name!r} already has a subscriber; use .tee(n) for fan-out."
                    )
                channel._subscribed = True
                channels[name] = channel
            yield from _interleaved(channels, self._mux)
        finally:
            for channel in channels.values():
                channel._subscribed = False


def _interleaved(channels: Mapping[str, StreamChannel[Any]], mux: StreamMux) -> Iterator[Any]:
    done: set[str] = set()

    def settle() -> None:  # drained channels that are closed: done (or their error raised)
        for name, channel in channels.items():
            if name not in done and channel._closed and not channel._items:
                if channel._error is not None:
                    raise channel._error
                done.add(name)

    while True:
        settle()
        if len(done) == len(channels):
            return
        ready = [(c._items[0][0], n) for n, c in channels.items() if n not in done and c._items]
        if ready:
            name = min(ready)[1]
            yield (name, channels[name]._items.popleft()[1])
        elif mux._pump_fn is None or not mux._pump_fn():
            before = len(done)
            settle()
            if len(done) == before:
                return


class AsyncGraphRunStream(_RunState):
    """A run, read as it goes (async): :class:`GraphRunStream` for ``astream_events``.
    Concurrent readers share one pump; ``output()``, ``interrupted()`` and ``interrupts()``
    are coroutines. Use ``async with`` to stop the run if you leave early."""

    values: StreamChannel[dict[str, Any]]
    messages: StreamChannel[AsyncChatModelStream]
    lifecycle: StreamChannel[LifecyclePayload]
    subgraphs: StreamChannel[AsyncSubgraphRunStream]
    updates: StreamChannel[dict[str, Any]]
    custom: StreamChannel[Any]
    checkpoints: StreamChannel[dict[str, Any]]
    debug: StreamChannel[dict[str, Any]]
    tasks: StreamChannel[dict[str, Any]]

    def __getattr__(self, name: str) -> StreamChannel[Any]:
        """See :meth:`GraphRunStream.__getattr__`."""
        _missing(self, name)

    def __init__(
        self,
        graph_aiter: AsyncIterator[Any] | None,
        mux: StreamMux,
        *,
        wire_pump: bool = True,
    ) -> None:
        """See :class:`GraphRunStream` (``graph_aiter``: the graph's async v2 parts)."""
        warn_experimental("AsyncGraphRunStream")
        self._graph_aiter = graph_aiter
        self._start(mux)
        self._pump_cond = asyncio.Condition()
        self._pumping = False
        self._anext_task: asyncio.Future[Any] | None = None
        self._aborting = False
        if wire_pump:
            mux.bind_apump(self._apump_next)

    async def _apump_next(self) -> bool:
        """Pull one part into the mux, or (another reader pulling) wait for its pull."""
        async with self._pump_cond:
            if self._exhausted or self._graph_aiter is None:
                return False
            if self._pumping:
                await self._pump_cond.wait()
                return not self._exhausted
            self._pumping = True
        try:
            return await self._pull(self._graph_aiter)
        finally:
            async with self._pump_cond:
                self._pumping = False
                self._pump_cond.notify_all()

    async def _pull(self, graph_aiter: AsyncIterator[Any]) -> bool:
        try:
            # A task of its own, so that abort() can cancel a pull in flight (and with it the
            # run's nodes): a generator that is running cannot be closed.
            self._anext_task = asyncio.ensure_future(anext(graph_aiter))
            try:
                part = await self._anext_task
            except asyncio.CancelledError:
                if self._aborting:
                    self._exhausted = True
                    return False
                self._anext_task.cancel()
                raise
            finally:
                self._anext_task = None
            event = protocol_event(part)
            self._observe_event(event)
            await self._mux.apush(event)
            return True
        except StopAsyncIteration:
            self._exhausted = True
            await self._mux.aclose()
            return False
        except Exception as e:
            self._exhausted = True
            await self._mux.afail(e)
            return False

    async def abort(self) -> None:
        """Stop the run now (a pull in flight cancelled, its nodes with it); close the
        projections."""
        async with self._pump_cond:
            if self._exhausted:
                return
            self._exhausted = self._aborting = True
            graph_aiter, self._graph_aiter = self._graph_aiter, None
            pulling = self._anext_task
            self._pump_cond.notify_all()
        if pulling is not None and not pulling.done():
            pulling.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # stopping: moot
                await pulling
        if (aclose := getattr(graph_aiter, "aclose", None)) is not None:
            with contextlib.suppress(Exception):  # stopping: moot
                await aclose()
        with contextlib.suppress(Exception):  # stopping: moot
            await self._mux.aclose()

    async def __aenter__(self) -> AsyncGraphRunStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.abort()

    async def _drive(self) -> None:
        while await self._apump_next():
            pass
        self._raise_error()

    async def output(self) -> dict[str, Any] | None:
        """Run to the end; the last state (raises the run's error)."""
        await self._drive()
        return self._latest

    async def interrupted(self) -> bool:
        """Run to the end; whether it stopped at an interrupt."""
        await self._drive()
        return self._interrupted

    async def interrupts(self) -> list[Any]:
        """Run to the end; the interrupts it stopped at."""
        await self._drive()
        return self._interrupts

    def __aiter__(self) -> AsyncIterator[ProtocolEvent]:
        """The raw protocol events of the main log (one reader)."""
        return aiter(self._mux._events)


class _SubgraphHandle:
    """What a subgraph's handle says of it (kept up to date by ``SubgraphTransformer``)."""

    path: tuple[str, ...]
    graph_name: str | None
    trigger_call_id: str | None
    status: SubgraphStatus
    error: str | None
    _seen_terminal: bool

    def _describe(
        self, path: tuple[str, ...], graph_name: str | None, trigger_call_id: str | None
    ) -> None:
        self.path = path
        self.graph_name = graph_name
        self.trigger_call_id = trigger_call_id
        self.status = "started"
        self.error = None
        self._seen_terminal = False

    def _over(self, mux: StreamMux) -> bool:
        return bool(
            getattr(self, "_exhausted", False) or self._seen_terminal or mux._events._closed
        )


class SubgraphRunStream(GraphRunStream, _SubgraphHandle):
    """A subgraph of a sync run stream: its own projections, driven by the root's pump."""

    def __init__(
        self,
        mux: StreamMux,
        *,
        path: tuple[str, ...],
        graph_name: str | None = None,
        trigger_call_id: str | None = None,
    ) -> None:
        self._parent_pump_fn: Callable[[], bool] | None = mux._pump_fn
        super().__init__(None, mux, wire_pump=False)
        self._describe(path, graph_name, trigger_call_id)

    def _pump_next(self) -> bool:
        if self._over(self._mux) or self._parent_pump_fn is None:
            return False
        return self._parent_pump_fn()


class AsyncSubgraphRunStream(AsyncGraphRunStream, _SubgraphHandle):
    """A subgraph of an async run stream: its own projections, driven by the root's pump."""

    def __init__(
        self,
        mux: StreamMux,
        *,
        path: tuple[str, ...],
        graph_name: str | None = None,
        trigger_call_id: str | None = None,
    ) -> None:
        self._parent_apump_fn: Callable[[], Awaitable[bool]] | None = mux._apump_fn
        super().__init__(None, mux, wire_pump=False)
        self._describe(path, graph_name, trigger_call_id)

    async def _apump_next(self) -> bool:
        if self._over(self._mux) or self._parent_apump_fn is None:
            return False
        return await self._parent_apump_fn()
