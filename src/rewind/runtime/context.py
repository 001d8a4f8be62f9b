"""What a running node can ask for: its ``Runtime`` (context, stream writer) and config."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field, is_dataclass, replace
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

__all__ = ["ExecutionInfo", "Runtime", "coerce_context", "current_config", "get_runtime"]

ContextT = TypeVar("ContextT")


def _no_writer(_chunk: Any) -> None:
    return None


@dataclass(frozen=True, kw_only=True, slots=True)
class ExecutionInfo:
    """Where the running node is: its checkpoint, namespace, task, thread and run, and which
    attempt this is."""

    checkpoint_id: str
    """The checkpoint its step started from."""
    checkpoint_ns: str
    """Its task's checkpoint namespace (``node:task_id``, under its parents')."""
    task_id: str
    """Its task's id."""
    thread_id: str | None = None
    """The thread the config names (``None`` when it names none)."""
    run_id: str | None = None
    """The ``run_id`` of the config, if it gave one."""
    node_attempt: int = 1
    """Which attempt this is (1 first; more under a retry policy)."""
    node_first_attempt_time: float | None = None
    """When the first attempt started (Unix time, seconds)."""

    def patch(self, **overrides: Any) -> ExecutionInfo:
        """A copy with these fields replaced."""
        return replace(self, **overrides)


def _no_heartbeat() -> None:
    return None


@dataclass(frozen=True, kw_only=True, slots=True)
class Runtime(Generic[ContextT]):
    """The run-time context of a graph run, injected into nodes that ask for ``runtime``."""

    context: ContextT = field(default=None)  # type: ignore[assignment]
    """The ``context=`` the graph was invoked with."""
    store: Any = None
    """The long-term memory store the graph was compiled with (``None`` without one)."""
    stream_writer: Any = field(default=_no_writer)
    """Writes a chunk to the ``custom`` stream mode."""
    previous: Any = None
    """The previous return value of a functional-API entrypoint (unused by StateGraph)."""
    execution_info: ExecutionInfo | None = None
    """Where the running node is (its checkpoint, task, thread, attempt)."""
    heartbeat: Any = field(default=_no_heartbeat)
    """Signals progress to the running attempt's idle timeout (``TimeoutPolicy(idle_timeout=)``):
    the only signal under ``refresh_on="heartbeat"``; does nothing without an idle timeout."""
    server_info: Any = None
    """The deployment a server-started run belongs to
    (:class:`~rewind.runtime.deployment.ServerInfo`; ``None`` in-process)."""
    control: Any = None
    """The run's :class:`~rewind.runtime.control.RunControl` (``None`` outside a root run)."""

    @property
    def drain_requested(self) -> bool:
        """Whether the run was asked to drain (stop before its next step)."""
        return bool(self.control is not None and self.control.drain_requested)

    @property
    def drain_reason(self) -> str | None:
        """Why the run was asked to drain (``None`` when it was not)."""
        return None if self.control is None else self.control.drain_reason

    def merge(self, other: Runtime[ContextT]) -> Runtime[ContextT]:
        """This runtime with ``other``'s set fields."""
        return replace(
            self,
            context=other.context or self.context,
            store=other.store or self.store,
            stream_writer=other.stream_writer or self.stream_writer,
        )


_RUNTIME: contextvars.ContextVar[Runtime[Any] | None] = contextvars.ContextVar(
    "rewind_runtime", default=None
)
current_config: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "rewind_config", default=None
)


def get_runtime(context_schema: Any = None) -> Runtime[Any]:
    """The runtime of the node that is running.

    Raises:
        RuntimeError: when called outside a running graph.
    """
    runtime = _RUNTIME.get()
    if runtime is None:
        raise RuntimeError("Called get_runtime outside of a runnable context")
    return runtime


def coerce_context(context_schema: Any, context: Any) -> Any:
    """A run's ``context=`` as its nodes get it, made as LangGraph makes it: a dict becomes the
    ``context_schema`` when that is a dataclass or a pydantic model (their own errors raised
    for a dict they refuse: a dataclass's ``TypeError``, pydantic's ``ValidationError``);
    anything else, a ``TypedDict`` schema's dict too, is given as it is."""
    if context is None or context_schema is None:
        return context
    # (LangGraph's test, as it is: a schema that is no class raises issubclass's TypeError)
    made = issubclass(context_schema, BaseModel) or is_dataclass(context_schema)
    if isinstance(context, dict) and made:
        return context_schema(**context)
    return context
