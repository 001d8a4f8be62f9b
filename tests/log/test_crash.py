"""Crash safety: a writer killed with SIGKILL at a random moment loses nothing it acknowledged.

A child process (``crash_child.py``) appends to a SQLite store in a loop — sync appends, async
appends followed by ``flush()``, concurrent sync appends sharing one group commit, batches of 1-5
events, payloads up to ~4 KB, runs ending and new ones starting — and prints a line for every
append it knows to be durable. The parent kills it at a random moment, reopens the file and
checks that the log is whole: it opens, every run's seqs are gapless, every hash chain holds,
the run index agrees with the events, every event is the one the child wrote at that seq, and
everything reported durable is there.

Trials come in pairs: the first on a fresh file, the second continuing on the file the first
crash left (its child carries on with the runs left running), so recovery is tested too.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from rewind import NewEvent, RunStatus, open_log

CHILD = Path(__file__).with_name("crash_child.py")
_spec = importlib.util.spec_from_file_location("rewind_tests_crash_child", CHILD)
assert _spec is not None and _spec.loader is not None
child = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(child)

SEED = 20_240_611
PAIRS = 11  # 22 kills
READY_TIMEOUT = 60.0

Durable = dict[str, tuple[int, bool]]
"""run_id -> (highest seq reported durable, whether that event ended the run)."""


def _run_and_kill(db: Path, trial: int, seed: int, delay: float, log: Path) -> dict[str, Any]:
    """Start the child on ``db``, SIGKILL it ``delay`` s after it is ready; what it reported."""
    durable: Durable = {}
    info: dict[str, Any] = {"durable": durable, "reports": 0, "continued": []}
    ready = threading.Event()
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(db), str(trial), str(seed)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                if not line.endswith("\n"):
                    break  # cut short by the kill: not a report
                msg = json.loads(line)
                if msg.get("ready"):
                    info["continued"] = msg["continued"]
                    ready.set()
                    continue
                info["reports"] += 1
                seq, ended = durable.get(msg["run"], (-1, False))
                durable[msg["run"]] = (max(seq, msg["seq"]), ended or msg["ended"])

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            ready.wait(READY_TIMEOUT)
            if ready.is_set():
                time.sleep(delay)
            alive = proc.poll() is None
        finally:
            proc.kill()  # SIGKILL
            proc.wait()
            reader.join(10)
            assert proc.stdout is not None
            proc.stdout.close()
    assert ready.is_set(), f"child never got ready:\n{log.read_text()}"
    assert alive, f"child died before the kill:\n{log.read_text()}"
    assert proc.returncode == -9
    assert not reader.is_alive()
    return info


async def _check(db: Path, durable: Durable) -> dict[str, Any]:
    """Reopen ``db`` after a crash and check the whole log; returns counts."""
    store = await open_log(db)
    try:
        runs = await store.list_runs()
        by_id = {r.run_id: r for r in runs}
        assert len(by_id) == len(runs)
        log = await store.read_all()
        positions = [e.position for e in log]
        assert positions == sorted(set(positions)), "positions not unique and increasing"
        assert await store.head() >= (positions[-1] if positions else 0)
        in_log = {(e.run_id, e.seq): e for e in log}
        assert len(in_log) == len(log), "a (run, seq) appears twice in the log"

        total = 0
        for run in runs:
            events = await store.read(run.run_id)
            n = len(events)
            total += n
            assert n > 0, f"run {run.run_id} is indexed but has no events"
            assert [e.seq for e in events] == list(range(n)), f"seqs of {run.run_id} have gaps"
            report = await store.verify_chain(run.run_id)
            assert report.ok, report
            assert report.checked == n
            # The run index agrees with the events.
            assert run.last_seq == n - 1
            assert run.first_position == events[0].position
            assert run.last_position == events[-1].position
            ended = run.status is not RunStatus.RUNNING
            assert (events[-1].type == "run.ended") == ended, (run, events[-1])
            # Every event is the one the child wrote at that seq, reported durable or not.
            for e in events:
                assert e.run_id == run.run_id
                assert e.thread_id == child.thread_for(run.run_id) == run.thread_id
                type_, payload = child.expected_event(
                    run.run_id, e.seq, ended=ended and e.seq == n - 1
                )
                assert (e.type, e.payload) == (type_, payload), (run.run_id, e.seq)
                same = in_log[(run.run_id, e.seq)]
                assert (same.position, same.hash) == (e.position, e.hash)
        assert total == len(log), "read_all and read(run) disagree"

        # Everything acknowledged as durable survived the kill.
        for run_id, (seq, ended) in durable.items():
            assert run_id in by_id, f"run {run_id} reported durable up to seq {seq} is gone"
            assert by_id[run_id].last_seq >= seq, (run_id, seq, by_id[run_id].last_seq)
            if ended:
                assert by_id[run_id].status is not RunStatus.RUNNING
                assert by_id[run_id].last_seq == seq

        # The recovered store takes appends: add the next expected event to a running run.
        running = [r for r in runs if r.status is RunStatus.RUNNING]
        if running:
            run = running[0]
            seq = run.last_seq + 1
            res = await store.append(
                run.run_id,
                [NewEvent(type="custom", payload=child.payload_for(run.run_id, seq))],
                expected_seq=seq,
                durability="sync",
            )
            assert res.seqs == range(seq, seq + 1)
            assert res.positions is not None
            assert res.positions[0] > (positions[-1] if positions else 0)
            assert (await store.verify_chain(run.run_id)).ok
        return {"runs": len(runs), "events": total, "running": sorted(r.run_id for r in running)}
    finally:
        await store.aclose()


@pytest.mark.faults
@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("pair", range(PAIRS))
def test_sigkill_loses_nothing_acknowledged(tmp_path: Path, pair: int) -> None:
    rng = random.Random(SEED * 1000 + pair)
    db = tmp_path / "crash.db"
    durable: Durable = {}
    left_running: list[str] = []
    for step in range(2):  # a fresh file, then the same file after the first crash
        trial = pair * 2 + step
        delay = rng.uniform(0.2, 1.0)
        info = _run_and_kill(db, trial, rng.randrange(2**32), delay, tmp_path / f"child{trial}.log")
        assert info["reports"] > 0, f"child reported nothing in {delay:.2f}s"
        for run_id, (seq, ended) in info["durable"].items():
            old_seq, old_ended = durable.get(run_id, (-1, False))
            durable[run_id] = (max(seq, old_seq), ended or old_ended)
        # The second child found the runs the first left running and carried on with them.
        assert info["continued"] == left_running
        counts = asyncio.run(_check(db, durable))
        left_running = counts["running"]
        acknowledged = sum(seq + 1 for seq, _ in durable.values())
        assert counts["events"] >= acknowledged
        print(f"FAULTS writer SIGKILL trial {trial}: acknowledged {acknowledged} events, lost 0")
