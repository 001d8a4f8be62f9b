"""What a store reports of its writes (rewind only; LangGraph's stores report nothing).

``store.add_write_listener(fn)`` makes every write that takes effect in ``store`` call
``fn(writes)`` once per call that wrote (a ``put``, a ``delete``, a ``batch`` with ``PutOp``\\ s,
their async forms, a TTL sweep), with that call's :class:`StoreWrite`\\ s in order,
synchronously, in the caller's thread (for an ``a*`` method, in the caller's task), after the
write took effect and before the call returns. A call that fails reports nothing. rewind
records a run's memory writes in its event log through this.

A listener that raises makes the write call raise that exception (the write itself has taken
effect; the other listeners are still called first).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["StoreWrite", "WriteListener"]


@dataclass(frozen=True, slots=True)
class StoreWrite:
    """One item written to, or removed from, a store."""

    namespace: tuple[str, ...]
    """The item's namespace."""
    key: str
    """The item's key within its namespace."""
    value: dict[str, Any] | None
    """The value stored, or ``None`` when the item was deleted (or expired)."""
    index: Literal[False] | list[str] | None
    """The put's ``index`` argument: ``None`` for the store's default, ``False`` or field paths."""
    ttl: float | None
    """The item's time to live in minutes (``None``: it does not expire, or it was deleted)."""
    expired: bool = False
    """Whether a TTL sweep removed the item (its ``value`` is then ``None``)."""


WriteListener = Callable[[list[StoreWrite]], None]
"""A function a store calls with the writes of each call that wrote."""


class _Listeners:
    """A store's listeners, and the ops lists of its calls in progress (see :func:`reporting`)."""

    __slots__ = ("calls", "fns")

    def __init__(self) -> None:
        self.fns: tuple[WriteListener, ...] = ()
        self.calls: dict[int, int] = {}


_REGISTRY: dict[int, _Listeners] = {}
"""Stores with listeners, by ``id``: kept off the store so any ``BaseStore`` subclass (slotted or
not) can have them; an entry goes with its store."""
_LOCK = threading.Lock()

_REPORTING: ContextVar[frozenset[int]] = ContextVar("rewind_store_reporting", default=frozenset())
"""The stores (by ``id``) whose outermost write call in this context reports its writes: a call
made inside it (a subclass's ``super().batch``, an ``abatch`` that calls ``batch``) does not
report them again."""


def add_listener(store: object, fn: WriteListener) -> Callable[[], None]:
    """Register ``fn`` on ``store``; returns the function that removes it."""
    key = id(store)
    with _LOCK:
        entry = _REGISTRY.get(key)
        if entry is None:
            entry = _REGISTRY[key] = _Listeners()
            weakref.finalize(store, _forget, key, entry)
        entry.fns = (*entry.fns, fn)

    def remove() -> None:
        with _LOCK:
            fns = list(entry.fns)
            if fn in fns:
                fns.remove(fn)
                entry.fns = tuple(fns)

    return remove


def _forget(key: int, entry: _Listeners) -> None:
    with _LOCK:
        if _REGISTRY.get(key) is entry:
            del _REGISTRY[key]


def listeners_of(store: object) -> _Listeners | None:
    """The store's listeners, or ``None`` when it has none (the common, free case)."""
    if not _REGISTRY:
        return None
    entry = _REGISTRY.get(id(store))
    if entry is None or not entry.fns:
        return None
    return entry


def notify(store: object, writes: list[StoreWrite]) -> None:
    """Call each of the store's listeners with ``writes`` (a no-op without writes or listeners).

    Every listener is called; the first exception raised is raised afterwards.
    """
    entry = listeners_of(store)
    if entry is None or not writes:
        return
    error: BaseException | None = None
    for fn in entry.fns:
        try:
            fn(list(writes))
        except BaseException as exc:
            if error is None:
                error = exc
    if error is not None:
        raise error


class Reporting:
    """The bookkeeping of one write call on a store with listeners: whether it is the outermost
    call (the one that reports) and, while it runs, the marks that tell nested calls so.

    A nested call is one made in the same context (``super().batch(ops)``, an ``abatch`` calling
    ``batch``) or with the very same ops list from another thread or task (an ``abatch`` that
    runs ``batch`` in an executor, a sync ``batch`` that runs ``abatch`` on a loop).
    """

    __slots__ = ("_entry", "_ops_key", "_store_key", "_token", "outermost")

    def __init__(self, store: object, entry: _Listeners, ops: list[Any]) -> None:
        self._entry = entry
        self._store_key = id(store)
        self._ops_key = id(ops)
        self._token: Any = None
        active = _REPORTING.get()
        self.outermost = self._store_key not in active and self._ops_key not in entry.calls

    def __enter__(self) -> Reporting:
        if self.outermost:
            calls = self._entry.calls
            calls[self._ops_key] = calls.get(self._ops_key, 0) + 1
            self._token = _REPORTING.set(_REPORTING.get() | {self._store_key})
        return self

    def __exit__(self, *exc: object) -> None:
        if self.outermost:
            _REPORTING.reset(self._token)
            calls = self._entry.calls
            left = calls.get(self._ops_key, 1) - 1
            if left:
                calls[self._ops_key] = left
            else:
                calls.pop(self._ops_key, None)


def silence(store: object) -> None:
    """Mark the current context as inside a reported call on ``store``: write calls made in it
    report nothing (a batching task whose callers report their own writes)."""
    _REPORTING.set(_REPORTING.get() | {id(store)})
