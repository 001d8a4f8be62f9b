"""PostgreSQL connections dropped under a writer (the server ends them, as a restart or a
network cut does): an append in flight fails with an error, or gets in; nothing acknowledged is
lost; the next appends get in over new connections; chains verify."""

from __future__ import annotations

import asyncio
import itertools
import operator
import random
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import psycopg
import pytest

from rewind import NewEvent, RunStatus, open_log
from rewind.checkpoint.postgres.aio import AsyncPostgresSaver
from rewind.errors import ConcurrencyError, LogError
from rewind.events import EventType, run_started
from rewind.graph import END, START, StateGraph
from tests import pg


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    name = pg.name_for(str(tmp_path))
    pg.drop_database(name)
    yield pg.create_database(name)
    pg.drop_database(name)


def _drop_connections(url: str) -> int:
    """End every other connection to the database; how many were ended."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.faults
async def test_dropped_connections_lose_nothing_acknowledged(url: str) -> None:
    log = await open_log(url, durability="sync")
    acknowledged: list[int] = []
    refused = 0
    stop = threading.Event()
    cuts: list[int] = []

    def cutter() -> None:  # ends the writer's connections every few milliseconds, mid-append
        rng = random.Random(7)
        while not stop.wait(rng.uniform(0.005, 0.03)):
            cuts.append(_drop_connections(url))

    try:
        await log.append("r", [run_started(thread_id="t", graph="g")], expected_seq=0)
        thread = threading.Thread(target=cutter)
        thread.start()
        try:
            seq = 1
            while seq <= 300:
                event = NewEvent(type=EventType.CUSTOM, payload={"n": seq})
                try:
                    await log.append("r", [event], expected_seq=seq)
                except ConcurrencyError:  # it got in, but the cut took its answer
                    pass
                except LogError:  # refused: the same append again
                    refused += 1
                    assert refused < 1000, "appends do not get in again after the cuts"
                    continue
                else:
                    acknowledged.append(seq)
                seq += 1
        finally:
            stop.set()
            thread.join()
    finally:
        await log.aclose()
    print(f"FAULTS PostgreSQL: {sum(cuts)} connections cut under 300 appends, {refused} refused")
    assert sum(cuts) >= 10, "connections were cut while appending"

    fresh = await open_log(url)
    try:
        events = await fresh.read("r")
        assert [e.seq for e in events] == list(range(301))  # every append in, once, gapless
        assert [e.payload["n"] for e in events[1:]] == list(range(1, 301))
        assert set(acknowledged) <= {e.seq for e in events}
        assert (await fresh.verify_chain("r")).ok
    finally:
        await fresh.aclose()


class Steps(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


NODES = [f"n{i}" for i in range(12)]


def _steps_graph(saver: Any, executions: Counter[str]) -> Any:
    g = StateGraph(Steps)

    def node(name: str) -> Any:
        async def run(state: Steps) -> dict[str, Any]:
            executions[name] += 1
            await asyncio.sleep(0.02)
            return {"log": [name]}

        return run

    for name in NODES:
        g.add_node(name, node(name))
    g.add_edge(START, NODES[0])
    for a, b in itertools.pairwise(NODES):
        g.add_edge(a, b)
    g.add_edge(NODES[-1], END)
    return g.compile(checkpointer=saver)


@pytest.mark.faults
async def test_a_run_whose_connections_are_cut_resumes_to_its_end(url: str) -> None:
    executions: Counter[str] = Counter()
    stop = threading.Event()
    cuts: list[int] = []

    def cutter() -> None:
        rng = random.Random(11)
        while not stop.wait(rng.uniform(0.03, 0.12)):
            cuts.append(_drop_connections(url))

    failures: list[str] = []
    async with AsyncPostgresSaver.from_conn_string(url) as saver:
        await saver.setup()
        graph = _steps_graph(saver, executions)
        config = {"configurable": {"thread_id": "t"}}
        thread = threading.Thread(target=cutter)
        thread.start()
        try:
            given: Any = {"log": []}
            for _ in range(40):
                try:
                    result = await graph.ainvoke(given, config, durability="sync")
                    break
                except Exception as exc:  # a commit refused when its connection was cut
                    failures.append(f"{type(exc).__name__}: {exc}")
                    given = None  # resume from the newest durable checkpoint
            else:
                pytest.fail(f"the run never got to its end: {failures}")
        finally:
            stop.set()
            thread.join()
    print(f"FAULTS PostgreSQL: {sum(cuts)} connections cut under a run, {len(failures)} attempts")
    assert result["log"] == NODES  # each node's writes once, in order

    log = await open_log(url)
    try:
        ran: Counter[str] = Counter()
        runs = await log.list_runs(oldest_first=True)
        assert runs[-1].status == RunStatus.SUCCESS
        # Runs cut short ended in the log, with the error that stopped them, unless the
        # database was away for that too (then the next run on the thread closes it once this
        # process is gone).
        ended = [r for r in runs[:-1] if r.status == RunStatus.ERROR]
        assert len(ended) >= len(runs[:-1]) // 2, [r.status for r in runs]
        for record in await log.list_runs():
            assert (await log.verify_chain(record.run_id)).ok
            for event in await log.read(record.run_id, types=[EventType.TASK_ENDED]):
                if event.node in NODES and not event.payload.get("cached"):
                    ran[event.node] += 1
        assert ran == Counter(NODES)  # a node whose end was durable did not run again
        assert all(executions[n] >= 1 for n in NODES)
    finally:
        await log.aclose()
