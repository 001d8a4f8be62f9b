"""A2A (the Agent2Agent protocol) at ``/a2a/{assistant_id}``, as LangGraph's server serves it
(``langgraph_api.api.a2a``): every assistant is an agent, JSON-RPC 2.0 its transport.

``GET /a2a/{assistant_id}`` (and its ``/.well-known/agent-card.json``, ``agent.json``) answers
the agent's card; ``GET /.well-known/agent-card.json?assistant_id=...`` too. ``POST`` takes
one JSON-RPC message: ``message/send`` and ``message/stream`` (:mod:`.a2a_send`),
``tasks/get``, ``tasks/cancel``, and A2A 1.0's names for them (``SendMessage``,
``SendStreamingMessage``, ``GetTask``, ``CancelTask``) with ``ListTasks`` and
``GetExtendedAgentCard``. A call by a 0.x name is answered in 0.x's words (``completed``,
``agent``), one by a 1.0 name in 1.0's (``TASK_STATE_COMPLETED``, ``ROLE_AGENT``, a task
result wrapped as ``{"task": ...}``). A JSON-RPC response sent here gets a bodiless 202;
``DELETE`` a 405.

A context is a thread, a task a run of the assistant on it (:mod:`.a2a_tasks`). Not offered,
as on LangGraph's server: push notifications, task resubscription. Not offered here: the
A2UI extension (LangGraph's is off unless enabled), so an A2UI data part is refused as
LangGraph refuses it when off. Where LangGraph's server fails with a 500 (``params`` that are
no object, a ``command`` that is none), this answers a JSON-RPC error.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from rewind import __version__
from rewind.server.a2a_parts import (
    INVALID_AGENT_RESPONSE,
    STATES_OF_NAMES,
    TASK_NOT_CANCELABLE,
    TASK_NOT_FOUND,
    TERMINAL_STATES,
    InvalidAgentResponseError,
    agent_message,
    now,
    spec_format,
    state_of,
)
from rewind.server.a2a_send import (
    SCOPE_HEADER,
    find_assistant,
    history_length,
    history_scope,
    input_schema,
    send,
    stream,
)
from rewind.server.a2a_tasks import (
    a2a_metadata,
    context_runs,
    contexts,
    newest_first,
    resolve_task,
    task_history,
    task_id_of,
    task_ids_by_start,
    timestamp_of,
)
from rewind.server.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RpcError,
    accepts,
    openapi_request,
    params_of,
    transport_error,
)
from rewind.server.models import RunCreate, StateUpdate
from rewind.server.run_routes import _create, _service, _sse, stop_run
from rewind.server.stream import format_event
from rewind.server.wire import dumps, public_url

__all__ = ["agent_card", "router"]

router = APIRouter()

logger = logging.getLogger(__name__)

_ALIASES = {
    "message/send": "SendMessage",
    "message/stream": "SendStreamingMessage",
    "tasks/get": "GetTask",
    "tasks/cancel": "CancelTask",
}
_METHODS = (
    "SendMessage",
    "SendStreamingMessage",
    "GetTask",
    "CancelTask",
    "ListTasks",
    "GetExtendedAgentCard",
)
_MODES = ("application/json", "text/plain")
_PART = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["text", "data", "file"]},
        "text": {"type": "string"},
        "data": {"type": "object"},
        "file": {"type": "object", "properties": {"uri": {"type": "string"}}},
    },
}
_PARAMS = {
    "type": "object",
    "properties": {
        "message": {
            "type": "object",
            "properties": {
                "role": {"type": "string", "enum": ["user", "agent", "ROLE_USER"]},
                "messageId": {"type": "string"},
                "contextId": {"type": "string"},
                "taskId": {"type": "string"},
                "parts": {"type": "array", "items": _PART},
                "metadata": {"type": "object"},
            },
        },
        "configuration": {
            "type": "object",
            "properties": {
                "historyLength": {"type": "integer"},
                "historyScope": {"type": "string"},
            },
        },
        "id": {"type": "string"},
        "contextId": {"type": "string"},
        "historyLength": {"type": "integer"},
        "pageSize": {"type": "integer"},
        "pageToken": {"type": "string"},
        "status": {"type": "string"},
    },
}
_SCOPE_EXTENSION = "https://langchain.com/a2a/extensions/history-scope/v1"
_PAGE_MAX = 100


# --- agent cards -------------------------------------------------------------------------------


@router.get("/a2a/{assistant_id}")
@router.get("/a2a/{assistant_id}/", include_in_schema=False)
@router.get("/a2a/{assistant_id}/.well-known/agent-card.json")
@router.get("/a2a/{assistant_id}/.well-known/agent.json")
async def assistant_card(request: Request, assistant_id: str) -> Response:
    """The agent card of an assistant."""
    return await _card_response(request, assistant_id)


@router.get("/.well-known/agent-card.json")
async def named_card(request: Request, assistant_id: str | None = None) -> Response:
    """The agent card of the assistant the ``assistant_id`` query parameter names."""
    if not assistant_id:
        error = RpcError(INVALID_PARAMS, "Missing required query parameter: assistant_id")
        return JSONResponse({"error": error.json()}, status_code=400)
    return await _card_response(request, assistant_id)


async def _card_response(request: Request, assistant_id: str) -> Response:
    try:
        return JSONResponse(await agent_card(request, assistant_id))
    except RpcError as exc:
        return JSONResponse({"error": exc.json()}, status_code=400)
    except Exception:
        logger.exception("A2A: the agent card of %s could not be made", assistant_id)
        error = RpcError(INTERNAL_ERROR, "Internal server error")
        return JSONResponse({"error": error.json()}, status_code=500)


async def agent_card(request: Request, assistant_id: str) -> dict[str, Any]:
    """An assistant's A2A agent card: one skill (the assistant), its input's fields, where to
    call it (this server, as the request reached it)."""
    assistant = await find_assistant(request, assistant_id)
    schema = input_schema(request, assistant)
    properties = schema.get("properties", {})
    description = assistant.description or f"{assistant.name} assistant"
    input_modes, output_modes = _modes(assistant.metadata)
    url = f"{public_url(request)}/a2a/{assistant_id}"
    return {
        "name": assistant.name,
        "description": description,
        "url": url,
        "supportedInterfaces": [
            {"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}
        ],
        "capabilities": {
            "streaming": True,
            "pushNotifications": False,
            "stateTransitionHistory": False,
            "extensions": [
                {
                    "uri": _SCOPE_EXTENSION,
                    "description": "Choose task-only or full-context response history",
                    "required": False,
                    "params": {
                        "header": SCOPE_HEADER,
                        "values": ["context", "task"],
                        "default": "context",
                        "methods": ["SendMessage", "GetTask", "ListTasks"],
                    },
                }
            ],
        },
        "defaultInputModes": input_modes,
        "defaultOutputModes": output_modes,
        "skills": [
            {
                "id": f"{assistant_id}-main",
                "name": f"{assistant.name} Capabilities",
                "description": description,
                "tags": ["assistant", "langgraph"],
                "examples": [],
                "inputModes": input_modes,
                "outputModes": output_modes,
                "metadata": {
                    "inputSchema": {
                        "required": schema.get("required", []),
                        "properties": sorted(properties),
                        "supportsA2A": "messages" in properties,
                    }
                },
            }
        ],
        "version": __version__,
    }


def _modes(metadata: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The media types an assistant takes and gives (its ``metadata.a2a.input_modes`` and
    ``output_modes``, else JSON and text)."""
    a2a = metadata.get("a2a")
    if a2a is None:
        return list(_MODES), list(_MODES)
    if not isinstance(a2a, dict):
        raise RpcError(INVALID_PARAMS, "Assistant metadata.a2a must be an object.")
    return _modes_of(a2a, "input_modes"), _modes_of(a2a, "output_modes")


