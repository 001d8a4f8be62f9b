"""What the JSON-RPC routes share (MCP's ``/mcp``, A2A's ``/a2a/{assistant_id}``): the error
codes, an error as an exception, the answers, the Accept header, and the request body as the
OpenAPI schema publishes it (so the fuzzer sends JSON-RPC)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.responses import JSONResponse, Response

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "RpcError",
    "accepts",
    "openapi_request",
    "params_of",
    "transport_error",
]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603


class RpcError(Exception):
    """A JSON-RPC error answer: ``code`` and ``message``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def json(self) -> dict[str, Any]:
        """As a response's ``error`` member."""
        return {"code": self.code, "message": self.message}


def params_of(message: dict[str, Any]) -> dict[str, Any]:
    """A request's ``params`` (``{}`` when absent), or an invalid-params error when they are
    not an object (LangGraph's server fails with a 500 there)."""
    params = message.get("params", {})
    if not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: must be an object")
    return params


def transport_error(message: str, status: int = 400) -> Response:
    """An error of the HTTP exchange rather than of a JSON-RPC call (``{"error": message}``, as
    LangGraph's server answers it)."""
    return JSONResponse({"error": message}, status_code=status)


def accepts(header: str, media_type: str) -> bool:
    """Whether an ``Accept`` header takes ``media_type`` (wildcards included)."""
    target = media_type.lower()
    for media_range in header.split(","):
        candidate = media_range.split(";", 1)[0].strip().lower()
        if candidate in ("*/*", target):
            return True
        if candidate.endswith("/*") and target.startswith(candidate[:-1]):
            return True
    return False


def openapi_request(
    methods: Iterable[str], accept: Iterable[str], params: dict[str, Any]
) -> dict[str, Any]:
    """The request a JSON-RPC route takes, for its OpenAPI operation (``openapi_extra``): a
    JSON-RPC message calling one of ``methods`` with ``params`` (their JSON schema), with an
    ``Accept`` header among ``accept``. Published only: the route reads the raw body itself,
    to answer malformed ones as the protocol says."""
    return {
        "parameters": [
            {
                "name": "accept",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "enum": list(accept)},
            }
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["jsonrpc", "id", "method"],
                        "properties": {
                            "jsonrpc": {"type": "string", "enum": ["2.0"]},
                            "id": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                            "method": {"type": "string", "enum": list(methods)},
                            "params": params,
                        },
                    }
                }
            },
        },
    }
