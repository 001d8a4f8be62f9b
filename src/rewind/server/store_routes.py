"""The store routes: LangGraph's long-term memory API over the server's store.

The server has one store, in its database (:func:`server_store`: a SQLite file's store tables,
a PostgreSQL database's, or memory), and it is the one its graphs get (``runtime.store``, a
``store`` parameter, ``get_store()``), as on LangGraph's server: what a node remembers, a client
reads through ``/store/items``, and what a client writes, the next run sees. Every write is
logged: a node's as a ``store.write`` event of its run, a client's as a short run of graph
``__store__`` on thread ``__store__`` (as a direct write to a store is, see
:mod:`rewind.runtime.memory`), appended before the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextvars import ContextVar
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from rewind.events import EventType, NewEvent, RunStatus, run_ended, run_started
from rewind.log import EventLog
from rewind.runtime.memory import STORE_GRAPH, STORE_THREAD, watch_store, write_payload
from rewind.server.models import StoreDelete, StoreNamespaces, StorePut, StoreSearch
from rewind.server.run_routes import _service
from rewind.server.service import ApiError
from rewind.store.base import BaseStore, Op, Result
from rewind.store.writes import StoreWrite

__all__ = ["ServerStore", "router", "server_store"]

router = APIRouter()

_CAPTURED: ContextVar[list[StoreWrite] | None] = ContextVar("rewind_api_writes", default=None)
"""The writes of the store call a route is making (``None`` outside one)."""


class ServerStore(BaseStore):
    """The server's store: ``inner`` (a sync store), for sync and async callers alike.

    A sync call (a sync node, on the loop's thread or a worker thread) runs ``inner`` where it
    is made; an async call runs it on a worker thread. Calls take turns (a lock), so ``inner``
    need not be safe for threads.
    """

    def __init__(self, inner: BaseStore) -> None:
        super().__init__()
        self.inner = inner
        """The store that holds the items."""
        self.supports_ttl = inner.supports_ttl
        self.ttl_config = inner.ttl_config
        self._lock = threading.Lock()

    def _run(self, ops: list[Op]) -> list[Result]:
        with self._lock:
            return self.inner.batch(ops)

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return self._run(list(ops))

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return await asyncio.to_thread(self._run, list(ops))


@contextlib.asynccontextmanager
async def server_store(log: EventLog) -> AsyncIterator[ServerStore]:
    """The store of the database ``log`` is in (memory for a log in memory), watched as a
    graph's store is (a node's writes are events of its run), open until the block ends."""
    from rewind.log.postgres import PostgresLog
    from rewind.log.sqlite import SqliteLog

    with contextlib.ExitStack() as stack:
        inner: BaseStore
        if isinstance(log, PostgresLog):
            from rewind.store.postgres import PostgresStore

            made = PostgresStore.from_conn_string(log.conninfo)
            postgres = await asyncio.to_thread(stack.enter_context, made)
            await asyncio.to_thread(postgres.setup)
            inner = postgres
        elif isinstance(log, SqliteLog) and log.path is not None:
            from rewind.store.sqlite import SqliteStore

            sqlite = stack.enter_context(SqliteStore.from_conn_string(log.path))
            # Opening the log migrated the file. Not setup(): it reads the file's header
            # through a file handle of its own, and closing that drops every SQLite lock this
            # process holds on the file (POSIX locks are per process): another process closing
            # the database would then delete the -wal and -shm under the log's connections.
            sqlite.is_setup = True
            sqlite.conn.execute("PRAGMA synchronous=NORMAL")  # as the log's connections
            inner = sqlite
        else:
            from rewind.store.memory import InMemoryStore

            inner = InMemoryStore()
        store = ServerStore(inner)
        watch_store(store)  # no log of its own: a route logs the writes it makes (below)
        store.add_write_listener(_capture)
        yield store


def _capture(writes: list[StoreWrite]) -> None:
    captured = _CAPTURED.get()
    if captured is not None:
        captured.extend(writes)


def _store(request: Request) -> BaseStore:
    store = _service(request).store
    if store is None:  # (a service made without one, outside create_app)
        raise ApiError(503, "This server has no store")
    return store


async def _call(call: Callable[[], Awaitable[Any]]) -> Any:
    """``call()``, with the store's refusals of bad input as 422s."""
    try:
        return await call()
    except (ValueError, TypeError, NotImplementedError) as exc:
        raise ApiError(422, str(exc)) from exc


