"""Cancelling a run another ``rewind serve`` process runs, the two sharing one database (the
PostgreSQL server, and a SQLite file): the process running it stops it promptly, as a local
cancel does (interrupted; or rolled back, and then left out of listings on both), and the log
records it cancelled."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.errors import NotFoundError

from rewind import open_log
from rewind.events import EventType, RunStatus
from rewind.log import EventLog
from tests import pg
from tests.server.conftest import Server, start_server

pytestmark = pytest.mark.server_processes


SLOW = {"n": 40}  # 20 s of ticks: only a cancel ends it within the test
PROMPT = 2.0  # seconds a cancel may take to end a run in the other process


@dataclass
class Pair:
    """Two servers on one database, and the test's own view of the log."""

    backend: str
    runner: Server
    other: Server
    log: EventLog


@pytest.fixture(params=["postgres", "sqlite"])
async def pair(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Pair]:
    name = None
    if request.param == "sqlite":
        db = str(tmp_path / "shared.db")
    else:
        name = pg.name_for(str(tmp_path))
        db = pg.create_database(name)
    log = await open_log(db)  # made (and migrated) once, before both servers open it
    # The second --db wins over the file start_server names (its log file is named after it).
    starts = [lambda n=n: start_server(tmp_path / f"{n}.db", "--db", db) for n in ("a", "b")]
    with ThreadPoolExecutor(2) as pool:
        runner, other = await asyncio.gather(
            *(asyncio.get_running_loop().run_in_executor(pool, s) for s in starts)
        )
    try:
        yield Pair(backend=request.param, runner=runner, other=other, log=log)
    finally:
        with ThreadPoolExecutor(2) as pool:
            assert list(pool.map(Server.stop, (runner, other))) == [0, 0]
        await log.aclose()
        if name is not None:
            pg.drop_database(name)


async def _seen_running(client: Any, thread_id: str, run_id: str) -> None:
    """Wait until ``client``'s server sees the run running (in the log)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            if (await client.runs.get(thread_id, run_id))["status"] == "running":
                return
        except NotFoundError:  # not in the log yet: the other server does not know it
            pass
        assert time.monotonic() < deadline, "the run never showed as running"
        await asyncio.sleep(0.05)


async def _ended(log: EventLog, run_id: str) -> float:
    """Wait until the log says the run ended; when (monotonic)."""
    deadline = time.monotonic() + 30
    while (await log.get_run(run_id)).status == RunStatus.RUNNING:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    return time.monotonic()


async def _ended_cancelled(log: EventLog, run_id: str) -> None:
    assert (await log.get_run(run_id)).status == RunStatus.CANCELLED
    [ended] = await log.read(run_id, types=[EventType.RUN_ENDED])
    assert ended.payload["status"] == "cancelled"
    ticks = await log.read(run_id, types=[EventType.CUSTOM])
    assert 0 < len(ticks) < SLOW["n"]  # stopped midway


async def test_a_cancel_reaches_the_process_running_the_run(pair: Pair) -> None:
    runner = get_client(url=pair.runner.url, api_key=None)
    other = get_client(url=pair.other.url, api_key=None)
    other_sync = get_sync_client(url=pair.other.url, api_key=None)
    try:
        # One run, interrupted through the other server (waiting for its end).
        tid = (await runner.threads.create())["thread_id"]
        run_id = (await runner.runs.create(tid, "slow", input=SLOW))["run_id"]
        await _seen_running(other, tid, run_id)
        asked = time.monotonic()
        await other.runs.cancel(tid, run_id, wait=True)
        took = time.monotonic() - asked
        assert took < PROMPT
        assert (await runner.runs.get(tid, run_id))["status"] == "interrupted"
        assert (await other.runs.get(tid, run_id))["status"] == "interrupted"
        await _ended_cancelled(pair.log, run_id)

        # Rolled back in bulk through the other server: hidden on both.
        tid2 = (await runner.threads.create())["thread_id"]
        rolled = (await runner.runs.create(tid2, "slow", input=SLOW))["run_id"]
        await _seen_running(other, tid2, rolled)
        asked = time.monotonic()
        other_sync.runs.cancel_many(thread_id=tid2, run_ids=[rolled], action="rollback")
        took_rollback = await _ended(pair.log, rolled) - asked
        assert took_rollback < PROMPT
        await _ended_cancelled(pair.log, rolled)
        for client in (runner, other):
            assert await client.runs.list(tid2) == []
            with pytest.raises(NotFoundError, match=rolled):
                await client.runs.get(tid2, rolled)

        # Every running run, through the other server: the runner's is among them.
        tid3 = (await runner.threads.create())["thread_id"]
        third = (await runner.runs.create(tid3, "slow", input=SLOW))["run_id"]
        await _seen_running(other, tid3, third)
        asked = time.monotonic()
        await other.runs.cancel_many(status="running")
        took_bulk = await _ended(pair.log, third) - asked
        assert took_bulk < PROMPT
        await _ended_cancelled(pair.log, third)
        assert (await runner.runs.get(tid3, third))["status"] == "interrupted"
        print(
            f"CANCEL_ACROSS {pair.backend}: interrupt {took * 1000:.0f} ms, "
            f"rollback {took_rollback * 1000:.0f} ms, by status {took_bulk * 1000:.0f} ms"
        )
    finally:
        await runner.aclose()
        await other.aclose()
        other_sync.close()


async def test_deleting_a_thread_stops_its_run_in_the_other_process_and_its_crons(
    pair: Pair,
) -> None:
    runner = get_client(url=pair.runner.url, api_key=None)
    other = get_client(url=pair.other.url, api_key=None)
    try:
        tid = (await runner.threads.create())["thread_id"]
        run_id = (await runner.runs.create(tid, "slow", input=SLOW))["run_id"]
        cron = await runner.crons.create_for_thread(tid, "slow", schedule="0 0 1 1 *")
        await _seen_running(other, tid, run_id)
        asked = time.monotonic()
        await other.threads.delete(tid)
        took = time.monotonic() - asked
        assert took < PROMPT  # the delete waited for the run to stop, no longer
        with pytest.raises(KeyError):  # stopped, then deleted with the thread
            await pair.log.get_run(run_id)
        for client in (runner, other):
            with pytest.raises(NotFoundError, match=tid):
                await client.threads.get(tid)
            assert await client.crons.search(thread_id=tid) == []
        assert cron["cron_id"] not in {c["cron_id"] for c in await runner.crons.search()}
        print(f"DELETE_ACROSS {pair.backend}: {took * 1000:.0f} ms")
    finally:
        await runner.aclose()
        await other.aclose()
