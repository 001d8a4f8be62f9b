"""A super-step's tasks: what a task is, how it ends, and the rules a task runs by (its retry
policy, its ``interrupt()``, the arguments its function asks for, its order among a step's
tasks). Pure helpers of the executor (:mod:`rewind.runtime.pregel`)."""

from __future__ import annotations

import inspect
import itertools
import os
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rewind.errors import GraphInterrupt, NodeError
from rewind.events import PUSH, NewEvent, made_event, path_order
from rewind.runtime.channels import MISSING
from rewind.runtime.context import Runtime
from rewind.types import Command, Interrupt, RetryPolicy, Send, TimeoutPolicy, _interrupt_id

__all__ = [
    "Interrupted",
    "Outcome",
    "Task",
    "addresses_parent",
    "for_parent",
    "callable_facts",
    "failure_of",
    "injected_kwargs",
    "interrupter",
    "new_checkpoint_id",
    "remote_graph",
    "retries_on",
    "retry_interval",
    "retry_policies",
    "runs_subgraph",
    "task_event",
    "task_order",
]


def new_checkpoint_id() -> str:
    """A time-ordered UUID (version 6 layout, as LangGraph's checkpoint ids)."""
    import time

    ns = time.time_ns() // 100 + 0x01B21DD213814000  # 100-ns intervals since 1582
    node = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)  # (uuid4's random bits)
    high = (ns >> 12) & 0xFFFFFFFFFFFF
    low = ns & 0x0FFF
    value = (high << 80) | (0x6 << 76) | (low << 64) | (0b10 << 62) | node
    h = f"{value:032x}"  # str(uuid.UUID(int=value)), without the UUID made on the way
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(kw_only=True, slots=True)
class Task:
    """One task of a super-step."""

    id: str
    name: str
    path: tuple[Any, ...]
    triggers: tuple[str, ...]
    arg: Any = MISSING
    """A ``Send``'s argument; pull tasks read the state instead."""
    resume: list[Any] = field(default_factory=list)
    """Values for its ``interrupt()`` calls, in order (a resumed task)."""
    cached: dict[str, Any] | None = None
    """Its writes, when an earlier attempt from the same checkpoint completed it (or the node
    cache had them)."""
    cached_goto: list[Any] | None = None
    """Where it led, when the node cache had its writes (its routing is not run again)."""
    cache_entry: Any = None
    """Where its writes go in the node cache (see :mod:`rewind.runtime.caching`), if they do."""
    attempt: int = 1
    """Which attempt of it runs (1 first)."""
    first_attempt_at: float | None = None
    """When its first attempt started (Unix time)."""
    sent: list[tuple[str, Any]] = field(default_factory=list)
    """State writes its node made while it ran (``push_ui_message``), before its return's."""
    subgraph: bool = False
    """Whether its node is a compiled graph (a subgraph)."""
    resumed: bool = False
    """Whether it runs again from a checkpoint it was left at (a resume): a subgraph it runs
    may be stopped there."""
    run_id: str = ""
    """The LangChain callback run id of this attempt's node run."""
    seq: int = -1
    """The seq of its ``task.started`` event: its node span's id derives from it."""
    node_input: Any = MISSING
    """What its node was given (a subgraph run as the node records no copy of it)."""
    caller_ns: str | None = None
    """For a functional-API task call: the checkpoint namespace of the task that called it
    (its own is that, ``|name:id``); ``None`` for a node's task."""
    root: Task | None = None
    """For a task call: the node's (or entrypoint's) task the chain of calls started from;
    its ``interrupt()`` answers are that task's."""
    calls: Iterator[int] = field(default_factory=itertools.count)
    """Numbers the task calls this task makes, in the order it makes them."""
    graphs: Iterator[int] = field(default_factory=itertools.count)
    """Numbers the graphs its running attempt runs (a node calling graphs itself): the second
    and later ones run under its namespace and ``|n``, as LangGraph's."""
    interrupt_hook: Callable[..., Any] | None = None
    """What ``interrupt()`` does in this task's current attempt (its calls share it)."""
    timeout: TimeoutPolicy | None = None
    """Its own timeout (a ``Send``'s), over its node's."""
    clock: Any = None
    """The progress of its running attempt, when timed
    (:class:`~rewind.runtime.timeouts.AttemptClock`)."""
    node_error: NodeError | None = None
    """For an error handler's task: the failure it handles (its ``error: NodeError``)."""
    handled_error: Any = None
    """The error an earlier run of it failed with, which its node's error handler handles: a
    resumed run runs the handler again, not it (the error as the checkpoint kept it)."""

    def describe(self) -> dict[str, Any]:
        """How a checkpoint records it."""
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "path": list(self.path),
            "triggers": list(self.triggers),
        }
        if self.arg is not MISSING:
            out["arg"] = self.arg
        if self.subgraph:
            out["subgraph"] = True
        if self.timeout is not None:
            out["timeout"] = _timeout_record(self.timeout)
        return out

    @classmethod
    def of_send(cls, send: Any, index: int) -> Task:
        """The task of the ``index``-th ``Send`` packet of a step (its id given later)."""
        return cls(
            id="",
            name=send.node,
            path=(PUSH, index, False),
            triggers=(PUSH,),
            arg=send.arg,
            timeout=getattr(send, "timeout", None),
        )

    @classmethod
    def from_description(cls, d: Mapping[str, Any]) -> Task:
        """The task a checkpoint recorded."""
        return cls(
            id=d["id"],
            name=d["name"],
            path=tuple(d["path"]),
            triggers=tuple(d["triggers"]),
            arg=d.get("arg", MISSING),
            subgraph=bool(d.get("subgraph")),
            timeout=_timeout_of(d.get("timeout")),
        )

    @classmethod
    def anew(cls, d: Mapping[str, Any]) -> Task:
        """The task a checkpoint recorded, to run from a new checkpoint (which gives it its
        id): a fork's, a copy's."""
        return cls(
            id="",
            name=d["name"],
            path=tuple(d["path"]),
            triggers=tuple(d["triggers"]),
            arg=d.get("arg", MISSING),
            timeout=_timeout_of(d.get("timeout")),
        )


