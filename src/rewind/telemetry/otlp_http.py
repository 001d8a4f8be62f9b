"""The OTLP/HTTP span exporter, taking rewind's span records pre-encoded.

:class:`OTLPSpanExporter` is OpenTelemetry's OTLP/HTTP (protobuf) exporter, same constructor,
same environment variables. Given SDK spans (:meth:`~OTLPSpanExporter.export`) it is that exporter
unchanged; given span records (:meth:`~OTLPSpanExporter.export_records`) it encodes them with
:func:`rewind.telemetry.otlp.encode_records` and sends the bytes as its own ``export`` sends what
it encodes: the same shutdown check, exporter metrics, request size limit and HTTP client
(endpoint, headers, compression, timeout, retries). An exporter version without those pieces gets
SDK spans instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as _Base
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SpanExportResult

from rewind.telemetry.otel import to_readables
from rewind.telemetry.otlp import RecordExporter, encode_records
from rewind.telemetry.spans import SpanRecord

__all__ = ["OTLPSpanExporter"]

_logger = logging.getLogger("opentelemetry.exporter.otlp.proto.http.trace_exporter")

try:
    from opentelemetry.exporter.otlp.proto.http._common import (
        RequestPayloadTooLargeError,
        _is_request_too_large,
    )
    from opentelemetry.semconv.attributes.http_attributes import HTTP_RESPONSE_STATUS_CODE

    _SEAM = True
    """Whether this exporter version has what :meth:`OTLPSpanExporter.export_records` uses."""
except ImportError:  # pragma: no cover - an older exporter: SDK spans
    _SEAM = False


class OTLPSpanExporter(_Base, RecordExporter):
    """OpenTelemetry's OTLP/HTTP span exporter that also sends span records pre-encoded."""

    def export_records(self, records: Sequence[SpanRecord], resource: Resource) -> SpanExportResult:
        """Export ``records`` as :meth:`export` exports their SDK spans, encoded directly."""
        if not _SEAM or not _has_seam(self):
            return self.export(to_readables(records, resource))
        if self._shutdown:
            _logger.warning("Exporter already shutdown, ignoring batch")
            return SpanExportResult.FAILURE
        with self._metrics.export_operation(len(records)) as result:
            try:
                data = encode_records(records, resource).SerializePartialToString()
            except Exception as error:
                _logger.error("Failed to encode span batch: %s", error)
                result.error = error
                return SpanExportResult.FAILURE
            if _is_request_too_large(data, self._max_request_size):
                _logger.warning(
                    "Dropping span batch: serialized size %d bytes exceeds max_request_size %d "
                    "bytes.",
                    len(data),
                    self._max_request_size,
                )
                result.error = RequestPayloadTooLargeError(
                    f"Serialized span request size {len(data)} bytes exceeds max_request_size "
                    f"{self._max_request_size} bytes."
                )
                return SpanExportResult.FAILURE
            sent = self._client.export(data)
            if not sent.success:
                result.error = sent.error
                result.error_attrs = (
                    {HTTP_RESPONSE_STATUS_CODE: sent.status_code}
                    if sent.status_code is not None
                    else None
                )
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS


def _has_seam(exporter: Any) -> bool:
    """Whether ``exporter`` has the parts of its ``export`` that send encoded bytes."""
    return (
        hasattr(getattr(exporter, "_client", None), "export")
        and hasattr(getattr(exporter, "_metrics", None), "export_operation")
        and hasattr(exporter, "_max_request_size")
        and hasattr(exporter, "_shutdown")
    )
