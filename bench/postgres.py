"""rewind on PostgreSQL: the cost of a super-step against LangGraph's ``PostgresSaver`` on the
same server, and how soon another process's subscriber sees an append.

1. Per step: a 10-node linear graph of trivial nodes (as ``bench/steps.py``'s ``linear``),
   invoked from sync code, each invoke on a new thread; rewind with its ``PostgresSaver``
   (default durability) against LangGraph's ``PostgresSaver``
   (``langgraph-checkpoint-postgres``, default durability), each on a database of its own on
   the same server. The two take turns in rounds after a warm-up; the figure is the median
   invoke time divided by the 10 steps. Goal: rewind <= 1.0x LangGraph.
2. Append to subscriber, across processes: a child process appends events one by one
   (``sync`` durability), each carrying the time it was appended; this process, subscribed to
   the whole log (its store learns of commits through ``LISTEN``/``NOTIFY``), notes when each
   arrives. Figure: the p99 of arrival minus append time. Goal: <= 50 ms.

Not measured yet: runs/s with 1, 2 and 4 workers (workers are not built yet).

The server is the one on 127.0.0.1:5432 (``REWIND_BENCH_POSTGRES`` names another maintenance
database URL); its databases are made for the run and dropped after it.

    python bench/postgres.py [--invokes 60] [--rounds 4] [--events 400] [--quick]
        [--summary FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import operator
import os
import statistics
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, TypedDict
from urllib.parse import urlsplit, urlunsplit

import psycopg
from langgraph.checkpoint.postgres import PostgresSaver as LangGraphPostgresSaver
from langgraph.graph import END as LG_END
from langgraph.graph import START as LG_START
from langgraph.graph import StateGraph as LangGraphStateGraph

from rewind import open_log
from rewind.checkpoint.postgres import PostgresSaver
from rewind.graph import END, START, StateGraph
from summary import Row, write_rows

SERVER = os.environ.get("REWIND_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
STEPS = 10
STEP_GOAL = 1.0
LATENCY_GOAL_MS = 50.0


class State(TypedDict, total=False):
    x: int
    hits: Annotated[list[int], operator.add]


def build(state_graph: Any, start: str, end: str) -> Any:
    builder = state_graph(State)
    for i in range(STEPS):
        builder.add_node(f"n{i}", lambda state, i=i: {"x": i, "hits": [i]})
    builder.add_edge(start, "n0")
    for i in range(STEPS - 1):
        builder.add_edge(f"n{i}", f"n{i + 1}")
    builder.add_edge(f"n{STEPS - 1}", end)
    return builder


def url_of(database: str) -> str:
    parts = urlsplit(SERVER)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


@contextlib.contextmanager
def database() -> Iterator[str]:
    name = f"rewind_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url_of(name)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def per_step(invokes: int, rounds: int, warmup: int) -> tuple[float, float]:
    """Median µs per step: (rewind, LangGraph)."""
    with (
        database() as ours,
        database() as theirs,
        PostgresSaver.from_conn_string(ours) as saver,
        LangGraphPostgresSaver.from_conn_string(theirs) as peer,
    ):
        peer.setup()
        saver.setup()
        graphs = {
            "rewind": build(StateGraph, START, END).compile(checkpointer=saver),
            "langgraph": build(LangGraphStateGraph, LG_START, LG_END).compile(checkpointer=peer),
        }
        times: dict[str, list[float]] = {name: [] for name in graphs}

        def invoke(name: str) -> float:
            config = {"configurable": {"thread_id": str(uuid.uuid4())}}
            started = time.perf_counter()
            graphs[name].invoke({"x": 0, "hits": []}, config)
            return time.perf_counter() - started

        for name in graphs:
            for _ in range(warmup):
                invoke(name)
        order = list(graphs)
        for turn in range(rounds):
            for name in order[turn % 2 :] + order[: turn % 2]:
                times[name] += [invoke(name) for _ in range(invokes)]
    return tuple(statistics.median(times[n]) / STEPS * 1e6 for n in ("rewind", "langgraph"))  # type: ignore[return-value]


CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from rewind import NewEvent, open_log, run_started

    async def main(url, events):
        log = await open_log(url)
        await log.append("bench", [run_started(thread_id="bench")], expected_seq=0,
                         durability="sync")
        await asyncio.sleep(0.5)  # the subscriber is listening
        for seq in range(1, events + 1):
            event = NewEvent(type="custom", payload={"sent": time.time()})
            await log.append("bench", [event], expected_seq=seq, durability="sync")
            await asyncio.sleep(0.002)
        await log.aclose()

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
)


async def latency(url: str, events: int) -> list[float]:
    """Milliseconds from each append in another process to its arrival here."""
    log = await open_log(url)
    delays: list[float] = []
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", CHILD, url, str(events))
    try:
        async for event in log.subscribe():
            if event.type != "custom":
                continue
            delays.append((time.time() - event.payload["sent"]) * 1e3)
            if len(delays) == events:
                break
    finally:
        await child.wait()
        await log.aclose()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invokes", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--summary")
    args = parser.parse_args()
    if args.quick:
        args.invokes, args.rounds, args.warmup, args.events = 20, 2, 3, 100
    try:
        with psycopg.connect(SERVER, connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        raise SystemExit(f"no PostgreSQL server at {SERVER}: {exc}") from None

    ours, theirs = per_step(args.invokes, args.rounds, args.warmup)
    ratio = ours / theirs
    print(f"10-node linear graph, {args.invokes * args.rounds} invokes each (median):")
    print(f"  rewind PostgresSaver      {ours:8.0f} µs per step")
    print(f"  LangGraph PostgresSaver   {theirs:8.0f} µs per step")
    print(
        f"ratio rewind / LangGraph: {ratio:.2f} (goal <= {STEP_GOAL}: "
        f"{'met' if ratio <= STEP_GOAL else 'NOT met'})"
    )

    with database() as url:
        delays = asyncio.run(latency(url, args.events))
    delays.sort()
    p50 = delays[len(delays) // 2]
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    print(
        f"append in another process to subscriber, {len(delays)} events: p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms (goal p99 <= {LATENCY_GOAL_MS:.0f} ms: "
        f"{'met' if p99 <= LATENCY_GOAL_MS else 'NOT met'})"
    )
    print("not measured yet: runs/s with 1, 2 and 4 workers (no workers yet)")
    write_rows(
        args.summary,
        [
            Row(
                "postgres",
                "cost per super-step, PostgreSQL, 10-node graph",
                "µs",
                ours,
                STEP_GOAL,
                "ratio_max",
                theirs,
                "LangGraph PostgresSaver",
            ),
            Row(
                "postgres",
                "p99 append to subscriber in another process",
                "ms",
                p99,
                LATENCY_GOAL_MS,
                "max",
            ),
        ],
    )


if __name__ == "__main__":
    main()
