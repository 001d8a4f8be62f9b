"""``rewind export`` and the live span mirror of ``rewind run``, against a real OTLP receiver.

The receiver is an HTTP server on 127.0.0.1 that decodes OTLP/HTTP protobuf trace requests
(``ExportTraceServiceRequest`` from ``opentelemetry-proto``), as a collector would.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.cli.conftest import Cli

HI = json.dumps({"messages": [{"role": "user", "content": "What is 6 times 7?"}]})


@dataclass(frozen=True)
class Span:
    """One received span, with what the tests look at."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]


@dataclass
class Receiver:
    """Spans received so far, and the endpoint to send them to."""

    endpoint: str
    spans: list[Span] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> list[Span]:
        with self.lock:
            out, self.spans = self.spans, []
        return out

    def env(self) -> dict[str, str]:
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        }


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request = ExportTraceServiceRequest.FromString(body)
            spans = [
                Span(
                    name=span.name,
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex(),
                    attributes={a.key: _value(a.value) for a in span.attributes},
                )
                for resource in request.resource_spans
                for scope in resource.scope_spans
                for span in scope.spans
            ]
            with state.lock:
                state.spans.extend(spans)
            reply = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = Receiver(endpoint=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_export_delivers_a_stored_runs_spans(cli: Cli, receiver: Receiver) -> None:
    run = cli.run("run", "rewind.cli.demo:graph", "--input", HI, "--thread", "x1").ok()
    assert receiver.take() == []  # no endpoint was configured for the run: nothing mirrored
    exported = cli.run("export", run.run_id(), env=receiver.env()).ok()
    assert f"to {receiver.endpoint}" in exported.stderr
    spans = receiver.take()
    (root,) = [s for s in spans if s.name == "invoke_workflow demo-agent"]
    assert {s.trace_id for s in spans} == {root.trace_id}
    assert root.attributes.get("gen_ai.conversation.id") == "x1"
    assert any(s.name == "execute_tool multiply" for s in spans)
    by_id = {s.span_id: s for s in spans}
    for span in spans:  # every span hangs under the run's span
        while span.parent_span_id:
            span = by_id[span.parent_span_id]
        assert span == root

    # Spans are rebuilt from the log: exporting again (here by thread) sends the same spans.
    cli.run("export", "--thread", "x1", env=receiver.env()).ok()
    assert sorted((s.span_id, s.name) for s in receiver.take()) == sorted(
        (s.span_id, s.name) for s in spans
    )


def test_run_mirrors_spans_live_when_an_endpoint_is_set(cli: Cli, receiver: Receiver) -> None:
    run = cli.run("run", "rewind.cli.demo:graph", "--input", HI, env=receiver.env()).ok()
    mirrored = receiver.take()
    assert any(s.name == "invoke_workflow demo-agent" for s in mirrored)
    cli.run("export", run.run_id(), env=receiver.env()).ok()
    exported = receiver.take()
    assert sorted((s.span_id, s.name) for s in mirrored) == sorted(
        (s.span_id, s.name) for s in exported
    )


def test_export_exits_1_when_spans_cannot_be_delivered(cli: Cli) -> None:
    run = cli.run("run", "rewind.cli.demo:graph", "--input", HI).ok()
    dead = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",  # the discard port: nobody listens
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "2",
    }
    failed = cli.run("export", run.run_id(), env=dead)
    unset = cli.run("export", run.run_id())
    assert failed.code == 1
    assert "could not be delivered to http://127.0.0.1:9" in failed.stderr
    assert unset.code == 2
    assert "no OTLP endpoint configured: set OTEL_EXPORTER_OTLP_ENDPOINT" in unset.stderr