def _modes_of(a2a: dict[str, Any], key: str) -> list[str]:
    value = a2a.get(key)
    if value is None:
        return list(_MODES)
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(m, str) and m.strip() for m in value)
    ):
        raise RpcError(
            INVALID_PARAMS, f"Assistant metadata.a2a.{key} must be a non-empty array of strings."
        )
    return [m.strip() for m in value]


# --- JSON-RPC ----------------------------------------------------------------------------------


@router.delete("/a2a/{assistant_id}")
@router.delete("/a2a/{assistant_id}/", include_in_schema=False)
async def end_session(assistant_id: str) -> Response:
    """Ending a session: none to end (405)."""
    return Response(status_code=405)


@router.post(
    "/a2a/{assistant_id}",
    openapi_extra=openapi_request(
        (*_METHODS, *_ALIASES), ("application/json", "text/event-stream"), _PARAMS
    ),
    response_model=None,
)
@router.post("/a2a/{assistant_id}/", include_in_schema=False, response_model=None)
async def a2a(request: Request, assistant_id: str) -> Response:
    """One JSON-RPC message of A2A."""
    try:
        message = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return _error(None, RpcError(PARSE_ERROR, "Invalid JSON payload"))
    wrong = _malformed(message)
    if wrong is not None:
        return _error(*wrong)
    id_, named = message.get("id"), message.get("method")
    method = _ALIASES.get(named, named)
    accept = request.headers.get("accept") or ""
    if method == "SendStreamingMessage":
        if not accepts(accept, "text/event-stream"):
            return transport_error("Accept header must include text/event-stream for streaming")
    elif not accepts(accept, "application/json"):
        return transport_error("Accept header must include application/json")
    if id_ is not None and method:
        return await _call(request, method, message, assistant_id, spec=named in _ALIASES)
    if id_ is not None and ("result" in message or "error" in message):
        return Response(status_code=202)  # a response: taken, nothing to answer
    if id_ is not None:
        error = "Invalid JSON-RPC request: missing 'method' field"
        return _error(id_, RpcError(INVALID_REQUEST, error))
    error = "Invalid message format: must be a JSON-RPC request or notification"
    return _error(None, RpcError(INVALID_REQUEST, error))


