"""What the log says of functional-API task calls and entrypoints, read without their code.

A task call's ``task.started`` names its caller's checkpoint namespace (``call``) and how its
arguments bound to its function's parameters (``arguments``); its ``task.ended`` holds what it
returned (``return``). An entrypoint's ``task.ended`` holds ``return`` and ``entrypoint: true``
(and ``save`` when it returned ``entrypoint.final``): its writes to the ``__end__`` and
``__previous__`` channels. Pure functions; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = [
    "END",
    "EntrypointFinal",
    "PREVIOUS",
    "RETURN",
    "bound_arguments",
    "call_ns",
    "caller_of",
    "entrypoint_writes",
    "is_call",
    "is_return",
    "return_value",
]

END = "__end__"
"""The channel an entrypoint's return value is written to (its output)."""
PREVIOUS = "__previous__"
"""The channel an entrypoint's saved value is written to (``previous`` on the next run)."""
RETURN = "__return__"
"""Where LangGraph shows a task call's result (a write, not a channel)."""

R = TypeVar("R")
S = TypeVar("S")


@dataclass(kw_only=True, slots=True, frozen=True)
class EntrypointFinal(Generic[R, S]):
    """What an entrypoint returns to give its caller one value and save another for the
    thread's next run (its ``previous``): LangGraph's ``entrypoint.final``."""

    __qualname__ = "entrypoint.final"

    value: R
    """Value to return. A value will always be returned even if it is `None`."""
    save: S
    """The value for the state for the next checkpoint. A value will always be saved even if
    it is `None`."""


# Named as LangGraph names it, where its users find it (reprs and errors show these).
EntrypointFinal.__name__ = "final"
EntrypointFinal.__module__ = "rewind.func"


def return_value(payload: Mapping[str, Any]) -> Any:
    """What a functional-API function returned, from its ``task.ended``: the value, or for an
    entrypoint that saved another value, the ``entrypoint.final`` it returned."""
    if "save" in payload:
        return EntrypointFinal(value=payload["return"], save=payload["save"])
    return payload["return"]


def is_call(payload: Mapping[str, Any] | None) -> bool:
    """Whether a ``task.started`` payload is a task call's."""
    return bool(payload) and "call" in payload  # type: ignore[operator]


def is_return(payload: Mapping[str, Any] | None) -> bool:
    """Whether a ``task.ended`` payload is a functional-API function's (a call's or an
    entrypoint's) rather than a node's update."""
    return bool(payload) and "return" in payload  # type: ignore[operator]


def entrypoint_writes(payload: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The channel writes of a ``task.ended`` with ``return``: an entrypoint's (its output and
    the value saved for the next run), none for a task call."""
    if not payload.get("entrypoint"):
        return {}
    value = payload["return"]
    return {END: [value], PREVIOUS: [payload.get("save", value)]}


def call_ns(caller_ns: str, node: str | None, task_id: str | None) -> str:
    """A task call's checkpoint namespace: its caller's, then ``name:id``."""
    return f"{caller_ns}|{node}:{task_id}"


def caller_of(caller_ns: str, ns: str | None) -> str:
    """The id of the node's task a chain of calls started from (the namespace segment after
    the graph's own namespace ``ns``), given a call's caller namespace."""
    depth = len(ns.split("|")) if ns else 0
    segments = caller_ns.split("|")
    segment = segments[depth] if depth < len(segments) else segments[-1]
    return segment.rpartition(":")[2]


def bound_arguments(
    layout: Sequence[Sequence[Any]] | None, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> Any:
    """A task call's input as LangGraph traces it (``{parameter: value}``), from the layout
    its ``task.started`` records and its ``(args, kwargs)``; ``(args, kwargs)`` without one."""
    if layout is None:
        return (tuple(args), dict(kwargs))
    out: dict[str, Any] = {}
    for name, ref in layout:
        if isinstance(ref, int):
            out[name] = args[ref]
        elif isinstance(ref, str):
            out[name] = kwargs[ref]
        elif isinstance(ref, Mapping):
            out[name] = ref.get("default")
        else:
            out[name] = tuple(args[ref[0] :])
    return out
