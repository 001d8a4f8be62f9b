"""Operating the server: API key, CORS, the caller's trace context, graceful SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import AuthenticationError

from rewind import open_log
from rewind.events import EventType
from tests.server.conftest import Server, start_server


def test_api_key_guards_every_route_but_ok(tmp_path: Path) -> None:
    server = start_server(tmp_path / "k.db", env={"REWIND_API_KEY": "s3cret"})
    try:
        assert httpx.get(f"{server.url}/ok").json() == {
            "ok": True,
            "services": {"database": "skipped"},
        }
        denied = httpx.post(f"{server.url}/threads", json={})
        assert denied.status_code == 401 and "x-api-key" in denied.json()["detail"]
        wrong = get_sync_client(url=server.url, api_key="nope")
        with pytest.raises(AuthenticationError):
            wrong.threads.create()
        wrong.close()
        right = get_sync_client(url=server.url, api_key="s3cret")
        assert right.threads.create()["status"] == "idle"
        right.close()
        bearer = httpx.post(
            f"{server.url}/threads", json={}, headers={"authorization": "Bearer s3cret"}
        )
        assert bearer.status_code == 200
    finally:
        server.stop()


def test_cors_origins_are_configurable(tmp_path: Path) -> None:
    server = start_server(tmp_path / "c.db", "--cors-origin", "http://app.example")
    try:
        allowed = httpx.options(
            f"{server.url}/threads",
            headers={
                "origin": "http://app.example",
                "access-control-request-method": "POST",
            },
        )
        assert allowed.headers["access-control-allow-origin"] == "http://app.example"
        other = httpx.get(f"{server.url}/ok", headers={"origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    finally:
        server.stop()


async def test_traceparent_makes_the_run_a_child_of_the_callers_span(server: Server) -> None:
    trace_id, span_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    async with httpx.AsyncClient(base_url=server.url) as http:
        tid = (await http.post("/threads", json={})).json()["thread_id"]
        response = await http.post(
            f"/threads/{tid}/runs/wait",
            json={"assistant_id": "echo", "input": {"messages": []}},
            headers={"traceparent": f"00-{trace_id}-{span_id}-01"},
        )
        assert response.status_code == 200
        run_id = response.headers["content-location"].rsplit("/", 1)[1]
    store = await open_log(str(server.db))
    try:
        [started] = await store.read(run_id, types=[EventType.RUN_STARTED])
    finally:
        await store.aclose()
    assert started.payload["trace_context"] == {
        "trace_id": trace_id,
        "span_id": span_id,
        "trace_flags": "01",
    }


def test_sigterm_ends_runs_and_streams_gracefully(tmp_path: Path) -> None:
    server = start_server(tmp_path / "t.db")
    seen: list[str] = []
    tid = httpx.post(f"{server.url}/threads", json={}).json()["thread_id"]
    ticked = threading.Event()

    def stream() -> None:
        with httpx.stream(
            "POST",
            f"{server.url}/threads/{tid}/runs/stream",
            json={"assistant_id": "slow", "input": {"n": 60}, "stream_mode": "custom"},
            timeout=30,
        ) as response:
            for line in response.iter_lines():
                seen.append(line)
                if line.startswith("event: custom"):
                    ticked.set()

    reader = threading.Thread(target=stream)
    reader.start()
    assert ticked.wait(20)
    assert server.stop(signal.SIGTERM, timeout=20) == 0
    reader.join(20)
    assert not reader.is_alive()  # the stream ended with the run

    async def runs() -> list[Any]:
        async with await open_log(str(server.db)) as store:
            return await store.list_runs(thread_id=tid)

    [run] = asyncio.run(runs())
    assert run.status == "cancelled"
