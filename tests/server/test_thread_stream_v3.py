"""The thread protocol (``POST /threads/{id}/commands`` and ``POST /threads/{id}/stream/events``)
through the official SDK's ``client.threads.stream`` (async and sync, over SSE and over the
WebSocket transport) and raw HTTP, against a real ``rewind serve``: each command, the events
each graph makes, and the errors, worded as LangGraph's server words them."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
import pytest

from rewind.server.thread_commands import RUN_STREAM_MODES
from tests.server.conftest import Server

HI = {"messages": [{"role": "user", "content": "hi"}]}
WAIT = 20.0  # seconds a run may take to reach its end (a deadline)
ALL = ["values", "updates", "messages", "tools", "custom", "lifecycle", "input", "tasks"]


def _root_end(event: dict[str, Any]) -> bool:
    params = event.get("params") or {}
    data = params.get("data") or {}
    return (
        event.get("method") == "lifecycle"
        and not params.get("namespace")
        and data.get("event") in ("completed", "failed", "interrupted")
    )


async def _events(
    url: str, thread_id: str, body: dict[str, Any], *, ends: int = 1, end: Any = _root_end
) -> list[dict[str, Any]]:
    """The events of one ``stream/events`` connection, up to the ``ends``-th ``end`` (by
    default: of a run)."""
    got: list[dict[str, Any]] = []
    async with (
        httpx.AsyncClient(base_url=url, timeout=WAIT) as http,
        http.stream("POST", f"/threads/{thread_id}/stream/events", json=body) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")

        async def read() -> None:
            seen = 0
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    got.append(json.loads(line[6:]))
                    seen += end(got[-1])
                    if seen == ends:
                        return

        await asyncio.wait_for(read(), WAIT)
    return got


async def _command(url: str, thread_id: str, command: Any) -> tuple[int, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=WAIT) as http:
        content = command if isinstance(command, bytes) else json.dumps(command).encode()
        response = await http.post(
            f"/threads/{thread_id}/commands",
            content=content,
            headers={"content-type": "application/json"},
        )
    return response.status_code, response.json()


def _shape(event: dict[str, Any]) -> tuple[Any, ...]:
    params = event["params"]
    data = params["data"]
    what = data.get("event") if isinstance(data, dict) and event["method"] != "values" else None
    return (event["method"], len(params["namespace"]), what)


# --- the SDK ------------------------------------------------------------------------------


TRANSPORTS = pytest.mark.parametrize("transport", ["sse", "websocket"])


@TRANSPORTS
async def test_run_start_then_output(client: Any, transport: str) -> None:
    async with client.threads.stream(assistant_id="echo", transport=transport) as thread:
        started = await thread.run.start(input=HI)
        output = await thread.output.with_timeout(WAIT)
    uuid.UUID(started["run_id"])
    assert [m["content"] for m in output["messages"]] == ["hi", "echo!"]
    run = await client.runs.get(thread.thread_id, started["run_id"])
    assert run["status"] == "success"
    assert run["kwargs"]["stream_mode"] == RUN_STREAM_MODES
    assert run["multitask_strategy"] == "enqueue"


@TRANSPORTS
async def test_interrupt_respond_and_events(client: Any, server: Server, transport: str) -> None:
    """The agent graph: streamed tokens, a subgraph's lifecycle, an interrupt, its answer.

    The SDK ends its subscriptions once its own lifecycle stream tells it the run stopped at
    the interrupt, which may come before the subscription has the run's last events: those
    are checked from a ``stream/events`` connection of the thread, read to the run's end."""
    async with client.threads.stream(assistant_id="agent", transport=transport) as thread:
        subscription = thread.subscribe(["lifecycle", "messages", "values", "input"])
        await thread.run.start(input=HI)
        got: list[dict[str, Any]] = []

        async def until_interrupted() -> None:
            ended = False
            async for event in subscription:
                got.append(event)
                ended = ended or _root_end(event)
                if ended and event["method"] == "values":  # the state it stopped in
                    break
            for _ in range(int(WAIT / 0.02)):  # (the SDK's own lifecycle stream tells it)
                if thread.interrupted:
                    break
                await asyncio.sleep(0.02)

        await asyncio.wait_for(until_interrupted(), WAIT)
        stopped = False

        def after_the_stop(event: dict[str, Any]) -> bool:  # the state it stopped in
            nonlocal stopped
            ended, stopped = stopped and event["method"] == "values", stopped or _root_end(event)
            return ended

        channels = {"channels": ["lifecycle", "messages", "values", "input"]}
        whole = await _events(server.url, thread.thread_id, channels, end=after_the_stop)
        assert [_shape(e) for e in got] == [_shape(e) for e in whole[: len(got)]]
        got = whole
        [pending] = thread.interrupts
        assert pending["namespace"] == []
        assert await thread.run.respond("yes") == {}
        output = await thread.output.with_timeout(WAIT)
    assert output["answer"] == "approved='yes'"
    assert output["steps"] == ["agent", "ask_human", "final"]

    shapes = [_shape(e) for e in got]
    assert shapes[0] == ("lifecycle", 0, "running")
    tokens = [e["params"]["data"] for e in got if e["method"] == "messages"]
    assert [t["event"] for t in tokens][:2] == ["message-start", "content-block-start"]
    assert tokens[0] == {"event": "message-start", "role": "ai", "id": "ai-msg-1"}
    deltas = "".join(t["delta"]["text"] for t in tokens if t["event"] == "content-block-delta")
    assert deltas == "Hello from the fake model"
    assert tokens[-2] == {
        "event": "content-block-finish",
        "index": 0,
        "content": {"type": "text", "text": deltas},
    }
    assert tokens[-1] == {"event": "message-finish"}
    sub = [e for e in got if e["method"] == "lifecycle" and e["params"]["namespace"]]
    assert [e["params"]["data"]["event"] for e in sub] == ["started", "completed"]
    namespace = sub[0]["params"]["namespace"]
    assert namespace[0].startswith("sub:")
    assert sub[0]["params"]["data"] == {
        "event": "started",
        "namespace": namespace,
        "graph_name": "sub",
        "trigger_call_id": namespace[0].split(":", 1)[1],
    }
    assert shapes[-3:] == [
        ("input.requested", 0, None),
        ("lifecycle", 0, "interrupted"),
        ("values", 0, None),
    ]
    requested = got[-3]
    assert requested["params"]["data"] == {
        "interrupt_id": pending["interrupt_id"],
        "payload": {"question": "approve?"},
    }
    assert requested["event_id"].startswith("synth:")
    # seq counts every event of the thread, in order
    assert [e["seq"] for e in got] == sorted(e["seq"] for e in got)
    # values show messages in the protocol's short form
    values = [e["params"]["data"] for e in got if e["method"] == "values"]
    assert values[0]["messages"][0] == {
        "type": "human",
        "content": "hi",
        "id": values[0]["messages"][0]["id"],
    }


