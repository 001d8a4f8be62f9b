"""Stores in a SQLite database, which can be the file rewind's event log is in (as
``langgraph.store.sqlite``).

:class:`SqliteStore` (sync, a ``sqlite3`` connection) and :class:`AsyncSqliteStore` (asyncio, an
``aiosqlite`` connection) keep items in rewind's own schema: ``SqliteStore.from_conn_string``
on the path a ``SqliteSaver`` or ``open_log`` uses shares that file with the runs. See
:mod:`rewind.store.sqlite.base` for how they differ from LangGraph's.
"""

from rewind.store.sqlite.aio import AsyncSqliteStore
from rewind.store.sqlite.base import SqliteStore

__all__ = ["AsyncSqliteStore", "SqliteStore"]
