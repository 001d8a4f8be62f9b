"""MCP over streamable HTTP (``/mcp``), as plain JSON-RPC: the lifecycle, every assistant as a
tool, tool calls that succeed, fail and stop at an interrupt, and the protocol's errors.

The server's own name and version (``serverInfo``) are each server's, and shown as
``<server>``.
"""

from __future__ import annotations

from typing import Any

from tests.server.reference.calls.base import Call, Ctx, Http, answer, registrar

CALLS: list[Call] = []
call = registrar(CALLS)

ACCEPT = {"accept": "application/json, text/event-stream"}


async def rpc(h: Http, method: str, params: Any = None, *, id_: Any = 1) -> dict[str, Any]:
    """One JSON-RPC request to ``/mcp``, answered."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        message["params"] = params
    return answer(await h.request("POST", "/mcp", json=message, headers=ACCEPT))


async def post(h: Http, body: bytes, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """``body`` as it is, POSTed to ``/mcp``."""
    return answer(await h.request("POST", "/mcp", content=body, headers=headers or ACCEPT))


def _server_shown(outcome: dict[str, Any]) -> dict[str, Any]:
    result = outcome["body"].get("result") or {}
    if "serverInfo" in result:
        result["serverInfo"] = {key: "<server>" for key in result["serverInfo"]}
    return outcome


@call("POST /mcp", "initialize", http=True)
async def initialize(h: Http, ctx: Ctx) -> Any:
    return _server_shown(await rpc(h, "initialize", {"protocolVersion": "2025-06-18"}))


@call("POST /mcp", "initialize, unknown version", http=True)
async def initialize_unknown_version(h: Http, ctx: Ctx) -> Any:
    return _server_shown(await rpc(h, "initialize", {"protocolVersion": "1999-01-01"}))


@call("POST /mcp", "ping, notification, response", http=True)
async def ping(h: Http, ctx: Ctx) -> Any:
    return {
        "ping": await rpc(h, "ping", id_="p"),
        "notification": await post(h, b'{"jsonrpc": "2.0", "method": "notifications/initialized"}'),
        "response": await post(h, b'{"jsonrpc": "2.0", "id": 7, "result": {}}'),
    }


@call("POST /mcp", "tools/list", http=True)
async def tools_list(h: Http, ctx: Ctx) -> Any:
    return {
        "first page": await rpc(h, "tools/list"),
        "cursor past the end": await rpc(h, "tools/list", {"cursor": "100"}),
        "cursor not a number": await rpc(h, "tools/list", {"cursor": "x"}),
    }


@call("POST /mcp", "tools/call", http=True)
async def tools_call(h: Http, ctx: Ctx) -> Any:
    return await rpc(h, "tools/call", {"name": "chat", "arguments": {"messages": "hi"}})


@call("POST /mcp", "tools/call, context", http=True)
async def tools_call_context(h: Http, ctx: Ctx) -> Any:
    params = {"name": "slow", "arguments": {"seconds": 0}, "context": {"k": 1}}
    return await rpc(h, "tools/call", params)


@call("POST /mcp", "tools/call, error", http=True)
async def tools_call_error(h: Http, ctx: Ctx) -> Any:
    return await rpc(h, "tools/call", {"name": "boom", "arguments": {"x": 1}})


@call("POST /mcp", "tools/call, interrupt", http=True)
async def tools_call_interrupt(h: Http, ctx: Ctx) -> Any:
    return await rpc(h, "tools/call", {"name": "ask", "arguments": {"messages": "hi"}})


@call("POST /mcp", "tools/call, unknown tools", http=True)
async def tools_call_unknown(h: Http, ctx: Ctx) -> Any:
    return {
        "unknown": await rpc(h, "tools/call", {"name": "nope"}),
        "no name": await rpc(h, "tools/call", {"arguments": {}}),
    }


@call("POST /mcp", "unknown method", http=True)
async def unknown_method(h: Http, ctx: Ctx) -> Any:
    return await rpc(h, "resources/list")


@call("POST /mcp", "malformed", http=True)
async def malformed(h: Http, ctx: Ctx) -> Any:
    return {
        "not JSON": await post(h, b"{nope"),
        "not an object": await post(h, b"[1, 2]"),
        "no jsonrpc": await post(h, b'{"id": 1, "method": "ping"}'),
        "no id, no method": await post(h, b'{"jsonrpc": "2.0"}'),
        "no accept": await post(
            h, b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}', {"accept": "text/html"}
        ),
    }


@call("GET /mcp", http=True)
async def get_mcp(h: Http, ctx: Ctx) -> Any:
    return answer(await h.request("GET", "/mcp", headers={"accept": "text/event-stream"}))


@call("DELETE /mcp", http=True)
async def delete_mcp(h: Http, ctx: Ctx) -> Any:
    return answer(await h.request("DELETE", "/mcp"))