def _malformed(message: Any) -> tuple[Any, RpcError] | None:
    """What is wrong with a JSON-RPC message, as LangGraph's server tells it: the id to answer
    with and the error (``None``: nothing)."""
    if not isinstance(message, dict):
        return None, RpcError(INVALID_REQUEST, "Invalid message format: expected object")
    id_, method = message.get("id"), message.get("method")
    if message.get("jsonrpc") != "2.0":
        error = "Invalid JSON-RPC message: missing or invalid jsonrpc version"
        return id_, RpcError(INVALID_REQUEST, error)
    if id_ is not None and not isinstance(id_, str | int | float):
        error = "Invalid JSON-RPC request: 'id' must be a string, number, or null"
        return None, RpcError(INVALID_REQUEST, error)
    if method is None:
        return None
    if not isinstance(method, str):
        return id_, RpcError(METHOD_NOT_FOUND, "Method not found: method must be a string")
    method = _ALIASES.get(method, method)
    if method not in _METHODS:
        return id_, RpcError(METHOD_NOT_FOUND, f"Method not found: {method}")
    params = message.get("params", {})
    if method in ("SendMessage", "SendStreamingMessage"):
        if not isinstance(params, dict):
            return id_, RpcError(INVALID_PARAMS, "Invalid params: must be an object")
        if not params.get("message") or not isinstance(params["message"], dict):
            return id_, RpcError(INVALID_PARAMS, "Missing or invalid 'message' in params")
    return None


def _error(id_: Any, error: RpcError) -> JSONResponse:
    return JSONResponse({"jsonrpc": "2.0", "id": id_, "error": error.json()})


async def _call(
    request: Request, method: str, message: dict[str, Any], assistant_id: str, *, spec: bool
) -> Response:
    id_ = message["id"]
    try:
        assistant_id = str(uuid.UUID(assistant_id))
    except ValueError:
        return _error(id_, RpcError(INVALID_PARAMS, "Invalid assistant ID: must be a UUID"))
    if method == "SendStreamingMessage":
        answers = stream(request, message["params"], assistant_id, id_)
        return _sse(request, _events(answers, spec=spec), headers={})
    try:
        params = params_of(message)
        if method == "SendMessage":
            outcome = await send(request, params, assistant_id)
        elif method == "GetTask":
            outcome = {"result": await _get_task(request, params, assistant_id)}
        elif method == "CancelTask":
            outcome = {"result": await _cancel_task(request, params, assistant_id)}
        elif method == "ListTasks":
            outcome = {"result": await _list_tasks(request, params, assistant_id)}
        else:
            outcome = {"result": await agent_card(request, assistant_id)}
    except RpcError as exc:
        outcome = {"error": exc.json()}
    except InvalidAgentResponseError as exc:
        outcome = {"error": {"code": INVALID_AGENT_RESPONSE, "message": str(exc)}}
    except Exception:
        logger.exception("A2A %s for assistant %s failed", method, assistant_id)
        outcome = {"error": {"code": INTERNAL_ERROR, "message": "Internal server error"}}
    body = {"jsonrpc": "2.0", "id": id_, **outcome}
    return JSONResponse(spec_format(body) if spec else body)


