"""``NamedBarrierValue`` and ``NamedBarrierValueAfterFinish``: wait for every named writer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, Self

from rewind.channels.base import MISSING, BaseChannel, Value
from rewind.errors import EmptyChannelError, InvalidUpdateError

__all__ = ("NamedBarrierValue", "NamedBarrierValueAfterFinish")


class NamedBarrierValue(Generic[Value], BaseChannel[Value, Value, set[Value]]):
    """Available (its value ``None``) once every name in ``names`` was written; a task
    subscribed to it consumes it (LangGraph's channel behind an edge from several nodes).

    Args:
        typ: The type of the names.
        names: The names to wait for.
    """

    __slots__ = ("names", "seen")

    def __init__(self, typ: type[Value], names: set[Value]) -> None:
        super().__init__(typ)
        self.names = names
        self.seen: set[Any] = set()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NamedBarrierValue) and other.names == self.names

    __hash__ = BaseChannel.__hash__

    @property
    def ValueType(self) -> Any:
        """The type of the value stored in the channel."""
        return self.typ

    @property
    def UpdateType(self) -> Any:
        """The type of the update received by the channel."""
        return self.typ

    def copy(self) -> Self:
        """A copy of the channel."""
        new = self.__class__(self.typ, self.names)
        new.key, new.seen = self.key, self.seen.copy()
        return new

    def checkpoint(self) -> Any:
        """The names seen."""
        return self.seen

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """A channel that has seen ``checkpoint``."""
        new = self.__class__(self.typ, self.names)
        new.key = self.key
        if checkpoint is not MISSING:
            new.seen = set(checkpoint)
        return new

    def update(self, values: Sequence[Value]) -> bool:
        """Mark the names written.

        Raises:
            InvalidUpdateError: a name it does not wait for.
        """
        return _see(self, values)

    def get(self) -> Value:
        """``None``, once every name was seen."""
        if self.seen != self.names:
            raise EmptyChannelError()
        return None  # type: ignore[return-value]

    def is_available(self) -> bool:
        """Whether every name was seen."""
        return self.seen == self.names

    def consume(self) -> bool:
        """A subscribed task ran: wait for every name again."""
        if self.seen == self.names:
            self.seen = set()
            return True
        return False


class NamedBarrierValueAfterFinish(Generic[Value], BaseChannel[Value, Value, set[Value]]):
    """As :class:`NamedBarrierValue`, but available only once the run is about to finish
    (LangGraph's channel behind an edge from several nodes to a ``defer=True`` node)."""

    __slots__ = ("finished", "names", "seen")

    def __init__(self, typ: type[Value], names: set[Value]) -> None:
        super().__init__(typ)
        self.names = names
        self.seen: set[Any] = set()
        self.finished = False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NamedBarrierValueAfterFinish) and other.names == self.names

    __hash__ = BaseChannel.__hash__

    @property
    def ValueType(self) -> Any:
        """The type of the value stored in the channel."""
        return self.typ

    @property
    def UpdateType(self) -> Any:
        """The type of the update received by the channel."""
        return self.typ

    def copy(self) -> Self:
        """A copy of the channel."""
        new = self.__class__(self.typ, self.names)
        new.key, new.seen, new.finished = self.key, self.seen.copy(), self.finished
        return new

    def checkpoint(self) -> Any:
        """``(names seen, finished)``."""
        return (self.seen, self.finished)

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """A channel holding ``checkpoint``."""
        new = self.__class__(self.typ, self.names)
        new.key = self.key
        if checkpoint is not MISSING:
            seen, new.finished = checkpoint
            new.seen = set(seen)
        return new

    def update(self, values: Sequence[Value]) -> bool:
        """Mark the names written.

        Raises:
            InvalidUpdateError: a name it does not wait for.
        """
        return _see(self, values)

    def get(self) -> Value:
        """``None``, once every name was seen and the run is finishing."""
        if not self.finished or self.seen != self.names:
            raise EmptyChannelError()
        return None  # type: ignore[return-value]

    def is_available(self) -> bool:
        """Whether every name was seen and the run is finishing."""
        return self.finished and self.seen == self.names

    def consume(self) -> bool:
        """A subscribed task ran: wait for every name again."""
        if self.finished and self.seen == self.names:
            self.finished, self.seen = False, set()
            return True
        return False

    def finish(self) -> bool:
        """The run is finishing: available if every name was seen."""
        if not self.finished and self.seen == self.names:
            self.finished = True
            return True
        return False


def _see(channel: NamedBarrierValue[Any] | NamedBarrierValueAfterFinish[Any], values: Any) -> bool:
    updated = False
    for value in values:
        if value not in channel.names:
            raise InvalidUpdateError(
                f"At key '{channel.key}': Value {value} not in {channel.names}"
            )
        if value not in channel.seen:
            channel.seen.add(value)
            updated = True
    return updated
