"""Does the cost of a run grow with the thread's history? rewind against LangGraph, one process.

One graph of one node (state ``{"count": int, "note": str}``; the node adds 1 to ``count``) is
invoked N times (default 1,000) on ONE thread per engine, the same ``thread_id`` every time,
each invoke with a small new input (``{"note": "turn i"}``), so the thread's history grows by
one run per invoke while the state stays the same size. Engines:

* rewind, ``SqliteSaver`` on a fresh file, default durability (``async``);
* rewind, ``SqliteSaver`` on another fresh file, ``durability="sync"`` passed to ``invoke``;
* LangGraph, ``InMemorySaver``, default durability;
* LangGraph, ``SqliteSaver`` on a fresh file (``sqlite3.connect(path, check_same_thread=False)``),
  default durability.

The engines take turns: in round i every engine is invoked once, the order rotated each round,
so that drift of the machine falls on all of them alike. Every library is warmed up first with
one invoke on a scratch saver and thread of its own, so invoke #1 is the first run of a fresh
thread on a fresh file, not the first call into the library. Measured:

* ms per invoke around #1, #10, #100 and #N: #1 is the first invoke itself, the others the
  median of a small window around the point (printed with the table); the whole measure is
  repeated on new files and threads (``--rounds``, 3 by default) and each figure is the median
  over the rounds, since a shared machine stalls for seconds at a time; the process's CPU time
  per invoke is printed too, which such stalls do not stretch;
* at the end (thread at #N), the median time of ``graph.get_state(config)`` and of
  ``list(graph.get_state_history(config, limit=10))``, called as a LangGraph user does (the
  number of snapshots each engine returned is printed too), the engines again taking turns.

Checks, each printed as met / NOT met with its figures:

* MUST: rewind's invoke #N <= 1.2x its own #10 (each durability on its own);
* MUST: rewind's ``get_state`` at #N <= 10x LangGraph ``SqliteSaver``'s in this run;
  GOAL: <= 2x.

The time ratios rewind/LangGraph (both peers) are printed for every measured point. With
``--summary FILE`` the checks are also appended to FILE as rows of the summary table
(``bench/summary.py``): invoke #N over #10 for each durability, and rewind's ``get_state``
against LangGraph ``SqliteSaver``'s (the slower of rewind's two engines), once against the MUST
and once against the GOAL.

    python bench/growth.py [--invokes 1000] [--rounds 3] [--quick] [--keep] [--summary FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypedDict

from langgraph.checkpoint.memory import InMemorySaver as LangGraphInMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver as LangGraphSqliteSaver
from langgraph.graph import END as LG_END
from langgraph.graph import START as LG_START
from langgraph.graph import StateGraph as LangGraphStateGraph

import rewind
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.graph import END, START, StateGraph
from summary import Row, write_rows

THREAD = "growth"
"""The one thread every engine's invokes go to."""
STATE_CALLS = 50
"""Timed ``get_state`` calls per engine at the end (median)."""
HISTORY_CALLS = 20
"""Timed ``get_state_history(limit=10)`` calls per engine at the end (median)."""
HISTORY_LIMIT = 10
INVOKE_GROWTH_MUST = 1.2
"""rewind's invoke #N over its own #10."""
GET_STATE_MUST = 10.0
"""rewind's ``get_state`` at #N over LangGraph SqliteSaver's."""
GET_STATE_GOAL = 2.0


class State(TypedDict, total=False):
    count: int
    note: str


def build(state_graph: Any, start: str, end: str) -> Any:
    """The one-node graph, built with either library's ``StateGraph``."""

    def step(state: State) -> dict[str, Any]:
        return {"count": state.get("count", 0) + 1}

    builder = state_graph(State)
    builder.add_node("step", step)
    builder.add_edge(start, "step")
    builder.add_edge("step", end)
    return builder