def _timeout_record(policy: TimeoutPolicy) -> dict[str, Any]:
    """How a task description records a ``Send``'s timeout."""
    return {
        "run_timeout": policy.run_timeout,
        "idle_timeout": policy.idle_timeout,
        "refresh_on": policy.refresh_on,
    }


def _timeout_of(record: Mapping[str, Any] | None) -> TimeoutPolicy | None:
    """The timeout a task description recorded, if any."""
    return None if record is None else TimeoutPolicy.coerce(TimeoutPolicy(**record))


class Interrupted(Exception):
    """The run stopped: at interrupts raised by nodes, or at a static breakpoint."""

    def __init__(self, interrupts: list[Interrupt[Any]], *, static: str | None = None) -> None:
        super().__init__(interrupts)
        self.interrupts = interrupts
        self.static = static
        """``"before"``/``"after"``: a static breakpoint (``interrupt_before``/``_after``)."""


@dataclass(kw_only=True, slots=True)
class Outcome:
    """What a task did: its update as returned, the writes it maps to, where it leads."""

    task: Task
    update: Any
    writes: list[tuple[str, Any]] = field(default_factory=list)
    goto: list[str | Send] = field(default_factory=list)
    # Ids the reducer's rule gave, in place, to message objects the node returned without one.
    ids_given: list[str] = field(default_factory=list)
    # The routing functions' decisions on where the task leads (recorded with its end).
    routes: list[dict[str, Any]] = field(default_factory=list)


