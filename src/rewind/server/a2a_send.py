"""A2A's ``message/send`` and ``message/stream`` (``SendMessage``, ``SendStreamingMessage``):
a message to an assistant starts a run on the message's context (a thread, made when new),
as LangGraph's server runs it: an ordinary run of the assistant, recorded in the log and shown
by the ``threads`` and ``runs`` routes like any other.

A message with no ``taskId`` starts a task; one naming a task that waits for input answers it:
its text (or a data part's ``resume``) resumes the interrupt, or ``message.command`` (a
LangGraph extension: ``{"resume": ...}``) says so outright. A task that ended takes no more
messages.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from pydantic import ValidationError

from rewind.server.a2a_parts import (
    INVALID_AGENT_RESPONSE,
    TASK_NOT_FOUND,
    TERMINAL_STATES,
    UNSUPPORTED_OPERATION,
    InvalidAgentResponseError,
    Scope,
    agent_message,
    has_message_parts,
    history,
    input_of,
    interrupt_artifact,
    now,
    response_artifact,
    response_parts,
    resume_of,
    streamed_update,
)
from rewind.server.a2a_tasks import (
    context_runs,
    resolve_task,
    run_messages,
    task_ids_by_start,
    thread_json,
)
from rewind.server.assistant_routes import graph_schemas
from rewind.server.assistants import Assistant, assistants_of
from rewind.server.jsonrpc import INTERNAL_ERROR, INVALID_PARAMS, RpcError
from rewind.server.models import RunCreate
from rewind.server.run_routes import _create, _service, run_output, run_parts
from rewind.server.runs import ServerRun
from rewind.server.service import ApiError
from rewind.server.wire import jsonable

__all__ = [
    "HISTORY_MAX",
    "SCOPE_HEADER",
    "find_assistant",
    "history_length",
    "history_scope",
    "input_schema",
    "send",
    "stream",
]

logger = logging.getLogger(__name__)

HISTORY_MAX = 10
"""The most history messages an answer may be asked for (``historyLength``)."""

SCOPE_HEADER = "LangGraph-A2A-History-Scope"
"""The header that chooses a task's history or its context's (LangGraph's extension)."""

_EXTENSION_HEADERS = ("A2A-Extensions", "X-A2A-Extensions")
_INTERRUPTED_TRIES = 3


async def find_assistant(request: Request, assistant_id: str) -> Assistant:
    """The assistant an A2A request names, or the invalid-params error LangGraph answers."""
    try:
        uuid.UUID(assistant_id)
    except ValueError:
        raise RpcError(
            INVALID_PARAMS,
            f"Failed to get assistant '{assistant_id}': Invalid assistant ID: must be a UUID",
        ) from None
    try:
        return await assistants_of(request.app).get(assistant_id)
    except ApiError as exc:
        if exc.status == 404:
            raise RpcError(INVALID_PARAMS, f"Assistant '{assistant_id}' not found") from None
        raise RpcError(
            INVALID_PARAMS, f"Failed to get assistant '{assistant_id}': {exc.detail}"
        ) from None


def input_schema(request: Request, assistant: Assistant) -> dict[str, Any]:
    """The assistant's graph's input schema (its state's, if it has none)."""
    schemas = graph_schemas(_service(request).graphs[assistant.graph_id])
    return schemas.get("input_schema") or schemas.get("state_schema") or {}


def history_length(value: Any) -> int | None:
    """A valid ``historyLength`` (``None``: all), or the invalid-params error."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RpcError(INVALID_PARAMS, "historyLength must be a non-negative integer")
    if value > HISTORY_MAX:
        raise RpcError(INVALID_PARAMS, f"historyLength cannot exceed {HISTORY_MAX}")
    return value


def history_scope(options: Mapping[str, Any], request: Request) -> Scope:
    """Whether a history is the task's or its context's (``historyScope``, else the header)."""
    scope = options.get("historyScope")
    if scope is None:
        scope = request.headers.get(SCOPE_HEADER, "context")
    if scope not in ("context", "task"):
        raise RpcError(INVALID_PARAMS, "historyScope must be 'context' or 'task'")
    return "task" if scope == "task" else "context"


@dataclass(kw_only=True)
class _Turn:
    """A message, understood: the run it asks for."""

    message: dict[str, Any]
    assistant: Assistant
    context_id: str
    task_id: str | None
    """The task it continues (``None``: it starts one)."""
    start_id: str | None
    """The id the task it starts is known by until its first run exists."""
    input: dict[str, Any]
    command: dict[str, Any] | None
    task_ids: dict[str, str] = field(default_factory=dict)
    run: ServerRun | None = None


async def _turn(request: Request, params: dict[str, Any], assistant_id: str) -> _Turn:
    """What a message asks, checked as LangGraph's server checks it (:class:`RpcError`)."""
    message = params["message"]
    message_id, role = message.get("messageId"), message.get("role")
    if not message_id:
        raise RpcError(INVALID_PARAMS, "Missing required 'messageId' in message")
    if not role:
        raise RpcError(INVALID_PARAMS, "Missing required 'role' in message")
    parts = message.get("parts", [])
    if not isinstance(parts, list):
        raise RpcError(INVALID_PARAMS, "Invalid params: 'parts' must be an array")
    if not parts:
        raise RpcError(INVALID_PARAMS, "Message must contain at least one part")
    assistant = await find_assistant(request, assistant_id)
    if has_message_parts(parts):
        _takes_messages(request, assistant)
    asked_context, task_id = message.get("contextId"), message.get("taskId")
    if asked_context is not None and not isinstance(asked_context, str):
        raise RpcError(INVALID_PARAMS, "contextId must be a string")
    if task_id is not None and not isinstance(task_id, str):
        raise RpcError(INVALID_PARAMS, "taskId must be a string")
    turn = _Turn(
        message=message,
        assistant=assistant,
        context_id=asked_context or str(uuid.uuid4()),
        task_id=None,
        start_id=str(uuid.uuid4()),
        input={},
        command=None,
    )
    if task_id is not None:
        task = await resolve_task(
            _service(request),
            task_id=task_id,
            context_id=asked_context,
            assistant_id=assistant.assistant_id,
        )
        if task is None:
            raise RpcError(TASK_NOT_FOUND, f"Task not found: {task_id}")
        if task.state in TERMINAL_STATES:
            raise RpcError(UNSUPPORTED_OPERATION, "A terminal task cannot accept another message")
        turn.context_id, turn.task_id, turn.start_id = task.context_id, task.task_id, None
        turn.task_ids = task.task_ids
    turn.input = input_of(parts, role, message_id, a2a=_a2a_kwargs(request, turn))
    command = message.get("command")
    if command is not None and not isinstance(command, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: 'command' must be an object")
    if command is not None and command.get("resume"):
        if not asked_context:
            raise RpcError(
                INVALID_PARAMS, "contextId is required when resuming a task with command.resume"
            )
        if task_id is None:
            raise RpcError(INVALID_PARAMS, "taskId is required when resuming a task")
    turn.command = command if command is not None else await _answer(request, turn, parts)
    return turn


def _takes_messages(request: Request, assistant: Assistant) -> None:
    schema = input_schema(request, assistant)
    if not schema:
        raise RpcError(
            INVALID_PARAMS,
            f"Assistant '{assistant.assistant_id}' has no input schema defined. A2A "
            "conversational agents using text or file parts must have an input schema with a "
            "'messages' field.",
        )
    properties = schema.get("properties", {})
    if "messages" not in properties:
        raise RpcError(
            INVALID_PARAMS,
            f"Assistant '{assistant.assistant_id}' (graph '{assistant.graph_id}') does not "
            "support A2A conversational messages. Graph input schema must include a 'messages' "
            "field to accept text or file parts. Available input fields: "
            f"{list(properties)}",
        )


def _a2a_kwargs(request: Request, turn: _Turn) -> dict[str, Any]:
    """What a message's ``additional_kwargs["a2a"]`` records: its task (or the start id of the
    task it starts), its metadata and the extensions its client asked for."""
    metadata = turn.message.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise RpcError(INVALID_PARAMS, "Invalid A2A message metadata")
    extensions: list[str] = []
    for header in _EXTENSION_HEADERS:
        for value in request.headers.getlist(header):
            for name in (v.strip() for v in value.split(",")):
                if name and name not in extensions:
                    extensions.append(name)
    return {
        **({"task_id": turn.task_id} if turn.task_id else {}),
        **({"task_start_id": turn.start_id} if turn.start_id else {}),
        **({"metadata": metadata} if metadata else {}),
        **({"extensions": extensions} if extensions else {}),
    }


async def _answer(request: Request, turn: _Turn, parts: list[Any]) -> dict[str, Any] | None:
    """The command that resumes the task's interrupt, when the message answers one."""
    value, source = resume_of(parts)
    if source is None:
        return None
    task_id = turn.message.get("taskId")
    context_id = turn.context_id if task_id else turn.message.get("contextId")
    if source == "data":
        if not context_id or not task_id:
            raise RpcError(INVALID_PARAMS, "contextId and taskId are required when resuming a task")
        if not await _waits_for_input(request, context_id):
            raise RpcError(INVALID_PARAMS, "Task is not awaiting input")
        turn.input.pop("resume", None)
        return {"resume": value}
    if not context_id or not task_id or not await _waits_for_input(request, context_id):
        return None
    turn.input.pop("messages", None)
    return {"resume": value}


async def _waits_for_input(request: Request, context_id: str) -> bool:
    for attempt in range(_INTERRUPTED_TRIES):
        thread = await thread_json(_service(request), context_id)
        if thread is None:
            return False
        if thread["status"] == "interrupted":
            return True
        if attempt < _INTERRUPTED_TRIES - 1:
            await asyncio.sleep(0.05)
    return False


async def _start(
    request: Request, turn: _Turn, params: dict[str, Any], **options: Any
) -> tuple[ServerRun, asyncio.Event]:
    """Start the run a message asks for; the run, and the event to set when its answer is
    over."""
    a2a = {
        **({"task_id": turn.task_id} if turn.task_id else {}),
        **({"task_start_id": turn.start_id} if turn.start_id else {}),
    }
    try:
        body = RunCreate.model_validate(
            {
                "assistant_id": turn.assistant.assistant_id,
                "input": turn.input,
                "command": turn.command,
                "context": params.get("context"),
                "metadata": {"a2a": a2a},
                "if_not_exists": "create",
                **options,
            }
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error.get("loc", ()))
        raise RpcError(INVALID_PARAMS, f"Invalid request: {where}: {error.get('msg')}") from None
    followed = asyncio.Event()
    try:
        _, run = await _create(request, turn.context_id, body, followed)
    except ApiError as exc:
        raise RpcError(INVALID_PARAMS, _create_failure(exc, turn)) from None
    turn.run = run
    turn.context_id = run.thread_id
    return run, followed


def _create_failure(exc: ApiError, turn: _Turn) -> str:
    if exc.status == 404:
        return f"Assistant '{turn.assistant.assistant_id}' not found"
    if exc.status == 400:
        return f"Invalid request: {exc.detail}"
    return f"Failed to create run: {exc.detail}"


def _task_id(turn: _Turn) -> str:
    assert turn.run is not None
    return turn.task_id or f"{turn.context_id}:{turn.run.run_id}"


async def _data_only_turn(request: Request, turn: _Turn) -> list[Any] | None:
    """The messages a run that was given no messages added (its reply is among them)."""
    if turn.command is not None or "messages" in turn.input:
        return None
    assert turn.run is not None
    found = await run_messages(_service(request), turn.context_id, turn.run.run_id)
    return found.added


# --- message/send -------------------------------------------------------------------------------


async def send(request: Request, params: dict[str, Any], assistant_id: str) -> dict[str, Any]:
    """``message/send``: start the run, wait for its end; the task (or an error)."""
    try:
        configuration = params.get("configuration")
        configuration = {} if configuration is None else configuration
        if not isinstance(configuration, dict):
            raise RpcError(INVALID_PARAMS, "Invalid params: 'configuration' must be an object")
        length = history_length(configuration.get("historyLength"))
        scope = history_scope(configuration, request)
        turn = await _turn(request, params, assistant_id)
        _, followed = await _start(request, turn, params)
        try:
            return {"result": {"task": await _finished(request, turn, length, scope)}}
        finally:
            followed.set()
    except RpcError as exc:
        return {"error": exc.json()}
    except InvalidAgentResponseError as exc:
        return {"error": {"code": INVALID_AGENT_RESPONSE, "message": str(exc)}}
    except Exception:
        logger.exception("A2A message/send for assistant %s failed", assistant_id)
        return {"error": {"code": INTERNAL_ERROR, "message": "Internal server error"}}


async def _finished(
    request: Request, turn: _Turn, length: int | None, scope: Scope
) -> dict[str, Any]:
    service = _service(request)
    run = turn.run
    assert run is not None
    task_id = _task_id(turn)
    if turn.task_id is None:
        runs = await context_runs(service, turn.context_id)
        turn.task_ids = task_ids_by_start(runs, turn.context_id, turn.assistant.assistant_id)
        assert turn.start_id is not None
        turn.task_ids.setdefault(turn.start_id, task_id)
    await run.done.wait()
    result = jsonable(await run_output(service, run))  # as a client reads it
    data_only = turn.command is None and "messages" not in turn.input
    reply_turn = None
    if data_only or (scope == "task" and length != 0 and "messages" not in turn.input):
        found = await run_messages(service, turn.context_id, run.run_id)
        result = {**result, "messages": found.stamped(task_id)}
        reply_turn = found.added if data_only else None
    task: dict[str, Any] = {"kind": "task", "id": task_id, "contextId": turn.context_id}
    if length != 0:
        task["history"] = history(
            result.get("messages", []) or [],
            task_id,
            turn.context_id,
            length=length,
            scope=scope,
            task_ids=turn.task_ids,
        )
    if "__error__" in result:
        text = f"Error executing assistant: {result['__error__']['error']}"
        task["status"] = {
            "state": "TASK_STATE_FAILED",
            "message": agent_message([{"kind": "text", "text": text}], task_id, turn.context_id),
        }
    elif "__interrupt__" in result:
        task["status"] = {"state": "TASK_STATE_INPUT_REQUIRED", "timestamp": now()}
        task["artifacts"] = [interrupt_artifact(result["__interrupt__"])]
    else:
        task["status"] = {"state": "TASK_STATE_COMPLETED", "timestamp": now()}
        parts = response_parts(result, reply_turn)
        task["artifacts"] = [response_artifact(parts, turn.assistant.assistant_id)]
    return task


# --- message/stream -----------------------------------------------------------------------------


async def stream(
    request: Request, params: dict[str, Any], assistant_id: str, rpc_id: Any
) -> AsyncIterator[dict[str, Any]]:
    """``message/stream``: the JSON-RPC answers streamed as the run goes: the task submitted,
    the agent's words as they come, then its answer (or the interrupt) and the final state."""

    def answer(result: Any) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": rpc_id, "result": result}

    def error(code: int, message: str) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": rpc_id, "error": {"code": code, "message": message}}

    followed: asyncio.Event | None = None
    try:
        turn = await _turn(request, params, assistant_id)
        _, followed = await _start(request, turn, params, stream_mode=["messages", "values"])
        task_id, context_id = _task_id(turn), turn.context_id
        submitted = {
            "kind": "task",
            "id": task_id,
            "contextId": context_id,
            "history": [
                {"kind": "message", **turn.message, "taskId": task_id, "contextId": context_id}
            ],
            "status": {"state": "TASK_STATE_SUBMITTED", "timestamp": now()},
        }
        yield answer({"task": submitted})
        async for update in _updates(request, turn, task_id):
            yield answer(update)
    except RpcError as exc:
        yield error(exc.code, exc.message)
    except InvalidAgentResponseError as exc:
        yield error(INVALID_AGENT_RESPONSE, str(exc))
    except Exception:
        logger.exception("A2A message/stream for assistant %s failed", assistant_id)
        yield error(INTERNAL_ERROR, "Internal server error")
    finally:
        if followed is not None:
            followed.set()


async def _updates(request: Request, turn: _Turn, task_id: str) -> AsyncIterator[dict[str, Any]]:
    """The run's stream as A2A's task updates."""
    service = _service(request)
    context_id = turn.context_id
    result: Any = None
    failure: Any = None
    working = False
    parts = run_parts(service, turn.run, ["messages", "values"])
    await anext(parts, None)  # the run's metadata: its id, known already
    async for _, name, shown in parts:
        data = jsonable(shown)  # as a client reads it
        if name == "metadata":
            if isinstance(data, dict) and data.get("run_id") and not working:
                working = True
                yield {
                    "taskId": task_id,
                    "contextId": context_id,
                    "kind": "status-update",
                    "status": {"state": "TASK_STATE_WORKING"},
                    "final": False,
                }
        elif name == "error":
            failure = data
        elif name == "values":
            failure, result = None, data
        elif name.startswith("messages"):
            failure = None
            if isinstance(data, list) and data:
                update = streamed_update(data, task_id, context_id)
                if update is not None:
                    yield update
    interrupted = isinstance(result, dict) and "__interrupt__" in result
    state = (
        "TASK_STATE_FAILED"
        if failure
        else "TASK_STATE_INPUT_REQUIRED"
        if interrupted
        else "TASK_STATE_COMPLETED"
    )
    status: dict[str, Any] = {"state": state}
    if isinstance(failure, dict) and ("__error__" in failure or "error" in failure):
        inner = failure.get("__error__")
        said = inner.get("error") if isinstance(inner, dict) else failure.get("message")
        text = [{"kind": "text", "text": str(said or "")}]
        status["message"] = agent_message(text, task_id, context_id)
    status["timestamp"] = now()
    if state == "TASK_STATE_COMPLETED" and isinstance(result, dict):
        try:
            reply = response_parts(result, await _data_only_turn(request, turn))
        except InvalidAgentResponseError:
            raise
        except Exception:
            logger.exception("A2A: the answer of run %s could not be read", turn.run)
            reply = [{"kind": "text", "text": str(result)}]
        yield {
            "taskId": task_id,
            "contextId": context_id,
            "kind": "artifact-update",
            "artifact": response_artifact(reply, turn.assistant.assistant_id),
            "append": False,
            "lastChunk": True,
        }
    if interrupted:
        yield {
            "taskId": task_id,
            "contextId": context_id,
            "kind": "artifact-update",
            "artifact": interrupt_artifact(result["__interrupt__"]),
        }
    yield {
        "taskId": task_id,
        "contextId": context_id,
        "kind": "status-update",
        "status": status,
        "final": True,
    }
