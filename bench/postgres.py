"""rewind on PostgreSQL: the cost of a super-step against LangGraph's ``PostgresSaver`` on the
same server, how soon another process's subscriber sees an append, and how the runs/s of
``rewind worker`` processes grow with their number.

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

3. Runs/s with 1, 2 and 4 worker processes, on an I/O-bound workload: 200 queued runs of a
   5-node graph whose nodes each await 50 ms (as model calls do), each run on a thread of its
   own. For each number of workers, on a fresh database: the workers (``rewind worker``, each
   with ``--jobs 2``) start and say they are ready; the runs are queued in one transaction; the
   clock starts once it committed and stops when every run's row is final (all must end
   ``success``). ``--jobs 2`` keeps one worker from saturating the workload by itself (with
   many runs at once per worker, one worker would already wait on the nodes' sleeps alone and
   the figure would not show what more workers give). Goal: 4 workers >= 3x one.

The server is the one on 127.0.0.1:5432 (``REWIND_BENCH_POSTGRES`` names another maintenance
database URL); its databases are made for the run and dropped after it.

    python bench/postgres.py [--invokes 60] [--rounds 4] [--events 400] [--worker-runs 200]
        [--quick] [--summary FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import operator
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
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
from rewind.log.schema import run_queue
from rewind.server.queue import FINAL, QueuedRun, RunQueue, now_us
from summary import Row, write_rows

SERVER = os.environ.get("REWIND_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
STEPS = 10
STEP_GOAL = 1.0
LATENCY_GOAL_MS = 50.0
WORKER_COUNTS = (1, 2, 4)
WORKER_JOBS = 2
WORKER_GOAL = 3.0
NODE_DELAY = 0.05
WORKER_GRAPH = "steps"


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


WORKER_GRAPH_MODULE = textwrap.dedent(
    f"""
    import asyncio, itertools, operator
    from typing import Annotated, TypedDict
    from rewind.graph import END, START, StateGraph

    NODES = ("n1", "n2", "n3", "n4", "n5")

    class State(TypedDict, total=False):
        log: Annotated[list[str], operator.add]

    def node(name):
        async def run(state):
            await asyncio.sleep({NODE_DELAY!r})  # a model call's wait
            return {{"log": [name]}}
        run.__name__ = name
        return run

    builder = StateGraph(State)
    for name in NODES:
        builder.add_node(name, node(name))
    builder.add_edge(START, NODES[0])
    for a, b in itertools.pairwise(NODES):
        builder.add_edge(a, b)
    builder.add_edge(NODES[-1], END)
    {WORKER_GRAPH} = builder.compile()
    """
)


class WorkerProcess:
    """A ``rewind worker`` process whose stderr goes to a file."""

    def __init__(self, url: str, graph: str, out: Path) -> None:
        self.out = out
        with out.open("w") as fh:
            self.popen = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "rewind.cli",
                    "worker",
                    "--db",
                    url,
                    "-g",
                    graph,
                    "--jobs",
                    str(WORKER_JOBS),
                    "--lease",
                    "10",
                    "--poll",
                    "0.2",
                ],
                stdout=subprocess.DEVNULL,
                stderr=fh,
            )

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def failed(self, why: str) -> SystemExit:
        return SystemExit(f"worker {self.popen.pid}: {why}; its output:\n{self.output()}")

    async def ready(self, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        while "working on" not in self.output():
            if self.popen.poll() is not None:
                raise self.failed(f"exited with {self.popen.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise self.failed(f"not ready after {within:.0f} s")
            await asyncio.sleep(0.05)

    def stop(self) -> int:
        """SIGTERM, then wait; the runs it says it ran."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            code = self.popen.wait(60)
        except subprocess.TimeoutExpired:
            raise self.failed("still running 60 s after SIGTERM") from None
        found = re.search(r"stopped after (\d+) runs", self.output())
        if code != 0 or found is None:
            raise self.failed(f"exited with {code}")
        return int(found.group(1))

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()


