"""Graph lifecycle callbacks (LangGraph's ``langgraph.callbacks``): a
:class:`GraphCallbackHandler` passed in ``config["callbacks"]`` is told when a run pauses at
interrupts (``on_interrupt``) and when a run resumes from a checkpoint (``on_resume``).

rewind tells the handlers of the graph run itself (the root graph; a subgraph's pause reaches
them as its parent's)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler, BaseCallbackManager
from langchain_core.callbacks.manager import ahandle_event, handle_event

from rewind.types import Interrupt

__all__ = (
    "GraphCallbackHandler",
    "GraphInterruptEvent",
    "GraphLifecycleEvent",
    "GraphLifecycleStatus",
    "GraphResumeEvent",
    "get_async_graph_callback_manager_for_config",
    "get_sync_graph_callback_manager_for_config",
)

GraphLifecycleStatus: TypeAlias = Literal[
    "input", "pending", "done", "interrupt_before", "interrupt_after", "out_of_steps"
]
"""The loop's status a lifecycle event reports."""


@dataclass(frozen=True)
class GraphInterruptEvent:
    """A run paused at interrupts (or a static breakpoint: no interrupts)."""

    run_id: UUID | None
    """The graph run's id."""
    status: GraphLifecycleStatus
    """``pending`` (nodes interrupted), ``interrupt_before`` or ``interrupt_after``."""
    checkpoint_id: str
    """The checkpoint the run paused at."""
    checkpoint_ns: tuple[str, ...]
    """The namespace of the graph that paused (``()``: the root)."""
    interrupts: tuple[Interrupt[Any], ...]
    """What the nodes asked (none at a static breakpoint)."""


@dataclass(frozen=True)
class GraphResumeEvent:
    """A run resumed from a checkpoint."""

    run_id: UUID | None
    """The graph run's id."""
    status: GraphLifecycleStatus
    """The loop's status as it resumed."""
    checkpoint_id: str
    """The checkpoint it resumed from."""
    checkpoint_ns: tuple[str, ...]
    """The namespace of the graph that resumed (``()``: the root)."""


GraphLifecycleEvent: TypeAlias = GraphInterruptEvent | GraphResumeEvent
"""Either lifecycle event."""


class GraphCallbackHandler(BaseCallbackHandler):
    """Subclass and pass in ``config["callbacks"]`` to observe a graph run's pauses and
    resumes; only handlers of this class are told."""

    def on_interrupt(self, event: GraphInterruptEvent) -> Any:
        """The run paused at interrupts."""

    def on_resume(self, event: GraphResumeEvent) -> Any:
        """The run resumed from a checkpoint."""


def graph_handlers(callbacks: Any) -> list[GraphCallbackHandler]:
    """The lifecycle handlers among a config's ``callbacks`` (a list, or a manager)."""
    if isinstance(callbacks, BaseCallbackManager):
        callbacks = callbacks.handlers
    return [h for h in callbacks or () if isinstance(h, GraphCallbackHandler)]


class _GraphCallbackManager:
    """Tells a run's lifecycle handlers (errors in a handler are logged, as LangChain's)."""

    def __init__(self, handlers: Sequence[GraphCallbackHandler], run_id: UUID | None) -> None:
        self.handlers = list(handlers)
        self.run_id = run_id

    def on_interrupt(self, event: GraphInterruptEvent) -> None:
        handle_event(self.handlers, "on_interrupt", None, event)  # type: ignore[arg-type]

    def on_resume(self, event: GraphResumeEvent) -> None:
        handle_event(self.handlers, "on_resume", None, event)  # type: ignore[arg-type]


class _AsyncGraphCallbackManager(_GraphCallbackManager):
    async def aon_interrupt(self, event: GraphInterruptEvent) -> None:
        await ahandle_event(self.handlers, "on_interrupt", None, event)  # type: ignore[arg-type]

    async def aon_resume(self, event: GraphResumeEvent) -> None:
        await ahandle_event(self.handlers, "on_resume", None, event)  # type: ignore[arg-type]


def get_sync_graph_callback_manager_for_config(
    config: Any, run_id: UUID | None = None
) -> _GraphCallbackManager:
    """What tells the lifecycle handlers of ``config``'s callbacks."""
    return _GraphCallbackManager(graph_handlers((config or {}).get("callbacks")), run_id)


def get_async_graph_callback_manager_for_config(
    config: Any, run_id: UUID | None = None
) -> _AsyncGraphCallbackManager:
    """:func:`get_sync_graph_callback_manager_for_config`, for async code."""
    return _AsyncGraphCallbackManager(graph_handlers((config or {}).get("callbacks")), run_id)
