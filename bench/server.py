"""SSE fan-out: rewind's server against LangGraph's in-memory dev server, on loopback.

Each of C concurrent clients (the official async ``langgraph-sdk``) starts a run of the same
graph with ``runs.stream(..., stream_mode="custom")``; the graph's one node writes E custom
events, one every I ms, each carrying the wall-clock time it was written (for rewind, the
moment it is appended to the log). A client notes when each event arrives. Per server and per C:

* events/s delivered: all events received by all clients / the phase's wall time;
* latency from write to client, p50 and p99 (goal for rewind: p99 < 50 ms at 100 clients);
* whether every client got every event exactly once, in order.

LangGraph's server is ``langgraph dev`` from ``langgraph-cli[inmem]`` in its own virtualenv
(made on first use; ``--peer-venv`` to reuse one), with ``--n-jobs-per-worker`` set to C so
both servers run every run at once. Clients and servers share the machine; the last lines are
the ratios rewind/LangGraph. If LangGraph's server cannot be installed or run, the bench says so
and goes on with rewind's figures alone.

With ``--summary FILE`` two rows are also appended to FILE for the summary table
(``bench/summary.py``), at 100 clients (or, when 100 is not among ``--clients``, as with
``--quick``, at the most clients measured): events/s delivered, rewind against LangGraph (goal:
ratio at least 1.0; not met when LangGraph's server did not run), and rewind's p99 latency (goal:
at most 50 ms).

    python bench/server.py [--clients 100 1000] [--events 20] [--interval-ms 50] [--quick]
                           [--summary FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from langgraph_sdk import get_client

from summary import Row, write_rows

PEER_PACKAGES = ["langgraph-cli[inmem]==0.4.40", "langgraph==1.2.22", "langchain-core==1.7.2"]

GRAPH = """
import asyncio
import time
from typing import Annotated, TypedDict
import operator

from {pkg}.config import get_stream_writer
from {pkg}.graph import END, START, StateGraph


class State(TypedDict, total=False):
    events: int
    interval: float
    done: Annotated[int, operator.add]


async def emit(state: State) -> dict:
    writer = get_stream_writer()
    for i in range(state["events"]):
        writer({{"i": i, "t": time.time()}})
        await asyncio.sleep(state["interval"])
    return {{"done": 1}}