def queued_run(graph_input: dict[str, Any]) -> QueuedRun:
    now = now_us()
    return QueuedRun(
        run_id=str(uuid.uuid4()),
        thread_id=str(uuid.uuid4()),
        graph_id=WORKER_GRAPH,
        assistant_id=WORKER_GRAPH,
        request={"input": graph_input},
        metadata={},
        multitask_strategy="enqueue",
        status="pending",
        created_at=now,
        updated_at=now,
        not_before=now,
    )


async def worker_throughput(
    url: str, graph: str, workers: int, runs: int, logs: Path
) -> tuple[float, list[int]]:
    """Runs/s of ``workers`` worker processes on ``runs`` queued runs; the runs each one ran."""
    log = await open_log(url)  # creates the schema before the workers start
    queue = RunQueue(log)
    procs: list[WorkerProcess] = []
    try:
        for i in range(workers):
            procs.append(WorkerProcess(url, graph, logs / f"worker{workers}-{i}.log"))
        await asyncio.gather(*(p.ready() for p in procs))
        batch = [queued_run({"log": []}) for _ in range(runs)]
        async with queue.engine.begin() as conn:  # one transaction, one notification
            await conn.execute(run_queue.insert(), [run.row() for run in batch])
            await queue.announce(conn, batch[0].run_id)
        started = time.perf_counter()
        deadline = time.monotonic() + max(120.0, runs * 1.0)
        while True:
            counts = await queue.counts()
            if sum(n for status, n in counts.items() if status in FINAL) >= runs:
                break
            for proc in procs:
                if proc.popen.poll() is not None:
                    raise proc.failed(f"exited with {proc.popen.returncode} mid-measurement")
            if time.monotonic() > deadline:
                raise SystemExit(f"{workers} worker(s): runs not final in time: {counts}")
            await asyncio.sleep(0.025)
        elapsed = time.perf_counter() - started
        if counts.get("success", 0) != runs:
            ended = await queue.get_many([run.run_id for run in batch])
            errors = {str(r.error) for r in ended.values() if r.status != "success"}
            raise SystemExit(
                f"{workers} worker(s): not every run ended success: {counts}; "
                f"errors: {sorted(errors)[:3]}"
            )
        done = [p.stop() for p in procs]
        return runs / elapsed, done
    finally:
        for proc in procs:
            proc.kill()
        await log.aclose()


def throughput(runs: int) -> dict[int, tuple[float, list[int]]]:
    """Runs/s (and the runs each worker ran) by number of worker processes."""
    results: dict[int, tuple[float, list[int]]] = {}
    with tempfile.TemporaryDirectory(prefix="rewind-bench-") as tmp:
        module = Path(tmp) / "bench_worker_graph.py"
        module.write_text(WORKER_GRAPH_MODULE)
        graph = f"{WORKER_GRAPH}={module}:{WORKER_GRAPH}"
        for workers in WORKER_COUNTS:
            with database() as url:
                results[workers] = asyncio.run(
                    worker_throughput(url, graph, workers, runs, Path(tmp))
                )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invokes", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--worker-runs", type=int, default=200)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--summary")
    args = parser.parse_args()
    if args.quick:
        args.invokes, args.rounds, args.warmup, args.events = 20, 2, 3, 100
        args.worker_runs = 60
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

    rates = throughput(args.worker_runs)
    print(
        f"{args.worker_runs} queued runs of a 5-node graph, each node awaiting "
        f"{NODE_DELAY * 1e3:.0f} ms (worker processes with --jobs {WORKER_JOBS}):"
    )
    for workers, (rate, done) in rates.items():
        print(
            f"  {workers} worker{'s' if workers > 1 else ' '}  {rate:8.1f} runs/s"
            f"   (runs per worker: {', '.join(map(str, done))})"
        )
    one, four = rates[1][0], rates[4][0]
    scale = four / one
    print(
        f"ratio 4 workers / 1 worker: {scale:.2f} (goal >= {WORKER_GOAL:g}: "
        f"{'met' if scale >= WORKER_GOAL else 'NOT met'})"
    )
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
            Row(
                "postgres",
                f"runs/s, 4 workers vs 1 (I/O-bound, --jobs {WORKER_JOBS})",
                "runs/s",
                four,
                WORKER_GOAL,
                "ratio_min",
                one,
                "1 worker",
            ),
        ],
    )


if __name__ == "__main__":
    main()
