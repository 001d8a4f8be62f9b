"""The OTLP/gRPC span exporter, taking rewind's span records pre-encoded.

:class:`OTLPSpanExporter` is OpenTelemetry's OTLP/gRPC exporter, same constructor, same
environment variables. Given SDK spans it is that exporter unchanged; given span records
(:meth:`~OTLPSpanExporter.export_records`) it encodes them once with
:func:`rewind.telemetry.otlp.encode_records` and hands the request to the exporter's own export
through ``_translate_data``, the hook it has for subclasses: channel, headers, compression,
timeout, retries and metrics are the base exporter's. An exporter version without that hook gets
SDK spans instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as _Base
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SpanExportResult

from rewind.telemetry.otel import to_readables
from rewind.telemetry.otlp import EncodedBatch, RecordExporter
from rewind.telemetry.spans import SpanRecord

__all__ = ["OTLPSpanExporter"]

_SEAM = hasattr(_Base, "_translate_data") and hasattr(_Base, "_export")
"""Whether the base exporter sends what ``_translate_data`` makes of the batch it exports."""


class OTLPSpanExporter(_Base, RecordExporter):
    """OpenTelemetry's OTLP/gRPC span exporter that also sends span records pre-encoded."""

    def export_records(self, records: Sequence[SpanRecord], resource: Resource) -> SpanExportResult:
        """Export ``records`` as :meth:`export` exports their SDK spans, encoded directly (once,
        whatever the retries)."""
        if not _SEAM:
            return self.export(to_readables(records, resource))
        return self.export(EncodedBatch(records, resource))

    def _translate_data(self, data: Any) -> Any:
        if isinstance(data, EncodedBatch):
            return data.request
        return super()._translate_data(data)
