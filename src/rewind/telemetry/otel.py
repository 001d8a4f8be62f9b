"""Span records as OpenTelemetry SDK spans, and the OTLP exporter the environment asks for.

The SDK's ``ReadableSpan`` takes the ids and timestamps rewind chooses, so spans built from the log
go through any standard exporter unchanged. Nothing here touches the global tracer provider.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime

from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from rewind.log.chain import to_micros
from rewind.telemetry.spans import SpanKind as RecordKind
from rewind.telemetry.spans import SpanRecord, SpanStatus

__all__ = [
    "DEFAULT_PROTOCOL",
    "SCOPE_NAME",
    "exporter_from_env",
    "otlp_endpoint_configured",
    "otlp_protocol",
    "resource_from_env",
    "to_readable",
]

DEFAULT_PROTOCOL = "http/protobuf"
"""The OTLP protocol when none is configured, as the OpenTelemetry specification says."""
_PROTOCOLS = ("grpc", "http/protobuf")
SCOPE_NAME = "rewind"
"""The instrumentation scope of rewind's spans."""
_SCOPE = InstrumentationScope(SCOPE_NAME)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_KINDS = {RecordKind.INTERNAL: SpanKind.INTERNAL, RecordKind.CLIENT: SpanKind.CLIENT}
_STATUS = {
    SpanStatus.UNSET: StatusCode.UNSET,
    SpanStatus.OK: StatusCode.OK,
    SpanStatus.ERROR: StatusCode.ERROR,
}


def otlp_endpoint_configured() -> bool:
    """Whether ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set."""
    return any(
        os.environ.get(name, "").strip()
        for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def otlp_protocol() -> str:
    """The OTLP protocol the environment names (``_TRACES_`` first), ``http/protobuf`` if none.

    Raises:
        ValueError: the environment names a protocol rewind cannot export with.
    """
    for name in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        value = os.environ.get(name, "").strip().lower()
        if value:
            if value not in _PROTOCOLS:
                raise ValueError(
                    f"{name}={value!r} is not an OTLP protocol rewind exports with; use one of "
                    f"{', '.join(_PROTOCOLS)}"
                )
            return value
    return DEFAULT_PROTOCOL


def exporter_from_env() -> SpanExporter:
    """The standard OTLP span exporter the ``OTEL_*`` variables describe.

    The protocol comes from ``OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL``; the exporter itself reads
    the endpoint, headers, timeout, compression and certificates from the usual variables, the
    ``_TRACES_`` variants first. It is the OpenTelemetry exporter of that protocol, subclassed to
    take rewind's span records pre-encoded (:mod:`rewind.telemetry.otlp`).
    """
    if otlp_protocol() == "grpc":
        from rewind.telemetry.otlp_grpc import OTLPSpanExporter as GrpcExporter

        return GrpcExporter()
    from rewind.telemetry.otlp_http import OTLPSpanExporter as HttpExporter

    return HttpExporter()


def resource_from_env() -> Resource:
    """The resource spans are exported with: ``OTEL_SERVICE_NAME`` and
    ``OTEL_RESOURCE_ATTRIBUTES`` as the SDK reads them, service name ``rewind`` when unset."""
    resource = Resource.create()
    name = str(resource.attributes.get(SERVICE_NAME, ""))
    if not name or name.startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "rewind"}))
    return resource


def to_readable(record: SpanRecord, resource: Resource) -> ReadableSpan:
    """The SDK span of a record, with the record's ids, times, status, events and links."""
    context = SpanContext(record.trace_id, record.span_id, False, _SAMPLED)
    parent = (
        SpanContext(record.trace_id, record.parent_id, False, _SAMPLED)
        if record.parent_id
        else None
    )
    return ReadableSpan(
        name=record.name,
        context=context,
        parent=parent,
        resource=resource,
        attributes=record.attributes,
        events=[
            Event(e.name, attributes=e.attributes, timestamp=_nanos(e.ts)) for e in record.events
        ],
        links=[
            Link(SpanContext(o.trace_id, o.span_id, False, _SAMPLED), {"rewind.link": "origin"})
            for o in record.links
        ],
        kind=_KINDS[record.kind],
        status=Status(_STATUS[record.status], record.status_message),
        start_time=_nanos(record.start),
        end_time=_nanos(record.end),
        instrumentation_scope=_SCOPE,
    )


def to_readables(records: Sequence[SpanRecord], resource: Resource) -> list[ReadableSpan]:
    """:func:`to_readable` of each record."""
    return [to_readable(r, resource) for r in records]


def _nanos(ts: datetime) -> int:
    # Exact: the log keeps microseconds, and float seconds would round some of them.
    return to_micros(ts) * 1000
