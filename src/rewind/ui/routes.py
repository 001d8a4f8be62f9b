"""The page's JSON API under ``/ui/api``: runs, one run's events, timeline, checkpoints,
chat-model calls, replayed modes, metadata, and the SSE stream that follows a run.

Everything is read from the log the server serves; a replay goes through
:func:`rewind.replay.areplay`, the code ``rewind replay`` runs.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any, cast

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from rewind.errors import UnknownRunError
from rewind.events import EventType, RunStatus, fields_of
from rewind.log import EventLog, RunRecord
from rewind.projections.stream import MODES
from rewind.replay import areplay
from rewind.server.service import ApiError
from rewind.server.wire import jsonable
from rewind.thread_state import read_checkpoint, read_checkpoints
from rewind.trace_ids import trace_id_for
from rewind.ui.display import Display, DisplayedLog
from rewind.ui.views import (
    TIMELINE_TYPES,
    chat_calls,
    diff_values,
    event_row,
    run_row,
    timeline,
)

__all__ = [
    "EVENT_PAGE",
    "display_of",
    "graph_id_of",
    "log_of",
    "raw_log_of",
    "router",
    "run_of",
    "started_of",
]

EVENT_PAGE = 500
"""Most events one page of the event list holds."""
_REPLAY_LIMIT = 5000

router = APIRouter(prefix="/ui/api")


def raw_log_of(request: Request) -> EventLog:
    """The log as it is (for what the page changes, and for what it reads of no payload)."""
    log: EventLog = request.app.state.service.log
    return log


def display_of(request: Request) -> Display:
    """How the page shows payloads: the log's redaction hook, and whether content is hidden."""
    options = getattr(raw_log_of(request), "options", None)
    return Display(
        redact=getattr(options, "redact", None), hide_content=_settings(request).hide_content
    )


def log_of(request: Request) -> EventLog:
    """The log as the page shows it (:mod:`rewind.ui.display`)."""
    log = raw_log_of(request)
    display = display_of(request)
    return cast(EventLog, DisplayedLog(log, display)) if display.changes else log


def _settings(request: Request) -> Any:
    return request.app.state.ui


def _time(value: str | None, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, f"{name}: {value!r} is not an ISO 8601 time") from None


async def run_of(log: EventLog, run_id: str) -> Any:
    try:
        return await log.get_run(run_id)
    except UnknownRunError:
        raise ApiError(404, f"no run {run_id!r} in this database") from None


