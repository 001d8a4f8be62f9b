"""A run killed with SIGKILL resumes from its last durable checkpoint, in another process.

The killed process's finished tasks whose completion reached the log are not run again; the
final state equals an uninterrupted run's; the dead run is recognisable as orphaned, and the
resuming run closes it in the log.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from rewind import RunStatus, open_log
from rewind.events import EventType
from rewind.runtime.orphans import orphaned_runs

CHILD = Path(__file__).with_name("crash_graph.py")
FULL = "n1,n2,n3,fast,slow,n4,n5,n6"


def _run(
    db: Path, thread: str, executions: Path, *extra: str, durability: str = "sync"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHILD), str(db), thread, str(executions), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "REWIND_TEST_DURABILITY": durability},
    )


async def _completed_tasks(db: Path) -> tuple[Counter[str], list[str]]:
    store = await open_log(db)
    try:
        done: Counter[str] = Counter()
        for event in await store.read_all():
            if event.type == EventType.TASK_ENDED and event.node:
                done[event.node] += 1
        orphans = [r.run_id for r in await orphaned_runs(store)]
        return done, orphans
    finally:
        await store.aclose()


@pytest.mark.slow
@pytest.mark.faults
@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
@pytest.mark.parametrize("trial", range(2))
def test_a_killed_run_resumes_to_the_same_final_state(
    tmp_path: Path, trial: int, durability: str
) -> None:
    """Under each durability: ``sync`` has every finished step in the log; ``async`` what its
    group commits got in before the kill; ``exit`` nothing (the run is submitted again)."""
    reference = _run(tmp_path / "reference.db", "t", tmp_path / "reference.txt")
    assert reference.returncode == 0, reference.stderr
    assert reference.stdout.strip() == FULL

    db, executions = tmp_path / "crash.db", tmp_path / "executions.txt"
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(db), "t", str(executions)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "REWIND_TEST_DURABILITY": durability},
    )
    rng = random.Random(f"{durability}-{trial}")
    wanted = rng.randint(1, 6)  # executions to wait for before the kill
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines = executions.read_text().split() if executions.exists() else []
        if len(lines) >= wanted:
            break
        time.sleep(0.005)
    time.sleep(rng.uniform(0, 0.08))
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL

    durable_before, orphans = asyncio.run(_completed_tasks(db))
    if durability == "sync":
        assert len(orphans) == 1, "the killed run is recognisable as orphaned"
    else:  # its start may not have reached the log
        assert len(orphans) <= 1
    if durability == "exit":
        assert not durable_before, "nothing is durable before the run ends"

    resumed = _run(db, "t", executions, "resume", durability=durability)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == FULL

    ran = Counter(executions.read_text().split())
    print(
        f"FAULTS graph run SIGKILL ({durability}, trial {trial}): {sum(durable_before.values())} "
        "durable task ends, none run again"
    )
    for name, count in durable_before.items():
        if name != "__start__":
            assert ran[name] == count, f"{name} completed durably, yet ran {ran[name]} times"
    assert set(ran) == set(FULL.split(","))

    async def check_log() -> None:
        store = await open_log(db)
        try:
            runs = await store.list_runs(oldest_first=True)
            assert [r.status for r in runs] == [RunStatus.ERROR] * len(orphans) + [
                RunStatus.SUCCESS
            ]
            for killed in runs[:-1]:
                end = (await store.read(killed.run_id))[-1]
                assert end.payload["error"]["type"] == "ProcessDied"
            for run in runs:
                assert (await store.verify_chain(run.run_id)).ok
            assert await orphaned_runs(store) == []
        finally:
            await store.aclose()

    asyncio.run(check_log())
