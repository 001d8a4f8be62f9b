"""Cooperative draining of a run: LangGraph's ``RunControl``.

``graph.invoke(input, config, control=control)``; later, from any thread (a signal handler,
a shutdown hook, a node), ``control.request_drain("shutdown")``. The run stops before its
next super-step: the step under way finishes and is checkpointed, the run is recorded as
``interrupted`` with ``drained`` (the reason) in its end event, and the caller gets
:class:`~rewind.errors.GraphDrained`. ``invoke(None, config)`` continues it from there. Nodes
see the request as ``runtime.drain_requested`` / ``runtime.drain_reason``. The request is
checked at the root graph's step boundaries (a subgraph runs its steps to its end).
"""

from __future__ import annotations

__all__ = ["Drained", "RunControl"]


class RunControl:
    """A run's drain switch: one per run; once requested, it stays requested."""

    __slots__ = ("_drain_reason",)

    def __init__(self) -> None:
        # One attribute written once: safe to request from any thread without a lock.
        self._drain_reason: str | None = None

    def request_drain(self, reason: str = "shutdown") -> None:
        """Ask the run to stop before its next step."""
        self._drain_reason = reason

    @property
    def drain_requested(self) -> bool:
        """Whether a drain was requested."""
        return self._drain_reason is not None

    @property
    def drain_reason(self) -> str | None:
        """Why (``None`` until requested)."""
        return self._drain_reason


class Drained(Exception):
    """Raised inside the run loop when it stops on a drain request (never seen by users:
    the run ends and its caller gets ``GraphDrained``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        """Why the drain was requested."""
