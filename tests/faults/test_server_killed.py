"""``rewind serve`` killed with SIGKILL mid-stream: after a restart, a client that resumes with
``Last-Event-ID`` gets every event the log holds after the last one it saw, exactly once, and
then the run's end (the dead process's run is closed as ``ProcessDied``); the thread's next
run goes on from its newest durable checkpoint."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_client

from rewind import open_log
from tests.server.conftest import start_server

Part = tuple[str, Any, str | None]


@pytest.mark.faults
async def test_a_stream_resumes_exactly_once_after_the_server_was_killed(tmp_path: Path) -> None:
    db = tmp_path / "killed.db"
    server = start_server(db)
    client = get_client(url=server.url, api_key=None)
    seen: list[Part] = []
    try:
        tid = (await client.threads.create())["thread_id"]
        async for p in client.runs.stream(
            tid, "slow", input={"n": 8}, stream_mode=["custom", "values"]
        ):
            seen.append((p.event, p.data, p.id))
            if sum(1 for e, _, _ in seen if e == "custom") == 3:
                server.process.send_signal(signal.SIGKILL)  # mid-run, mid-stream
                break
    finally:
        await client.aclose()
        server.stop()
    assert server.process.returncode == -signal.SIGKILL
    run_id = seen[0][1]["run_id"]

    server = start_server(db)
    client = get_client(url=server.url, api_key=None)
    try:
        async with asyncio.timeout(30):  # the dead run ends: a follower does not wait forever
            rest = await _parts(client.runs.join_stream(tid, run_id, last_event_id=seen[-1][2]))
            whole = await _parts(client.runs.join_stream(tid, run_id, last_event_id="-1"))
        assert seen + rest == whole  # every event the log holds, once
        print(f"FAULTS rewind serve SIGKILL: {len(seen)} + {len(rest)} events, each once")
        assert rest[-1][0] == "error" and rest[-1][1] == {
            "error": "ProcessDied",
            "message": "the process running it died before the run ended",
        }
        assert (await client.runs.get(tid, run_id))["status"] == "error"
        # The thread goes on: its next run resumes the step the kill cut short.
        again = await client.runs.wait(tid, "slow", input=None)
        assert again["count"] == 8
    finally:
        await client.aclose()
        server.stop()

    log = await open_log(db)
    try:
        for record in await log.list_runs():
            assert (await log.verify_chain(record.run_id)).ok
    finally:
        await log.aclose()


async def _parts(stream: Any) -> list[Part]:
    return [(p.event, p.data, p.id) async for p in stream]
