"""The contract every event-store backend passes.

A backend's test module subclasses :class:`LogContract` and implements ``open``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from rewind import NewEvent, RunStatus, run_ended, run_started
from rewind.errors import (
    ConcurrencyError,
    EncodingError,
    InvalidEventError,
    LogClosedError,
    RunEndedError,
    UnknownRunError,
)
from rewind.events import EventType, StoredEvent
from rewind.log import EventLog
from rewind.log.schema import events, runs


def custom(payload: Any, **kw: Any) -> NewEvent:
    return NewEvent(type=EventType.CUSTOM, payload=payload, **kw)


async def start_run(
    store: EventLog, run_id: str, thread_id: str = "t1", *more: NewEvent, **kw: Any
) -> None:
    await store.append(
        run_id, [run_started(thread_id=thread_id, **kw), *more], expected_seq=0, durability="sync"
    )


async def collect(it: AsyncIterator[StoredEvent], n: int | None = None) -> list[StoredEvent]:
    out: list[StoredEvent] = []
    async for event in it:
        out.append(event)
        if n is not None and len(out) == n:
            break
    return out


class LogContract:
    """Behaviour every backend shares."""

    async def open(self, tmp_path: Path, **kw: Any) -> EventLog:
        raise NotImplementedError

    @pytest.fixture
    async def store(self, tmp_path: Path) -> AsyncIterator[EventLog]:
        store = await self.open(tmp_path)
        yield store
        await store.aclose()

    # --- append ---------------------------------------------------------------------------

    async def test_append_assigns_gapless_seqs_and_increasing_positions(
        self, store: EventLog
    ) -> None:
        first = await store.append(
            "r1", [run_started(thread_id="t1"), custom(1)], expected_seq=0, durability="sync"
        )
        second = await store.append("r1", [custom(2), custom(3)], expected_seq=2, durability="sync")
        assert first.seqs == range(0, 2)
        assert second.seqs == range(2, 4)
        assert first.positions is not None and second.positions is not None
        assert list(first.positions) + list(second.positions) == [1, 2, 3, 4]
        stored = await store.read("r1")
        assert [e.seq for e in stored] == [0, 1, 2, 3]
        assert [e.payload for e in stored[1:]] == [1, 2, 3]
        assert all(e.thread_id == "t1" and e.run_id == "r1" for e in stored)

    async def test_positions_interleave_runs_in_commit_order(self, store: EventLog) -> None:
        await start_run(store, "a")
        await start_run(store, "b")
        await store.append("a", [custom("a1")], expected_seq=1, durability="sync")
        await store.append("b", [custom("b1")], expected_seq=1, durability="sync")
        every = await store.read_all()
        assert [(e.run_id, e.seq) for e in every] == [("a", 0), ("b", 0), ("a", 1), ("b", 1)]
        assert [e.position for e in every] == [1, 2, 3, 4]
        assert [e.position for e in await store.read_all(after_position=2, limit=1)] == [3]
        assert await store.head() == 4

    async def test_stale_expected_seq_raises_and_stores_nothing(self, store: EventLog) -> None:
        await start_run(store, "r1")
        await store.append("r1", [custom(1)], expected_seq=1)
        with pytest.raises(ConcurrencyError) as caught:
            await store.append("r1", [custom("late"), custom("late")], expected_seq=1)
        assert caught.value.run_id == "r1"
        assert (caught.value.expected_seq, caught.value.actual_seq) == (1, 2)
        assert "r1" in str(caught.value) and "1" in str(caught.value)
        await store.flush()
        assert [e.payload for e in await store.read("r1")][1:] == [1]
        # the run goes on from where it really is
        await store.append("r1", [custom(2)], expected_seq=2, durability="sync")

    async def test_second_start_of_an_existing_run_is_a_conflict(self, store: EventLog) -> None:
        await start_run(store, "r1")
        with pytest.raises(ConcurrencyError):
            await store.append("r1", [run_started(thread_id="t1")], expected_seq=0)

    @pytest.mark.parametrize(
        ("batch", "expected_seq", "reason"),
        [
            ([], 0, "at least one event"),
            ([custom(1)], 0, "must be run.started"),
            ([run_started(thread_id="t"), run_started(thread_id="t")], 0, "first event"),
            ([run_started(thread_id="")], 0, "thread_id"),
            ([run_started(thread_id="t"), run_ended(RunStatus.SUCCESS), custom(1)], 0, "last"),
            ([NewEvent(type=EventType.RUN_ENDED, payload={"status": "running"})], 3, "final"),
        ],
    )
    async def test_invalid_batches_are_refused_before_anything_is_stored(
        self, store: EventLog, batch: list[NewEvent], expected_seq: int, reason: str
    ) -> None:
        await start_run(store, "other")
        with pytest.raises(InvalidEventError, match=reason):
            await store.append("r1", batch, expected_seq=expected_seq)
        assert await store.head() == 1

    async def test_unknown_run_is_named(self, store: EventLog) -> None:
        with pytest.raises(UnknownRunError, match="nope"):
            await store.append("nope", [custom(1)], expected_seq=3)
        with pytest.raises(UnknownRunError, match="nope"):
            await store.read("nope")
        with pytest.raises(UnknownRunError, match="nope"):
            await store.get_run("nope")
        with pytest.raises(UnknownRunError, match="nope"):
            await store.verify_chain("nope")

    async def test_an_ended_run_takes_no_more_events(self, store: EventLog) -> None:
        await start_run(store, "r1")
        await store.append("r1", [run_ended(RunStatus.ERROR, error="boom")], expected_seq=1)
        with pytest.raises(RunEndedError, match="r1"):
            await store.append("r1", [custom(1)], expected_seq=2)
        run = await store.get_run("r1")
        assert run.status is RunStatus.ERROR
        assert run.last_seq == 1

    async def test_closed_store_refuses_appends(self, tmp_path: Path) -> None:
        store = await self.open(tmp_path)
        await start_run(store, "r1")
        await store.aclose()
        with pytest.raises(LogClosedError):
            await store.append("r1", [custom(1)], expected_seq=1)

    # --- durability and group commit -----------------------------------------------------

    async def test_concurrent_sync_appenders_share_commits(self, store: EventLog) -> None:
        runs = [f"r{i}" for i in range(40)]
        await asyncio.gather(*(start_run(store, r, f"t{r}") for r in runs))
        before = store.commit_count

        async def appender(run_id: str) -> None:
            for seq in range(1, 6):
                result = await store.append(
                    run_id, [custom(seq)], expected_seq=seq, durability="sync"
                )
                assert result.positions is not None

        await asyncio.gather(*(appender(r) for r in runs))
        assert store.commit_count - before < 40 * 5  # appends were grouped
        for run_id in runs:
            assert [e.payload for e in await store.read(run_id)][1:] == [1, 2, 3, 4, 5]

    async def test_async_appends_are_durable_after_flush(self, store: EventLog) -> None:
        await start_run(store, "r1")
        for seq in range(1, 101):
            result = await store.append("r1", [custom(seq)], expected_seq=seq, durability="async")
            assert result.seqs == range(seq, seq + 1)
        await store.flush()
        assert len(await store.read("r1")) == 101

    async def test_exit_durability_holds_events_until_the_run_ends(self, store: EventLog) -> None:
        await store.append("r1", [run_started(thread_id="t1")], expected_seq=0, durability="exit")
        await store.append("r1", [custom(1)], expected_seq=1, durability="exit")
        assert await store.list_runs() == []
        await store.append("r1", [run_ended(RunStatus.SUCCESS)], expected_seq=2, durability="exit")
        assert [e.seq for e in await store.read("r1")] == [0, 1, 2]
        await store.append("r2", [run_started(thread_id="t1")], expected_seq=0, durability="exit")
        await store.flush()
        assert (await store.get_run("r2")).status is RunStatus.RUNNING

    # --- runs and threads ----------------------------------------------------------------

    async def test_run_records_follow_the_log(self, store: EventLog) -> None:
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        await store.append(
            "r1", [run_started(thread_id="t1", graph="agent", ts=t0)], expected_seq=0
        )
        await store.append("r1", [custom(1, ts=t0 + timedelta(seconds=5))], expected_seq=1)
        run = await store.get_run("r1")
        assert (run.thread_id, run.graph_name, run.status) == ("t1", "agent", RunStatus.RUNNING)
        assert run.created_at == t0 and run.updated_at == t0 + timedelta(seconds=5)
        assert (run.last_seq, run.first_position, run.last_position) == (1, 1, 2)
        await store.append(
            "r2",
            [
                run_started(
                    thread_id="t1",
                    graph="agent",
                    origin_run_id="r1",
                    origin_checkpoint_id="c1",
                    ts=t0 + timedelta(seconds=9),
                )
            ],
            expected_seq=0,
        )
        fork = await store.get_run("r2")
        assert (fork.origin_run_id, fork.origin_checkpoint_id) == ("r1", "c1")

    async def test_list_runs_filters_and_orders(self, store: EventLog) -> None:
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        for i, (thread, graph) in enumerate([("a", "g1"), ("a", "g2"), ("b", "g1")]):
            await store.append(
                f"r{i}",
                [run_started(thread_id=thread, graph=graph, ts=t0 + timedelta(hours=i))],
                expected_seq=0,
            )
        await store.append("r0", [run_ended(RunStatus.SUCCESS)], expected_seq=1)
        ids = lambda runs: [r.run_id for r in runs]  # noqa: E731
        assert ids(await store.list_runs()) == ["r2", "r1", "r0"]
        assert ids(await store.list_runs(oldest_first=True, limit=2)) == ["r0", "r1"]
        assert ids(await store.list_runs(thread_id="a")) == ["r1", "r0"]
        assert ids(await store.list_runs(status="success")) == ["r0"]
        assert ids(await store.list_runs(status=RunStatus.RUNNING)) == ["r2", "r1"]
        assert ids(await store.list_runs(graph_name="g1")) == ["r2", "r0"]
        assert ids(await store.list_runs(created_after=t0)) == ["r2", "r1"]
        assert ids(await store.list_runs(created_before=t0 + timedelta(hours=1))) == ["r0"]
        threads = await store.list_threads()  # most recently updated first: r0's end is newest
        assert [(t.thread_id, t.run_count, t.last_run_id) for t in threads] == [
            ("a", 2, "r1"),
            ("b", 1, "r2"),
        ]

    # --- hash chain ----------------------------------------------------------------------

    async def test_chain_verifies_and_names_the_first_altered_event(self, store: EventLog) -> None:
        await start_run(store, "r1", "t1", *(custom(i) for i in range(5)))
        report = await store.verify_chain("r1")
        assert report.ok and report.checked == 6
        await tamper(store, "r1", seq=3, payload="999")
        report = await store.verify_chain("r1")
        assert not report.ok
        assert report.first_bad_seq == 3
        assert "altered" in (report.reason or "")

    # --- subscriptions -------------------------------------------------------------------

    async def test_subscribe_catches_up_then_goes_live_and_ends_with_the_run(
        self, store: EventLog
    ) -> None:
        await start_run(store, "r1", "t1", custom(1))
        await start_run(store, "other", "t2")
        task = asyncio.create_task(collect(store.subscribe(run_id="r1")))
        await asyncio.sleep(0.05)
        await store.append("r1", [custom(2)], expected_seq=2)
        await store.append("other", [custom("x")], expected_seq=1)
        await store.append("r1", [custom(3), run_ended(RunStatus.SUCCESS)], expected_seq=3)
        seen = await asyncio.wait_for(task, 10)
        assert [e.seq for e in seen] == [0, 1, 2, 3, 4]
        assert [e.payload for e in seen[1:4]] == [1, 2, 3]

    async def test_subscribe_from_a_position_skips_what_came_before(self, store: EventLog) -> None:
        await start_run(store, "r1", "t1", custom(1), custom(2))
        seen = await asyncio.wait_for(collect(store.subscribe(after_position=2), n=1), 10)
        assert [e.position for e in seen] == [3]

    async def test_subscribe_to_a_thread_sees_its_runs_only(self, store: EventLog) -> None:
        task = asyncio.create_task(collect(store.subscribe(thread_id="t1"), n=4))
        await asyncio.sleep(0.02)
        await start_run(store, "a", "t1")
        await start_run(store, "b", "t2")
        await start_run(store, "c", "t1", custom(1))
        await store.append("a", [custom(2)], expected_seq=1)
        seen = await asyncio.wait_for(task, 10)
        assert [(e.run_id, e.seq) for e in seen] == [("a", 0), ("c", 0), ("c", 1), ("a", 1)]

    async def test_subscribe_to_an_ended_run_replays_it_and_stops(self, store: EventLog) -> None:
        await start_run(store, "r1", "t1", custom(1))
        await store.append("r1", [run_ended(RunStatus.SUCCESS)], expected_seq=2)
        assert len(await asyncio.wait_for(collect(store.subscribe(run_id="r1")), 10)) == 3
        after_end = store.subscribe(run_id="r1", after_position=3)
        assert await asyncio.wait_for(collect(after_end), 10) == []
        with pytest.raises(UnknownRunError):
            await collect(store.subscribe(run_id="missing"))

    async def test_a_stalled_subscriber_never_blocks_appends(self, tmp_path: Path) -> None:
        from rewind.log import LogOptions

        store = await self.open(tmp_path, options=LogOptions(subscriber_buffer=16, read_page=7))
        try:
            await start_run(store, "r1")
            sub = store.subscribe(run_id="r1")
            first = await asyncio.wait_for(anext(sub), 10)  # now live, then stalls
            for seq in range(1, 301):
                await store.append("r1", [custom(seq)], expected_seq=seq)
            await store.append("r1", [run_ended(RunStatus.SUCCESS)], expected_seq=301)
            await store.flush()
            rest = await asyncio.wait_for(collect(sub), 10)
            assert [e.seq for e in [first, *rest]] == list(range(302))
        finally:
            await store.aclose()

    async def test_closing_the_store_ends_open_subscriptions_with_an_error(
        self, tmp_path: Path
    ) -> None:
        store = await self.open(tmp_path)
        await start_run(store, "r1")
        sub = store.subscribe(run_id="r1")
        assert (await asyncio.wait_for(anext(sub), 10)).seq == 0
        waiting = asyncio.create_task(anext(sub))
        await asyncio.sleep(0.05)
        await store.aclose()
        with pytest.raises(LogClosedError):
            await asyncio.wait_for(waiting, 10)

    # --- snapshots -----------------------------------------------------------------------

    async def test_snapshots_are_a_cache(self, store: EventLog) -> None:
        await start_run(store, "r1", "t1", *(custom(i) for i in range(9)))
        assert await store.get_snapshot("r1") is None
        await store.put_snapshot("r1", 3, {"n": 3, "msgs": ("a", "b")})
        await store.put_snapshot("r1", 7, {"n": 7})
        await store.put_snapshot("r1", 7, {"n": 70})
        newest = await store.get_snapshot("r1")
        assert newest is not None and (newest.seq, newest.state) == (7, {"n": 70})
        at_5 = await store.get_snapshot("r1", at_or_before_seq=5)
        assert at_5 is not None and at_5.state == {"n": 3, "msgs": ("a", "b")}
        assert await store.get_snapshot("r1", at_or_before_seq=2) is None
        before = await store.read("r1")
        assert await store.delete_snapshots(run_id="r1") == 2
        assert await store.get_snapshot("r1") is None
        assert await store.read("r1") == before
        with pytest.raises(ValueError, match="no event 99"):
            await store.put_snapshot("r1", 99, {})

    # --- retention -----------------------------------------------------------------------

    async def test_delete_thread_removes_its_runs_events_and_snapshots(
        self, store: EventLog
    ) -> None:
        await start_run(store, "a", "t1", custom(1))
        await store.append("a", [run_ended(RunStatus.SUCCESS)], expected_seq=2)
        await store.put_snapshot("a", 1, {"x": 1})
        await start_run(store, "b", "t2", custom(2))
        report = await store.delete_thread("t1")
        assert (report.runs_deleted, report.events_deleted) == (1, 3)
        assert [r.run_id for r in await store.list_runs()] == ["b"]
        assert [e.run_id for e in await store.read_all()] == ["b", "b"]
        assert (await store.verify_chain("b")).ok

    async def test_delete_thread_keeps_the_runs_another_thread_starts_from(
        self, store: EventLog
    ) -> None:
        async def finished(run_id: str, thread_id: str, origin: str | None = None) -> None:
            start = run_started(thread_id=thread_id, origin_run_id=origin)
            await store.append(run_id, [start, run_ended(RunStatus.SUCCESS)], expected_seq=0)

        await finished("base", "t1")
        await finished("fork", "t1", origin="base")
        await finished("alone", "t1")
        await finished("other", "t2", origin="fork")  # t2 rebuilds its state through t1's runs
        await finished("unrelated", "t3")
        await store.save_thread_metadata("t1", {"k": 1})
        report = await store.delete_thread("t1")
        assert (report.runs_deleted, report.runs_kept_for_dependants) == (1, 2)
        assert {r.run_id for r in await store.list_runs()} == {"base", "fork", "other", "unrelated"}
        assert await store.get_thread_metadata("t1") == []
        assert (await store.verify_chain("other")).ok

    async def test_prune_thread_keeps_its_newest_runs_and_leaves_other_threads(
        self, store: EventLog
    ) -> None:
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        for i in range(3):
            for thread in ("a", "b"):
                start = run_started(thread_id=thread, ts=t0 + timedelta(minutes=i))
                await store.append(
                    f"{thread}{i}", [start, run_ended(RunStatus.SUCCESS)], expected_seq=0
                )
        await store.save_thread_metadata("a", {"k": 1})
        report = await store.prune_thread("a", keep_last=1)
        assert report.runs_deleted == 2
        assert {r.run_id for r in await store.list_runs()} == {"a2", "b0", "b1", "b2"}
        assert [m.thread_id for m in await store.get_thread_metadata("a")] == ["a"]
        with pytest.raises(ValueError, match="keep_last"):
            await store.prune_thread("a", keep_last=-1)

    async def test_thread_metadata_is_kept_before_any_run_and_goes_with_the_thread(
        self, store: EventLog
    ) -> None:
        assert await store.get_thread_metadata("t9") == []
        first = await store.save_thread_metadata("t9", {"user": "ada", "tags": ["a"]})
        again = await store.save_thread_metadata("t9", {"user": "ada", "tier": 2})
        assert again.created_at == first.created_at <= again.updated_at
        (kept,) = await store.get_thread_metadata("t9")
        assert (kept.thread_id, kept.metadata) == ("t9", {"user": "ada", "tier": 2})
        await store.save_thread_metadata("t8", {})
        assert [m.thread_id for m in await store.get_thread_metadata()] == ["t9", "t8"]
        with pytest.raises(EncodingError):
            await store.save_thread_metadata("t9", {"bad": object()})
        assert (await store.get_thread_metadata("t9"))[0].metadata["tier"] == 2
        await start_run(store, "r-t9", "t9")
        await store.append("r-t9", [run_ended(RunStatus.SUCCESS)], expected_seq=1)
        await store.delete_thread("t9")
        assert await store.get_thread_metadata("t9") == []
        assert await store.list_runs(thread_id="t9") == []

    async def test_prune_keeps_running_runs_and_origins_of_retained_runs(
        self, store: EventLog
    ) -> None:
        t0 = datetime(2026, 1, 1, tzinfo=UTC)

        async def finished(run_id: str, hours: int, origin: str | None = None) -> None:
            start = run_started(
                thread_id="t1", origin_run_id=origin, ts=t0 + timedelta(hours=hours)
            )
            await store.append(run_id, [start, run_ended(RunStatus.SUCCESS)], expected_seq=0)

        await finished("old-base", 0)
        await finished("old-fork", 1, origin="old-base")  # old, but "new" depends on it
        await finished("old-alone", 2)
        await store.append("old-running", [run_started(thread_id="t1", ts=t0)], expected_seq=0)
        await finished("new", 48, origin="old-fork")
        report = await store.prune(older_than=t0 + timedelta(hours=24))
        assert report.runs_deleted == 1
        assert report.runs_kept_for_dependants == 2
        kept = {r.run_id for r in await store.list_runs()}
        assert kept == {"old-base", "old-fork", "old-running", "new"}

    async def test_prune_keep_last_per_thread(self, store: EventLog) -> None:
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        for i in range(4):
            for thread in ("a", "b"):
                start = run_started(thread_id=thread, ts=t0 + timedelta(minutes=i))
                await store.append(
                    f"{thread}{i}", [start, run_ended(RunStatus.SUCCESS)], expected_seq=0
                )
        report = await store.prune(keep_last=1)
        assert report.runs_deleted == 6
        assert {r.run_id for r in await store.list_runs()} == {"a3", "b3"}
        with pytest.raises(ValueError, match="exactly one"):
            await store.prune()


async def tamper(store: EventLog, run_id: str, *, seq: int, payload: str) -> None:
    """Edit one stored event behind the store's back, as an attacker with the file would."""
    async with store._txn(write=True) as conn:
        key = (
            await conn.execute(select(runs.c.run_key).where(runs.c.run_id == run_id))
        ).scalar_one()
        await conn.execute(
            update(events)
            .where(events.c.run_key == key, events.c.seq == seq)
            .values(payload=payload)
        )
