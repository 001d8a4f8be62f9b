"""Functional-API task calls: a ``@task`` function called while a node or an entrypoint runs.

As in LangGraph, a call is a task of the step its caller runs in (a push task carrying the
call). Its id derives from the checkpoint the step runs from, its caller and its place among
the caller's calls, so a caller run again from that checkpoint (a resume, in this process or in
another one after a crash) makes the same calls under the same ids; a call that finished is
not run again: its result comes from the log, as LangGraph's checkpointer gives it back (see
:func:`~rewind.runtime.read_back.as_checkpointed`: tuples become lists). A call that failed
(its retries spent), was interrupted or was cancelled runs again, as in LangGraph, whose resume
keeps only finished tasks' output: its earlier attempts stay in the log, the new ones are the
resumed run's.

Each call is recorded as a task of the step (see :mod:`rewind.events` for the payloads):
``task.started`` with LangGraph's path ``("__pregel_push", <caller's path>, <index>, True)``,
``triggers``, ``input`` (``(args, kwargs)``), ``arguments`` (how the function's parameters were
bound: the input its callback run shows) and ``call`` (the caller's checkpoint namespace);
``task.ended`` with ``return``, what it returned; ``task.failed`` for each failed attempt, as a
node's. A call answered from the log records its start with ``cached: true`` and no end.

An ``interrupt()`` inside a call belongs to the node (or entrypoint) the chain of calls started
from, as in LangGraph: it is recorded on that task and answered from its resume values.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
import uuid
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from rewind.errors import EncodingError
from rewind.events import PUSH, EventType, task_id_for
from rewind.log.codec import encode
from rewind.projections.calls import bound_arguments
from rewind.runtime.caching import CacheEntry, cache_entry
from rewind.runtime.context import current_config
from rewind.runtime.inline import await_inline, inline_on
from rewind.runtime.loops import call_on
from rewind.runtime.read_back import as_checkpointed
from rewind.runtime.tasks import Task, callable_facts, retry_policies, task_event
from rewind.types import RetryPolicy, TimeoutPolicy

if TYPE_CHECKING:
    from rewind.runtime.pregel import RunLoop

__all__ = [
    "Call",
    "CallFuture",
    "CallRunner",
    "SyncAsyncFuture",
    "argument_layout",
    "call_task",
    "not_serializable",
]

T = TypeVar("T")


class SyncAsyncFuture(Generic[T], concurrent.futures.Future[T]):
    """What calling a task gives (LangGraph's name): ``.result()`` in a sync function,
    ``await`` in an async one (where the future is an :class:`asyncio.Future`)."""

    def __await__(self) -> Generator[Any, None, T]:
        return asyncio.wrap_future(self).__await__()


class CallFuture(SyncAsyncFuture[T]):
    """The future of a call made from sync code. Waiting for it from a sync node run on the
    loop's own thread (see :mod:`rewind.runtime.inline`) lets the loop run meanwhile, instead
    of blocking the thread the call needs."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._loop = loop

    def result(self, timeout: float | None = None) -> T:
        """The call's result (raises its error), once it has one."""
        self._wait_inline()
        return super().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The call's error, if it failed, once it is done."""
        self._wait_inline()
        return super().exception(timeout)

    def _wait_inline(self) -> None:
        if not self.done() and inline_on(self._loop):
            await_inline(lambda: asyncio.wrap_future(self, loop=self._loop))


@dataclass(frozen=True, kw_only=True, slots=True)
class Call:
    """A task function called with these arguments."""

    func: Callable[..., Any]
    """The function."""
    args: tuple[Any, ...]
    """Its positional arguments."""
    kwargs: dict[str, Any]
    """Its keyword arguments."""
    name: str
    """The task's name."""
    retry_policy: Sequence[RetryPolicy] = ()
    """Its own retry policies (the graph's apply when it has none)."""
    cache_policy: Any = None
    """How its results are cached (with a cache given to the entrypoint), if they are."""
    timeout: TimeoutPolicy | None = None
    """The timeout of each of its attempts, if any."""


def call_task(call: Call) -> Any:
    """Start ``call`` as a task of the step the running task is in, and return its future (an
    :class:`asyncio.Future` when called from a coroutine on the run's loop, else a
    :class:`CallFuture`).

    Raises:
        RuntimeError: outside a running node, entrypoint or task (LangGraph's message), or an
            async task called from a run started with the sync API.
    """
    from rewind.runtime.pregel import current_task

    current = current_task()
    if current is None:
        raise RuntimeError("Called get_config outside of a runnable context")
    loop, caller = current
    return loop.calls.submit(caller, call)


@dataclass(frozen=True, slots=True)
class _Pending:
    caller: Task
    index: int
    call: Call
    future: Any
    config: dict[str, Any]


class CallRunner:
    """The task calls of one run loop: started, recorded, answered from the log on a resume,
    and waited for at the end of their step."""

    def __init__(self, loop: RunLoop) -> None:
        self._loop = loop
        self.done: dict[str, Mapping[str, Any]] = {}
        """Results the log holds for calls made from the step being resumed that finished,
        by call id: ``{"return": value}``."""
        self.fatal: BaseException | None = None
        """An error that fails the run whatever the caller does with it (a result that cannot
        be stored)."""
        self._running: set[asyncio.Task[None]] = set()
        self._unsettled: set[Any] = set()  # futures handed out and not given an outcome yet
        self._lock = threading.Lock()

    def submit(self, caller: Task, call: Call) -> Any:
        """Start ``call`` for ``caller`` from wherever the caller runs (any thread)."""
        loop = self._loop
        if loop.sync_api and callable_facts(call.func)[1]:
            raise RuntimeError("In an sync context async tasks cannot be called")
        if caller.clock is not None:  # a timed caller: starting a task is its progress
            caller.clock.progress()
        index = next(caller.calls)
        future = _future_for(loop.loop)
        config = current_config.get() or {}
        with self._lock:
            self._unsettled.add(future)
        call_on(loop.loop, self._start, _Pending(caller, index, call, future, config))
        return future

    async def settle(self) -> None:
        """Wait for the calls still running (their callers left them; the step ends with
        them, as LangGraph's does)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    def abandon(self) -> None:
        """Cancel the futures of calls that have no outcome and never will (their step ended
        without them: it failed or was cancelled), so no caller waits for them forever."""
        with self._lock:
            left, self._unsettled = self._unsettled, set()
        for future in left:
            future.cancel()

    def _settle(self, future: Any, outcome: Mapping[str, Any]) -> None:
        with self._lock:
            self._unsettled.discard(future)
        _settle(future, outcome)

    def _start(self, pending: _Pending) -> None:
        if pending.future.done():  # abandoned before it could start
            return
        try:
            self._started(pending)
        except EncodingError as exc:  # its input cannot be stored: the call fails
            self._settle(pending.future, {"error": not_serializable(exc)})
        except Exception as exc:
            self._settle(pending.future, {"error": exc})

    def _started(self, pending: _Pending) -> None:
        loop, call, caller = self._loop, pending.call, pending.caller
        step = loop.step + 1
        task = Task(
            id=task_id_for(
                loop.checkpoint_id or "", loop.ns, step, call.name, (PUSH, caller.id, pending.index)
            ),
            name=call.name,
            path=(PUSH, caller.path, pending.index, True),
            triggers=(PUSH,),
            arg=(call.args, call.kwargs),
            caller_ns=loop.task_ns(caller),
            root=caller.root or caller,
        )
        payload: dict[str, Any] = {
            "triggers": [PUSH],
            "path": task.path,
            "input": task.arg,
            "call": task.caller_ns,
        }
        done = self.done.get(task.id)
        if done is not None:  # it finished: its result is in the log, not run again
            payload["cached"] = True
            loop.record(task_event(EventType.TASK_STARTED, task, step, payload))
            serde = getattr(loop.graph.checkpointer, "serde", None)
            self._settle(pending.future, {"return": as_checkpointed(done["return"], serde)})
            return
        entry = None
        if call.cache_policy is not None and loop.graph.cache is not None:
            entry = cache_entry(call.cache_policy, call.name, call.func, *call.args, **call.kwargs)
            hit = loop.graph.cache.get([entry[0]]).get(entry[0])
            if hit is not None:  # the cache has its result: not run, recorded as a hit
                payload["cached"] = True
                loop.record(task_event(EventType.TASK_STARTED, task, step, payload))
                ended = {"return": hit["return"], "cached": True}
                loop.record(task_event(EventType.TASK_ENDED, task, step, ended))
                self._settle(pending.future, {"return": as_checkpointed(hit["return"])})
                return
        layout = argument_layout(call.func, call.args, call.kwargs)
        if layout is not None:
            payload["arguments"] = layout
        task.run_id = payload["run_id"] = str(uuid.uuid4())
        task.seq = loop.log.seq
        loop.record(task_event(EventType.TASK_STARTED, task, step, payload))
        task.node_input = bound_arguments(layout, call.args, call.kwargs)
        running = loop.loop.create_task(self._run(task, pending, step, entry))
        self._running.add(running)
        running.add_done_callback(self._running.discard)

    async def _run(
        self, task: Task, pending: _Pending, step: int, entry: CacheEntry | None
    ) -> None:
        loop, call = self._loop, pending.call
        policies = list(call.retry_policy) or retry_policies(loop.graph.retry_policy or None)
        explode = (call.args, call.kwargs, pending.config)

        def execute(task: Task, step: int) -> Any:
            return loop._call(call.func, task.node_input, task, step, call=explode)

        try:
            value = await loop._attempts(
                task, step, policies=policies, execute=execute, limit=call.timeout
            )
        except asyncio.CancelledError:
            self._settle(pending.future, {"cancelled": True})
            raise
        except Exception as exc:  # the caller's to see (an interrupt too: it is the caller's)
            self._settle(pending.future, {"error": exc})
            return
        try:
            await loop.emit(task_event(EventType.TASK_ENDED, task, step, {"return": value}))
        except BaseException as exc:  # not recorded: the run fails, whatever the caller does
            error = not_serializable(exc) if isinstance(exc, EncodingError) else exc
            self.fatal = not_serializable(exc) if isinstance(exc, EncodingError) else exc
            self._settle(pending.future, {"error": error})
            if not isinstance(exc, Exception):
                raise
            return
        if entry is not None:  # it finished: cached for next time
            await loop.graph.cache.aset({entry[0]: ({"return": value}, entry[1])})
        self._settle(pending.future, {"return": value})


def not_serializable(exc: EncodingError) -> TypeError:
    """LangGraph's error for a value its checkpointer cannot store (``exc`` says which)."""
    return TypeError(f"Type is not msgpack serializable: {exc.type_name.rsplit('.', 1)[-1]}")


def _future_for(loop: asyncio.AbstractEventLoop) -> Any:
    """An asyncio future when the caller is a coroutine running on ``loop``, else a
    :class:`CallFuture` (as LangGraph picks)."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop and asyncio.current_task(loop) is not None:
        return loop.create_future()
    return CallFuture(loop)


def _settle(future: Any, outcome: Mapping[str, Any]) -> None:
    """Give ``future`` a call's outcome (``return``, ``error`` or ``cancelled``), unless it has
    one."""
    if future.done():
        return
    if outcome.get("cancelled"):
        future.cancel()
    elif "return" in outcome:
        future.set_result(outcome["return"])
    else:
        error = outcome.get("error")
        future.set_exception(error if isinstance(error, BaseException) else Exception(error))


def argument_layout(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> list[list[Any]] | None:
    """How a call's arguments bind to the function's parameters, as LangGraph traces a task's
    input (its parameters by name, defaults applied, ``**kwargs`` spread out, no
    ``self``/``cls``), referring to the arguments instead of copying them: each entry is
    ``[name, ref]``, ``ref`` an index into ``args``, a key of ``kwargs``, ``[start]`` for the
    ``*args`` from ``start`` on, or ``{"default": value}``. ``None`` when they do not bind."""
    try:
        signature = inspect.signature(func)
        signature.bind_partial(*args, **kwargs)
    except (TypeError, ValueError):
        return None
    layout: list[list[Any]] = []
    position = 0
    named: set[str] = set()
    for name, param in signature.parameters.items():
        ref: Any = None
        if param.kind is param.VAR_POSITIONAL:
            ref, position = [position], len(args)
        elif param.kind is param.VAR_KEYWORD:
            layout += [[key, key] for key in kwargs if key not in named]
            continue
        elif param.kind is not param.KEYWORD_ONLY and position < len(args):
            ref, position = position, position + 1
        elif name in kwargs:
            ref = name
        elif param.default is not param.empty:
            ref = {"default": _storable(param.default)}
        else:
            continue
        named.add(name)
        if name not in ("self", "cls"):
            layout.append([name, ref])
    return layout


def _storable(value: Any) -> Any:
    """A parameter's default as the log can keep it (its repr when the codec cannot)."""
    try:
        encode(value)
    except EncodingError:
        return repr(value)
    return value
