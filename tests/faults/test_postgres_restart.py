"""A PostgreSQL server restarted under a writer and under a graph run. The server is one of the
test's own (from the ``pgserver`` wheel, a dev dependency), so restarting it disturbs no one:
while it is down, appends are refused with ``LogError``; once it is back, they get in again,
each once, nothing acknowledged lost; the run cut short is invoked again and resumes to its end."""

from __future__ import annotations

import asyncio
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rewind import NewEvent, open_log
from rewind.checkpoint.postgres.aio import AsyncPostgresSaver
from rewind.errors import ConcurrencyError, LogError
from rewind.events import EventType, run_started
from tests.faults.test_postgres_connections import NODES, _steps_graph


class PrivateServer:
    """A PostgreSQL server of this test's own, in ``home``."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.server: Any = None
        self.start()
        self.url = str(self.server.get_uri())

    def start(self) -> None:
        with warnings.catch_warnings():  # (it warns when XDG_RUNTIME_DIR is not set)
            warnings.simplefilter("ignore")
            import pgserver  # type: ignore[import-untyped]

            self.server = pgserver.get_server(self.home, cleanup_mode="stop")

    def stop(self) -> None:
        self.server.cleanup()


@pytest.fixture
def private() -> Iterator[PrivateServer]:
    home = Path(tempfile.mkdtemp(prefix="rewind-pg-restart-"))
    server = PrivateServer(home)
    yield server
    server.stop()


async def _restart(private: PrivateServer, down: float) -> None:
    await asyncio.to_thread(private.stop)
    await asyncio.sleep(down)
    await asyncio.to_thread(private.start)


@pytest.mark.faults
@pytest.mark.timeout(300)
async def test_a_restarted_server_loses_nothing_acknowledged(private: PrivateServer) -> None:
    log = await open_log(private.url, durability="sync")
    refused: list[str] = []
    acknowledged: list[int] = []
    try:
        await log.append("r", [run_started(thread_id="t", graph="g")], expected_seq=0)
        seq, restart = 1, None
        while seq <= 120:
            if seq == 60 and restart is None:
                restart = asyncio.ensure_future(_restart(private, 0.5))
                await asyncio.sleep(0.05)  # (down by now)
            event = NewEvent(type=EventType.CUSTOM, payload={"n": seq})
            try:
                await log.append("r", [event], expected_seq=seq)
            except ConcurrencyError:  # in, though its answer was lost
                pass
            except LogError as exc:  # down: the same append again
                refused.append(str(exc))
                assert len(refused) < 2000, "appends do not get in after the restart"
                await asyncio.sleep(0.02)
                continue
            else:
                acknowledged.append(seq)
            seq += 1
        assert restart is not None
        await restart
        assert refused and all("could not" in r for r in refused)
        events = await log.read("r")
        assert [e.seq for e in events] == list(range(121))
        assert [e.payload["n"] for e in events[1:]] == list(range(1, 121))
        assert set(acknowledged) <= set(range(121))
        assert (await log.verify_chain("r")).ok
    finally:
        await log.aclose()

    # A graph run cut short by a restart resumes to its end, no durable node run again.
    executions: Counter[str] = Counter()
    async with AsyncPostgresSaver.from_conn_string(private.url) as saver:
        await saver.setup()
        graph = _steps_graph(saver, executions)
        config = {"configurable": {"thread_id": "g"}}
        cut = asyncio.ensure_future(asyncio.sleep(0.1))
        cut.add_done_callback(lambda _: asyncio.ensure_future(_restart(private, 0.3)))
        given: Any = {"log": []}
        failures = []
        for _ in range(200):
            try:
                result = await graph.ainvoke(given, config, durability="sync")
                break
            except LogError as exc:
                failures.append(exc)
                given = None
                await asyncio.sleep(0.05)
        else:
            pytest.fail(f"the run never got to its end: {failures[-3:]}")
    assert failures, "the restart cut the run short"
    assert result["log"] == NODES
    print(f"FAULTS PostgreSQL restarts: 2; {len(acknowledged)} appends acknowledged, lost 0")
    log = await open_log(private.url)
    try:
        ran: Counter[str] = Counter()
        for record in await log.list_runs(thread_id="g"):
            assert (await log.verify_chain(record.run_id)).ok
            for event in await log.read(record.run_id, types=[EventType.TASK_ENDED]):
                if event.node in NODES and not event.payload.get("cached"):
                    ran[event.node] += 1
        assert ran == Counter(NODES)
    finally:
        await log.aclose()
