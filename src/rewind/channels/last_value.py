"""``LastValue`` and ``LastValueAfterFinish``: a channel that keeps the last value written."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, Self

from rewind.channels.base import MISSING, BaseChannel, OneValue, Value
from rewind.errors import EmptyChannelError, ErrorCode, InvalidUpdateError, create_error_message

__all__ = ("LastValue", "LastValueAfterFinish")


class LastValue(Generic[Value], OneValue[Value]):
    """Keeps the last value written; takes at most one write per step (the default channel
    of a state key without a reducer)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LastValue)

    __hash__ = BaseChannel.__hash__

    def update(self, values: Sequence[Value]) -> bool:
        """Keep the step's one write.

        Raises:
            InvalidUpdateError: the step wrote more than one value.
        """
        if not values:
            return False
        if len(values) != 1:
            raise InvalidUpdateError(
                create_error_message(
                    message=f"At key '{self.key}': Can receive only one value per step. "
                    "Use an Annotated key to handle multiple values.",
                    error_code=ErrorCode.INVALID_CONCURRENT_GRAPH_UPDATE,
                )
            )
        self.value = values[-1]
        return True


class LastValueAfterFinish(Generic[Value], BaseChannel[Value, Value, tuple[Value, bool]]):
    """Keeps the last value written, readable only once the run is about to finish; a task
    subscribed to it consumes it (LangGraph's channel behind ``defer=True`` nodes)."""

    __slots__ = ("finished", "value")

    def __init__(self, typ: Any, key: str = "") -> None:
        super().__init__(typ, key)
        self.value: Any = MISSING
        self.finished = False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LastValueAfterFinish)

    __hash__ = BaseChannel.__hash__

    @property
    def ValueType(self) -> Any:
        """The type of the value stored in the channel."""
        return self.typ

    @property
    def UpdateType(self) -> Any:
        """The type of the update received by the channel."""
        return self.typ

    def checkpoint(self) -> Any:
        """``(value, finished)``, or ``MISSING`` when empty."""
        if self.value is MISSING:
            return MISSING
        return (self.value, self.finished)

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """A channel holding ``checkpoint`` (``(value, finished)``)."""
        new = self.__class__(self.typ, self.key)
        if checkpoint is not MISSING:
            new.value, new.finished = checkpoint
        return new

    def update(self, values: Sequence[Value]) -> bool:
        """Keep the step's last write, not readable until the run finishes."""
        if not values:
            return False
        self.finished = False
        self.value = values[-1]
        return True

    def consume(self) -> bool:
        """A subscribed task read it: it is empty again."""
        if self.finished:
            self.finished, self.value = False, MISSING
            return True
        return False

    def finish(self) -> bool:
        """The run is finishing: the value becomes readable."""
        if not self.finished and self.value is not MISSING:
            self.finished = True
            return True
        return False

    def get(self) -> Value:
        """The value, once the run is finishing."""
        if self.value is MISSING or not self.finished:
            raise EmptyChannelError()
        return self.value  # type: ignore[no-any-return]

    def is_available(self) -> bool:
        """Whether the value is readable."""
        return self.value is not MISSING and self.finished
