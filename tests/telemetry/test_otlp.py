"""Span records encoded straight to OTLP: the request the SDK's encoder makes of their SDK spans,
byte for byte, and rewind's OTLP exporters sending it to a real receiver over HTTP and gRPC (or
SDK spans, where the exporter lacks the seam they use)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource

from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.telemetry import (
    ContentPolicy,
    SpanEvent,
    SpanKind,
    SpanRecord,
    SpanStatus,
    export_runs,
    otel,
    otlp_grpc,
    otlp_http,
)
from rewind.telemetry import otlp as otlp_module
from rewind.telemetry.export import run_spans
from rewind.telemetry.otel import exporter_from_env, resource_from_env, to_readables
from rewind.telemetry.otlp import RecordExporter, encode_records
from rewind.telemetry.spans import Origin
from tests.telemetry import graphs
from tests.telemetry.receiver import Receiver, exporter_for
from tests.telemetry.support import mirrored
from tests.telemetry.test_content import agent_run

ON = ContentPolicy(enabled=True)


async def demo_and_scenarios(saver: AsyncSqliteSaver) -> list[str]:
    """The demo agent (chat and tool spans, content on), a Send fan-out, a failed node and
    retries (error status, exception events), an interrupted run and the run resuming it (a
    link), a chat model with usage."""
    runs = await agent_run(saver)
    for scenario in ("send_fanout", "errors_retries", "interrupt_resume", "chat_and_tool"):
        runs += await graphs.SCENARIOS[scenario](saver)
    return runs


async def records_of(saver: AsyncSqliteSaver, runs: list[str]) -> list[SpanRecord]:
    store = await saver.log()
    return [r for run_id in runs for r in await run_spans(store, run_id, content=ON)]


def sdk_request(records: Sequence[SpanRecord], resource: Resource) -> ExportTraceServiceRequest:
    return encode_spans(to_readables(records, resource))


def assert_same_request(records: Sequence[SpanRecord], resource: Resource) -> None:
    ours, theirs = encode_records(records, resource), sdk_request(records, resource)
    assert ours == theirs
    assert ours.SerializeToString() == theirs.SerializeToString()


async def test_records_encode_to_what_the_sdk_s_encoder_makes(saver: AsyncSqliteSaver) -> None:
    records = await records_of(saver, await demo_and_scenarios(saver))
    # The runs cover what the encoding has to get right.
    assert any(r.links for r in records)
    assert any(r.status is SpanStatus.ERROR and r.status_message for r in records)
    assert any(e.attributes for r in records for e in r.events)
    assert any(r.kind == "client" for r in records)
    assert any(r.parent_id == 0 for r in records) and any(r.parent_id for r in records)
    assert any(isinstance(v, list | tuple) for r in records for v in r.attributes.values())
    assert any(r.name.startswith("work") for r in records)  # the Send fan-out's tasks
    resource = resource_from_env()
    assert_same_request(records, resource)
    for record in records:  # one at a time too (each is a request of its own)
        assert_same_request([record], resource)
    assert_same_request([], resource)
    assert_same_request(records, Resource({"service.name": "other", "deployment": "x", "n": 3}))


def test_odd_values_encode_as_the_sdk_s_encoder_has_them(caplog: pytest.LogCaptureFixture) -> None:
    """Values rewind's spans do not have today, encoded (or left out) as the SDK does."""
    record = SpanRecord(
        name="odd",
        trace_id=1,
        span_id=2,
        parent_id=3,
        kind=SpanKind.INTERNAL,
        start=_ts(1),
        end=_ts(2),
        attributes={
            "empty": "",
            "zero": 0,
            "false": False,
            "float": 0.5,
            "none": None,
            "empty list": [],
            "mixed": ("a", 1, True, 2.5, None, [1, ["deep"]]),
            "mapping": {"x": 1, 2: [None], "y": {"z": b"q"}},
            "bytes": b"\x00\x01",
            "too big": 2**70,
            "too big inside": ["x", 2**70],
            "not a value": object(),
            "after": "kept",
            "unicode": "é\u2603",
        },
        events=(
            SpanEvent(name="with", ts=_ts(1.5), attributes={"k": 1, "bad": object()}),
            SpanEvent(name="without", ts=_ts(1.75)),
        ),
        status=SpanStatus.ERROR,
        status_message="ValueError: boom",
        links=(Origin(trace_id=5, span_id=6), Origin(trace_id=7, span_id=8)),
    )
    resource = resource_from_env()
    with caplog.at_level(logging.WARNING):
        assert_same_request([record], resource)
    assert "'too big' left out" in caplog.text
    # A message on a span that did not fail is dropped, as the SDK's Status drops it.
    ok = dataclasses.replace(record, status=SpanStatus.OK, status_message="fine", parent_id=0)
    unset = dataclasses.replace(record, status=SpanStatus.UNSET, attributes={}, links=())
    assert_same_request([ok, unset, record], resource)


