"""A real OTLP trace receiver on 127.0.0.1, over gRPC and HTTP (protobuf), for the tests.

Built on ``opentelemetry-proto`` and ``grpcio``: the real OTLP exporters send to it as to any
collector. It can also misbehave as collectors do: stall (hold each request until released) or
reject (answer with an error).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

Behaviour = Literal["accept", "stall", "reject"]


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as the receiver got it, decoded from OTLP protobuf."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: int
    start_ns: int
    end_ns: int
    events: tuple[tuple[str, int, tuple[tuple[str, Any], ...]], ...]
    links: tuple[tuple[str, str], ...]
    status_code: int
    status_message: str
    attributes: dict[str, Any] = field(hash=False)
    resource: dict[str, Any] = field(compare=False, hash=False)


def free_port() -> int:
    """A port nothing listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return tuple(_value(v) for v in value.array_value.values)
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


def _attrs(items: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in items}


class Receiver:
    """Collects the spans of OTLP export requests (see the gRPC and HTTP subclasses)."""

    protocol: str = ""

    def __init__(self) -> None:
        self.behaviour: Behaviour = "accept"
        self.release = threading.Event()
        """Set to let stalled requests go (answered as accepted-but-late: their spans dropped)."""
        self.requests = 0
        self.headers: list[dict[str, str]] = []
        self._spans: list[ReceivedSpan] = []
        self._lock = threading.Lock()
        self.port = free_port()

    @property
    def endpoint(self) -> str:
        raise NotImplementedError

    def spans(self) -> list[ReceivedSpan]:
        """Every span received so far, in arrival order."""
        with self._lock:
            return list(self._spans)

    def clear(self) -> None:
        with self._lock:
            self._spans.clear()

    def handle(self, request: trace_service_pb2.ExportTraceServiceRequest) -> bool:
        """Take one request as the behaviour says; whether it was accepted."""
        with self._lock:
            self.requests += 1
        if self.behaviour == "stall":
            self.release.wait(30)
            return False
        if self.behaviour == "reject":
            return False
        received = []
        for resource_spans in request.resource_spans:
            resource = _attrs(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(_decode(span, resource))
        with self._lock:
            self._spans += received
        return True

    def stop(self) -> None:
        self.release.set()


def _decode(span: Any, resource: dict[str, Any]) -> ReceivedSpan:
    return ReceivedSpan(
        name=span.name,
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_id=span.parent_span_id.hex(),
        kind=span.kind,
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
        attributes=_attrs(span.attributes),
        events=tuple(
            (e.name, e.time_unix_nano, tuple(sorted(_attrs(e.attributes).items())))
            for e in span.events
        ),
        links=tuple((link.trace_id.hex(), link.span_id.hex()) for link in span.links),
        status_code=span.status.code,
        status_message=span.status.message,
        resource=resource,
    )


class GrpcReceiver(Receiver, trace_service_pb2_grpc.TraceServiceServicer):
    """OTLP/gRPC on ``127.0.0.1:port``."""

    protocol = "grpc"

    def __init__(self) -> None:
        super().__init__()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, self._server)
        self._server.add_insecure_port(f"127.0.0.1:{self.port}")
        self._server.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.headers.append({k: v for k, v in context.invocation_metadata()})
        if not self.handle(request):
            # Not retryable: the exporter gives up at once rather than for its whole timeout.
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "rejected by the test receiver")
        return trace_service_pb2.ExportTraceServiceResponse()

    def stop(self) -> None:
        super().stop()
        self._server.stop(grace=None).wait()


class HttpReceiver(Receiver):
    """OTLP/HTTP (protobuf) on ``http://127.0.0.1:port/v1/traces``."""

    protocol = "http/protobuf"

    def __init__(self) -> None:
        super().__init__()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.headers.append({k.lower(): v for k, v in self.headers.items()})
                request = trace_service_pb2.ExportTraceServiceRequest()
                request.ParseFromString(body)
                ok = self.path == "/v1/traces" and receiver.handle(request)
                reply = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
                try:
                    self.send_response(200 if ok else 400)
                    self.send_header("Content-Type", "application/x-protobuf")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:  # the exporter gave up waiting (a stalled request)
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/traces"

    def stop(self) -> None:
        super().stop()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def exporter_for(
    receiver: Receiver | None, *, port: int | None = None, timeout: float = 2.0
) -> Any:
    """A real OTLP exporter of the receiver's protocol pointed at it (or at a dead ``port``)."""
    protocol = receiver.protocol if receiver is not None else "http/protobuf"
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        endpoint = receiver.endpoint if receiver else f"http://127.0.0.1:{port}"
        return OTLPSpanExporter(endpoint=endpoint, insecure=True, timeout=timeout)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http

    endpoint = receiver.endpoint if receiver else f"http://127.0.0.1:{port}/v1/traces"
    return Http(endpoint=endpoint, timeout=timeout)


@contextlib.contextmanager
def running(kind: str) -> Iterator[Receiver]:
    """A receiver of ``kind`` (``grpc`` or ``http``), stopped afterwards."""
    receiver: Receiver = GrpcReceiver() if kind == "grpc" else HttpReceiver()
    try:
        yield receiver
    finally:
        receiver.stop()
