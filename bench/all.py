"""Every bench of ``bench/`` in turn, then one table of every figure that has a goal.

Each bench runs in a process of its own (``python bench/NAME.py --summary FILE``), in this
order: storage, growth, steps, tokens, replay, append, telemetry, exit, server, postgres (which
needs a PostgreSQL server: 127.0.0.1:5432, or ``REWIND_BENCH_POSTGRES``), ui (which needs
Chromium at ``/usr/bin/chromium``). Its own report is
printed as it goes, under a header line; the rows it hands back (``bench/summary.py``) make the
table at the end: the figure, rewind's value, the peer's (when it has one), the ratio
rewind/peer, the goal and whether it is met. A bench that fails (a non-zero exit) is shown as
failed in the table and the others still run. The exit status is 0 either way: this measures,
it does not assert.

``--quick`` passes ``--quick`` to every bench but ``storage``, whose whole run takes seconds and
whose goals are at the sizes its own ``--quick`` leaves out. ``server`` makes LangGraph's server
a virtualenv on first use (``pip install`` from PyPI).

    python bench/all.py [--quick] [--only storage,growth] [--skip server]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from summary import Row, read_rows

BENCHES = [
    "storage",
    "growth",
    "steps",
    "tokens",
    "replay",
    "append",
    "telemetry",
    "exit",
    "server",
    "postgres",
    "ui",
]
HERE = Path(__file__).resolve().parent
NO_QUICK = {"storage"}
"""Benches run at full size under ``--quick``: short already, and their goals are there."""


def names(text: str, parser: argparse.ArgumentParser) -> list[str]:
    picked = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in picked if n not in BENCHES]
    if unknown:
        parser.error(f"unknown bench {', '.join(unknown)}; the benches: {', '.join(BENCHES)}")
    return picked


def run(name: str, quick: bool, summary: Path) -> tuple[int, float]:
    """Run one bench, its output going straight through; (exit status, seconds)."""
    command = [sys.executable, str(HERE / f"{name}.py"), "--summary", str(summary)]
    if quick and name not in NO_QUICK:
        command.append("--quick")
    shown = ["python", f"bench/{name}.py", *command[2:]]
    print(f"\n===== {name}: {' '.join(shown)}", flush=True)
    started = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # its lines as they come, also into a pipe
    status = subprocess.run(command, cwd=HERE.parent, env=env, check=False).returncode
    seconds = time.perf_counter() - started
    print(f"===== {name}: {'done' if status == 0 else f'FAILED, exit {status}'}, {seconds:.0f} s")
    return status, seconds


def number(value: float | None, unit: str = "") -> str:
    """``value`` with a sensible number of digits, and its unit."""
    if value is None:
        return "-"
    size = abs(value)
    if size >= 100:
        text = f"{value:,.0f}"
    elif size >= 10:
        text = f"{value:.1f}"
    elif size >= 1 or size == 0:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    if unit == "x":
        return f"{text}x"
    return f"{text} {unit}" if unit else text


def table(results: list[tuple[str, int, float, list[Row]]]) -> list[list[str]]:
    """The table's lines, the header first: one per row, and one per bench that failed or
    reported nothing."""
    lines = [["bench", "figure", "rewind", "peer", "ratio", "goal", "met", "peer is"]]
    for name, status, _, rows in results:
        for row in rows:
            ratio = "-" if row.ratio is None else f"{row.ratio:.2f}x"
            lines.append(
                [
                    name,
                    row.figure,
                    number(row.rewind, row.unit),
                    number(row.peer, row.unit),
                    ratio,
                    row.goal_text,
                    "met" if row.met else "NOT met",
                    row.peer_name,
                ]
            )
        if status != 0:
            figure = f"the bench failed (exit {status})"
            lines.append([name, figure, "-", "-", "-", "-", "FAILED", ""])
        elif not rows:
            lines.append([name, "no figure with a goal was reported", "-", "-", "-", "-", "-", ""])
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every bench in its quick form")
    parser.add_argument("--only", default="", help="these benches only (comma-separated)")
    parser.add_argument("--skip", default="", help="not these benches (comma-separated)")
    args = parser.parse_args()
    only, skip = names(args.only, parser), names(args.skip, parser)
    chosen = [n for n in BENCHES if (not only or n in only) and n not in skip]
    if not chosen:
        parser.error("no bench left to run")
    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="rewind-bench-all-") as tmp:
        for name in chosen:
            summary = Path(tmp) / f"{name}.jsonl"
            try:
                status, seconds = run(name, args.quick, summary)
            except KeyboardInterrupt:  # stop here, but still print what was measured
                print(f"===== {name}: interrupted")
                results.append((name, 130, 0.0, read_rows(summary)))
                break
            results.append((name, status, seconds, read_rows(summary)))
    total = time.perf_counter() - started

    lines = table(results)
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    right = {2, 3, 4}  # numbers
    print(f"\n===== summary{' (--quick)' if args.quick else ''}\n")
    for i, line in enumerate(lines):
        cells = [
            cell.rjust(width) if k in right else cell.ljust(width)
            for k, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if i == 0:
            print("  ".join("-" * width for width in widths))
    rows = [row for *_, rows in results for row in rows]
    failed = [name for name, status, *_ in results if status != 0]
    print(
        f"\n{sum(row.met for row in rows)} of {len(rows)} goals met"
        + (f"; failed: {', '.join(failed)}" if failed else "")
        + f"; {total / 60:.1f} min in all ("
        + ", ".join(f"{name} {seconds:.0f} s" for name, _, seconds, _ in results)
        + ")"
    )


if __name__ == "__main__":
    main()
