"""The run queue and its workers, in one process, on the real PostgreSQL server and on a
SQLite file: claims, thread exclusivity, leases and takeover, fencing, cancellation, drain."""

from __future__ import annotations

import asyncio
import itertools
import operator
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from sqlalchemy.exc import OperationalError

from rewind import open_log
from rewind.errors import FencedError
from rewind.events import EventType, RunStatus
from rewind.graph import END, START, StateGraph
from rewind.log import EventLog
from rewind.log.leases import Lease
from rewind.server.queue import QueuedRun, RunQueue, attempt_run_id, now_us
from rewind.server.runs import new_run_id
from rewind.server.worker import Worker
from tests import pg


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def chain(*names: str, delay: float = 0.0, executions: list[str] | None = None) -> Any:
    g = StateGraph(State)
    for name in names:

        async def node(state: State, name: str = name) -> dict[str, Any]:
            if executions is not None:
                executions.append(name)
            await asyncio.sleep(delay)
            return {"log": [name]}

        g.add_node(name, node)
    g.add_edge(START, names[0])
    for a, b in itertools.pairwise(names):
        g.add_edge(a, b)
    g.add_edge(names[-1], END)
    return g.compile()


@pytest.fixture(params=["postgres", "sqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "queue.db")
        return
    name = pg.name_for(str(tmp_path))
    yield pg.create_database(name)
    pg.drop_database(name)


@pytest.fixture
async def log(url: str) -> AsyncIterator[EventLog]:
    store = await open_log(url)
    yield store
    await store.aclose()


def queued(thread_id: str, *, graph_id: str = "g", **request: Any) -> QueuedRun:
    now = now_us()
    return QueuedRun(
        run_id=new_run_id(),
        thread_id=thread_id,
        graph_id=graph_id,
        assistant_id="a",
        request={"input": {"log": []}, **request},
        metadata={},
        multitask_strategy="enqueue",
        status="pending",
        created_at=now,
        updated_at=now,
        not_before=now,
    )


async def add(queue: RunQueue, run: QueuedRun) -> None:
    async with queue.thread_turn(run.thread_id) as turn:
        await turn.add(run)


async def test_two_runs_of_one_thread_are_never_claimed_together(log: EventLog) -> None:
    queue = RunQueue(log)
    first, second, other = queued("t"), queued("t"), queued("u")
    for run in (first, second, other):
        await add(queue, run)
    claimed = await queue.claim("w1", lease=30, limit=10)
    assert {r.run_id for r in claimed} == {first.run_id, other.run_id}
    assert await queue.claim("w2", lease=30, limit=10) == []
    (mine,) = [r for r in claimed if r.run_id == first.run_id]
    assert await queue.finish(mine, "success")
    again = await queue.claim("w2", lease=30, limit=10)
    assert [r.run_id for r in again] == [second.run_id]
    assert again[0].attempt == 1 and again[0].log_run_id == second.run_id


async def test_concurrent_claims_take_each_run_once(url: str, log: EventLog) -> None:
    queue = RunQueue(log)
    runs = [queued(f"t{i}") for i in range(40)]
    for run in runs:
        await add(queue, run)
    others = [await open_log(url) for _ in range(3)]
    try:
        queues = [queue, *(RunQueue(o) for o in others)]

        async def take(q: RunQueue, name: str) -> list[str]:
            got: list[str] = []
            while True:
                claimed = await q.claim(name, lease=30, limit=3)
                if not claimed:
                    return got
                got += [r.run_id for r in claimed]

        results = await asyncio.gather(*(take(q, f"w{i}") for i, q in enumerate(queues)))
    finally:
        for o in others:
            await o.aclose()
    taken = [run_id for got in results for run_id in got]
    assert sorted(taken) == sorted(r.run_id for r in runs)  # each exactly once


async def test_an_expired_lease_is_claimed_again_as_the_next_attempt(log: EventLog) -> None:
    queue = RunQueue(log)
    run = queued("t")
    await add(queue, run)
    (first,) = await queue.claim("w1", lease=0.05, limit=1)
    assert await queue.claim("w2", lease=30) == []
    await asyncio.sleep(0.1)
    (second,) = await queue.claim("w2", lease=30)
    assert (second.attempt, second.owner) == (2, "w2")
    assert second.log_run_id == attempt_run_id(run.run_id, 2) != run.run_id
    assert await queue.heartbeat(first, lease=30) is None  # w1 lost it
    assert not await queue.finish(first, "success")
    assert await queue.finish(second, "success")
    assert (await queue.get(run.run_id)).status == "success"  # type: ignore[union-attr]


async def test_a_fenced_worker_s_appends_are_refused(log: EventLog) -> None:
    from rewind.events import run_started

    queue = RunQueue(log)
    run = queued("t")
    await add(queue, run)
    (mine,) = await queue.claim("w1", lease=0.05)
    assert mine.log_run_id is not None
    log.hold_lease(mine.log_run_id, Lease(run.run_id, "w1", mine.attempt))
    await log.append(
        mine.log_run_id,
        [run_started(thread_id="t", graph="g")],
        expected_seq=0,
        durability="sync",
    )
    await asyncio.sleep(0.1)
    await queue.claim("w2", lease=30)  # the takeover
    from rewind.events import NewEvent

    late = NewEvent(type=EventType.CUSTOM, payload={"late": True})
    with pytest.raises(FencedError, match="lease"):
        await log.append(mine.log_run_id, [late], expected_seq=1, durability="sync")
    assert len(await log.read(mine.log_run_id)) == 1  # nothing of it stored


async def test_a_fenced_run_s_failure_is_its_own_flush_s_not_another_run_s(
    log: EventLog,
) -> None:
    """A worker runs many runs on one log: the refused background appends of the run it lost
    are raised by that run's flush, never by the flush that ends a run it still holds."""
    from rewind.events import NewEvent, run_started

    queue = RunQueue(log)
    lost_run, kept_run = queued("t"), queued("u")
    await add(queue, lost_run)
    await add(queue, kept_run)
    lost, kept = await queue.claim("w1", lease=0.05, limit=2)
    for mine in (lost, kept):
        assert mine.log_run_id is not None
        log.hold_lease(mine.log_run_id, Lease(mine.run_id, "w1", mine.attempt))
        start = run_started(thread_id=mine.thread_id, graph="g")
        await log.append(mine.log_run_id, [start], expected_seq=0, durability="sync")
    await asyncio.sleep(0.1)
    assert await queue.heartbeat(kept, lease=30) is not None
    await queue.claim("w2", lease=30)  # takes the lost one over (its lease expired)
    assert lost.log_run_id is not None and kept.log_run_id is not None
    late = NewEvent(type=EventType.CUSTOM, payload={"late": True})
    await log.append(lost.log_run_id, [late], expected_seq=1, durability="async")
    await log.append(kept.log_run_id, [late], expected_seq=1, durability="async")
    await log.flush(kept.log_run_id)  # the kept run's appends went in; the other's failure waits
    assert len(await log.read(kept.log_run_id)) == 2
    with pytest.raises(FencedError, match=lost.run_id):
        await log.flush(lost.log_run_id)
    assert len(await log.read(lost.log_run_id)) == 1  # nothing of the late append stored
    await log.flush()  # raised once, by its own run's flush


async def test_a_worker_runs_queued_runs_one_thread_at_a_time(log: EventLog) -> None:
    executions: list[str] = []
    graph = chain("a", "b", delay=0.02, executions=executions)
    queue = RunQueue(log)
    runs = [queued("t") for _ in range(3)] + [queued("u")]
    for run in runs:
        await add(queue, run)
    await _work_until_finished(Worker(log, {"g": graph}, lease=5, jobs=4, poll=0.05), 4)
    for run in runs:
        assert (await queue.get(run.run_id)).status == "success"  # type: ignore[union-attr]
    records = await log.list_runs(thread_id="t", oldest_first=True)
    assert [r.run_id for r in records] == [r.run_id for r in runs[:3]]
    for earlier, later in itertools.pairwise(records):
        assert earlier.last_position < later.first_position  # one after the other
    assert executions.count("a") == 4


class _BusyAtFirst(RunQueue):
    """A queue whose database is busy the first ``times`` an end is recorded."""

    def __init__(self, log: EventLog, times: int) -> None:
        super().__init__(log)
        self.busy = times

    async def finish(self, run: QueuedRun, status: str, **kwargs: Any) -> bool:
        if self.busy:
            self.busy -= 1
            locked = sqlite3.OperationalError("database is locked")
            raise OperationalError("UPDATE run_queue ...", {}, locked)
        return await super().finish(run, status, **kwargs)


async def test_a_run_s_end_is_recorded_when_the_database_was_busy_at_first(
    log: EventLog,
) -> None:
    queue = _BusyAtFirst(log, times=2)
    run = queued("t")
    await add(queue, run)
    worker = Worker(log, {"g": chain("a", "b")}, lease=5, jobs=1, poll=0.05)
    worker.queue = queue
    await _work_until_finished(worker, 1)
    assert queue.busy == 0
    assert (await queue.get(run.run_id)).status == "success"  # type: ignore[union-attr]


async def test_a_cancel_asked_in_the_queue_stops_the_worker_s_run(log: EventLog) -> None:
    graph = chain("a", "b", "c", delay=0.5)
    queue = RunQueue(log)
    run = queued("t")
    await add(queue, run)
    worker = Worker(log, {"g": graph}, lease=1.5, jobs=1, poll=0.05)
    task = asyncio.ensure_future(worker.run())
    try:
        await _until(lambda: worker._held)
        await asyncio.sleep(0.1)
        await queue.cancel(run.run_id)
        await _until(lambda: worker.finished == 1)
    finally:
        worker.stop()
        await task
    assert (await queue.get(run.run_id)).status == "interrupted"  # type: ignore[union-attr]
    assert (await log.get_run(run.run_id)).status == RunStatus.CANCELLED


async def test_a_drained_worker_hands_its_run_back_and_another_resumes_it(log: EventLog) -> None:
    executions: list[str] = []
    graph = chain("a", "b", "c", "d", delay=0.15, executions=executions)
    queue = RunQueue(log)
    run = queued("t")
    await add(queue, run)
    first = Worker(log, {"g": graph}, lease=5, jobs=1, poll=0.05, drain_timeout=0.2)
    task = asyncio.ensure_future(first.run())
    await _until(lambda: len(executions) >= 2)
    first.stop()
    await task
    assert (await queue.get(run.run_id)).status == "pending"  # type: ignore[union-attr]
    second = Worker(log, {"g": graph}, lease=5, jobs=1, poll=0.05)
    task = asyncio.ensure_future(second.run())
    try:
        await _until(lambda: second.finished == 1)
    finally:
        second.stop()
        await task
    final = await queue.get(run.run_id)
    assert final is not None and (final.status, final.attempt) == ("success", 2)
    assert sorted(set(executions)) == ["a", "b", "c", "d"]
    assert executions.count("a") == 1  # durable before the hand-back: not run again
    events = await log.read(final.log_run_id)  # type: ignore[arg-type]
    assert events[-1].type == EventType.RUN_ENDED


async def _until(check: Any, within: float = 20.0) -> None:
    """Wait until ``check()`` holds (the worker reports nothing to wait on)."""
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_a_worker_s_graphs_get_the_database_s_store(log: EventLog) -> None:
    """``rewind worker`` gives its graphs the store ``rewind serve`` gives its own and its store
    API: what a node run by a worker remembers, the server's store has."""
    from rewind.config import get_store
    from rewind.server.store_routes import server_store

    def remember(state: State) -> dict[str, Any]:
        get_store().put(("memories", "u1"), "m1", {"text": "likes tea"})
        return {"log": ["remembered"]}

    g = StateGraph(State)
    g.add_node("remember", remember)
    g.add_edge(START, "remember")
    queue = RunQueue(log)
    run = queued("t")
    await add(queue, run)
    async with server_store(log) as store:
        worker = Worker(log, {"g": g.compile()}, lease=5, jobs=1, poll=0.05, store=store)
        await _work_until_finished(worker, 1)
        assert (await queue.get(run.run_id)).status == "success"  # type: ignore[union-attr]
        item = await store.aget(("memories", "u1"), "m1")
        assert item is not None and item.value == {"text": "likes tea"}


async def _work_until_finished(worker: Worker, count: int) -> None:
    """Run ``worker`` until it has finished ``count`` runs, then drain it."""
    task = asyncio.ensure_future(worker.run())
    try:
        await _until(lambda: worker.finished == count)
    finally:
        worker.stop()
        await task
