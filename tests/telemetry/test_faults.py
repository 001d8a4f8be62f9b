"""A collector that is down, slow or rejecting never gets in a run's way; an export back-fills."""

from __future__ import annotations

from typing import Any

import pytest

from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.events import RunStatus
from rewind.telemetry import export_runs, run_spans
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
        from rewind.telemetry import attach_mirror

        mirror = attach_mirror(store, exporter=exporter_for(receiver))
        await mirror.wait_ready()
        runs = await graphs.async_nodes(saver)
        await saver.aclose()  # the store goes away under the mirror
        await mirror.aclose()
        assert mirror.closed
    assert len(runs) == 1
