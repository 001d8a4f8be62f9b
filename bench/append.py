"""Append throughput of the event log against raw sqlite3 executemany, in one process.

Many concurrent runs append events of realistic sizes (90% ~100-byte tokens, 10% ~1 KB state
writes), one event per append as a runtime does, through rewind's store. The same rows, JSON-
encoded the same way, are then inserted with the standard library's sqlite3 ``executemany`` into
the same table (same pragmas, same unique index). The last line is the throughput ratio.

Then durable appends: 1 and 50 concurrent appenders append one event at a time to a store in
``sync`` durability for a few seconds; goal at 50 appenders: at least 5,000 appends/s. With
``--summary FILE`` that goal is also appended to FILE as a row of the summary table
(``bench/summary.py``). ``--quick`` shrinks the sizes (20,000 events, one repeat, one second per
durable phase).

    python bench/append.py [--events 100000] [--runs 50] [--quick] [--summary FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rewind import LogOptions, NewEvent, open_log, run_ended, run_started
from rewind.events import EventType, RunStatus
from rewind.log import open_sqlite
from summary import Row, write_rows

SYNC_GOAL = 5_000
"""Durable appends/s with 50 concurrent ``sync`` appenders, at least."""


def make_payloads(n: int, seed: int = 7) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(seed)
    out: list[tuple[str, dict[str, Any]]] = []
    for i in range(n):
        if rng.random() < 0.9:
            text = "".join(rng.choices("abcdefghij klmnop", k=60))
            out.append((EventType.CHAT_TOKEN, {"chunk": text, "index": i}))
        else:
            text = "".join(rng.choices("abcdefghij klmnop", k=950))
            out.append((EventType.STATE_WRITE, {"channel": "notes", "value": text}))
    return out


async def rewind_async(
    path: Path,
    payloads: list[tuple[str, dict[str, Any]]],
    runs: int,
    durability: str,
    yield_every: int,
    core: bool = False,
) -> float:
    """Events/s through the store, ``runs`` concurrent appenders, one event per append.

    Each appender hands the loop over every ``yield_every`` appends, as a run streaming tokens
    does when it waits for the next chunk from its model; with 1 the harness's own task switch
    per event is counted against the store.
    """
    store = await open_sqlite(
        path,
        options=LogOptions(durability=durability),  # type: ignore[arg-type]
        core_writes=core,
    )
    per_run = len(payloads) // runs

    async def one_run(r: int) -> None:
        run_id = f"run-{durability}-{r}"
        await store.append(run_id, [run_started(thread_id=f"t{r}", graph="bench")], expected_seq=0)
        chunk = payloads[r * per_run : (r + 1) * per_run]
        for i, (type_, payload) in enumerate(chunk):
            await store.append(
                run_id,
                [NewEvent(type=type_, payload=payload, step=1, node="agent")],
                expected_seq=i + 1,
            )
            if i % yield_every == 0:
                await asyncio.sleep(0)
        await store.append(run_id, [run_ended(RunStatus.SUCCESS)], expected_seq=per_run + 1)

    start = time.perf_counter()
    await asyncio.gather(*(one_run(r) for r in range(runs)))
    await store.flush()
    elapsed = time.perf_counter() - start
    await store.aclose()
    return (per_run + 2) * runs / elapsed


def sqlite3_peer(
    path: Path,
    schema_from: Path,
    payloads: list[tuple[str, dict[str, Any]]],
    runs: int,
    batch: int = 1000,
) -> float:
    """Events/s for the same rows with sqlite3 executemany, same pragmas and index."""
    src = sqlite3.connect(schema_from)
    ddl = [
        r[0]
        for r in src.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name='events' AND sql IS NOT NULL"
        )
    ]
    src.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    for statement in ddl:
        conn.execute(statement)
    per_run = len(payloads) // runs
    digest = bytes(32)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    sql = (
        "INSERT INTO events (position, run_key, seq, type, ts, step, ns, node, task_id, codec,"
        " payload, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    start = time.perf_counter()
    rows = []
    position = 0
    # Interleave runs as concurrent appenders would: event i of every run, then i+1, ...
    for i in range(per_run):
        for r in range(runs):
            type_, payload = payloads[r * per_run + i]
            position += 1
            ts = to_micros_now()
            rows.append(
                (position, r + 1, i, type_, ts, 1, None, "agent", None, 1, dumps(payload), digest)
            )
            if len(rows) >= batch:
                conn.execute("BEGIN")
                conn.executemany(sql, rows)
                conn.execute("COMMIT")
                rows = []
    if rows:
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return per_run * runs / elapsed


def to_micros_now() -> int:
    return time.time_ns() // 1000


async def sync_appends(path: Path, appenders: int, seconds: float) -> float:
    """Durable appends/s with ``appenders`` concurrent ``sync`` appenders."""
    store = await open_log(path, durability="sync")
    stop = time.perf_counter() + seconds
    counts = [0] * appenders

    async def appender(a: int) -> None:
        run_id = f"sync-{appenders}-{a}"
        await store.append(run_id, [run_started(thread_id=run_id)], expected_seq=0)
        seq = 1
        while time.perf_counter() < stop:
            await store.append(
                run_id, [NewEvent(type=EventType.CUSTOM, payload={"n": seq})], expected_seq=seq
            )
            seq += 1
            counts[a] += 1

    start = time.perf_counter()
    await asyncio.gather(*(appender(a) for a in range(appenders)))
    elapsed = time.perf_counter() - start
    await store.aclose()
    return sum(counts) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--yield-every",
        type=int,
        default=8,
        help="appends between an appender's yields to the loop",
    )
    parser.add_argument("--sync-seconds", type=float, default=3.0)
    parser.add_argument(
        "--quick", action="store_true", help="20,000 events, one repeat, 1 s per sync phase"
    )
    parser.add_argument("--summary", help="append the summary rows to this file (JSON lines)")
    args = parser.parse_args()
    if args.quick:
        args.events, args.repeat, args.sync_seconds = 20_000, 1, 1.0
    payloads = make_payloads(args.events)
    tmp = Path(tempfile.mkdtemp(prefix="rewind-bench-"))
    ours, core, per_event, peer = [], [], [], []

    def go(name: str, k: int, yield_every: int, use_core: bool = False) -> float:
        path = tmp / f"{name}-{k}.db"
        return asyncio.run(rewind_async(path, payloads, args.runs, "async", yield_every, use_core))

    for k in range(args.repeat):
        ours.append(go("rewind", k, args.yield_every))
        core.append(go("core", k, args.yield_every, use_core=True))
        per_event.append(go("yield1", k, 1))
        peer.append(sqlite3_peer(tmp / f"peer-{k}.db", tmp / "rewind-0.db", payloads, args.runs))
    sync_1 = asyncio.run(sync_appends(tmp / "sync-1.db", 1, args.sync_seconds))
    sync_50 = asyncio.run(sync_appends(tmp / "sync-50.db", 50, args.sync_seconds))
    r, p = statistics.median(ours), statistics.median(peer)
    print(
        f"events: {args.events:,} from {args.runs} concurrent runs, one event per append, "
        f"median of {args.repeat}"
    )
    print(
        f"rewind async, driver writer thread:  {r:>10,.0f} events/s  "
        f"(appenders yield every {args.yield_every} appends)"
    )
    print(f"rewind async, SQLAlchemy Core path:  {statistics.median(core):>10,.0f} events/s")
    print(f"rewind async, yield on every append: {statistics.median(per_event):>10,.0f} events/s")
    print(f"sqlite3 executemany, 1000 rows/tx:   {p:>10,.0f} events/s")
    print(f"rewind sync, 1 appender:             {sync_1:>10,.0f} durable appends/s")
    print(
        f"rewind sync, 50 appenders:           {sync_50:>10,.0f} durable appends/s (goal >= 5,000)"
    )
    print(f"ratio rewind/sqlite3: {r / p:.2f}")
    figure = "sync durable appends, 50 concurrent appenders"
    write_rows(args.summary, [Row("append", figure, "appends/s", sync_50, SYNC_GOAL, "min")])


if __name__ == "__main__":
    main()
