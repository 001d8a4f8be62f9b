"""Event loops for the sync API, and event logs kept open per loop.

The sync methods (``invoke``, ``get_state``, ...) run the async core on one background event
loop per process, so they work the same whether or not the caller's thread already runs a loop
(Jupyter, a web handler), and the logs they open stay open between calls.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import contextvars
import threading
import weakref
from _thread import allocate_lock as _allocate_lock
from asyncio.events import _get_running_loop as _running_loop
from asyncio.events import _set_running_loop
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

from greenlet import getcurrent  # type: ignore[import-untyped]

from rewind.log import EventLog
from rewind.runtime.inline import NodeGreenlet, await_inline, inline_busy, inline_on

__all__ = [
    "LogPerLoop",
    "call_here",
    "call_in_order",
    "inbox_of",
    "call_on",
    "exited",
    "run_sync",
    "submit",
]

_ALL: weakref.WeakSet[LogPerLoop] = weakref.WeakSet()

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_exited = False
"""Set once the exit hook closed the sync API's logs and stopped its loop."""


def exited() -> bool:
    """Whether the process is exiting and the sync API's logs are already closed."""
    return _exited


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop, _thread
    with _lock:
        if _loop is None or _loop.is_closed() or _thread is None or not _thread.is_alive():
            if _exited:
                # A thread started now would never run (the interpreter is finalizing).
                raise RuntimeError(
                    "rewind's sync API is not available after Python began to exit; "
                    "close savers and logs before the program ends (a `with` block does)"
                )
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="rewind-sync-loop", daemon=True)
            thread.start()
            _loop, _thread = loop, thread
        return _loop


def _loop_thread() -> threading.Thread | None:
    """The background loop's thread, if it runs."""
    return _thread


def _shutdown() -> None:
    """At exit, flush and close the logs the sync API opened, then stop its loop.

    Registered with the hooks that run before executors shut down (as concurrent.futures
    registers its own), so the logs can still use their writer threads.
    """
    global _exited
    _exited = True
    loop = _loop
    if loop is None or loop.is_closed() or not loop.is_running():
        return

    async def close_all() -> None:
        for stores in list(_ALL):
            await stores.aclose()

    try:
        asyncio.run_coroutine_threadsafe(close_all(), loop).result(timeout=30)
    finally:
        loop.call_soon_threadsafe(loop.stop)


_register = getattr(threading, "_register_atexit", None)
if _register is not None:
    _register(_shutdown)
else:  # pragma: no cover - other Pythons
    atexit.register(_shutdown)


class _Inbox:
    """Calls handed to one loop from other threads, run on it in the order they were handed
    over, many to a wake-up: a node streaming tokens from a worker thread wakes the loop once
    per batch of them, not once per token."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.calls: deque[tuple[Callable[[Any], None], Any]] = deque()
        self._lock = threading.Lock()
        self._scheduled = False

    def put(self, fn: Callable[[Any], None], arg: Any) -> None:
        with self._lock:
            self.calls.append((fn, arg))
            if self._scheduled:
                return
            self._scheduled = True
        self._loop.call_soon_threadsafe(self.run)

    def run(self) -> None:
        """Run the calls handed over so far, now (on the loop's thread)."""
        with self._lock:
            calls, self.calls = self.calls, deque()
            self._scheduled = False
        for fn, arg in calls:
            try:
                fn(arg)
            except Exception as exc:  # reported as the loop reports a failed callback; the
                # calls after it still run
                self._loop.call_exception_handler(
                    {"message": f"Exception in callback {fn!r}", "exception": exc}
                )


_inboxes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Inbox] = weakref.WeakKeyDictionary()


def inbox_of(loop: asyncio.AbstractEventLoop) -> _Inbox:
    """The calls other threads hand to ``loop`` (see :func:`call_in_order`)."""
    inbox = _inboxes.get(loop)
    if inbox is None:
        with _lock:
            inbox = _inboxes.setdefault(loop, _Inbox(loop))
    return inbox


def call_in_order(loop: asyncio.AbstractEventLoop, fn: Callable[[Any], None], arg: Any) -> None:
    """Run ``fn(arg)`` on ``loop`` (from another thread), after every call handed to it this
    way before; the loop's callbacks scheduled later by the same thread run after it too."""
    inbox_of(loop).put(fn, arg)


def call_on(loop: asyncio.AbstractEventLoop, fn: Callable[[Any], None], arg: Any) -> None:
    """Run ``fn(arg)`` on ``loop``, in the order calls were made, from wherever this runs:
    at once on the loop's thread (a sync node run there included), else handed over (a sync
    node on a worker thread)."""
    if not call_here(loop, fn, arg):
        call_in_order(loop, fn, arg)


def call_here(loop: asyncio.AbstractEventLoop, fn: Callable[[Any], None], arg: Any) -> bool:
    """:func:`call_on`, if it runs ``fn(arg)`` at once (on the loop's thread, a sync node run
    there included); ``False``, having run nothing, when it would hand it over."""
    running = _running_loop()  # None off a loop (no exception raised: called per token)
    if running is loop:
        fn(arg)
        return True
    if running is None and type(current := getcurrent()) is NodeGreenlet and current.loop is loop:
        # A sync node run inline on the loop's thread (inline_on, inlined: once per token).
        # rewind's own code: it sees the loop running, as everywhere else it runs. What
        # threads it started handed over comes first (a ToolNode's tools run in a pool).
        inbox = current.inbox
        if inbox is None:
            inbox = current.inbox = inbox_of(loop)
        if inbox.calls:
            inbox.run()
        _set_running_loop(loop)
        try:
            fn(arg)
        finally:
            _set_running_loop(None)
        return True
    return False


