"""A PostgreSQL store and rewind's event log share one database, set up in either order; a
graph compiled with a ``PostgresStore`` records its nodes' store writes in the log of its
checkpointer (rewind's SQLite or PostgreSQL saver), as with any other store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from rewind import migrations
from rewind.checkpoint.postgres import PostgresSaver
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.log import EventLog, open_log
from rewind.runtime.memory import STORE_THREAD
from rewind.store.postgres import AsyncPostgresStore, PostgresStore
from tests.log.contract import custom, start_run
from tests.runtime.test_memory_store import _events, _writes, notes_graph

STORE_TABLES = {"store_items", "store_vectors"}


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in rows}


async def log_a_run(url: str, run_id: str) -> None:
    log: EventLog = await open_log(url)
    try:
        await start_run(log, run_id, "t1")
        await log.append(run_id, [custom(1)], expected_seq=1, durability="sync")
        assert (await log.verify_chain(run_id)).ok
    finally:
        await log.aclose()


def test_a_store_sets_up_rewinds_schema_and_a_log_opens_it_after(url: str) -> None:
    with PostgresStore.from_conn_string(url) as store:
        store.setup()
        store.put(("users", "u1"), "prefs", {"theme": "dark"})
    assert STORE_TABLES | {"events", "runs", "alembic_version"} <= tables(url)
    assert "store" not in tables(url)  # LangGraph's table is not made
    asyncio.run(log_a_run(url, "r1"))
    with PostgresStore.from_conn_string(url) as store:
        store.setup()
        assert store.get(("users", "u1"), "prefs").value == {"theme": "dark"}  # type: ignore[union-attr]


async def test_a_log_opened_first_gets_a_store_beside_it(url: str) -> None:
    await log_a_run(url, "r1")
    async with AsyncPostgresStore.from_conn_string(url) as store:
        await store.setup()
        await store.aput(("a",), "k", {"v": 1})
    log = await open_log(url, upgrade=False)  # nothing left to migrate
    try:
        assert (await log.verify_chain("r1")).ok
        assert [r.run_id for r in await log.list_runs()] == ["r1"]
    finally:
        await log.aclose()
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert row == (migrations.head_revision(),)


@contextmanager
def saver(kind: str, url: str, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """A rewind saver (its log in a SQLite file, or in the store's database) and where its log
    is."""
    if kind == "postgres":
        with PostgresSaver.from_conn_string(url) as made:
            yield made, url
    else:
        path = str(tmp_path / "runs.db")
        with SqliteSaver.from_conn_string(path) as made:
            yield made, path


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_graph_logs_the_writes_its_nodes_make_to_the_store(
    kind: str, url: str, tmp_path: Path
) -> None:
    with PostgresStore.from_conn_string(url) as store, saver(kind, url, tmp_path) as (cp, log):
        graph = notes_graph(cp, store)
        config = {"configurable": {"thread_id": "t"}}
        out = graph.invoke({"user": "ann", "note": "likes tea"}, config)
        assert out["seen"] == ["likes tea"]
        assert store.get(("notes", "ann"), "last").value == {"text": "likes tea"}  # type: ignore[union-attr]
        assert store.get(("notes", "ann"), "scratch") is None
        store.put(("seed",), "a", {"v": 1})  # outside any run: the log's store stream
    assert _writes(_events(log, thread_id="t")) == [
        ("remember", ("notes", "ann"), "last", {"text": "likes tea"}),
        ("remember", ("notes", "ann"), "scratch", {"text": "tmp"}),
        ("remember", ("notes", "ann"), "scratch", None),
    ]
    outside = _writes(_events(log, thread_id=STORE_THREAD))
    assert outside == [(None, ("seed",), "a", {"v": 1})]
