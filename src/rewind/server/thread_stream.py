"""``GET /threads/{thread_id}/stream``: every run of a thread, as it happens, from the log.

Each run's events go through its own projection (the modes it was started with), and each
run ends with ``metadata`` ``{"status": "run_done", "run_id": ...}``. Ids are derived from the
log as for a run's stream, from the global position instead of the run's seq, so a
``Last-Event-ID`` resumes the thread's stream the same way. The stream stays open for the
thread's next runs until the client leaves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from rewind.events import EventType, RunStatus
from rewind.server.run_routes import _service, _sse
from rewind.server.runs import recorded_stream
from rewind.server.stream import RunProjection, format_event, parse_event_id
from rewind.server.wire import dumps

__all__ = ["router"]

router = APIRouter()

_LAST = 10**9


@router.get("/threads/{thread_id}/stream")
async def join_thread_stream(request: Request, thread_id: str) -> StreamingResponse:
    """The thread's runs' events: after ``Last-Event-ID`` if given, else from now on."""
    service = _service(request)
    await service.thread(thread_id)
    header = request.headers.get("last-event-id")
    # No header: from now on. An id of ours: after it. Any other value (-1, 0): everything.
    after = None if header is None else (parse_event_id(header) or (-1, -1))
    return _sse(request, _thread_events(request, thread_id, after), headers={})


async def _thread_events(
    request: Request, thread_id: str, after: tuple[int, int] | None
) -> AsyncIterator[bytes]:
    log = _service(request).log
    if after is None:  # from now on: the runs still going are followed from their start
        head = await log.head()
        running = await log.list_runs(thread_id=thread_id, status=RunStatus.RUNNING)
        start = min([r.first_position - 1 for r in running] or [head])
        after = (head, _LAST)
    else:
        start = 0
    projections: dict[str, RunProjection] = {}
    async for event in log.subscribe(thread_id=thread_id, after_position=start):
        if event.type == EventType.RUN_STARTED and "update" not in (event.payload or {}):
            modes, subgraphs = recorded_stream(event.payload) or (["values"], False)
            started = RunProjection(event.run_id, modes, subgraphs=subgraphs)
            await started.prepare(log)
            projections[event.run_id] = started
        projection = projections.get(event.run_id)
        if projection is None:
            continue
        made = [(name, data) for _, name, data in projection.feed(event)]
        if event.type == EventType.RUN_ENDED:
            made.append(("metadata", {"status": "run_done", "run_id": event.run_id}))
            del projections[event.run_id]
        for k, (name, data) in enumerate(made):
            if (event.position, k) > after:
                yield format_event(name, dumps(data), (event.position, k))
