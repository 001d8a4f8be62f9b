"""LangGraph's functional API (``langgraph.func``): ``@entrypoint`` and ``@task``.

An entrypoint is a function made a graph: it runs as one task, and what it returns is the
run's output (and, with a checkpointer, the ``previous`` value of the thread's next run). A
task is a function whose calls, made inside an entrypoint (or a StateGraph node), run as tasks
of the running step: each call returns a future at once, so calls run in parallel, and each is
recorded in the run's log (its input, its result or failure, its retries). A resumed entrypoint
does not call a task again whose result the log holds: the result comes from the log. A call
that failed is made again, as LangGraph makes it (a resume keeps only finished calls' results).

The long-term memory store (``store=``) reaches the entrypoint and its tasks as it reaches a
graph's nodes (a ``store`` parameter, ``runtime.store``, ``get_store()``), and each write is an
event of the run, attributed to the task call that made it.

With ``@entrypoint(cache=InMemoryCache())``, a task with a ``cache_policy`` called again with
arguments it saw returns its cached result without running (the call is recorded as a cache
hit), as does the entrypoint itself with its own ``cache_policy``.

A ``timeout`` (``@task(timeout=...)``, ``@entrypoint(timeout=...)``) bounds each attempt of an
async task or entrypoint as it bounds a node's (:mod:`rewind.runtime.timeouts`).
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, Generic, ParamSpec, TypeVar, cast, get_args, get_origin, overload

from rewind.cache.base import BaseCache
from rewind.errors import LangGraphDeprecatedSinceV10, LangGraphDeprecationWarning
from rewind.projections.calls import EntrypointFinal as Final
from rewind.runtime.caching import node_namespace
from rewind.runtime.calls import Call, SyncAsyncFuture, call_task
from rewind.runtime.functional import Entrypoint
from rewind.runtime.timeouts import natively_async, sync_timeout_unsupported
from rewind.types import CachePolicy, RetryPolicy, StreamMode, TimeoutPolicy

__all__ = ("entrypoint", "task")

P = ParamSpec("P")
T = TypeVar("T")
ContextT = TypeVar("ContextT")

_ = (StreamMode, SyncAsyncFuture)  # LangGraph's func module offers these names too


def _retry_deprecated() -> LangGraphDeprecationWarning:
    return LangGraphDeprecationWarning(
        "`retry` is deprecated and will be removed. Please use `retry_policy` instead.",
        since=(0, 5),
        expected_removal=(2, 0),
    )


class _TaskFunction(Generic[P, T]):
    """A ``@task`` function: calling it starts a task call and returns its future."""

    def __init__(
        self,
        func: Callable[P, Awaitable[T]] | Callable[P, T],
        *,
        retry_policy: Sequence[RetryPolicy],
        cache_policy: CachePolicy[Any] | None = None,
        timeout: TimeoutPolicy | None = None,
        name: str | None = None,
    ) -> None:
        if name is not None:
            if hasattr(func, "__func__"):  # a bound method: renamed without touching its class
                method = functools.partial(func.__func__, func.__self__)  # type: ignore[union-attr]
                method.__name__ = name  # type: ignore[attr-defined]
                func = method
            else:
                func.__name__ = name
        self.func = func
        """The decorated function."""
        self.retry_policy = retry_policy
        """Its retry policies (the entrypoint's apply when there are none)."""
        self.cache_policy = cache_policy
        """How its results are cached (with a ``cache`` given to the entrypoint)."""
        self.timeout = timeout
        """The timeout of each attempt of a call of it."""
        functools.update_wrapper(self, func)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> SyncAsyncFuture[T]:
        """Start the task with these arguments; returns its future at once.

        Raises:
            RuntimeError: called outside a running entrypoint or graph node.
        """
        call = Call(
            func=self.func,
            args=args,
            kwargs=kwargs,
            name=_task_name(self.func),
            retry_policy=self.retry_policy,
            cache_policy=self.cache_policy,
            timeout=self.timeout,
        )
        return cast(SyncAsyncFuture[T], call_task(call))

    def clear_cache(self, cache: BaseCache[Any]) -> None:
        """Delete this task's cached results from ``cache``."""
        if self.cache_policy is not None:
            cache.clear([node_namespace(_task_name(self.func), self.func)])

    async def aclear_cache(self, cache: BaseCache[Any]) -> None:
        """:meth:`clear_cache`, for async code."""
        if self.cache_policy is not None:
            await cache.aclear([node_namespace(_task_name(self.func), self.func)])


def _task_name(func: Callable[..., Any]) -> str:
    """A task's name, as LangGraph names it: its function's (a partial's function's)."""
    if hasattr(func, "__name__"):
        return str(func.__name__)
    if hasattr(func, "func"):
        return str(func.func.__name__)
    return type(func).__name__


@overload
def task(
    __func_or_none__: None = None,
    *,
    name: str | None = None,
    retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
    cache_policy: CachePolicy[Any] | None = None,
    timeout: float | timedelta | TimeoutPolicy | None = None,
    **kwargs: Any,
) -> Callable[[Callable[P, Awaitable[T]] | Callable[P, T]], _TaskFunction[P, T]]: ...


@overload
def task(__func_or_none__: Callable[P, Awaitable[T]]) -> _TaskFunction[P, T]: ...


@overload
def task(__func_or_none__: Callable[P, T]) -> _TaskFunction[P, T]: ...


def task(
    __func_or_none__: Callable[P, Awaitable[T]] | Callable[P, T] | None = None,
    *,
    name: str | None = None,
    retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
    cache_policy: CachePolicy[Any] | None = None,
    timeout: float | timedelta | TimeoutPolicy | None = None,
    **kwargs: Any,
) -> (
    Callable[[Callable[P, Awaitable[T]] | Callable[P, T]], _TaskFunction[P, T]]
    | (_TaskFunction[P, T])
):
    """Make a function a task: called inside an entrypoint (or a StateGraph node), it runs as
    a task of the running step and returns a future (``.result()``; ``await`` it in async
    code), so several calls run in parallel.

    Args:
        name: The task's name (default: the function's).
        retry_policy: Retry policies for a failed call (default: the entrypoint's).
        cache_policy: How its results are cached, keyed by its arguments (with a ``cache``
            given to the entrypoint).
        timeout: The timeout of each attempt of a call (seconds or a ``timedelta`` for a run
            timeout, or a ``TimeoutPolicy``); an attempt past it fails with
            ``NodeTimeoutError``. Only async functions can be timed.

    Raises:
        ValueError: a timeout given to a sync function.

    Example:
        ```python
        @task
        def add_one(a: int) -> int:
            return a + 1


        @entrypoint()
        def add_all(numbers: list[int]) -> list[int]:
            return [f.result() for f in [add_one(n) for n in numbers]]
        ```
    """
    if "retry" in kwargs:
        warnings.warn(_retry_deprecated(), stacklevel=2)
        retry_policy = retry_policy or kwargs["retry"]
    timeout_policy = TimeoutPolicy.coerce(timeout)
    policies: Sequence[RetryPolicy] = (
        ()
        if retry_policy is None
        else (retry_policy,)
        if isinstance(retry_policy, RetryPolicy)
        else tuple(retry_policy)
    )

    def decorator(func: Callable[P, Awaitable[T]] | Callable[P, T]) -> _TaskFunction[P, T]:
        if timeout_policy is not None and not natively_async(func):
            raise sync_timeout_unsupported(name or _task_name(func), kind="Task")
        return _TaskFunction(
            func,
            retry_policy=policies,
            cache_policy=cache_policy,
            timeout=timeout_policy,
            name=name,
        )

    if __func_or_none__ is not None:
        return decorator(__func_or_none__)
    return decorator


class entrypoint(Generic[ContextT]):
    """Make a function a workflow: ``@entrypoint(checkpointer=...)``.

    The function takes one input (use a dict for several values) and may ask for ``config``,
    ``writer`` (the ``custom`` stream), ``store``, ``runtime`` and ``previous`` (what it
    returned, or saved with :class:`entrypoint.final`, on the thread's previous run) by naming
    them as parameters. The result is a graph with LangGraph's API: ``invoke``/``ainvoke``,
    ``stream``/``astream`` in every stream mode, ``astream_events``, ``get_state``,
    ``get_state_history``; ``interrupt()`` works in it and in its tasks, and
    ``Command(resume=...)`` resumes it.

    Args:
        checkpointer: Where runs are kept (``InMemorySaver()``, ``SqliteSaver``...).
        store: A long-term memory store (``rewind.store``) for the function and its tasks;
            each write they make is an event of the run.
        cache: Where the entrypoint's and its tasks' results are cached
            (:mod:`rewind.cache`), for those with a ``cache_policy``.
        context_schema: The type of the ``context=`` given to a run.
        cache_policy: How the entrypoint's own result is cached, keyed by its input.
        retry_policy: Retry policies for the function (and its tasks that have none).
        timeout: The timeout of each attempt of the function, as a node's; only an async
            function can be timed (a sync one is refused when decorated).
    """

    final = Final
    """Return ``entrypoint.final(value=..., save=...)`` to return ``value`` and save ``save``
    as the thread's ``previous``."""

    def __init__(
        self,
        checkpointer: Any = None,
        store: Any = None,
        cache: Any = None,
        context_schema: type[ContextT] | None = None,
        cache_policy: CachePolicy[Any] | None = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        timeout: float | timedelta | TimeoutPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        if "config_schema" in kwargs:
            warnings.warn(
                "`config_schema` is deprecated and will be removed. Please use `context_schema` "
                "instead.",
                category=LangGraphDeprecatedSinceV10,
                stacklevel=2,
            )
            context_schema = context_schema or kwargs["config_schema"]
        if "retry" in kwargs:
            warnings.warn(_retry_deprecated(), stacklevel=2)
            retry_policy = retry_policy or kwargs["retry"]
        self.checkpointer = checkpointer
        self.store = store
        self.cache = cache
        self.cache_policy = cache_policy
        self.retry_policy = retry_policy
        self.timeout = TimeoutPolicy.coerce(timeout)
        self.context_schema = context_schema

    def __call__(self, func: Callable[..., Any]) -> Entrypoint:
        """Make ``func`` (sync or async) a runnable workflow.

        Raises:
            NotImplementedError: ``func`` is a generator.
            ValueError: ``func`` takes no parameter, or is sync and given a timeout.
            TypeError: its return annotation is ``entrypoint.final`` without both types.
        """
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            raise NotImplementedError("Generators are not supported in the Functional API.")
        signature = inspect.signature(func)
        if not signature.parameters:
            raise ValueError("Entrypoint function must have at least one parameter")
        returns = signature.return_annotation
        if get_origin(returns) is Final and len(get_args(returns)) != 2:
            raise TypeError(
                "Please an annotation for both the return_ and "
                "the save values."
                "For example, `-> entrypoint.final[int, str]` would assign a "
                "return_ a type of `int` and save the type `str`."
            )
        return Entrypoint(
            func,
            checkpointer=self.checkpointer,
            store=self.store,
            retry_policy=self.retry_policy,
            context_schema=self.context_schema,
            cache=self.cache,
            cache_policy=self.cache_policy,
            timeout=self.timeout,
        )
