"""OpenTelemetry spans built from the log, live and after the fact.

A run's spans are a pure fold of its events (:mod:`rewind.telemetry.spans`): the run span
``invoke_workflow {graph}``, a span per node task, ``chat {model}`` and ``execute_tool {tool}``
spans with the GenAI semantic-convention attributes. Ids come from the log, so the live mirror
(:func:`attach_mirror`) and a later export (:func:`export_runs`) send the very same spans. The OTLP
exporter is the one the standard ``OTEL_*`` variables describe; no global provider is set.
"""

from __future__ import annotations

from rewind.telemetry.content import ContentPolicy
from rewind.telemetry.export import ExportResult, export_run, export_runs, run_spans
from rewind.telemetry.mirror import Mirror, attach_mirror
from rewind.telemetry.otel import (
    exporter_from_env,
    otlp_endpoint_configured,
    otlp_protocol,
    resource_from_env,
    to_readable,
)
from rewind.telemetry.spans import (
    Origin,
    RunSpans,
    SpanEvent,
    SpanKind,
    SpanRecord,
    SpanStatus,
    build_spans,
)

__all__ = [
    "attach_mirror",
    "Mirror",
    "export_run",
    "export_runs",
    "ExportResult",
    "run_spans",
    "ContentPolicy",
    "exporter_from_env",
    "otlp_endpoint_configured",
    "otlp_protocol",
    "resource_from_env",
    "to_readable",
    "build_spans",
    "RunSpans",
    "SpanRecord",
    "SpanEvent",
    "SpanKind",
    "SpanStatus",
    "Origin",
]
