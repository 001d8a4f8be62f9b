"""MCP at ``/mcp``: every assistant a tool, a call a recorded run, and the protocol's errors
answered as LangGraph's server answers them (``tests/server/reference`` compares the two)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from rewind import __version__
from rewind.server.mcp_routes import simplify_schema, tool_name
from tests.server.protocols import assistant_of, serving

ACCEPT = {"accept": "application/json, text/event-stream"}


async def rpc(http: httpx.AsyncClient, method: str, params: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": 7, "method": method}
    if params is not None:
        message["params"] = params
    answer = await http.post("/mcp", json=message, headers=ACCEPT)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["jsonrpc"] == "2.0" and body["id"] == 7
    return body


@pytest.fixture
async def http(tmp_path: Path) -> Any:
    async with serving(tmp_path) as client:
        yield client


async def test_initialize_agrees_on_a_version_and_names_the_server(http: httpx.AsyncClient) -> None:
    answer = await rpc(http, "initialize", {"protocolVersion": "2025-03-26"})
    assert answer["result"] == {
        "protocolVersion": "2025-03-26",
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": {"name": "rewind", "version": __version__},
    }
    newest = await rpc(http, "initialize", {"protocolVersion": "1999-01-01"})
    assert newest["result"]["protocolVersion"] == "2025-11-25"
    assert (await rpc(http, "ping"))["result"] == {}


async def test_every_assistant_is_a_tool(http: httpx.AsyncClient) -> None:
    await http.post("/assistants", json={"graph_id": "slow", "name": "take  your time!"})
    tools = (await rpc(http, "tools/list"))["result"]["tools"]
    names = [t["name"] for t in tools]
    assert names == ["take_your_time", "boom", "slow", "tokens", "nested", "ask", "chat"]
    chat = tools[-1]
    assert chat["title"] == "chat"
    assert chat["description"] == "Tool based on the chat assistant"
    # A list of LangChain messages is asked for as the user's message, a string.
    assert chat["inputSchema"]["properties"]["messages"] == {
        "type": "string",
        "title": "Messages",
        "description": "The user message to send to the agent.",
    }
    assert chat["inputSchema"]["type"] == "object" and "$defs" not in chat["inputSchema"]
    assert chat["annotations"]["openWorldHint"] is True
    assert "nextCursor" not in (await rpc(http, "tools/list"))["result"]
    beyond = await rpc(http, "tools/list", {"cursor": "5"})
    assert [t["name"] for t in beyond["result"]["tools"]] == ["ask", "chat"]


async def test_a_tool_call_is_a_recorded_run(http: httpx.AsyncClient) -> None:
    answer = await rpc(http, "tools/call", {"name": "chat", "arguments": {"messages": "hi"}})
    text = answer["result"]["content"][0]["text"]
    assert "'content': 'echo: hi'" in text and "'turns': 1" in text  # the output's repr
    # The run is rewind's like any other: its thread stays, with its run, to audit.
    threads = (await http.post("/threads/search", json={})).json()
    assert len(threads) == 1 and threads[0]["metadata"]["graph_id"] == "chat"
    runs = (await http.get(f"/threads/{threads[0]['thread_id']}/runs")).json()
    assert [r["status"] for r in runs] == ["success"]
    assert runs[0]["assistant_id"] == assistant_of("chat")
    log = http.app.state.service.log  # type: ignore[attr-defined]
    assert [r.run_id for r in await log.list_runs()] == [runs[0]["run_id"]]


async def test_a_failed_run_is_an_error_result_and_an_interrupt_its_output(
    http: httpx.AsyncClient,
) -> None:
    failed = await rpc(http, "tools/call", {"name": "boom", "arguments": {"x": 1}})
    assert failed["result"] == {
        "isError": True,
        "content": [{"type": "text", "text": "ValueError"}],
    }
    asked = await rpc(http, "tools/call", {"name": "ask", "arguments": {"messages": "hi"}})
    assert (
        "'__interrupt__': [{'value': {'question': 'approve?'}"
        in asked["result"]["content"][0]["text"]
    )
    slow = await rpc(
        http, "tools/call", {"name": "slow", "arguments": {"seconds": 0}, "context": {}}
    )
    assert slow["result"]["content"][0]["text"] == "{'seconds': 0, 'slept': 0}"


async def test_unknown_tools_and_methods_get_json_rpc_errors(http: httpx.AsyncClient) -> None:
    unknown = await rpc(http, "tools/call", {"name": "nope"})
    assert unknown["error"] == {"code": -32602, "message": "Unknown tool: nope"}
    nameless = await rpc(http, "tools/call", {"arguments": {}})
    assert nameless["error"] == {"code": -32602, "message": "Unknown tool: None"}
    method = await rpc(http, "resources/list")
    assert method["error"] == {"code": -32601, "message": "Method not found: resources/list"}
    # Where LangGraph's server fails with a 500: params that are no object, a bad context.
    listed = await rpc(http, "tools/list", [1])
    assert listed["error"] == {"code": -32602, "message": "Invalid params: must be an object"}
    bad_context = await rpc(http, "tools/call", {"name": "chat", "context": [1]})
    assert bad_context["error"]["code"] == -32602
    assert bad_context["error"]["message"].startswith("Invalid params: context:")


async def test_two_assistants_of_one_tool_name_refuse_a_call(http: httpx.AsyncClient) -> None:
    for name in ("twin", "twin "):
        await http.post("/assistants", json={"graph_id": "chat", "name": name})
    tools = (await rpc(http, "tools/list"))["result"]["tools"]
    assert [t["name"] for t in tools].count("twin") == 1
    twin = await rpc(http, "tools/call", {"name": "twin", "arguments": {}})
    assert twin["error"] == {"code": -32602, "message": "Multiple tools found with the same name."}


async def test_malformed_messages_get_transport_errors(http: httpx.AsyncClient) -> None:
    async def post(body: bytes, headers: dict[str, str] = ACCEPT) -> httpx.Response:
        return await http.post("/mcp", content=body, headers=headers)

    cases = {
        b"{nope": "Invalid JSON",
        b"[1]": "Invalid message format.",
        b'{"id": 1, "method": "ping"}': "Invalid JSON-RPC message. Missing or invalid jsonrpc "
        "version.",
    }
    for body, error in cases.items():
        answer = await post(body)
        assert (answer.status_code, answer.json()) == (400, {"error": error})
    neither = await post(b'{"jsonrpc": "2.0"}')
    assert neither.status_code == 400 and neither.json()["error"].startswith("Invalid message")
    refused = await post(b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}', {"accept": "text/html"})
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "Accept header must include application/json or text/event-stream"
    }
    for taken in (
        b'{"jsonrpc": "2.0", "method": "notifications/initialized"}',
        b'{"jsonrpc": "2.0", "id": 3, "result": {}}',
    ):
        answer = await post(taken)
        assert (answer.status_code, answer.content) == (202, b"")
    assert (await http.get("/mcp")).status_code == 405
    assert (await http.delete("/mcp")).status_code == 404


async def test_the_api_key_guards_mcp(tmp_path: Path) -> None:
    async with serving(tmp_path, api_key="s3cret") as http:
        message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        assert (await http.post("/mcp", json=message, headers=ACCEPT)).status_code == 401
        keyed = {**ACCEPT, "authorization": "Bearer s3cret"}
        answer = await http.post("/mcp", json=message, headers=keyed)
        assert answer.status_code == 200 and len(answer.json()["result"]["tools"]) == 6


def test_tool_names_are_mcps() -> None:
    assert tool_name("  My agent\tv2 (beta)! ") == "My_agent_v2_beta"
    assert tool_name("x" * 200) == "x" * 128


def test_a_schema_without_messages_is_left_as_it_is() -> None:
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}}
    simplify_schema(schema)
    assert schema == {"type": "object", "properties": {"x": {"type": "integer"}}}
    with_messages = {
        "$defs": {"HumanMessage": {}, "AIMessage": {}, "Other": {"type": "string"}},
        "properties": {
            "messages": {"type": "array", "items": {"oneOf": [{"$ref": "#/$defs/HumanMessage"}]}},
            "other": {"$ref": "#/$defs/Other"},
        },
    }
    simplify_schema(with_messages)
    assert with_messages["$defs"] == {"Other": {"type": "string"}}
    assert with_messages["properties"]["messages"]["type"] == "string"
