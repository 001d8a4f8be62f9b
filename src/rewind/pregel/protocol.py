"""``PregelProtocol`` and ``StreamProtocol`` (LangGraph's ``langgraph.pregel.protocol``).

``PregelProtocol`` names what a runnable graph offers (run it, stream it, read and update its
state); rewind's compiled graphs and ``Pregel`` programs are registered as implementing it, so
``isinstance(graph, PregelProtocol)`` holds for them as it does for LangGraph's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from rewind.runtime.compiled import CompiledStateGraph
from rewind.types import StateSnapshot, StreamMode

__all__ = ("PregelProtocol", "StreamProtocol")


class PregelProtocol(ABC):
    """What a runnable graph offers; subclass it for a graph-like object of your own."""

    @abstractmethod
    def get_state(self, config: dict[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        """The state of a thread."""

    @abstractmethod
    async def aget_state(self, config: dict[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        """The state of a thread (async)."""

    @abstractmethod
    def get_state_history(self, config: dict[str, Any], **kwargs: Any) -> Iterator[StateSnapshot]:
        """A thread's checkpoints, newest first."""

    @abstractmethod
    def aget_state_history(
        self, config: dict[str, Any], **kwargs: Any
    ) -> AsyncIterator[StateSnapshot]:
        """A thread's checkpoints, newest first (async)."""

    @abstractmethod
    def bulk_update_state(
        self, config: dict[str, Any], supersteps: Sequence[Sequence[Any]]
    ) -> dict[str, Any]:
        """Update a thread's state, a checkpoint per super-step."""

    @abstractmethod
    async def abulk_update_state(
        self, config: dict[str, Any], supersteps: Sequence[Sequence[Any]]
    ) -> dict[str, Any]:
        """Update a thread's state, a checkpoint per super-step (async)."""

    @abstractmethod
    def update_state(
        self, config: dict[str, Any], values: Any, as_node: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Update a thread's state as a node would."""

    @abstractmethod
    async def aupdate_state(
        self, config: dict[str, Any], values: Any, as_node: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Update a thread's state as a node would (async)."""

    @abstractmethod
    def stream(self, input: Any, config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Run and yield stream chunks."""

    @abstractmethod
    def astream(self, input: Any, config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Run and yield stream chunks (async)."""

    @abstractmethod
    def invoke(self, input: Any, config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Run to the end and return the output."""

    @abstractmethod
    async def ainvoke(self, input: Any, config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Run to the end and return the output (async)."""


PregelProtocol.register(CompiledStateGraph)


class StreamProtocol:
    """A callable that takes stream chunks of the ``modes`` it wants (LangGraph's)."""

    __slots__ = ("__call__", "modes")

    modes: set[StreamMode]

    __call__: Callable[[Any], None]

    def __init__(self, __call__: Callable[[Any], None], modes: set[StreamMode]) -> None:
        self.__call__ = __call__
        self.modes = modes
