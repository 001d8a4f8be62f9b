"""``UntrackedValue``: the last value written, never checkpointed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, Self

from rewind.channels.base import MISSING, GuardedValue, Value
from rewind.errors import InvalidUpdateError

__all__ = ("UntrackedValue",)


class UntrackedValue(Generic[Value], GuardedValue[Value]):
    """Keeps the last value written for the rest of the run, but never in a checkpoint: the
    state a checkpoint holds (``get_state``, the next run on the thread) lacks it. rewind's
    log records its writes all the same, so the run's streams replay as they ran.

    Args:
        typ: The type of the value.
        guard: Refuse more than one write per step (else the last one is kept).
    """

    __slots__ = ()

    def checkpoint(self) -> Any:
        """Always ``MISSING``: the value is never checkpointed."""
        return MISSING

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """An empty channel (a checkpoint never holds its value)."""
        return self._empty()

    def update(self, values: Sequence[Value]) -> bool:
        """Keep the step's write.

        Raises:
            InvalidUpdateError: several writes in one step, with ``guard``.
        """
        if not values:
            return False
        if len(values) != 1 and self.guard:
            raise InvalidUpdateError(
                f"At key '{self.key}': UntrackedValue(guard=True) can receive only one value "
                "per step. Use guard=False if you want to store any one of multiple values."
            )
        self.value = values[-1]
        return True