async def _events(answers: AsyncIterator[dict[str, Any]], *, spec: bool) -> AsyncIterator[bytes]:
    async for answer in answers:
        data = dumps(spec_format(answer) if spec else answer)
        # (U+0085, U+2028 and U+2029 are line ends to some readers of a stream)
        data = data.replace("\x85", "\\u0085").replace("\u2028", "\\u2028")
        yield format_event("message", data.replace("\u2029", "\\u2029"), None)


# --- tasks -------------------------------------------------------------------------------------


def _task_named(params: dict[str, Any]) -> tuple[str, str | None]:
    task_id, context_id = params.get("id"), params.get("contextId")
    if not task_id:
        raise RpcError(INVALID_PARAMS, "Missing required parameter: id (task_id)")
    if not isinstance(task_id, str) or (context_id is not None and not isinstance(context_id, str)):
        raise RpcError(INVALID_PARAMS, "Task id and contextId must be strings")
    return task_id, context_id


async def _get_task(request: Request, params: dict[str, Any], assistant_id: str) -> dict[str, Any]:
    """``tasks/get``: a task's state (and its history)."""
    task_id, context_id = _task_named(params)
    task = await resolve_task(
        _service(request), task_id=task_id, context_id=context_id, assistant_id=assistant_id
    )
    if task is None:
        where = f" in context '{context_id}'" if context_id else ""
        raise RpcError(TASK_NOT_FOUND, f"Task not found: {task_id}{where}")
    length = history_length(params.get("historyLength"))
    scope = history_scope(params, request)
    found: dict[str, Any] = {
        "kind": "task",
        "id": task.task_id,
        "contextId": task.context_id,
        "status": {"state": task.state, "timestamp": task.timestamp},
    }
    if length != 0:
        try:
            found["history"] = await task_history(
                _service(request),
                task.task_id,
                task.context_id,
                str(task.run["run_id"]),
                length=length,
                scope=scope,
                task_ids=task.task_ids,
            )
        except InvalidAgentResponseError:
            raise
        except Exception:
            logger.exception("A2A: the history of task %s could not be read", task.task_id)
            found["history"] = []
    if task.state == "TASK_STATE_COMPLETED":
        said = "Task completed successfully"
    elif task.state == "TASK_STATE_FAILED":
        said = f"Task failed with status: {task.run.get('status', 'unknown')}"
    else:
        return found
    message = agent_message([{"kind": "text", "text": said}], task.task_id)
    found["status"]["message"] = message
    return found


async def _cancel_task(
    request: Request, params: dict[str, Any], assistant_id: str
) -> dict[str, Any]:
    """``tasks/cancel``: stop a task's run; a task waiting for input is closed instead (a run
    of it is recorded cancelled and the thread's interrupt dismissed)."""
    task_id, context_id = _task_named(params)
    service = _service(request)
    try:
        task = await resolve_task(
            service, task_id=task_id, context_id=context_id, assistant_id=assistant_id
        )
    except Exception:
        logger.exception("A2A: task %s could not be read to cancel it", task_id)
        raise RpcError(INTERNAL_ERROR, "Failed to check task status") from None
    if task is None:
        raise RpcError(TASK_NOT_FOUND, f"Task not found: {task_id}")
    if task.state in TERMINAL_STATES:
        raise RpcError(TASK_NOT_CANCELABLE, "Task is not cancelable in its current state")
    try:
        if task.state == "TASK_STATE_INPUT_REQUIRED":
            await _close(request, task.context_id, task.run, assistant_id)
        elif task.run.get("status") not in ("pending", "running"):
            raise RpcError(TASK_NOT_CANCELABLE, "Task has no active run to cancel")
        else:
            await stop_run(service, str(task.run["run_id"]), rollback=False, wait=True)
    except RpcError:
        raise
    except Exception as exc:
        logger.exception("A2A: task %s could not be cancelled", task_id)
        raise RpcError(INTERNAL_ERROR, f"Failed to cancel task: {exc!s}") from exc
    said = [{"kind": "text", "text": "Task was canceled"}]
    return {
        "kind": "task",
        "id": task_id,
        "contextId": task.context_id,
        "status": {
            "state": "TASK_STATE_CANCELED",
            "timestamp": now(),
            "message": agent_message(said, task_id),
        },
    }


