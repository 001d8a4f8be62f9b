"""Bytes on disk of one looping run: rewind's SQLite log against LangGraph's SqliteSaver.

One graph, one node that loops back to itself through a conditional edge until a counter
reaches N; each step appends a 1 KB string to a list channel (``Annotated[list,
operator.add]``), so the state grows by 1 KB a step. The graph is run once on rewind
(``SqliteSaver`` on a fresh file, default durability) and once on LangGraph's ``SqliteSaver``
(fresh file), in the same process, for each N. Measured: the size of every file of each
database (main file, ``-wal``, ``-shm``) while the saver is still open after the run, and again
after it is closed; and the number of events rewind stored. The last lines are the ratios
LangGraph/rewind of the closed sizes, and the goals, which hold the bytes the run added: the
closed size less an empty database's of the same kind (the schema's tables and indexes, a fixed
cost that no step adds to; both empty sizes are printed). With ``--summary FILE`` the goals are also
appended to FILE as rows of the summary table (``bench/summary.py``): one per N that has a goal
(200 and 400), with LangGraph's size beside rewind's.

    python bench/storage.py [--steps 200 400] [--quick] [--summary FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import operator
import random
import sqlite3
import string
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langgraph.checkpoint.sqlite import SqliteSaver as LangGraphSqliteSaver
from langgraph.graph import END as LG_END
from langgraph.graph import START as LG_START
from langgraph.graph import StateGraph as LangGraphStateGraph

from rewind import open_log
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.graph import END, START, StateGraph
from summary import Row, write_rows

GOALS_MB = {200: 0.5, 400: 1.0}
"""rewind's goal: total bytes on disk for N steps, in MB."""
LANGGRAPH_REFERENCE_MB = {200: 20.8, 400: 81.8}
"""LangGraph's SqliteSaver, as measured when the goals were set."""
SUFFIXES = ("", "-wal", "-shm")


class State(TypedDict):
    count: int
    notes: Annotated[list, operator.add]


def build(state_graph: Any, start: str, end: str, steps: int, payloads: list[str]) -> Any:
    """The looping graph, built with either library's ``StateGraph``; step i appends
    ``payloads[i]``."""

    def step(state: State) -> dict[str, Any]:
        return {"count": state["count"] + 1, "notes": [payloads[state["count"]]]}

    def again(state: State) -> str:
        return "step" if state["count"] < steps else end

    builder = state_graph(State)
    builder.add_node("step", step)
    builder.add_edge(start, "step")
    builder.add_conditional_edges("step", again, ["step", end])
    return builder


def sizes(path: Path) -> dict[str, int]:
    """Bytes of each file of the database at ``path`` (0 for a file that is not there)."""
    out = {}
    for suffix in SUFFIXES:
        f = Path(str(path) + suffix)
        out[suffix or "main"] = f.stat().st_size if f.exists() else 0
    return out


def run_rewind(
    path: Path, steps: int, payloads: list[str]
) -> tuple[dict[str, int], dict[str, int], tuple[int, int, dict[str, int]]]:
    """Run on rewind's SqliteSaver; sizes while open, after close, and the events stored.

    rewind's saver opens the store for each run and closes it when the run returns, so "open"
    here is right after ``invoke`` returned with the saver object still alive."""
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = build(StateGraph, START, END, steps, payloads).compile(checkpointer=saver)
        out = graph.invoke(
            {"count": 0, "notes": []},
            {"configurable": {"thread_id": "storage"}, "recursion_limit": steps + 10},
        )
        assert out["count"] == steps and len(out["notes"]) == steps
        before = sizes(path)
    del graph, saver
    gc.collect()
    after = sizes(path)
    return before, after, asyncio.run(count_events(path))


async def count_events(path: Path) -> tuple[int, int, dict[str, int]]:
    """rewind's events in the file: how many, the log head, and how many of each type."""
    store = await open_log(path)
    try:
        events = await store.read_all()
        head = await store.head()
    finally:
        await store.aclose()
    by_type: dict[str, int] = {}
    for event in events:
        by_type[str(event.type)] = by_type.get(str(event.type), 0) + 1
    return len(events), head, by_type


def run_langgraph(
    path: Path, steps: int, payloads: list[str]
) -> tuple[dict[str, int], dict[str, int]]:
    """Run on LangGraph's SqliteSaver; sizes while open and after close."""
    with LangGraphSqliteSaver.from_conn_string(str(path)) as saver:
        builder = build(LangGraphStateGraph, LG_START, LG_END, steps, payloads)
        graph = builder.compile(checkpointer=saver)
        out = graph.invoke(
            {"count": 0, "notes": []},
            {"configurable": {"thread_id": "storage"}, "recursion_limit": steps + 10},
        )
        assert out["count"] == steps and len(out["notes"]) == steps
        before = sizes(path)
    del graph, saver
    gc.collect()
    return before, sizes(path)