builder = StateGraph(State)
builder.add_node("emit", emit)
builder.add_edge(START, "emit")
builder.add_edge("emit", END)
graph = builder.compile()
"""


def _app_dir(root: Path, pkg: str) -> Path:
    folder = root / pkg
    folder.mkdir()
    (folder / "graph.py").write_text(GRAPH.format(pkg=pkg))
    (folder / "langgraph.json").write_text(
        json.dumps({"dependencies": ["."], "graphs": {"fanout": "./graph.py:graph"}})
    )
    return folder


def _wait_ok(url: str, process: subprocess.Popen[Any], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} never answered /ok")


def start_rewind(root: Path) -> tuple[str, subprocess.Popen[Any]]:
    app = _app_dir(root, "rewind")
    log = (root / "rewind.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rewind.cli",
            "serve",
            "--db",
            str(root / "bench.db"),
            "--config",
            str(app / "langgraph.json"),
            "--port",
            "0",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(r"http://[\d.]+:\d+", (root / "rewind.log").read_text())
        if match:
            _wait_ok(match.group(0), process)
            return match.group(0), process
        time.sleep(0.05)
    raise RuntimeError("rewind's server did not start")


def peer_venv(path: Path | None) -> Path:
    venv = path or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / (
        "rewind-bench-langgraph-inmem"
    )
    if not (venv / "bin" / "langgraph").exists():
        print(f"making LangGraph's virtualenv in {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *PEER_PACKAGES], check=True)
    return venv.resolve()


def start_langgraph(root: Path, venv: Path, jobs: int) -> tuple[str, subprocess.Popen[Any]]:
    import socket

    app = _app_dir(root, "langgraph")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "LANGSMITH_TRACING": "false",
        "LANGCHAIN_TRACING_V2": "false",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGGRAPH_NO_VERSION_CHECK": "true",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    for key in ("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY", "LANGGRAPH_API_KEY"):
        env.pop(key, None)
    process = subprocess.Popen(
        [
            str(venv / "bin" / "langgraph"),
            "dev",
            "--no-browser",
            "--no-reload",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n-jobs-per-worker",
            str(jobs),
            "--allow-blocking",
        ],
        cwd=app,
        env=env,
        stdout=(root / "langgraph.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_ok(url, process)
    return url, process


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _client(client: Any, events: int, interval: float) -> tuple[list[int], list[float]]:
    order: list[int] = []
    latencies: list[float] = []
    async for part in client.runs.stream(
        None,
        "fanout",
        input={"events": events, "interval": interval},
        stream_mode="custom",
    ):
        if part.event == "custom":
            latencies.append(time.time() - part.data["t"])
            order.append(part.data["i"])
    return order, latencies


async def phase(url: str, clients: int, events: int, interval: float) -> dict[str, Any]:
    # The SDK's client pools 100 connections: at most 90 streams each leaves room for the rest.
    pool = [get_client(url=url, api_key=None) for _ in range(-(-clients // 90))]
    started = time.perf_counter()
    try:
        results = await asyncio.gather(
            *(_client(pool[n % len(pool)], events, interval) for n in range(clients))
        )
    finally:
        for client in pool:
            await client.aclose()
    wall = time.perf_counter() - started
    latencies = sorted(x for _, lat in results for x in lat)
    exact = all(order == list(range(events)) for order, _ in results)
    return {
        "events_per_s": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "exactly_once_in_order": exact,
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--interval-ms", type=float, default=50)
    parser.add_argument("--peer-venv", type=Path, default=None)
    parser.add_argument("--no-peer", action="store_true", help="measure rewind only")
    parser.add_argument("--quick", action="store_true", help="10 and 50 clients, 10 events")
    parser.add_argument("--summary", help="append the summary rows to this file (JSON lines)")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.events = [10, 50], 10
    interval = args.interval_ms / 1000
    # The clients' own full collections (of this process's imports) would stall every stream
    # at once and count as either server's latency: leave what is loaded now out of them.
    gc.collect()
    gc.freeze()
    venv = None
    if not args.no_peer:
        try:
            venv = peer_venv(args.peer_venv)
        except (subprocess.CalledProcessError, OSError) as error:
            print(f"LangGraph's virtualenv could not be made ({error}): rewind only", flush=True)
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url, process = start_rewind(root)
        try:
            for clients in args.clients:
                asyncio.run(phase(url, min(clients, 10), 3, interval))  # warm-up
                rows["rewind", clients] = asyncio.run(phase(url, clients, args.events, interval))
                _print("rewind", clients, rows["rewind", clients])
        finally:
            stop(process)
        if venv is not None:
            for clients in args.clients:
                folder = root / f"langgraph-{clients}"
                folder.mkdir()
                try:
                    url, process = start_langgraph(folder, venv, clients)
                except (RuntimeError, OSError) as error:
                    print(f"LangGraph's server did not start ({error})", flush=True)
                    continue
                try:
                    asyncio.run(phase(url, min(clients, 10), 3, interval))
                    rows["langgraph", clients] = asyncio.run(
                        phase(url, clients, args.events, interval)
                    )
                    _print("langgraph", clients, rows["langgraph", clients])
                except Exception as error:  # the peer's failure must not lose rewind's figures
                    print(f"LangGraph's server failed at {clients} clients: {error!r}", flush=True)
                finally:
                    stop(process)
    print()
    for clients in args.clients:
        ours, peer = rows["rewind", clients], rows.get(("langgraph", clients))
        goal = " (goal p99 < 50 ms)" if clients == 100 else ""
        line = f"{clients} clients: rewind p99 {ours['p99_ms']:.1f} ms{goal}"
        if peer:
            rate = ours["events_per_s"] / peer["events_per_s"]
            p50, p99 = ours["p50_ms"] / peer["p50_ms"], ours["p99_ms"] / peer["p99_ms"]
            line += f"; rewind/LangGraph events/s {rate:.2f}x, p50 {p50:.2f}x, p99 {p99:.2f}x"
        print(line)
    write_rows(args.summary, summary_rows(rows, args.clients))


def summary_rows(rows: dict[tuple[str, int], dict[str, Any]], counts: list[int]) -> list[Row]:
    """The rows for the summary table, at 100 clients (else at the most clients measured)."""
    clients = 100 if 100 in counts else max(counts)
    ours, peer = rows["rewind", clients], rows.get(("langgraph", clients))
    note = "" if clients == 100 else " (goal set at 100)"
    return [
        Row(
            "server",
            f"{clients} SSE clients, events/s delivered",
            "events/s",
            ours["events_per_s"],
            1.0,
            "ratio_min",
            peer["events_per_s"] if peer else None,
            "LangGraph dev server (inmem)",
        ),
        Row(
            "server",
            f"{clients} SSE clients, p99 latency write to client{note}",
            "ms",
            ours["p99_ms"],
            50.0,
            "max",
        ),
    ]


def _print(name: str, clients: int, row: dict[str, Any]) -> None:
    print(
        f"{name:9} {clients:5} clients: {row['events_per_s']:9.0f} events/s  "
        f"p50 {row['p50_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms  "
        f"exactly once, in order: {row['exactly_once_in_order']}  ({row['wall_s']:.1f} s)",
        flush=True,
    )


if __name__ == "__main__":
    main()
