"""``EphemeralValue``: the value written in the step just before, cleared after it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic

from rewind.channels.base import MISSING, GuardedValue, Value
from rewind.errors import InvalidUpdateError

__all__ = ("EphemeralValue",)


class EphemeralValue(Generic[Value], GuardedValue[Value]):
    """Holds the value written in the step just before; a step that writes nothing clears it.

    Args:
        typ: The type of the value.
        guard: Refuse more than one write per step (else the last one is kept).
    """

    __slots__ = ()

    def update(self, values: Sequence[Value]) -> bool:
        """Keep the step's write; clear the value after a step without one.

        Raises:
            InvalidUpdateError: several writes in one step, with ``guard``.
        """
        if not values:
            if self.value is MISSING:
                return False
            self.value = MISSING
            return True
        if len(values) != 1 and self.guard:
            raise InvalidUpdateError(
                f"At key '{self.key}': EphemeralValue(guard=True) can receive only one value "
                "per step. Use guard=False if you want to store any one of multiple values."
            )
        self.value = values[-1]
        return True
