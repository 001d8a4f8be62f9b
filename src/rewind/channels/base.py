"""``BaseChannel``: what a channel is, as LangGraph defines it.

A channel holds one value of a graph's state (or of a low-level ``Pregel`` program) and says
how the writes of a super-step combine into it. rewind's runtime applies a channel's writes
through these methods and records the value after them in the run's log, so a replay needs
none of the channel's code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Generic, Self, TypeVar

from rewind.errors import EmptyChannelError

__all__ = ("BaseChannel",)

Value = TypeVar("Value")
Update = TypeVar("Update")
Checkpoint = TypeVar("Checkpoint")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""The value of a channel nothing has written yet."""


class BaseChannel(Generic[Value, Update, Checkpoint], ABC):
    """Base class for all channels.

    Args:
        typ: The type of the channel's value.
        key: The name of the channel (set by the graph that uses it).
    """

    __slots__ = ("key", "typ")

    def __init__(self, typ: Any, key: str = "") -> None:
        self.typ = typ
        self.key = key

    @property
    @abstractmethod
    def ValueType(self) -> Any:
        """The type of the value stored in the channel."""

    @property
    @abstractmethod
    def UpdateType(self) -> Any:
        """The type of the update received by the channel."""

    def copy(self) -> Self:
        """A copy of the channel (through :meth:`checkpoint` and :meth:`from_checkpoint`)."""
        return self.from_checkpoint(self.checkpoint())

    def checkpoint(self) -> Checkpoint | Any:
        """A serializable representation of the channel's state (``MISSING`` when empty)."""
        try:
            return self.get()
        except EmptyChannelError:
            return MISSING

    @abstractmethod
    def from_checkpoint(self, checkpoint: Checkpoint | Any) -> Self:
        """A new channel like this one, holding ``checkpoint`` (``MISSING``: empty)."""

    @abstractmethod
    def get(self) -> Value:
        """The channel's value.

        Raises:
            EmptyChannelError: nothing was written to it yet (or it was cleared).
        """

    def is_available(self) -> bool:
        """Whether the channel has a value."""
        try:
            self.get()
            return True
        except EmptyChannelError:
            return False

    @abstractmethod
    def update(self, values: Sequence[Update]) -> bool:
        """Apply a super-step's writes (an empty sequence when the step wrote none).

        Returns:
            Whether the channel changed.

        Raises:
            InvalidUpdateError: the writes cannot be combined.
        """

    def consume(self) -> bool:
        """A task subscribed to the channel ran; whether that changed the channel."""
        return False

    def finish(self) -> bool:
        """The run is about to finish; whether that changed the channel."""
        return False


class OneValue(BaseChannel[Value, Value, Value]):
    """What the channels holding one value written as it is share (``LastValue``,
    ``AnyValue``, ``EphemeralValue``, ``UntrackedValue``): the value (``MISSING`` when
    empty), read, checkpointed and copied alike; each says how a step's writes set it
    (:meth:`update`) and what a copy is made with (:meth:`_empty`). Not part of LangGraph's
    API: each of those subclasses ``BaseChannel`` directly there."""

    __slots__ = ("value",)

    def __init__(self, typ: Any, key: str = "") -> None:
        super().__init__(typ, key)
        self.value: Any = MISSING

    @property
    def ValueType(self) -> Any:
        """The type of the value stored in the channel."""
        return self.typ

    @property
    def UpdateType(self) -> Any:
        """The type of the update received by the channel."""
        return self.typ

    def _empty(self) -> Self:
        """An empty channel like this one (same type, key and options)."""
        return self.__class__(self.typ, self.key)

    def copy(self) -> Self:
        """A copy of the channel."""
        new = self._empty()
        new.value = self.value
        return new

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """A channel holding ``checkpoint``."""
        new = self._empty()
        if checkpoint is not MISSING:
            new.value = checkpoint
        return new

    def get(self) -> Value:
        """The value."""
        if self.value is MISSING:
            raise EmptyChannelError()
        return self.value  # type: ignore[no-any-return]

    def is_available(self) -> bool:
        """Whether it holds a value."""
        return self.value is not MISSING

    def checkpoint(self) -> Any:
        """The value (``MISSING`` when empty)."""
        return self.value


class GuardedValue(OneValue[Value]):
    """A :class:`OneValue` made with ``(typ, guard)`` (``EphemeralValue``, ``UntrackedValue``):
    ``guard`` refuses more than one write per step; equal channels are of one class and
    guard."""

    __slots__ = ("guard",)

    def __init__(self, typ: Any, guard: bool = True) -> None:
        super().__init__(typ)
        self.guard = guard

    def _empty(self) -> Self:
        new = self.__class__(self.typ, self.guard)
        new.key = self.key
        return new

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and other.guard == self.guard

    __hash__ = BaseChannel.__hash__