def _ts(seconds: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(1_700_000_000 + seconds, UTC)


def rewind_exporter_for(receiver: Receiver, *, timeout: float = 2.0) -> Any:
    """Rewind's OTLP exporter of the receiver's protocol, pointed at it."""
    if receiver.protocol == "grpc":
        return otlp_grpc.OTLPSpanExporter(
            endpoint=receiver.endpoint, insecure=True, timeout=timeout
        )
    return otlp_http.OTLPSpanExporter(endpoint=receiver.endpoint, timeout=timeout)


async def test_rewind_s_exporters_deliver_what_the_sdk_s_deliver(
    saver: AsyncSqliteSaver, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = await demo_and_scenarios(saver)
    store = await saver.log()
    sdk = await export_runs(store, runs, exporter=exporter_for(receiver), content=ON)
    expected = receiver.spans()
    receiver.clear()

    def refuse(*args: Any) -> Any:
        raise AssertionError("an SDK span was built")

    with monkeypatch.context() as patch:
        patch.setattr(otel, "to_readable", refuse)
        patch.setattr(otlp_module, "to_readable", refuse)
        exporter = rewind_exporter_for(receiver)
        ours = await export_runs(store, runs, exporter=exporter, content=ON, batch_size=7)
        exporter.shutdown()
    got = receiver.spans()
    assert ours.spans_failed == 0 and ours.spans_exported == sdk.spans_exported == len(got)
    assert sorted(got, key=lambda s: s.span_id) == sorted(expected, key=lambda s: s.span_id)
    assert [s.resource for s in got] == [s.resource for s in expected]


async def test_the_default_exporters_are_rewind_s(
    saver: AsyncSqliteSaver, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the ``OTEL_*`` variables describe (the CLI's and the mirror's default) takes the
    records pre-encoded, live and after the fact."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", receiver.protocol)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "true")
    exporter = exporter_from_env()
    assert isinstance(exporter, RecordExporter)
    exporter.shutdown()

    built: list[int] = []
    real = otel.to_readable

    def counted(*args: Any) -> Any:
        built.append(1)
        return real(*args)

    monkeypatch.setattr(otel, "to_readable", counted)
    runs, mirror = await mirrored(saver, graphs.send_fanout, None)
    live = receiver.spans()
    assert mirror.exported_spans == len(live) > 0 and mirror.dropped_spans == 0
    receiver.clear()
    store = await saver.log()
    result = await export_runs(store, runs)
    assert result.spans_failed == 0
    assert set(receiver.spans()) == set(live)
    assert not built


async def test_without_the_seam_the_exporters_send_sdk_spans(
    saver: AsyncSqliteSaver, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = await graphs.errors_retries(saver) + await graphs.interrupt_resume(saver)
    store = await saver.log()
    await export_runs(store, runs, exporter=exporter_for(receiver))
    expected = set(receiver.spans())
    receiver.clear()

    built: list[int] = []
    real = otel.to_readable

    def counted(*args: Any) -> Any:
        built.append(1)
        return real(*args)

    monkeypatch.setattr(otel, "to_readable", counted)
    module = otlp_grpc if receiver.protocol == "grpc" else otlp_http
    monkeypatch.setattr(module, "_SEAM", False)
    exporter = rewind_exporter_for(receiver)
    result = await export_runs(store, runs, exporter=exporter)
    exporter.shutdown()
    assert result.spans_failed == 0
    assert set(receiver.spans()) == expected
    assert len(built) == len(expected)


def test_the_http_exporter_checks_its_instance_for_the_seam(http_receiver: Receiver) -> None:
    exporter = rewind_exporter_for(http_receiver)
    try:
        assert otlp_http._has_seam(exporter)
        assert not otlp_http._has_seam(object())
    finally:
        exporter.shutdown()


def test_a_user_s_exporter_gets_sdk_spans() -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from rewind.telemetry.delivery import send

    record = SpanRecord(
        name="n",
        trace_id=1,
        span_id=2,
        parent_id=0,
        kind=SpanKind.INTERNAL,
        start=_ts(1),
        end=_ts(2),
        attributes={"a": 1},
    )
    exporter = InMemorySpanExporter()
    assert send(exporter, [record], resource_from_env())
    (span,) = exporter.get_finished_spans()
    assert span.name == "n" and span.attributes == {"a": 1}
