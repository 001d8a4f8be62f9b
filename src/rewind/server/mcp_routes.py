"""MCP (Model Context Protocol) over streamable HTTP at ``/mcp``, as LangGraph's server serves
it (``langgraph_api.api.mcp``): every assistant is a tool, and calling it runs the assistant.

Stateless, JSON answers only (no SSE): ``POST /mcp`` takes one JSON-RPC message; a request
gets its answer, a notification or a response a bodiless 202. ``GET /mcp`` (a server stream)
answers 405, ``DELETE /mcp`` (end a session) 404: there are no sessions.

Methods: ``initialize`` (the client's protocol version if this server speaks it, else the
newest; capabilities: tools), ``ping``, ``tools/list`` (the assistants, 100 a page, newest
first; ``nextCursor`` when a page is full) and ``tools/call``. A tool's name is its
assistant's name with whitespace runs as ``_`` and what MCP does not allow in a name dropped
(the first assistant of a name wins in the list; a call to a name two assistants share is
refused); its input schema is the graph's, where a list of LangChain messages becomes a
string (the user's message). A call is a run of the assistant on a thread of its own
(``POST /runs/wait``), with the call's ``arguments`` as input and its ``context``; the answer is
the output's Python ``repr`` as text, or ``isError`` with the error's type when the run failed.

Deliberate differences: the call's thread is kept (LangGraph's server deletes it once the run
ended), so the call stays in the log to audit, and the ``threads`` and ``runs`` routes show it;
where LangGraph's server fails with a 500 (``params`` that are no object, a run it cannot
create), this answers a JSON-RPC error; ``serverInfo`` names rewind.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from rewind import __version__
from rewind.server.assistant_routes import graph_schemas
from rewind.server.assistants import Assistant, assistants_of
from rewind.server.jsonrpc import (
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    RpcError,
    openapi_request,
    params_of,
    transport_error,
)
from rewind.server.models import RunCreate
from rewind.server.run_routes import _create, _service, run_output
from rewind.server.service import ApiError
from rewind.server.wire import jsonable

__all__ = ["PROTOCOL_VERSIONS", "router", "simplify_schema", "tool_name"]

router = APIRouter()

PROTOCOL_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
"""The MCP versions spoken, oldest first (LangGraph's)."""

PAGE = 100
"""Tools a ``tools/list`` page holds."""

SEARCHED = 1000
"""Assistants a ``tools/call`` looks its tool up among (LangGraph's limit)."""

_METHODS = ("initialize", "ping", "tools/list", "tools/call")

_MESSAGE_TYPES = frozenset(
    f"{kind}{suffix}"
    for kind in ("AI", "Human", "Chat", "System", "Function", "Tool")
    for suffix in ("Message", "MessageChunk")
)
_SUPPORT_TYPES = frozenset(
    {
        "ToolCall",
        "ToolCallChunk",
        "InvalidToolCall",
        "UsageMetadata",
        "InputTokenDetails",
        "OutputTokenDetails",
    }
)
_NOT_IN_NAMES = re.compile(r"[^a-zA-Z0-9_\-.]")


_PARAMS = {
    "type": "object",
    "properties": {
        "protocolVersion": {"type": "string"},
        "cursor": {"type": "string"},
        "name": {"type": "string"},
        "arguments": {"type": "object"},
        "context": {"type": "object"},
    },
}


@router.get("/mcp")
async def mcp_stream() -> Response:
    """A server-to-client stream: not offered (405)."""
    return Response(status_code=405)


@router.delete("/mcp")
async def mcp_end_session() -> Response:
    """Ending a session: there are none (404)."""
    return Response(status_code=404)


@router.post(
    "/mcp",
    openapi_extra=openapi_request(_METHODS, ("application/json, text/event-stream",), _PARAMS),
    response_model=None,
)
async def mcp(request: Request) -> Response:
    """One JSON-RPC message of MCP's streamable HTTP transport."""
    try:
        message = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return transport_error("Invalid JSON")
    accept = request.headers.get("accept", "")
    if "application/json" not in accept and "text/event-stream" not in accept:
        return transport_error("Accept header must include application/json or text/event-stream")
    if not isinstance(message, dict):
        return transport_error("Invalid message format.")
    if message.get("jsonrpc") != "2.0":
        return transport_error("Invalid JSON-RPC message. Missing or invalid jsonrpc version.")
    id_, method = message.get("id"), message.get("method")
    if id_ is not None and method:
        try:
            outcome = {"result": await _call(request, method, params_of(message))}
        except RpcError as exc:
            outcome = {"error": exc.json()}
        return JSONResponse({"jsonrpc": "2.0", "id": id_, **outcome})
    if id_ is not None or method:  # a response, or a notification: taken, nothing to answer
        return Response(status_code=202)
    return transport_error(
        "Invalid message format. A message is to be either a JSON-RPC request, response, or "
        "notification.Please see the Messages section of the Streamable HTTP RFC for more "
        "information."
    )


async def _call(request: Request, method: Any, params: dict[str, Any]) -> dict[str, Any]:
    if method == "initialize":
        asked = params.get("protocolVersion")
        version = asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[-1]
        return {
            "protocolVersion": version,
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": {"name": "rewind", "version": __version__},
        }
    if method == "ping":
        return {}
    if method == "tools/list":
        return await _tools(request, params)
    if method == "tools/call":
        return await _call_tool(request, params)
    raise RpcError(METHOD_NOT_FOUND, f"Method not found: {method}")


async def _tools(request: Request, params: dict[str, Any]) -> dict[str, Any]:
    try:
        cursor = max(0, int(params.get("cursor", 0)))
    except (TypeError, ValueError):
        cursor = 0
    page, _ = await assistants_of(request.app).search(limit=PAGE, offset=cursor)
    schemas: dict[str, dict[str, Any] | None] = {}
    tools, names = [], set()
    for assistant in page:
        name = tool_name(assistant.name)
        if name in names:
            continue
        names.add(name)
        if assistant.graph_id not in schemas:
            graph = _service(request).graphs[assistant.graph_id]
            schemas[assistant.graph_id] = graph_schemas(graph).get("input_schema")
        schema = schemas[assistant.graph_id]
        if schema is None:  # a schema that cannot be told: the assistant is no tool
            continue
        tools.append(_tool(assistant, name, copy.deepcopy(schema)))
    result: dict[str, Any] = {"tools": tools}
    if len(page) == PAGE:
        result["nextCursor"] = cursor + PAGE
    return result


def _tool(assistant: Assistant, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    simplify_schema(schema)
    schema.setdefault("type", "object")
    return {
        "name": name,
        "title": assistant.name,
        "description": assistant.description or f"Tool based on the {assistant.name} assistant",
        "inputSchema": schema,
        "annotations": {
            "readOnlyHint": False,
            "destructiveHint": False,
            "idempotentHint": False,
            "openWorldHint": True,
        },
    }


async def _call_tool(request: Request, params: dict[str, Any]) -> dict[str, Any]:
    name = params.get("name")
    if not name:
        raise RpcError(INVALID_PARAMS, f"Unknown tool: {name}")
    found, _ = await assistants_of(request.app).search(limit=SEARCHED)
    matching = [a for a in found if tool_name(a.name) == name]
    if not matching:
        raise RpcError(INVALID_PARAMS, f"Unknown tool: {name}")
    if len(matching) > 1:
        raise RpcError(INVALID_PARAMS, "Multiple tools found with the same name.")
    try:
        body = RunCreate.model_validate(
            {
                "assistant_id": matching[0].assistant_id,
                "input": params.get("arguments", {}),
                "context": params.get("context"),
                "on_completion": "keep",  # (LangGraph's deletes the thread: see above)
            }
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error.get("loc", ()))
        raise RpcError(INVALID_PARAMS, f"Invalid params: {where}: {error.get('msg')}") from None
    try:
        service, run = await _create(request, None, body)
    except ApiError as exc:
        raise RpcError(INVALID_PARAMS, exc.detail) from None
    await run.done.wait()
    output = jsonable(await run_output(service, run))  # as a client reads it
    if isinstance(output, dict) and "__error__" in output:
        said = output["__error__"]["error"]
        return {"isError": True, "content": [{"type": "text", "text": said}]}
    return {"content": [{"type": "text", "text": repr(output)}]}


def tool_name(name: str) -> str:
    """An assistant's name as an MCP tool's (``^[a-zA-Z0-9_.-]{1,128}$``): whitespace runs as
    ``_``, other characters MCP does not allow dropped, cut to 128."""
    return _NOT_IN_NAMES.sub("", re.sub(r"\s+", "_", name.strip()))[:128]


def simplify_schema(schema: dict[str, Any]) -> None:
    """An input schema made plainer for a model, in place (LangGraph's): when it defines
    LangChain's message types, their definitions go, and a property that is a list of messages
    becomes a string, the user's message."""
    defs = schema.get("$defs")
    if not isinstance(defs, dict) or not defs.keys() & _MESSAGE_TYPES:
        return
    for type_name in _MESSAGE_TYPES | _SUPPORT_TYPES:
        defs.pop(type_name, None)
    if not defs:
        del schema["$defs"]
    properties = schema.get("properties") or {}
    for key, prop in properties.items():
        if _lists_messages(prop):
            properties[key] = {
                "type": "string",
                "title": prop.get("title", key),
                "description": "The user message to send to the agent.",
            }


def _lists_messages(prop: Any) -> bool:
    if not isinstance(prop, dict) or prop.get("type") != "array":
        return False
    items = prop.get("items") or {}
    for candidate in items.get("oneOf") or items.get("anyOf") or []:
        ref = candidate.get("$ref", "") if isinstance(candidate, dict) else ""
        if ref.startswith("#/$defs/") and ref[len("#/$defs/") :] in _MESSAGE_TYPES:
            return True
    return False
