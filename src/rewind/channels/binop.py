"""``BinaryOperatorAggregate``: a reducer channel (``Annotated[list, operator.add]``)."""

from __future__ import annotations

import collections.abc
from collections.abc import Callable, Sequence
from typing import Any, Generic, NotRequired, Required, Self

from rewind.channels.base import MISSING, BaseChannel, Value
from rewind.errors import EmptyChannelError, ErrorCode, InvalidUpdateError, create_error_message
from rewind.types import Overwrite

__all__ = ("BinaryOperatorAggregate",)

_OVERWRITE = "__overwrite__"


def strip_extras(typ: Any) -> Any:
    """``typ`` without ``Annotated``, ``Required`` and ``NotRequired``, and its arguments."""
    if hasattr(typ, "__origin__"):
        if typ.__origin__ in (Required, NotRequired):
            return strip_extras(typ.__args__[0])
        return strip_extras(typ.__origin__)
    return typ


def concrete(typ: Any) -> Any:
    """The class that builds an empty value of ``typ`` (``list`` for a ``Sequence``...)."""
    typ = strip_extras(typ)
    if typ in (collections.abc.Sequence, collections.abc.MutableSequence):
        return list
    if typ in (collections.abc.Set, collections.abc.MutableSet):
        return set
    if typ in (collections.abc.Mapping, collections.abc.MutableMapping):
        return dict
    return typ


def overwrite_of(value: Any) -> tuple[bool, Any]:
    """Whether ``value`` is an overwrite (``Overwrite(v)``, ``{"__overwrite__": v}`` or its
    JSON form ``{"type": "__overwrite__", "value": v}``), and the value it sets."""
    if isinstance(value, Overwrite):
        return True, value.value
    if isinstance(value, dict):
        if len(value) == 1 and _OVERWRITE in value:
            return True, value[_OVERWRITE]
        if value.get("type") == _OVERWRITE and "value" in value:
            return True, value["value"]
    return False, None


def operators_equal(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    """Whether two reducers count as the same (any lambda equals any other, as in
    LangGraph: they cannot be told apart by name)."""
    if getattr(a, "__name__", "") == "<lambda>" or getattr(b, "__name__", "") == "<lambda>":
        return True
    return a is b


def one_overwrite() -> InvalidUpdateError:
    """The error of a step with two overwrites of one channel."""
    return InvalidUpdateError(
        create_error_message(
            message="Can receive only one Overwrite value per super-step.",
            error_code=ErrorCode.INVALID_CONCURRENT_GRAPH_UPDATE,
        )
    )


class BinaryOperatorAggregate(Generic[Value], BaseChannel[Value, Value, Value]):
    """Combines each write into the value with a binary operator, starting from the type's
    empty value (``0`` for ``int``, ``[]`` for ``list``)::

        total = BinaryOperatorAggregate(int, operator.add)

    An ``Overwrite(value)`` write replaces the value instead (one per step).
    """

    __slots__ = ("operator", "value")

    def __init__(self, typ: type[Value], operator: Callable[[Value, Value], Value]) -> None:
        super().__init__(typ)
        self.operator = operator
        try:
            self.value: Any = concrete(typ)()
        except Exception:
            self.value = MISSING

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BinaryOperatorAggregate) and operators_equal(
            self.operator, other.operator
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

    def copy(self) -> Self:
        """A copy of the channel."""
        new = self.__class__(self.typ, self.operator)
        new.key, new.value = self.key, self.value
        return new

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """A channel holding ``checkpoint``."""
        new = self.__class__(self.typ, self.operator)
        new.key = self.key
        if checkpoint is not MISSING:
            new.value = checkpoint
        return new

    def update(self, values: Sequence[Value]) -> bool:
        """Combine the step's writes in order.

        Raises:
            InvalidUpdateError: two overwrites in one step.
        """
        if not values:
            return False
        if self.value is MISSING:
            self.value, values = values[0], values[1:]
        seen_overwrite = False
        for value in values:
            is_overwrite, replacement = overwrite_of(value)
            if is_overwrite:
                if seen_overwrite:
                    raise one_overwrite()
                self.value, seen_overwrite = replacement, True
            elif not seen_overwrite:
                self.value = self.operator(self.value, value)
        return True

    def get(self) -> Value:
        """The combined value."""
        if self.value is MISSING:
            raise EmptyChannelError()
        return self.value  # type: ignore[no-any-return]

    def is_available(self) -> bool:
        """Whether it holds a value."""
        return self.value is not MISSING

    def checkpoint(self) -> Any:
        """The value (``MISSING`` when empty)."""
        return self.value
