"""The thread protocol's WebSocket (``WebSocket /threads/{id}/stream/events``), raw, against a
real ``rewind serve``: commands and their answers in one socket, a subscription's events,
unsubscribing, frames that are no command, and the handshakes refused (a foreign ``Origin``, a
missing API key). The SDK's own use of it is in ``test_thread_stream_v3.py``."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.server.conftest import Server, start_server

HI = {"messages": [{"role": "user", "content": "hi"}]}
WAIT = 20.0  # seconds a run may take to reach its end (a deadline)


def _socket_url(server: Server, thread_id: str) -> str:
    return server.url.replace("http://", "ws://") + f"/threads/{thread_id}/stream/events"


async def _frames(ws: Any, until: Any) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []

    async def read() -> None:
        async for raw in ws:
            got.append(json.loads(raw))
            if until(got[-1]):
                return

    await asyncio.wait_for(read(), WAIT)
    return got


def _ended(frame: dict[str, Any]) -> bool:
    data = (frame.get("params") or {}).get("data") or {}
    return frame.get("method") == "lifecycle" and data.get("event") == "completed"


async def test_commands_and_events_share_one_socket(server: Server) -> None:
    thread_id = str(uuid.uuid4())
    async with connect(_socket_url(server, thread_id)) as ws:
        await ws.send(json.dumps({"id": 1, "method": "subscription.subscribe", "params": {}}))
        [refused] = await _frames(ws, lambda f: True)
        assert refused == {
            "type": "error",
            "id": 1,
            "error": "invalid_argument",
            "message": "subscription.subscribe requires a non-empty channels array.",
        }
        subscribe = {"channels": ["lifecycle", "values"]}
        await ws.send(
            json.dumps({"id": 2, "method": "subscription.subscribe", "params": subscribe})
        )
        [subscribed] = await _frames(ws, lambda f: True)
        assert subscribed["type"] == "success" and subscribed["id"] == 2
        subscription_id = subscribed["result"]["subscription_id"]
        start = {"assistant_id": "echo", "input": HI}
        await ws.send(json.dumps({"id": 3, "method": "run.start", "params": start}))
        frames = await _frames(ws, _ended)
        answers = [f for f in frames if f.get("id") == 3]
        assert len(answers) == 1 and answers[0]["type"] == "success"
        uuid.UUID(answers[0]["result"]["run_id"])
        events = [f for f in frames if "method" in f]
        assert events[0]["method"] == "lifecycle"
        assert {e["method"] for e in events} == {"lifecycle", "values"}
        assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
        unsubscribe = {"subscription_id": subscription_id}
        await ws.send(
            json.dumps({"id": 4, "method": "subscription.unsubscribe", "params": unsubscribe})
        )
        [gone] = await _frames(ws, lambda f: f.get("id") == 4)
        assert gone == {"type": "success", "id": 4, "result": {}, "meta": gone["meta"]}
        await ws.send(
            json.dumps({"id": 5, "method": "subscription.unsubscribe", "params": unsubscribe})
        )
        [unknown] = await _frames(ws, lambda f: f.get("id") == 5)
        assert unknown["error"] == "no_such_subscription"


@pytest.mark.parametrize(
    ("frame", "answer"),
    [
        ("not json", {"id": None, "message": "Protocol commands must be valid JSON."}),
        (
            json.dumps({"id": "x", "method": "run.start"}),
            {
                "id": "x",
                "message": "Protocol commands must include an integer id and string method.",
            },
        ),
        (
            json.dumps([1, 2]),
            {
                "id": None,
                "message": "Protocol commands must include an integer id and string method.",
            },
        ),
    ],
)
async def test_a_frame_that_is_no_command_is_answered_and_the_socket_stays(
    server: Server, frame: str, answer: dict[str, Any]
) -> None:
    async with connect(_socket_url(server, str(uuid.uuid4()))) as ws:
        await ws.send(frame)
        [got] = await _frames(ws, lambda f: True)
        assert got == {"type": "error", "error": "invalid_argument", **answer}
        await ws.send(json.dumps({"id": 7, "method": "nope"}))
        [unknown] = await _frames(ws, lambda f: True)
        assert unknown["error"] == "unknown_command" and unknown["id"] == 7


async def test_a_page_of_another_origin_is_refused(server: Server) -> None:
    url = _socket_url(server, str(uuid.uuid4()))
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, origin="http://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
    own = server.url  # the server's own pages may
    async with connect(url, origin=own) as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"id": 1, "method": "agent.getTree"}))
        [answer] = await _frames(ws, lambda f: True)
        assert answer["error"] == "no_such_run"


async def test_the_api_key_guards_the_socket(tmp_path: Path) -> None:
    server = start_server(tmp_path / "k.db", env={"REWIND_API_KEY": "s3cret"})
    try:
        url = _socket_url(server, str(uuid.uuid4()))
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url):
                pass
        assert refused.value.response.status_code == 403
        async with connect(url, additional_headers={"x-api-key": "s3cret"}) as ws:
            await ws.send(json.dumps({"id": 1, "method": "agent.getTree"}))
            [answer] = await _frames(ws, lambda f: True)
            assert answer["id"] == 1 and answer["error"] == "no_such_run"
    finally:
        server.stop()