@TRANSPORTS
async def test_failed_run(client: Any, transport: str) -> None:
    async with client.threads.stream(assistant_id="boom", transport=transport) as thread:
        await thread.run.start(input={"x": 1})
        with pytest.raises(RuntimeError, match="Run errored: kaboom"):
            await thread.output.with_timeout(WAIT)


async def test_unknown_assistant(client: Any) -> None:
    async with client.threads.stream(assistant_id="missing") as thread:
        with pytest.raises(RuntimeError, match=r"\[unknown_error\]: 422: Invalid assistant"):
            await thread.run.start(input=HI)
    async with client.threads.stream(assistant_id=str(uuid.uuid4())) as thread:
        with pytest.raises(RuntimeError, match="404: Thread or assistant not found"):
            await thread.run.start(input=HI)


def test_sync_client(sync_client: Any) -> None:
    with sync_client.threads.stream(assistant_id="echo") as thread:
        started = thread.run.start(input=HI)
        output = thread.output
    uuid.UUID(started["run_id"])
    assert [m["content"] for m in output["messages"]] == ["hi", "echo!"]


@TRANSPORTS
def test_sync_client_interrupt(sync_client: Any, transport: str) -> None:
    with sync_client.threads.stream(assistant_id="agent", transport=transport) as thread:
        thread.run.start(input=HI)
        for event in thread.subscribe(["lifecycle", "input"]):
            if _root_end(event):
                break
        deadline = time.monotonic() + WAIT
        while not thread.interrupted and time.monotonic() < deadline:
            time.sleep(0.02)  # (the SDK's own lifecycle stream tells it)
        assert thread.interrupts[0]["namespace"] == []
        thread.run.respond("ok")
        assert thread.output["answer"] == "approved='ok'"


