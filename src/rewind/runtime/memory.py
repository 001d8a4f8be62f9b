"""The long-term memory store inside runs: what a node remembers is an event of its run.

A graph compiled with ``store=`` hands the store to its nodes as LangGraph does (a ``store``
parameter, ``runtime.store``, ``get_store()``, ToolNode's ``InjectedStore``). rewind also listens
to the store's writes (:meth:`rewind.store.base.BaseStore.add_write_listener`): a write made while
a node of a run is running becomes a ``store.write`` event of that run, in order with the node's
other events, so an audit shows what the agent remembered and when, and replay sees it without
the code.

A write made outside any run (a direct call, a TTL sweep, the HTTP store API) goes to a stream of
its own: each such call is a short run of graph ``__store__`` on thread ``__store__`` (its
``run.started``, its ``store.write`` events, its ``run.ended``), appended to the log of the
checkpointer the store was first compiled with. A store never compiled with a checkpointer has
no log to write to: its direct writes are not logged.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import uuid
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from rewind.events import EventType, NewEvent, RunStatus, run_ended, run_started
from rewind.log import EventLog, codec
from rewind.runtime.loops import call_on, run_sync, submit
from rewind.runtime.pregel import RunLoop, current_task
from rewind.runtime.tasks import task_event

if TYPE_CHECKING:
    from rewind.store.writes import StoreWrite

__all__ = ["STORE_GRAPH", "STORE_THREAD", "watch_store", "write_payload"]

STORE_GRAPH = "__store__"
"""The graph name of the runs that log a store's writes made outside any run."""
STORE_THREAD = "__store__"
"""Their thread."""

_log = logging.getLogger("rewind.store")
_watched: weakref.WeakSet[Any] = weakref.WeakSet()
_homes: weakref.WeakKeyDictionary[Any, Callable[[], Awaitable[EventLog]]] = (
    weakref.WeakKeyDictionary()
)
"""Per store, how to reach the log its writes outside any run go to."""


def watch_store(store: Any, checkpointer: Any = None) -> None:
    """Record the writes ``store`` gets: from the nodes of runs into their runs, and the others
    into the log of ``checkpointer`` (the first one it is compiled with).

    Raises:
        TypeError: ``store`` is not a long-term memory store rewind can watch.
    """
    if store is None:
        return
    if store not in _homes:
        home = _home_of(checkpointer)
        if home is not None:
            _homes[store] = home
    if store in _watched:
        return
    listen = getattr(store, "add_write_listener", None)
    if listen is None:
        raise TypeError(
            f"compile(store=...) takes a rewind.store.base.BaseStore (InMemoryStore, "
            f"SqliteStore, PostgresStore, or a subclass of your own), not "
            f"{type(store).__name__}; import stores from rewind.store, not langgraph.store"
        )
    listen(functools.partial(_record_writes, weakref.ref(store)))
    _watched.add(store)


def _home_of(checkpointer: Any) -> Callable[[], Awaitable[EventLog]] | None:
    if isinstance(checkpointer, EventLog):
        log = checkpointer

        async def given() -> EventLog:
            return log

        return given
    opener = getattr(checkpointer, "log", None)  # a saver: its log for the running loop
    return opener if callable(opener) else None


def write_payload(write: StoreWrite) -> dict[str, Any]:
    """A ``store.write`` event's payload: where, what (``None`` for a deletion), and how."""
    payload: dict[str, Any] = {
        "namespace": list(write.namespace),
        "key": write.key,
        "value": write.value,
    }
    if write.index is not None:
        payload["index"] = write.index
    if write.ttl is not None:
        payload["ttl"] = write.ttl
    if write.expired:
        payload["expired"] = True
    return payload


def _record_writes(store: weakref.ref[Any], writes: list[StoreWrite]) -> None:
    current = current_task()
    if current is None:
        _record_outside(store(), writes)
        return
    loop, task = current
    events = [task_event(EventType.STORE_WRITE, task, loop.step, write_payload(w)) for w in writes]
    for event in events:
        # Checked here, in the writer's thread, so a value the log cannot hold fails the call
        # that wrote it, with the codec's error naming it, rather than a background append.
        codec.encode(event.payload)
    call_on(loop.loop, _appender(loop), events)


def _appender(loop: RunLoop) -> Any:
    def append(events: list[NewEvent]) -> None:
        loop.record(*events)

    return append


def _record_outside(store: Any, writes: list[StoreWrite]) -> None:
    """A store call made outside any run: one short run of the store's stream, appended to the
    log the store was compiled with."""
    home = _homes.get(store) if store is not None else None
    if home is None:
        return
    events = [
        run_started(thread_id=STORE_THREAD, graph=STORE_GRAPH),
        *(NewEvent(type=EventType.STORE_WRITE, payload=write_payload(w)) for w in writes),
        run_ended(RunStatus.SUCCESS),
    ]
    for event in events:
        codec.encode(event.payload)  # a value the log cannot hold fails the call that wrote it

    async def append() -> None:
        log = await home()
        await log.append(str(uuid.uuid4()), events, expected_seq=0, new_run=True)

    # On rewind's background loop (its log is the sync API's, flushed at exit): waited for
    # from sync code, handed over from a running event loop (whose shutdown could cancel it).
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        run_sync(append())
        return
    submit(append()).add_done_callback(_appended)


def _appended(future: concurrent.futures.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        _log.error("a store write made outside any run was not logged", exc_info=future.exception())
