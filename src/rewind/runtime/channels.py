"""State channels: what each key of a graph's state is and how writes to it combine.

A key without a reducer keeps the last value written (and takes one write per step); a key
annotated with a reducer (``Annotated[list, operator.add]``, ``add_messages``) folds every write
into its value. Each channel also says how the log folds it back without the graph's code:
``set`` (last value), ``add`` (``operator.add``), ``messages`` (``add_messages``) or ``value``
(a user's reducer: the log records the value after it).

A key annotated with one of LangGraph's channels (``Annotated[list[str], Topic(str)]``,
``Annotated[str, EphemeralValue]``) behaves as that channel does: ``LastValue`` and
``BinaryOperatorAggregate`` are the two kinds above; the others (:data:`SPEC_CHANNELS`) apply
their writes through the channel's own ``update``, and the log records the value after it (or
that the step emptied it). The channels that hide what they hold (:data:`HIDDEN_CHANNELS`:
``LastValueAfterFinish``, the named barriers) show their value once it is available; what
they hold besides (the value written, the names seen) is recorded with the checkpoint's join
progress (:func:`hidden_key`), as :func:`hidden_state` lays it out.
"""

from __future__ import annotations

import collections.abc
import inspect
import operator
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rewind.channels import (
    AnyValue,
    BaseChannel,
    BinaryOperatorAggregate,
    DeltaChannel,
    EphemeralValue,
    LastValue,
    LastValueAfterFinish,
    NamedBarrierValue,
    NamedBarrierValueAfterFinish,
    Topic,
    UntrackedValue,
)
from rewind.channels.base import MISSING
from rewind.errors import ErrorCode, InvalidUpdateError, create_error_message
from rewind.managed.base import ManagedValueSpec, is_managed_value
from rewind.types import Overwrite

__all__ = [
    "HIDDEN_CHANNELS",
    "MISSING",
    "Channel",
    "FoldKind",
    "channels_for_schema",
    "hidden_key",
    "managed_of_schema",
    "refused",
    "value_change",
]

SPEC_CHANNELS: tuple[type[BaseChannel[Any, Any, Any]], ...] = (
    AnyValue,
    EphemeralValue,
    UntrackedValue,
    Topic,
    DeltaChannel,
)
"""LangGraph channels a state key may be annotated with besides ``LastValue`` and
``BinaryOperatorAggregate``: their value is all their state, so the log's record of it is
enough to rebuild them (``LastValueAfterFinish`` and the barriers hide a pending value)."""

HIDDEN_CHANNELS: tuple[type[BaseChannel[Any, Any, Any]], ...] = (
    LastValueAfterFinish,
    NamedBarrierValue,
    NamedBarrierValueAfterFinish,
)
"""LangGraph channels whose value is not all they hold: a value written and not readable
until the run finishes, names seen before all of them are."""

HIDDEN = "__hidden__:"
"""The prefix of a hidden channel's entry among a checkpoint's join progress."""


def refused(
    channels: Mapping[str, Channel],
    barriers: Mapping[str, list[Any]],
    writes: Sequence[tuple[str, Any]],
) -> bool:
    """Whether a step's ``writes`` would be refused by a channel (see :meth:`Channel.refuses`;
    ``barriers``: the join progress, where hidden channels keep what they hold)."""
    grouped: dict[str, list[Any]] = {}
    for name, value in writes:
        grouped.setdefault(name, []).append(value)
    return any(
        channels[name].refuses(barriers.get(hidden_key(name)), values)
        for name, values in grouped.items()
        if name in channels
    )