# --- the events, raw ----------------------------------------------------------------------


async def test_events_of_a_thread(server: Server) -> None:
    """Every run of the thread from the first, seq counting on; ``since``, ``namespaces`` and
    ``depth`` keep part of them."""
    thread_id = str(uuid.uuid4())
    watching = asyncio.create_task(_events(server.url, thread_id, {"channels": ALL}, ends=2))
    await asyncio.sleep(0.3)  # the thread does not exist yet: the stream waits for it
    status, answer = await _command(
        server.url,
        thread_id,
        {"id": 1, "method": "run.start", "params": {"assistant_id": "nested", "input": HI}},
    )
    assert status == 200
    assert answer == {
        "type": "success",
        "id": 1,
        "result": {"run_id": answer["result"]["run_id"]},
        "meta": {"applied_through_seq": 0},
    }
    await asyncio.sleep(0.5)
    second = {"id": 2, "method": "run.start", "params": {"assistant_id": "echo", "input": HI}}
    assert (await _command(server.url, thread_id, second))[1]["type"] == "success"
    everything = await watching
    assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))
    assert len({e["event_id"] for e in everything}) == len(everything)
    first_end = next(i for i, e in enumerate(everything) if _root_end(e))
    assert _shape(everything[first_end + 1]) == ("lifecycle", 0, "running")
    nested = [e for e in everything if e["params"]["namespace"]]
    assert {_shape(e) for e in nested} >= {
        ("lifecycle", 1, "started"),
        ("lifecycle", 1, "completed"),
        ("messages", 1, "message-start"),
        ("values", 1, None),
    }
    # updates, tasks and custom events make none
    assert {e["method"] for e in everything} == {"lifecycle", "values", "messages"}

    # A second connection sees the same events, with the same ids and seqs.
    again = await _events(server.url, thread_id, {"channels": ALL}, ends=2)
    assert [(e["event_id"], e["seq"]) for e in again] == [
        (e["event_id"], e["seq"]) for e in everything
    ]
    since = await _events(server.url, thread_id, {"channels": ALL, "since": first_end + 1}, ends=1)
    assert since == [e for e in everything if e["seq"] > first_end + 1]
    root_only = await _events(
        server.url, thread_id, {"channels": ["lifecycle"], "namespaces": [[]], "depth": 0}, ends=2
    )
    assert all(not e["params"]["namespace"] for e in root_only)
    assert [e["params"]["data"]["event"] for e in root_only] == [
        "running",
        "completed",
        "running",
        "completed",
    ]
    inner = await _events(
        server.url,
        thread_id,
        {"channels": ["messages", "lifecycle"], "namespaces": [["inner"]]},
        end=lambda e: e["params"]["data"].get("event") == "completed",
    )
    assert inner and all(e["params"]["namespace"][0].startswith("inner:") for e in inner)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{bad", "Invalid JSON body"),
        (b"[]", "channels is required and must be a non-empty array"),
        (b'{"channels": []}', "channels is required and must be a non-empty array"),
        (b'{"channels": "values"}', "channels is required and must be a non-empty array"),
        (
            b'{"channels": ["values", 3, "nah"]}',
            "channels contains unsupported entries: 3, nah. Allowed: values, updates, messages, "
            "tools, custom, lifecycle, input, tasks, or any `custom:<name>`.",
        ),
    ],
)
async def test_bad_event_streams(server: Server, body: bytes, detail: str) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(f"/threads/{uuid.uuid4()}/stream/events", content=body)
    assert response.status_code == 400
    assert response.json() == {"detail": detail}