async def _close(request: Request, context_id: str, run: dict[str, Any], assistant_id: str) -> None:
    """Close a task that waits for input: a run of it, cancelled before it starts, marks it
    cancelled; its thread's interrupt is dismissed (its state updated as the graph's end)."""
    service = _service(request)
    marker = {**a2a_metadata(run), "task_id": task_id_of(context_id, run)}
    body = RunCreate(assistant_id=assistant_id, metadata={"a2a": marker}, after_seconds=3600)
    _, created = await _create(request, context_id, body)
    try:
        await stop_run(service, created.run_id, rollback=False, wait=True)
        await service.update_state(context_id, StateUpdate(values=None, as_node="__end__"))
    except Exception:
        service.hidden_runs.add(created.run_id)  # the marker goes: the task still waits
        await service.runs.forget(created.run_id)
        raise


async def _list_tasks(
    request: Request, params: dict[str, Any], assistant_id: str
) -> dict[str, Any]:
    """``ListTasks``: the assistant's tasks (in a context), newest first, a page of them."""
    size = params.get("pageSize")
    if size is not None and (not isinstance(size, int) or not 1 <= size <= _PAGE_MAX):
        raise RpcError(INVALID_PARAMS, "pageSize must be an integer between 1 and 100.")
    length = history_length(params.get("historyLength"))
    scope = history_scope(params, request)
    wanted = params.get("status")
    if isinstance(wanted, str) and wanted in STATES_OF_NAMES:
        wanted = STATES_OF_NAMES[wanted]
    if wanted is not None and wanted not in STATES_OF_NAMES.values():
        raise RpcError(INVALID_PARAMS, f"Invalid status value: '{wanted}'.")
    after = params.get("statusTimestampAfter")
    if after is not None and not _is_timestamp(after):
        raise RpcError(INVALID_PARAMS, "statusTimestampAfter must be a valid ISO 8601 timestamp.")
    token = params.get("pageToken")
    if token is not None and not isinstance(token, str):
        raise RpcError(INVALID_PARAMS, "pageToken must be a string.")
    try:
        offset = max(0, int(token)) if token else 0  # (the tokens given are offsets)
    except ValueError:
        raise RpcError(INVALID_PARAMS, "Invalid pageToken.") from None
    context_id = params.get("contextId")
    if context_id is not None and not isinstance(context_id, str):
        raise RpcError(INVALID_PARAMS, "contextId must be a string.")
    service = _service(request)
    tasks: dict[str, dict[str, Any]] = {}
    found: list[tuple[dict[str, Any], str, dict[str, str]]] = []  # (task, run id, task ids)
    for thread in await contexts(service, context_id):
        thread_id = str(thread["thread_id"])
        runs = newest_first(await context_runs(service, thread_id))
        task_ids = task_ids_by_start(runs, thread_id, assistant_id)
        for run in runs:
            task_id = task_id_of(thread_id, run)
            if str(run.get("assistant_id")) != assistant_id or task_id in tasks:
                continue
            state = state_of(run, thread if run["run_id"] == runs[0]["run_id"] else None)
            stamp = timestamp_of(run)
            tasks[task_id] = {}
            if (wanted and state != wanted) or (after and stamp < after):
                continue
            task: dict[str, Any] = {
                "kind": "task",
                "id": task_id,
                "contextId": thread_id,
                "status": {"state": state, "timestamp": stamp},
            }
            if not params.get("includeArtifacts", False):
                task["artifacts"] = []
            found.append((task, str(run["run_id"]), task_ids))
    found.sort(key=lambda item: item[0]["status"]["timestamp"], reverse=True)
    page = found[offset : offset + (size or 50)]
    if length != 0:
        for task, run_id, task_ids in page:
            task["history"] = await task_history(
                service,
                task["id"],
                task["contextId"],
                run_id,
                length=length,
                scope=scope,
                task_ids=task_ids,
            )
    end = offset + len(page)
    return {
        "tasks": [task for task, _, _ in page],
        "totalSize": len(found),
        "pageSize": len(page),
        "nextPageToken": str(end) if end < len(found) else "",
    }


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