def runs_subgraph(action: Any) -> bool:
    """Whether a node is, or calls, a compiled graph or a ``RemoteGraph`` (as LangGraph finds
    it: the node itself, or a graph its function closes over or names as a global)."""
    if hasattr(action, "builder") or remote_graph(action):
        return True
    for cell in getattr(action, "__closure__", None) or ():
        try:
            if _graph(cell.cell_contents):
                return True
        except ValueError:  # an empty cell
            continue
    code = getattr(action, "__code__", None)
    scope = getattr(action, "__globals__", {})
    return code is not None and any(_graph(scope.get(name)) for name in code.co_names)


def _graph(value: Any) -> bool:
    return (hasattr(value, "builder") and hasattr(value, "astream")) or remote_graph(value)


def remote_graph(value: Any) -> bool:
    """Whether ``value`` is a graph run elsewhere (a ``RemoteGraph``: a ``PregelProtocol`` no
    compiled graph), which LangGraph counts as a subgraph too."""
    from rewind.pregel.protocol import PregelProtocol  # (rewind.pregel imports the runtime)

    return isinstance(value, PregelProtocol) and not hasattr(value, "builder")


def addresses_parent(result: Any) -> bool:
    items = result if isinstance(result, list) else [result]
    return any(isinstance(i, Command) and i.graph == Command.PARENT for i in items)


def for_parent(result: Any) -> Command[Any]:
    """The ``Command(graph=Command.PARENT)`` a subgraph node returned, for its parent."""
    items = result if isinstance(result, list) else [result]
    for item in items:
        if isinstance(item, Command) and item.graph == Command.PARENT:
            return item
    raise AssertionError("no parent command")  # pragma: no cover - guarded by the caller


def failure_of(exc: BaseException, attempt: int, *, retrying: bool) -> dict[str, Any]:
    """What a task's ``task.failed`` records of an attempt that raised ``exc``."""
    import traceback

    return {
        "type": type(exc).__name__,
        "message": str(exc),
        "repr": repr(exc),
        "traceback": traceback.format_exc(),
        "attempt": attempt,
        "retrying": retrying,
        "error": exc,
    }


def retry_policies(spec: RetryPolicy | Sequence[RetryPolicy] | None) -> list[RetryPolicy]:
    if spec is None:
        return []
    return [spec] if isinstance(spec, RetryPolicy) else list(spec)


def retries_on(policy: RetryPolicy, exc: Exception) -> bool:
    """Whether ``policy`` retries ``exc`` (a class, a sequence of classes, or a predicate)."""
    retry_on: Any = policy.retry_on
    if isinstance(retry_on, Sequence):
        return isinstance(exc, tuple(retry_on))
    if isinstance(retry_on, type) and issubclass(retry_on, BaseException):
        return isinstance(exc, retry_on)
    return bool(retry_on(exc))


def retry_interval(policy: RetryPolicy, attempt: int) -> float:
    interval = min(
        policy.max_interval, policy.initial_interval * policy.backoff_factor ** (attempt - 1)
    )
    return interval + random.uniform(0, 1) if policy.jitter else interval


def task_event(kind: str, task: Task, step: int, payload: Any) -> NewEvent:
    """An event about one task of a step."""
    return made_event(kind, payload, None, step, None, task.name, task.id)


def interrupter(
    task: Task, ns: str, take_null: Callable[[Task], Any] | None = None
) -> Callable[..., Any]:
    """What ``interrupt()`` does in this task: answer from the resume values, in order, or
    with the run's null resume if ``take_null`` gives it (once a run), or stop the task with a
    new interrupt whose id is fixed by the task and its place."""
    calls = 0

    def hook(value: Any, *, response_schema: Any = None) -> Any:
        nonlocal calls
        index, calls = calls, calls + 1
        if index < len(task.resume):
            return task.resume[index]
        if take_null is not None and index == len(task.resume):
            given = take_null(task)
            if given is not MISSING:
                task.resume.append(given)
                return given
        task_ns = f"{ns}|{task.name}:{task.id}" if ns else f"{task.name}:{task.id}"
        raise GraphInterrupt((Interrupt(value=value, id=_interrupt_id(task_ns, index)),))

    return hook