@dataclass
class Engine:
    """One library and saver, its compiled graph on one thread, and the times measured."""

    name: str
    library: str
    open: Callable[[Path], contextlib.AbstractContextManager[Any]]
    """A context manager giving the checkpointer, on a file at the given path."""
    durability: str | None = None
    """Passed to ``invoke`` when set; the library's default otherwise."""
    graph: Any = None
    invokes: list[float] = field(default_factory=list)
    """Seconds of invoke #1, #2, ... (index i is invoke #i+1)."""
    cpu: list[float] = field(default_factory=list)
    """CPU seconds of the process (every thread) over each invoke, likewise."""
    get_state: list[float] = field(default_factory=list)
    history: list[float] = field(default_factory=list)
    history_items: int = 0

    @property
    def config(self) -> dict[str, Any]:
        return {"configurable": {"thread_id": THREAD}}

    def compile(self, saver: Any) -> Any:
        if self.library == "rewind":
            return build(StateGraph, START, END).compile(checkpointer=saver)
        return build(LangGraphStateGraph, LG_START, LG_END).compile(checkpointer=saver)

    def invoke(self, graph: Any, turn: int) -> float:
        """Seconds for invoke number ``turn`` (from 1) on the thread (its CPU seconds noted)."""
        kwargs = {"durability": self.durability} if self.durability else {}
        cpu = time.process_time()
        start = time.perf_counter()
        out = graph.invoke({"note": f"turn {turn}"}, self.config, **kwargs)
        elapsed = time.perf_counter() - start
        self.cpu.append(time.process_time() - cpu)
        if out.get("count") != turn:  # the thread's state must carry over, or the time means little
            raise RuntimeError(f"{self.name}, invoke #{turn}: got {out!r}")
        return elapsed

    def time_get_state(self, expected: int) -> float:
        start = time.perf_counter()
        snapshot = self.graph.get_state(self.config)
        elapsed = time.perf_counter() - start
        if snapshot.values.get("count") != expected:
            raise RuntimeError(f"{self.name}, get_state: got {snapshot.values!r}")
        return elapsed

    def time_history(self) -> float:
        start = time.perf_counter()
        snapshots = list(self.graph.get_state_history(self.config, limit=HISTORY_LIMIT))
        elapsed = time.perf_counter() - start
        self.history_items = len(snapshots)  # rewind may not honour limit: take what it gives
        return elapsed


def engines() -> list[Engine]:
    """The four engines, each opening its saver on a file at the path it is given."""

    def rewind_file(path: Path) -> contextlib.AbstractContextManager[Any]:
        return SqliteSaver.from_conn_string(str(path))

    @contextlib.contextmanager
    def langgraph_memory(path: Path) -> Iterator[Any]:
        yield LangGraphInMemorySaver()

    @contextlib.contextmanager
    def langgraph_file(path: Path) -> Iterator[Any]:
        conn = sqlite3.connect(str(path), check_same_thread=False)
        try:
            yield LangGraphSqliteSaver(conn)
        finally:
            conn.close()

    return [
        Engine("rewind SqliteSaver, async", "rewind", rewind_file),
        Engine("rewind SqliteSaver, sync", "rewind", rewind_file, "sync"),
        Engine("LangGraph InMemorySaver", "langgraph", langgraph_memory),
        Engine("LangGraph SqliteSaver", "langgraph", langgraph_file),
    ]


def file_name(engine: Engine) -> str:
    return engine.name.replace(" ", "-").replace(",", "").lower() + ".db"


def window(point: int, n: int) -> tuple[int, int]:
    """Invoke numbers (first, last, both included) whose median stands for invoke ``point``:
    #8..#12 for #10, #96..#104 for #100, and for the last one the eight before it and itself
    (#992..#1000 for #1000)."""
    if point == 1:
        return 1, 1
    half = 2 if point <= 10 else 4
    last = min(point + half, n)
    return max(1, last - 2 * half), last