def on_loop_thread(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether this runs on ``loop``'s thread (a sync node run there included), where
    :func:`call_here` would call at once; what threads the node started handed over is run
    first. Nothing is run, and the loop is not marked running: for a callee that needs
    neither (the recorder's chunk path, once per token)."""
    running = _running_loop()
    if running is loop:
        return True
    if running is None and type(current := getcurrent()) is NodeGreenlet and current.loop is loop:
        inbox = current.inbox
        if inbox is None:
            inbox = current.inbox = inbox_of(loop)
        if inbox.calls:
            inbox.run()
        return True
    return False


def run_sync(coro: Coroutine[Any, Any, T], *, on: asyncio.AbstractEventLoop | None = None) -> T:
    """Run ``coro`` to completion from sync code, on rewind's background loop (or ``on``).

    With ``on`` (the loop of the run whose node is calling), the coroutine runs on that loop
    in the caller's context, so a graph invoked from a sync node runs inside the caller's run.
    Called on the background loop's own thread (an async node calling a sync API), it runs the
    coroutine on a fresh loop in a worker thread instead, rather than deadlock.
    """
    if on is not None:
        return _run_on(on, coro)
    loop = _background_loop()
    if threading.current_thread() is _thread:
        return _run_in_new_thread(coro)
    with caller():
        if inline_busy(loop):
            # The loop is running a sync node (which may be waiting for this very call, made
            # from a thread it started): a loop of this call's own, in a thread of its own.
            return _run_in_new_thread(coro)
        return _run_on(loop, coro)


def submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Run ``coro`` on rewind's background loop without waiting for it (from any thread, that
    loop's own included); the sync API's flush at exit waits for what it appended."""
    return asyncio.run_coroutine_threadsafe(coro, _background_loop())


def _run_in_new_thread(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a fresh event loop in a new thread, and wait for it."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=target, name="rewind-sync-nested")
    worker.start()
    worker.join()
    if errors:
        raise errors[0]
    return result[0]


_callers = 0
"""Sync API calls now waiting for the background loop (from any thread)."""


@contextlib.contextmanager
def caller() -> Iterator[None]:
    """Count a sync API call waiting for the background loop while in the block."""
    global _callers
    with _lock:
        _callers += 1
    try:
        yield
    finally:
        with _lock:
            _callers -= 1


def alone_on_background_loop() -> bool:
    """Whether at most one sync API call is running on the background loop: only then may a
    sync node run on the loop's thread (another call would wait for it meanwhile)."""
    return _callers <= 1


def _run_on(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    if inline_on(loop):  # a sync node run on the loop's thread: the loop runs it meanwhile
        ctx = contextvars.copy_context()
        return await_inline(lambda: loop.create_task(coro, context=ctx))
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coro.close()
        raise RuntimeError(
            "a graph was invoked synchronously from an async node of the graph running it; "
            "use `await graph.ainvoke(...)` inside async nodes"
        )
    # The caller waits on a plain lock the task's end releases: one wake-up, no condition
    # variable (every sync invoke makes this round trip).
    finished = _allocate_lock()
    finished.acquire()
    outcome: list[asyncio.Task[T]] = []

    def start() -> None:
        task = loop.create_task(coro)  # in the caller's context (see call_soon_threadsafe)

        def done(t: asyncio.Task[T]) -> None:
            outcome.append(t)
            finished.release()

        task.add_done_callback(done)

    loop.call_soon_threadsafe(start, context=contextvars.copy_context())
    finished.acquire()
    task = outcome[0]
    if task.cancelled():
        raise concurrent.futures.CancelledError()
    return task.result()


async def _close_at_shutdown(event_log: EventLog) -> AsyncGenerator[None, None]:
    """Closes ``event_log`` when the loop it was started on finishes its async generators, as
    ``asyncio.run`` (and every well-behaved runner) does before closing the loop: the event_log's
    connections do not outlive the loop they belong to."""
    try:
        yield
    finally:
        if not event_log.closed:
            await event_log.aclose()


class LogPerLoop:
    """One open event log per event loop, opened on first use and kept until closed."""

    def __init__(self, opener: Callable[[], Awaitable[EventLog]]) -> None:
        _ALL.add(self)
        self._opener = opener
        self._logs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, EventLog] = (
            weakref.WeakKeyDictionary()
        )
        self._opening: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, asyncio.Future[EventLog]
        ] = weakref.WeakKeyDictionary()
        self._closers: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, AsyncGenerator[None, None]
        ] = weakref.WeakKeyDictionary()

    async def get(self) -> EventLog:
        """The event_log for the running loop."""
        loop = asyncio.get_running_loop()
        event_log = self._logs.get(loop)
        if event_log is not None and not event_log.closed:
            return event_log
        pending = self._opening.get(loop)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[EventLog] = loop.create_future()
        self._opening[loop] = future
        try:
            event_log = await self._opener()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: the caller raises it
            raise
        finally:
            self._opening.pop(loop, None)
        self._logs[loop] = event_log
        if loop is not _loop:  # a caller's loop (asyncio.run...): close the event_log with it
            closer = _close_at_shutdown(event_log)
            await anext(closer)
            self._closers[loop] = closer
        future.set_result(event_log)
        return event_log

    async def aclose(self) -> None:
        """Close the running loop's log (other loops' logs close with their loops)."""
        event_log = self._logs.pop(asyncio.get_running_loop(), None)
        if event_log is not None:
            await event_log.aclose()
