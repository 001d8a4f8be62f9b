"""Stream modes as projections: pure functions of a run's events, fed one at a time.

The same projection objects serve a live stream (fed as events are appended) and a replay (fed
from the store), so both yield the same chunks. A projection keeps only what its mode needs to
remember (the folded state for ``values``); it does no I/O.

Modes here: ``values``, ``updates``, ``custom``. Chunks are returned as ``(ns, chunk)``, where
``ns`` is the subgraph namespace tuple (``()`` at the root).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from rewind.events import EventType
from rewind.projections.state import apply_changes, task_writes_of
from rewind.types import Command

__all__ = ["CustomMode", "Projection", "UpdatesMode", "ValuesMode", "namespace"]


class EventLike(Protocol):
    """What a projection reads of an event (a new or a stored one)."""

    @property
    def type(self) -> str: ...
    @property
    def payload(self) -> Any: ...
    @property
    def ns(self) -> str | None: ...
    @property
    def node(self) -> str | None: ...
    @property
    def task_id(self) -> str | None: ...


class Projection(Protocol):
    """One stream mode."""

    def feed(self, event: EventLike) -> list[tuple[tuple[str, ...], Any]]:
        """The chunks this event produces, with their namespaces."""
        ...


def namespace(ns: str | None) -> tuple[str, ...]:
    """LangGraph's namespace tuple for a stored namespace string."""
    return tuple(ns.split("|")) if ns else ()


class UpdatesMode:
    """``updates``: what each task returned, as it finished; interrupts as they happen."""

    def feed(self, event: EventLike) -> list[tuple[tuple[str, ...], Any]]:
        ns = namespace(event.ns)
        if event.type == EventType.TASK_ENDED and event.node not in (None, "__start__"):
            payload = event.payload or {}
            if payload.get("update_state"):
                return []
            update = payload.get("update")
            if isinstance(update, Command):
                update = update.update
            elif isinstance(update, list) and any(isinstance(u, Command) for u in update):
                update = task_writes_of(payload) or None
            if update == {}:
                update = None
            chunk: dict[str, Any] = {event.node: update}
            if payload.get("cached"):
                chunk["__metadata__"] = {"cached": True}
            return [(ns, chunk)]
        if event.type == EventType.INTERRUPT:
            return [(ns, {"__interrupt__": tuple(event.payload.get("interrupts") or ())})]
        return []


class ValuesMode:
    """``values``: the whole state after the input and after every step that wrote to it."""

    def __init__(self, *, initial: Mapping[str, Any] | None = None, key_order: list[str]) -> None:
        self._values: dict[tuple[str, ...], dict[str, Any]] = {(): dict(initial or {})}
        self._writes: dict[str, dict[str, Any]] = {}
        self._order = key_order

    def resumed(
        self, ns: str = "", values: Mapping[str, Any] | None = None
    ) -> list[tuple[tuple[str, ...], Any]]:
        """The chunk a resumed (sub)graph starts with: the state it resumes from."""
        key = namespace(ns)
        if values is not None:
            self._values[key] = dict(values)
        return [(key, self._state(key))]

    def feed(self, event: EventLike) -> list[tuple[tuple[str, ...], Any]]:
        ns = namespace(event.ns)
        if event.type == EventType.TASK_ENDED and event.task_id is not None:
            self._writes[event.task_id] = task_writes_of(event.payload)
        elif event.type == EventType.CHECKPOINT:
            payload = event.payload
            values = self._values.setdefault(ns, {})
            if payload["source"] == "input" and payload["step"] == -1:
                values.clear()
            apply_changes(values, payload["changes"], self._writes)
            if payload["source"] != "input" and payload["changes"]:
                return [(ns, self._state(ns))]
        elif event.type == EventType.INTERRUPT and event.payload.get("interrupts"):
            state = self._state(ns)
            state["__interrupt__"] = tuple(event.payload["interrupts"])
            return [(ns, state)]
        return []

    def _state(self, ns: tuple[str, ...]) -> dict[str, Any]:
        values = self._values.get(ns, {})
        ordered = {k: values[k] for k in self._order if k in values}
        ordered.update((k, v) for k, v in values.items() if k not in ordered)
        return ordered


class CustomMode:
    """``custom``: what nodes wrote with their stream writer."""

    def feed(self, event: EventLike) -> list[tuple[tuple[str, ...], Any]]:
        if event.type == EventType.CUSTOM:
            return [(namespace(event.ns), event.payload)]
        return []
