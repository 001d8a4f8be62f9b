"""A2A at ``/a2a/{assistant_id}``: agent cards, messages sent and streamed as recorded runs,
tasks read, listed and cancelled, interrupts answered, and the protocol's errors answered as
LangGraph's server answers them (``tests/server/reference`` compares the two)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from rewind import __version__
from tests.server.protocols import assistant_of, serving, sse_answers

JSON = {"accept": "application/json"}
STREAM = {"accept": "text/event-stream"}


def said(text: str | None = None, **fields: Any) -> dict[str, Any]:
    """A user's message (one text part, or the ``parts`` given)."""
    message: dict[str, Any] = {"role": "user", "messageId": f"m-{uuid.uuid4()}"}
    message["parts"] = [{"kind": "text", "text": text}] if text is not None else []
    return {**message, **fields}


async def rpc(
    http: httpx.AsyncClient, graph: str, method: str, params: Any = None, **headers: str
) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": "r", "method": method}
    if params is not None:
        message["params"] = params
    answer = await http.post(
        f"/a2a/{assistant_of(graph)}", json=message, headers={**JSON, **headers}
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["id"] == "r"
    return body


async def send(http: httpx.AsyncClient, graph: str, params: dict[str, Any]) -> dict[str, Any]:
    body = await rpc(http, graph, "message/send", params)
    assert "result" in body, body
    task: dict[str, Any] = body["result"]
    return task


@pytest.fixture
async def http(tmp_path: Path) -> Any:
    async with serving(tmp_path) as client:
        yield client


# --- agent cards -------------------------------------------------------------------------------


async def test_each_assistant_has_an_agent_card(http: httpx.AsyncClient) -> None:
    chat = assistant_of("chat")
    card = (await http.get(f"/a2a/{chat}/.well-known/agent-card.json")).json()
    assert card["name"] == "chat" and card["description"] == "chat assistant"
    assert card["url"] == f"http://app/a2a/{chat}"
    assert card["supportedInterfaces"] == [
        {"url": f"http://app/a2a/{chat}", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}
    ]
    assert card["capabilities"]["streaming"] is True
    assert card["capabilities"]["pushNotifications"] is False
    assert card["version"] == __version__
    assert card["skills"][0]["metadata"]["inputSchema"] == {
        "required": [],
        "properties": ["messages", "turns"],
        "supportsA2A": True,
    }
    for path in (f"/a2a/{chat}", f"/a2a/{chat}/.well-known/agent.json"):
        assert (await http.get(path)).json() == card
    assert (
        await http.get("/.well-known/agent-card.json", params={"assistant_id": chat})
    ).json() == card
    behind = await http.get(f"/a2a/{chat}", headers={"x-forwarded-proto": "https"})
    assert behind.json()["url"] == f"https://app/a2a/{chat}"


async def test_an_assistants_metadata_sets_its_modes(http: httpx.AsyncClient) -> None:
    made = await http.post(
        "/assistants",
        json={"graph_id": "boom", "name": "b", "metadata": {"a2a": {"input_modes": ["text/csv"]}}},
    )
    card = (await http.get(f"/a2a/{made.json()['assistant_id']}")).json()
    assert card["defaultInputModes"] == ["text/csv"]
    assert card["defaultOutputModes"] == ["application/json", "text/plain"]
    assert card["skills"][0]["metadata"]["inputSchema"]["supportsA2A"] is False
    bad = await http.post(
        "/assistants", json={"graph_id": "boom", "metadata": {"a2a": {"output_modes": []}}}
    )
    refused = await http.get(f"/a2a/{bad.json()['assistant_id']}")
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == (
        "Assistant metadata.a2a.output_modes must be a non-empty array of strings."
    )


async def test_unknown_agents_have_no_card(http: httpx.AsyncClient) -> None:
    unknown = str(uuid.uuid4())
    answers = {
        f"/a2a/{unknown}": f"Assistant '{unknown}' not found",
        "/a2a/chat": "Failed to get assistant 'chat': Invalid assistant ID: must be a UUID",
        "/.well-known/agent-card.json": "Missing required query parameter: assistant_id",
    }
    for path, message in answers.items():
        answer = await http.get(path)
        assert answer.status_code == 400
        assert answer.json() == {"error": {"code": -32602, "message": message}}


# --- messages ----------------------------------------------------------------------------------


async def test_a_message_starts_a_task_that_is_a_recorded_run(http: httpx.AsyncClient) -> None:
    task = await send(http, "chat", {"message": said("hi", messageId="m1")})
    context = task["contextId"]
    assert task["kind"] == "task" and task["status"]["state"] == "completed"
    assert task["artifacts"][0]["parts"] == [{"kind": "text", "text": "echo: hi"}]
    assert task["artifacts"][0]["name"] == "Assistant Response"
    roles = [(m["role"], m["parts"][0]["text"], m["taskId"]) for m in task["history"]]
    assert roles == [("user", "hi", task["id"]), ("agent", "echo: hi", task["id"])]
    assert task["history"][0]["messageId"] == "m1"
    # The context is a thread, the task a run on it: the runs routes show it.
    runs = (await http.get(f"/threads/{context}/runs")).json()
    assert task["id"] == f"{context}:{runs[0]['run_id']}"
    assert runs[0]["status"] == "success" and "task_start_id" in runs[0]["metadata"]["a2a"]
    state = (await http.get(f"/threads/{context}/state")).json()
    assert state["values"]["messages"][0]["id"] == "m1"
    assert state["values"]["messages"][0]["additional_kwargs"]["a2a"] == runs[0]["metadata"]["a2a"]


async def test_a_context_holds_a_conversation(http: httpx.AsyncClient) -> None:
    first = await send(http, "chat", {"message": said("hi")})
    again = said("again", contextId=first["contextId"])
    second = await send(http, "chat", {"message": again})
    assert second["contextId"] == first["contextId"] and second["id"] != first["id"]
    assert [m["parts"][0]["text"] for m in second["history"]] == [
        "hi",
        "echo: hi",
        "again",
        "echo: again",
    ]
    assert [m["taskId"] for m in second["history"]] == [first["id"]] * 2 + [second["id"]] * 2
    scoped = await send(
        http,
        "chat",
        {
            "message": said("more", contextId=first["contextId"]),
            "configuration": {"historyLength": 1, "historyScope": "task"},
        },
    )
    assert [m["parts"][0]["text"] for m in scoped["history"]] == ["echo: more"]
    unshown = await send(
        http,
        "chat",
        {"message": said("x", contextId=first["contextId"]), "configuration": {"historyLength": 0}},
    )
    assert "history" not in unshown
    header = await rpc(
        http, "chat", "tasks/get", {"id": first["id"]}, **{"LangGraph-A2A-History-Scope": "task"}
    )
    assert [m["parts"][0]["text"] for m in header["result"]["history"]] == ["hi", "echo: hi"]


async def test_an_interrupt_waits_for_input_and_a_reply_resumes_it(
    http: httpx.AsyncClient,
) -> None:
    asked = await send(http, "ask", {"message": said("hi")})
    assert asked["status"]["state"] == "input-required"
    interrupt = asked["artifacts"][0]
    assert interrupt["name"] == "Interrupt"
    assert interrupt["parts"][0]["data"]["value"] == {"question": "approve?"}
    reply = said("yes", taskId=asked["id"], contextId=asked["contextId"])
    done = await send(http, "ask", {"message": reply})
    assert done["id"] == asked["id"] and done["status"]["state"] == "completed"
    assert done["artifacts"][0]["parts"] == [{"kind": "text", "text": "approved: yes"}]
    more = await rpc(http, "ask", "message/send", {"message": said("x", taskId=asked["id"])})
    assert more["error"] == {
        "code": -32004,
        "message": "A terminal task cannot accept another message",
    }


async def test_a_data_part_resumes_only_a_task_waiting_for_input(
    http: httpx.AsyncClient,
) -> None:
    asked = await send(http, "ask", {"message": said("hi")})
    answer = [{"kind": "data", "data": {"resume": "data-yes"}}]
    reply = said(parts=answer, taskId=asked["id"], contextId=asked["contextId"])
    done = await send(http, "ask", {"message": reply})
    assert done["artifacts"][0]["parts"][0]["text"] == "approved: data-yes"
    chat = await send(http, "chat", {"message": said("hi")})
    early = said(parts=answer, contextId=chat["contextId"])
    refused = await rpc(http, "chat", "message/send", {"message": early})
    assert refused["error"] == {
        "code": -32602,
        "message": "contextId and taskId are required when resuming a task",
    }


async def test_data_and_file_parts(http: httpx.AsyncClient) -> None:
    data = await send(
        http, "slow", {"message": said(parts=[{"kind": "data", "data": {"seconds": 0}}])}
    )
    assert data["artifacts"][0]["parts"] == [
        {"kind": "text", "text": "{'seconds': 0, 'slept': 0, 'messages': []}"}
    ]
    picture = {"kind": "file", "file": {"bytes": "aGk=", "mimeType": "image/png", "name": "a.png"}}
    shown = await send(
        http, "chat", {"message": said(parts=[{"kind": "text", "text": "see"}, picture])}
    )
    assert shown["history"][0]["parts"] == [
        {"kind": "text", "text": "see"},
        {"kind": "file", "file": {"bytes": "aGk=", "mimeType": "image/png", "name": "a.png"}},
    ]
    failed = await send(http, "boom", {"message": said(parts=[{"kind": "data", "data": {"x": 1}}])})
    assert failed["status"]["state"] == "failed"
    assert (
        failed["status"]["message"]["parts"][0]["text"] == "Error executing assistant: ValueError"
    )


async def test_bad_messages_get_json_rpc_errors(http: httpx.AsyncClient) -> None:
    cases: dict[str, tuple[str, Any, int, str]] = {
        "no message": ("chat", {}, -32602, "Missing or invalid 'message' in params"),
        "no messageId": (
            "chat",
            {"message": {"role": "user", "parts": []}},
            -32602,
            "Missing required 'messageId' in message",
        ),
        "no parts": ("chat", {"message": said()}, -32602, "Message must contain at least one part"),
        "two kinds": (
            "chat",
            {"message": said(parts=[{"text": "a", "data": {}}])},
            -32005,
            "Each message part must contain exactly one of 'text', 'file', or 'data'. "
            "Got multiple: ['text', 'data'].",
        ),
        "a2ui": (
            "chat",
            {
                "message": said(
                    parts=[{"data": {}, "metadata": {"mimeType": "application/json+a2ui"}}]
                )
            },
            -32602,
            "A2UI is not enabled for this agent",
        ),
        "no messages in the graph": (
            "boom",
            {"message": said("hi")},
            -32602,
            f"Assistant '{assistant_of('boom')}' (graph 'boom') does not support A2A "
            "conversational messages. Graph input schema must include a 'messages' field to "
            "accept text or file parts. Available input fields: ['x']",
        ),
        "unknown task": (
            "chat",
            {"message": said("hi", taskId="nope:nope")},
            -32001,
            "Task not found: nope:nope",
        ),
        "history too long": (
            "chat",
            {"message": said("hi"), "configuration": {"historyLength": 11}},
            -32602,
            "historyLength cannot exceed 10",
        ),
        "command not an object": (
            "ask",
            {"message": said("hi", command=[1])},
            -32602,
            "Invalid params: 'command' must be an object",
        ),
    }
    for case, (graph, params, code, message) in cases.items():
        answer = await rpc(http, graph, "message/send", params)
        assert answer["error"] == {"code": code, "message": message}, case


async def test_malformed_requests_get_json_rpc_errors(http: httpx.AsyncClient) -> None:
    path = f"/a2a/{assistant_of('chat')}"

    async def post(body: bytes, headers: dict[str, str] = JSON) -> httpx.Response:
        return await http.post(path, content=body, headers=headers)

    cases = {
        b"{nope": (None, -32700, "Invalid JSON payload"),
        b"[1]": (None, -32600, "Invalid message format: expected object"),
        b'{"jsonrpc": "1.0", "id": 1}': (
            1,
            -32600,
            "Invalid JSON-RPC message: missing or invalid jsonrpc version",
        ),
        b'{"jsonrpc": "2.0", "id": 1, "method": "tasks/resubscribe"}': (
            1,
            -32601,
            "Method not found: tasks/resubscribe",
        ),
        b'{"jsonrpc": "2.0", "id": [1], "method": "tasks/get"}': (
            None,
            -32600,
            "Invalid JSON-RPC request: 'id' must be a string, number, or null",
        ),
        b'{"jsonrpc": "2.0", "id": 1}': (
            1,
            -32600,
            "Invalid JSON-RPC request: missing 'method' field",
        ),
        # Where LangGraph's server fails with a 500:
        b'{"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": [1]}': (
            1,
            -32602,
            "Invalid params: must be an object",
        ),
    }
    for body, (id_, code, message) in cases.items():
        answer = await post(body)
        assert answer.status_code == 200
        assert answer.json() == {
            "jsonrpc": "2.0",
            "id": id_,
            "error": {"code": code, "message": message},
        }
    taken = await post(b'{"jsonrpc": "2.0", "id": 1, "result": {}}')
    assert (taken.status_code, taken.content) == (202, b"")
    refused = await post(
        b'{"jsonrpc": "2.0", "id": 1, "method": "tasks/get"}', {"accept": "text/html"}
    )
    assert refused.status_code == 400
    assert refused.json() == {"error": "Accept header must include application/json"}
    not_a_uuid = await http.post(
        "/a2a/chat", json={"jsonrpc": "2.0", "id": 1, "method": "tasks/get"}, headers=JSON
    )
    assert not_a_uuid.json()["error"] == {
        "code": -32602,
        "message": "Invalid assistant ID: must be a UUID",
    }
    unknown = await rpc_to(http, str(uuid.uuid4()), "message/send", {"message": said("hi")})
    assert unknown["error"]["message"].endswith("' not found")
    assert (await http.delete(path)).status_code == 405


async def rpc_to(http: httpx.AsyncClient, assistant_id: str, method: str, params: Any) -> Any:
    message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    return (await http.post(f"/a2a/{assistant_id}", json=message, headers=JSON)).json()


# --- tasks -------------------------------------------------------------------------------------


async def test_a_task_is_read_by_its_id(http: httpx.AsyncClient) -> None:
    task = await send(http, "chat", {"message": said("hi")})
    found = (await rpc(http, "chat", "tasks/get", {"id": task["id"]}))["result"]
    assert found["id"] == task["id"] and found["status"]["state"] == "completed"
    assert found["status"]["message"]["parts"][0]["text"] == "Task completed successfully"
    assert [m["parts"][0]["text"] for m in found["history"]] == ["hi", "echo: hi"]
    v1 = (await rpc(http, "chat", "GetTask", {"id": task["id"], "historyLength": 1}))["result"]
    assert v1["status"]["state"] == "TASK_STATE_COMPLETED"
    assert [m["role"] for m in v1["history"]] == ["ROLE_AGENT"]
    elsewhere = await rpc(http, "ask", "tasks/get", {"id": task["id"]})
    assert elsewhere["error"] == {"code": -32001, "message": f"Task not found: {task['id']}"}
    missing = await rpc(http, "chat", "tasks/get", {})
    assert missing["error"] == {
        "code": -32602,
        "message": "Missing required parameter: id (task_id)",
    }


async def test_a_task_waiting_for_input_is_cancelled(http: httpx.AsyncClient) -> None:
    asked = await send(http, "ask", {"message": said("hi")})
    cancelled = (await rpc(http, "ask", "tasks/cancel", {"id": asked["id"]}))["result"]
    assert cancelled["status"]["state"] == "canceled"
    assert cancelled["status"]["message"]["parts"][0]["text"] == "Task was canceled"
    found = (await rpc(http, "ask", "tasks/get", {"id": asked["id"]}))["result"]
    assert found["status"]["state"] == "canceled"
    thread = (await http.get(f"/threads/{asked['contextId']}")).json()
    assert thread["status"] == "idle"  # its interrupt dismissed
    again = await rpc(http, "ask", "tasks/cancel", {"id": asked["id"]})
    assert again["error"] == {
        "code": -32002,
        "message": "Task is not cancelable in its current state",
    }


async def test_a_running_task_is_cancelled(http: httpx.AsyncClient) -> None:
    message = {"jsonrpc": "2.0", "id": 1, "method": "message/stream"}
    params = {"message": said(parts=[{"kind": "data", "data": {"seconds": 30}}])}
    path = f"/a2a/{assistant_of('slow')}"
    streaming = asyncio.ensure_future(
        http.post(path, json={**message, "params": params}, headers=STREAM)
    )
    for _ in range(200):
        threads = (await http.post("/threads/search", json={})).json()
        if threads and threads[0]["status"] == "busy":
            break
        await asyncio.sleep(0.05)
    context = threads[0]["thread_id"]
    run_id = (await http.get(f"/threads/{context}/runs")).json()[0]["run_id"]
    cancelled = await rpc(http, "slow", "tasks/cancel", {"id": f"{context}:{run_id}"})
    assert cancelled["result"]["status"]["state"] == "canceled"
    answers = sse_answers((await asyncio.wait_for(streaming, 10)).text)
    assert answers[-1]["result"]["final"] is True
    runs = (await http.get(f"/threads/{context}/runs")).json()
    assert runs[0]["status"] == "interrupted"


async def test_tasks_are_listed_newest_first(http: httpx.AsyncClient) -> None:
    first = await send(http, "chat", {"message": said("one")})
    context = first["contextId"]
    second = await send(http, "chat", {"message": said("two", contextId=context)})
    listed = (await rpc(http, "chat", "ListTasks", {"contextId": context, "historyLength": 1}))[
        "result"
    ]
    assert [t["id"] for t in listed["tasks"]] == [second["id"], first["id"]]
    assert listed["totalSize"] == 2 and listed["nextPageToken"] == ""
    assert [t["history"][0]["parts"][0]["text"] for t in listed["tasks"]] == [
        "echo: two",
        "echo: one",
    ]
    paged = (await rpc(http, "chat", "ListTasks", {"contextId": context, "pageSize": 1}))["result"]
    assert [t["id"] for t in paged["tasks"]] == [second["id"]] and paged["nextPageToken"] == "1"
    rest = await rpc(
        http, "chat", "ListTasks", {"contextId": context, "pageSize": 1, "pageToken": "1"}
    )
    assert [t["id"] for t in rest["result"]["tasks"]] == [first["id"]]
    everywhere = (await rpc(http, "chat", "ListTasks", {"status": "completed"}))["result"]
    assert everywhere["totalSize"] == 2
    none = (await rpc(http, "chat", "ListTasks", {"status": "input-required"}))["result"]
    assert none["tasks"] == [] and none["totalSize"] == 0
    bad = await rpc(http, "chat", "ListTasks", {"pageToken": "x"})
    assert bad["error"] == {"code": -32602, "message": "Invalid pageToken."}


# --- streams -----------------------------------------------------------------------------------


async def stream(
    http: httpx.AsyncClient, graph: str, params: Any, method: str = "message/stream"
) -> list[dict[str, Any]]:
    message = {"jsonrpc": "2.0", "id": "s", "method": method, "params": params}
    answer = await http.post(f"/a2a/{assistant_of(graph)}", json=message, headers=STREAM)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    return sse_answers(answer.text)


async def test_a_streamed_message_shows_the_agents_words_as_they_come(
    http: httpx.AsyncClient,
) -> None:
    answers = [a["result"] for a in await stream(http, "tokens", {"message": said("hi")})]
    assert answers[0]["kind"] == "task" and answers[0]["status"]["state"] == "submitted"
    words = [a["status"]["message"]["parts"][0]["text"] for a in answers[1:-2]]
    assert words == ["one", "one ", "one two", "one two ", "one two three"]
    assert answers[-2]["kind"] == "artifact-update" and answers[-2]["lastChunk"] is True
    assert answers[-2]["artifact"]["parts"] == [{"kind": "text", "text": "one two three"}]
    assert answers[-1]["status"]["state"] == "completed" and answers[-1]["final"] is True
    runs = (await http.get(f"/threads/{answers[0]['contextId']}/runs")).json()
    assert answers[0]["id"] == f"{answers[0]['contextId']}:{runs[0]['run_id']}"


async def test_a_streamed_interrupt_and_failure(http: httpx.AsyncClient) -> None:
    asked = [a["result"] for a in await stream(http, "ask", {"message": said("hi")})]
    assert asked[1]["artifact"]["name"] == "Interrupt"
    assert asked[-1]["status"]["state"] == "input-required"
    v1 = await stream(
        http, "boom", {"message": said(parts=[{"data": {"x": 1}}])}, "SendStreamingMessage"
    )
    assert v1[0]["result"]["task"]["status"]["state"] == "TASK_STATE_SUBMITTED"
    assert v1[-1]["result"]["status"]["state"] == "TASK_STATE_FAILED"
    assert v1[-1]["result"]["status"]["message"]["parts"] == [{"kind": "text", "text": "kaboom"}]
    refused = await stream(http, "chat", {"message": {"messageId": "m", "parts": []}})
    assert refused == [
        {
            "jsonrpc": "2.0",
            "id": "s",
            "error": {"code": -32602, "message": "Missing required 'role' in message"},
        }
    ]


async def test_the_api_key_guards_a2a(tmp_path: Path) -> None:
    async with serving(tmp_path, api_key="s3cret") as http:
        path = f"/a2a/{assistant_of('chat')}"
        message = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "message/send",
            "params": {"message": said("hi")},
        }
        assert (await http.post(path, json=message, headers=JSON)).status_code == 401
        assert (await http.get(path)).status_code == 401
        assert (await http.get(f"{path}/.well-known/agent-card.json")).status_code == 401
        keyed = {**JSON, "x-api-key": "s3cret"}
        answer = await http.post(path, json=message, headers=keyed)
        assert answer.json()["result"]["status"]["state"] == "completed"


