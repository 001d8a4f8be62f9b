"""Conflicts between stores on one database (two processes, as far as the log can tell): a
writer that re-reads the run gets in; a stale one hears where the run really is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from rewind import open_log
from rewind.errors import ConcurrencyError
from rewind.log import EventLog
from tests import pg
from tests.log.contract import custom, start_run


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "shared.db")
        return
    name = pg.name_for(str(tmp_path))
    pg.drop_database(name)
    yield pg.create_database(name)
    pg.drop_database(name)


@pytest.fixture
async def stores(url: str) -> AsyncIterator[tuple[EventLog, EventLog]]:
    a, b = await open_log(url), await open_log(url)
    yield a, b
    await a.aclose()
    await b.aclose()


async def test_a_writer_that_re_reads_the_run_gets_in(stores: tuple[EventLog, EventLog]) -> None:
    a, b = stores
    await start_run(a, "r")
    await a.append("r", [custom(1)], expected_seq=1, durability="sync")
    await b.append("r", [custom("b")], expected_seq=2, durability="sync")
    last = (await a.get_run("r")).last_seq  # a re-reads the run: seq 2 is b's
    assert last == 2
    await a.append("r", [custom(2)], expected_seq=last + 1, durability="sync")
    with pytest.raises(ConcurrencyError) as stale:  # b did not re-read
        await b.append("r", [custom("late")], expected_seq=3, durability="sync")
    assert (stale.value.expected_seq, stale.value.actual_seq) == (3, 4)  # the real position
    assert "at seq 4" in str(stale.value)
    assert [e.payload for e in await b.read("r")][1:] == [1, "b", 2]
    assert (await b.verify_chain("r")).ok


@pytest.mark.faults
async def test_concurrent_writers_of_one_run_all_make_progress(url: str) -> None:
    stores = [await open_log(url) for _ in range(4)]
    try:
        await start_run(stores[0], "r")
        wins = [0] * len(stores)

        async def write(i: int) -> None:
            store = stores[i]
            while wins[i] < 10:
                last = (await store.get_run("r")).last_seq
                try:
                    await store.append("r", [custom(i)], expected_seq=last + 1, durability="sync")
                except ConcurrencyError:
                    await asyncio.sleep(0)
                    continue
                wins[i] += 1

        await asyncio.wait_for(asyncio.gather(*(write(i) for i in range(len(stores)))), 60)
        events = await stores[0].read("r")
        assert [e.seq for e in events] == list(range(len(events)))  # gapless
        assert sorted(e.payload for e in events[1:]) == sorted([i for i in range(4)] * 10)
        assert (await stores[0].verify_chain("r")).ok
        print(f"FAULTS 4 appenders on one run: {len(events) - 1} appends, each once, gapless")
    finally:
        for store in stores:
            await store.aclose()
