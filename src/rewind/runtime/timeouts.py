"""Per-attempt timeouts (LangGraph's ``TimeoutPolicy``): how one attempt of a node, an
entrypoint or a task call is timed, what counts as its progress, and what is refused.

An attempt with a timeout runs as an asyncio task of its own beside one watchdog per timeout:
the run timeout fires after ``run_timeout`` seconds whatever happens; the idle timeout fires
once ``idle_timeout`` seconds pass without progress (:class:`AttemptClock`). When one fires,
the attempt's clock closes (what it writes or streams later is dropped), it is cancelled, and
it fails with :class:`~rewind.errors.NodeTimeoutError`, which the retry policy sees as any
other failure (the default one retries it).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, TypeVar

from langchain_core.callbacks import BaseCallbackHandler

from rewind.errors import NodeTimeoutError
from rewind.runtime.tasks import Task, callable_facts
from rewind.types import TimeoutPolicy

__all__ = [
    "AttemptClock",
    "ProgressHandler",
    "guard_outer",
    "heartbeat_of",
    "natively_async",
    "run_timed",
    "sync_timeout_unsupported",
    "timed",
]

T = TypeVar("T")

_SYNC_TIMEOUT_PREFIX = (
    "Node timeouts are only supported for async nodes because sync Python "
    "execution cannot be safely cancelled in-process."
)

_CANCEL_GRACE = 1.0
"""Seconds a timed-out attempt is given to end once cancelled, so what it records on the way
out lands before its failure is acted on (one that ignores cancellation is left running)."""


def sync_timeout_unsupported(name: str, *, kind: Literal["Node", "Task"] = "Node") -> ValueError:
    """LangGraph's error for a timeout given to a sync node or task (``name``)."""
    return ValueError(f"{_SYNC_TIMEOUT_PREFIX} {kind} {name!r} is sync.")


def natively_async(action: Any) -> bool:
    """Whether ``action`` runs as a coroutine the loop can cancel, as LangGraph checks a timed
    node: an async function (or a partial of one), a node with an async function of its own,
    a runnable whose ``ainvoke`` is its own (every step of a sequence), a compiled graph."""
    from langchain_core.runnables import Runnable, RunnableLambda, RunnableSequence
    from langchain_core.runnables.base import RunnableBindingBase

    while isinstance(action, RunnableBindingBase):
        action = action.bound
    if isinstance(action, RunnableSequence):
        return all(natively_async(step) for step in action.steps)
    if isinstance(action, RunnableLambda):
        return bool(getattr(action, "afunc", None))
    target = action
    while isinstance(target, functools.partial):
        target = target.func
    if callable_facts(target)[1]:
        return True
    afunc = getattr(action, "afunc", None)
    if afunc is not None:
        return callable_facts(afunc)[1]
    ainvoke = getattr(type(action), "ainvoke", None)
    return ainvoke is not None and ainvoke is not Runnable.ainvoke


class AttemptClock:
    """The progress of one timed attempt: when it last made some, and whether it is still
    allowed to (a timed-out attempt is closed: what it writes or streams later is dropped).

    Args:
        refresh_on: What refreshes the idle timeout: ``"auto"`` (graph progress: stream
            writes, state writes, task calls, callback events, heartbeats), ``"heartbeat"``
            (only ``runtime.heartbeat()``), or ``None`` (no idle timeout).
    """

    __slots__ = ("__weakref__", "active", "last", "refresh_on")

    def __init__(self, refresh_on: Literal["auto", "heartbeat"] | None) -> None:
        self.active = True
        self.last = time.monotonic()
        self.refresh_on = refresh_on

    def heartbeat(self) -> None:
        """An explicit progress signal (``runtime.heartbeat()``)."""
        self.last = time.monotonic()

    def progress(self) -> None:
        """Graph progress: refreshes the idle timeout under ``refresh_on="auto"``."""
        if self.refresh_on == "auto":
            self.last = time.monotonic()

    def close(self) -> None:
        """The attempt is over: later writes and stream chunks of it are dropped."""
        self.active = False

    def guard(self, writer: Callable[[Any], None], *, counts: bool = True) -> Callable[[Any], None]:
        """``writer`` (a stream writer), dropping what comes after the attempt is closed; what
        it writes before counts as progress unless ``counts`` is false."""

        def guarded(chunk: Any) -> None:
            if not self.active:
                return
            if counts:
                self.progress()
            writer(chunk)

        return guarded

    async def idle_out(self, idle_timeout: float) -> None:
        """Return once ``idle_timeout`` seconds pass without progress."""
        while self.active:
            remaining = self.last + idle_timeout - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(remaining)
        await asyncio.Event().wait()  # closed: never fires


