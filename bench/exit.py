"""What a collector that cannot take spans costs ``rewind run`` at exit.

The live span mirror gives the collector at most ``REWIND_OTEL_EXIT_TIMEOUT`` seconds (1 s by
default) at exit, then leaves what it could not deliver to ``rewind export``. This times the
whole ``rewind run`` process (the demo graph, ``rewind.cli.demo:graph``, a database per
configuration) with telemetry off, and with the mirror pointed at each collector that cannot
take spans, over OTLP/HTTP and OTLP/gRPC:

- **closed port**: a loopback port nothing listens on;
- **silent**: a loopback socket that accepts connections and never answers;
- **rejecting**: a collector that answers every export "try later" (HTTP 503, gRPC UNAVAILABLE),
  which the exporters retry for up to their 10 s timeout;

and, for reference, a **healthy** collector over each protocol: telemetry has a cost of its own
at exit whatever the collector does (the exporter's libraries are loaded, so the interpreter
takes longer to shut down), which is not what a failing collector costs.

The configurations take turns, one process each per round (each round starting one further
along, so drift falls on all); the figures are medians. Per configuration: the whole process's
wall time and its ratio to telemetry off, and the exit time (from the graph's last line of output
to the process's exit) with what it adds to telemetry off's and to the healthy collector's of the
same protocol. The goal: what a failing collector adds to the exit, against a healthy one, is at
most 1 s; the extra against telemetry off is printed beside it.

    python bench/exit.py [--rounds 7] [--quick] [--summary FILE]

With ``--summary FILE`` the worst extra exit time of a failing collector (against a healthy one)
is appended to FILE as a row of the summary table (``bench/summary.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from summary import Row, write_rows

REWIND = Path(sys.executable).parent / "rewind"
INPUT = json.dumps({"messages": [{"role": "user", "content": "What is 6 times 7?"}]})
GOAL = 1.0
"""Most seconds a collector that cannot take spans may add to the exit."""
COLLECTORS = ("healthy", "closed port", "silent", "rejecting")
PROTOCOLS = {"http": "http/protobuf", "grpc": "grpc"}


# --- collectors that cannot take spans ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def silent() -> Iterator[int]:
    """A loopback socket that accepts connections and never answers on them."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def hold() -> None:
        with contextlib.suppress(OSError):
            while True:
                held.append(listener.accept()[0])

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(5)
        for conn in held:
            conn.close()


@contextlib.contextmanager
def serving_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextlib.contextmanager
def serving_grpc(servicer: Any) -> Iterator[int]:
    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield port
    finally:
        server.stop(grace=None).wait()


