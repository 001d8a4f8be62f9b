"""``DeltaChannel``: a reducer channel whose reducer takes a whole step's writes at once."""

from __future__ import annotations

import copy as _copy
from collections.abc import Callable, Sequence
from typing import Any, Generic, Self

from rewind.channels.base import MISSING, BaseChannel, Value
from rewind.channels.binop import concrete, one_overwrite, operators_equal, overwrite_of
from rewind.errors import EmptyChannelError

__all__ = ("DeltaChannel",)


class DeltaChannel(Generic[Value], BaseChannel[Any, Any, Any]):
    """A reducer channel called once per step with the step's writes:
    ``reducer(state, [write1, write2, ...]) -> new_state``.

    LangGraph stores only the writes of such a channel and rebuilds its value by replaying
    them; rewind's log records the value after each step, so nothing needs replaying. The
    reducer must give the same state whether writes come in one batch or several.

    Args:
        reducer: ``(state, list[writes]) -> new_state``.
        typ: The value's type (in ``Annotated[T, DeltaChannel(...)]``, ``T``).
        snapshot_frequency: Kept for LangGraph's API (a positive int); rewind's log does
            not need it.
    """

    __slots__ = ("reducer", "snapshot_frequency", "value")

    def __init__(
        self,
        reducer: Callable[[Any, Sequence[Any]], Any],
        typ: type[Value] | None = None,
        *,
        snapshot_frequency: int = 100,
    ) -> None:
        if snapshot_frequency <= 0:
            raise ValueError(f"snapshot_frequency must be a positive int, got {snapshot_frequency}")
        super().__init__(list if typ is None else typ)
        self.reducer = reducer
        self.snapshot_frequency = snapshot_frequency
        self.typ = concrete(self.typ)
        self.value: Any = MISSING

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DeltaChannel)
            and self.snapshot_frequency == other.snapshot_frequency
            and operators_equal(self.reducer, other.reducer)
        )

    __hash__ = BaseChannel.__hash__

    @property
    def ValueType(self) -> Any:
        """The type of the value stored in the channel."""
        return self.typ

    @property
    def UpdateType(self) -> Any:
        """The type of the update received by the channel."""
        return self.typ

    def _new(self) -> Self:
        new = self.__class__(self.reducer, self.typ, snapshot_frequency=self.snapshot_frequency)
        new.key = self.key
        return new

    def copy(self) -> Self:
        """A copy of the channel."""
        new = self._new()
        new.value = self.value if self.value is MISSING else _copy.copy(self.value)
        return new

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """A channel holding ``checkpoint`` (``MISSING``: the type's empty value)."""
        new = self._new()
        new.value = self.typ() if checkpoint is MISSING else checkpoint
        return new

    def replay_writes(self, writes: Sequence[tuple[str, str, Any]]) -> None:
        """Apply earlier writes (``(task_id, channel, value)``, oldest first) in one reducer
        call; the last overwrite among them is where they start from."""
        values = [v for _, _, v in writes]
        if not values:
            return
        base, start = self.value, 0
        for i, value in enumerate(values):
            is_overwrite, replacement = overwrite_of(value)
            if is_overwrite:
                base = _copy.copy(replacement) if replacement is not None else self.typ()
                start = i + 1
        rest = values[start:]
        self.value = self.reducer(base, rest) if rest else base

    def update(self, values: Sequence[Any]) -> bool:
        """Reduce the step's writes in one call (an overwrite replaces the value instead).

        Raises:
            InvalidUpdateError: two overwrites in one step.
        """
        if not values:
            return False
        overwrites = [i for i, v in enumerate(values) if overwrite_of(v)[0]]
        if len(overwrites) > 1:
            raise one_overwrite()
        if overwrites:
            replacement = overwrite_of(values[overwrites[0]])[1]
            self.value = _copy.copy(replacement) if replacement is not None else self.typ()
            return True
        base = self.typ() if self.value is MISSING else self.value
        self.value = self.reducer(base, list(values))
        return True

    def get(self) -> Any:
        """The value."""
        if self.value is MISSING:
            raise EmptyChannelError()
        return self.value

    def is_available(self) -> bool:
        """Whether it holds a value."""
        return self.value is not MISSING

    def checkpoint(self) -> Any:
        """``MISSING``, as LangGraph's (its value is rebuilt from the writes)."""
        return MISSING
