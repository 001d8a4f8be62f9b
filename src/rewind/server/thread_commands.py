"""The thread protocol (the SDK's ``client.threads.stream``), as LangGraph's server serves it:

- ``POST /threads/{thread_id}/commands``: one command in, its answer out. ``run.start`` starts a
  run on the thread (made if it is not there), ``input.respond`` resumes the thread's pending
  interrupts; ``subscription.subscribe`` / ``unsubscribe`` are checked and answered as a
  connection of their own (nothing outlives the request), and ``agent.getTree`` and
  ``subscription.reconnect`` find no run bound to it (``no_such_run``), as on LangGraph's
  server over HTTP. A command's errors are answers (200, ``{"type": "error", "error", ...}``);
  a body that is no command is a 400.
- ``POST /threads/{thread_id}/stream/events``: the thread's events (:mod:`.protocol_events`),
  every run from the first, kept to the body's ``channels``, ``namespaces`` and ``depth`` and
  after its ``since``; the stream stays open for the thread's next runs.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.requests import HTTPConnection

from rewind.server.models import RunCreate
from rewind.server.protocol_events import EventFilter, ThreadEvents, supported_channel
from rewind.server.run_routes import _create, _service, _sse
from rewind.server.service import ApiError, Service
from rewind.server.wire import dumps

__all__ = [
    "BAD_COMMAND",
    "answer",
    "error",
    "event_filter",
    "router",
    "subscription_refused",
    "success",
    "thread_events_of",
]

router = APIRouter()

RUN_STREAM_MODES = ["values", "updates", "messages", "custom", "tasks", "checkpoints"]
"""The stream modes a protocol run is created with (LangGraph's server's, but ``tools`` and
``lifecycle``, which rewind's runs do not have)."""

STRATEGIES = ("reject", "interrupt", "rollback", "enqueue")

SETTLE_SECONDS = 5.0
"""Seconds a command waits, at most, for a busy thread to show the interrupts it will stop at."""

_SETTLE_POLL = 0.05

_KNOWN = frozenset(
    {
        "run.start",
        "input.respond",
        "agent.getTree",
        "subscription.subscribe",
        "subscription.unsubscribe",
        "subscription.reconnect",
    }
)

BAD_COMMAND = "Protocol commands must include an integer id and string method."
_ALLOWED = (
    "Allowed: values, updates, messages, tools, custom, lifecycle, input, tasks, or any "
    "`custom:<name>`."
)


def error(command_id: Any, code: str, message: str) -> dict[str, Any]:
    """A command's error answer."""
    return {"type": "error", "id": command_id, "error": code, "message": message}


def success(command_id: Any, result: dict[str, Any]) -> dict[str, Any]:
    """A command's success answer."""
    # Over HTTP a command's connection has made no event: it has applied none.
    return {"type": "success", "id": command_id, "result": result, "meta": _META}


_META = {"applied_through_seq": 0}


def _json(content: Any, status: int = 200) -> Response:
    return Response(dumps(content), status_code=status, media_type="application/json")


# --- POST /threads/{thread_id}/commands ---------------------------------------------------


@router.post("/threads/{thread_id}/commands")
async def thread_command(request: Request, thread_id: str) -> Response:
    """Answer one protocol command."""
    try:
        command = json.loads(await request.body())
    except ValueError:
        return _json({"detail": "Invalid JSON body"}, 400)
    if (
        not isinstance(command, dict)
        or not isinstance(command.get("id"), int)
        or not isinstance(command.get("method"), str)
    ):
        shown = command.get("id") if isinstance(command, dict) else None
        return _json(error(shown, "invalid_argument", BAD_COMMAND), 400)
    return _json(await answer(request, thread_id, command))


async def answer(
    request: HTTPConnection, thread_id: str, command: dict[str, Any]
) -> dict[str, Any]:
    """The answer to one well-formed command (``id`` and ``method`` checked)."""
    method, command_id = command["method"], command["id"]
    params = command.get("params")
    params = params if isinstance(params, dict) else {}
    if method not in _KNOWN:
        return error(command_id, "unknown_command", f"Unknown protocol command: {method}")
    if method == "run.start":
        return await _run_start(request, thread_id, command_id, params)
    if method == "input.respond":
        return await _input_respond(request, thread_id, command_id, params)
    if method == "subscription.subscribe":
        return _subscribe(command_id, params)
    if method == "subscription.unsubscribe":
        subscription_id = params.get("subscription_id")
        if not isinstance(subscription_id, str):
            message = "subscription.unsubscribe requires a subscription_id."
            return error(command_id, "invalid_argument", message)
        message = f"Unknown subscription: {subscription_id}"
        return error(command_id, "no_such_subscription", message)
    return error(command_id, "no_such_run", "No active run is bound to this thread.")


def _subscribe(command_id: Any, params: dict[str, Any]) -> dict[str, Any]:
    refused = subscription_refused(command_id, params)
    if refused is not None:
        return refused
    return success(command_id, {"subscription_id": str(uuid.uuid4()), "replayed_events": 0})


def subscription_refused(command_id: Any, params: dict[str, Any]) -> dict[str, Any] | None:
    """The error answer to a ``subscription.subscribe`` whose channels are missing or
    unsupported; ``None`` when they are fine."""
    channels = params.get("channels")
    if not isinstance(channels, list) or not channels:
        message = "subscription.subscribe requires a non-empty channels array."
        return error(command_id, "invalid_argument", message)
    if not all(isinstance(c, str) and supported_channel(c) for c in channels):
        message = "subscription.subscribe received an unsupported channel."
        return error(command_id, "invalid_argument", message)
    return None


def event_filter(params: Mapping[str, Any]) -> tuple[EventFilter, int | None]:
    """What a subscription (its ``channels`` checked) keeps, and its ``since``."""
    wanted = EventFilter(
        set(params["channels"]), _namespaces(params.get("namespaces")), _count(params, "depth")
    )
    return wanted, _count(params, "since")


# --- run.start and input.respond ----------------------------------------------------------


async def _run_start(
    request: HTTPConnection, thread_id: str, command_id: Any, params: dict[str, Any]
) -> dict[str, Any]:
    assistant_id = params.get("assistant_id")
    if not isinstance(assistant_id, str) or not assistant_id:
        return error(command_id, "invalid_argument", "run.start requires an assistant_id.")
    try:
        checkpoint_id = _checkpoint_id(params)
        _tracer(params)
    except ValueError as exc:
        return error(command_id, "invalid_argument", str(exc))
    try:
        run_id = await _start(request, thread_id, assistant_id, params, checkpoint_id)
    except ApiError as exc:
        return error(command_id, "unknown_error", _failed(exc))
    except Exception as exc:
        return error(command_id, "unknown_error", str(exc))
    return success(command_id, {"run_id": run_id})


def _failed(exc: ApiError) -> str:
    """A run's creation's error as LangGraph's server words it here (its run creation says
    a missing assistant's and a missing thread's 404 in the same words)."""
    detail = "Thread or assistant not found." if exc.status == 404 else exc.detail
    return f"{exc.status}: {detail}"


def _checkpoint_id(params: dict[str, Any]) -> str | None:
    """The checkpoint a run starts from (``config.configurable.checkpoint_id``)."""
    config = params.get("config")
    configurable = config.get("configurable") if isinstance(config, dict) else None
    if not isinstance(configurable, dict) or configurable.get("checkpoint_id") is None:
        return None
    checkpoint_id = configurable["checkpoint_id"]
    if not isinstance(checkpoint_id, str) or not checkpoint_id.strip():
        raise ValueError("config.configurable.checkpoint_id must be a non-empty string.")
    try:
        uuid.UUID(checkpoint_id)
    except ValueError:
        raise ValueError(f"Invalid config.configurable.checkpoint_id: {checkpoint_id!r}.") from None
    return checkpoint_id


def _tracer(params: dict[str, Any]) -> None:
    tracer = params.get("langsmith_tracer")
    if tracer is None:
        return
    if not isinstance(tracer, dict):
        raise ValueError("langsmith_tracer must be an object.")
    unknown = tracer.keys() - {"project_name", "example_id"}
    if unknown:
        raise ValueError(f"langsmith_tracer has unsupported fields: {sorted(unknown)!r}.")
    for key, value in tracer.items():
        if not isinstance(value, str):
            raise ValueError(f"langsmith_tracer.{key} must be a string.")


async def _start(
    request: HTTPConnection,
    thread_id: str,
    assistant_id: str,
    params: dict[str, Any],
    checkpoint_id: str | None,
    *,
    force_resume: bool = False,
) -> str:
    """Start a run on the thread; its id. Input on a thread stopped at interrupts (or with
    ``force_resume``) resumes them instead."""
    service = _service(request)
    given = params.get("input")
    resume = given is not None and (
        force_resume or bool(await _settled_interrupts(service, thread_id))
    )
    config = params.get("config")
    config = config if isinstance(config, dict) else {}
    configurable = config.get("configurable")
    configurable = configurable if isinstance(configurable, dict) else {}
    command: dict[str, Any] | None = None
    if resume:
        command = {"resume": given}
        for key in ("update", "goto"):
            if params.get(key) is not None:
                command[key] = params[key]
    strategy = params.get("multitaskStrategy")
    body: dict[str, Any] = {
        "assistant_id": assistant_id,
        "input": None if resume else given,
        "command": command,
        "config": {
            **config,
            "configurable": {
                **configurable,
                "__event_streaming_v2": True,
                "thread_id": thread_id,
            },
        },
        "metadata": params.get("metadata"),
        "checkpoint_id": checkpoint_id,
        "checkpoint": {"checkpoint_id": checkpoint_id} if checkpoint_id else None,
        "stream_mode": RUN_STREAM_MODES,
        "stream_subgraphs": True,
        "stream_resumable": True,
        "on_completion": "keep",
        "after_seconds": 0,
        "if_not_exists": "create",
        "multitask_strategy": strategy if strategy in STRATEGIES else "enqueue",
    }
    try:
        run_body = RunCreate.model_validate(body)
    except ValidationError as exc:
        raise ApiError(422, str(exc)) from None
    _, run = await _create(request, thread_id, run_body)
    return run.run_id


async def _thread_row(service: Service, thread_id: str) -> dict[str, Any] | None:
    info = await service.find_thread(thread_id)
    return None if info is None else await service.thread_json(info)


async def _interrupt_ids(service: Service, thread_id: str) -> tuple[set[str] | None, str | None]:
    """The ids of the thread's pending interrupts and its status (``None``: no such thread)."""
    try:
        row = await _thread_row(service, thread_id)
    except ApiError:
        row = None
    if row is None:
        return None, None
    found: set[str] = set()
    for entries in (row.get("interrupts") or {}).values():
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                found.add(entry["id"])
    return found, row.get("status")


async def _settled_interrupts(service: Service, thread_id: str) -> set[str] | None:
    """The thread's pending interrupts; while it is busy with none yet, asked again until it
    is not (or :data:`SETTLE_SECONDS` passed). ``None``: no such thread."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        found, status = await _interrupt_ids(service, thread_id)
        if found is None or found or status != "busy" or time.monotonic() >= deadline:
            return found
        await asyncio.sleep(_SETTLE_POLL)


def _responses(
    command_id: Any, params: dict[str, Any]
) -> tuple[list[tuple[str, Any]], dict[str, Any] | None]:
    """``input.respond``'s (interrupt id, response) pairs, or its error."""
    batch = params.get("responses")
    entries = batch if isinstance(batch, list) else [params]
    if isinstance(batch, list) and not batch:
        message = "input.respond requires at least one response."
        return [], error(command_id, "invalid_argument", message)
    pairs: list[tuple[str, Any]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            message = "input.respond responses entries must be objects."
            return [], error(command_id, "invalid_argument", message)
        interrupt_id = entry.get("interrupt_id")
        if not isinstance(interrupt_id, str):
            message = (
                "input.respond responses entries require an interrupt_id."
                if isinstance(batch, list)
                else "input.respond requires an interrupt_id."
            )
            return [], error(command_id, "invalid_argument", message)
        namespace = entry.get("namespace", [])
        if not isinstance(namespace, list) or not all(isinstance(s, str) for s in namespace):
            message = "input.respond requires namespace to be a list of strings."
            return [], error(command_id, "invalid_argument", message)
        pairs.append((interrupt_id, entry.get("response")))
    return pairs, None


async def _input_respond(
    request: HTTPConnection, thread_id: str, command_id: Any, params: dict[str, Any]
) -> dict[str, Any]:
    pairs, refused = _responses(command_id, params)
    if refused is not None:
        return refused
    service = _service(request)
    pending = await _settled_interrupts(service, thread_id)
    for interrupt_id, _ in pairs:
        if pending is not None and interrupt_id not in pending:
            message = f"Unknown or already-consumed interrupt: {interrupt_id}"
            return error(command_id, "no_such_interrupt", message)
    info = await service.find_thread(thread_id)
    assistant_id = info.metadata.get("assistant_id") if info is not None else None
    if not isinstance(assistant_id, str):
        message = "No interrupted run is bound to this thread."
        return error(command_id, "no_such_run", message)
    resume = {
        "assistant_id": assistant_id,
        "input": dict(pairs),
        "update": params.get("update"),
        "goto": params.get("goto"),
        "config": params.get("config"),
        "metadata": params.get("metadata"),
    }
    try:
        checkpoint_id = _checkpoint_id(resume)
        await _start(request, thread_id, assistant_id, resume, checkpoint_id, force_resume=True)
    except ApiError as exc:
        return error(command_id, "unknown_error", _failed(exc))
    except Exception as exc:
        return error(command_id, "unknown_error", str(exc))
    return success(command_id, {})


# --- POST /threads/{thread_id}/stream/events ----------------------------------------------


@router.post("/threads/{thread_id}/stream/events")
async def thread_events(request: Request, thread_id: str) -> Response:
    """The thread's protocol events, kept to the body's filter, from its first run on."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        return _json({"detail": "Invalid JSON body"}, 400)
    body = body if isinstance(body, dict) else {}
    channels = body.get("channels")
    if not isinstance(channels, list) or not channels:
        return _json({"detail": "channels is required and must be a non-empty array"}, 400)
    bad = [
        c if isinstance(c, str) else repr(c)
        for c in channels
        if not (isinstance(c, str) and supported_channel(c))
    ]
    if bad:
        listed = ", ".join(bad[:5])
        detail = f"channels contains unsupported entries: {listed}. {_ALLOWED}"
        return _json({"detail": detail}, 400)
    wanted, since = event_filter(body)
    events = thread_events_of(_service(request), thread_id, wanted, since)
    blocks = (_sse_block(event) async for event in events)
    return _sse(request, blocks, headers={"cache-control": "no-store"})


def _namespaces(value: Any) -> list[list[str]] | None:
    if not isinstance(value, list):
        return None
    kept = [ns for ns in value if isinstance(ns, list) and all(isinstance(s, str) for s in ns)]
    return kept or None


def _count(body: Mapping[str, Any], key: str) -> int | None:
    value = body.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


async def thread_events_of(
    service: Service, thread_id: str, wanted: EventFilter, since: int | None
) -> AsyncIterator[dict[str, Any]]:
    """The thread's protocol events from its first run on, kept to ``wanted`` and after
    ``since``; open for its next runs."""
    made = ThreadEvents()
    async for stored in service.log.subscribe(thread_id=thread_id, after_position=0):
        for event in await made.feed(stored, service.log):
            if (since is None or event["seq"] > since) and wanted.matches(event):
                yield event


def _sse_block(event: dict[str, Any]) -> bytes:
    block = f"event: {event['method']}\r\ndata: {dumps(event)}\r\nid: {event['seq']}\r\n\r\n"
    return block.encode()
