"""A store that gathers the async calls made in the same tick into one ``abatch`` (as
``langgraph.store.base.batch``)."""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeVar, cast

from rewind.store import writes as _writes
from rewind.store.base import (
    NOT_PROVIDED,
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,  # noqa: F401 - LangGraph's module has it too
    NamespacePath,
    NotProvided,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    _ensure_refresh,
    _ensure_ttl,
    _list_op,
    _validate_namespace,
    _validate_namespace_labels,
    writes_of,
)

__all__ = ["AsyncBatchedBaseStore"]

F = TypeVar("F", bound=Callable[..., Any])

_Queue = asyncio.Queue[tuple[asyncio.Future[Result], Op]]


def _check_loop(func: F) -> F:
    """Refuse a sync call made on the store's own event loop (it would wait for itself)."""

    @functools.wraps(func)
    def wrapper(store: AsyncBatchedBaseStore, *args: Any, **kwargs: Any) -> Any:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and running is store._loop:
            name = func.__name__
            hint = (
                f"Specifically, replace `store.{name}(...)` with `await store.a{name}(...)"
                if name
                else "For example, replace `store.get(...)` with `await store.aget(...)`"
            )
            raise asyncio.InvalidStateError(
                f"Synchronous calls to {store.__class__.__name__} detected in the main event "
                "loop. This can lead to deadlocks or performance issues. Please use the "
                f"asynchronous interface for main thread operations. {hint} "
            )
        return func(store, *args, **kwargs)

    return cast(F, wrapper)


