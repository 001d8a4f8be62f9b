"""PostgreSQL connections dropped under a writer (the server ends them, as a restart or a
network cut does): an append in flight fails with an error, or gets in; nothing acknowledged is
lost; the next appends get in over new connections; chains verify."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from rewind import NewEvent, open_log
from rewind.errors import ConcurrencyError, LogError
from rewind.events import EventType, run_started
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
    print(f"{sum(cuts)} connections cut, {refused} appends refused")
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
