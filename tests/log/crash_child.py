"""Child process of ``test_crash.py``: appends to a SQLite store until it is killed.

Usage: ``python crash_child.py DB_PATH TRIAL SEED``

It prints ``{"ready": true}`` once the store is open, then appends in a loop to several runs
(sync appends, async appends followed by ``flush()``, concurrent sync appends sharing a group
commit; batches of 1-5 events; payloads from a few bytes to a few KB; runs ending and new runs
starting). After every append it knows to be durable it prints one JSON line
``{"run": RUN_ID, "seq": LAST_DURABLE_SEQ, "ended": BOOL}`` and flushes stdout.

Every event is a function of its run and seq (see :func:`expected_event`), so the parent can
check the payload of every event it finds, reported or not. On start it continues the runs a
killed predecessor left running, so recovery after a crash is exercised too.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sys
from typing import Any

ENDED_STATUS = "success"


def thread_for(run_id: str) -> str:
    """The thread a run belongs to (a few runs share each thread)."""
    return f"th-{int(hashlib.sha256(run_id.encode()).hexdigest(), 16) % 3}"


def payload_for(run_id: str, seq: int) -> Any:
    """The payload of the ``custom`` event at ``seq`` of ``run_id``: sizes from 1 B to ~4 KB."""
    digest = hashlib.sha256(f"{run_id}/{seq}".encode()).hexdigest()
    kind = int(digest[:2], 16) % 5
    if kind == 0:
        return seq
    if kind == 1:
        return {"run": run_id, "seq": seq, "tag": digest[:8]}
    if kind == 2:  # ~1 KB
        return {"run": run_id, "seq": seq, "blob": (digest * 16)[: 1000 + seq % 50]}
    if kind == 3:
        return [seq, digest[:16], {"nested": [1, 2.5, None, True]}, "é✓"]
    return {"run": run_id, "seq": seq, "big": digest * 64}  # ~4 KB


def expected_event(run_id: str, seq: int, *, ended: bool) -> tuple[str, Any]:
    """(type, payload) of the event at ``seq``; ``ended``: it is the run's last event."""
    if seq == 0:
        return "run.started", {"thread_id": thread_for(run_id), "graph": None}
    if ended:
        return "run.ended", {"status": ENDED_STATUS}
    return "custom", payload_for(run_id, seq)


def report(run_id: str, seq: int, ended: bool) -> None:
    sys.stdout.write(json.dumps({"run": run_id, "seq": seq, "ended": ended}) + "\n")
    sys.stdout.flush()


async def main(db: str, trial: int, seed: int) -> None:
    from rewind import NewEvent, RunStatus, open_log, run_ended, run_started

    rng = random.Random(seed)
    store = await open_log(db, durability="async")
    # Runs a killed predecessor left running: carry on with them.
    next_seq: dict[str, int] = {r.run_id: r.last_seq + 1 for r in await store.list_runs()}
    active = [r.run_id for r in await store.list_runs(status="running")]
    sys.stdout.write(json.dumps({"ready": True, "continued": sorted(active)}) + "\n")
    sys.stdout.flush()

    counter = 0

    def batch_for(run_id: str, size: int, end: bool) -> list[NewEvent]:
        first = next_seq.get(run_id, 0)
        batch = []
        for seq in range(first, first + size):
            last = seq == first + size - 1
            type_, payload = expected_event(run_id, seq, ended=end and last)
            if type_ == "run.started":
                batch.append(run_started(thread_id=payload["thread_id"]))
            elif type_ == "run.ended":
                batch.append(run_ended(RunStatus(ENDED_STATUS)))
            else:
                batch.append(NewEvent(type=type_, payload=payload))
        return batch

    def pick_run() -> str:
        nonlocal counter
        if len(active) < 2 or (len(active) < 5 and rng.random() < 0.1):
            counter += 1
            run_id = f"t{trial}-r{counter}"
            active.append(run_id)
            return run_id
        return rng.choice(active)

    def plan(run_id: str) -> tuple[list[NewEvent], int, bool]:
        first = next_seq.get(run_id, 0)
        size = rng.randint(1, 5)
        end = first + size > 1 and rng.random() < 0.02
        batch = batch_for(run_id, size, end)
        next_seq[run_id] = first + size
        if end:
            active.remove(run_id)
        return batch, first + size - 1, end

    while True:
        mode = rng.random()
        if mode < 0.4:  # one sync append
            run_id = pick_run()
            batch, last, end = plan(run_id)
            await store.append(run_id, batch, expected_seq=last + 1 - len(batch), durability="sync")
            report(run_id, last, end)
        elif mode < 0.6:  # concurrent sync appends to different runs: one group commit
            chosen: list[str] = []
            for _ in range(rng.randint(2, 4)):
                run_id = pick_run()
                if run_id not in chosen:
                    chosen.append(run_id)
            planned = [(run_id, *plan(run_id)) for run_id in chosen]

            async def one(run_id: str, batch: list[NewEvent], last: int, end: bool) -> None:
                await store.append(
                    run_id, batch, expected_seq=last + 1 - len(batch), durability="sync"
                )
                report(run_id, last, end)

            await asyncio.gather(*(one(*p) for p in planned))
        else:  # async appends, then flush
            pending: dict[str, tuple[int, bool]] = {}
            for _ in range(rng.randint(1, 6)):
                run_id = pick_run()
                batch, last, end = plan(run_id)
                await store.append(run_id, batch, expected_seq=last + 1 - len(batch))
                pending[run_id] = (last, end)
            await store.flush()
            for run_id, (last, end) in pending.items():
                report(run_id, last, end)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
