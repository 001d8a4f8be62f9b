"""Replay throughput and memory per stream mode, and the time of ``get_state`` at a checkpoint.

1. Two graph runs of about 100,000 events each are recorded in SQLite files, from a looping
   node that writes state each step (a growing list, a counter):

   * ``chat``: each step streams a reply from a chat model (about 40 tokens, recorded because
     the recording streams ``messages``; the reply is written to the state) and writes 6 custom
     chunks: 4 events in 5 are chat tokens, each carrying a LangChain ``AIMessageChunk``;
   * ``custom``: each step writes 46 custom chunks (small dicts), and calls no model.

   Each stream mode (``values``, ``updates``, ``messages``, ``custom``, ``tasks``,
   ``checkpoints``, ``debug``, ``events``) and all of them together are then replayed from
   each run's log (``rewind.areplay``), each in a fresh subprocess, which reports:

   * events/s: the run's events divided by the replay's wall time (``prepare`` and every
     read included; modes that need few kinds of event read only those, but the rate counts
     every event of the run);
   * peak memory over the baseline: the process's peak resident set size (``VmHWM`` in
     ``/proc/self/status``, ``ru_maxrss`` elsewhere) after the replay, minus its resident
     set size (``VmRSS``) just before, with rewind imported and the store open. RSS, not
     tracemalloc: it counts what the process really holds (SQLite's page cache, freed but
     unreturned heap), and measuring does not slow the replay.

   Goals, per mode: at least 100,000 events/s (``events``, and all modes together: 50,000), at
   most 50 MB over the baseline.
2. On a ``chat`` run of about 10,000 events, the median time of
   ``graph.get_state({"configurable": {"thread_id": ..., "checkpoint_id": ...}})`` at random
   checkpoints, called as a LangGraph user calls it, with the snapshots the store wrote itself
   while recording (goal: at most 20 ms); then again after ``drop_caches`` (no snapshot: each
   state folded from the run's start; printed for comparison, no goal). Both must agree.
3. The live overhead: ``stream`` with all seven modes, rewind against LangGraph on the same
   graph (10 nodes in a line, each writing custom data), both with their ``InMemorySaver``, in
   this process. Goal: time ratio rewind/LangGraph at most 1.0.

With ``--summary FILE`` the goals are also appended to FILE as rows of the summary table
(``bench/summary.py``); to keep the table short, a run gives two rows: its slowest mode against
that mode's goal, and its highest peak memory over the modes.

    python bench/replay.py [--events 100000] [--runs chat,custom] [--quick] [--summary FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import operator
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from rewind import areplay, open_log
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.config import get_stream_writer
from rewind.events import EventType
from rewind.graph import END, START, StateGraph
from summary import Row, write_rows

MODES = ["values", "updates", "messages", "custom", "tasks", "checkpoints", "debug", "events"]
WORDS = 20  # words per reply: about 40 tokens (words and the spaces between them)
SHAPES = {"chat": (WORDS, 6), "custom": (0, 46)}
"""Per run: (words per reply, 0 for no model; custom writes per step)."""
RATE_GOAL = 100_000
RATE_GOALS = {"events": 50_000, "all": 50_000}
"""Modes with a lower goal: ``events`` (a run per node, model and tool: several chunks per
event), and all modes together (as their slowest, ``events``)."""
MEMORY_GOAL = 50.0  # MB over the baseline
STATE_GOAL = 20.0  # ms


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    n: int
    reply: AIMessage


def per_step(shape: str) -> int:
    """Events per step: tokens (words and spaces), chat start and end, custom writes, and
    task start, task end and checkpoint."""
    words, custom = SHAPES[shape]
    return (2 * words + 1 if words else 0) + custom + 3


def build(saver: SqliteSaver, steps: int, shape: str = "chat") -> Any:
    """The looping graph: ``steps`` super-steps, each writing custom data (and in ``chat``,
    streaming a reply)."""
    words, custom = SHAPES[shape]
    reply = AIMessage(content=" ".join(f"word{i}" for i in range(words)))
    model = GenericFakeChatModel(messages=itertools.repeat(reply))

    def tick(state: State) -> dict[str, Any]:
        writer = get_stream_writer()
        for i in range(custom):
            writer({"i": i, "text": "token " * 4})
        update: dict[str, Any] = {"log": ["x"], "n": state.get("n", 0) + 1}
        if words:
            update["reply"] = model.invoke("go")
        return update

    def again(state: State) -> str:
        return "tick" if state["n"] < steps else END

    g = StateGraph(State)
    g.add_node("tick", tick)
    g.add_edge(START, "tick")
    g.add_conditional_edges("tick", again, ["tick", END])
    return g.compile(checkpointer=saver)


def config(steps: int, **configurable: Any) -> dict[str, Any]:
    return {"configurable": {"thread_id": "t", **configurable}, "recursion_limit": steps + 10}


def record(path: Path, steps: int, shape: str = "chat") -> None:
    """Record one run of ``steps`` super-steps (streamed, so the model's tokens are logged)."""
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = build(saver, steps, shape)
        for _ in graph.stream({"log": [], "n": 0}, config(steps), stream_mode="messages"):
            pass


# --- 1. replay, one mode per process ----------------------------------------------------------


def memory_kib() -> tuple[int, int]:
    """(current, peak) resident set size of this process, in KiB."""
    try:
        fields = dict(
            line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines()
        )
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
    except (OSError, KeyError):  # not Linux: the peak is all there is (in KiB here too)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak, peak


async def replay_one(path: Path, mode: str) -> dict[str, Any]:
    """Replay the run in ``mode`` (``all``: every mode at once); figures as a dict."""
    stream_mode: Any = MODES if mode == "all" else mode
    store = await open_log(path)
    try:
        (run,) = await store.list_runs(thread_id="t")
        base, _ = memory_kib()
        start = time.perf_counter()
        chunks = 0
        async for _ in areplay(store, run.run_id, stream_mode=stream_mode):
            chunks += 1
        elapsed = time.perf_counter() - start
        _, peak = memory_kib()
        return {
            "events": run.last_seq + 1,
            "chunks": chunks,
            "seconds": elapsed,
            "over_mb": (peak - base) / 1024,
        }
    finally:
        await store.aclose()


def replay_in_child(path: Path, mode: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--replay-one", mode, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


# --- 2. get_state at a checkpoint -------------------------------------------------------------


async def checkpoint_ids(path: Path) -> list[str]:
    store = await open_log(path)
    try:
        (run,) = await store.list_runs(thread_id="t")
        events = await store.read(run.run_id, types=[EventType.CHECKPOINT])
        return [e.payload["id"] for e in events if not e.ns]
    finally:
        await store.aclose()


async def drop_caches(path: Path) -> int:
    store = await open_log(path)
    try:
        return await store.drop_caches(thread_id="t")
    finally:
        await store.aclose()


def state_times(path: Path, steps: int, picked: list[str]) -> tuple[list[float], list[Any]]:
    """Seconds per ``get_state`` at each of ``picked``, and the states."""
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = build(saver, steps)
        graph.get_state(config(steps))  # opens the store: not what is measured
        times, states = [], []
        for checkpoint_id in picked:
            start = time.perf_counter()
            state = graph.get_state(config(steps, checkpoint_id=checkpoint_id))
            times.append(time.perf_counter() - start)
            states.append((state.values, state.next, state.config))
        return times, states


# --- 3. live overhead -------------------------------------------------------------------------


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


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", default="chat,custom", help="which runs: chat, custom")
    parser.add_argument("--quick", action="store_true", help="20,000-event runs, fewer samples")
    parser.add_argument("--summary", help="append the summary rows to this file (JSON lines)")
    parser.add_argument("--replay-one", nargs=2, metavar=("MODE", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replay_one:
        mode, db = args.replay_one
        print(json.dumps(asyncio.run(replay_one(Path(db), mode))))
        return
    events = 20_000 if args.quick else args.events
    tmp = Path(tempfile.mkdtemp(prefix="rewind-bench-replay-"))
    rows = []

    for shape in args.runs.split(","):
        db = tmp / f"{shape}.db"
        start = time.perf_counter()
        record(db, events // per_step(shape), shape)
        recorded = time.perf_counter() - start
        print(f"{shape} run recorded in {recorded:.1f} s; replayed per mode, one process each:")
        print(f"  {'mode':<12} {'events/s':>10} {'MB over baseline':>17} {'chunks':>9}  goals")
        rates: dict[str, tuple[float, int]] = {}
        memory: dict[str, float] = {}
        for mode in [*MODES, "all"]:
            f = replay_in_child(db, mode)
            rate = f["events"] / f["seconds"]
            goal = RATE_GOALS.get(mode, RATE_GOAL)
            rates[mode], memory[mode] = (rate, goal), f["over_mb"]
            goals = f"{met(rate >= goal)} / {met(f['over_mb'] <= MEMORY_GOAL)}"
            print(f"  {mode:<12} {rate:>10,.0f} {f['over_mb']:>17.1f} {f['chunks']:>9,}  {goals}")
        goals = (
            f"goals: >= {RATE_GOAL:,} events/s (events and all: >= {RATE_GOALS['events']:,})"
            f" / <= {MEMORY_GOAL} MB"
        )
        print(f"  ({f['events']:,} events; {goals})")
        slowest = min(rates, key=lambda m: rates[m][0] / rates[m][1])
        rate, goal = rates[slowest]
        figure = f"replay {shape} run, slowest mode ({slowest}), events/s"
        rows.append(Row("replay", figure, "events/s", rate, goal, "min"))
        heaviest = max(memory, key=lambda m: memory[m])
        figure = f"replay {shape} run, peak MB over baseline, highest mode ({heaviest})"
        rows.append(Row("replay", figure, "MB", memory[heaviest], MEMORY_GOAL, "max"))

    steps = 10_000 // per_step("chat")
    record(tmp / "small.db", steps=steps)
    ids = asyncio.run(checkpoint_ids(tmp / "small.db"))
    picked = random.Random(7).sample(ids, min(20 if args.quick else 60, len(ids)))
    cached, with_snapshots = state_times(tmp / "small.db", steps, picked)
    asyncio.run(drop_caches(tmp / "small.db"))
    plain, without = state_times(tmp / "small.db", steps, picked)
    assert with_snapshots == without, "a snapshot must not change the state"
    ours = statistics.median(cached) * 1000
    print(
        f"get_state at a random checkpoint of a ~10,000-event run ({len(ids)} checkpoints; "
        f"median of {len(picked)}):"
    )
    goal = f"goal <= {STATE_GOAL} ms: {met(ours <= STATE_GOAL)}"
    print(f"  with the store's snapshots: {ours:8.2f} ms  ({goal})")
    print(f"  caches dropped:             {statistics.median(plain) * 1000:8.2f} ms")
    figure = "get_state at a random checkpoint, ~10,000-event run, with snapshots"
    rows.append(Row("replay", figure, "ms", ours, STATE_GOAL, "max"))

    ours, theirs = live_overhead(20 if args.quick else 100)
    print("live stream, all seven modes, 10-node graph (median per run):")
    print(
        f"  rewind {ours * 1000:.2f} ms, LangGraph {theirs * 1000:.2f} ms; "
        f"ratio rewind/LangGraph: {ours / theirs:.2f} (goal <= 1.0: {met(ours <= theirs)})"
    )
    figure = "live stream, seven modes, 10-node graph, ms per run"
    rows.append(
        Row(
            "replay",
            figure,
            "ms",
            ours * 1000,
            1.0,
            "ratio_max",
            theirs * 1000,
            "LangGraph InMemorySaver",
        )
    )
    write_rows(args.summary, rows)


if __name__ == "__main__":
    main()
