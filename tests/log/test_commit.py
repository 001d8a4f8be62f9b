"""Group commits: where snapshots fall however appends are grouped, what joins a queued append,
and the delay that lets a burst of appends share one transaction."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from rewind.events import EventType, NewEvent, run_started
from rewind.log import LogOptions, open_log
from rewind.log.records import HeadWrite
from rewind.log.sqlite import open_sqlite


async def _snapshot_seqs(path: Path, *, grouped: bool) -> tuple[list[int], int]:
    """Append 40 steps (1 KB of custom data and a checkpoint with its head each), one commit
    each or all in one group; the seqs of the snapshots kept, and the commits made."""
    store = await open_log(path, options=LogOptions(durability="exit"))
    try:
        await store.append("r", [run_started(thread_id="t")], expected_seq=0, new_run=True)
        await store.flush()
        before = store.commit_count
        seq = 1
        for i in range(40):
            events = [
                NewEvent(type=EventType.CUSTOM, payload="x" * 1000),
                NewEvent(type=EventType.CHECKPOINT, payload={"id": f"c{i}"}),
            ]
            head = HeadWrite(checkpoint_id=f"c{i}", state={"step": i})
            store.append_nowait("r", events, expected_seq=seq, head=head)
            seq += 2
            if not grouped:
                await store.flush()
        await store.flush()
        commits = store.commit_count - before
    finally:
        await store.aclose()
    with sqlite3.connect(path) as conn:
        seqs = [s for (s,) in conn.execute("SELECT seq FROM snapshots ORDER BY seq")]
    return seqs, commits


async def test_snapshots_fall_where_the_policy_says_however_appends_are_grouped(
    tmp_path: Path,
) -> None:
    apart, commits = await _snapshot_seqs(tmp_path / "apart.db", grouped=False)
    assert commits == 40
    together, commits = await _snapshot_seqs(tmp_path / "together.db", grouped=True)
    assert commits == 1
    # 8 KB (the policy's least) between snapshots: one every 8 or 9 steps, not one a group.
    assert len(apart) == 4
    assert together == apart


async def test_a_stream_of_appends_to_one_run_waits_as_one_queued_append(tmp_path: Path) -> None:
    # Tokens appended one by one while the writer is busy join the run's last queued append
    # (fewer objects alive for the garbage collector), and still get their own seqs, in
    # order, each once.
    store = await open_log(tmp_path / "log.db")
    try:
        await store.append("r", [run_started(thread_id="t")], expected_seq=0, new_run=True)
        results = [
            store.append_nowait(
                "r", [NewEvent(type=EventType.CHAT_TOKEN, payload=i)], expected_seq=1 + i
            )
            for i in range(100)
        ]
        assert [list(r.seqs) for r in results] == [[1 + i] for i in range(100)]
        assert store._writer.backlog == 1  # the first append queued, the others joined it
        checkpoint = NewEvent(type=EventType.CHECKPOINT, payload={"id": "c"})
        store.append_nowait("r", [checkpoint], expected_seq=101)  # a checkpoint: its own
        assert store._writer.backlog == 2
        await store.flush()
        events = await store.read("r")
    finally:
        await store.aclose()
    assert [e.seq for e in events] == list(range(102))
    assert [e.payload for e in events[1:101]] == list(range(100))


async def test_a_waited_commit_never_blocks_the_loop_on_a_lock_the_loop_holds(
    tmp_path: Path,
) -> None:
    # A small commit someone waits for may run on the event loop's thread, but only if the
    # write lock is free at once: here a write transaction this loop drives holds it, and
    # can only finish if the loop goes on (were the commit to wait for the lock on the loop,
    # both would stall until the busy timeout and one would fail with "database is locked").
    from sqlalchemy import text

    store = await open_sqlite(tmp_path / "log.db", busy_timeout=2.0)
    try:
        await store.append("r", [run_started(thread_id="t")], expected_seq=0, new_run=True)
        await store.flush()
        async with store._txn(write=True) as conn:
            await conn.execute(text("SELECT 1"))  # the write lock is taken (BEGIN IMMEDIATE)
            event = NewEvent(type=EventType.CUSTOM, payload="x")
            waiting = asyncio.ensure_future(
                store.append("r", [event], expected_seq=1, durability="sync")
            )
            await asyncio.sleep(0.1)  # the commit tried, found the lock taken, went on waiting
            assert not waiting.done()
            await conn.execute(text("SELECT 2"))  # the loop still serves this transaction
        result = await asyncio.wait_for(waiting, timeout=5)
        assert list(result.seqs) == [1]
    finally:
        await store.aclose()


async def _until(predicate: Any, seconds: float = 10.0) -> None:
    """Wait (polling) until ``predicate()``; fail after ``seconds``."""
    for _ in range(int(seconds * 1000)):
        if predicate():
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"not so after {seconds} s")


async def test_a_burst_of_async_appends_and_its_flush_commit_once(tmp_path: Path) -> None:
    # A short run's events and the flush that ends it share one transaction: the writer waits
    # up to commit_delay for company before the first commit of a burst.
    store = await open_log(tmp_path / "log.db")
    try:
        before = store.commit_count
        await store.append("r", [run_started(thread_id="t")], expected_seq=0, new_run=True)
        for i in range(5):
            store.append_nowait(
                "r", [NewEvent(type=EventType.CUSTOM, payload=i)], expected_seq=1 + i
            )
        await store.flush()
        assert store.commit_count - before == 1
        assert len(await store.read("r")) == 6
    finally:
        await store.aclose()


async def test_whoever_waits_cuts_the_commit_delay_short(tmp_path: Path) -> None:
    # With an hour's delay, a sync append, a flush and a full group still commit at once.
    options = LogOptions(commit_delay=3600, max_group_events=10)
    store = await open_log(tmp_path / "log.db", options=options)
    try:
        await store.append("r", [run_started(thread_id="t")], expected_seq=0, new_run=True)
        before = store.commit_count
        await asyncio.sleep(0.05)
        assert store.commit_count == before  # nobody waits: still waiting for company
        async with asyncio.timeout(10):
            await store.append(
                "r", [NewEvent(type=EventType.CUSTOM, payload=0)], expected_seq=1, durability="sync"
            )
        assert store.commit_count == before + 1
        store.append_nowait("r", [NewEvent(type=EventType.CUSTOM, payload=1)], expected_seq=2)
        async with asyncio.timeout(10):
            await store.flush()
        assert store.commit_count == before + 2
        events = [NewEvent(type=EventType.CUSTOM, payload=i) for i in range(10)]
        store.append_nowait("r", events, expected_seq=3)  # a full group: no waiting
        await _until(lambda: store.commit_count == before + 3)
    finally:
        await store.aclose()


async def test_without_a_commit_delay_an_async_append_commits_unasked(tmp_path: Path) -> None:
    store = await open_log(tmp_path / "log.db", options=LogOptions(commit_delay=0))
    try:
        before = store.commit_count
        await store.append("r", [run_started(thread_id="t")], expected_seq=0, new_run=True)
        await _until(lambda: store.commit_count == before + 1)
    finally:
        await store.aclose()


async def test_a_negative_commit_delay_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="commit_delay"):
        await open_log(tmp_path / "log.db", options=LogOptions(commit_delay=-1))


async def test_a_sync_graph_commits_once_a_step(tmp_path: Path) -> None:
    """With ``durability="sync"``, a step's task starts wait for the step's durable end and
    commit with it: one commit a step (and one for the run's start; the last step's
    checkpoint, with no step after it to hold, commits with the run's end). (The
    commit delay is long here so that the count does not depend on the machine's speed: a step
    longer than the default 5 ms, as on a loaded machine, commits its task starts early.)"""
    builder = _line_graph(10)
    log = await open_log(tmp_path / "sync.db", options=LogOptions(commit_delay=30))
    graph = builder.compile(checkpointer=log)
    config = {"configurable": {"thread_id": "t"}}
    await graph.ainvoke({"x": 0}, {"configurable": {"thread_id": "warm"}}, durability="sync")
    before = log.commit_count
    assert (await graph.ainvoke({"x": 0}, config, durability="sync"))["x"] == 10
    # The run's start with its input's checkpoint; 11 steps (START's, then each node's), each
    # its tasks' starts and ends with its checkpoint, the last one with the run's end.
    assert log.commit_count - before == 12
    history = [s async for s in graph.aget_state_history(config)]
    assert len(history) == 12
    await log.aclose()


def _line_graph(nodes: int) -> Any:
    from typing import TypedDict

    from rewind.graph import END, START, StateGraph

    class State(TypedDict):
        x: int

    builder = StateGraph(State)
    names = [f"n{i}" for i in range(nodes)]
    for name in names:
        builder.add_node(name, lambda state: {"x": state["x"] + 1})
    builder.add_edge(START, names[0])
    for a, b in itertools.pairwise(names):
        builder.add_edge(a, b)
    builder.add_edge(names[-1], END)
    return builder


async def test_a_commit_reads_only_what_the_last_one_did_not_leave_known(tmp_path: Path) -> None:
    """After its own commit the writer knows the log head, its runs' rows and its threads'
    stored heads: a ``sync`` run's commits (one a step) read the new run's row and thread's
    head once, the head never, while no other connection writes (``PRAGMA data_version``)."""
    log = await open_log(tmp_path / "known.db", options=LogOptions(commit_delay=30))
    graph = _line_graph(10).compile(checkpointer=log)
    await graph.ainvoke({"x": 0}, {"configurable": {"thread_id": "warm"}}, durability="sync")
    statements: list[str] = []
    assert log._raw is not None  # (the writer's connection, opened by the first commit)
    log._raw.set_trace_callback(statements.append)
    before = log.commit_count
    config = {"configurable": {"thread_id": "t"}}
    assert (await graph.ainvoke({"x": 0}, config, durability="sync"))["x"] == 10
    log._raw.set_trace_callback(None)
    reads = [s.split(" WHERE")[0] for s in statements if s.startswith("SELECT")]
    assert sorted(reads) == sorted(
        [
            "SELECT run_key, thread_id, last_seq, last_hash, status, chain_from, run_id FROM runs",
            "SELECT thread_id, logged, unsnapshotted FROM thread_heads",
        ]
    ), reads
    commits = log.commit_count - before
    assert commits == 12  # (see test_a_sync_graph_commits_once_a_step)
    assert sum(s == "PRAGMA data_version" for s in statements) == commits
    await log.aclose()


async def test_only_the_commit_that_ends_a_run_writes_its_status(tmp_path: Path) -> None:
    """A run's row is updated by every commit of its events, but its status only by the one
    that ends it: SQLite rewrites the index of running runs (partial, on ``status``) whenever
    an update sets the column, so a ``sync`` run would otherwise write one more page into the
    WAL a step."""
    log = await open_log(tmp_path / "status.db", options=LogOptions(commit_delay=30))
    graph = _line_graph(10).compile(checkpointer=log)
    await graph.ainvoke({"x": 0}, {"configurable": {"thread_id": "warm"}}, durability="sync")
    statements: list[str] = []
    assert log._raw is not None
    log._raw.set_trace_callback(statements.append)
    config = {"configurable": {"thread_id": "t"}}
    assert (await graph.ainvoke({"x": 0}, config, durability="sync"))["x"] == 10
    log._raw.set_trace_callback(None)
    updates = [s for s in statements if s.startswith("UPDATE runs")]
    assert len(updates) == 11, updates  # every commit after the one that made the run
    assert sum("status" in s for s in updates) == 1
    assert "status = 'success'" in updates[-1]
    (run,) = await log.list_runs(thread_id="t")
    assert run.status == "success"
    assert await log.list_runs(status="running") == []
    await log.aclose()


async def test_what_another_connection_wrote_is_read_again(tmp_path: Path) -> None:
    """Two stores on one file take turns: each commit after the other's reads what changed
    (no stale head or run key), and every run's chain verifies."""
    path = tmp_path / "two.db"
    first = await open_log(path)
    second = await open_log(path)
    graphs = [_line_graph(3).compile(checkpointer=store) for store in (first, second)]
    for turn in range(6):
        graph = graphs[turn % 2]
        config = {"configurable": {"thread_id": f"t{turn % 3}"}}
        assert (await graph.ainvoke({"x": 0}, config, durability="sync"))["x"] == 3
    runs = await first.list_runs()
    assert len(runs) == 6 and len({r.run_id for r in runs}) == 6
    for run in runs:
        assert (await first.verify_chain(run.run_id)).ok
    for thread in ("t0", "t1", "t2"):
        state = await graphs[0].aget_state({"configurable": {"thread_id": thread}})
        assert state.values == {"x": 3}
    await first.aclose()
    await second.aclose()


async def test_a_sync_run_s_task_start_is_durable_within_the_commit_delay(tmp_path: Path) -> None:
    """A task start of a ``sync`` run waits for its step's end only ``commit_delay``: a long
    task's start reaches the database (and other processes) while it runs."""
    store = await open_log(tmp_path / "log.db", options=LogOptions(commit_delay=0.05))
    try:
        await store.append("r", [run_started(thread_id="t")], expected_seq=0, new_run=True)
        store.sync_steps("r")
        before = store.commit_count
        store.append_nowait("r", [NewEvent(type=EventType.CUSTOM, payload=0)], expected_seq=1)
        await asyncio.sleep(0.01)
        assert store.commit_count == before  # waiting for the step's end
        await _until(lambda: store.commit_count == before + 1)  # then committed alone
        store.append_nowait("r", [NewEvent(type=EventType.CUSTOM, payload=1)], expected_seq=2)
        async with asyncio.timeout(10):  # the step's end: one commit with what waited
            await store.append(
                "r", [NewEvent(type=EventType.CUSTOM, payload=2)], expected_seq=3, durability="sync"
            )
        assert store.commit_count == before + 2
    finally:
        await store.aclose()
