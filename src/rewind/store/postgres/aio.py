"""The async PostgreSQL store, on a psycopg ``AsyncConnection`` or ``AsyncConnectionPool`` (as
``langgraph.store.postgres.aio``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from rewind.checkpoint.postgres import url_of_connection
from rewind.store import writes as _writes
from rewind.store._sql import Deserializer, Query, _Plan, adrive
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
from rewind.store.postgres.base import (
    BasePostgresStore,
    PoolConfig,
    PostgresIndexConfig,
    migrate,
    pool_arguments,
)
from rewind.store.writes import StoreWrite

__all__ = ["AsyncPostgresStore"]


class AsyncPostgresStore(TaskSweeping, AsyncBatchedBaseStore, BasePostgresStore):
    """A store in a PostgreSQL database, used from asyncio, with optional vector search and
    TTLs.

    ::

        async with AsyncPostgresStore.from_conn_string("postgresql://user@host/db") as store:
            await store.setup()  # optional: the first call runs it
            await store.aput(("users", "123"), "prefs", {"theme": "dark"})
            await store.aget(("users", "123"), "prefs")

    Each batch runs in one transaction, on the connection (one batch at a time) or on a
    connection of the pool. Calls made in the same tick are gathered into one batch (see
    :class:`~rewind.store.base.batch.AsyncBatchedBaseStore`). See
    :mod:`rewind.store.postgres.base` for how it differs from LangGraph's.

    Args:
        conn: A psycopg ``AsyncConnection`` (in autocommit mode, or its transaction is the one
            the store's writes are part of) or a ``psycopg_pool.AsyncConnectionPool``.
        pipe: LangGraph's pipeline (accepted; no effect).
        deserializer: Turns a stored JSON text into the value (``orjson.loads`` by default).
        index: Semantic search (see :class:`~rewind.store.postgres.base.PostgresIndexConfig`).
        ttl: Expiry (see :class:`~rewind.store.base.TTLConfig`).
    """

    supports_ttl = True

    def __init__(
        self,
        conn: Any,
        *,
        pipe: Any = None,
        deserializer: Deserializer | None = None,
        index: PostgresIndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> None:
        if pipe is not None and not isinstance(conn, psycopg.AsyncConnection):
            raise ValueError(
                "Pipeline should be used only with a single AsyncConnection, not "
                "AsyncConnectionPool."
            )
        super().__init__()
        self.conn = conn
        self.pipe = pipe
        self.lock = asyncio.Lock()
        self.loop = asyncio.get_running_loop()
        self._configure(deserializer, index, ttl)

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls,
        conn_string: str,
        *,
        pipeline: bool = False,
        pool_config: PoolConfig | None = None,
        index: PostgresIndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> AsyncIterator[AsyncPostgresStore]:
        """A store on the database at ``conn_string`` (a URL or a libpq ``key=value`` string),
        on one connection or, with ``pool_config``, a pool (``psycopg_pool``), closed after.
        ``pipeline`` is accepted (no effect)."""
        if pool_config is not None:
            from psycopg_pool import AsyncConnectionPool

            async with AsyncConnectionPool(conn_string, **pool_arguments(pool_config)) as pool:
                yield cls(pool, index=index, ttl=ttl)
        else:
            async with await psycopg.AsyncConnection.connect(conn_string, autocommit=True) as conn:
                yield cls(conn, index=index, ttl=ttl)

    async def setup(self) -> None:
        """Bring the database to rewind's current schema (creating the store's tables, and the
        event log's) through a connection of its own. Runs once; the first operation runs it
        if needed.

        Raises:
            DatabaseError: the server cannot be reached, or refuses the connection.
            SchemaTooNewError: a newer rewind wrote the database (left untouched).
        """
        async with self.lock:
            if not self.is_setup:
                await asyncio.to_thread(migrate, url_of_connection(self.conn))
                self.is_setup = True

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if isinstance(self.conn, psycopg.AsyncConnection):
            async with self.lock:
                yield self.conn
        else:
            async with self.conn.connection() as conn:
                yield conn

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        plan = self._plan(ops)
        await self._aembed(plan)
        if not self.is_setup:
            await self.setup()
        async with self._connection() as conn:
            return await self._arun(conn, plan)

    async def _arun(self, conn: psycopg.AsyncConnection[Any], plan: _Plan) -> list[Result]:
        """Run a planned batch on ``conn``, in one transaction."""
        async with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
            steps = self._batch_steps(plan, self._now(), one_transaction=True)
            results, _ = await adrive(steps, _executor(cur))
        return results

    async def sweep_ttl(self) -> int:
        """Delete the items whose TTL has run out; returns how many.

        The store's write listeners get them as deletions with ``expired=True``.
        """
        if not self.is_setup:
            await self.setup()
        async with (
            self._connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as cur,
        ):
            swept: list[StoreWrite] = await adrive(self._sweep_steps(self._now()), _executor(cur))
        _writes.notify(self, swept)
        return len(swept)


def _executor(cur: psycopg.AsyncCursor[Any]) -> Callable[[Query], Awaitable[list[tuple[Any, ...]]]]:
    """Runs a statement on ``cur`` and gives its rows."""

    async def execute(query: Query) -> list[tuple[Any, ...]]:
        if query.many:
            await cur.executemany(query.sql, query.params)
            return []
        await cur.execute(query.sql, query.params)
        return await cur.fetchall() if cur.description is not None else []

    return execute