async def _write(request: Request, call: Callable[[], Awaitable[Any]]) -> None:
    """Make a store write, then log it as a short run of the store's own thread."""
    token = _CAPTURED.set([])
    try:
        await _call(call)
        writes = _CAPTURED.get() or []
    finally:
        _CAPTURED.reset(token)
    if not writes:
        return
    log = _service(request).log
    events = [
        run_started(thread_id=STORE_THREAD, graph=STORE_GRAPH),
        *(NewEvent(type=EventType.STORE_WRITE, payload=write_payload(w)) for w in writes),
        run_ended(RunStatus.SUCCESS),
    ]
    await log.append(str(uuid.uuid4()), events, expected_seq=0, new_run=True)
    await log.flush()


def _namespace(labels: list[str] | tuple[str, ...], *, field: str) -> tuple[str, ...]:
    """``labels`` as a namespace, each a non-empty string without periods (or a 422)."""
    for label in labels:
        if not label or "." in label:
            raise ApiError(
                422,
                f"{field}: namespace label {label!r} must be a non-empty string without periods",
            )
    return tuple(labels)


@router.put("/store/items", status_code=204)
async def put_item(request: Request, body: StorePut) -> Response:
    """Store or replace an item."""
    namespace = _namespace(body.namespace, field="namespace")
    store = _store(request)
    await _write(
        request,
        lambda: store.aput(namespace, body.key, body.value, index=body.index, ttl=body.ttl),
    )
    return Response(status_code=204)


@router.get("/store/items")
async def get_item(
    request: Request,
    key: str | None = None,
    namespace: str = "",
    refresh_ttl: bool | None = None,
) -> JSONResponse:
    """One item, or ``null`` when there is none (as LangGraph's server answers)."""
    labels = _namespace(namespace.split("."), field="namespace")
    if not key:
        raise ApiError(400, "Key is required: pass key=... in the query")
    store = _store(request)
    item = await _call(lambda: store.aget(labels, key, refresh_ttl=refresh_ttl))
    return JSONResponse(None if item is None else item.dict())


@router.delete("/store/items", status_code=204)
async def delete_item(request: Request, body: StoreDelete) -> Response:
    """Delete an item (no error when there is none)."""
    namespace = _namespace(body.namespace or [], field="namespace")
    store = _store(request)
    await _write(request, lambda: store.adelete(namespace, body.key))
    return Response(status_code=204)


@router.post("/store/items/search")
async def search_items(request: Request, body: StoreSearch) -> JSONResponse:
    """Items under a namespace prefix, filtered, newest first (or ranked by ``query``)."""
    prefix = _namespace(body.namespace_prefix or [], field="namespace_prefix")
    store = _store(request)
    items = await _call(
        lambda: store.asearch(
            prefix,
            query=body.query,
            filter=body.filter,
            limit=body.limit,
            offset=body.offset,
            refresh_ttl=body.refresh_ttl,
        )
    )
    return JSONResponse({"items": [item.dict() for item in items]})


@router.post("/store/namespaces")
async def list_namespaces(request: Request, body: StoreNamespaces) -> JSONResponse:
    """The namespaces that hold items, matching a prefix and a suffix, to a depth."""
    prefix = None if not body.prefix else _namespace(body.prefix, field="prefix")
    suffix = None if not body.suffix else _namespace(body.suffix, field="suffix")
    store = _store(request)
    found = await _call(
        lambda: store.alist_namespaces(
            prefix=prefix,
            suffix=suffix,
            max_depth=body.max_depth,
            limit=body.limit,
            offset=body.offset,
        )
    )
    return JSONResponse({"namespaces": [list(n) for n in found]})
