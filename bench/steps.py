"""Time per super-step: rewind against LangGraph, on small graphs of trivial nodes, in one process.

Graphs (every node a plain ``def`` returning a small update; state ``{"x": int, "hits":
Annotated[list, operator.add]}``):

* ``linear``: START -> n0 -> n1 -> ... -> n9 -> END, ten super-steps of one task each;
* ``fanout``: START -> p0..p4 (in parallel) -> join -> END, two super-steps (five tasks, then
  one), the join a waiting edge ``add_edge([p0, ..., p4], "join")``;
* ``three`` and ``single``: START -> n0 -> n1 -> n2 -> END and START -> n0 -> END: with
  ``linear`` they split an invoke's time into a fixed part and a per-step part (a least-squares
  line through the three graphs' median times against their super-steps).

Configurations, each a compiled graph invoked with ``graph.invoke(input, config)`` from sync
code, every invoke on a new ``thread_id`` (a fresh thread has nothing to load, as LangGraph's
InMemorySaver thread does not):

* rewind, ``SqliteSaver`` on a file, ``durability="async"`` -- against LangGraph with no
  checkpointer and with ``InMemorySaver`` (default durability); goal: rewind async <= 1.0x
  LangGraph InMemorySaver;
* rewind, ``SqliteSaver`` on a file, ``durability="sync"`` -- against LangGraph's
  ``SqliteSaver`` on a file at ``durability="sync"``; goal: rewind sync <= 0.5x that;
* for reference: rewind with no checkpointer and with its ``InMemorySaver``.

Every configuration is warmed up, then the configurations take turns in rounds (so that drift of
the machine falls on all of them alike); the figure is the median invoke time, divided by the
graph's super-steps (the input step is not counted, for either library). The last lines are the
time ratios rewind/LangGraph and the goals.

    python bench/steps.py [--invokes 150] [--rounds 5] [--warmup 10] [--quick] [--summary FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import operator
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypedDict

import langgraph
from langgraph.checkpoint.memory import InMemorySaver as LangGraphInMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver as LangGraphSqliteSaver
from langgraph.graph import END as LG_END
from langgraph.graph import START as LG_START
from langgraph.graph import StateGraph as LangGraphStateGraph

import rewind
from rewind.checkpoint.memory import InMemorySaver
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.graph import END, START, StateGraph
from summary import Row, write_rows

STEPS = {"linear": 10, "fanout": 2, "three": 3, "single": 1}
"""Super-steps of each graph, the input step not counted."""
WIDTH = 5


class State(TypedDict):
    x: int
    hits: Annotated[list, operator.add]


def build(kind: str, state_graph: Any, start: str, end: str) -> Any:
    """One of the graphs, built with either library's ``StateGraph``."""
    builder = state_graph(State)
    if kind in LINES:
        previous = start
        for i in range(STEPS[kind]):

            def step(state: State) -> dict[str, Any]:
                return {"x": state["x"] + 1}

            builder.add_node(f"n{i}", step)
            builder.add_edge(previous, f"n{i}")
            previous = f"n{i}"
        builder.add_edge(previous, end)
        return builder
    names = [f"p{i}" for i in range(WIDTH)]
    for i, name in enumerate(names):

        def branch(state: State, i: int = i) -> dict[str, Any]:
            return {"hits": [i]}

        builder.add_node(name, branch)
        builder.add_edge(start, name)

    def join(state: State) -> dict[str, Any]:
        return {"x": len(state["hits"])}

    builder.add_node("join", join)
    builder.add_edge(names, "join")
    builder.add_edge("join", end)
    return builder


LINES = ("single", "three", "linear")
"""The graphs of nodes in a line: an invoke's time is fitted over them as fixed + per step."""


def fit(times: dict[str, float]) -> tuple[float, float]:
    """Least-squares line through (super-steps, seconds) of the graphs in a line: (fixed
    seconds per invoke, seconds per super-step)."""
    xs = [STEPS[k] for k in LINES]
    ys = [times[k] for k in LINES]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    return my - slope * mx, slope


