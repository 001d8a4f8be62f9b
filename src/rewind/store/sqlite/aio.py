"""The async SQLite store, on an ``aiosqlite`` connection (as ``langgraph.store.sqlite.aio``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from rewind.store import writes as _writes
from rewind.store._sql import Deserializer, _Plan
from rewind.store._ttl import TaskSweeping
from rewind.store.base import (  # GetOp, ... as LangGraph's module has them
    GetOp,  # noqa: F401
    ListNamespacesOp,  # noqa: F401
    Op,
    PutOp,  # noqa: F401
    Result,
    SearchOp,  # noqa: F401
    TTLConfig,
)
from rewind.store.base.batch import AsyncBatchedBaseStore
from rewind.store.sqlite.base import BUSY_TIMEOUT, BaseSqliteStore, SqliteIndexConfig, migrate
from rewind.store.writes import StoreWrite

__all__ = ["AsyncSqliteStore"]

T = TypeVar("T")


class AsyncSqliteStore(TaskSweeping, AsyncBatchedBaseStore, BaseSqliteStore):
    """A store in a SQLite database, used from asyncio, with optional vector search and TTLs.

    ::

        async with AsyncSqliteStore.from_conn_string("rewind.db") as store:
            await store.setup()  # optional: the first call runs it
            await store.aput(("users", "123"), "prefs", {"theme": "dark"})
            await store.aget(("users", "123"), "prefs")

    Each batch runs as one transaction on the connection's own thread. Calls made in the same
    tick are gathered into one batch (see
    :class:`~rewind.store.base.batch.AsyncBatchedBaseStore`).

    Args:
        conn: The connection (its file is migrated to rewind's schema by :meth:`setup`).
        deserializer: Turns a stored JSON text into the value (``orjson.loads`` by default).
        index: Semantic search (see :class:`~rewind.store.sqlite.base.SqliteIndexConfig`).
        ttl: Expiry (see :class:`~rewind.store.base.TTLConfig`).
    """

    supports_ttl = True

    def __init__(
        self,
        conn: aiosqlite.Connection,
        *,
        deserializer: Deserializer | None = None,
        index: SqliteIndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> None:
        super().__init__()
        self.conn = conn
        self.lock = asyncio.Lock()
        self.loop = asyncio.get_running_loop()
        self.is_setup = False
        self._configure(deserializer, index, ttl)

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls,
        conn_string: str,
        *,
        index: SqliteIndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> AsyncIterator[AsyncSqliteStore]:
        """A store on the database ``conn_string`` (a path, or ``":memory:"``), closed after."""
        async with aiosqlite.connect(
            conn_string, isolation_level=None, timeout=BUSY_TIMEOUT
        ) as conn:
            store = cls(conn, index=index, ttl=ttl)
            store._own_connection = True
            yield store

    async def setup(self) -> None:
        """Bring the database to rewind's current schema (creating the store's tables, and the
        event log's). Runs once; the first operation runs it if needed.

        Raises:
            NotARewindDatabaseError: the database is another application's (left untouched).
            SchemaTooNewError: a newer rewind wrote it.
        """
        async with self.lock:
            if self.is_setup:
                return
            file: Path | None = None
            async with self.conn.execute("PRAGMA database_list") as cursor:
                for _seq, name, path in await cursor.fetchall():
                    if name == "main" and path:
                        file = Path(path)
            if file is not None:
                await asyncio.to_thread(migrate, self.conn._conn, file)
            else:  # in memory: on the connection's own thread, the only one that may use it
                await _on_thread(self.conn, migrate, self.conn._conn, None)
            if self._own_connection:
                await self.conn.execute("PRAGMA synchronous=NORMAL")
            self.is_setup = True

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        plan = self._plan(ops)
        await self._aembed(plan)
        if not self.is_setup:
            await self.setup()
        async with self.lock:
            results: list[Result] = await _on_thread(self.conn, self._run_on, plan)
            return results

    def _run_on(self, plan: _Plan) -> list[Result]:
        return self._run(self.conn._conn, plan)

    async def sweep_ttl(self) -> int:
        """Delete the items whose TTL has run out; returns how many.

        The store's write listeners get them as deletions with ``expired=True``.
        """
        if not self.is_setup:
            await self.setup()
        async with self.lock:
            swept: list[StoreWrite] = await _on_thread(
                self.conn, lambda: self._sweep(self.conn._conn)
            )
        _writes.notify(self, swept)
        return len(swept)


async def _on_thread(conn: aiosqlite.Connection, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on the connection's thread (aiosqlite's own way of running its calls:
    the ``sqlite3`` connection may be used there only)."""
    execute = cast(Callable[..., Awaitable[T]], conn._execute)
    return await execute(fn, *args)