def hidden_key(name: str) -> str:
    """Where a checkpoint's join progress keeps what channel ``name`` holds unseen."""
    return HIDDEN + name


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
    spec: BaseChannel[Any, Any, Any] | None = field(default=None, repr=False)
    """The LangGraph channel the key was annotated with, when its writes go through it (one
    of :data:`SPEC_CHANNELS`); its value is what the channel's ``get`` returns."""
    key: str | None = None
    """The key its errors name, when not :attr:`name` (a ``Pregel`` channel's own, ``""``
    unless it was given one, as LangGraph's)."""

    @property
    def hidden(self) -> bool:
        """Whether it holds more than it shows (one of :data:`HIDDEN_CHANNELS`)."""
        # (most keys have no spec: no check against the channel classes, abstract ones)
        return self.spec is not None and isinstance(self.spec, HIDDEN_CHANNELS)

    def apply_hidden(self, state: list[Any] | None, writes: Sequence[Any]) -> tuple[list[Any], Any]:
        """A hidden channel's writes: what it holds after them (see :func:`hidden_state`) and
        the value it shows (``MISSING`` while none).

        Raises:
            InvalidUpdateError: a name a barrier does not wait for.
        """
        assert self.spec is not None
        channel = _restored(self.spec, state)
        channel.update(writes)
        return hidden_state(channel), _visible(channel)

    def finish_hidden(self, state: list[Any] | None) -> tuple[list[Any], Any] | None:
        """A hidden channel told the run is about to finish: what it holds and shows then,
        or ``None`` when that changed nothing."""
        assert self.spec is not None
        channel = _restored(self.spec, state)
        if not channel.finish():
            return None
        return hidden_state(channel), _visible(channel)

    def consume_hidden(self, state: list[Any] | None) -> tuple[list[Any], Any] | None:
        """A hidden channel read by a task subscribed to it (a ``Pregel`` node): what it
        holds and shows then, or ``None`` when that changed nothing (LangGraph's
        ``consume()``: a barrier waits for every name again, an after-finish value empties)."""
        assert self.spec is not None
        channel = _restored(self.spec, state)
        if not channel.consume():
            return None
        return hidden_state(channel), _visible(channel)

    @property
    def untracked(self) -> bool:
        """Whether its value stays out of checkpoints (an ``UntrackedValue``)."""
        return self.spec is not None and isinstance(self.spec, UntrackedValue)

    def initial(self) -> Any:
        """The value before anything is written."""
        if self.spec is not None:
            return _visible(self.spec.from_checkpoint(MISSING))
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
        if self.hidden and self.spec is not None:  # what it held unseen is not at hand
            return self.apply_hidden(_state_shown(self.spec, current), writes)[1]
        if self.spec is not None:
            channel = self.spec.from_checkpoint(current)
            channel.update(writes)
            return _visible(channel)
        if self.reducer is None:
            if len(writes) > 1:
                raise InvalidUpdateError(
                    create_error_message(
                        message=f"At key '{self.name if self.key is None else self.key}': "
                        "Can receive only one value per step. "
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

    def refuses(self, held: list[Any] | None, writes: Sequence[Any]) -> bool:
        """Whether :meth:`apply` (:meth:`apply_hidden` for a hidden channel, ``held``: what
        it holds) would refuse ``writes`` with an ``InvalidUpdateError``; told without
        applying them (no reducer is run)."""
        if self.hidden:
            try:
                self.apply_hidden(held, writes)  # (on a channel restored anew)
            except InvalidUpdateError:
                return True
            return False
        if self.spec is not None:  # (an EphemeralValue or UntrackedValue with its guard)
            return len(writes) > 1 and bool(getattr(self.spec, "guard", False))
        if self.reducer is None:
            return len(writes) > 1
        return sum(isinstance(w, Overwrite) for w in writes) > 1

    def after_step(self, current: Any) -> Any:
        """The value after a super-step that wrote nothing to it (an ``EphemeralValue``, an
        ``AnyValue`` or a ``Topic`` without ``accumulate`` empties then)."""
        if self.spec is None or self.hidden:  # (a hidden channel: nothing, in LangGraph)
            return current
        channel = self.spec.from_checkpoint(current)
        return _visible(channel) if channel.update([]) else current


def _visible(channel: BaseChannel[Any, Any, Any]) -> Any:
    return channel.get() if channel.is_available() else MISSING


def hidden_state(channel: BaseChannel[Any, Any, Any]) -> list[Any]:
    """What a hidden channel holds, as a checkpoint's join progress keeps it:
    ``[value, finished]`` (``[]`` when empty) for ``LastValueAfterFinish``, the names seen
    for ``NamedBarrierValue``, ``[names seen, finished]`` for its "after finish" kind."""
    saved = channel.checkpoint()
    if isinstance(channel, LastValueAfterFinish):
        return [] if saved is MISSING else list(saved)
    if isinstance(channel, NamedBarrierValueAfterFinish):
        seen, finished = saved
        return [_sorted(seen), finished]
    return _sorted(saved)


def _restored(spec: BaseChannel[Any, Any, Any], state: list[Any] | None) -> Any:
    """A hidden channel holding ``state`` (see :func:`hidden_state`; ``None``: empty)."""
    if not state:
        return spec.from_checkpoint(MISSING)
    if isinstance(spec, LastValueAfterFinish):
        return spec.from_checkpoint(tuple(state))
    if isinstance(spec, NamedBarrierValueAfterFinish):
        return spec.from_checkpoint((set(state[0]), state[1]))
    return spec.from_checkpoint(set(state))


def _state_shown(spec: BaseChannel[Any, Any, Any], shown: Any) -> list[Any] | None:
    """What a hidden channel that shows ``shown`` holds, at least."""
    if shown is MISSING:
        return None
    if isinstance(spec, LastValueAfterFinish):
        return [shown, True]
    names = _sorted(getattr(spec, "names", ()))
    return [names, True] if isinstance(spec, NamedBarrierValueAfterFinish) else names


def _sorted(names: Any) -> list[Any]:
    return sorted(names, key=repr)


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
    annotated = _annotated_channel(hint)
    if annotated is not None:
        return _from_langgraph_channel(name, hint, annotated)
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


def _annotated_channel(hint: Any) -> BaseChannel[Any, Any, Any] | None:
    """The LangGraph channel among a key's annotations (a class is built with the key's
    type, as LangGraph builds it), if any."""
    for item in getattr(hint, "__metadata__", ()):
        if isinstance(item, BaseChannel):
            if isinstance(item, DeltaChannel):  # typed by the key, as LangGraph does
                return DeltaChannel(
                    item.reducer,
                    _strip_required(hint.__origin__),
                    snapshot_frequency=item.snapshot_frequency,
                )
            return item.copy()
        if inspect.isclass(item) and issubclass(item, BaseChannel):
            return item(getattr(hint, "__origin__", hint))
    return None


def _from_langgraph_channel(name: str, hint: Any, spec: BaseChannel[Any, Any, Any]) -> Channel:
    spec.key = name
    if type(spec) is LastValue:
        return Channel(name=name, annotation=hint)
    if type(spec) is BinaryOperatorAggregate:
        return Channel(
            name=name,
            annotation=hint,
            reducer=spec.operator,
            fold=_fold_kind(spec.operator),
            empty=_empty_factory(spec.typ),
        )
    if not isinstance(spec, (*SPEC_CHANNELS, *HIDDEN_CHANNELS, LastValue, BinaryOperatorAggregate)):
        raise NotImplementedError(
            f"State key '{name}' is annotated with {type(spec).__name__}, which rewind does "
            "not support in a state schema (it supports LastValue, BinaryOperatorAggregate, "
            f"{', '.join(c.__name__ for c in (*SPEC_CHANNELS, *HIDDEN_CHANNELS))}); use one of "
            "those, or a reducer "
            "function (Annotated[T, reducer])."
        )
    return Channel(name=name, annotation=hint, fold="value", spec=spec)


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


def value_change(channel: Channel, value: Any) -> list[Any]:
    """A checkpoint's change setting a channel's value: ``clear`` when it is empty now,
    ``untracked`` for a value no checkpoint keeps (the run's streams show it)."""
    if value is MISSING:
        return [channel.name, "clear", []]
    return [channel.name, "untracked" if channel.untracked else "value", value]
