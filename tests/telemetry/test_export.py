"""Post-hoc export: the live spans again, from the stored log, with the same ids and times."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from rewind import EventLog, NewEvent, open_log, run_started
from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.errors import UnknownRunError
from rewind.telemetry import attach_mirror, export_run, export_runs
from tests.telemetry import graphs
from tests.telemetry.receiver import Receiver, exporter_for
from tests.telemetry.support import assert_one_trace_per_run, mirrored


@pytest.mark.parametrize("scenario", list(graphs.SCENARIOS))
async def test_live_spans_equal_exported_spans(
    saver: AsyncSqliteSaver, receiver: Receiver, scenario: str
) -> None:
    runs, _ = await mirrored(saver, graphs.SCENARIOS[scenario], exporter_for(receiver))
    live = receiver.spans()
    receiver.clear()
    store = await saver.log()
    result = await export_runs(store, runs, exporter=exporter_for(receiver))
    exported = receiver.spans()
    assert result.runs == len(runs)
    assert result.spans_exported == len(exported) == len(live)
    assert result.spans_failed == 0
    # names, ids, parents, kinds, times, attributes, events, links, status: all equal
    assert set(exported) == set(live)


async def test_exporting_twice_gives_the_same_spans(
    saver: AsyncSqliteSaver, http_receiver: Receiver, tmp_path: object
) -> None:
    runs = await graphs.subgraphs(saver) + await graphs.interrupt_resume(saver)
    await saver.aclose()
    # another store on the same file, as a later process would open it
    store = await open_log(saver.path)
    try:
        first = await export_runs(store, runs, exporter=exporter_for(http_receiver))
        once = http_receiver.spans()
        http_receiver.clear()
        await export_runs(store, runs, exporter=exporter_for(http_receiver))
        twice = http_receiver.spans()
    finally:
        await store.aclose()
    assert first.spans_exported == len(once) > 0
    assert set(once) == set(twice)
    assert_one_trace_per_run(once, runs)


async def test_export_run_exports_one_run_and_reports_progress(
    saver: AsyncSqliteSaver, grpc_receiver: Receiver
) -> None:
    runs = await graphs.parallel(saver) + await graphs.send_fanout(saver)
    store = await saver.log()
    result = await export_run(store, runs[0], exporter=exporter_for(grpc_receiver))
    assert result.runs == 1
    assert {s.attributes["rewind.run_id"] for s in grpc_receiver.spans()} == {runs[0]}
    seen: list[tuple[int, int]] = []
    await export_runs(
        store, runs, exporter=InMemorySpanExporter(), progress=lambda *a: seen.append(a)
    )
    assert seen == [(1, 2), (2, 2)]


async def test_bad_run_ids_fail_before_anything_is_sent(saver: AsyncSqliteSaver) -> None:
    runs = await graphs.async_nodes(saver)
    store = await saver.log()
    exporter = InMemorySpanExporter()
    with pytest.raises(UnknownRunError, match="no-such-run"):
        await export_runs(store, [*runs, "no-such-run"], exporter=exporter)
    with pytest.raises(TypeError, match="run ids are strings"):
        await export_runs(store, [*runs, 42], exporter=exporter)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="needs an EventLog"):
        await export_runs("runs.db", runs, exporter=exporter)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs an EventLog"):
        attach_mirror("runs.db", exporter=exporter)  # type: ignore[arg-type]
    assert exporter.get_finished_spans() == ()


def test_attach_mirror_outside_an_event_loop_is_a_clear_error(tmp_path: Path) -> None:
    async def a_store() -> EventLog:
        store = await open_log(tmp_path / "runs.db")
        await store.aclose()  # the check comes first: a closed store is fine for it
        return store

    store = asyncio.run(a_store())
    with pytest.raises(RuntimeError, match="needs the running event loop"):
        attach_mirror(store, exporter=InMemorySpanExporter())


async def test_a_run_that_never_ended_exports_its_open_spans_only_when_asked(
    tmp_path: Path,
) -> None:
    store = await open_log(tmp_path / "crashed.db")
    try:
        started = NewEvent(
            type="task.started", step=0, node="work", task_id="t-1", payload={"name": "work"}
        )
        await store.append(
            "crashed", [run_started(thread_id="t", graph="g"), started], expected_seq=0
        )
        await store.flush()
        left_out = InMemorySpanExporter()
        assert (await export_runs(store, ["crashed"], exporter=left_out)).spans_exported == 0
        closed = InMemorySpanExporter()
        result = await export_runs(store, ["crashed"], exporter=closed, close_open=True)
        spans = {s.name: s for s in closed.get_finished_spans()}
    finally:
        await store.aclose()
    assert result.spans_exported == 2
    assert spans["work"].parent.span_id == spans["invoke_workflow g"].context.span_id
    assert spans["work"].end_time == spans["invoke_workflow g"].end_time
