"""A run cancelled from outside (its task cancelled) is recorded ``cancelled`` and keeps what
it did before."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TypedDict

from rewind import open_log
from rewind.events import EventType, RunStatus
from rewind.graph import END, START, StateGraph


class S(TypedDict):
    x: int


async def test_a_cancelled_run_is_recorded_cancelled(tmp_path: Path) -> None:
    started = asyncio.Event()

    async def slow(state: S) -> S:
        started.set()
        await asyncio.sleep(30)
        return {"x": 2}

    builder = StateGraph(S)
    builder.add_node("first", lambda state: {"x": 1})
    builder.add_node("slow", slow)
    builder.add_edge(START, "first")
    builder.add_edge("first", "slow")
    builder.add_edge("slow", END)
    store = await open_log(str(tmp_path / "c.db"))
    try:
        graph = builder.compile(checkpointer=store)
        config = {"configurable": {"thread_id": "t"}}
        task = asyncio.ensure_future(graph.ainvoke({"x": 0}, config))
        await started.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()
        [run] = await store.list_runs(thread_id="t")
        assert run.status == RunStatus.CANCELLED
        [ended] = await store.read(run.run_id, types=[EventType.RUN_ENDED])
        assert ended.payload == {"status": "cancelled"}
        assert (await graph.aget_state(config)).values == {"x": 1}
    finally:
        await store.aclose()
