"""Runs in batches, and cancelled in bulk, through the official SDK (async and sync)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk.errors import NotFoundError

from rewind.server.models import RunCreate
from rewind.server.run_routes import start_run
from tests.server.conftest import Server
from tests.server.protocols import serving

SLOW = {"n": 40}  # 20 s of ticks: only a cancel ends it within a test
KEEP = {"on_completion": "keep"}  # a thread-less run's thread stays after it


async def _running(client: Any, thread_id: str, run_id: str) -> None:
    deadline = time.monotonic() + 10
    while (await client.runs.get(thread_id, run_id))["status"] != "running":
        assert time.monotonic() < deadline, "the run never started"
        await asyncio.sleep(0.05)


async def test_create_batch(client: Any) -> None:
    runs = await client.runs.create_batch(
        [
            {"assistant_id": "echo", "input": {"messages": []}, "on_completion": "keep"},
            {
                "assistant_id": "slow",
                "input": {"n": 1},
                "metadata": {"i": 2},
                "on_completion": "keep",
            },
        ]
    )
    assert len(runs) == 2 and runs[0]["thread_id"] != runs[1]["thread_id"]
    assert runs[1]["metadata"]["i"] == 2
    echoed = await client.runs.join(runs[0]["thread_id"], runs[0]["run_id"])
    assert echoed["messages"][-1]["content"] == "echo!"
    assert await client.runs.join(runs[1]["thread_id"], runs[1]["run_id"]) == {"n": 1, "count": 1}


def test_a_batch_with_an_unknown_assistant_starts_nothing(sync_client: Any, server: Server) -> None:
    before = sync_client.threads.count(metadata={"graph_id": "echo"})
    unknown = str(uuid.uuid4())
    with pytest.raises(NotFoundError) as caught:
        sync_client.runs.create_batch(
            [
                {"assistant_id": "echo", "input": {"messages": []}, "on_completion": "keep"},
                {"assistant_id": unknown, "input": {}},
            ]
        )
    assert caught.value.response.json()["detail"].startswith(f"runs[1]: Assistant {unknown}")
    assert sync_client.threads.count(metadata={"graph_id": "echo"}) == before
    empty = httpx.post(f"{server.url}/runs/batch", json=[])
    assert empty.status_code == 422 and "at least one run" in empty.json()["detail"]


async def test_cancel_many_by_thread_and_ids(client: Any) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    first = await client.runs.create(tid, "slow", input=SLOW)
    queued = await client.runs.create(tid, "slow", input=SLOW)  # waits for the first
    await _running(client, tid, first["run_id"])
    await client.runs.cancel_many(thread_id=tid, run_ids=[first["run_id"], queued["run_id"]])
    await client.runs.join(tid, first["run_id"])
    statuses = {r["run_id"]: r["status"] for r in await client.runs.list(tid)}
    assert statuses == {first["run_id"]: "interrupted", queued["run_id"]: "interrupted"}
    with pytest.raises(NotFoundError) as caught:  # both ended: nothing left to cancel
        await client.runs.cancel_many(thread_id=tid, run_ids=[first["run_id"]])
    assert "has ended" in caught.value.response.json()["detail"]


def test_cancel_many_rollback_hides_the_runs(sync_client: Any) -> None:
    tid = sync_client.threads.create()["thread_id"]
    run = sync_client.runs.create(tid, "slow", input=SLOW)
    sync_client.runs.cancel_many(thread_id=tid, run_ids=[run["run_id"]], action="rollback")
    deadline = time.monotonic() + 10
    while sync_client.threads.get(tid)["status"] == "busy":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert sync_client.runs.list(tid) == []
    with pytest.raises(NotFoundError):
        sync_client.runs.get(tid, run["run_id"])


async def test_cancel_many_by_status(client: Any) -> None:
    threads = [(await client.threads.create())["thread_id"] for _ in range(2)]
    runs = [await client.runs.create(t, "slow", input=SLOW) for t in threads]
    for tid, run in zip(threads, runs, strict=True):
        await _running(client, tid, run["run_id"])
    pending = await client.runs.create(threads[0], "slow", input=SLOW)  # behind the first
    await client.runs.cancel_many(status="pending")
    assert (await client.runs.get(threads[0], pending["run_id"]))["status"] == "interrupted"
    assert (await client.runs.get(threads[0], runs[0]["run_id"]))["status"] == "running"
    await client.runs.cancel_many(status="running")
    for tid, run in zip(threads, runs, strict=True):
        await client.runs.join(tid, run["run_id"])
        assert (await client.runs.get(tid, run["run_id"]))["status"] == "interrupted"


@pytest.mark.parametrize(
    ("body", "query", "named"),
    [
        ({"status": "running", "thread_id": "t", "run_ids": ["r"]}, "", "must be omitted"),
        ({"thread_id": "t"}, "", "Must provide either a status"),
        ({}, "", "Must provide either a status"),
        ({"status": "sleeping"}, "", "status"),
        ({"status": "all"}, "?action=explode", "action"),
    ],
)
def test_bulk_cancel_bad_input(server: Server, body: Any, query: str, named: str) -> None:
    answer = httpx.post(f"{server.url}/runs/cancel{query}", json=body)
    assert answer.status_code == 422 and named in answer.json()["detail"]


async def test_a_run_cancelled_before_it_took_a_step_ends_interrupted(tmp_path: Path) -> None:
    async with serving(tmp_path) as http:
        thread = (await http.post("/threads", json={})).json()["thread_id"]
        body = RunCreate(assistant_id="slow", after_seconds=60)
        run = await start_run(http.app, thread, body)  # type: ignore[attr-defined]
        http.app.state.service.runs.cancel(run)  # type: ignore[attr-defined]
        await asyncio.wait_for(run.done.wait(), 5)
        assert run.status == "interrupted"
        assert (await http.get(f"/threads/{thread}/runs/{run.run_id}")).json()["status"] == (
            "interrupted"
        )