class AsyncBatchedBaseStore(BaseStore):
    """A store whose ``a*`` calls queue their op for a background task, which runs everything
    queued in the same tick as one :meth:`abatch` (duplicates run once; of puts to one key, the
    last). Sync calls from other threads go through the same queue on the store's loop.

    Must be created with an event loop running. Each call reports its own writes to the
    store's write listeners, in the caller's task or thread.
    """

    __slots__ = ("_aqueue", "_loop", "_task")

    def __init__(self) -> None:
        super().__init__()
        self._loop = asyncio.get_running_loop()
        self._aqueue: _Queue = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._ensure_task()

    def __del__(self) -> None:
        try:
            if self._task:
                self._task.cancel()
        except (RuntimeError, AttributeError):
            pass

    def _ensure_task(self) -> None:
        """Start the background task, or start it again if it ended."""
        if self._task is None or self._task.done():
            self._task = self._loop.create_task(_run(self._aqueue, weakref.ref(self)))

    async def _enqueue(self, op: Op) -> Result:
        self._ensure_task()
        fut: asyncio.Future[Result] = self._loop.create_future()
        self._aqueue.put_nowait((fut, op))
        return await fut

    def _call(self, op: Op) -> Result:
        """Run ``op`` on the store's loop from another thread and wait for it."""
        return asyncio.run_coroutine_threadsafe(self._enqueue(op), self._loop).result()

    async def aget(
        self,
        namespace: tuple[str, ...],
        key: str,
        *,
        refresh_ttl: bool | None = None,
    ) -> Item | None:
        _validate_namespace_labels(namespace)
        op = GetOp(namespace, key, refresh_ttl=_ensure_refresh(self.ttl_config, refresh_ttl))
        return cast(Item | None, await self._enqueue(op))

    async def asearch(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
    ) -> list[SearchItem]:
        _validate_namespace_labels(namespace_prefix)
        op = SearchOp(
            namespace_prefix,
            filter,
            limit,
            offset,
            query,
            refresh_ttl=_ensure_refresh(self.ttl_config, refresh_ttl),
        )
        return cast(list[SearchItem], await self._enqueue(op))

    async def aput(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | NotProvided | None = NOT_PROVIDED,
    ) -> None:
        _validate_namespace(namespace)
        op = PutOp(namespace, key, value, index, ttl=_ensure_ttl(self.ttl_config, ttl))
        await self._enqueue(op)
        _writes.notify(self, writes_of([op]))

    async def adelete(self, namespace: tuple[str, ...], key: str) -> None:
        _validate_namespace_labels(namespace)
        op = PutOp(namespace, key, None)
        await self._enqueue(op)
        _writes.notify(self, writes_of([op]))

    async def alist_namespaces(
        self,
        *,
        prefix: NamespacePath | None = None,
        suffix: NamespacePath | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        op = _list_op(prefix, suffix, max_depth, limit, offset)
        return cast(list[tuple[str, ...]], await self._enqueue(op))

    @_check_loop
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return asyncio.run_coroutine_threadsafe(self.abatch(ops), self._loop).result()

    @_check_loop
    def get(
        self,
        namespace: tuple[str, ...],
        key: str,
        *,
        refresh_ttl: bool | None = None,
    ) -> Item | None:
        return asyncio.run_coroutine_threadsafe(
            self.aget(namespace, key=key, refresh_ttl=refresh_ttl), self._loop
        ).result()

    @_check_loop
    def search(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
    ) -> list[SearchItem]:
        return asyncio.run_coroutine_threadsafe(
            self.asearch(
                namespace_prefix,
                query=query,
                filter=filter,
                limit=limit,
                offset=offset,
                refresh_ttl=refresh_ttl,
            ),
            self._loop,
        ).result()

    @_check_loop
    def put(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | NotProvided | None = NOT_PROVIDED,
    ) -> None:
        _validate_namespace(namespace)
        op = PutOp(namespace, key, value, index, ttl=_ensure_ttl(self.ttl_config, ttl))
        self._call(op)
        _writes.notify(self, writes_of([op]))  # in the caller's thread

    @_check_loop
    def delete(self, namespace: tuple[str, ...], key: str) -> None:
        _validate_namespace_labels(namespace)
        op = PutOp(namespace, key, None)
        self._call(op)
        _writes.notify(self, writes_of([op]))

    @_check_loop
    def list_namespaces(
        self,
        *,
        prefix: NamespacePath | None = None,
        suffix: NamespacePath | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        return asyncio.run_coroutine_threadsafe(
            self.alist_namespaces(
                prefix=prefix, suffix=suffix, max_depth=max_depth, limit=limit, offset=offset
            ),
            self._loop,
        ).result()


def _dedupe_ops(values: list[Op]) -> tuple[list[int] | None, list[Op]]:
    """The ops to run once each (equal reads once; puts to one key once, with the last value,
    at the first one's place) and, for each op given, the index of its result."""
    if len(values) <= 1:
        return None, list(values)
    deduped: list[Op] = []
    listen: list[int] = []
    puts: dict[tuple[tuple[str, ...], str], int] = {}
    reads: dict[Op, int] = {}
    for op in values:
        if isinstance(op, GetOp | SearchOp | ListNamespacesOp):
            try:
                ix = reads.setdefault(op, len(deduped))
            except TypeError:  # an op holding a dict or a list is unhashable
                try:
                    ix = deduped.index(op)
                except ValueError:
                    ix = len(deduped)
            if ix == len(deduped):
                deduped.append(op)
            listen.append(ix)
        elif isinstance(op, PutOp):
            put_key = (op.namespace, op.key)
            if put_key in puts:
                ix = puts[put_key]
                deduped[ix] = op
                listen.append(ix)
            else:
                puts[put_key] = len(deduped)
                listen.append(len(deduped))
                deduped.append(op)
        else:
            listen.append(len(deduped))
            deduped.append(op)
    return listen, deduped


async def _run(queue: _Queue, store_ref: weakref.ReferenceType[AsyncBatchedBaseStore]) -> None:
    silenced = False
    while item := await queue.get():
        if item[0].done():  # cancelled meanwhile
            continue
        store = store_ref()
        if store is None:
            break
        if not silenced:
            # The callers report their own writes, in their own tasks: the batch that runs
            # them here reports nothing.
            _writes.silence(store)
            silenced = True
        try:
            items = [item]
            while True:  # everything queued in the same tick
                try:
                    more = queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if not more[0].done():
                    items.append(more)
            futures = [fut for fut, _ in items]
            try:
                listen, deduped = _dedupe_ops([op for _, op in items])
                results = await store.abatch(deduped)
                if listen is not None:
                    results = [results[ix] for ix in listen]
                for fut, result in zip(futures, results, strict=False):
                    if not fut.done():
                        fut.set_result(result)
            except Exception as exc:
                for fut in futures:
                    if not fut.done():
                        fut.set_exception(exc)
        finally:
            del store
