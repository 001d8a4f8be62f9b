"""Stores in a PostgreSQL database, which can be the one rewind's event log is in (as
``langgraph.store.postgres``).

:class:`PostgresStore` (sync, a psycopg connection or pool) and :class:`AsyncPostgresStore`
(asyncio, an async connection or pool) keep items in rewind's own schema, as the SQLite stores
do: ``PostgresStore.from_conn_string`` on the URL a ``PostgresSaver`` or ``open_log`` uses shares
that database with the runs, across processes and machines. See
:mod:`rewind.store.postgres.base` for how they differ from LangGraph's.
"""

from rewind.store.postgres.aio import AsyncPostgresStore
from rewind.store.postgres.base import PoolConfig, PostgresStore

__all__ = ["AsyncPostgresStore", "PoolConfig", "PostgresStore"]
