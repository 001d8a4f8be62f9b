"""Spans of every graph shape, mirrored live into a real OTLP receiver (gRPC and HTTP)."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.graph import StateGraph
from rewind.telemetry import run_spans
from rewind.trace_ids import span_id_for
from tests.telemetry import graphs
from tests.telemetry.receiver import ReceivedSpan, Receiver, exporter_for
from tests.telemetry.support import assert_one_trace_per_run, by_run, mirrored

ERROR = 2  # OTLP status code
CLIENT = 3  # OTLP span kind


def named(spans: list[ReceivedSpan], name: str) -> list[ReceivedSpan]:
    return [s for s in spans if s.name == name]


def one(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    found = named(spans, name)
    assert len(found) == 1, f"{len(found)} spans named {name!r}: {[s.name for s in spans]}"
    return found[0]


@pytest.mark.parametrize("scenario", list(graphs.SCENARIOS))
async def test_one_trace_per_run_no_orphan_no_duplicate(
    saver: AsyncSqliteSaver, receiver: Receiver, scenario: str
) -> None:
    runs, mirror = await mirrored(saver, graphs.SCENARIOS[scenario], exporter_for(receiver))
    spans = receiver.spans()
    assert_one_trace_per_run(spans, runs)
    assert mirror.dropped_spans == 0
    store = await saver.log()
    expected = sum([len(await run_spans(store, r)) for r in runs])
    assert len(spans) == mirror.exported_spans == expected


async def test_async_nodes_are_children_of_the_run_span(
    saver: AsyncSqliteSaver, http_receiver: Receiver
) -> None:
    (run,), _ = await mirrored(saver, graphs.async_nodes, exporter_for(http_receiver))
    spans = http_receiver.spans()
    root = one(spans, "invoke_workflow LangGraph")
    assert root.span_id == f"{span_id_for(run, 0):016x}"
    assert root.trace_id == run.replace("-", "")  # no caller span: the run id is the trace id
    assert root.attributes["gen_ai.operation.name"] == "invoke_workflow"
    assert root.attributes["gen_ai.conversation.id"] == "async"
    assert root.attributes["rewind.run.status"] == "success"
    a, b = one(spans, "a"), one(spans, "b")
    assert a.parent_id == b.parent_id == root.span_id
    assert root.start_ns <= a.start_ns <= a.end_ns <= b.start_ns <= b.end_ns <= root.end_ns
    assert a.attributes["rewind.run_id"] == run
    assert isinstance(a.attributes["rewind.seq"], int)
    checkpoints = [e for e in root.events if e[0] == "checkpoint"]
    assert len(checkpoints) == 4  # input, after __start__, a and b


async def test_parallel_branches_are_siblings_that_overlap_in_one_step(
    saver: AsyncSqliteSaver, grpc_receiver: Receiver
) -> None:
    await mirrored(saver, graphs.parallel, exporter_for(grpc_receiver))
    spans = grpc_receiver.spans()
    root = one(spans, "invoke_workflow LangGraph")
    branches = [one(spans, name) for name in ("p0", "p1", "p2")]
    join = one(spans, "join")
    assert {s.parent_id for s in [*branches, join]} == {root.span_id}
    assert {s.attributes["rewind.step"] for s in branches} == {1}
    assert join.attributes["rewind.step"] == 2
    assert max(s.end_ns for s in branches) <= join.start_ns


async def test_send_fanout_gives_one_span_per_sent_task(
    saver: AsyncSqliteSaver, http_receiver: Receiver
) -> None:
    await mirrored(saver, graphs.send_fanout, exporter_for(http_receiver))
    spans = http_receiver.spans()
    root = one(spans, "invoke_workflow LangGraph")
    work = named(spans, "work")
    assert len(work) == 4
    assert len({s.attributes["rewind.task_id"] for s in work}) == 4
    assert {s.parent_id for s in work} == {root.span_id}
    assert sorted(s.attributes["rewind.task.send"] for s in work) == [0, 1, 2, 3]


async def test_subgraph_nodes_nest_under_the_node_that_runs_them(
    saver: AsyncSqliteSaver, receiver: Receiver
) -> None:
    await mirrored(saver, graphs.subgraphs, exporter_for(receiver))
    spans = receiver.spans()
    sub, calls = one(spans, "sub"), one(spans, "calls")
    for parent in (sub, calls):
        children = {s.name for s in spans if s.parent_id == parent.span_id}
        assert children == {"inner_a", "inner_b"}, parent.name  # no __start__ of its own
    inner = [s for s in spans if s.name == "inner_a"]
    assert all(s.attributes["rewind.ns"] for s in inner)
    # the subgraph's checkpoints are events of the node running it, not of the run span
    assert sum(e[0] == "checkpoint" for e in sub.events) == 4


async def test_a_node_s_second_graph_nests_under_it_too(
    saver: AsyncSqliteSaver, receiver: Receiver
) -> None:
    """A node that invokes a graph twice: the second runs under ``calls:<task id>|1``, its
    nodes' spans under the node's span as the first's."""
    called = graphs.inner_graph()

    async def calls(state: graphs.State) -> dict[str, Any]:
        await called.ainvoke({"hits": []})
        return {"hits": (await called.ainvoke({"hits": []}))["hits"]}

    async def twice(saver: AsyncSqliteSaver) -> list[str]:
        g = StateGraph(graphs.State)
        g.add_node("calls", calls)
        return await graphs._invoke(graphs.chain(g, "calls"), saver, "twice")

    await mirrored(saver, twice, exporter_for(receiver))
    spans = receiver.spans()
    node = one(spans, "calls")
    children = sorted(s.name for s in spans if s.parent_id == node.span_id)
    assert children == ["inner_a", "inner_a", "inner_b", "inner_b"]
    depths = sorted(str(s.attributes["rewind.ns"]).count("|") for s in named(spans, "inner_a"))
    assert depths == [0, 1]


