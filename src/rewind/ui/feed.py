"""The runs list's live feed: the log followed over SSE, the rows of the runs that changed sent
as they change, so that a new run appears and a run's status and event count move without the
page asking again.

A run's start and end are sent at once; other events (a token, a checkpoint) only mark their
run as changed, and changed runs are sent at most every :data:`COUNT_INTERVAL` seconds, at
most :data:`BATCH` rows at a time: the feed reads one run's record per run that changed, never
a page of the list.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from rewind.errors import UnknownRunError
from rewind.events import EventType
from rewind.log import EventLog
from rewind.ui.routes import raw_log_of
from rewind.ui.views import run_row

__all__ = ["BATCH", "COUNT_INTERVAL", "router"]

router = APIRouter(prefix="/ui/api")

BATCH = 50
"""Most run rows one message of the feed carries."""
COUNT_INTERVAL = 1.0
"""Seconds between two updates of runs whose only change is new events."""

_AT_ONCE = frozenset({EventType.RUN_STARTED, EventType.RUN_ENDED})
_LOOK = 0.5
"""Seconds between looks, while nothing changes, at whether the server is stopping."""


@router.get("/runs/feed")
async def runs_feed(request: Request, after: int = Query(0, ge=0)) -> StreamingResponse:
    """SSE: ``runs`` messages, each ``{"runs": [row, ...]}`` (rows as the list shows them) of
    runs that changed after log position ``after`` (or the ``Last-Event-ID``); ``id`` is the
    log position the message covers."""
    last = request.headers.get("last-event-id", "")
    start = int(last) if last.isdigit() else after
    runs = request.app.state.service.runs
    return StreamingResponse(
        _feed(raw_log_of(request), start, lambda: bool(getattr(runs, "closing", False))),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


async def _feed(log: EventLog, after: int, closing: Callable[[], bool]) -> AsyncIterator[bytes]:
    changed: dict[str, bool] = {}  # run id → whether it started or ended (sent at once)
    covered = after
    wake = asyncio.Event()

    async def follow() -> None:
        nonlocal covered
        try:
            async for event in log.subscribe(after_position=after):
                covered = event.position
                urgent = event.type in _AT_ONCE
                if urgent or event.run_id not in changed:
                    changed[event.run_id] = changed.get(event.run_id, False) or urgent
                    wake.set()
        finally:
            wake.set()  # (the log closed: the feed ends)

    following = asyncio.create_task(follow())
    sent_at = 0.0
    loop = asyncio.get_running_loop()
    try:
        yield b": following\n\n"
        while True:
            try:
                await asyncio.wait_for(wake.wait(), timeout=_LOOK)
            except TimeoutError:
                if closing():  # the server is stopping: its connections close
                    break
                continue
            if following.done() and not changed:
                break
            if not any(changed.values()):  # only new events: not more often than the interval
                await asyncio.sleep(max(0.0, sent_at + COUNT_INTERVAL - loop.time()))
            wake.clear()
            at = covered
            batch = list(changed)[:BATCH]
            for run_id in batch:
                del changed[run_id]
            rows = []
            for run_id in batch:
                with contextlib.suppress(UnknownRunError):
                    rows.append(run_row(await log.get_run(run_id)))
            sent_at = loop.time()
            # The position is the message's id once every run changed up to it is sent.
            where = "" if changed else f"id: {at}\n"
            if changed:
                wake.set()  # the rest in the next message
            data = json.dumps({"runs": rows}, ensure_ascii=False)
            yield f"{where}event: runs\ndata: {data}\n\n".encode()
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