def guard_outer(
    writer: Callable[[Any], None], clocks: Sequence[AttemptClock], *, counts: bool
) -> Callable[[Any], None]:
    """``writer`` (the stream writer of a subgraph's node) behind the guards of the timed
    attempts the subgraph runs inside (``clocks``, innermost first), as LangGraph's subgraph
    writes its chunks through the enclosing node's writer: a chunk is dropped once one of
    them is closed, and is their progress when ``counts`` (LangGraph's subgraph writer is the
    node's only while the run is streamed with ``subgraphs=True``; otherwise it writes
    nowhere)."""
    for clock in reversed(clocks):  # the innermost guard is the first to see a chunk
        writer = clock.guard(writer, counts=counts)
    return writer


def heartbeat_of(
    clock: AttemptClock | None, outer: Sequence[AttemptClock]
) -> Callable[[], None] | None:
    """What ``runtime.heartbeat()`` signals for a task timed by ``clock`` (if any) in a
    subgraph run inside the timed attempts ``outer`` (innermost first): the nearest of them
    with an idle timeout, as LangGraph's subgraph runtime inherits the enclosing node's
    heartbeat; ``None`` when there is none."""
    for each in (clock, *outer):
        if each is not None and each.refresh_on is not None:
            return each.heartbeat
    return None


class ProgressHandler(BaseCallbackHandler):
    """Counts every LangChain callback event of the attempt's runs (a model's tokens, a
    tool's start...) as its progress, as LangGraph's idle handler does; holds the clock by
    weak reference, so a run that outlives the attempt does not keep it."""

    run_inline = True

    def __init__(self, clock: AttemptClock) -> None:
        self._clock = weakref.ref(clock)

    def _touch(self, *args: Any, **kwargs: Any) -> None:
        clock = self._clock()
        if clock is not None:
            clock.progress()

    on_llm_start = on_chat_model_start = on_llm_new_token = on_llm_end = on_llm_error = _touch
    on_chain_start = on_chain_end = on_chain_error = _touch
    on_tool_start = on_tool_end = on_tool_error = _touch
    on_retriever_start = on_retriever_end = on_retriever_error = _touch
    on_agent_action = on_agent_finish = on_text = on_retry = on_custom_event = _touch


async def timed(attempt: Callable[[], Awaitable[T]], task: Task, policy: TimeoutPolicy) -> T:
    """Run one attempt (``attempt()``) of ``task`` under ``policy``, with a new clock (the
    task's while it runs: its writer, writes, calls and callbacks report progress to it).

    Raises:
        NodeTimeoutError: a timeout fired first (the attempt is cancelled).
    """
    clock = AttemptClock(policy.refresh_on if policy.idle_timeout is not None else None)
    task.clock = clock
    return await run_timed(attempt, task.name, policy, clock)


async def run_timed(
    attempt: Callable[[], Awaitable[T]], name: str, policy: TimeoutPolicy, clock: AttemptClock
) -> T:
    """Run one attempt (``attempt()``) of ``name`` under ``policy``.

    Raises:
        NodeTimeoutError: a timeout fired first (the attempt is cancelled).
    """
    run_timeout = _seconds(policy.run_timeout)
    idle_timeout = _seconds(policy.idle_timeout)
    start = time.monotonic()
    body = asyncio.ensure_future(attempt())
    watchdogs: dict[asyncio.Future[Any], Literal["idle", "run"]] = {}
    if idle_timeout is not None:
        watchdogs[asyncio.ensure_future(clock.idle_out(idle_timeout))] = "idle"
    if run_timeout is not None:
        watchdogs[asyncio.ensure_future(asyncio.sleep(run_timeout))] = "run"
    try:
        done, _ = await asyncio.wait({body, *watchdogs}, return_when=asyncio.FIRST_COMPLETED)
        if body in done:
            return body.result()
        kind = next(watchdogs[w] for w in watchdogs if w in done)
        elapsed = time.monotonic() - start
        clock.close()
        body.cancel()
        await asyncio.wait({body}, timeout=_CANCEL_GRACE)
        body.add_done_callback(_drain)
        raise NodeTimeoutError(
            name, elapsed, kind=kind, idle_timeout=idle_timeout, run_timeout=run_timeout
        ) from TimeoutError()
    except asyncio.CancelledError:
        body.cancel()
        body.add_done_callback(_drain)
        raise
    finally:
        clock.close()
        for watchdog in watchdogs:
            watchdog.cancel()


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)


def _drain(future: asyncio.Future[Any]) -> None:
    """Mark an abandoned attempt's outcome as seen, so asyncio does not log it."""
    with contextlib.suppress(asyncio.CancelledError):
        future.exception()
