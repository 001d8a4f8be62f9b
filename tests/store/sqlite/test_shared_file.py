"""A store and rewind's event log share one SQLite file: opened in either order, used at the same
time in one process, the file stays a valid rewind database (schema, chains); another
application's file is refused as the log refuses it."""

from __future__ import annotations

import asyncio
import operator
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from rewind import migrations
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.errors import DatabaseError, NotARewindDatabaseError, SchemaTooNewError
from rewind.graph import END, START, StateGraph
from rewind.log import EventLog, open_log
from rewind.log.sqlite_files import APPLICATION_ID, PAGE_SIZE, read_revision
from rewind.store.sqlite import AsyncSqliteStore, SqliteStore
from tests.cli.conftest import Cli
from tests.log.contract import custom, start_run

OLD_FIXTURE = Path(__file__).parents[2] / "log" / "old_databases" / "before_heads.db"
STORE_TABLES = {"store_items", "store_vectors"}


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


def pragma(path: Path, name: str) -> Any:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


async def log_a_run(log: EventLog, run_id: str, events: int = 3) -> None:
    await start_run(log, run_id, "t1")
    for n in range(events):
        await log.append(run_id, [custom(n)], expected_seq=n + 1, durability="sync")


def test_a_store_creates_a_rewind_database(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    with SqliteStore.from_conn_string(str(path)) as store:
        store.put(("users", "u1"), "prefs", {"theme": "dark"})
        assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
        assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert read_revision(path) == migrations.head_revision()
    assert pragma(path, "application_id") == APPLICATION_ID
    assert pragma(path, "journal_mode") == "wal"
    assert pragma(path, "page_size") == PAGE_SIZE
    assert STORE_TABLES | {"events", "runs", "alembic_version"} <= tables(path)

    async def then_the_log() -> None:
        log = await open_log(path)
        try:
            await log_a_run(log, "r1")
            assert (await log.verify_chain("r1")).ok
        finally:
            await log.aclose()

    asyncio.run(then_the_log())
    with SqliteStore.from_conn_string(str(path)) as store:
        assert store.get(("users", "u1"), "prefs").value == {"theme": "dark"}  # type: ignore[union-attr]


def test_a_log_file_gets_a_store(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"

    async def first_the_log() -> None:
        log = await open_log(path)
        try:
            await log_a_run(log, "r1")
        finally:
            await log.aclose()

    asyncio.run(first_the_log())
    with SqliteStore.from_conn_string(str(path)) as store:
        store.put(("a",), "k", {"v": 1})

    async def the_log_again() -> None:
        log = await open_log(path, upgrade=False)  # nothing left to migrate
        try:
            assert (await log.verify_chain("r1")).ok
            assert len(await log.read("r1")) == 4
            await log.append("r1", [custom("after")], expected_seq=4, durability="sync")
            assert (await log.verify_chain("r1")).ok
        finally:
            await log.aclose()

    asyncio.run(the_log_again())


def test_a_store_and_a_log_write_to_one_file_at_the_same_time(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    writes = 60

    async def main() -> None:
        log = await open_log(path)
        try:
            await start_run(log, "r1", "t1")
            errors: list[BaseException] = []

            def store_side() -> None:
                try:
                    with SqliteStore.from_conn_string(str(path)) as store:
                        for n in range(writes):
                            store.put(("mem", str(n % 3)), f"k{n}", {"n": n})
                            assert store.get(("mem", str(n % 3)), f"k{n}") is not None
                except BaseException as exc:
                    errors.append(exc)

            thread = threading.Thread(target=store_side)
            thread.start()
            async with AsyncSqliteStore.from_conn_string(str(path)) as astore:
                for n in range(writes):
                    await log.append("r1", [custom(n)], expected_seq=n + 1, durability="sync")
                    await astore.aput(("async",), f"k{n}", {"n": n})
            await asyncio.to_thread(thread.join)
            assert errors == []
            assert (await log.verify_chain("r1")).checked == writes + 1
            assert (await log.verify_chain("r1")).ok
        finally:
            await log.aclose()

    asyncio.run(main())
    with SqliteStore.from_conn_string(str(path)) as store:
        assert len(store.search(("mem",), limit=1000)) == writes
        assert len(store.search(("async",), limit=1000)) == writes


def test_a_saver_and_a_store_share_the_file_in_either_order(tmp_path: Path) -> None:
    class State(TypedDict):
        steps: Annotated[list[str], operator.add]

    builder = StateGraph(State)
    builder.add_node("hello", lambda state: {"steps": ["hello"]})
    builder.add_edge(START, "hello")
    builder.add_edge("hello", END)

    for first in ("saver", "store"):
        path = str(tmp_path / f"{first}-first.db")
        if first == "store":
            with SqliteStore.from_conn_string(path) as store:
                store.put(("a",), "k", {"v": first})
        with SqliteSaver.from_conn_string(path) as saver:
            graph = builder.compile(checkpointer=saver)
            config: Any = {"configurable": {"thread_id": "t1"}}
            with SqliteStore.from_conn_string(path) as store:  # while the saver is open
                assert graph.invoke({"steps": []}, config) == {"steps": ["hello"]}
                store.put(("b",), "k", {"v": first})
                assert graph.invoke({"steps": []}, config) == {"steps": ["hello", "hello"]}
                assert store.get(("b",), "k").value == {"v": first}  # type: ignore[union-attr]
            history = list(graph.get_state_history(config))
            assert len(history) >= 2


def test_the_command_line_verifies_a_shared_file(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"

    async def log_runs() -> None:
        log = await open_log(path)
        try:
            await log_a_run(log, "r1")
            await log_a_run(log, "r2")
        finally:
            await log.aclose()

    with SqliteStore.from_conn_string(str(path)) as store:
        store.put(("a",), "k", {"v": 1})
    asyncio.run(log_runs())
    with SqliteStore.from_conn_string(str(path)) as store:
        store.put(("a",), "j", {"v": 2})
    current, verify = Cli(tmp_path).run_all(
        [["--db", str(path), "db", "current"], ["--db", str(path), "db", "verify"]]
    )
    assert f"schema revision {migrations.head_revision()} (up to date" in current.ok().stdout
    assert verify.ok().stdout.splitlines()[0] == "2 runs checked: every hash chain intact"


def test_an_older_rewind_database_gets_the_stores_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(OLD_FIXTURE, path)
    assert read_revision(path) != migrations.head_revision()
    assert not STORE_TABLES & tables(path)
    with SqliteStore.from_conn_string(str(path)) as store:
        store.put(("a",), "k", {"v": 1})
    assert read_revision(path) == migrations.head_revision()
    assert tables(path) >= STORE_TABLES

    async def read_runs() -> int:
        log = await open_log(path, upgrade=False)
        try:
            runs = await log.list_runs(limit=100)
            assert all([(await log.verify_chain(r.run_id)).ok for r in runs])
            return len(runs)
        finally:
            await log.aclose()

    assert asyncio.run(read_runs()) > 0


# --- refused files ----------------------------------------------------------------------------


def _foreign(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('mine')")
    conn.commit()
    conn.close()
    return path


def _langgraphs(path: Path) -> Path:
    from langgraph.store.sqlite import SqliteStore as LgStore

    with LgStore.from_conn_string(str(path)) as theirs:
        theirs.setup()
        theirs.put(("a",), "k", {"v": 1})
    return path


def _not_sqlite(path: Path) -> Path:
    path.write_bytes(b"just some text, not a database" * 10)
    return path


def _marked(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1234")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("make", [_foreign, _langgraphs, _not_sqlite, _marked])
def test_another_applications_file_is_refused_as_the_log_refuses_it(
    tmp_path: Path, make: Any
) -> None:
    path = make(tmp_path / "theirs.db")
    before = path.read_bytes(), path.stat().st_mtime_ns

    async def log_error() -> str:
        with pytest.raises(NotARewindDatabaseError) as refused:
            await open_log(path)
        return str(refused.value)

    expected = asyncio.run(log_error())
    with SqliteStore.from_conn_string(str(path)) as store:
        with pytest.raises(NotARewindDatabaseError) as refused:
            store.put(("a",), "k", {"v": 1})
        assert str(refused.value) == expected
        with pytest.raises(NotARewindDatabaseError):
            store.setup()

    async def async_store() -> None:
        async with AsyncSqliteStore.from_conn_string(str(path)) as astore:
            with pytest.raises(NotARewindDatabaseError) as refused:
                await astore.setup()
            assert str(refused.value) == expected

    asyncio.run(async_store())
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_a_newer_rewinds_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    with SqliteStore.from_conn_string(str(path)) as store:
        store.setup()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = 'ffff_future'")
    conn.commit()
    conn.close()
    with SqliteStore.from_conn_string(str(path)) as store, pytest.raises(SchemaTooNewError):
        store.setup()


def test_a_database_in_memory_is_set_up_on_its_connection() -> None:
    conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    store = SqliteStore(conn)
    store.put(("a",), "k", {"v": 1})
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert STORE_TABLES | {"events", "runs", "alembic_version"} <= names
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.isolation_level is None
    import gc

    gc.collect()  # the migration's engine is gone: the connection is still the caller's
    assert conn.execute("SELECT count(*) FROM store_items").fetchone()[0] == 1
    conn.close()


def test_a_foreign_database_in_memory_is_refused() -> None:
    conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    conn.execute("CREATE TABLE notes (x)")
    with pytest.raises(NotARewindDatabaseError, match="another application's"):
        SqliteStore(conn).setup()
    assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master")} == {"notes"}
    marked = sqlite3.connect(":memory:")
    marked.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    marked.execute("CREATE TABLE t (x)")
    with pytest.raises(DatabaseError, match="has no schema version"):
        SqliteStore(marked).setup()


async def test_an_async_store_in_memory_is_set_up_on_its_connection() -> None:
    async with AsyncSqliteStore.from_conn_string(":memory:") as store:
        await store.setup()
        await store.setup()  # once
        async with store.conn.execute("SELECT version_num FROM alembic_version") as cursor:
            assert (await cursor.fetchone()) == (migrations.head_revision(),)


def test_the_migrations_build_the_schema_rewind_describes(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from rewind.log.schema import metadata

    path = tmp_path / "rewind.db"
    with SqliteStore.from_conn_string(str(path)) as store:
        store.setup()
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()