async def test_interrupt_ends_the_node_span_and_the_resuming_run_links_to_it(
    saver: AsyncSqliteSaver, http_receiver: Receiver
) -> None:
    first, second = (await mirrored(saver, graphs.interrupt_resume, exporter_for(http_receiver)))[0]
    spans = by_run(http_receiver.spans())
    asked = one(spans[first], "ask")
    assert [e[0] for e in asked.events] == ["interrupt"]
    assert asked.attributes["rewind.task.interrupted"] is True
    root1 = one(spans[first], "invoke_workflow LangGraph")
    assert root1.attributes["rewind.run.status"] == "interrupted"
    root2 = one(spans[second], "invoke_workflow LangGraph")
    assert root2.trace_id != root1.trace_id  # a new trace...
    assert root2.links == ((root1.trace_id, root1.span_id),)  # ...linked to the one it resumes
    assert root2.attributes["rewind.origin.run_id"] == first
    assert next(e[0] for e in root2.events) == "resume"
    resumed = one(spans[second], "ask")
    assert resumed.parent_id == root2.span_id
    assert resumed.attributes["rewind.task_id"] == asked.attributes["rewind.task_id"]


async def test_retries_are_exception_events_and_a_final_failure_is_an_error(
    saver: AsyncSqliteSaver, grpc_receiver: Receiver
) -> None:
    ok_run, bad_run = (await mirrored(saver, graphs.errors_retries, exporter_for(grpc_receiver)))[0]
    spans = by_run(grpc_receiver.spans())
    flaky = one(spans[ok_run], "flaky")
    assert flaky.status_code != ERROR
    retries = [dict(e[2]) for e in flaky.events if e[0] == "exception"]
    assert [(r["rewind.attempt"], r["rewind.retrying"]) for r in retries] == [(1, True), (2, True)]
    assert retries[0]["exception.type"] == "ConnectionError"
    assert "flaky attempt 1" in retries[0]["exception.stacktrace"]
    broken = one(spans[bad_run], "broken")
    assert broken.status_code == ERROR
    assert broken.status_message == "RuntimeError: broken for good"
    (final,) = [dict(e[2]) for e in broken.events if e[0] == "exception"]
    assert final["exception.message"] == "broken for good"
    assert final["rewind.retrying"] is False
    root = one(spans[bad_run], "invoke_workflow LangGraph")
    assert root.status_code == ERROR
    assert root.attributes["rewind.run.status"] == "error"
    assert [e[0] for e in root.events].count("exception") == 1


async def test_chat_and_tool_spans_carry_the_genai_attributes(
    saver: AsyncSqliteSaver, http_receiver: Receiver
) -> None:
    await mirrored(saver, graphs.chat_and_tool, exporter_for(http_receiver))
    spans = http_receiver.spans()
    agent = one(spans, "agent")
    chat = one(spans, "chat GenericFakeChatModel")
    assert chat.parent_id == agent.span_id
    assert chat.kind == CLIENT
    attributes = chat.attributes
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.request.model"] == "GenericFakeChatModel"
    assert attributes["gen_ai.response.model"] == "fake-model-1"
    assert attributes["gen_ai.response.id"] == "resp-42"
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert attributes["gen_ai.usage.input_tokens"] == 12
    assert attributes["gen_ai.usage.output_tokens"] == 3
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == 8
    assert attributes["gen_ai.conversation.id"] == "chat"
    assert "gen_ai.input.messages" not in attributes  # content is opt-in
    tool = one(spans, "execute_tool add")
    assert tool.parent_id == agent.span_id
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool.attributes["gen_ai.tool.name"] == "add"
    assert "gen_ai.tool.call.arguments" not in tool.attributes


async def test_user_spans_opened_in_a_node_nest_under_the_node_span(
    saver: AsyncSqliteSaver, receiver: Receiver
) -> None:
    provider = TracerProvider()  # the user's own provider, never the global one
    provider.add_span_processor(SimpleSpanProcessor(exporter_for(receiver)))
    try:
        (run,), _ = await mirrored(saver, graphs.user_spans(provider), exporter_for(receiver))
    finally:
        provider.shutdown()
    spans = receiver.spans()
    async_node, sync_node = one(spans, "async_node"), one(spans, "sync_node")
    user_async, deep, user_sync = (one(spans, n) for n in ("user.async", "user.deep", "user.sync"))
    assert user_async.parent_id == async_node.span_id
    assert deep.parent_id == user_async.span_id
    assert user_sync.parent_id == sync_node.span_id  # a sync node runs in a worker thread
    assert {s.trace_id for s in spans} == {run.replace("-", "")}
    rewind_spans = [s for s in spans if "rewind.run_id" in s.attributes]
    assert_one_trace_per_run(rewind_spans, [run])
