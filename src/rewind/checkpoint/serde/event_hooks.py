"""Listeners told when a serializer allows or blocks a type it was not told about."""

from __future__ import annotations

import logging
from collections.abc import Callable
from threading import Lock
from typing import NotRequired, TypedDict

__all__ = ["SerdeEvent", "SerdeEventListener", "emit_serde_event", "register_serde_event_listener"]

logger = logging.getLogger(__name__)


class SerdeEvent(TypedDict):
    """What happened to one type on load."""

    kind: str
    """``msgpack_unregistered_allowed``, ``msgpack_blocked`` or ``msgpack_method_blocked``."""
    module: str
    """The type's module."""
    name: str
    """The type's name."""
    method: NotRequired[str]
    """The method a blocked method call named."""


SerdeEventListener = Callable[[SerdeEvent], None]
"""A function told each :class:`SerdeEvent`."""

_listeners: list[SerdeEventListener] = []
_lock = Lock()


def register_serde_event_listener(listener: SerdeEventListener) -> Callable[[], None]:
    """Tell ``listener`` every serde event from now on; returns the function that stops it."""
    with _lock:
        _listeners.append(listener)

    def unregister() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unregister


def emit_serde_event(event: SerdeEvent) -> None:
    """Tell every listener ``event``; a listener that raises is logged, not propagated."""
    with _lock:
        listeners = tuple(_listeners)
    for listener in listeners:
        try:
            listener(event)
        except Exception:
            logger.warning("Serde listener failed", exc_info=True)
