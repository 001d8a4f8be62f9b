"""Replay throughput per stream mode, and the time to rebuild state at a checkpoint.

1. A graph run of about 100,000 events (a looping node that writes custom data and state each
   step) is recorded in a SQLite file; each stream mode is then replayed from the log
   (``rewind.areplay``) and timed: events/s. Goal: at least 100,000 events/s for ``updates``
   and ``custom``.
2. On a run of about 10,000 events, the state at random checkpoints is rebuilt from the log,
   once folding every event from the run's start, and once from the nearest snapshot (written
   every 50 checkpoints). Goals: median at most 200 ms without snapshots, 20 ms with.
3. The live overhead: ``stream`` with all seven modes, rewind against LangGraph on the same
   graph (10 nodes in a line, each writing custom data), both with their ``InMemorySaver``, in
   this process. Goal: time ratio rewind/LangGraph at most 1.0.

    python bench/replay.py [--events 100000] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import operator
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any, TypedDict

from rewind import areplay, open_store
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.config import get_stream_writer
from rewind.events import EventType
from rewind.graph import END, START, StateGraph
from rewind.projections.state import fold_checkpoints
from rewind.store import EventStore

MODES = ["updates", "custom", "values", "tasks", "checkpoints", "debug", "messages"]


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    n: int


def record(path: Path, steps: int, writes_per_step: int) -> None:
    """Record one run: ``steps`` super-steps, each with ``writes_per_step`` custom writes."""

    def tick(state: State) -> dict[str, Any]:
        writer = get_stream_writer()
        for i in range(writes_per_step):
            writer({"i": i, "text": "token " * 4})
        return {"log": ["x"], "n": state.get("n", 0) + 1}

    def again(state: State) -> str:
        return "tick" if state["n"] < steps else END

    g = StateGraph(State)
    g.add_node("tick", tick)
    g.add_edge(START, "tick")
    g.add_conditional_edges("tick", again, ["tick", END])
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = g.compile(checkpointer=saver)
        graph.invoke(
            {"log": [], "n": 0}, {"configurable": {"thread_id": "t"}, "recursion_limit": steps + 10}
        )


async def replay_rates(path: Path) -> dict[str, tuple[int, float]]:
    store = await open_store(path)
    try:
        (run,) = await store.list_runs(thread_id="t")
        total = run.last_seq + 1
        rates: dict[str, tuple[int, float]] = {}
        for mode in MODES:
            start = time.perf_counter()
            count = 0
            async for _ in areplay(store, run.run_id, stream_mode=mode):
                count += 1
            rates[mode] = (count, total / (time.perf_counter() - start))
        return rates
    finally:
        await store.aclose()


async def state_times(path: Path, samples: int) -> tuple[list[float], list[float], int]:
    store = await open_store(path)
    try:
        (run,) = await store.list_runs(thread_id="t")
        checkpoints = await store.read(run.run_id, types=[EventType.CHECKPOINT])
        await write_snapshots(store, run.run_id, every=50)
        rng = random.Random(7)
        plain, cached = [], []
        for target in rng.sample(checkpoints, min(samples, len(checkpoints))):
            start = time.perf_counter()
            a = await state_without_snapshots(store, run.run_id, target.seq)
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            b = await state_with_snapshots(store, run.run_id, target.seq)
            cached.append(time.perf_counter() - start)
            assert a == b, "a snapshot must not change the result"
        return plain, cached, run.last_seq + 1
    finally:
        await store.aclose()


async def write_snapshots(store: EventStore, run_id: str, every: int) -> None:
    events = await store.read(run_id)
    views = fold_checkpoints(events)
    seqs = [e.seq for e in events if e.type == EventType.CHECKPOINT]
    for i, (view, seq) in enumerate(zip(views, seqs, strict=True)):
        if i % every == 0:
            await store.put_snapshot(
                run_id, seq, {"values": view.values, "barriers": view.barriers}
            )


async def state_without_snapshots(store: EventStore, run_id: str, seq: int) -> dict[str, Any]:
    views = fold_checkpoints(await store.read(run_id, until_seq=seq))
    return views[-1].values


async def state_with_snapshots(store: EventStore, run_id: str, seq: int) -> dict[str, Any]:
    snapshot = await store.get_snapshot(run_id, at_or_before_seq=seq)
    if snapshot is None:
        return await state_without_snapshots(store, run_id, seq)
    if snapshot.seq == seq:
        return dict(snapshot.state["values"])
    events = await store.read(run_id, after_seq=snapshot.seq, until_seq=seq)
    views = fold_checkpoints(
        events, base=snapshot.state["values"], base_barriers=snapshot.state["barriers"]
    )
    return views[-1].values


def live_overhead(invokes: int) -> tuple[float, float]:
    """Median seconds per fully streamed run: (rewind, LangGraph)."""
    import langgraph.checkpoint.memory as lg_memory
    import langgraph.config as lg_config
    import langgraph.graph as lg_graph

    import rewind.checkpoint.memory as rw_memory
    import rewind.config as rw_config
    import rewind.graph as rw_graph

    def build(graph_mod: Any, config_mod: Any, memory_mod: Any) -> Any:
        g = graph_mod.StateGraph(State)
        names = [f"n{i}" for i in range(10)]
        for name in names:

            def node(state: State) -> dict[str, Any]:
                config_mod.get_stream_writer()({"at": "node"})
                return {"log": ["x"]}

            g.add_node(name, node)
        g.add_edge(graph_mod.START, names[0])
        for a, b in itertools.pairwise(names):
            g.add_edge(a, b)
        return g.compile(checkpointer=memory_mod.InMemorySaver())

    seven = ["values", "updates", "messages", "custom", "tasks", "checkpoints", "debug"]
    timings: dict[str, list[float]] = {"rewind": [], "langgraph": []}
    graphs = {
        "rewind": build(rw_graph, rw_config, rw_memory),
        "langgraph": build(lg_graph, lg_config, lg_memory),
    }
    for i in range(invokes + 5):
        for name, graph in graphs.items():
            start = time.perf_counter()
            for _ in graph.stream(
                {"log": []}, {"configurable": {"thread_id": f"{name}{i}"}}, stream_mode=seven
            ):
                pass
            if i >= 5:  # warm-up
                timings[name].append(time.perf_counter() - start)
    return statistics.median(timings["rewind"]), statistics.median(timings["langgraph"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    events = 20_000 if args.quick else args.events
    tmp = Path(tempfile.mkdtemp(prefix="rewind-bench-replay-"))
    per_step = 46  # custom writes per step; each step adds ~4 more events
    start = time.perf_counter()
    record(tmp / "big.db", steps=events // (per_step + 4), writes_per_step=per_step)
    recorded = time.perf_counter() - start
    rates = asyncio.run(replay_rates(tmp / "big.db"))
    total = next(iter(rates.values()))
    print(f"recorded a run in {recorded:.1f} s; replaying it per mode:")
    for mode, (chunks, rate) in rates.items():
        goal = "  (goal >= 100,000)" if mode in ("updates", "custom") else ""
        print(f"  {mode:<12} {rate:>10,.0f} events/s  ({chunks:,} chunks){goal}")
    del total
    record(tmp / "small.db", steps=10_000 // (per_step + 4), writes_per_step=per_step)
    plain, cached, size = asyncio.run(state_times(tmp / "small.db", 20 if args.quick else 60))
    print(f"state at a random checkpoint of a {size:,}-event run (median of {len(plain)}):")
    print(f"  without snapshots: {statistics.median(plain) * 1000:8.2f} ms  (goal <= 200 ms)")
    print(f"  with snapshots:    {statistics.median(cached) * 1000:8.2f} ms  (goal <= 20 ms)")
    ours, theirs = live_overhead(20 if args.quick else 100)
    print("live stream, all seven modes, 10-node graph (median per run):")
    print(
        f"  rewind {ours * 1000:.2f} ms, LangGraph {theirs * 1000:.2f} ms; "
        f"ratio rewind/LangGraph: {ours / theirs:.2f} (goal <= 1.0)"
    )


if __name__ == "__main__":
    main()
