"""Telemetry costs: the live span mirror's overhead on the step bench, and post-hoc export speed.

1. **Live overhead.** The step bench's graphs (``bench/steps.py``: ``linear``, ten one-task
   super-steps; ``fanout``, five parallel tasks then a join), rewind ``SqliteSaver`` on a file,
   ``durability="async"``, invoked from sync code on a new thread each time: without telemetry,
   and with the span mirror attached to the saver's store, exporting over OTLP/HTTP to a real
   receiver in another process. The two alternate invoke by invoke; the figure is the median
   invoke time, and the ratio with/without (goal <= 1.2).
2. **Post-hoc export.** Every run the first part recorded, and runs of a 50-wide ``Send``
   fan-out, are exported again from the log (``export_runs``) to the receiver over OTLP/HTTP
   and over OTLP/gRPC: spans per second (goal >= 10,000), and the receiver's count as a check.

    python bench/telemetry.py [--invokes 150] [--rounds 5] [--warmup 10] [--wide-runs 200]
                              [--quick] [--summary FILE]

With ``--summary FILE`` the goals are also appended to FILE as rows of the summary table
(``bench/summary.py``): the two live ratios with/without, and the two export rates.

The receiver is ``python bench/telemetry.py --serve``: an OTLP receiver (gRPC and HTTP, built on
``opentelemetry-proto`` and ``grpcio``) that parses every request and counts its spans.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import steps
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.graph import END, START, StateGraph
from rewind.runtime.loops import run_sync
from rewind.telemetry import Mirror, attach_mirror, export_runs
from summary import Row, write_rows

KINDS = ("linear", "fanout")


# --- the receiver (child process) -------------------------------------------------------------


def serve() -> None:
    """Run an OTLP receiver (HTTP and gRPC) on free loopback ports; print them; count spans."""
    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

    counts = {"spans": 0, "requests": 0}

    def take(request: Any) -> None:
        counts["requests"] += 1
        counts["spans"] += sum(
            len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans
        )

    class Service(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:
            take(request)
            return trace_service_pb2.ExportTraceServiceResponse()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = trace_service_pb2.ExportTraceServiceRequest()
            request.ParseFromString(self.rfile.read(int(self.headers["Content-Length"])))
            take(request)
            self._reply(trace_service_pb2.ExportTraceServiceResponse().SerializeToString())

        def do_GET(self) -> None:
            self._reply(json.dumps(counts).encode())

        def _reply(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Service(), server)
    grpc_port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(json.dumps({"http": http.server_address[1], "grpc": grpc_port}), flush=True)
    http.serve_forever()


@contextlib.contextmanager
def receiver() -> Iterator[dict[str, int]]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        yield json.loads(child.stdout.readline())
    finally:
        child.terminate()
        child.wait()


def received(ports: dict[str, int]) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{ports['http']}/", timeout=10) as response:
        return int(json.load(response)["spans"])


# Rewind's OTLP exporters, the ones the CLI, the mirror and export_runs make by default (they take
# span records pre-encoded; the SDK's own classes would be sent SDK spans).


def http_exporter(ports: dict[str, int]) -> Any:
    from rewind.telemetry.otlp_http import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=f"http://127.0.0.1:{ports['http']}/v1/traces")


def grpc_exporter(ports: dict[str, int]) -> Any:
    from rewind.telemetry.otlp_grpc import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=f"http://127.0.0.1:{ports['grpc']}", insecure=True)


# --- 1. live overhead -------------------------------------------------------------------------


def invoke(graph: Any, kind: str) -> float:
    config = {"configurable": {"thread_id": uuid.uuid4().hex}}
    start = time.perf_counter()
    out = graph.invoke({"x": 0, "hits": []}, config, durability="async")
    elapsed = time.perf_counter() - start
    if out["x"] != steps.expected(kind):
        raise RuntimeError(f"{kind}: got {out!r}")
    return elapsed


async def attach(saver: SqliteSaver, ports: dict[str, int]) -> Mirror:
    mirror = attach_mirror(await saver.log(), exporter=http_exporter(ports))
    await mirror.wait_ready()
    return mirror


def live_overhead(
    args: argparse.Namespace, tmp: Path, ports: dict[str, int], rows: list[Row]
) -> list[str]:
    per_round = max(1, args.invokes // args.rounds)
    plain = SqliteSaver(str(tmp / "plain.db"))
    mirrored = SqliteSaver(str(tmp / "mirrored.db"))
    graphs = {
        (name, kind): steps.build(kind, StateGraph, START, END).compile(checkpointer=saver)
        for name, saver in (("without", plain), ("with mirror", mirrored))
        for kind in KINDS
    }
    mirror = run_sync(attach(mirrored, ports))
    times: dict[tuple[str, str], list[float]] = {key: [] for key in graphs}
    for key, graph in graphs.items():
        for _ in range(args.warmup):
            invoke(graph, key[1])
    for _ in range(args.rounds):
        gc.collect()
        for kind in KINDS:
            for i in range(per_round):  # alternate, each first in turn: drift falls on both
                order = ("without", "with mirror") if i % 2 else ("with mirror", "without")
                for name in order:
                    times[name, kind].append(invoke(graphs[name, kind], kind))
    run_sync(mirror.aclose())
    plain.close()
    mirrored.close()
    n = per_round * args.rounds
    print(
        f"1. live mirror overhead: {n} timed invokes per graph and configuration "
        f"({args.rounds} rounds, after {args.warmup} warm-up), rewind SqliteSaver async, median"
    )
    med = {key: statistics.median(value) for key, value in times.items()}
    for kind in KINDS:
        without, with_ = med["without", kind], med["with mirror", kind]
        ratio = with_ / without
        print(
            f"   {kind:<7} without {without * 1e3:7.2f} ms/invoke   with mirror "
            f"{with_ * 1e3:7.2f} ms/invoke   ratio {ratio:4.2f}x   goal <= 1.2x: "
            f"{'met' if ratio <= 1.2 else 'NOT met'}"
        )
        figure = f"live span mirror, {kind} graph, invoke time with / without"
        rows.append(Row("telemetry", figure, "x", ratio, 1.2, "max"))
    print(
        f"   mirror: {mirror.exported_spans:,} spans exported live, "
        f"{mirror.dropped_spans:,} dropped; receiver got {received(ports):,}"
    )
    return [str(tmp / "mirrored.db")]


# --- 2. post-hoc export -----------------------------------------------------------------------


async def export_all(path: str, exporter: Any) -> tuple[int, int, float]:
    from rewind import open_log

    store = await open_log(path)
    try:
        runs = [r.run_id for r in await store.list_runs(oldest_first=True)]
        start = time.perf_counter()
        result = await export_runs(store, runs, exporter=exporter)
        elapsed = time.perf_counter() - start
        exporter.shutdown()
    finally:
        await store.aclose()
    if result.spans_failed:
        raise RuntimeError(f"{result.spans_failed} spans failed to export")
    return result.runs, result.spans_exported, elapsed


async def record_wide(path: str, runs: int, width: int) -> None:
    """Add ``runs`` runs of a fan-out graph: a node that sends ``width`` tasks (Send)."""
    from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
    from rewind.types import Send

    builder = StateGraph(steps.State)
    builder.add_node("plan", lambda state: {"x": 0})
    builder.add_node("work", lambda arg: {"hits": [arg]})
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", lambda state: [Send("work", i) for i in range(width)])
    builder.add_edge("work", END)
    saver = AsyncSqliteSaver(path)
    graph = builder.compile(checkpointer=saver)
    for _ in range(runs):
        await graph.ainvoke({"x": 0, "hits": []}, {"configurable": {"thread_id": uuid.uuid4().hex}})
    await saver.aclose()


def posthoc(path: str, ports: dict[str, int], wide_runs: int, rows: list[Row]) -> None:
    asyncio.run(record_wide(path, wide_runs, 50))
    print(
        f"2. post-hoc export of every run above and {wide_runs} runs of a 50-wide Send fan-out "
        "(read from the log, rebuilt, sent), median of 3"
    )
    for name, make in (("OTLP/HTTP", http_exporter), ("OTLP/gRPC", grpc_exporter)):
        rates, runs, spans = [], 0, 0
        for _ in range(3):
            before = received(ports)
            runs, spans, elapsed = asyncio.run(export_all(path, make(ports)))
            got = received(ports) - before
            if got != spans:
                raise RuntimeError(f"{name}: sent {spans} spans, the receiver got {got}")
            rates.append(spans / elapsed)
        rate = statistics.median(rates)
        print(
            f"   {name:<9} {runs:,} runs, {spans:,} spans: {rate:9,.0f} spans/s   goal >= 10,000: "
            f"{'met' if rate >= 10_000 else 'NOT met'}"
        )
        rows.append(Row("telemetry", f"post-hoc export, {name}", "spans/s", rate, 10_000, "min"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invokes", type=int, default=150, help="timed invokes per graph/config")
    parser.add_argument("--rounds", type=int, default=5, help="turns the configurations take")
    parser.add_argument("--warmup", type=int, default=10, help="untimed invokes first")
    parser.add_argument("--quick", action="store_true", help="30 invokes in 3 rounds, warm-up 3")
    parser.add_argument("--wide-runs", type=int, default=200, help="fan-out runs to export too")
    parser.add_argument("--summary", help="append the summary rows to this file (JSON lines)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    if args.quick:
        args.invokes, args.rounds, args.warmup, args.wide_runs = 30, 3, 3, 40
    tmp = Path(tempfile.mkdtemp(prefix="rewind-bench-telemetry-"))
    rows: list[Row] = []
    with receiver() as ports:
        (path,) = live_overhead(args, tmp, ports, rows)
        posthoc(path, ports, args.wide_runs, rows)
    write_rows(args.summary, rows)


if __name__ == "__main__":
    main()