@contextlib.contextmanager
def rejecting_http() -> Iterator[int]:
    class Busy(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving_http(Busy) as port:
        yield port


@contextlib.contextmanager
def rejecting_grpc() -> Iterator[int]:
    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    class Unavailable(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:
            context.abort(grpc.StatusCode.UNAVAILABLE, "try later")

    with serving_grpc(Unavailable()) as port:
        yield port


@contextlib.contextmanager
def healthy_http() -> Iterator[int]:
    class Accept(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving_http(Accept) as port:
        yield port


@contextlib.contextmanager
def healthy_grpc() -> Iterator[int]:
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

    class Accept(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:
            return trace_service_pb2.ExportTraceServiceResponse()

    with serving_grpc(Accept()) as port:
        yield port


# --- timing one process ---------------------------------------------------------------------


@dataclass
class Config:
    """One way to run: telemetry off, or a collector over a protocol."""

    name: str
    collector: str
    """``off``, ``healthy``, or the way the collector fails."""
    kind: str
    """``http`` or ``grpc`` (nothing for telemetry off)."""
    env: dict[str, str]
    cwd: Path
    walls: list[float]
    exits: list[float]
    warned: int = 0
    """Runs whose stderr had the one line saying how many spans were not delivered."""


def run_once(config: Config) -> None:
    """Run ``rewind run`` once in ``config``; note its wall time and its exit time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REWIND_", "OTEL_"))}
    env.update({"PYTHONUNBUFFERED": "1", "NO_COLOR": "1", **config.env})
    last: list[float] = []

    def read(stdout: IO[str]) -> None:
        for _ in stdout:
            last.append(time.perf_counter())

    started = time.perf_counter()
    with subprocess.Popen(
        [str(REWIND), "run", "rewind.cli.demo:graph", "--input", INPUT],
        cwd=config.cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        reader = threading.Thread(target=read, args=(proc.stdout,), daemon=True)
        reader.start()
        stderr = proc.stderr.read()
        code = proc.wait()
        ended = time.perf_counter()
        reader.join(5)
    if code != 0 or not last:
        raise RuntimeError(f"{config.name}: rewind run exited {code}: {stderr}")
    config.walls.append(ended - started)
    config.exits.append(ended - last[-1])
    said = [line for line in stderr.splitlines() if "rewind export" in line]
    config.warned += len(said) == 1 and "spans were not delivered" in said[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="processes per configuration")
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    parser.add_argument("--summary", help="append the summary rows to this file (JSON lines)")
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    if not REWIND.exists():
        raise SystemExit(f"the console script is not installed at {REWIND}")

    tmp = Path(tempfile.mkdtemp(prefix="rewind-bench-exit-"))
    with contextlib.ExitStack() as stack:
        ports = {
            ("healthy", "http"): stack.enter_context(healthy_http()),
            ("healthy", "grpc"): stack.enter_context(healthy_grpc()),
            ("closed port", "http"): free_port(),
            ("closed port", "grpc"): free_port(),
            ("silent", "http"): stack.enter_context(silent()),
            ("silent", "grpc"): stack.enter_context(silent()),
            ("rejecting", "http"): stack.enter_context(rejecting_http()),
            ("rejecting", "grpc"): stack.enter_context(rejecting_grpc()),
        }
        configs = [Config("telemetry off", "off", "", {}, tmp / "off", [], [])]
        for collector in COLLECTORS:
            for kind, protocol in PROTOCOLS.items():
                env = {
                    "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{ports[collector, kind]}",
                    "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
                }
                cwd = tmp / f"{collector.replace(' ', '-')}-{kind}"
                configs.append(Config(f"{collector}, {kind}", collector, kind, env, cwd, [], []))
        for config in configs:
            config.cwd.mkdir()
            run_once(config)  # warm-up: the database made, the files in the page cache
            config.walls.clear()
            config.exits.clear()
            config.warned = 0
        for i in range(rounds):
            for config in configs[i % len(configs) :] + configs[: i % len(configs)]:
                run_once(config)

    off = configs[0]
    off_wall, off_exit = statistics.median(off.walls), statistics.median(off.exits)
    healthy = {c.kind: statistics.median(c.exits) for c in configs if c.collector == "healthy"}
    print(
        f"rewind run of the demo graph, whole process: {rounds} rounds of {len(configs)} "
        "configurations, interleaved, median; exit = from the last line of output to exit"
    )
    print(
        f"   {'configuration':<20} {'wall':>7} {'ratio':>6} {'exit':>7} {'vs off':>8} "
        f"{'vs healthy':>11}  warned once"
    )
    worst, worst_off = 0.0, 0.0
    for config in configs:
        wall, exit_time = statistics.median(config.walls), statistics.median(config.exits)
        failing = config.collector not in ("off", "healthy")
        versus_off = "-" if config is off else f"{exit_time - off_exit:+6.2f} s"
        versus_healthy = "-"
        warned = "-" if config is off else f"{config.warned}/{rounds}"
        if failing:
            extra = exit_time - healthy[config.kind]
            worst, worst_off = max(worst, extra), max(worst_off, exit_time - off_exit)
            versus_healthy = f"{extra:+6.2f} s"
        print(
            f"   {config.name:<20} {wall:5.2f} s {wall / off_wall:5.2f}x {exit_time:5.2f} s "
            f"{versus_off:>8} {versus_healthy:>11}  {warned}"
        )
    print(
        f"   goal: extra exit time <= {GOAL:g} s (a failing collector against a healthy one): "
        f"worst {worst:.2f} s, {'met' if worst <= GOAL else 'NOT met'} "
        f"(against telemetry off: worst {worst_off:.2f} s)"
    )
    figure = "rewind run exit, collector down/silent/rejecting vs healthy: extra (worst of 6)"
    write_rows(args.summary, [Row("exit", figure, "s", worst, GOAL, "max")])


if __name__ == "__main__":
    main()
