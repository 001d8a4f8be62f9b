"""The ASGI app in process: heartbeats on idle streams, keep-alives on waits."""

from __future__ import annotations

from pathlib import Path

import httpx

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
