"""``AnyValue``: the last value written, any number of writes per step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, Self

from rewind.channels.base import MISSING, BaseChannel, Value
from rewind.errors import EmptyChannelError

__all__ = ("AnyValue",)


class AnyValue(Generic[Value], BaseChannel[Value, Value, Value]):
    """Keeps the last value written, assuming a step's several writes are all equal; a step
    that writes nothing empties it."""

    __slots__ = ("value",)

    def __init__(self, typ: Any, key: str = "") -> None:
        super().__init__(typ, key)
        self.value: Any = MISSING

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyValue)

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
        new = self.__class__(self.typ, self.key)
        new.value = self.value
        return new

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """A channel holding ``checkpoint``."""
        new = self.__class__(self.typ, self.key)
        if checkpoint is not MISSING:
            new.value = checkpoint
        return new

    def update(self, values: Sequence[Value]) -> bool:
        """Keep the step's last write; empty after a step without one."""
        if not values:
            if self.value is MISSING:
                return False
            self.value = MISSING
            return True
        self.value = values[-1]
        return True

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
