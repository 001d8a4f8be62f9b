"""The SQLite backends: a file and memory, through the contract; then what only a file does."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from rewind import RunStatus, open_log, run_ended, run_started
from rewind.errors import ConcurrencyError
from rewind.log import EventLog, open_sqlite
from tests.log.contract import LogContract, custom, start_run


class TestSqliteFile(LogContract):
    async def open(self, tmp_path: Path, **kw: Any) -> EventLog:
        return await open_log(tmp_path / "rewind.db", **kw)


class TestSqliteFileCoreWrites(LogContract):
    """The SQLAlchemy Core write path, which the in-memory store and later backends use."""

    async def open(self, tmp_path: Path, **kw: Any) -> EventLog:
        return await open_sqlite(tmp_path / "rewind.db", core_writes=True, **kw)


class TestSqliteMemory(LogContract):
    async def open(self, tmp_path: Path, **kw: Any) -> EventLog:
        return await open_log(None, **kw)


# --- what only a file does ----------------------------------------------------------------


async def test_events_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    store = await open_log(path)
    await start_run(store, "r1", "t1", custom({"a": (1, 2)}))
    await store.append("r1", [custom(2)], expected_seq=2)  # async: durable at close
    await store.aclose()
    store = await open_log(path)
    try:
        assert [e.payload for e in await store.read("r1")][1:] == [{"a": (1, 2)}, 2]
        assert (await store.verify_chain("r1")).ok
        await store.append("r1", [custom(3)], expected_seq=3, durability="sync")
    finally:
        await store.aclose()


async def test_the_wal_is_folded_back_while_commits_go_on(tmp_path: Path) -> None:
    # Commits do not fold the WAL back themselves (that would hold their appends back for the
    # copy and the sync): a folder does it beside them. The WAL stays near its 1 MiB limit
    # however much is written, and all of it is there after a reopen.
    path = tmp_path / "rewind.db"
    wal = Path(f"{path}-wal")
    store = await open_log(path)
    largest = 0
    try:
        await start_run(store, "r1")
        blob = "x" * 10_000
        for seq in range(1, 1001):  # 10 MB in 100 commits
            await store.append("r1", [custom(blob)], expected_seq=seq)
            if seq % 10 == 0:
                await store.flush()
                largest = max(largest, wal.stat().st_size)
    finally:
        await store.aclose()
    assert largest <= 2 * 1024 * 1024
    store = await open_log(path)
    try:
        assert len(await store.read("r1")) == 1001
        assert (await store.verify_chain("r1")).ok
    finally:
        await store.aclose()


async def test_two_writers_on_one_file_conflict_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    one, two = await open_log(path), await open_log(path)
    try:
        await start_run(one, "r1")
        await two.append("r1", [custom("two")], expected_seq=1, durability="sync")
        # `one` still believes the run is at seq 1: the commit finds out
        with pytest.raises(ConcurrencyError) as caught:
            await one.append(
                "r1", [custom("one"), custom("one")], expected_seq=1, durability="sync"
            )
        assert (caught.value.expected_seq, caught.value.actual_seq) == (1, 2)
        # having failed, `one` re-reads the run: a stale append now fails at once
        with pytest.raises(ConcurrencyError):
            await one.append("r1", [custom("one")], expected_seq=1)
        await one.append("r1", [custom("one")], expected_seq=2, durability="sync")
        assert [e.payload for e in await one.read("r1")][1:] == ["two", "one"]
    finally:
        await one.aclose()
        await two.aclose()


async def test_a_background_append_that_loses_the_race_fails_at_flush(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    one, two = await open_log(path), await open_log(path)
    try:
        await start_run(one, "r1")
        await two.append("r1", [custom("two")], expected_seq=1, durability="sync")
        await one.append("r1", [custom("one")], expected_seq=1)  # async: accepted for now
        with pytest.raises(ConcurrencyError):
            await one.flush()
        await one.flush()  # reported once
        assert [e.payload for e in await one.read("r1")][1:] == ["two"]
    finally:
        await one.aclose()
        await two.aclose()


async def test_subscriber_sees_another_store_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    reader, writer = await open_log(path), await open_log(path)
    try:
        await start_run(writer, "r1")
        sub = reader.subscribe(run_id="r1")
        assert (await asyncio.wait_for(anext(sub), 10)).seq == 0
        await writer.append(
            "r1", [custom(1), run_ended(RunStatus.SUCCESS)], expected_seq=1, durability="sync"
        )
        rest = [e async for e in sub]
        assert [e.seq for e in rest] == [1, 2]
    finally:
        await reader.aclose()
        await writer.aclose()


async def test_chain_reports_removed_events(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    store = await open_log(path)
    await start_run(store, "r1", "t1", *(custom(i) for i in range(5)))
    await store.aclose()
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM events WHERE seq = 2")
    store = await open_log(path)
    try:
        report = await store.verify_chain("r1")
        assert (report.ok, report.first_bad_seq) == (False, 2)
        assert "missing" in (report.reason or "")
        with sqlite3.connect(path) as conn:
            conn.execute("DELETE FROM events WHERE seq >= 2")
        report = await store.verify_chain("r1")
        assert (report.ok, report.first_bad_seq) == (False, 2)
        assert "removed" in (report.reason or "")
    finally:
        await store.aclose()


async def test_prune_gives_space_back(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    store = await open_log(path)
    try:
        for i in range(20):
            events = [run_started(thread_id=f"t{i}"), *(custom("x" * 2000) for _ in range(20))]
            await store.append(f"r{i}", [*events, run_ended(RunStatus.SUCCESS)], expected_seq=0)
        await store.flush()
        grown = _db_bytes(path)
        report = await store.delete_thread("t0")
        assert report.runs_deleted == 1
        report = await store.prune(keep_last=0)
        assert report.runs_deleted == 19
        assert _db_bytes(path) < grown / 4
    finally:
        await store.aclose()


async def test_online_backup_is_a_consistent_copy(tmp_path: Path) -> None:
    store = await open_log(tmp_path / "live.db")
    try:
        await start_run(store, "r1", "t1", custom(1))
        await store.append("r1", [custom(2)], expected_seq=2)  # still queued: backup drains
        await store.backup(tmp_path / "copy.db")
        with pytest.raises(FileExistsError):
            await store.backup(tmp_path / "copy.db")
        await store.append("r1", [custom(3)], expected_seq=3, durability="sync")
    finally:
        await store.aclose()
    copy = await open_log(tmp_path / "copy.db")
    try:
        assert [e.payload for e in await copy.read("r1")][1:] == [1, 2]
        assert (await copy.verify_chain("r1")).ok
    finally:
        await copy.aclose()


def _db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


async def test_deleting_a_thread_reads_its_runs_through_indexes(tmp_path: Path) -> None:
    """A thread's deletion finds its runs and their dependants by index, never by reading every
    run of the database (its cost does not grow with other threads)."""
    from sqlalchemy import create_engine, event

    from rewind.log import retention

    path = tmp_path / "rewind.db"
    store = await open_log(path)
    for i in range(20):
        start = run_started(thread_id=f"t{i % 4}", origin_run_id="r0" if i else None)
        await store.append(f"r{i}", [start, run_ended(RunStatus.SUCCESS)], expected_seq=0)
    await store.aclose()
    engine = create_engine(f"sqlite:///{path}")
    statements: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        statements.append((sql, params))

    try:
        with engine.connect() as conn:
            loaded = retention.load_thread_runs(conn, "t0")
            plans = [
                " / ".join(
                    row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
                )
                for sql, params in list(statements)
            ]
    finally:
        engine.dispose()
    assert {r.run_id for r in loaded if r.thread_id == "t0"} == {f"r{i}" for i in range(0, 20, 4)}
    assert {r.run_id for r in loaded if r.thread_id != "t0"} == {
        f"r{i}" for i in range(1, 20) if i % 4
    }  # every other thread's run starts from r0, of t0
    assert len(plans) == 2
    assert "ix_runs_thread" in plans[0] and "ix_runs_origin" in plans[1], plans
    assert not any(p.startswith("SCAN runs") for p in plans), plans


def _schema(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
    return [
        *rows,
        *conn.execute("SELECT * FROM alembic_version"),
        *conn.execute("SELECT * FROM log_head"),
        *conn.execute("PRAGMA application_id"),
    ]


async def test_a_new_database_has_the_schema_the_migrations_make(tmp_path: Path) -> None:
    """A new file (and a log in memory) is made from the statements the migrations leave, not
    by running them: it must be the database running every migration on it makes."""
    from sqlalchemy import create_engine, pool

    from rewind import migrations
    from rewind.log.sqlite_files import APPLICATION_ID

    migrated = sqlite3.connect(tmp_path / "migrated.db", isolation_level=None)
    engine = create_engine(
        "sqlite+pysqlite://", creator=lambda: migrated, poolclass=pool.StaticPool
    )
    with engine.connect() as conn, conn.begin():
        migrations.upgrade(conn)
    migrated.execute(f"PRAGMA application_id={APPLICATION_ID}")

    log = await open_log(tmp_path / "new.db")
    await log.aclose()
    made = sqlite3.connect(tmp_path / "new.db")
    try:
        assert _schema(made) == _schema(migrated)
        assert made.execute("SELECT version_num FROM alembic_version").fetchone() == (
            migrations.head_revision(),
        )
    finally:
        made.close()
        migrated.close()
    # and it works as a log
    log = await open_log(tmp_path / "new.db")
    try:
        await start_run(log, "r1")
        assert [e.seq for e in await log.read("r1")] == [0]
    finally:
        await log.aclose()