async def test_tasks_outlive_a_restart(tmp_path: Path) -> None:
    async with serving(tmp_path) as http:
        first = await send(http, "chat", {"message": said("hi")})
        again = said("again", contextId=first["contextId"])
        second = await send(http, "chat", {"message": again})
        before = (await http.get(f"/threads/{first['contextId']}/runs")).json()
    async with serving(tmp_path) as http:  # a new server on the same database
        # The log's runs show the assistant and metadata they were created with.
        after = (await http.get(f"/threads/{first['contextId']}/runs")).json()
        assert [(r["assistant_id"], r["metadata"]) for r in after] == [
            (r["assistant_id"], r["metadata"]) for r in before
        ]
        found = await http.get(f"/threads/{first['contextId']}/runs/{after[0]['run_id']}")
        assert found.json()["metadata"] == before[0]["metadata"]
        task = (await rpc(http, "chat", "tasks/get", {"id": second["id"]}))["result"]
        assert task["status"]["state"] == "completed"
        assert [m["taskId"] for m in task["history"]] == [first["id"]] * 2 + [second["id"]] * 2
        scoped = await rpc(http, "chat", "tasks/get", {"id": second["id"], "historyScope": "task"})
        texts = [m["parts"][0]["text"] for m in scoped["result"]["history"]]
        assert texts == ["again", "echo: again"]
