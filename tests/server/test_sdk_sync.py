"""The official sync client against a real server: every call, once through."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from tests.server.conftest import Server

HI = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def client(server: Server) -> Iterator[Any]:
    client = get_sync_client(url=server.url, api_key=None)
    yield client
    client.close()


def _parts(stream: Any) -> list[tuple[str, Any, str | None]]:
    return [(p.event, p.data, p.id) for p in stream]


def test_assistants_and_threads(client: Any) -> None:
    [assistant] = client.assistants.search(graph_id="agent")
    assert client.assistants.get(assistant["assistant_id"])["graph_id"] == "agent"
    thread = client.threads.create(metadata={"sync": True})
    tid = thread["thread_id"]
    assert client.threads.get(tid)["metadata"] == {"sync": True}
    assert client.threads.update(tid, metadata={"more": 1})["metadata"]["more"] == 1
    assert tid in [t["thread_id"] for t in client.threads.search(metadata={"sync": True})]
    with pytest.raises(ConflictError):
        client.threads.create(thread_id=tid)
    client.threads.delete(tid)
    with pytest.raises(NotFoundError):
        client.threads.get(tid)


def test_runs_state_and_history(client: Any) -> None:
    tid = client.threads.create()["thread_id"]
    parts = _parts(client.runs.stream(tid, "agent", input=HI, stream_mode="values"))
    assert parts[0][0] == "metadata" and "__interrupt__" in parts[-1][1]
    assert client.threads.get_state(tid)["next"] == ["ask_human"]
    out = client.runs.wait(tid, "agent", command={"resume": "ok"})
    assert out["answer"] == "approved='ok'"
    history = client.threads.get_history(tid, limit=50)
    assert history[0]["values"]["answer"] == "approved='ok'"
    at = client.threads.get_state(tid, checkpoint_id=history[1]["checkpoint_id"])
    assert at["checkpoint_id"] == history[1]["checkpoint_id"]
    written = client.threads.update_state(tid, {"answer": "changed"})
    assert client.threads.get_state(tid)["checkpoint_id"] == written["checkpoint_id"]
    copy = client.threads.copy(tid)
    assert client.threads.get_state(copy["thread_id"])["values"]["answer"] == "changed"

    run = client.runs.create(tid, "slow", input={"n": 30})
    time.sleep(0.3)
    client.runs.cancel(tid, run["run_id"], wait=True)
    assert client.runs.get(tid, run["run_id"])["status"] == "interrupted"
    echo = client.runs.create(tid, "echo", input={"messages": []})
    assert client.runs.join(tid, echo["run_id"])["messages"][-1]["content"] == "echo!"
    replay = _parts(client.runs.join_stream(tid, echo["run_id"], last_event_id="-1"))
    assert replay[0][0] == "metadata" and replay[-1][0] == "values"
    statuses = {r["run_id"]: r["status"] for r in client.runs.list(tid, limit=100)}
    assert statuses[run["run_id"]] == "interrupted" and statuses[echo["run_id"]] == "success"
    client.runs.delete(tid, echo["run_id"])
    with pytest.raises(NotFoundError):
        client.runs.get(tid, echo["run_id"])


def test_stateless_and_bad_input(client: Any) -> None:
    assert _parts(client.runs.stream(None, "echo", input={"messages": []}))[0][0] == "metadata"
    assert client.runs.wait(None, "echo", input={"messages": []})["messages"][0]["id"] == "echo-1"
    with pytest.raises(NotFoundError):
        client.threads.get_state(str(uuid.uuid4()))
    with pytest.raises(UnprocessableEntityError):
        _parts(client.runs.stream(None, "echo", input={}, stream_mode="bogus"))
    tid = client.threads.create()["thread_id"]
    client.runs.create(tid, "slow", input={"n": 4})
    with pytest.raises(ConflictError):
        client.runs.create(tid, "slow", input={"n": 1}, multitask_strategy="reject")
