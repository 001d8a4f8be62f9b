"""``RemoteGraph.stream_events(version="v3")``: the server's v3 thread stream (the SDK's
``threads.stream``) with a local run stream's surface, as LangGraph's RemoteGraph gives it.

The run starts when the stream is entered (``with`` / ``async with``); its projections
(``values``, ``messages``, ``subgraphs``, ``tool_calls``, ``extensions``), its raw protocol
events (iterating it) and its end (``output``, ``interrupted``, ``interrupts``) are the SDK's.
Unlike a local run stream, ``interrupted`` and ``interrupts`` read where the run stands now
(they do not drive it to its end), as LangGraph's remote run streams do.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from types import TracebackType
from typing import Any

from rewind.types import Command

__all__ = ["AsyncRemoteRunStream", "RemoteRunStream", "reject_v3_kwargs"]

logger = logging.getLogger(__name__)

_SUPPORTED = frozenset({"metadata", "headers"})


def reject_v3_kwargs(unsupported: Mapping[str, Any], extra: Mapping[str, Any]) -> None:
    """Refuse what a remote v3 run cannot take, as LangGraph's RemoteGraph refuses it:
    ``control``, ``transformers``, ``interrupt_before``/``after`` (given in ``unsupported``)
    and any keyword argument but ``metadata`` and ``headers``.

    Raises:
        NotImplementedError: naming what was given.
    """
    for name, value in unsupported.items():
        if value:
            raise NotImplementedError(
                f"RemoteGraph.stream_events(version='v3') does not support `{name}=`."
            )
    unknown = set(extra) - _SUPPORTED
    if unknown:
        raise NotImplementedError(
            "RemoteGraph.stream_events(version='v3') does not support the following kwargs: "
            f"{sorted(unknown)!r}. Supported: {sorted(_SUPPORTED)!r}."
        )


def wire_input(input: Any) -> Any:
    """The v3 run's input: a ``Command(resume=...)``'s resume value (the server wraps it as a
    resume itself), other input as it is.

    Raises:
        NotImplementedError: for a ``Command`` with ``goto`` or ``update`` (the v3 run start
            has no place for them).
    """
    if isinstance(input, Command):
        if input.goto or input.update:
            raise NotImplementedError(
                "RemoteGraph v3 streaming supports `Command(resume=...)` only; "
                "`goto` / `update` are not supported by the v3 `run.start` path."
            )
        return input.resume
    return input


class _Channel:
    """A wire channel the SDK has no typed projection of (``updates``, ``checkpoints``,
    ``tasks``, ``custom``): each event's ``params.data``, as a local run stream's projection
    of it gives (iterate with ``for`` on a sync stream, ``async for`` on an async one)."""

    def __init__(self, sdk: Any, channel: str) -> None:
        self._sdk = sdk
        self._channel = channel

    def __iter__(self) -> Iterator[Any]:
        decoder = _decoder(self._channel)
        for event in self._sdk.subscribe([self._channel]):
            yield from decoder.feed(event)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[Any]:
        decoder = _decoder(self._channel)
        async for event in self._sdk.subscribe([self._channel]):
            for item in decoder.feed(event):
                yield item


def _decoder(channel: str) -> Any:
    from langgraph_sdk.stream.decoders import DataDecoder

    return DataDecoder(channel)


class _Extensions(Mapping[str, Any]):
    """Name to projection, as a local run stream's ``extensions``: the SDK's typed ones
    (``values``, ``messages``, ``tool_calls``, ``subgraphs``), the plain channels, and any
    other name a custom channel (``custom:<name>``). ``lifecycle`` and ``debug`` are not
    among them (the raw events carry the lifecycle)."""

    _TYPED = ("values", "messages", "tool_calls", "subgraphs")
    _PLAIN = ("updates", "checkpoints", "tasks", "custom")

    def __init__(self, sdk: Any) -> None:
        self._sdk = sdk

    def __getitem__(self, name: str) -> Any:
        if name in self._TYPED:
            return getattr(self._sdk, name)
        if name in self._PLAIN:
            return _Channel(self._sdk, name)
        return self._sdk.extensions[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._TYPED + self._PLAIN)

    def __len__(self) -> int:
        return len(self._TYPED) + len(self._PLAIN)


class _Projections:
    """What both run streams read of the SDK's thread stream."""

    def __init__(self, client: Any, sdk: Any, input: Any, config: Any, metadata: Any) -> None:
        self._client = client
        self._sdk = sdk
        self._start = {"input": wire_input(input), "config": config, "metadata": metadata}
        self._run_id: str | None = None
        self._closed = False

    @property
    def values(self) -> Any:
        """The state after each step (the root's)."""
        return self._sdk.values

    @property
    def messages(self) -> Any:
        """The chat models' messages, as they stream."""
        return self._sdk.messages

    @property
    def subgraphs(self) -> Any:
        """A handle per subgraph run, as it starts."""
        return self._sdk.subgraphs

    @property
    def tool_calls(self) -> Any:
        """Tool executions (the ``tools`` channel: started, output, finished)."""
        return self._sdk.tool_calls

    @property
    def extensions(self) -> Mapping[str, Any]:
        """Name to projection (see :class:`_Extensions`)."""
        return _Extensions(self._sdk)


