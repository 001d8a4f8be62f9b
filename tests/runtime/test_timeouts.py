"""Per-attempt timeouts as the log records them: a timed-out attempt is a ``task.failed`` like
any failure (replayed as it streamed live, a failed node span when exported), its chunks after
the timeout are dropped, and LangChain callback events (a model's tokens) are progress for an
idle timeout. What LangGraph users see is compared with LangGraph side by side
(``side_by_side/graphs/sbs_76_timeouts.py``)."""

from __future__ import annotations

import asyncio
import operator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from rewind import areplay
from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.config import get_stream_writer
from rewind.errors import NodeTimeoutError
from rewind.events import EventType
from rewind.graph import END, START, StateGraph
from rewind.log.codec import encode
from rewind.telemetry import export_runs
from rewind.types import RetryPolicy, TimeoutPolicy


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


_attempts: list[int] = []


async def flaky(state: State) -> dict[str, Any]:
    _attempts.append(len(_attempts) + 1)
    get_stream_writer()({"attempt": len(_attempts)})
    if len(_attempts) == 1:
        await asyncio.sleep(5)
    return {"log": [f"attempt {len(_attempts)}"]}


async def hangs(state: State) -> dict[str, Any]:
    writer = get_stream_writer()
    writer("before")
    try:
        await asyncio.sleep(5)
    finally:
        writer("after")  # the attempt timed out: dropped
    return {"log": ["never"]}


def _graph(saver: Any) -> Any:
    g = StateGraph(State)
    retry = RetryPolicy(max_attempts=2, initial_interval=0.01, jitter=False)
    g.add_node("flaky", flaky, timeout=0.3, retry_policy=retry)
    g.add_node("hangs", hangs, timeout=TimeoutPolicy(run_timeout=0.3))
    g.add_edge(START, "flaky")
    g.add_edge("flaky", "hangs")
    g.add_edge("hangs", END)
    return g.compile(checkpointer=saver)


async def _stream(graph: Any, modes: list[str], into: list[Any]) -> None:
    async for chunk in graph.astream({}, {"configurable": {"thread_id": "t"}}, stream_mode=modes):
        into.append(chunk)


async def test_a_timed_out_attempt_is_a_failure_the_log_replay_and_spans_show(
    tmp_path: Path,
) -> None:
    _attempts.clear()
    modes = ["custom", "tasks", "updates", "debug"]
    async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "runs.db")) as saver:
        live: list[Any] = []
        with pytest.raises(NodeTimeoutError, match="Node 'hangs' exceeded its run timeout"):
            await _stream(_graph(saver), modes, live)
        log = await saver.log()
        (run,) = await log.list_runs(thread_id="t")
        failed = await log.read(run.run_id, types=[EventType.TASK_FAILED])
        assert [(e.node, e.payload["type"], e.payload["retrying"]) for e in failed] == [
            ("flaky", "NodeTimeoutError", True),
            ("hangs", "NodeTimeoutError", False),
        ]
        customs = [c[1] for c in live if c[0] == "custom"]
        assert customs == [{"attempt": 1}, {"attempt": 2}, "before"]  # not "after"

        replayed = [c async for c in areplay(log, run.run_id, stream_mode=modes)]
        assert [encode(c) for c in replayed] == [encode(c) for c in live]

        exporter = InMemorySpanExporter()
        await export_runs(log, [run.run_id], exporter=exporter)
        hung = next(s for s in exporter.get_finished_spans() if "hangs" in s.name)
        assert hung.status.status_code is StatusCode.ERROR
        assert "NodeTimeoutError" in (hung.status.description or "")


async def test_tokens_are_progress_for_an_idle_timeout() -> None:
    class Slow(GenericFakeChatModel):
        async def _astream(self, *args: Any, **kwargs: Any) -> Any:
            async for chunk in super()._astream(*args, **kwargs):
                await asyncio.sleep(0.1)
                yield chunk

    model = Slow(messages=iter([AIMessage(" ".join(["word"] * 12))]))

    async def talks(state: State) -> dict[str, Any]:  # 1.2 s of tokens, none 0.6 s apart
        message = await model.ainvoke("hi")
        return {"log": [str(message.content)]}

    async def silent(state: State) -> dict[str, Any]:
        await asyncio.sleep(5)
        return {"log": ["never"]}

    g = StateGraph(State)
    g.add_node("talks", talks, timeout=TimeoutPolicy(idle_timeout=0.6))
    g.add_edge(START, "talks")
    assert (await g.compile().ainvoke({}))["log"] == [" ".join(["word"] * 12)]

    heartbeat_only = StateGraph(State)
    policy = TimeoutPolicy(idle_timeout=0.3, refresh_on="heartbeat")
    heartbeat_only.add_node("silent", silent, timeout=policy)
    heartbeat_only.add_edge(START, "silent")
    with pytest.raises(NodeTimeoutError) as caught:
        await heartbeat_only.compile().ainvoke({})
    assert (caught.value.kind, caught.value.timeout, caught.value.node) == ("idle", 0.3, "silent")


async def test_a_replayed_timeout_has_the_fields_the_run_raised_it_with(tmp_path: Path) -> None:
    """A ``NodeTimeoutError`` read back from the log (a ``task.failed`` event, a ``tasks``
    chunk replayed), through a new connection to the file: the stored text alone gives its
    node, kind, timeout, timeouts and elapsed time, as the run raised it."""
    g = StateGraph(State)
    policy = TimeoutPolicy(idle_timeout=0.2, run_timeout=5.0)
    g.add_node("hangs", hangs, timeout=policy)
    g.add_edge(START, "hangs")
    path = str(tmp_path / "runs.db")
    fields = ("node", "kind", "timeout", "idle_timeout", "run_timeout", "elapsed")
    async with AsyncSqliteSaver.from_conn_string(path) as saver:
        live: list[Any] = []
        with pytest.raises(NodeTimeoutError) as raised:
            await _stream(g.compile(checkpointer=saver), ["tasks"], live)
    expected = {name: getattr(raised.value, name) for name in fields}
    assert expected["node"] == "hangs" and expected["kind"] == "idle"
    assert (expected["timeout"], expected["run_timeout"]) == (0.2, 5.0)
    async with AsyncSqliteSaver.from_conn_string(path) as saver:
        log = await saver.log()
        (run,) = await log.list_runs(thread_id="t")
        (failed,) = await log.read(run.run_id, types=[EventType.TASK_FAILED])
        stored = failed.payload["error"]
        replayed = [c async for c in areplay(log, run.run_id, stream_mode=["tasks"])]
    (chunk,) = [c for c in replayed if c[0] == "tasks" and c[1].get("error") is not None]
    for revived in (stored, chunk[1]["error"]):
        assert type(revived) is NodeTimeoutError and str(revived) == str(raised.value)
        assert {name: getattr(revived, name) for name in fields} == expected
