"""A server that stops still deletes the threads of its thread-less runs (LangGraph's
``on_completion="delete"``) before it closes its database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from rewind import open_log
from tests.server.conftest import start_server


def test_stopping_right_after_runs_deletes_their_threads(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    server = start_server(db)

    async def crowd() -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            body = {"assistant_id": "slow", "input": {"n": 1}, "stream_mode": "custom"}
            answers = await asyncio.gather(
                *(client.post("/runs/stream", json=body) for _ in range(40))
            )
        assert all(a.status_code == 200 for a in answers)

    try:
        asyncio.run(crowd())  # each thread is deleted once its run's stream is over...
    finally:
        code = server.stop()  # ...here, while most of those deletions are still to come
    output = db.with_suffix(".log").read_text()
    assert code == 0, output
    assert "not deleted" not in output

    async def threads() -> list[str]:
        log = await open_log(db, read_only=True)
        try:
            return [t.thread_id for t in await log.list_threads()]
        finally:
            await log.aclose()

    assert asyncio.run(threads()) == []
