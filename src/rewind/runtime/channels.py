"""State channels: what each key of a graph's state is and how writes to it combine.

A key without a reducer keeps the last value written (and takes one write per step); a key
annotated with a reducer (``Annotated[list, operator.add]``, ``add_messages``) folds every write
into its value. Each channel also says how the log folds it back without the graph's code:
``set`` (last value), ``add`` (``operator.add``), ``messages`` (``add_messages``) or ``value``
(a user's reducer: the log records the value after it).
"""

from __future__ import annotations

import collections.abc
import inspect
import operator
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rewind.errors import ErrorCode, InvalidUpdateError, create_error_message
from rewind.managed.base import ManagedValueSpec, is_managed_value
from rewind.types import Overwrite

__all__ = ["MISSING", "Channel", "FoldKind", "channels_for_schema", "managed_of_schema"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""The value of a channel nothing has written yet."""

FoldKind = Literal["set", "add", "messages", "value"]


@dataclass(kw_only=True, slots=True)
class Channel:
    """One key of the state."""

    name: str
    """The key."""
    annotation: Any
    """Its type annotation."""
    reducer: Callable[[Any, Any], Any] | None = None
    """How writes combine; ``None`` keeps the last value."""
    fold: FoldKind = "set"
    """How the log folds this channel's writes back into a value."""
    empty: Callable[[], Any] | None = field(default=None, repr=False)
    """Builds the initial value of a reducer channel (``[]`` for a list), if it has one."""

    def initial(self) -> Any:
        """The value before anything is written."""
        if self.empty is None:
            return MISSING
        try:
            return self.empty()
        except Exception:
            return MISSING

    def apply(self, current: Any, writes: Sequence[Any]) -> Any:
        """The value after this step's ``writes`` (in task order).

        Raises:
            InvalidUpdateError: two writes to a last-value key in one step, or two overwrites.
        """
        if self.reducer is None:
            if len(writes) > 1:
                raise InvalidUpdateError(
                    create_error_message(
                        message=f"At key '{self.name}': Can receive only one value per step. "
                        "Use an Annotated key to handle multiple values.",
                        error_code=ErrorCode.INVALID_CONCURRENT_GRAPH_UPDATE,
                    )
                )
            value = writes[-1]
            return value.value if isinstance(value, Overwrite) else value
        value = current
        seen_overwrite = False
        for write in writes:
            if isinstance(write, Overwrite):
                if seen_overwrite:
                    raise InvalidUpdateError(
                        create_error_message(
                            message="Can receive only one Overwrite value per super-step.",
                            error_code=ErrorCode.INVALID_CONCURRENT_GRAPH_UPDATE,
                        )
                    )
                seen_overwrite, value = True, write.value
            elif seen_overwrite:
                continue  # an overwrite wins over the step's other writes
            elif value is MISSING:
                value = write
            else:
                value = self.reducer(value, write)
        return value


def channels_for_schema(schema: Any) -> dict[str, Channel]:
    """The channels of a state schema (TypedDict, dataclass or pydantic model): its keys but
    the managed values (see :func:`managed_of_schema`)."""
    hints = typing.get_type_hints(schema, include_extras=True)
    return {
        name: _channel(name, hint)
        for name, hint in hints.items()
        if name != "__slots__" and _managed(hint) is None
    }


def managed_of_schema(schema: Any) -> dict[str, ManagedValueSpec]:
    """The keys of a state schema that are managed values (``RemainingSteps``, ...), in
    schema order."""
    hints = typing.get_type_hints(schema, include_extras=True)
    return {name: spec for name, hint in hints.items() if (spec := _managed(hint)) is not None}


def _managed(hint: Any) -> ManagedValueSpec | None:
    meta = getattr(hint, "__metadata__", ())
    if meta:
        decoration = typing.get_origin(meta[-1]) or meta[-1]
        if is_managed_value(decoration):
            return decoration
    args = typing.get_args(hint)  # Required[...], NotRequired[...], Optional[...]
    if typing.get_origin(hint) is not None and args and not meta:
        return _managed(args[0])
    return None


def _channel(name: str, hint: Any) -> Channel:
    hint = _strip_required(hint)
    reducer = _reducer(hint)
    if reducer is None:
        return Channel(name=name, annotation=hint)
    base = _strip_required(hint.__origin__)
    return Channel(
        name=name,
        annotation=hint,
        reducer=reducer,
        fold=_fold_kind(reducer),
        empty=_empty_factory(base),
    )


def _strip_required(hint: Any) -> Any:
    origin = getattr(hint, "__origin__", None)
    if origin in (typing.Required, typing.NotRequired):
        return hint.__args__[0]
    return hint


def _reducer(hint: Any) -> Callable[[Any, Any], Any] | None:
    meta = getattr(hint, "__metadata__", ())
    if not meta or not callable(meta[-1]):
        return None
    reducer = meta[-1]
    params = list(inspect.signature(reducer).parameters.values())
    positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    if positional != 2:
        raise ValueError(
            f"Invalid reducer signature. Expected (a, b) -> c. Got {inspect.signature(reducer)}"
        )
    return typing.cast(Callable[[Any, Any], Any], reducer)


def _fold_kind(reducer: Callable[[Any, Any], Any]) -> FoldKind:
    if reducer is operator.add:
        return "add"
    if getattr(reducer, "__name__", "") == "add_messages" and getattr(
        reducer, "__module__", ""
    ).endswith("graph.message"):
        return "messages"
    return "value"


def _empty_factory(base: Any) -> Callable[[], Any] | None:
    typ = typing.get_origin(base) or base
    if typ in (collections.abc.Sequence, collections.abc.MutableSequence):
        typ = list
    elif typ in (collections.abc.Set, collections.abc.MutableSet):
        typ = set
    elif typ in (collections.abc.Mapping, collections.abc.MutableMapping):
        typ = dict
    if not callable(typ):
        return None
    return typing.cast(Callable[[], Any], typ)


def state_values(channels: Mapping[str, Channel], values: Mapping[str, Any]) -> dict[str, Any]:
    """The state as a dict: every channel that has a value, in schema order."""
    return {name: values[name] for name in channels if values.get(name, MISSING) is not MISSING}
