"""The run page (``rewind ui``) in a real browser: time to first render of a big run, and the
token rate a live page keeps up with.

1. A run of about 10,000 events (a chat model streaming 9,990 tokens, recorded with
   ``rewind run``) is opened in Chromium (Debian's, ``/usr/bin/chromium``, through
   Playwright), in a fresh browser context each round: the time from the navigation's start to
   the run's timeline being drawn (its header, bars and counts on screen), measured in the page
   (``performance.now()``). Goal: at most 1 s (median of the rounds).
2. Runs streaming tokens at 100, 200, 400 and 800 tokens/s for about 3 s each are started
   through the API and opened at once in the page, which follows them live over SSE. For each:
   how many tokens reached the page live (the page stamps each one the stream brings; the
   model starts streaming 2 s after the run starts, once the page follows it), the rate they
   arrived at, and the lag at the end
   (from the last token's time in the log to its arrival in the page). The page keeps up with
   a rate when it shows every token, at least half of them came live, and the lag stayed
   under 1 s. Goal: it keeps up with at least 100 tokens/s.

The graph is ``tests/ui/agents.py:talker`` (the browser tests' counting model).

    python bench/ui.py [--rounds 5] [--quick] [--summary FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from summary import Row, write_rows

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
GRAPH = "tests/ui/agents.py:talker"
RENDER_GOAL_MS = 1000.0
RATE_GOAL = 100.0
LAG_LIMIT_S = 1.0


def rewind(db: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "rewind.cli", "--db", str(db), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"rewind {' '.join(args[:2])} exited {done.returncode}: {done.stderr}")
    return done.stdout


@contextlib.contextmanager
def ui_server(db: Path) -> Iterator[str]:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "rewind.cli", "--db", str(db), "ui", "--port", "0"),
            *("--no-browser", f"--graphs=talker={GRAPH}"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        found = re.search(r"(http://127\.0\.0\.1:\d+)/ui", process.stdout.readline())
        if found is None:
            raise RuntimeError(f"rewind ui did not start: {process.stderr.read()}")
        yield found[1]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def first_render(browser: Any, url: str, run_id: str) -> float:
    """Milliseconds from navigation start to the run's timeline drawn."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/ui/run/{run_id}", wait_until="commit")
    page.wait_for_selector("#timeline .bar")
    # The page notes when it drew the run (milliseconds since the navigation started).
    took = float(page.get_attribute("body", "data-first-render") or "nan")
    page.wait_for_selector("body[data-loaded='1']", timeout=60_000)  # one page at a time
    context.close()
    return took


def live_rate(browser: Any, url: str, rate: int, seconds: float) -> dict[str, float]:
    """Follow a run streaming ``rate`` tokens/s in the page; what the page kept up with."""
    count = int(rate * seconds)
    with httpx.Client(base_url=url, timeout=30) as client:
        thread = client.post("/threads", json={}).json()["thread_id"]
        # The tokens start once the page follows the run (it opens in well under 2 s).
        question = f"{count} tokens at {rate}/s after 2s"
        body = {
            "assistant_id": "talker",
            "input": {"messages": [{"role": "user", "content": question}]},
        }
        run_id = client.post(f"/threads/{thread}/runs", json=body).json()["run_id"]
        context = browser.new_context(viewport={"width": 1300, "height": 900})
        page = context.new_page()
        page.goto(f"{url}/ui/run/{run_id}#tokens")
        shown = 0
        deadline = time.time() + seconds * 3 + 25
        while time.time() < deadline and shown < count:
            time.sleep(0.1)
            shown = page.locator("#calls .token:not(.empty)").count()
        # When each token the live stream brought reached the page (epoch milliseconds).
        arrived = page.eval_on_selector_all(
            "#calls .token[data-arrived]:not(.empty)", "els => els.map(e => +e.dataset.arrived)"
        )
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        calls = client.get(f"/ui/api/runs/{run_id}/calls", cookies=cookies).json()["calls"]
        context.close()
    tokens = [t for c in calls for t in c["tokens"] if t["text"]]
    logged_end = calls[0]["start"] + tokens[-1]["t"] if tokens else float("nan")
    span = (max(arrived) - min(arrived)) / 1000 if len(arrived) > 1 else 0.0
    return {
        "asked": rate,
        "tokens": count,
        "shown": shown,
        "live": len(arrived),
        "rate": (len(arrived) - 1) / span if span > 0 else float("nan"),
        "lag": (max(arrived) - logged_end) / 1000 if arrived else float("inf"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="page loads of the big run")
    parser.add_argument("--quick", action="store_true", help="2 rounds, 2 s live runs")
    parser.add_argument("--summary", help="append the summary rows to this file (JSON lines)")
    args = parser.parse_args()
    rounds = 2 if args.quick else args.rounds
    seconds = 2.0 if args.quick else 3.0
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="rewind-bench-ui-"))
    big = tmp / "big.db"
    question = {"messages": [{"role": "user", "content": "9990 tokens at 0/s"}]}
    rewind(big, "run", GRAPH, "--input", json.dumps(question), "--json")
    (record,) = [json.loads(line) for line in rewind(big, "runs", "--json").splitlines()]
    events = len(rewind(big, "tail", record["run_id"], "--json").splitlines())

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        with ui_server(big) as url:
            first_render(browser, url, record["run_id"])  # warm-up: caches, the browser
            renders = [first_render(browser, url, record["run_id"]) for _ in range(rounds)]
        with ui_server(tmp / "live.db") as url:
            live = [live_rate(browser, url, rate, seconds) for rate in (100, 200, 400, 800)]
        browser.close()

    render = statistics.median(renders)
    print(f"run page in Chromium (Playwright), {rounds} fresh page loads, median")
    print(f"   {'figure':<44} {'value':>10}  goal")
    print(
        f"   {f'time to first render, {events:,}-event run':<44} {render:7.0f} ms  "
        f"<= {RENDER_GOAL_MS:g} ms: {'met' if render <= RENDER_GOAL_MS else 'NOT met'}"
    )
    print(f"\nlive run followed over SSE, {seconds:g} s per rate")
    print(
        f"   {'asked':>8} {'tokens':>7} {'shown':>7} {'live':>6} {'page rate':>10} "
        f"{'end lag':>9}  kept up"
    )
    kept = 0.0
    for row in live:
        ok = (
            row["shown"] >= row["tokens"]
            and row["live"] >= row["tokens"] / 2  # followed live, not read after the end
            and row["lag"] <= LAG_LIMIT_S
        )
        if ok:
            kept = max(kept, row["asked"])
        print(
            f"   {row['asked']:>6.0f}/s {row['tokens']:>7.0f} {row['shown']:>7.0f} "
            f"{row['live']:>6.0f} {row['rate']:>8.0f}/s {row['lag']:>7.2f} s  "
            f"{'yes' if ok else 'no'}"
        )
    print(
        f"   goal: keeps up with >= {RATE_GOAL:g} tokens/s: {kept:g} tokens/s, "
        f"{'met' if kept >= RATE_GOAL else 'NOT met'}"
    )
    write_rows(
        args.summary,
        [
            Row(
                "ui",
                f"run page: first render, {events:,}-event run",
                "ms",
                render,
                RENDER_GOAL_MS,
                "max",
            ),
            Row("ui", "run page: live token rate kept up with", "tokens/s", kept, RATE_GOAL, "min"),
        ],
    )


if __name__ == "__main__":
    main()
