"""``Topic``: a publish/subscribe list of the values written."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Generic, Self

from rewind.channels.base import MISSING, BaseChannel, Value
from rewind.errors import EmptyChannelError

__all__ = ("Topic",)


def _flatten(values: Sequence[Any]) -> Iterator[Any]:
    for value in values:
        if isinstance(value, list):
            yield from value
        else:
            yield value


class Topic(Generic[Value], BaseChannel[Sequence[Value], Value | list[Value], list[Value]]):
    """The list of the values written (a write of a list adds its items).

    Args:
        typ: The type of the values.
        accumulate: Keep the values of earlier steps (else each step's writes replace them,
            and a step that writes nothing empties it).
    """

    __slots__ = ("accumulate", "values")

    def __init__(self, typ: type[Value], accumulate: bool = False) -> None:
        super().__init__(typ)
        self.accumulate = accumulate
        self.values: list[Any] = []

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Topic) and other.accumulate == self.accumulate

    __hash__ = BaseChannel.__hash__

    @property
    def ValueType(self) -> Any:
        """The type of the value stored in the channel."""
        return Sequence[self.typ]  # type: ignore[name-defined]

    @property
    def UpdateType(self) -> Any:
        """The type of the update received by the channel."""
        return self.typ | list[self.typ]  # type: ignore[name-defined]

    def copy(self) -> Self:
        """A copy of the channel."""
        new = self.__class__(self.typ, self.accumulate)
        new.key, new.values = self.key, self.values.copy()
        return new

    def checkpoint(self) -> Any:
        """The values."""
        return self.values

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """A channel holding ``checkpoint``."""
        new = self.__class__(self.typ, self.accumulate)
        new.key = self.key
        if checkpoint is not MISSING:
            new.values = list(checkpoint[1] if isinstance(checkpoint, tuple) else checkpoint)
        return new

    def update(self, values: Sequence[Value | list[Value]]) -> bool:
        """Add the step's writes (replacing the earlier steps' unless ``accumulate``)."""
        updated = False
        if not self.accumulate:
            updated = bool(self.values)
            self.values = []
        if flat := tuple(_flatten(values)):
            updated = True
            self.values.extend(flat)
        return updated

    def get(self) -> Sequence[Value]:
        """The values (a new list)."""
        if self.values:
            return list(self.values)
        raise EmptyChannelError

    def is_available(self) -> bool:
        """Whether it holds any value."""
        return bool(self.values)
