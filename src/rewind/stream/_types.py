"""The pieces every v3 run stream is made of: the protocol event envelope and the transformer
contract (LangGraph's ``langgraph.stream._types``).

A protocol event wraps one v2 stream part (``{"type", "ns", "data"}``) as
``{"type": "event", "method", "params": {"namespace", "timestamp", "data"}}``: the envelope
rewind's thread protocol (``rewind serve``) sends on the wire too. A transformer watches those
events and fills projections (:class:`~rewind.stream.stream_channel.StreamChannel` s) with
what it makes of them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, ClassVar, Literal, NotRequired

from typing_extensions import TypedDict

__all__ = [
    "ProtocolEvent",
    "StreamTransformer",
    "TransformerFactory",
    "protocol_event",
    "transformer_requires_async",
]

_logger = logging.getLogger(__name__)


class _ProtocolEventParams(TypedDict):
    """What a protocol event carries. ``timestamp`` is wall-clock milliseconds (it may go
    backwards): order events by their ``seq``."""

    namespace: list[str]
    timestamp: int
    data: Any
    interrupts: NotRequired[tuple[Any, ...]]


class ProtocolEvent(TypedDict):
    """One event of a run stream: a stream part (``values``, ``messages``, ``custom``...) in
    the protocol's envelope, numbered (``seq``) by the root mux in the order it is logged."""

    type: Literal["event"]
    event_id: NotRequired[str]
    seq: NotRequired[int]
    method: str
    params: _ProtocolEventParams


def protocol_event(part: Mapping[str, Any]) -> ProtocolEvent:
    """The protocol event of a v2 stream part (its ``interrupts`` kept, on a values part),
    stamped now, or at the part's own ``timestamp`` (a replayed part's: when the run made it)."""
    params: _ProtocolEventParams = {
        "namespace": list(part["ns"]),
        "timestamp": part.get("timestamp") or int(time.time() * 1000),
        "data": part["data"],
    }
    if "interrupts" in part:
        params["interrupts"] = part["interrupts"]
    return {"type": "event", "method": part["type"], "params": params}


class StreamTransformer(ABC):
    """A projection of a run's protocol events: subclass it to add one of your own.

    ``init`` returns the projection (a dict; its keys become ``run.extensions`` keys, and
    attributes of the run stream too when the class sets ``_native = True``). ``process`` (or
    ``aprocess``, on the async lane) sees every event, in registration order, and returns
    whether the event stays in the run's main log. ``finalize``/``fail`` (and their async
    forms) are told how the run ended; the mux closes or fails the projection's channels
    itself.

    Class attributes:
        requires_async: the transformer needs an event loop (it schedules coroutines).
        supports_sync: it overrides async hooks yet works on the sync lane too.
        required_stream_modes: the stream modes it reads; the run asks the graph for the
            union over its transformers.
        before_builtins: register it before the built-in transformers (to change events,
            for instance redact text, before they copy it).
    """

    requires_async: ClassVar[bool] = False
    supports_sync: ClassVar[bool] = False
    required_stream_modes: ClassVar[tuple[str, ...]] = ()
    before_builtins: ClassVar[bool] = False

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        """Args:
        scope: the namespace of the mux the transformer serves (``()`` at the root).
        """
        self.scope: tuple[str, ...] = scope

    @abstractmethod
    def init(self) -> dict[str, Any]:
        """The projection: named values, its channels among them (the mux wires those)."""

    def _on_register(self, mux: Any) -> None:  # noqa: B027 (an optional hook)
        """Told the mux it was registered with (a transformer that makes child muxes keeps
        it)."""

    def process(self, event: ProtocolEvent) -> bool:
        """Observe ``event`` (sync lane); whether it stays in the main log."""
        raise NotImplementedError(f"{type(self).__name__} must override process() or aprocess()")

    async def aprocess(self, event: ProtocolEvent) -> bool:
        """Observe ``event`` (async lane, awaited before the next transformer sees it)."""
        return self.process(event)

    def finalize(self) -> None:  # noqa: B027 (an optional hook)
        """The run ended normally (sync lane)."""

    async def afinalize(self) -> None:
        """The run ended normally (async lane), after every scheduled coroutine finished."""
        self.finalize()

    def fail(self, err: BaseException) -> None:  # noqa: B027 (an optional hook)
        """The run ended with ``err`` (sync lane)."""

    async def afail(self, err: BaseException) -> None:
        """The run ended with ``err`` (async lane), scheduled coroutines cancelled first."""
        self.fail(err)

    def schedule(
        self,
        coro: Coroutine[Any, Any, Any],
        *,
        on_error: Literal["log", "raise"] = "log",
    ) -> asyncio.Task[Any]:
        """Run ``coro`` alongside the run; the mux awaits it before the run's end is told.

        ``on_error="log"`` logs its exception; ``"raise"`` makes the run fail with it.
        Only under ``astream_events`` (set ``requires_async = True`` on the class).

        Raises:
            RuntimeError: No event loop runs (a sync ``stream_events`` run).
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                f"{type(self).__name__}.schedule() requires a running event loop; this "
                "transformer must run under astream(), not stream(). Set "
                "requires_async=True on the class so this fails at registration rather than "
                "at first event."
            ) from None
        task = asyncio.create_task(_logged(coro) if on_error == "log" else coro)
        tasks = self._scheduled_task_set()
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task

    def _scheduled_task_set(self) -> set[asyncio.Task[Any]]:
        # Made on first use: a subclass need not call super().__init__().
        tasks: set[asyncio.Task[Any]] | None = getattr(self, "_stream_scheduled_tasks", None)
        if tasks is None:
            tasks = set()
            self._stream_scheduled_tasks: set[asyncio.Task[Any]] = tasks
        return tasks


TransformerFactory = Callable[[tuple[str, ...]], StreamTransformer]
"""Makes a transformer for a mux's scope (a transformer class is one)."""


async def _logged(coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        return await coro
    except asyncio.CancelledError:
        raise
    except BaseException:
        _logger.exception("Scheduled StreamTransformer task failed")
        return None


def transformer_requires_async(transformer: StreamTransformer) -> bool:
    """Whether ``transformer`` needs the async lane: it says so, or overrides an async hook
    without saying it supports the sync lane."""
    if transformer.requires_async:
        return True
    if transformer.supports_sync:
        return False
    cls = type(transformer)
    return any(
        getattr(cls, name) is not getattr(StreamTransformer, name)
        for name in ("aprocess", "afinalize", "afail")
    )