# --- the commands, raw --------------------------------------------------------------------

BAD_COMMAND = "Protocol commands must include an integer id and string method."
NO_ASSISTANT = "run.start requires an assistant_id."


@pytest.mark.parametrize(
    ("command", "status", "answer"),
    [
        (b"{bad", 400, {"detail": "Invalid JSON body"}),
        (b"", 400, {"detail": "Invalid JSON body"}),
        ([1], 400, {"type": "error", "id": None, "error": "invalid_argument"}),
        ({"id": "x", "method": "run.start"}, 400, {"id": "x", "error": "invalid_argument"}),
        ({"id": 1}, 400, {"id": 1, "error": "invalid_argument"}),
        ({"id": 1.5, "method": "run.start"}, 400, {"id": 1.5, "error": "invalid_argument"}),
        ({"id": 1, "method": "nope"}, 200, {"error": "unknown_command"}),
        ({"id": 1, "method": "run.start"}, 200, {"message": NO_ASSISTANT}),
        (
            {"id": 1, "method": "run.start", "params": {"assistant_id": ""}},
            200,
            {"message": NO_ASSISTANT},
        ),
        (
            {
                "id": 1,
                "method": "run.start",
                "params": {
                    "assistant_id": "echo",
                    "config": {"configurable": {"checkpoint_id": 5}},
                },
            },
            200,
            {"message": "config.configurable.checkpoint_id must be a non-empty string."},
        ),
        (
            {
                "id": 1,
                "method": "run.start",
                "params": {
                    "assistant_id": "echo",
                    "config": {"configurable": {"checkpoint_id": "abc"}},
                },
            },
            200,
            {"message": "Invalid config.configurable.checkpoint_id: 'abc'."},
        ),
        (
            {
                "id": 1,
                "method": "run.start",
                "params": {"assistant_id": "echo", "langsmith_tracer": 3},
            },
            200,
            {"message": "langsmith_tracer must be an object."},
        ),
        (
            {
                "id": 1,
                "method": "run.start",
                "params": {"assistant_id": "echo", "langsmith_tracer": {"x": "y"}},
            },
            200,
            {"message": "langsmith_tracer has unsupported fields: ['x']."},
        ),
        (
            {
                "id": 1,
                "method": "run.start",
                "params": {"assistant_id": "echo", "langsmith_tracer": {"project_name": 1}},
            },
            200,
            {"message": "langsmith_tracer.project_name must be a string."},
        ),
        (
            {"id": 1, "method": "input.respond", "params": {}},
            200,
            {"message": "input.respond requires an interrupt_id."},
        ),
        (
            {"id": 1, "method": "input.respond", "params": {"interrupt_id": "a", "namespace": "x"}},
            200,
            {"message": "input.respond requires namespace to be a list of strings."},
        ),
        (
            {"id": 1, "method": "input.respond", "params": {"responses": []}},
            200,
            {"message": "input.respond requires at least one response."},
        ),
        (
            {"id": 1, "method": "input.respond", "params": {"responses": [1]}},
            200,
            {"message": "input.respond responses entries must be objects."},
        ),
        (
            {"id": 1, "method": "input.respond", "params": {"responses": [{}]}},
            200,
            {"message": "input.respond responses entries require an interrupt_id."},
        ),
        (
            {"id": 1, "method": "input.respond", "params": {"interrupt_id": "a"}},
            200,
            {"error": "no_such_run", "message": "No interrupted run is bound to this thread."},
        ),
        (
            {"id": 7, "method": "agent.getTree"},
            200,
            {"error": "no_such_run", "message": "No active run is bound to this thread."},
        ),
        (
            {"id": 7, "method": "subscription.reconnect", "params": {"since": 1}},
            200,
            {"error": "no_such_run", "message": "No active run is bound to this thread."},
        ),
        (
            {"id": 7, "method": "subscription.subscribe", "params": {}},
            200,
            {"message": "subscription.subscribe requires a non-empty channels array."},
        ),
        (
            {"id": 7, "method": "subscription.subscribe", "params": {"channels": ["values", "x"]}},
            200,
            {"message": "subscription.subscribe received an unsupported channel."},
        ),
        (
            {"id": 7, "method": "subscription.unsubscribe", "params": {}},
            200,
            {"message": "subscription.unsubscribe requires a subscription_id."},
        ),
        (
            {"id": 7, "method": "subscription.unsubscribe", "params": {"subscription_id": "abc"}},
            200,
            {"error": "no_such_subscription", "message": "Unknown subscription: abc"},
        ),
    ],
)
async def test_bad_commands(server: Server, command: Any, status: int, answer: Any) -> None:
    got_status, got = await _command(server.url, str(uuid.uuid4()), command)
    assert got_status == status
    if "detail" in answer:
        assert got == answer
        return
    assert got["type"] == "error"
    if status == 400:
        assert got["message"] == BAD_COMMAND
    for key, value in answer.items():
        assert got[key] == value
    if "id" not in answer:
        assert got["id"] == command["id"]
    assert "meta" not in got


