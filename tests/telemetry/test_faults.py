"""A collector that is down, slow or rejecting never gets in a run's way; an export back-fills."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.events import RunStatus
from rewind.telemetry import SpanKind, SpanRecord, attach_mirror, export_runs, run_spans
from rewind.telemetry.delivery import EXIT_TIMEOUT_VAR, Delivery, read_exit_timeout
from rewind.trace_ids import span_id_for
from tests.telemetry import graphs
from tests.telemetry.receiver import exporter_for, free_port, running
from tests.telemetry.support import assert_one_trace_per_run, mirrored

TIMEOUT = 0.3  # seconds an exporter waits for the collector: short, so these tests stay fast


async def all_scenarios(saver: AsyncSqliteSaver) -> list[str]:
    runs: list[str] = []
    for scenario in graphs.SCENARIOS.values():
        runs += await scenario(saver)
    return runs


async def assert_log_complete(saver: AsyncSqliteSaver, runs: list[str]) -> int:
    """Every run ended as it would without telemetry and its log is intact; returns how many
    spans the runs have."""
    store = await saver.log()
    spans = 0
    for run_id in runs:
        record = await store.get_run(run_id)
        assert record.status in (RunStatus.SUCCESS, RunStatus.INTERRUPTED, RunStatus.ERROR)
        assert (await store.verify_chain(run_id)).ok
        spans += len(await run_spans(store, run_id))
    statuses = [(await store.get_run(r)).status for r in runs]
    assert statuses.count(RunStatus.ERROR) == 1  # only the scenario's deliberately broken graph
    return spans


async def backfill(saver: AsyncSqliteSaver, runs: list[str], kind: str) -> None:
    """A later export delivers every span of the runs, with the ids the log derives."""
    store = await saver.log()
    with running(kind) as receiver:
        result = await export_runs(store, runs, exporter=exporter_for(receiver))
        spans = receiver.spans()
    assert result.spans_failed == 0
    assert result.spans_exported == len(spans)
    assert_one_trace_per_run(spans, runs)
    roots = {s.span_id for s in spans if not s.parent_id}
    assert roots == {f"{span_id_for(r, 0):016x}" for r in runs}


@pytest.mark.parametrize("kind", ["http", "grpc"])
async def test_collector_down_runs_finish_and_spans_are_counted_dropped(
    saver: AsyncSqliteSaver, kind: str
) -> None:
    nobody: Any = None
    if kind == "grpc":
        with running("grpc") as gone:  # a gRPC endpoint whose server has stopped
            pass
        exporter = exporter_for(gone, timeout=TIMEOUT)
    else:
        exporter = exporter_for(nobody, port=free_port(), timeout=TIMEOUT)
    runs, mirror = await mirrored(saver, all_scenarios, exporter)
    total = await assert_log_complete(saver, runs)
    assert mirror.exported_spans == 0
    assert mirror.dropped_spans == total
    await backfill(saver, runs, kind)


@pytest.mark.parametrize("kind", ["http", "grpc"])
async def test_slow_collector_runs_finish_and_the_queue_overflow_is_counted(
    saver: AsyncSqliteSaver, kind: str
) -> None:
    with running(kind) as receiver:
        receiver.behaviour = "stall"  # holds every request until released
        exporter = exporter_for(receiver, timeout=TIMEOUT)
        runs, mirror = await mirrored(saver, all_scenarios, exporter, max_queue=4, batch_size=2)
        total = await assert_log_complete(saver, runs)
        assert receiver.requests > 0
        assert receiver.spans() == []
        assert mirror.exported_spans == 0
        assert mirror.dropped_spans == total  # overflowed, or sent and timed out
    await backfill(saver, runs, kind)


@pytest.mark.parametrize("kind", ["http", "grpc"])
async def test_rejecting_collector_runs_finish_and_export_reports_failures(
    saver: AsyncSqliteSaver, kind: str
) -> None:
    with running(kind) as receiver:
        receiver.behaviour = "reject"
        runs, mirror = await mirrored(saver, all_scenarios, exporter_for(receiver, timeout=TIMEOUT))
        total = await assert_log_complete(saver, runs)
        assert mirror.dropped_spans == total
        store = await saver.log()
        result = await export_runs(store, runs, exporter=exporter_for(receiver, timeout=TIMEOUT))
        assert result.spans_exported == 0
        assert result.spans_failed == total
        assert receiver.spans() == []
    await backfill(saver, runs, kind)


async def test_a_mirror_on_a_closed_store_stops_quietly(saver: AsyncSqliteSaver) -> None:
    with running("http") as receiver:
        store = await saver.log()
        mirror = attach_mirror(store, exporter=exporter_for(receiver))
        await mirror.wait_ready()
        runs = await graphs.async_nodes(saver)
        await saver.aclose()  # the store goes away under the mirror
        await mirror.aclose()
        assert mirror.closed
    assert len(runs) == 1


class Unanswered(SpanExporter):
    """An exporter whose calls wait until it is shut down: a collector that never answers, as
    the delivery thread sees it. With ``stuck`` its shutdown waits too, until ``release``."""

    def __init__(self, *, stuck: bool = False) -> None:
        self.stuck = stuck
        self.answer = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        self.shut_down = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.calls += 1
        self.answer.wait(30)
        return SpanExportResult.SUCCESS  # too late: the deadline has passed

    def shutdown(self) -> None:
        self.shut_down = True
        if self.stuck:
            self.release.wait(30)
        self.answer.set()


def records(run_id: str, n: int) -> list[SpanRecord]:
    now = datetime.now(UTC)
    return [
        SpanRecord(
            name=f"node {i}",
            trace_id=1,
            span_id=i + 1,
            parent_id=0,
            kind=SpanKind.INTERNAL,
            start=now,
            end=now,
            attributes={},
            run_id=run_id,
            seq=i,
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("stuck", [False, True], ids=["shutdown returns", "shutdown blocks"])
def test_delivery_shutdown_gives_up_at_its_deadline(stuck: bool) -> None:
    exporter = Unanswered(stuck=stuck)
    delivery = Delivery(exporter, Resource.create(), batch_size=2, exit_timeout=0.3)
    delivery.offer(records("r1", 2))  # one batch, sent and never answered
    while not exporter.calls:
        time.sleep(0.005)
    delivery.offer(records("r2", 3))  # queued behind it
    started = time.monotonic()
    assert delivery.shutdown(close_exporter=True) is False
    assert time.monotonic() - started < 0.5
    assert exporter.shut_down
    assert (delivery.failed, delivery.overflowed, delivery.exported) == (2, 3, 0)
    assert delivery.incomplete_runs == {"r1", "r2"}
    exporter.release.set()
    exporter.answer.set()  # an answer after the deadline is not counted
    time.sleep(0.05)
    assert (delivery.failed, delivery.exported) == (2, 0)
    assert delivery.shutdown(0.3) is True  # once only


def test_delivery_shutdown_is_quick_when_all_is_delivered() -> None:
    exporter = InMemorySpanExporter()
    delivery = Delivery(exporter, Resource.create(), exit_timeout=5.0)
    delivery.offer(records("r1", 3))
    started = time.monotonic()
    assert delivery.shutdown() is True
    assert time.monotonic() - started < 1.0  # not the partial batch's delay, not the timeout
    assert (delivery.exported, delivery.dropped, delivery.incomplete_runs) == (3, 0, set())


def test_the_exit_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EXIT_TIMEOUT_VAR, raising=False)
    assert read_exit_timeout() == 1.0
    for text, seconds in (("0.25", 0.25), (" 3 ", 3.0), ("0", 0.0)):
        monkeypatch.setenv(EXIT_TIMEOUT_VAR, text)
        assert read_exit_timeout() == seconds
    for bad in ("soon", "-1", "nan", "inf"):
        monkeypatch.setenv(EXIT_TIMEOUT_VAR, bad)
        with pytest.raises(ValueError, match=f"{EXIT_TIMEOUT_VAR}='{bad}' is not a number"):
            read_exit_timeout()


async def test_a_bad_exit_timeout_is_refused_when_the_mirror_is_attached(
    saver: AsyncSqliteSaver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(EXIT_TIMEOUT_VAR, "soon")
    with pytest.raises(ValueError, match=EXIT_TIMEOUT_VAR):
        attach_mirror(await saver.log(), exporter=InMemorySpanExporter())


async def test_closing_the_mirror_waits_the_exit_timeout_then_says_what_to_export(
    saver: AsyncSqliteSaver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(EXIT_TIMEOUT_VAR, "0.3")
    exporter = Unanswered()
    store = await saver.log()
    mirror = attach_mirror(store, exporter=exporter)
    await mirror.wait_ready()
    runs = await graphs.async_nodes(saver)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="rewind.telemetry"):
        await mirror.aclose()
    assert time.monotonic() - started < 0.6
    assert not exporter.shut_down  # an exporter passed in is the caller's to shut down
    total = len(await run_spans(store, runs[0]))
    assert mirror.dropped_spans == total and mirror.exported_spans == 0
    (record,) = [r for r in caplog.records if r.name == "rewind.telemetry"]
    assert record.getMessage().startswith(f"live span mirror: {total} spans were not delivered")
    assert f"`rewind export {runs[0]}` back-fills them" in record.getMessage()
    assert "0.3 s" in record.getMessage()
    exporter.answer.set()
