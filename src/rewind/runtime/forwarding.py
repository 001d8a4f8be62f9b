"""The parent's stream as LangGraph hands it to a graph run inside a node (its
``CONFIG_KEY_STREAM``): what a ``RemoteGraph`` node forwards the remote run's chunks into.

A run streamed with ``subgraphs=True`` puts a :class:`ForwardedStream` in its config's
``configurable`` (LangGraph's key, ``__pregel_stream``), and every task's config inherits it,
in subgraphs too. A ``RemoteGraph`` run inside a task reads it as LangGraph's does: it asks
the server for these modes too, and calls it with each chunk of them, ``(namespace, mode,
chunk)``. Each call becomes a ``remote.chunk`` event of the running task, so the parent's
stream, a projection of its log, shows the chunk, live and replayed alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from rewind.events import EventType
from rewind.runtime.calling import current_task
from rewind.runtime.context import current_config
from rewind.runtime.loops import call_on
from rewind.runtime.tasks import task_event

__all__ = ["STREAM_KEY", "ForwardedStream", "with_forwarding"]

STREAM_KEY = "__pregel_stream"
"""The ``configurable`` key of the parent's stream (LangGraph's ``CONFIG_KEY_STREAM``)."""


class ForwardedStream:
    """The parent's stream as a graph run inside one of its tasks sees it (LangGraph's
    ``StreamProtocol``): the modes it shows, and a callable taking ``(namespace, mode,
    chunk)`` that records the chunk as a ``remote.chunk`` event of the running task.

    Args:
        modes: The stream modes the parent's caller asked for (printed ones too).
    """

    __slots__ = ("_loop", "modes")

    def __init__(self, modes: Iterable[str]) -> None:
        self.modes = frozenset(modes)
        """The modes the parent's stream shows."""
        self._loop = asyncio.get_running_loop()

    def __call__(self, chunk: tuple[tuple[str, ...], str, Any]) -> None:
        """Record one chunk, ``(namespace, mode, data)``, in the running task's log (nothing
        outside a task, or once its timed attempt is over)."""
        current = current_task()
        if current is None:
            return
        loop, task = current
        clock = task.clock
        if clock is not None:  # a timed attempt: a chunk is progress, none once it timed out
            if not clock.active:
                return
            clock.progress()
        ns, mode, data = chunk
        metadata = (current_config.get() or {}).get("metadata") or {}
        step = metadata.get("langgraph_step", loop.step + 1)
        payload = {"mode": mode, "ns": list(ns), "chunk": data}
        call_on(self._loop, loop.record, task_event(EventType.REMOTE_CHUNK, task, step, payload))

    def __copy__(self) -> ForwardedStream:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ForwardedStream:
        return self  # (a config copied whole still names the same run's stream)

    def __repr__(self) -> str:
        return f"ForwardedStream(modes={sorted(self.modes)!r})"


def with_forwarding(config: dict[str, Any], modes: Iterable[str]) -> dict[str, Any]:
    """``config`` (a run's) with a :class:`ForwardedStream` of ``modes`` in its
    ``configurable``, as LangGraph's ``stream(subgraphs=True)`` puts its own there (a copy:
    the caller's dict is left as it was)."""
    configurable = {**(config.get("configurable") or {}), STREAM_KEY: ForwardedStream(modes)}
    return {**config, "configurable": configurable}