class RemoteRunStream(_Projections):
    """A remote v3 run stream read from sync code (``with graph.stream_events(...,
    version="v3") as run``)."""

    def __init__(self, *, client: Any, sdk: Any, input: Any, config: Any, metadata: Any) -> None:
        super().__init__(client, sdk, input, config, metadata)
        self._events: Iterator[Any] | None = None

    def __enter__(self) -> RemoteRunStream:
        if self._closed:
            raise RuntimeError("the remote run stream is closed")
        self._sdk.__enter__()
        try:
            self._run_id = self._sdk.run.start(**self._start)["run_id"]
        except BaseException:
            self._sdk.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._closed:
            self._closed = True
            self._sdk.__exit__(exc_type, exc, tb)

    @property
    def output(self) -> Any:
        """The run's final state (waits for its end)."""
        return self._sdk.output

    @property
    def interrupted(self) -> bool:
        """Whether the run stands at an interrupt now (it does not wait for its end)."""
        return bool(self._sdk.interrupted)

    @property
    def interrupts(self) -> list[Any]:
        """The interrupts it stands at now."""
        return list(self._sdk.interrupts)

    def abort(self) -> None:
        """Cancel the run on the server and close the stream."""
        if self._closed:
            return
        self._closed = True
        if self._run_id is not None:
            try:
                self._client.runs.cancel(self._sdk.thread_id, self._run_id, wait=False)
            except Exception:
                logger.debug("abort: the run's cancel failed", exc_info=True)
        try:
            self._sdk.close()
        except Exception:
            logger.debug("abort: closing the stream failed", exc_info=True)

    def __iter__(self) -> Iterator[Any]:
        """The run's raw protocol events."""
        if self._events is None:
            self._events = iter(self._sdk.events)
        return self._events

    def interleave(self, *names: str) -> Iterator[tuple[str, Any]]:
        """The items of these projections as they come, each with its projection's name."""
        yield from self._sdk.interleave_projections(list(names))


class AsyncRemoteRunStream(_Projections):
    """A remote v3 run stream read from async code (``async with await
    graph.astream_events(..., version="v3") as run``)."""

    def __init__(self, *, client: Any, sdk: Any, input: Any, config: Any, metadata: Any) -> None:
        super().__init__(client, sdk, input, config, metadata)
        self._events: AsyncIterator[Any] | None = None

    async def __aenter__(self) -> AsyncRemoteRunStream:
        if self._closed:
            raise RuntimeError("the remote run stream is closed")
        await self._sdk.__aenter__()
        try:
            self._run_id = (await self._sdk.run.start(**self._start))["run_id"]
        except BaseException:
            await self._sdk.__aexit__(*sys.exc_info())
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._closed:
            self._closed = True
            await self._sdk.__aexit__(exc_type, exc, tb)

    async def output(self) -> Any:
        """The run's final state (waits for its end)."""
        return await self._sdk.output

    async def interrupted(self) -> bool:
        """Whether the run stands at an interrupt now (it does not wait for its end)."""
        return bool(self._sdk.interrupted)

    async def interrupts(self) -> list[Any]:
        """The interrupts it stands at now."""
        return list(self._sdk.interrupts)

    async def abort(self) -> None:
        """Cancel the run on the server and close the stream."""
        if self._closed:
            return
        self._closed = True
        if self._run_id is not None:
            try:
                await self._client.runs.cancel(self._sdk.thread_id, self._run_id, wait=False)
            except Exception:
                logger.debug("abort: the run's cancel failed", exc_info=True)
        try:
            await self._sdk.close()
        except Exception:
            logger.debug("abort: closing the stream failed", exc_info=True)

    def __aiter__(self) -> AsyncIterator[Any]:
        """The run's raw protocol events."""
        if self._events is None:
            self._events = self._sdk.events.__aiter__()
        return self._events