def empty_sizes(tmp: Path) -> tuple[int, int]:
    """Bytes of an empty rewind database and of an empty LangGraph SqliteSaver database."""
    ours, theirs = tmp / "rewind-empty.db", tmp / "langgraph-empty.db"

    async def create() -> None:
        await (await open_log(ours)).aclose()

    asyncio.run(create())
    with LangGraphSqliteSaver.from_conn_string(str(theirs)) as saver:
        saver.setup()
    gc.collect()
    return sum(sizes(ours).values()), sum(sizes(theirs).values())


def mb(n: int) -> str:
    return f"{n / 1e6:8.3f} MB"


def row(label: str, s: dict[str, int]) -> str:
    cells = "  ".join(f"{s[k]:>12,}" for k in ("main", "-wal", "-shm"))
    return f"  {label:<26}{cells}  {sum(s.values()):>12,}  {mb(sum(s.values()))}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[200, 400])
    parser.add_argument("--payload-bytes", type=int, default=1024)
    parser.add_argument("--quick", action="store_true", help="N=50 and 100 only (no goal there)")
    parser.add_argument("--summary", help="append the summary rows to this file (JSON lines)")
    args = parser.parse_args()
    steps_list = [50, 100] if args.quick else args.steps
    rng = random.Random(7)  # a different random string each step: nothing to share or compress
    alphabet = string.ascii_letters + string.digits + " "
    payloads = [
        "".join(rng.choices(alphabet, k=args.payload_bytes)) for _ in range(max(steps_list))
    ]
    tmp = Path(tempfile.mkdtemp(prefix="rewind-bench-storage-"))
    print(
        f"one thread, one run of N steps, each appending {args.payload_bytes:,} bytes to a list "
        f"channel; sqlite {sqlite3.sqlite_version}; files in {tmp}"
    )
    header = f"  {'':<26}{'main':>12}  {'-wal':>12}  {'-shm':>12}  {'total bytes':>12}"
    results = []
    for steps in steps_list:
        t0 = time.perf_counter()
        r_open, r_closed, (events, head, by_type) = run_rewind(
            tmp / f"rewind-{steps}.db", steps, payloads
        )
        t_r = time.perf_counter() - t0
        t0 = time.perf_counter()
        l_open, l_closed = run_langgraph(tmp / f"langgraph-{steps}.db", steps, payloads)
        t_l = time.perf_counter() - t0
        print(f"\nN = {steps}")
        print(header)
        print(row("rewind, saver open", r_open))
        print(row("rewind, closed", r_closed))
        print(row("LangGraph, saver open", l_open))
        print(row("LangGraph, closed", l_closed))
        print(
            f"  rewind stored {events:,} events ({events / steps:.1f} per step, "
            f"{sum(r_closed.values()) / events:,.0f} bytes/event on disk); "
            f"run took {t_r:.2f} s (rewind) vs {t_l:.2f} s (LangGraph)"
        )
        print(f"  log head {head:,}; by type: " + ", ".join(f"{k} {v}" for k, v in by_type.items()))
        results.append((steps, sum(r_closed.values()), sum(l_closed.values())))
    empty_r, empty_lg = empty_sizes(tmp)
    print(f"\nempty databases: rewind {empty_r:,} bytes, LangGraph {empty_lg:,} bytes")
    rows = []
    for steps, whole_r, whole_lg in results:
        r, lg = whole_r - empty_r, whole_lg - empty_lg
        print(
            f"N={steps}: whole files rewind {whole_r / 1e6:.3f} MB, LangGraph "
            f"{whole_lg / 1e6:.3f} MB; the run added:"
        )
        goal = GOALS_MB.get(steps)
        ref = LANGGRAPH_REFERENCE_MB.get(steps)
        goal_text = (
            f"goal rewind <= {goal} MB: {'met' if r <= goal * 1e6 else 'NOT met'}"
            if goal
            else "no goal at this N"
        )
        ref_text = f" (LangGraph when the goal was set: {ref} MB)" if ref else ""
        print(
            f"N={steps}: rewind {r / 1e6:.3f} MB, LangGraph {lg / 1e6:.3f} MB{ref_text}; "
            f"ratio LangGraph/rewind {lg / r:.1f}x; {goal_text}"
        )
        if goal:
            rows.append(
                Row(
                    "storage",
                    f"bytes a {steps}-step run adds on disk, 1 KB a step",
                    "MB",
                    r / 1e6,
                    goal,
                    "max",
                    lg / 1e6,
                    "LangGraph SqliteSaver",
                )
            )
    write_rows(args.summary, rows)


if __name__ == "__main__":
    main()