async def test_subscribe_command(server: Server) -> None:
    command = {
        "id": 3,
        "method": "subscription.subscribe",
        "params": {"channels": ["values", "custom:x"], "depth": 1},
    }
    status, answer = await _command(server.url, str(uuid.uuid4()), command)
    assert status == 200
    uuid.UUID(answer["result"]["subscription_id"])
    assert answer == {
        "type": "success",
        "id": 3,
        "result": {"subscription_id": answer["result"]["subscription_id"], "replayed_events": 0},
        "meta": {"applied_through_seq": 0},
    }


async def test_input_respond_batch(server: Server) -> None:
    """``responses`` resumes the thread's interrupts; a consumed one is then unknown."""
    thread_id = str(uuid.uuid4())
    start = {"id": 1, "method": "run.start", "params": {"assistant_id": "agent", "input": HI}}
    watching = asyncio.create_task(_events(server.url, thread_id, {"channels": ALL}))
    await asyncio.sleep(0.2)
    assert (await _command(server.url, thread_id, start))[1]["type"] == "success"
    events = await watching
    [requested] = [e for e in events if e["method"] == "input.requested"]
    interrupt_id = requested["params"]["data"]["interrupt_id"]
    wrong = {"id": 2, "method": "input.respond", "params": {"interrupt_id": "nope"}}
    assert (await _command(server.url, thread_id, wrong))[1] == {
        "type": "error",
        "id": 2,
        "error": "no_such_interrupt",
        "message": "Unknown or already-consumed interrupt: nope",
    }
    respond = {
        "id": 3,
        "method": "input.respond",
        "params": {"responses": [{"interrupt_id": interrupt_id, "response": "batch"}]},
    }
    assert (await _command(server.url, thread_id, respond))[1] == {
        "type": "success",
        "id": 3,
        "result": {},
        "meta": {"applied_through_seq": 0},
    }
    after = await _events(server.url, thread_id, {"channels": ["lifecycle", "values"]}, ends=2)
    assert after[-1]["params"]["data"] == {"event": "completed", "graph_name": "agent"}
    assert after[-2]["params"]["data"]["answer"] == "approved='batch'"
    again = {**respond, "id": 4}
    assert (await _command(server.url, thread_id, again))[1]["error"] == "no_such_interrupt"