def at(rounds: list[Engine], point: int, n: int, *, cpu: bool = False) -> float:
    """ms per invoke at ``point``: the median over the rounds of the median of its window."""
    first, last = window(point, n)
    return (
        statistics.median(
            statistics.median((e.cpu if cpu else e.invokes)[first - 1 : last]) for e in rounds
        )
        * 1e3
    )


def rotated(items: list[Engine], turn: int) -> list[Engine]:
    k = turn % len(items)
    return items[k:] + items[:k]


def warm_up(all_engines: list[Engine], tmp: Path) -> None:
    """One invoke per library on a scratch saver, file and thread, so that invoke #1 of the
    measured threads is a fresh thread's first run and not the first call into the library."""
    for library in ("rewind", "langgraph"):
        engine = next(e for e in all_engines if e.library == library)
        with engine.open(tmp / f"warm-up-{library}.db") as saver:
            graph = engine.compile(saver)
            engine.invoke(graph, 1)
            graph.get_state(engine.config)
            list(graph.get_state_history(engine.config, limit=HISTORY_LIMIT))


def measure(all_engines: list[Engine], tmp: Path, n: int) -> None:
    """The invokes in rounds, then get_state and get_state_history, engines taking turns."""
    warm_up(all_engines, tmp)
    with contextlib.ExitStack() as stack:
        for e in all_engines:
            e.graph = e.compile(stack.enter_context(e.open(tmp / file_name(e))))
        for turn in range(1, n + 1):
            for e in rotated(all_engines, turn):
                e.invokes.append(e.invoke(e.graph, turn))
        for i in range(STATE_CALLS):
            for e in rotated(all_engines, i):
                e.get_state.append(e.time_get_state(n))
        for i in range(HISTORY_CALLS):
            for e in rotated(all_engines, i):
                e.history.append(e.time_history())


