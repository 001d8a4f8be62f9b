"""The ASGI app in process: heartbeats on idle streams, keep-alives on waits."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from rewind.log.sqlite import open_sqlite
from rewind.server import create_app, load_config

APP = Path(__file__).parent / "app"


async def test_idle_streams_get_heartbeats_and_waits_keep_alives(tmp_path: Path) -> None:
    app = create_app(
        str(tmp_path / "a.db"), load_config(APP / "langgraph.json"), heartbeat_seconds=0.2
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            body = {"assistant_id": "slow", "input": {"n": 2}, "stream_mode": "custom"}
            streamed = await http.post("/runs/stream", json=body)
            waited = await http.post("/runs/wait", json=body)
    assert ": heartbeat\r\n\r\n" in streamed.text
    assert streamed.text.count("event: custom") == 2
    assert waited.text.startswith("\n") and waited.json() == {"n": 2, "count": 2}


async def test_a_request_that_finds_the_database_busy_gets_503_and_can_be_sent_again(
    tmp_path: Path,
) -> None:
    db = tmp_path / "busy.db"
    log = await open_sqlite(db, busy_timeout=0.2)
    app = create_app(log, load_config(APP / "langgraph.json"))
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
                holder.execute("BEGIN IMMEDIATE")  # another process's long write
                busy = await http.post("/threads", json={"thread_id": "t-busy"})
                holder.execute("ROLLBACK")
                again = await http.post("/threads", json={"thread_id": "t-busy"})
                listed = await http.post("/threads/search", json={})
    finally:
        holder.close()
        await log.aclose()
    assert busy.status_code == 503, busy.text
    assert busy.headers["retry-after"] == "1"
    assert "busy" in busy.json()["detail"] and "Send it again" in busy.json()["detail"]
    assert again.status_code == 200
    assert [t["thread_id"] for t in listed.json()] == ["t-busy"]