def task_order(task: Task) -> str:
    """The order in which a step's tasks' writes apply (LangGraph's)."""
    return path_order(task.path)


class SyncAsyncNode:
    """A node with a sync function and an async one, as LangGraph's ``RunnableCallable(func,
    afunc)``: the sync API (``invoke``/``stream``) runs ``func``, the async API ``afunc``.
    Each takes the node's input and asks for ``config``, ``runtime``... by name. ``trace``: as
    LangGraph's, the call is a run of its own (named after it) inside the node's run, with the
    node's config given to the function (what it runs without passing a config nests in it)."""

    def __init__(
        self,
        func: Callable[..., Any],
        afunc: Callable[..., Any],
        *,
        name: str | None = None,
        trace: bool = True,
    ) -> None:
        self.func = func
        self.afunc = afunc
        self.name = name or getattr(func, "__name__", None) or type(self).__name__
        self.__name__ = self.name
        self.trace = trace

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"SyncAsyncNode({self.name})"


def injected_kwargs(
    fn: Callable[..., Any],
    config: dict[str, Any],
    writer: Callable[[Any], None] | None = None,
    runtime: Runtime[Any] | None = None,
    store: Any = None,
    error: NodeError | None = None,
) -> dict[str, Any]:
    """The keyword arguments a node, entrypoint, task or routing function asks for by name,
    as LangGraph's: ``config``, ``writer``, ``runtime``, ``store``, ``error`` (annotated
    ``NodeError``: an error handler's failure, ``None`` elsewhere) and, when there is a
    runtime, ``previous`` (``store``, ``error`` and ``previous`` given even when ``None``, as
    LangGraph gives them)."""
    asked = callable_facts(fn)[0]
    if not asked:
        return {}
    offered = {"config": config, "writer": writer, "runtime": runtime, "store": store}
    # ``store`` is given even when there is none (``None``), as LangGraph gives it.
    out = {
        name: value
        for name, value in offered.items()
        if name in asked and (value is not None or name == "store")
    }
    if "previous" in asked and runtime is not None:
        out["previous"] = runtime.previous
    if "error" in asked:
        out["error"] = error
    return out


def no_sync_function(name: str) -> TypeError:
    """LangGraph's error for an async function run through the sync API."""
    return TypeError(
        f'No synchronous function provided to "{name}".'
        "\nEither initialize with a synchronous function or invoke"
        " via the async API (ainvoke, astream, etc.)"
    )


_INJECTABLE = ("config", "writer", "runtime", "store", "previous", "error")


def callable_facts(fn: Callable[..., Any]) -> tuple[frozenset[str], bool]:
    """Which of the injectable arguments (:data:`_INJECTABLE`) ``fn`` takes, and whether
    calling it gives a coroutine: looked up once per function (``inspect.signature`` costs more
    than running a small node)."""
    try:
        known = _facts.get(fn)
    except TypeError:  # an unhashable callable: looked up each time
        return _callable_facts(fn)
    if known is None:
        known = _callable_facts(fn)
        if len(_facts) >= _FACTS_KEPT:
            _facts.clear()
        _facts[fn] = known
    return known


def _callable_facts(fn: Callable[..., Any]) -> tuple[frozenset[str], bool]:
    try:
        params = inspect.signature(fn).parameters
        asked = frozenset(
            name
            for name in _INJECTABLE
            if name in params
            # as LangGraph's: ``error`` only when annotated NodeError (a name of its own else)
            and (name != "error" or params[name].annotation in (NodeError, "NodeError"))
        )
    except (TypeError, ValueError):
        asked = frozenset()
    is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__call__)
    return asked, is_async


_facts: dict[Any, tuple[frozenset[str], bool]] = {}
_FACTS_KEPT = 4096
"""Functions whose facts are kept (graphs built in a loop make new ones: the table is cleared
when full rather than grow)."""