def report(runs: list[list[Engine]], n: int, total: float) -> list[Row]:
    """Print the tables and the checks; the checks as summary rows."""
    all_engines = runs[0]
    by_name = {e.name: [r[i] for r in runs] for i, e in enumerate(all_engines)}
    points = sorted({p for p in (1, 10, 100, n) if p <= n})
    windows = []
    for p in points[1:]:
        first, last = window(p, n)
        windows.append(f"#{p}: median of #{first}..#{last}")
    print(
        f"\nms per invoke ({n} invokes per engine on one thread, engines in rotation, "
        f"{len(runs)} rounds on new files and threads, the median over the rounds; #1: the "
        f"first invoke itself; {'; '.join(windows)}); then, at #{n}, get_state (median of "
        f"{STATE_CALLS}) and get_state_history(limit={HISTORY_LIMIT}) (median of "
        f"{HISTORY_CALLS}), ms, and the snapshots it returned (items); {total:.0f} s in all"
    )
    heads = [f"#{p}" for p in points] + ["get_state", "history", "items"]
    print(f"  {'':<28}" + "".join(f"{h:>11}" for h in heads))
    figures: dict[str, list[float]] = {}
    for e in all_engines:
        rounds = by_name[e.name]
        row = [at(rounds, p, n) for p in points]
        row += [
            statistics.median(x for r in rounds for x in r.get_state) * 1e3,
            statistics.median(x for r in rounds for x in r.history) * 1e3,
        ]
        figures[e.name] = row
        cells = "".join(f"{v:>11.2f}" for v in row) + f"{e.history_items:>11,}"
        print(f"  {e.name:<28}{cells}")
    print(
        "\nCPU ms per invoke (the process's, every thread; what a slow or shared machine does "
        "not stretch), same windows:"
    )
    for e in all_engines:
        cells = "".join(f"{at(by_name[e.name], p, n, cpu=True):>11.2f}" for p in points)
        print(f"  {e.name:<28}{cells}")

    print("\ntime ratios rewind/LangGraph (below 1 is rewind faster):")
    print(f"  {'':<54}" + "".join(f"{h:>11}" for h in heads[:-1]))
    ours = [e for e in all_engines if e.library == "rewind"]
    peers = [e for e in all_engines if e.library == "langgraph"]
    for o in ours:
        for p in peers:
            ratios = [a / b for a, b in zip(figures[o.name], figures[p.name], strict=True)]
            label = f"{o.name} / {p.name}"
            print(f"  {label:<54}" + "".join(f"{r:>10.2f}x" for r in ratios))

    print("\nchecks:")
    rows = []
    tenth = points.index(10) if 10 in points else None
    for o in ours:
        if tenth is None:
            print(f"  MUST {o.name}: invoke #{n} <= {INVOKE_GROWTH_MUST}x #10: no #10 (N < 10)")
            continue
        last, ten = figures[o.name][len(points) - 1], figures[o.name][tenth]
        growth = last / ten
        print(
            f"  MUST {o.name}: invoke #{n} <= {INVOKE_GROWTH_MUST}x its #10: "
            f"{last:.2f} ms vs {ten:.2f} ms = {growth:.2f}x: {met(growth, INVOKE_GROWTH_MUST)}"
        )
        rows.append(
            Row(
                "growth",
                f"invoke #{n} / #10 on one thread, {o.name.removeprefix('rewind ')}",
                "x",
                growth,
                INVOKE_GROWTH_MUST,
                "max",
            )
        )
    peer = next(e for e in peers if "Sqlite" in e.name)
    theirs = figures[peer.name][len(points)]
    for o in ours:
        mine = figures[o.name][len(points)]
        ratio = mine / theirs
        print(
            f"  {o.name}: get_state at #{n} {mine:.2f} ms vs {peer.name} {theirs:.2f} ms = "
            f"{ratio:.2f}x: MUST <= {GET_STATE_MUST:g}x {met(ratio, GET_STATE_MUST)}; "
            f"GOAL <= {GET_STATE_GOAL:g}x {met(ratio, GET_STATE_GOAL)}"
        )
    slower = max(ours, key=lambda o: figures[o.name][len(points)])
    mine = figures[slower.name][len(points)]
    engine = slower.name.removeprefix("rewind ")
    for bound, word in ((GET_STATE_MUST, "MUST"), (GET_STATE_GOAL, "GOAL")):
        figure = f"get_state, thread of {n} runs, {engine} ({word})"
        rows.append(Row("growth", figure, "ms", mine, bound, "ratio_max", theirs, peer.name))
    return rows


def met(ratio: float, bound: float) -> str:
    return "met" if ratio <= bound else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invokes", type=int, default=1000, help="invokes per engine (N)")
    parser.add_argument("--quick", action="store_true", help="N=200, one round")
    parser.add_argument(
        "--rounds", type=int, default=3, help="whole runs on new threads (median over them)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the SQLite files")
    parser.add_argument("--summary", help="append the summary rows to this file (JSON lines)")
    args = parser.parse_args()
    n = 200 if args.quick else args.invokes
    if args.quick:
        args.rounds = 1
    if n < 1 or args.rounds < 1:
        parser.error("--invokes and --rounds must be at least 1")
    tmp = Path(tempfile.mkdtemp(prefix="rewind-bench-growth-"))
    print(
        f"rewind {rewind.__version__}, langgraph {version('langgraph')}, langgraph-checkpoint-"
        f"sqlite {version('langgraph-checkpoint-sqlite')}, sqlite {sqlite3.sqlite_version}; "
        f"files in {tmp}{'' if args.keep else ' (removed at the end)'}"
    )
    runs = [engines() for _ in range(args.rounds)]
    started = time.perf_counter()
    try:
        for i, all_engines in enumerate(runs):
            where = tmp / f"round-{i + 1}"
            where.mkdir()
            measure(all_engines, where, n)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    rows = report(runs, n, time.perf_counter() - started)
    write_rows(args.summary, rows)


if __name__ == "__main__":
    main()
