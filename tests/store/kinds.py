"""rewind's stores by kind, for the tests that run on each: ``memory``, ``sqlite`` and
``postgres`` (a database of its own on the tests' server, dropped after)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import psycopg

from rewind.store.memory import InMemoryStore
from rewind.store.postgres import AsyncPostgresStore, PostgresStore
from rewind.store.sqlite import AsyncSqliteStore, SqliteStore
from tests.store.postgres.databases import database

KINDS = ["memory", "sqlite", "postgres"]
SQL_KINDS = ["sqlite", "postgres"]
STORES: dict[str, tuple[Any, Any]] = {
    "sqlite": (SqliteStore, AsyncSqliteStore),
    "postgres": (PostgresStore, AsyncPostgresStore),
}
"""The sync and async store classes of each SQL kind."""


@contextmanager
def location(kind: str, path: Path | None = None) -> Iterator[str]:
    """What a SQL store of ``kind`` is opened on: a SQLite file at ``path`` (or a database in
    memory), or a PostgreSQL database of its own."""
    if kind == "postgres":
        with database() as url:
            yield url
    else:
        yield ":memory:" if path is None else str(path)


@contextmanager
def sync_store(kind: str, **config: Any) -> Iterator[Any]:
    """A sync store of ``kind``, made with ``config`` (``index``, ``ttl``)."""
    if kind == "memory":
        yield InMemoryStore(**config)
        return
    with location(kind) as where, STORES[kind][0].from_conn_string(where, **config) as store:
        yield store


@asynccontextmanager
async def async_store(kind: str, **config: Any) -> AsyncIterator[Any]:
    """An async store of ``kind`` (the in-memory store is both)."""
    if kind == "memory":
        yield InMemoryStore(**config)
        return
    with location(kind) as where:
        async with STORES[kind][1].from_conn_string(where, **config) as store:
            yield store


@contextmanager
def plain_store(kind: str, **options: Any) -> Iterator[Any]:
    """A SQL store of ``kind`` made on a connection of the caller's (``SqliteStore(conn)``,
    ``PostgresStore(conn)``), with ``options`` (``deserializer``...)."""
    if kind == "postgres":
        with database() as url, psycopg.connect(url, autocommit=True) as conn:
            yield PostgresStore(conn, **options)
    else:
        import sqlite3

        conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        try:
            yield SqliteStore(conn, **options)
        finally:
            conn.close()


def mark(store: Any) -> str:
    """The placeholder of a SQL store's connection."""
    return "%s" if isinstance(store, PostgresStore) else "?"


def idle(store: Any) -> bool:
    """Whether a sync SQL store's connection is out of any transaction."""
    if isinstance(store, PostgresStore):
        return bool(store.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE)
    return not store.conn.in_transaction
