"""How a graph's state schema shapes what nodes are given and what they return: a node's input
built as its schema says (a dict, a dataclass, a pydantic model), the keys a returned object
writes, messages given ids as their reducer will, and the descriptions of those shapes that a
run records so projections rebuild inputs without the graph's code."""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Sequence
from typing import Any

from rewind.projections.state import ROOT
from rewind.types import Interrupt, Overwrite, _object_update_items

__all__ = [
    "all_keys",
    "coerce",
    "coerce_messages",
    "graph_shape",
    "input_shapes",
    "object_fields",
    "schema_shape",
    "state_only_keys",
]


def object_fields(value: Any, keys: Sequence[str]) -> dict[str, Any] | None:
    """The state keys a dataclass or pydantic return value writes (as LangGraph's)."""
    if hasattr(type(value), "__pydantic_fields__") or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    ):
        return dict(_object_update_items(value, keys))
    return None


def coerce(schema: Any, state: dict[str, Any], state_schema: Any) -> Any:
    """The state as a node expects it: a dict, or an instance of a dataclass/pydantic schema."""
    if schema is None:
        return state
    keys, cls = schema_shape(schema, state_schema)
    if keys is None:
        return state
    values = {k: v for k, v in state.items() if k in keys}
    return values if cls is None else cls(**values)


@functools.lru_cache(maxsize=256)
def schema_shape(schema: Any, state_schema: Any) -> tuple[frozenset[str] | None, type | None]:
    """How a schema shapes the state it is given: the keys it keeps (``None``: the whole state
    as it is) and the class it is built as (``None``: a plain dict)."""
    if hasattr(schema, "__pydantic_fields__"):
        return frozenset(schema.__pydantic_fields__), schema
    if dataclasses.is_dataclass(schema) and isinstance(schema, type):
        return frozenset(f.name for f in dataclasses.fields(schema)), schema
    if getattr(schema, "__annotations__", None) is not None and schema is not state_schema:
        return frozenset(all_keys(schema)), None
    return None, None


def state_only_keys(builder: Any) -> frozenset[str] | None:
    """The state schema's keys when the graph has channels beyond them (another node's input
    schema added some, as ``create_react_agent``'s ``llm_input_messages``): a node given the
    state schema reads only those, as LangGraph's does. ``None`` when it reads them all."""
    state_schema = builder.schemas.state
    if state_schema is None or not getattr(state_schema, "__annotations__", None):
        return None
    keys = frozenset(all_keys(state_schema))
    return keys if set(builder.channels) - keys else None


def input_shapes(builder: Any) -> dict[str, dict[str, Any]]:
    """How each node's input differs from the plain state dict, as :func:`coerce` makes it:
    the keys it keeps and the class it is built as (``module:qualname``). Recorded once per run
    so a projection shows the input a node was given without running any code of the graph."""
    state_schema = builder.schemas.state
    narrow = state_only_keys(builder)
    shapes: dict[str, dict[str, Any]] = {}
    for name, spec in builder.nodes.items():
        schema = spec.input_schema or state_schema
        keys, cls = schema_shape(schema, state_schema) if schema is not None else (None, None)
        if keys is None and narrow is not None:
            keys = narrow
        if keys is None:
            continue
        shapes[name] = _shape(keys, cls)
    return shapes


def _shape(keys: frozenset[str], cls: type | None) -> dict[str, Any]:
    """A recorded input shape: the keys kept, the class built (``module:qualname``), or
    ``"root"``: the root value itself (a root-valued graph's, whose class is made at run
    time and cannot be imported on replay)."""
    if keys == {ROOT}:
        return {"keys": [ROOT], "root": True}
    shape: dict[str, Any] = {"keys": sorted(keys)}
    if cls is not None:
        shape["class"] = f"{cls.__module__}:{cls.__qualname__}"
    return shape


def graph_shape(builder: Any) -> dict[str, Any]:
    """What a projection needs to rebuild the state a routing function was given from the
    fold, without the graph's code: each channel's fold kind (``set`` when not listed) and
    the class the state is built as (when not a plain dict)."""
    shape: dict[str, Any] = {}
    if builder.schemas.managed:  # where the managed values a task's start records go
        shape["state_keys"] = list(key_order(builder.schemas.state))
    folds = {n: c.fold for n, c in builder.channels.items() if c.fold != "set"}
    if folds:
        shape["folds"] = folds
    state_schema = builder.schemas.state
    if state_schema is not None:
        keys, cls = schema_shape(state_schema, state_schema)
        keys = keys if keys is not None else state_only_keys(builder)
        if keys is not None:
            shape["state_shape"] = _shape(keys, cls)
    return shape


@functools.lru_cache(maxsize=256)
def key_order(schema: Any) -> tuple[str, ...]:
    """A schema's keys, in the order it declares them."""
    return tuple(all_keys(schema, ordered=True))


def all_keys(schema: Any, *, ordered: bool = False) -> Any:
    import typing

    try:
        keys = list(typing.get_type_hints(schema))
    except Exception:
        keys = list(getattr(schema, "__annotations__", {}))
    return keys if ordered else set(keys)


def coerce_messages(value: Any, ids_given: list[str] | None = None) -> Any:
    """A write to an ``add_messages`` key as that reducer will see it: message objects, each
    with an id (assigned in place, as the reducer would), so the log holds the ids the state
    gets and a replay folds to the very same messages. The ids given to message objects of the
    node's own return value are noted in ``ids_given``: the node's ``events`` show them without
    one, as LangGraph's do (they are sent before its reducer runs)."""
    from langchain_core.messages import convert_to_messages, message_chunk_to_message

    if isinstance(value, Overwrite):
        return value
    items = value if isinstance(value, list) else [value]
    try:
        messages = [message_chunk_to_message(m) for m in convert_to_messages(items)]
    except Exception:
        return value  # the reducer itself will raise its own error at apply time
    returned = {id(m) for m in items} if ids_given is not None else set()
    for message in messages:
        if message.id is None:
            message.id = str(uuid.uuid4())
            if ids_given is not None and id(message) in returned:
                ids_given.append(message.id)
    return messages


# --- what a call's ``output_keys`` show ----------------------------------------------------


def checked_output_keys(keys: str | Sequence[str], channels: Any) -> str | list[str]:
    """The call's ``output_keys``, checked against the graph's channels (LangGraph's error)."""
    for key in [keys] if isinstance(keys, str) else keys:
        if key not in channels:
            raise ValueError(f"Key {key} not in channels")
    return keys if isinstance(keys, str) else list(keys)


def keys_of(state: dict[str, Any], keys: str | list[str]) -> Any:
    """What ``output_keys`` shows of ``state``: one key's value, or those keys in order."""
    if isinstance(keys, str):
        return state.get(keys)
    return {k: state[k] for k in keys if k in state}


def interrupted_keys(
    state: dict[str, Any], interrupts: list[Interrupt[Any]], keys: str | list[str]
) -> Any:
    """What ``invoke`` with ``output_keys`` returns at interrupts: with one key, the
    interrupts alone; with a list, those keys and the interrupts (as LangGraph's)."""
    output = {} if isinstance(keys, str) else keys_of(state, keys)
    if interrupts:
        output["__interrupt__"] = list(interrupts)
    return output if output or not isinstance(keys, str) else None
