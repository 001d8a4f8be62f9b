"""``AnyValue``: the last value written, any number of writes per step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic

from rewind.channels.base import MISSING, BaseChannel, OneValue, Value

__all__ = ("AnyValue",)


class AnyValue(Generic[Value], OneValue[Value]):
    """Keeps the last value written, assuming a step's several writes are all equal; a step
    that writes nothing empties it."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyValue)

    __hash__ = BaseChannel.__hash__

    def update(self, values: Sequence[Value]) -> bool:
        """Keep the step's last write; empty after a step without one."""
        if not values:
            if self.value is MISSING:
                return False
            self.value = MISSING
            return True
        self.value = values[-1]
        return True
