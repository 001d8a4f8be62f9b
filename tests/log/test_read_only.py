"""A log opened read-only: everything a reader needs, and nothing written to the file or beside
it (an audit of a database that must stay as it is, a read-only file, directory or filesystem).
Permission cases, where the file system refuses the writes, are in tests/cli/test_read_only.py."""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from rewind import open_log
from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.errors import DatabaseError, ReadOnlyDatabaseError
from rewind.events import EventType, NewEvent, run_started
from rewind.graph import END, START, StateGraph
from rewind.log.records import CheckpointRecord
from rewind.thread_state import read_head
from tests import pg

pytestmark = pytest.mark.faults


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def _graph(saver: Any) -> Any:
    g = StateGraph(State)
    g.add_node("a", lambda state: {"log": ["a"]})
    g.add_node("b", lambda state: {"log": ["b"]})
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", END)
    return g.compile(checkpointer=saver)


async def _record(path: Path, threads: int = 2) -> None:
    saver = AsyncSqliteSaver(str(path))
    graph = _graph(saver)
    for n in range(threads):
        await graph.ainvoke({"log": []}, {"configurable": {"thread_id": f"t{n}"}})
    await saver.aclose()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


async def test_a_log_opened_read_only_reads_everything_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    await _record(path)
    writable = await open_log(path)
    try:  # what a reader of the writable file sees
        runs = await writable.list_runs(oldest_first=True)
        events = {r.run_id: await writable.read(r.run_id) for r in runs}
    finally:
        await writable.aclose()
    before = _files(tmp_path)
    assert list(before) == ["audit.db"]  # a cleanly closed log: the file alone

    log = await open_log(path, read_only=True)
    try:
        assert log.read_only == "it was opened read-only"
        assert [r.run_id for r in await log.list_runs(oldest_first=True)] == [
            r.run_id for r in runs
        ]
        for run in runs:
            assert await log.read(run.run_id) == events[run.run_id]
            assert (await log.verify_chain(run.run_id)).ok
        head = await read_head(log, "t1")
        assert head.view is not None and head.view.values == {"log": ["a", "b"]}
        last = events[runs[-1].run_id][-1]
        with pytest.raises(ReadOnlyDatabaseError, match="cannot be written: it was opened"):
            await log.append(
                runs[-1].run_id, [NewEvent(type=EventType.CUSTOM, payload={})], expected_seq=9
            )
        with pytest.raises(ReadOnlyDatabaseError):
            await log.append("new", [run_started(thread_id="t9", graph="g")], expected_seq=0)
        with pytest.raises(ReadOnlyDatabaseError):
            await log.drop_caches()
        mark = CheckpointRecord(
            checkpoint_id="c",
            thread_id="t1",
            run_id=last.run_id,
            seq=last.seq,
            position=last.position,
        )
        assert await log.put_head(mark, {}) is False  # a cache: none kept
        await log.backup(tmp_path.parent / f"{tmp_path.name}-copy.db")  # reading is enough
    finally:
        await log.aclose()
    assert _files(tmp_path) == before  # byte for byte, and no -wal or -shm left beside it
    copy = await open_log(tmp_path.parent / f"{tmp_path.name}-copy.db", read_only=True)
    try:
        assert len(await copy.list_runs()) == len(runs)
    finally:
        await copy.aclose()


async def test_a_read_only_log_follows_a_live_writer(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    writer = await open_log(path)
    try:
        await writer.append("r", [run_started(thread_id="t", graph="g")], expected_seq=0)
        await writer.flush()
        reader = await open_log(path, read_only=True)  # the writer holds it: not a snapshot
        try:
            assert len(await reader.read("r")) == 1
            await writer.append(
                "r", [NewEvent(type=EventType.CUSTOM, payload={"n": 1})], expected_seq=1
            )
            await writer.flush()
            assert [e.type for e in await reader.read("r")] == ["run.started", "custom"]
        finally:
            await reader.aclose()
    finally:
        await writer.aclose()


async def test_read_only_opens_nothing_that_is_not_a_current_database(tmp_path: Path) -> None:
    for missing in (tmp_path / "none.db", tmp_path / "empty.db"):
        if missing.name == "empty.db":
            missing.touch()
        with pytest.raises(DatabaseError, match=r"no database at .* \(opened read-only"):
            await open_log(missing, read_only=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]
    assert (tmp_path / "empty.db").stat().st_size == 0
    with pytest.raises(ValueError, match="in memory"):
        await open_log(None, read_only=True)


async def test_a_postgresql_log_opened_read_only_refuses_writes(tmp_path: Path) -> None:
    name = pg.name_for(str(tmp_path))
    pg.drop_database(name)
    url = pg.create_database(name)
    try:
        writer = await open_log(url)
        await writer.append("r", [run_started(thread_id="t", graph="g")], expected_seq=0)
        await writer.aclose()
        log = await open_log(url, read_only=True)
        try:
            assert len(await log.read("r")) == 1
            with pytest.raises(ReadOnlyDatabaseError, match="opened read-only"):
                await log.append("r", [NewEvent(type=EventType.CUSTOM, payload={})], expected_seq=1)
        finally:
            await log.aclose()
    finally:
        pg.drop_database(name)
