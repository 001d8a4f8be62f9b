"""The run routes: create, stream, wait, join, cancel, list, get, delete; stateless too."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, get_args

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.requests import HTTPConnection

from rewind.events import EventType, RunStatus
from rewind.log import RunRecord
from rewind.runtime.memory import STORE_THREAD
from rewind.server.assistants import assistants_of, run_settings
from rewind.server.models import RunCreate, RunField, RunsCancel
from rewind.server.queue import server_run_of
from rewind.server.queued import QueuedRuns
from rewind.server.run_keys import created_configurable, request_identity, run_metadata
from rewind.server.runs import (
    RunRejectedError,
    ServerRun,
    new_run_id,
    recorded_stream,
    run_json,
)
from rewind.server.service import ApiError, Service
from rewind.server.stream import (
    API_MODES,
    SseEvent,
    format_event,
    parse_event_id,
    run_events,
)
from rewind.server.webhooks import WebhookRefusedError
from rewind.server.wire import dumps, jsonable

__all__ = ["known_run", "router", "run_output", "run_parts", "start_run", "stop_run"]

router = APIRouter()

logger = logging.getLogger(__name__)

RUN_FIELDS: tuple[str, ...] = get_args(RunField)
"""The fields of a run a listing may select."""

HEARTBEAT_SECONDS = 5.0
"""Seconds between heartbeats on an idle stream (and keep-alives on a wait), by default."""

_SSE_HEADERS = {"cache-control": "no-log", "x-accel-buffering": "no"}


def _service(request: HTTPConnection) -> Service:
    service: Service = request.app.state.service
    return service


# --- creating runs ----------------------------------------------------------------------------


async def _create(
    request: HTTPConnection,
    thread_id: str | None,
    body: RunCreate,
    followed: asyncio.Event | None = None,
    identity: tuple[str, int] | None = None,
) -> tuple[Service, ServerRun]:
    request_id, started_ms = identity or request_identity(request.headers)
    run = await start_run(
        request.app,
        thread_id,
        body,
        context=_trace_context(request),
        followed=followed,
        request_id=request_id,
        started_ms=started_ms,
        api_url=str(request.base_url).rstrip("/"),
    )
    return _service(request), run


async def start_run(
    app: Any,
    thread_id: str | None,
    body: RunCreate,
    *,
    context: contextvars.Context | None = None,
    followed: asyncio.Event | None = None,
    configurable: Mapping[str, Any] | None = None,
    request_id: str | None = None,
    started_ms: int | None = None,
    api_url: str | None = None,
) -> ServerRun:
    """Accept a run as the API's run creation does (a cron's firing too), and start it.

    Args:
        thread_id: Its thread; ``None``: a new thread of its own (deleted once the run ended,
            unless ``on_completion="keep"``).
        context: The contextvars it runs in (the caller's trace).
        followed: Set when the response that follows the run is over (a thread-less run's
            thread is deleted only then, so a stream or a wait reads it to the end).
        configurable: Entries added to its ``config["configurable"]`` (a cron's id).
        request_id: The id of the request that asked for it (none for a cron's firing).
        started_ms: When that request came (epoch milliseconds).
        api_url: The server's URL, as that request reached it.
    """
    service: Service = app.state.service
    if body.webhook is not None:
        try:
            await service.runs.webhooks.check(body.webhook)
        except WebhookRefusedError as exc:
            raise ApiError(422, exc.reason) from None
    assistant = await assistants_of(app).for_run(body.assistant_id)
    graph_id, assistant_id = assistant.graph_id, assistant.assistant_id
    data = body.model_dump(exclude_none=True)
    if body.command is not None:
        data["command"] = body.command.model_dump(exclude_none=True)
    data["config"], data["context"] = run_settings(
        assistant, service.graphs[graph_id], body.config, body.context
    )
    data["config"]["configurable"] = {
        **(data["config"].get("configurable") or {}),
        **(configurable or {}),
        **created_configurable(
            request_id=request_id, started_ms=started_ms, after_seconds=body.after_seconds
        ),
    }
    if api_url is not None:
        data["api_url"] = api_url
    if thread_id is None and body.on_completion != "keep":
        data["temporary"] = True  # LangGraph's name: its thread goes with the run
    existing: Mapping[str, Any] | None = None  # the thread's metadata, if it was there
    if thread_id is None:  # stateless: a thread of its own, kept once with its graph
        info = await service.new_thread({"graph_id": graph_id, "assistant_id": assistant_id})
    else:
        found = await service.find_thread(thread_id)
        if found is None:
            if body.if_not_exists != "create":
                raise ApiError(404, "Thread or assistant not found.")
            found = await service.create_thread(thread_id, {}, "raise")
        else:
            existing = found.metadata
        info = found
    metadata = run_metadata(
        assistant=assistant.metadata,
        thread=existing,
        config=data["config"].get("metadata"),
        run=body.metadata,
        graph_id=graph_id,
        assistant_id=assistant_id,
    )
    data["config"]["metadata"] = metadata
    if "graph_id" not in info.metadata or "assistant_id" not in info.metadata:
        info.metadata.setdefault("graph_id", graph_id)
        info.metadata.setdefault("assistant_id", assistant_id)
        await service.save_thread(info)
    run = ServerRun(
        run_id=new_run_id(),
        thread_id=info.thread_id,
        assistant_id=assistant_id,
        graph_id=graph_id,
        request=data,
        metadata=metadata,
        multitask_strategy=body.multitask_strategy,
    )
    try:
        await service.runs.admit(run, context=context)
    except RunRejectedError as exc:
        raise ApiError(409, str(exc)) from exc
    if data.get("temporary"):
        _delete_when_done(service, run, followed)
    return run


_FOLLOW_GRACE = 60.0
"""Seconds a thread-less run's thread outlives the run's end at most, while the response
following the run is still going."""


def _delete_when_done(service: Service, run: ServerRun, followed: asyncio.Event | None) -> None:
    """Delete a thread-less run's thread (``on_completion="delete"``, LangGraph's default)
    once the run ended and the response following it (if any) is over, or the server stops
    (:meth:`Service.finish_cleanups`)."""

    async def delete() -> None:
        await run.done.wait()
        if followed is not None and not service.stopping.is_set():
            over = asyncio.ensure_future(followed.wait())
            stopping = asyncio.ensure_future(service.stopping.wait())
            try:
                await asyncio.wait(
                    {over, stopping}, timeout=_FOLLOW_GRACE, return_when="FIRST_COMPLETED"
                )
            finally:
                over.cancel()
                stopping.cancel()
        try:
            await service.log.flush()
            await service.delete_thread(run.thread_id)
        except ApiError:
            pass  # deleted already
        except Exception as exc:  # the database is away
            logger.warning("thread %s of run %s not deleted: %s", run.thread_id, run.run_id, exc)

    task = asyncio.get_running_loop().create_task(delete())
    service.cleanups.add(task)
    task.add_done_callback(service.cleanups.discard)


def _trace_context(request: HTTPConnection) -> contextvars.Context | None:
    """A context whose current span is the caller's, from its ``traceparent`` header."""
    if "traceparent" not in request.headers:
        return None
    from opentelemetry import context as otel_context
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    extracted = TraceContextTextMapPropagator().extract(carrier=dict(request.headers))
    ctx = contextvars.copy_context()
    ctx.run(otel_context.attach, extracted)
    return ctx


def _run_path(run: ServerRun) -> str:
    # A stateless run keeps its own thread here, so its stream can be joined and resumed there
    # (the reference server answers with /runs/{run_id}/stream, which it does not route).
    return f"/threads/{run.thread_id}/runs/{run.run_id}"


def _locations(run: ServerRun, *, tail: str) -> dict[str, str]:
    base = _run_path(run)
    return {"location": f"{base}/{tail}", "content-location": base}


@router.post("/threads/{thread_id}/runs")
async def create_run(request: Request, thread_id: str, body: RunCreate) -> JSONResponse:
    """Start a run in the background."""
    _, run = await _create(request, thread_id, body)
    return JSONResponse(run_json(run, None), headers={"content-location": _run_path(run)})


@router.post("/runs")
async def create_stateless_run(request: Request, body: RunCreate) -> JSONResponse:
    """Start a run in the background on a new thread of its own."""
    _, run = await _create(request, None, body)
    return JSONResponse(run_json(run, None))


@router.post("/runs/batch")
async def create_run_batch(request: Request, body: list[RunCreate]) -> JSONResponse:
    """Start several runs in the background, each on a new thread of its own; the runs, in
    the order asked. Nothing starts unless every one names an assistant that exists."""
    if not body:
        raise ApiError(422, "body: a batch holds at least one run")
    assistants = assistants_of(request.app)
    for i, payload in enumerate(body):
        try:
            await assistants.for_run(payload.assistant_id)
        except ApiError as exc:
            raise ApiError(exc.status, f"runs[{i}]: {exc.detail}") from None
    created = []
    identity = request_identity(request.headers)  # one request: its runs share its id
    for payload in body:  # each as it was created (pending), as LangGraph's server answers
        created.append(
            run_json((await _create(request, None, payload, identity=identity))[1], None)
        )
    return JSONResponse(created)


@router.post("/threads/{thread_id}/runs/stream")
async def stream_run(request: Request, thread_id: str, body: RunCreate) -> StreamingResponse:
    """Start a run and stream its events."""
    return await _start_streaming(request, thread_id, body)


@router.post("/runs/stream")
async def stream_stateless_run(request: Request, body: RunCreate) -> StreamingResponse:
    """Start a run on a new thread and stream its events."""
    return await _start_streaming(request, None, body)


async def _start_streaming(
    request: Request, thread_id: str | None, body: RunCreate
) -> StreamingResponse:
    followed = asyncio.Event()
    service, run = await _create(request, thread_id, body, followed)
    events = _run_sse(service, run, _modes(body.stream_mode), body.stream_subgraphs, None, None)
    return _sse(
        request,
        _then_set(events, followed),
        headers=_locations(run, tail="stream"),
        on_disconnect=lambda: _on_disconnect(service, run, body.on_disconnect),
    )


@router.post("/threads/{thread_id}/runs/wait")
async def wait_run(request: Request, thread_id: str, body: RunCreate) -> StreamingResponse:
    """Start a run and answer with its output once it ends."""
    service, run = await _create(request, thread_id, body)
    return _waiting(service, run)


@router.post("/runs/wait")
async def wait_stateless_run(request: Request, body: RunCreate) -> StreamingResponse:
    """Start a run on a new thread and answer with its output once it ends."""
    followed = asyncio.Event()
    service, run = await _create(request, None, body, followed)
    return _waiting(service, run, followed)


def _on_disconnect(service: Service, run: ServerRun, policy: str) -> None:
    if policy == "cancel" and not run.final:
        service.runs.cancel_soon(run)


# --- reading runs -----------------------------------------------------------------------------


async def known_run(service: Service, thread_id: str, run_id: str) -> dict[str, Any] | None:
    """The run as the API's ``Run``, if the thread has it (and it is not hidden)."""
    run = await service.runs.lookup(run_id)
    record = await service.run_record(run_id)
    if run is not None and run.thread_id == thread_id:
        return None if run.hidden else run_json(run, service.runs.record_for(run, record))
    if record is not None and record.thread_id == thread_id:
        if run_id in service.hidden_runs:
            return None
        if record.status == RunStatus.CANCELLED and await service.runs.cancels.rolled_back(
            run_id=run_id
        ):
            return None  # rolled back through another server process
        return run_json(None, record, await service.run_started(run_id))
    return None


def _no_run(thread_id: str, run_id: str) -> ApiError:
    return ApiError(404, f"Run {run_id} not found on thread {thread_id}")


@router.get("/threads/{thread_id}/runs")
async def list_runs(
    request: Request,
    thread_id: str,
    limit: int = Query(10, ge=0, le=10_000),
    offset: int = Query(0, ge=0),
    status: str | None = None,
) -> JSONResponse:
    """The thread's runs, newest first (only their ``select``ed fields, when the query names
    some, as LangGraph's server answers)."""
    select = request.query_params.getlist("select")
    unknown = [field for field in select if field not in RUN_FIELDS]
    if unknown:
        raise ApiError(422, f"Invalid select columns: {unknown}. Expected: {list(RUN_FIELDS)}")
    service = _service(request)
    await service.thread(thread_id)
    runs = await service.listed_runs(thread_id)
    if status:
        runs = [r for r in runs if r["status"] == status]
    runs = runs[offset : offset + limit]
    if select:
        runs = [{k: v for k, v in run.items() if k in select} for run in runs]
    return JSONResponse(runs)


@router.get("/threads/{thread_id}/runs/{run_id}")
async def get_run(request: Request, thread_id: str, run_id: str) -> JSONResponse:
    """One run."""
    found = await known_run(_service(request), thread_id, run_id)
    if found is None:
        raise _no_run(thread_id, run_id)
    return JSONResponse(found)


@router.delete("/threads/{thread_id}/runs/{run_id}", status_code=204)
async def delete_run(request: Request, thread_id: str, run_id: str) -> Response:
    """Remove a finished run from listings (its events stay in the log)."""
    service = _service(request)
    found = await known_run(service, thread_id, run_id)
    if found is None:
        raise _no_run(thread_id, run_id)
    if found["status"] in ("pending", "running"):
        raise ApiError(409, "Run is still in progress; cancel it first")
    service.hidden_runs.add(run_id)
    await service.runs.forget(run_id)
    return Response(status_code=204)


@router.post("/threads/{thread_id}/runs/{run_id}/cancel", status_code=202)
async def cancel_run(
    request: Request,
    thread_id: str,
    run_id: str,
    wait: bool = False,
    action: str = Query("interrupt", pattern="^(interrupt|rollback)$"),
) -> Response:
    """Stop a pending or running run, whichever server process runs it; it ends
    ``interrupted`` (``rollback``: left out of listings too). With ``wait``, the answer comes
    once it ended, as LangGraph's server's: the values it streamed after the cancel, which a
    stopped run has none of (``{}``)."""
    service = _service(request)
    if await known_run(service, thread_id, run_id) is None:
        raise _no_run(thread_id, run_id)
    await stop_run(service, run_id, rollback=action == "rollback", wait=wait)
    if wait:
        base = f"/threads/{thread_id}/runs/{run_id}"
        headers = {"location": f"{base}/join", "content-location": base}
        return JSONResponse({}, headers=headers)
    return Response(status_code=202)


_Target = ServerRun | RunRecord
"""A run to cancel: this server's (or the queue's), or one another server process runs."""


async def stop_run(service: Service, run_id: str, *, rollback: bool, wait: bool) -> None:
    """Stop the run ``run_id`` if it is pending or running, whichever server process runs it
    (``wait``: until it ended)."""
    target = await _in_flight(service, run_id)
    if target is None:
        return
    await _cancel(service, target, rollback=rollback)
    if wait:
        await _ended(service, target)


async def _in_flight(service: Service, run_id: str) -> _Target | None:
    """The run ``run_id`` if it is pending or running, here or in another server process."""
    run = await service.runs.lookup(run_id)
    if run is not None:
        return None if run.final else run
    if isinstance(service.runs, QueuedRuns):
        return None  # every run of a queued server is in the queue
    record = await service.run_record(run_id)
    return record if record is not None and record.status == RunStatus.RUNNING else None


async def _cancel(service: Service, target: _Target, *, rollback: bool) -> None:
    if isinstance(target, ServerRun):
        await service.runs.request_cancel(target, rollback=rollback)
    else:
        await service.runs.cancel_elsewhere(target, rollback=rollback)
    if rollback:
        service.hidden_runs.add(target.run_id)


async def _ended(service: Service, target: _Target) -> None:
    if isinstance(target, ServerRun):
        await target.done.wait()
    else:
        await service.runs.wait_ended(target.run_id)


@router.post("/runs/cancel", status_code=204)
async def cancel_runs(
    request: Request,
    body: RunsCancel,
    action: str = Query("interrupt", pattern="^(interrupt|rollback)$"),
) -> Response:
    """Stop several runs: a thread's, by id, or every run ``pending``, ``running`` or
    ``all`` of them, whichever server process runs them."""
    service = _service(request)
    if body.status is not None:
        if body.thread_id is not None or body.run_ids is not None:
            raise ApiError(
                422,
                "When providing a 'status', 'thread_id' and 'run_ids' must be omitted: "
                "a status cancels every run in it, whatever its thread",
            )
        targets = await _runs_in(service, body.status)
        if not targets:
            raise ApiError(404, f"No runs found to cancel: no run is {body.status}")
    else:
        if body.thread_id is None or not body.run_ids:
            raise ApiError(422, "Must provide either a status, or both 'thread_id' and 'run_ids'")
        thread_id, run_ids = body.thread_id, list(dict.fromkeys(body.run_ids))
        known = [r for r in run_ids if await known_run(service, thread_id, r) is not None]
        if not known:
            raise ApiError(
                404, f"No runs found to cancel: no run {', '.join(run_ids)} on thread {thread_id}"
            )
        targets = [t for t in [await _in_flight(service, r) for r in known] if t is not None]
        if not targets:
            raise ApiError(
                404,
                f"No matching runs to cancel: run {', '.join(known)} of thread {thread_id} "
                "has ended",
            )
    for target in targets:
        await _cancel(service, target, rollback=action == "rollback")
    return Response(status_code=204)


async def _runs_in(service: Service, status: str) -> list[_Target]:
    """Every run pending, running (or ``all``: both), here and in other server processes."""
    statuses = ("pending", "running") if status == "all" else (status,)
    runs = service.runs
    if isinstance(runs, QueuedRuns):
        return [server_run_of(row) for row in await runs.queue.in_flight(statuses)]
    mine: list[_Target] = [r for r in runs.runs.values() if not r.final and r.status in statuses]
    if "running" not in statuses:
        return mine
    records = await service.log.list_runs(status=RunStatus.RUNNING)
    others = [r for r in records if r.run_id not in runs.runs and r.thread_id != STORE_THREAD]
    if not others:
        return mine
    started = await service.log.read_runs([r.run_id for r in others], types=[EventType.RUN_STARTED])
    served = {  # runs a server started (not a script's, nor a state update)
        run_id
        for run_id, events in started.items()
        if events and recorded_stream(events[0].payload) is not None
    }
    return [*mine, *(r for r in others if r.run_id in served)]


@router.get("/threads/{thread_id}/runs/{run_id}/join")
async def join_run(request: Request, thread_id: str, run_id: str) -> Response:
    """Wait for a run to end; its output."""
    service = _service(request)
    run = await service.runs.lookup(run_id)
    if await known_run(service, thread_id, run_id) is None:
        return JSONResponse(
            {"__error__": {"error": "HTTPException", "message": "404: Run not found"}}
        )
    if run is None:  # a run of the log: its thread's values
        return JSONResponse(await _thread_values(service, thread_id))
    return _waiting(service, run)


@router.get("/threads/{thread_id}/runs/{run_id}/stream")
async def join_run_stream(
    request: Request,
    thread_id: str,
    run_id: str,
    stream_mode: str | None = None,
    cancel_on_disconnect: bool = False,
) -> StreamingResponse:
    """A run's events: after ``Last-Event-ID`` if given (resume), else from now on."""
    service = _service(request)
    last = request.headers.get("last-event-id")
    only = _query_modes(request.query_params.getlist("stream_mode"), stream_mode)
    if await known_run(service, thread_id, run_id) is None:
        return _sse(request, _unknown_run(), headers={})
    run = await service.runs.lookup(run_id)
    if run is not None:
        modes = _modes(run.request.get("stream_mode") or "values")
        subgraphs = bool(run.request.get("stream_subgraphs"))
    else:  # a run of the log (an earlier server's): what it was asked to stream is recorded
        modes, subgraphs = await _recorded_stream(service, run_id, only)
    after = parse_event_id(last)
    events = _run_sse(service, run, modes, subgraphs, after, only, run_id=run_id, live=last is None)
    return _sse(
        request,
        events,
        headers={},
        on_disconnect=(lambda: _on_disconnect(service, run, "cancel"))
        if (cancel_on_disconnect and run is not None)
        else None,
    )


async def _recorded_stream(
    service: Service, run_id: str, only: list[str] | None
) -> tuple[list[str], bool]:
    started = await service.log.read(run_id, types=[EventType.RUN_STARTED], limit=1)
    recorded = recorded_stream(started[0].payload if started else None)
    return recorded or (list(only or ("values",)), True)


async def _unknown_run() -> AsyncIterator[bytes]:
    data = dumps({"error": "HTTPException", "message": "404: Run not found"})
    yield format_event("error", data, None)


def _modes(stream_mode: Any) -> list[str]:
    modes = stream_mode if isinstance(stream_mode, list) else [stream_mode]
    return list(dict.fromkeys(modes)) or ["values"]


def _query_modes(values: list[str], last: str | None) -> list[str] | None:
    """The modes a join asked for: the last ``stream_mode`` (a name or a JSON list)."""
    raw = values[-1] if values else last
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = raw
    modes = parsed if isinstance(parsed, list) else [parsed]
    for mode in modes:
        # (``tools`` and ``lifecycle``: LangGraph's names of modes no run streams here, nor on
        # its server's run routes; a join asking for them gets none, as there)
        if mode not in API_MODES and mode not in ("tools", "lifecycle"):
            raise ApiError(
                422, f"{mode!r} is not a valid stream mode; use one of {list(API_MODES)}"
            )
    return [str(m) for m in modes]


def _wanted(name: str, only: list[str] | None) -> bool:
    if only is None or name in ("metadata", "error"):
        return True
    base = name.split("|")[0]
    if base.startswith("messages"):
        return "messages" in only or "messages-tuple" in only
    return base in only


async def _run_sse(
    service: Service,
    run: ServerRun | None,
    modes: list[str],
    subgraphs: bool,
    after: tuple[int, int] | None,
    only: list[str] | None,
    *,
    run_id: str | None = None,
    live: bool = False,
) -> AsyncIterator[bytes]:
    """The SSE bytes of a run, from the log."""
    async for key, name, data in run_parts(
        service, run, modes, subgraphs=subgraphs, after=after, run_id=run_id, live=live
    ):
        if _wanted(name, only):
            yield format_event(name, dumps(data), key)


async def run_parts(
    service: Service,
    run: ServerRun | None,
    modes: list[str],
    *,
    subgraphs: bool = False,
    after: tuple[int, int] | None = None,
    run_id: str | None = None,
    live: bool = False,
) -> AsyncIterator[SseEvent]:
    """A run's stream as ``(key, event, data)``, from the log: the run ``run`` of this server
    (or the log's run ``run_id``), in ``modes``, after the SSE id ``after`` if given (``live``:
    only what happens from now on)."""
    run_id = run.run_id if run is not None else run_id
    assert run_id is not None
    if run is not None and isinstance(service.runs, QueuedRuns):
        async for part in service.runs.events(
            run, modes, subgraphs=subgraphs, after=after, live=live
        ):
            yield part
        return
    after_seq = None
    feed = None
    if live and (run is None or run.final):  # ended, no Last-Event-ID: nothing new to see
        return
    if run is not None:
        if live and run.feed is not None and run.started.is_set():
            # A join without Last-Event-ID sees what happens from now on (as the reference).
            after_seq = len(run.feed.events) - 1
        await run.started.wait()
        feed = run.feed
        if feed is None and await service.run_record(run_id) is None:  # ended, never started
            if run.error is not None and after is None:
                yield (0, 0), "metadata", {"run_id": run_id, "attempt": 1}
                yield (0, 1), "error", run.error
            return
    async for part in run_events(
        service.log,
        run_id,
        modes,
        subgraphs=subgraphs,
        after=after,
        after_seq=after_seq,
        feed=feed,
    ):
        yield part


def _sse(
    request: Request,
    body: AsyncIterator[bytes],
    *,
    headers: Mapping[str, str],
    on_disconnect: Any = None,
) -> StreamingResponse:
    return StreamingResponse(
        _with_heartbeat(body, on_disconnect, _service(request).heartbeat_seconds),
        media_type="text/event-stream; charset=utf-8",
        headers={**_SSE_HEADERS, **headers},
    )


async def _with_heartbeat(
    body: AsyncIterator[bytes], on_disconnect: Any, every: float
) -> AsyncIterator[bytes]:
    """``body``, with ``: heartbeat`` comments while it is idle; what is ready goes out in one
    write."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=256)

    async def pump() -> None:
        try:
            async for chunk in body:
                await queue.put(chunk)
        finally:
            await queue.put(None)

    producer = asyncio.ensure_future(pump())
    finished = False
    try:
        while not finished:
            try:
                async with asyncio.timeout(every):
                    chunks = [await queue.get()]
            except TimeoutError:
                yield b": heartbeat\r\n\r\n"
                continue
            while not queue.empty():
                chunks.append(queue.get_nowait())
            if chunks[-1] is None:
                finished = True
                chunks.pop()
            if chunks:
                yield b"".join(c for c in chunks if c is not None)
        producer.result()
    finally:
        if not producer.done():
            producer.cancel()
            with contextlib.suppress(BaseException):
                await producer
        if not finished and on_disconnect is not None:
            on_disconnect()


def _waiting(
    service: Service, run: ServerRun, followed: asyncio.Event | None = None
) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        while True:
            try:
                await asyncio.wait_for(asyncio.shield(run.done.wait()), service.heartbeat_seconds)
                break
            except TimeoutError:
                yield b"\n"
        yield dumps(await run_output(service, run)).encode()

    events = body() if followed is None else _then_set(body(), followed)
    return StreamingResponse(
        events, media_type="application/json", headers=_locations(run, tail="join")
    )


async def _then_set(body: AsyncIterator[bytes], followed: asyncio.Event) -> AsyncIterator[bytes]:
    """``body``; ``followed`` is set once it is over (ended, or its client went away)."""
    try:
        async for chunk in body:
            yield chunk
    finally:
        followed.set()


async def run_output(service: Service, run: ServerRun) -> Any:
    """What a wait for an ended run answers: its output, or ``{"__error__": ...}``."""
    if run.error is not None:
        return {"__error__": run.error}
    if run.result is not None:
        return jsonable(run.result)
    return await _thread_values(service, run.thread_id)


async def _thread_values(service: Service, thread_id: str) -> Any:
    try:
        state = await service.state(thread_id)
    except ApiError:
        return None
    return state["values"]
