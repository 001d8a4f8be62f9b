"""The official async client against a real server: every call the issue lists."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from tests.server.conftest import Server

HI = {"messages": [{"role": "user", "content": "hi"}]}


async def _parts(stream: Any) -> list[tuple[str, Any, str | None]]:
    return [(p.event, p.data, p.id) async for p in stream]


async def test_assistants_search_and_get(client: Any) -> None:
    found = await client.assistants.search(graph_id="agent")
    assert [a["graph_id"] for a in found] == ["agent"]
    assistant = found[0]
    assert assistant["metadata"] == {"created_by": "system"} and assistant["name"] == "agent"
    assert await client.assistants.get(assistant["assistant_id"]) == assistant
    assert len(await client.assistants.search(limit=100)) == 6
    with pytest.raises(NotFoundError):
        await client.assistants.get(str(uuid.uuid4()))


async def test_thread_lifecycle(client: Any) -> None:
    thread = await client.threads.create(metadata={"k": "v"})
    assert thread["status"] == "idle" and thread["metadata"] == {"k": "v"}
    assert thread["values"] is None
    got = await client.threads.get(thread["thread_id"])
    assert got["thread_id"] == thread["thread_id"]
    updated = await client.threads.update(thread["thread_id"], metadata={"x": 1})
    assert updated["metadata"] == {"k": "v", "x": 1}
    found = await client.threads.search(metadata={"x": 1}, limit=100)
    assert [t["thread_id"] for t in found] == [thread["thread_id"]]
    with pytest.raises(ConflictError):
        await client.threads.create(thread_id=thread["thread_id"])
    same = await client.threads.create(thread_id=thread["thread_id"], if_exists="do_nothing")
    assert same["thread_id"] == thread["thread_id"]
    await client.threads.delete(thread["thread_id"])
    with pytest.raises(NotFoundError):
        await client.threads.get(thread["thread_id"])


async def test_a_thread_created_with_supersteps_starts_from_their_state(client: Any) -> None:
    thread = await client.threads.create(
        graph_id="agent",
        supersteps=[
            {"updates": [{"values": {"steps": ["seeded"]}, "as_node": "agent"}]},
            {"updates": [{"values": {"steps": ["sub"]}, "as_node": "sub"}]},
        ],
    )
    assert thread["metadata"] == {"graph_id": "agent"}
    assert thread["values"] == {"messages": [], "steps": ["seeded", "sub"], "sub_steps": []}
    state = await client.threads.get_state(thread["thread_id"])
    assert state["next"] == ["ask_human"] and state["metadata"]["step"] == 1
    history = await client.threads.get_history(thread["thread_id"], limit=10)
    assert [h["metadata"]["source"] for h in history] == ["update", "update"]
    asked = await client.runs.wait(thread["thread_id"], "agent", input=None)
    assert asked["__interrupt__"][0]["value"] == {"question": "approve?"}
    resumed = await client.runs.wait(thread["thread_id"], "agent", command={"resume": "ok"})
    assert resumed["steps"] == ["seeded", "sub", "ask_human", "final"]


async def test_supersteps_that_fail_leave_the_thread_created(client: Any) -> None:
    thread_id = str(uuid.uuid4())
    body = {
        "thread_id": thread_id,
        "metadata": {"graph_id": "agent"},
        "supersteps": [{"updates": [{"values": {"steps": ["x"]}, "as_node": "nope"}]}],
    }
    answer = await client.http.client.post("/threads", json=body)
    assert answer.status_code == 201
    assert answer.json() == {
        "detail": f"Thread {thread_id} was created, but there were problems updating the "
        "state: Node nope does not exist"
    }
    thread = await client.threads.get(thread_id)
    assert thread["values"] is None and thread["status"] == "idle"


async def test_stream_interrupt_state_resume_history(client: Any) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    parts = await _parts(
        client.runs.stream(tid, "agent", input=HI, stream_mode=["values", "updates", "custom"])
    )
    assert parts[0][0] == "metadata" and set(parts[0][1]) == {"run_id", "attempt"}
    events = [e for e, _, _ in parts]
    assert "updates" in events and "custom" in events
    last_values = [d for e, d, _ in parts if e == "values"][-1]
    assert last_values["__interrupt__"][0]["value"] == {"question": "approve?"}
    assert set(last_values["__interrupt__"][0]) == {"value", "id", "response_schema"}
    ids = [i for _, _, i in parts]
    assert all(ids) and ids == sorted(ids) and len(set(ids)) == len(ids)

    state = await client.threads.get_state(tid)
    assert state["next"] == ["ask_human"]
    assert state["interrupts"][0]["value"] == {"question": "approve?"}
    assert state["values"]["steps"] == ["agent"]
    assert (await client.threads.get(tid))["status"] == "interrupted"

    resumed = await _parts(
        client.runs.stream(tid, "agent", command={"resume": "yes"}, stream_mode="updates")
    )
    updates = [d for e, d, _ in resumed if e == "updates"]
    assert updates[-1] == {"final": {"answer": "approved='yes'", "steps": ["final"]}}
    final = await client.threads.get_state(tid)
    assert final["next"] == [] and final["values"]["answer"] == "approved='yes'"
    assert (await client.threads.get(tid))["status"] == "idle"

    history = await client.threads.get_history(tid, limit=100)
    assert len(history) >= 5
    assert history[0]["checkpoint_id"] == final["checkpoint_id"]
    older = history[2]
    at = await client.threads.get_state(tid, checkpoint_id=older["checkpoint_id"])
    assert at["values"] == older["values"]
    at_post = await client.threads.get_state(
        tid, checkpoint={"checkpoint_id": older["checkpoint_id"]}, subgraphs=True
    )
    assert at_post["values"] == older["values"]
    before = await client.threads.get_history(
        tid, limit=2, before={"configurable": {"checkpoint_id": history[0]["checkpoint_id"]}}
    )
    assert [h["checkpoint_id"] for h in before] == [h["checkpoint_id"] for h in history[1:3]]

    runs = await client.runs.list(tid)
    assert [r["status"] for r in runs] == ["success", "success"]
    run = await client.runs.get(tid, runs[0]["run_id"])
    assert run["thread_id"] == tid and run["kwargs"]["command"] == {"resume": "yes"}


async def test_update_state_copy_and_fork(client: Any) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    out = await client.runs.wait(tid, "agent", input=HI)
    assert out["__interrupt__"][0]["value"] == {"question": "approve?"}
    written = await client.threads.update_state(tid, {"answer": "patched"}, as_node="final")
    assert written["checkpoint"]["checkpoint_id"] == written["checkpoint_id"]
    state = await client.threads.get_state(tid)
    assert state["values"]["answer"] == "patched" and state["next"] == []

    copy = await client.threads.copy(tid)
    assert copy["thread_id"] != tid
    copied = await client.threads.get_state(copy["thread_id"])
    assert copied["values"] == state["values"]

    first = (await client.threads.get_history(tid, limit=100))[-1]
    forked = await client.runs.wait(tid, "agent", input=HI, checkpoint_id=first["checkpoint_id"])
    assert forked["steps"] == ["agent"]


async def test_background_run_join_get_list_delete(client: Any) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    run = await client.runs.create(tid, "echo", input={"messages": []})
    assert run["status"] == "pending" and run["multitask_strategy"] == "enqueue"
    joined = await client.runs.join(tid, run["run_id"])
    assert joined["messages"][-1]["content"] == "echo!"
    got = await client.runs.get(tid, run["run_id"])
    assert got["status"] == "success"
    assert [r["run_id"] for r in await client.runs.list(tid)] == [run["run_id"]]
    await client.runs.delete(tid, run["run_id"])
    assert await client.runs.list(tid) == []
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, run["run_id"])


async def test_cancel_makes_the_run_interrupted(client: Any) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    run = await client.runs.create(tid, "slow", input={"n": 40})
    await asyncio.sleep(0.5)
    await client.runs.cancel(tid, run["run_id"], wait=True)
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "interrupted"
    parts = await _parts(client.runs.join_stream(tid, run["run_id"], last_event_id="-1"))
    assert parts[0][0] == "metadata" and all(e != "error" for e, _, _ in parts)


async def test_errors_as_the_reference_reports_them(client: Any) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    parts = await _parts(client.runs.stream(tid, "boom", input={"x": 1}))
    assert [e for e, _, _ in parts] == ["metadata", "values", "error"]
    assert parts[-1][1] == {"error": "ValueError", "message": "kaboom"}
    with pytest.raises(Exception, match="ValueError: kaboom"):
        await client.runs.wait(tid, "boom", input={"x": 1})
    result = await client.runs.wait(tid, "boom", input={"x": 1}, raise_error=False)
    assert result == {"__error__": {"error": "ValueError", "message": "kaboom"}}
    got = await client.threads.get(tid)
    assert got["status"] == "error" and got["error"]["message"] == "kaboom"

    with pytest.raises(httpx.HTTPStatusError, match="404") as caught:
        await client.runs.wait(str(uuid.uuid4()), "agent", input=HI)
    assert caught.value.response.json() == {"detail": "Thread or assistant not found."}
    with pytest.raises(NotFoundError, match="not found"):
        await client.threads.get_state(str(uuid.uuid4()))
    with pytest.raises(httpx.HTTPStatusError, match="422"):
        await client.runs.wait(tid, "nope", input=HI)
    with pytest.raises(UnprocessableEntityError):
        await client.runs.create(tid, "agent", input=HI, stream_mode="bogus")
    joined = await client.runs.join(tid, str(uuid.uuid4()))
    assert joined == {"__error__": {"error": "HTTPException", "message": "404: Run not found"}}
    unknown = await _parts(client.runs.join_stream(tid, str(uuid.uuid4())))
    assert unknown == [("error", {"error": "HTTPException", "message": "404: Run not found"}, None)]


async def test_stateless_runs(client: Any, server: Server) -> None:
    parts = await _parts(client.runs.stream(None, "echo", input={"messages": []}))
    assert [e for e, _, _ in parts] == ["metadata", "values", "values"]
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/runs/stream",
            json={
                "assistant_id": "echo",
                "input": {},
                "after_seconds": 0.2,
                "on_completion": "keep",
            },
        )
        # The run has a thread of its own (kept here: by default it is deleted once the run
        # and its response are over): its stream can be joined and resumed there.
        replay = await http.get(response.headers["location"], headers={"last-event-id": "-1"})
    assert replay.text == response.text and response.text.startswith("event: metadata")
    out = await client.runs.wait(None, "echo", input={"messages": []})
    assert out["messages"][-1]["content"] == "echo!"


async def test_if_not_exists_creates_the_thread(client: Any) -> None:
    tid = str(uuid.uuid4())
    out = await client.runs.wait(tid, "echo", input={"messages": []}, if_not_exists="create")
    assert out["messages"][-1]["content"] == "echo!"
    assert (await client.threads.get(tid))["metadata"]["graph_id"] == "echo"


async def test_multitask_strategies(client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    first = await client.runs.create(tid, "slow", input={"n": 6})
    with pytest.raises(ConflictError):
        await client.runs.create(tid, "slow", input={"n": 1}, multitask_strategy="reject")
    queued = await client.runs.create(tid, "slow", input={"n": 1})
    assert (await client.runs.get(tid, queued["run_id"]))["status"] == "pending"
    interrupting = await client.runs.create(
        tid, "slow", input={"n": 1}, multitask_strategy="interrupt"
    )
    await client.runs.join(tid, interrupting["run_id"])
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "interrupted"
    assert (await client.runs.get(tid, interrupting["run_id"]))["status"] == "success"

    long = await client.runs.create(tid, "slow", input={"n": 20})
    await asyncio.sleep(0.7)
    rolling = await client.runs.create(tid, "slow", input={"n": 1}, multitask_strategy="rollback")
    await client.runs.join(tid, rolling["run_id"])
    listed = [r["run_id"] for r in await client.runs.list(tid, limit=100)]
    assert long["run_id"] not in listed and rolling["run_id"] in listed
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, long["run_id"])


async def test_stream_modes_with_the_servers_names(client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    parts = await _parts(
        client.runs.stream(
            tid,
            "agent",
            input=HI,
            stream_mode=["messages", "messages-tuple", "debug", "tasks", "checkpoints", "events"],
        )
    )
    names = {e for e, _, _ in parts}
    assert {"messages", "debug", "tasks", "checkpoints", "events"} <= names
    # Both messages modes asked: the tuples only, as LangGraph's server streams them.
    assert not {n for n in names if n.startswith("messages/")}
    shown = await _parts(client.runs.stream(tid, "agent", input=HI, stream_mode="messages"))
    assert {"messages/metadata", "messages/partial"} <= {e for e, _, _ in shown}
    partial = [d[0]["content"] for e, d, _ in shown if e == "messages/partial"]
    assert partial[0] == "Hello" and partial[-1] == "Hello from the fake model"
    assert all(d[0]["type"] == "ai" for e, d, _ in shown if e == "messages/partial")
    tuples = [d for e, d, _ in parts if e == "messages"]
    assert "".join(m["content"] for m, _ in tuples) == "Hello from the fake model"
    assert tuples[0][1]["langgraph_node"] == "agent"

    sub = await _parts(
        client.runs.stream(
            None, "agent", input=HI, stream_mode=["updates", "custom"], stream_subgraphs=True
        )
    )
    names = [e for e, _, _ in sub]
    assert any(n.startswith("updates|sub:") for n in names)
    assert any(n.startswith("custom|sub:") for n in names)

    echo = await _parts(
        client.runs.stream(None, "echo", input={"messages": []}, stream_mode="messages")
    )
    assert [e for e, _, _ in echo][1:] == ["messages/metadata", "messages/complete"]


async def test_sse_framing_and_headers(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        tid = (await http.post("/threads", json={})).json()["thread_id"]
        response = await http.post(
            f"/threads/{tid}/runs/stream", json={"assistant_id": "echo", "input": {}}
        )
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        run_id = response.text.split('"run_id":"')[1].split('"')[0]
        assert response.headers["location"] == f"/threads/{tid}/runs/{run_id}/stream"
        assert response.headers["content-location"] == f"/threads/{tid}/runs/{run_id}"
        assert response.text.startswith(
            f'event: metadata\r\ndata: {{"run_id":"{run_id}","attempt":1}}\r\nid: '
        )
        assert response.text.endswith("\r\n\r\n")
        bad = await http.post(
            f"/threads/{tid}/runs/stream",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        assert bad.status_code == 422 and bad.json() == {"detail": "Invalid JSON in request body"}
        modes = await http.post(
            f"/threads/{tid}/runs/stream",
            json={"assistant_id": "echo", "stream_mode": ["values", "bogus"]},
        )
        assert modes.status_code == 422 and "stream_mode" in modes.json()["detail"]
        big = await http.post("/threads", content=b" " * (11 * 1024 * 1024))
        assert big.status_code == 413
        # Refused input writes nothing: the thread a valid request would create is not there.
        fresh = str(uuid.uuid4())
        refused = await http.post(
            f"/threads/{fresh}/runs",
            json={"assistant_id": "echo", "if_not_exists": "create", "stream_mode": "bogus"},
        )
        assert refused.status_code == 422
        assert (await http.get(f"/threads/{fresh}")).status_code == 404
        unknown = await http.post(
            f"/threads/{fresh}/runs", json={"assistant_id": "nope", "if_not_exists": "create"}
        )
        assert unknown.status_code == 422 and "registered graphs" in unknown.json()["detail"]
        assert (await http.get(f"/threads/{fresh}")).status_code == 404
