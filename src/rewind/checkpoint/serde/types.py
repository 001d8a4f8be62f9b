"""The shapes a serializer recognizes without importing the runtime: channels and sends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, Self, TypeVar, runtime_checkable

__all__ = [
    "ERROR",
    "INTERRUPT",
    "RESUME",
    "SCHEDULED",
    "TASKS",
    "ChannelProtocol",
    "SendProtocol",
]

ERROR = "__error__"
"""The channel name of a task's error write."""
SCHEDULED = "__scheduled__"
"""The channel name of a scheduled task's write."""
INTERRUPT = "__interrupt__"
"""The channel name of an interrupt write."""
RESUME = "__resume__"
"""The channel name of a resume write."""
TASKS = "__pregel_tasks"
"""The channel name of ``Send`` packets."""

Value = TypeVar("Value", covariant=True)
Update = TypeVar("Update", contravariant=True)
C = TypeVar("C")


class ChannelProtocol(Protocol[Value, Update, C]):
    """A channel as LangGraph's engine sees one: a value, updates, a checkpoint."""

    @property
    def ValueType(self) -> Any:
        """The type of the channel's value."""
        ...

    @property
    def UpdateType(self) -> Any:
        """The type of an update."""
        ...

    def checkpoint(self) -> C | None:
        """The channel's checkpointed form."""
        ...

    def from_checkpoint(self, checkpoint: C | None) -> Self:
        """A channel restored from its checkpointed form."""
        ...

    def update(self, values: Sequence[Update]) -> bool:
        """Apply a step's updates; whether the value changed."""
        ...

    def get(self) -> Value:
        """The current value."""
        ...

    def consume(self) -> bool:
        """Mark the value consumed; whether that changed it."""
        ...


@runtime_checkable
class SendProtocol(Protocol):
    """A ``Send``: a node and the argument it is sent."""

    node: str
    arg: Any

    def __hash__(self) -> int: ...

    def __repr__(self) -> str: ...

    def __eq__(self, value: object) -> bool: ...


class _DeltaSnapshot(tuple[Any]):
    """A delta channel's accumulated value, stored whole (msgpack extension code 7)."""

    __slots__ = ()

    def __new__(cls, value: Any) -> _DeltaSnapshot:
        return super().__new__(cls, (value,))

    @property
    def value(self) -> Any:
        """The accumulated value."""
        return self[0]