def expected(kind: str) -> int:
    return WIDTH if kind == "fanout" else STEPS[kind]


@dataclass
class Config:
    """One way of running the graphs: which library, saver and durability."""

    name: str
    library: str
    open: Callable[[], contextlib.AbstractContextManager[Any]]
    """A context manager giving the checkpointer (``None`` for none)."""
    durability: str | None = None
    graphs: dict[str, Any] = field(default_factory=dict)
    times: dict[str, list[float]] = field(default_factory=dict)

    def invoke(self, kind: str) -> float:
        """Seconds for one invoke of graph ``kind`` on a new thread."""
        graph = self.graphs[kind]
        config = {"configurable": {"thread_id": uuid.uuid4().hex}}
        kwargs = {"durability": self.durability} if self.durability else {}
        start = time.perf_counter()
        out = graph.invoke({"x": 0, "hits": []}, config, **kwargs)
        elapsed = time.perf_counter() - start
        if out["x"] != expected(kind):  # a wrong answer would make the time meaningless
            raise RuntimeError(f"{self.name} {kind}: got {out!r}")
        return elapsed


@contextlib.contextmanager
def nothing() -> Iterator[None]:
    yield None


def configs(tmp: Path) -> list[Config]:
    def rewind_file(name: str) -> Callable[[], contextlib.AbstractContextManager[Any]]:
        return lambda: SqliteSaver.from_conn_string(str(tmp / f"{name}.db"))

    @contextlib.contextmanager
    def rewind_memory() -> Iterator[Any]:
        yield InMemorySaver()

    @contextlib.contextmanager
    def langgraph_memory() -> Iterator[Any]:
        yield LangGraphInMemorySaver()

    return [
        Config("rewind SqliteSaver, async", "rewind", rewind_file("rewind-async"), "async"),
        Config("rewind SqliteSaver, sync", "rewind", rewind_file("rewind-sync"), "sync"),
        Config("rewind no checkpointer", "rewind", nothing),
        Config("rewind InMemorySaver", "rewind", rewind_memory),
        Config("LangGraph no checkpointer", "langgraph", nothing),
        Config("LangGraph InMemorySaver", "langgraph", langgraph_memory),
        Config(
            "LangGraph SqliteSaver, sync",
            "langgraph",
            lambda: LangGraphSqliteSaver.from_conn_string(str(tmp / "langgraph-sync.db")),
            "sync",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invokes", type=int, default=150, help="timed invokes per graph/config")
    parser.add_argument("--rounds", type=int, default=5, help="turns the configurations take")
    parser.add_argument("--warmup", type=int, default=10, help="untimed invokes first")
    parser.add_argument("--quick", action="store_true", help="30 invokes in 3 rounds, warm-up 3")
    parser.add_argument("--summary", help="append the summary rows to this file (JSON lines)")
    args = parser.parse_args()
    if args.quick:
        args.invokes, args.rounds, args.warmup = 30, 3, 3
    per_round = max(1, args.invokes // args.rounds)
    tmp = Path(tempfile.mkdtemp(prefix="rewind-bench-steps-"))
    kinds = list(STEPS)
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        all_configs = configs(tmp)
        for c in all_configs:
            saver = stack.enter_context(c.open())
            lib = (
                (StateGraph, START, END)
                if c.library == "rewind"
                else (LangGraphStateGraph, LG_START, LG_END)
            )
            for kind in kinds:
                c.graphs[kind] = build(kind, *lib).compile(checkpointer=saver)
                c.times[kind] = []
                for _ in range(args.warmup):
                    c.invoke(kind)
        for _ in range(args.rounds):
            for c in all_configs:
                gc.collect()
                for kind in kinds:
                    c.times[kind] += [c.invoke(kind) for _ in range(per_round)]
    total = time.perf_counter() - started

    med = {(c.name, k): statistics.median(c.times[k]) for c in all_configs for k in kinds}
    n = per_round * args.rounds
    print(
        f"rewind {rewind.__version__}, langgraph {langgraph_version()}; {n} timed invokes per "
        f"graph and configuration ({args.rounds} rounds, after {args.warmup} warm-up), each on a "
        f"new thread_id; median; {total:.0f} s in all"
    )
    print(
        f"\n{'':<30}{'---- linear, 10 steps':>22}{'---- fanout, 2 steps':>22}{'three':>11}"
        f"{'single':>11}{'fit over 1/3/10 steps':>26}"
    )
    print(
        f"{'':<30}{'us/step':>11}{'ms/invoke':>11}{'us/step':>11}{'ms/invoke':>11}"
        f"{'ms/invoke':>11}{'ms/invoke':>11}{'fixed ms':>13}{'us/step':>13}"
    )
    fits = {}
    for c in all_configs:
        lin, fan, three, one = (med[c.name, k] for k in ("linear", "fanout", "three", "single"))
        fixed, per_step = fits[c.name] = fit({k: med[c.name, k] for k in LINES})
        print(
            f"{c.name:<30}{lin / 10 * 1e6:>11,.0f}{lin * 1e3:>11.2f}"
            f"{fan / 2 * 1e6:>11,.0f}{fan * 1e3:>11.2f}{three * 1e3:>11.2f}{one * 1e3:>11.2f}"
            f"{fixed * 1e3:>13.2f}{per_step * 1e6:>13,.0f}"
        )

    def ratio(ours: str, peer: str, kind: str) -> float:
        return med[ours, kind] / med[peer, kind]

    print("\ntime ratios rewind/LangGraph (median invoke times; below 1 is rewind faster):")
    pairs = [
        ("rewind SqliteSaver, async", "LangGraph InMemorySaver"),
        ("rewind SqliteSaver, async", "LangGraph no checkpointer"),
        ("rewind no checkpointer", "LangGraph no checkpointer"),
        ("rewind InMemorySaver", "LangGraph InMemorySaver"),
        ("rewind SqliteSaver, sync", "LangGraph SqliteSaver, sync"),
    ]
    for ours, peer in pairs:
        cells = "  ".join(f"{k} {ratio(ours, peer, k):5.2f}x" for k in kinds)
        print(f"  {ours} / {peer}:".ljust(68) + cells)

    ours, peer = "rewind SqliteSaver, async", "LangGraph InMemorySaver"
    rows = [
        Row(
            "steps",
            "fixed cost per invoke, SQLite async (fit)",
            "ms",
            fits[ours][0] * 1e3,
            1.0,
            "ratio_max",
            fits[peer][0] * 1e3,
            peer,
        ),
        Row(
            "steps",
            "cost per super-step, SQLite async (fit)",
            "µs",
            fits[ours][1] * 1e6,
            1.0,
            "ratio_max",
            fits[peer][1] * 1e6,
            peer,
        ),
        Row(
            "steps",
            "no checkpointer, 1-node invoke",
            "ms",
            med["rewind no checkpointer", "single"] * 1e3,
            1.5,
            "ratio_max",
            med["LangGraph no checkpointer", "single"] * 1e3,
            "LangGraph no checkpointer",
        ),
        Row(
            "steps",
            "sync durability, 10-node invoke",
            "ms",
            med["rewind SqliteSaver, sync", "linear"] * 1e3,
            0.5,
            "ratio_max",
            med["LangGraph SqliteSaver, sync", "linear"] * 1e3,
            "LangGraph SqliteSaver, sync",
        ),
    ]
    print("\ngoals:")
    for row in rows:
        assert row.ratio is not None
        print(
            f"  {row.figure}: rewind {row.rewind:,.2f} {row.unit}, {row.peer_name} "
            f"{row.peer:,.2f} {row.unit}: {row.ratio:.2f}x (goal {row.goal_text}: "
            f"{'met' if row.met else 'NOT met'})"
        )
    write_rows(args.summary, rows)


def langgraph_version() -> str:
    from importlib.metadata import version

    return getattr(langgraph, "__version__", None) or version("langgraph")


if __name__ == "__main__":
    main()
