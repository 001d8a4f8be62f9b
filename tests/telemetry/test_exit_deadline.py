"""A dead, stalled or rejecting collector costs ``rewind run`` at most its exit deadline.

The real console script runs the demo graph with the live mirror pointed at a collector that
cannot take its spans, over each protocol: a closed port, a socket that accepts and never
answers, and a collector that answers "try later" (HTTP 503, gRPC UNAVAILABLE: the answers the
OTLP exporters retry for up to their 10 s timeout). Each process must exit 0 within a few seconds
of its last output (the deadline is 1 s), with its run intact in the log, one line on stderr
saying how many spans were not delivered and naming ``rewind export``, and that export must then
deliver exactly those spans.

The six runs go at once into one database, then one export back-fills them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from rewind.events import RunStatus
from rewind.log import open_log
from tests.cli.conftest import Cli
from tests.telemetry.receiver import free_port, running

HI = json.dumps({"messages": [{"role": "user", "content": "What is 6 times 7?"}]})
BOUND = 5.0
"""Seconds from the run's last output to the process's exit: generous; the deadline is 1 s."""
PROTOCOLS = {"http": "http/protobuf", "grpc": "grpc"}
UNDELIVERED = re.compile(r"(\d+) spans were not delivered to the OTLP collector")


@contextlib.contextmanager
def closed_port(protocol: str) -> Iterator[int]:
    """A loopback port nothing listens on."""
    yield free_port()


@contextlib.contextmanager
def silent(protocol: str) -> Iterator[int]:
    """A loopback socket that accepts connections and never answers on them."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def hold() -> None:
        with contextlib.suppress(OSError):  # the listener closed: stop
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


class _Unavailable(trace_service_pb2_grpc.TraceServiceServicer):
    def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNAVAILABLE, "try later")


class _Busy(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def rejecting(protocol: str) -> Iterator[int]:
    """A collector that answers every export with "try later" (503, or gRPC UNAVAILABLE)."""
    if protocol == "grpc":
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_Unavailable(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        try:
            yield port
        finally:
            server.stop(grace=None).wait()
        return
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
    http.daemon_threads = True
    thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield int(http.server_address[1])
    finally:
        http.shutdown()
        http.server_close()
        thread.join(5)


COLLECTORS: dict[str, Callable[[str], contextlib.AbstractContextManager[int]]] = {
    "closed port": closed_port,
    "accepts, never answers": silent,
    "rejects (503 / UNAVAILABLE)": rejecting,
}


@dataclass
class Exit:
    """A ``rewind run`` timed to its exit."""

    case: str
    code: int = -1
    stderr: list[str] = field(default_factory=list)
    after_output: float = 0.0
    """Seconds from its last line of output (the graph's last chunk) to its exit: closing the
    mirror, reporting how the run ended, and the interpreter's exit."""

    @property
    def run_id(self) -> str:
        return self.stderr[0].split()[1]  # "run RUN thread THREAD"


def timed(proc: subprocess.Popen[str], result: Exit) -> None:
    """Read ``proc``'s output as it comes, and time its exit from the last line of it."""
    assert proc.stdout is not None and proc.stderr is not None
    last = [time.monotonic()]

    def read_stdout(stdout: IO[str]) -> None:
        for _ in stdout:
            last[0] = time.monotonic()

    with proc:
        reader = threading.Thread(target=read_stdout, args=(proc.stdout,), daemon=True)
        reader.start()
        result.stderr = [line.rstrip("\n") for line in proc.stderr]
        result.code = proc.wait(timeout=60)
        reader.join(5)
    result.after_output = time.monotonic() - last[0]


def run_against_each_collector(cli: Cli) -> list[Exit]:
    """``rewind run`` of the demo graph against each collector over each protocol, into one
    database: the three collectors of a protocol at once (each process pays Python's start-up,
    so one after another would take several times as long; all six at once crowd two cores
    enough to slow an exit by seconds), one protocol after the other."""
    exits: list[Exit] = []
    for kind, protocol in PROTOCOLS.items():
        with contextlib.ExitStack() as stack:
            readers = []
            for name, collector in COLLECTORS.items():
                port = stack.enter_context(collector(kind))
                env = {
                    "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
                    "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
                }
                proc = cli.start("run", "rewind.cli.demo:graph", "--input", HI, env=env)
                exits.append(Exit(f"{name} over {kind}"))
                reader = threading.Thread(target=timed, args=(proc, exits[-1]), daemon=True)
                reader.start()
                readers.append(reader)
            for reader in readers:
                reader.join(60)
    print("EXIT " + ", ".join(f"{e.case} {e.after_output:.2f} s" for e in exits))
    return exits


def assert_intact(db: Path, runs: list[str]) -> None:
    """Each run ended as it would without telemetry, and its log verifies."""

    async def check() -> None:
        log = await open_log(str(db))
        try:
            for run_id in runs:
                assert (await log.get_run(run_id)).status == RunStatus.SUCCESS
                assert (await log.verify_chain(run_id)).ok
        finally:
            await log.aclose()

    asyncio.run(check())


def test_rewind_run_exits_within_the_deadline_whatever_the_collector(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    assert_intact(tmp_path / "rewind.db", [])  # the database made once, before the runs race
    exits = run_against_each_collector(cli)

    undelivered: dict[str, int] = {}
    for result in exits:
        said = "\n".join(result.stderr)
        assert result.code == 0, f"{result.case}: exited {result.code}: {said}"
        assert result.after_output < BOUND, f"{result.case}: {result.after_output:.1f} s: {said}"
        (line,) = [x for x in result.stderr if "rewind export" in x or UNDELIVERED.search(x)]
        found = UNDELIVERED.search(line)
        assert found and f"`rewind export {result.run_id}`" in line, line
        assert f"run {result.run_id} ended: success" in said
        undelivered[result.run_id] = int(found[1])
    assert_intact(tmp_path / "rewind.db", list(undelivered))

    with running("http") as receiver:  # back-fill: the log still has every span
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.port}"}
        cli.run("export", "--since", "1h", env=env).ok()
        spans = receiver.spans()
    sent = Counter(str(span.attributes["rewind.run_id"]) for span in spans)
    assert sent == undelivered  # every span a run did not deliver, and no other
