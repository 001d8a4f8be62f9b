"""The caller's trace: a run started inside a span joins its trace, from async and sync code;
which runs the mirror follows (runs already going, this process's runs)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from rewind import RunStatus, run_ended, run_started
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.graph import StateGraph
from rewind.telemetry import attach_mirror, export_runs
from tests.telemetry import graphs
from tests.telemetry.receiver import Receiver, exporter_for
from tests.telemetry.support import by_run


def two_steps() -> StateGraph[graphs.State]:
    g = StateGraph(graphs.State)
    g.add_node("a", lambda state: {"hits": ["a"]})
    g.add_node("b", lambda state: {"hits": ["b"]})
    return graphs.chain(g, "a", "b")


async def test_a_run_started_in_a_span_joins_the_callers_trace(
    saver: AsyncSqliteSaver, http_receiver: Receiver
) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter_for(http_receiver)))
    tracer = provider.get_tracer("caller")
    graph = two_steps().compile(checkpointer=saver)
    with tracer.start_as_current_span("request") as request:
        await graph.ainvoke({"hits": []}, {"configurable": {"thread_id": "in-span"}})
    provider.shutdown()
    store = await saver.log()
    (run,) = [r.run_id for r in await store.list_runs()]
    await export_runs(store, [run], exporter=exporter_for(http_receiver))
    spans = {s.name: s for s in http_receiver.spans()}
    context = request.get_span_context()
    root = spans["invoke_workflow LangGraph"]
    assert root.trace_id == f"{context.trace_id:032x}"
    assert root.parent_id == f"{context.span_id:016x}"
    assert {s.trace_id for s in spans.values()} == {root.trace_id}


def test_sync_invoke_in_a_span_joins_the_callers_trace(
    tmp_path: Path, http_receiver: Receiver
) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter_for(http_receiver)))
    tracer = provider.get_tracer("caller")
    with SqliteSaver.from_conn_string(str(tmp_path / "runs.db")) as saver:
        graph = two_steps().compile(checkpointer=saver)
        with tracer.start_as_current_span("request") as request:
            graph.invoke({"hits": []}, {"configurable": {"thread_id": "sync"}})
    provider.shutdown()

    async def export() -> None:
        store = await AsyncSqliteSaver(str(tmp_path / "runs.db")).open_log()
        try:
            runs = [r.run_id for r in await store.list_runs()]
            await export_runs(store, runs, exporter=exporter_for(http_receiver))
        finally:
            await store.aclose()

    asyncio.run(export())
    spans = {s.name: s for s in http_receiver.spans()}
    context = request.get_span_context()
    root = spans["invoke_workflow LangGraph"]
    assert root.trace_id == f"{context.trace_id:032x}"
    assert root.parent_id == f"{context.span_id:016x}"
    assert spans["a"].trace_id == spans["b"].trace_id == root.trace_id


async def test_the_mirror_picks_up_a_run_already_going(
    saver: AsyncSqliteSaver, grpc_receiver: Receiver
) -> None:
    await graphs.interrupt_resume(saver)  # runs that ended before the mirror is attached
    store = await saver.log()
    started, release = asyncio.Event(), asyncio.Event()
    gate = StateGraph(graphs.State)

    async def early(state: graphs.State) -> dict[str, list[str]]:
        started.set()
        return {"hits": ["early"]}

    async def wait(state: graphs.State) -> dict[str, list[str]]:
        await release.wait()
        return {"hits": ["waited"]}

    gate.add_node("early", early)
    gate.add_node("wait", wait)
    graph = graphs.chain(gate, "early", "wait").compile(checkpointer=saver)
    running = asyncio.ensure_future(
        graph.ainvoke({"hits": []}, {"configurable": {"thread_id": "going"}})
    )
    await started.wait()
    await store.flush()
    mirror = attach_mirror(store, exporter=exporter_for(grpc_receiver))
    await mirror.wait_ready()
    release.set()
    await running
    await mirror.aclose()
    (run,) = [r.run_id for r in await store.list_runs(thread_id="going")]
    live = by_run(grpc_receiver.spans())
    assert set(live) == {run}  # runs that had ended before it was attached are not sent
    assert {s.name for s in live[run]} == {
        "invoke_workflow LangGraph",
        "early",
        "wait",
    }
    grpc_receiver.clear()
    await export_runs(store, [run], exporter=exporter_for(grpc_receiver))
    assert set(grpc_receiver.spans()) == set(live[run])


async def test_the_mirror_sends_this_process_runs_unless_told_to_watch_all(
    saver: AsyncSqliteSaver,
) -> None:
    store = await saver.log()
    own, every = InMemorySpanExporter(), InMemorySpanExporter()
    mirrors = [
        attach_mirror(store, exporter=own),
        attach_mirror(store, exporter=every, all_processes=True),
    ]
    for mirror in mirrors:
        await mirror.wait_ready()
    elsewhere = {"process": {"host": "another-host", "pid": 1}}  # as another process records it
    await store.append(
        "foreign",
        [run_started(thread_id="x", graph="theirs", extra=elsewhere), run_ended(RunStatus.SUCCESS)],
        expected_seq=0,
    )
    (run,) = await graphs.async_nodes(saver)
    for mirror in mirrors:
        await mirror.aclose()
    assert {s.attributes["rewind.run_id"] for s in own.get_finished_spans()} == {run}
    assert {s.attributes["rewind.run_id"] for s in every.get_finished_spans()} == {run, "foreign"}