@router.get("/runs")
async def list_runs(
    request: Request,
    graph: str | None = None,
    thread: str | None = None,
    status: str | None = None,
    after: str | None = None,
    before: str | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> JSONResponse:
    """Runs, newest first, filtered; ``before`` (a time) pages to older ones; ``position``: the
    log's position before they were read (the runs feed, :mod:`rewind.ui.feed`, follows it)."""
    if status not in (None, "", *(s.value for s in RunStatus)):
        raise ApiError(
            422, f"status: {status!r} is none of {', '.join(s.value for s in RunStatus)}"
        )
    position = await raw_log_of(request).head()  # (before the list: the feed follows from it)
    records = await log_of(request).list_runs(
        graph_name=graph or None,
        thread_id=thread or None,
        status=status or None,
        created_after=_time(after, "after"),
        created_before=_time(before, "before"),
        limit=limit + 1,
    )
    more = len(records) > limit
    records = records[:limit]
    return JSONResponse(
        {
            "runs": [run_row(r) for r in records],
            "next_before": records[-1].created_at.isoformat() if more and records else None,
            "position": position,
        }
    )


@router.get("/threads")
async def list_threads(request: Request, limit: int = Query(50, ge=1, le=500)) -> JSONResponse:
    """Threads, the most recently updated first."""
    threads = await log_of(request).list_threads(limit=limit)
    return JSONResponse(
        {
            "threads": [
                {
                    "thread_id": t.thread_id,
                    "created_at": t.created_at.isoformat(),
                    "updated_at": t.updated_at.isoformat(),
                    "runs": t.run_count,
                    "last_run_id": t.last_run_id,
                    "last_status": str(t.last_status),
                }
                for t in threads
            ]
        }
    )


@router.get("/graphs")
async def list_graphs(request: Request) -> JSONResponse:
    """The graphs this server can run (forks and resumes need the run's graph)."""
    graphs = request.app.state.service.graphs
    return JSONResponse({"graphs": [{"id": k, "name": g.name} for k, g in graphs.items()]})


@router.get("/runs/{run_id}")
async def get_run(request: Request, run_id: str) -> JSONResponse:
    """A run's record, what its start recorded (graph digest, versions, config, trace id) and
    its hash chain's verification."""
    log = log_of(request)
    record = await run_of(log, run_id)
    recorded = await started_of(raw_log_of(request), run_id)
    started = await started_of(log, run_id)
    ended = await log.read(run_id, types=[EventType.RUN_ENDED], limit=1)
    report = await log.verify_chain(run_id)
    trace_id = f"{trace_id_for(run_id, recorded.get('trace_context')):032x}"
    template = _settings(request).trace_url
    display = display_of(request)
    return JSONResponse(
        {
            "run": run_row(record),
            "graph_digest": recorded.get("graph_digest"),
            "versions": jsonable(started.get("versions")),
            "config": jsonable(started.get("config")),
            "input": jsonable(started.get("input")),
            "durability": started.get("durability"),
            "process": jsonable(started.get("process")),
            "trace_id": trace_id,
            "trace_url": template.replace("{trace_id}", trace_id) if template else None,
            "error": jsonable(fields_of(ended[0].payload).get("error")) if ended else None,
            "graph_loaded": graph_id_of(request, record, recorded) is not None,
            "redaction": _settings(request).redaction or _name(display.redact),
            "hide_content": display.hide_content,
            "chain": {
                "ok": report.ok,
                "checked": report.checked,
                "first_bad_seq": report.first_bad_seq,
                "reason": report.reason,
                "redacted": report.redacted,
            },
        }
    )


@router.get("/runs/{run_id}/events")
async def list_events(
    request: Request,
    run_id: str,
    after_seq: int = Query(-1, ge=-1),
    limit: int = Query(200, ge=1, le=EVENT_PAGE),
) -> JSONResponse:
    """A page of a run's events (one-line rows), after ``after_seq``, in seq order."""
    log = log_of(request)
    record = await run_of(log, run_id)
    found = await log.read(run_id, after_seq=after_seq, limit=limit)
    return JSONResponse({"total": record.last_seq + 1, "events": [event_row(e) for e in found]})


@router.get("/runs/{run_id}/events/{seq}")
async def get_event(request: Request, run_id: str, seq: int) -> JSONResponse:
    """One event whole, its payload as JSON."""
    log = log_of(request)
    await run_of(log, run_id)
    found = await log.read(run_id, after_seq=seq - 1, limit=1)
    if not found or found[0].seq != seq:
        raise ApiError(404, f"run {run_id} has no event {seq}")
    event = found[0]
    return JSONResponse({**event_row(event), "payload": jsonable(event.payload)})


@router.get("/runs/{run_id}/timeline")
async def get_timeline(request: Request, run_id: str) -> JSONResponse:
    """The run's tasks as bars, with their calls and marks."""
    log = log_of(request)
    await run_of(log, run_id)
    events = [e async for e in log.iter_run(run_id, types=TIMELINE_TYPES)]
    return JSONResponse(timeline(events))


@router.get("/runs/{run_id}/calls")
async def get_calls(request: Request, run_id: str) -> JSONResponse:
    """Each chat-model call with its streamed tokens, timing and usage."""
    log = log_of(request)
    await run_of(log, run_id)
    types = [EventType.CHAT_STARTED, EventType.CHAT_TOKEN, EventType.CHAT_ENDED]
    events = [e async for e in log.iter_run(run_id, types=types)]
    return JSONResponse({"calls": chat_calls(events)})


@router.get("/runs/{run_id}/checkpoints")
async def get_checkpoints(request: Request, run_id: str) -> JSONResponse:
    """The run's root checkpoints, oldest first, each with its state and the change from the
    one before it (the first compared with the checkpoint the run started from)."""
    log = log_of(request)
    record = await run_of(log, run_id)
    refs = list(reversed(await log.list_checkpoints(record.thread_id, run_id=run_id)))
    states = await read_checkpoints(log, refs) if refs else []
    previous: dict[str, Any] | None = None
    if record.origin_checkpoint_id is not None:
        origin = await read_checkpoint(
            log,
            record.origin_checkpoint_id,
            thread_id=record.thread_id,
            before_position=record.first_position,
        )
        if origin is not None and origin.view is not None:
            previous = origin.view.values
    out = []
    for state in states:
        view = state.view
        if view is None:
            continue
        out.append(
            {
                "checkpoint_id": view.id,
                "parent_id": view.parent_id,
                "step": view.step,
                "source": view.source,
                "ts": jsonable(view.ts),
                "next": [t["name"] for t in view.next],
                "interrupts": jsonable(
                    [
                        {"task_id": t, "interrupts": view.interrupts.get(t, [])}
                        for t in view.interrupted_order
                    ]
                ),
                "values": jsonable(view.values),
                "diff": diff_values(previous, view.values),
            }
        )
        previous = view.values
    return JSONResponse({"checkpoints": out})


@router.get("/runs/{run_id}/replay")
async def get_replay(
    request: Request,
    run_id: str,
    mode: list[str] = Query(["updates"]),  # noqa: B008  (FastAPI's way to take a list)
    start: str | None = Query(None, alias="from"),
    subgraphs: bool = False,
) -> JSONResponse:
    """The chunks ``rewind replay RUN -m MODE ... [--from START] --json`` prints, as JSON."""
    modes: list[str] = []
    for given in mode:
        name = "messages" if given == "messages-tuple" else given
        if name not in MODES:
            raise ApiError(422, f"mode: {given!r} is none of {', '.join(MODES)}")
        if name not in modes:
            modes.append(name)
    log = log_of(request)
    await run_of(log, run_id)
    position: str | int | None = int(start) if start and start.isdigit() else start or None
    chunks: list[Any] = []
    truncated = False
    try:
        async for chunk in areplay(
            log,
            run_id,
            stream_mode=modes[0] if len(modes) == 1 else modes,
            subgraphs=subgraphs,
            start=position,
        ):
            if len(chunks) >= _REPLAY_LIMIT:
                truncated = True
                break
            chunks.append(jsonable(chunk))
    except ValueError as exc:
        raise ApiError(422, f"from: {exc}") from exc
    return JSONResponse({"modes": modes, "chunks": chunks, "truncated": truncated})


@router.get("/runs/{run_id}/stream")
async def follow_run(
    request: Request, run_id: str, after: int = Query(0, ge=0)
) -> StreamingResponse:
    """The run's events as SSE (``id`` is the log position): the stored ones after ``after``
    (or the ``Last-Event-ID``), then live ones until the run ends: no gap, no duplicate."""
    log = log_of(request)
    await run_of(log, run_id)
    last = request.headers.get("last-event-id", "")
    start = int(last) if last.isdigit() else after
    return StreamingResponse(
        _follow(log, run_id, start),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


async def _follow(log: EventLog, run_id: str, after: int) -> AsyncIterator[bytes]:
    yield b": following\n\n"
    async for event in log.subscribe(run_id=run_id, after_position=after):
        data = json.dumps(event_row(event), ensure_ascii=False)
        yield f"id: {event.position}\nevent: event\ndata: {data}\n\n".encode()
    yield b"event: end\ndata: {}\n\n"


def _name(hook: Any) -> str | None:
    return None if hook is None else str(getattr(hook, "__qualname__", None) or hook)


def graph_id_of(
    request: Request, record: RunRecord, started: Mapping[str, Any] | None
) -> str | None:
    """The id of the served graph that continues a run (forks it, answers its interrupt): the
    graph it names (the server names a run by its graph id), the id its recorded name was
    served under, the graph id its config names, else the served graph whose structure
    (digest) its ``run.started`` recorded; ``None`` when no served graph is the run's."""
    graphs = request.app.state.service.graphs
    name = record.graph_name
    if name in graphs:
        return str(name)
    found = _settings(request).graph_names.get(name)
    if found in graphs:
        return str(found)
    started = started or {}
    configured = ((started.get("config") or {}).get("configurable") or {}).get("graph_id")
    if isinstance(configured, str) and configured in graphs:
        return configured
    digest = started.get("graph_digest")
    same = [gid for gid, g in graphs.items() if digest and getattr(g, "digest", None) == digest]
    return str(same[0]) if same else None


async def started_of(log: EventLog, run_id: str) -> Mapping[str, Any]:
    """What a run's ``run.started`` recorded (nothing for a run that does not open so)."""
    first = await log.read(run_id, limit=1)
    return fields_of(first[0].payload) if first and first[0].type == EventType.RUN_STARTED else {}
