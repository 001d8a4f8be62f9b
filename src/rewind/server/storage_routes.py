"""``GET /threads/{thread_id}/storage``: what a thread occupies in the database, in the shape
LangGraph's server reports its checkpointer's tables in (``langgraph_runtime_inmem.checkpoint``
``thread_storage``), with rewind's own tables behind each figure.

rewind keeps no checkpoint tables: a thread is its runs' events, and two caches of folded
state. Each of LangGraph's figures is what plays its part here (bytes are the stored text's
UTF-8 bytes, as the database holds it):

* ``checkpoints``: the ``checkpoint`` events of the thread's runs, every namespace's (a
  subgraph's too, as LangGraph's table holds them), and their payloads' bytes;
* ``pending_writes``: the events that record what tasks wrote, LangGraph's checkpoint writes:
  ``task.ended`` (a task's update and writes), ``task.failed`` (its error), ``interrupt``,
  ``resume`` and ``state.write``, and their payloads' bytes;
* ``channel_values``: the states folded from the log and kept so reads need not fold it again,
  LangGraph's channel blobs: the thread's head (``thread_heads``, when its state is kept) and
  its snapshots (``snapshots``). ``count`` is how many states are kept and ``bytes`` their
  bytes; ``by_channel`` gives each channel's ``versions`` (kept states that hold it) and
  ``bytes`` (its value's share of them; the rest of a state's bytes are its checkpoint's id,
  next tasks and metadata);
* ``other_events`` (rewind's own): the thread's other events (``run.started`` and
  ``run.ended``, ``task.started``, chat model and tool calls, streamed tokens, custom events,
  routes, subgraph bounds, store writes), which LangGraph keeps nowhere in its checkpointer;
  a pack of streamed tokens stored in one row counts as the events it holds;
* ``total_bytes``: the four together, every byte the thread's rows of ``events``,
  ``thread_heads`` and ``snapshots`` hold in payload and state.

Only the thread's rows are read: its runs through ``ix_runs_thread``, their events and
snapshots through their ``(run_key, seq)`` keys, its head through its key.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import LargeBinary, cast, func, select
from sqlalchemy.engine import Connection

from rewind.events import EventType
from rewind.log import EventLog
from rewind.log.schema import events, runs, snapshots, thread_heads
from rewind.server.run_routes import _service
from rewind.server.service import ApiError

__all__ = ["WRITE_TYPES", "router", "thread_storage"]

router = APIRouter()

WRITE_TYPES = frozenset(
    {
        EventType.TASK_ENDED.value,
        EventType.TASK_FAILED.value,
        EventType.INTERRUPT.value,
        EventType.RESUME.value,
        EventType.STATE_WRITE.value,
    }
)
"""The event types counted as ``pending_writes`` (what tasks wrote)."""

_CHECKPOINT = EventType.CHECKPOINT.value
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


@router.get("/threads/{thread_id}/storage")
async def get_thread_storage(request: Request, thread_id: str) -> JSONResponse:
    """Bytes the thread occupies, per kind of record and per channel (see the module's
    documentation for what each figure counts). A thread id that is not a UUID gets
    LangGraph's 422, unless a thread has that id (rewind allows any); an unknown thread a 404."""
    service = _service(request)
    if await service.find_thread(thread_id) is None:
        if not _is_uuid(thread_id):
            raise ApiError(422, "Invalid thread ID: must be a UUID")
        await service.thread(thread_id)  # the 404 every thread route answers
    return JSONResponse({"thread_id": thread_id, **await thread_storage(service.log, thread_id)})


async def thread_storage(log: EventLog, thread_id: str) -> dict[str, Any]:
    """What the thread's rows hold (the route's answer without ``thread_id``)."""
    return await log._read(lambda conn: _storage(conn, thread_id))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _storage(conn: Connection, thread_id: str) -> dict[str, Any]:
    keys = select(runs.c.run_key).where(runs.c.thread_id == thread_id).scalar_subquery()
    payload = events.c.payload
    size = (
        func.length(cast(payload, LargeBinary))  # SQLite's length() of TEXT counts characters
        if conn.dialect.name == "sqlite"
        else func.octet_length(payload)
    )
    by_type = conn.execute(
        select(events.c.type, func.sum(func.coalesce(events.c.packed, 1)), func.sum(size))
        .where(events.c.run_key.in_(keys))
        .group_by(events.c.type)
    ).all()
    figures = {name: [0, 0] for name in ("checkpoints", "pending_writes", "other_events")}
    for type_, count, nbytes in by_type:
        name = (
            "checkpoints"
            if type_ == _CHECKPOINT
            else "pending_writes"
            if type_ in WRITE_TYPES
            else "other_events"
        )
        figures[name][0] += int(count or 0)
        figures[name][1] += int(nbytes or 0)
    states = [
        *conn.execute(
            select(thread_heads.c.state).where(
                thread_heads.c.thread_id == thread_id, thread_heads.c.state.is_not(None)
            )
        ).scalars(),
        *conn.execute(select(snapshots.c.state).where(snapshots.c.run_key.in_(keys))).scalars(),
    ]
    by_channel: dict[str, dict[str, int]] = {}
    state_bytes = 0
    for text in states:
        state_bytes += len(text.encode())
        for channel, value in _values(text).items():
            entry = by_channel.setdefault(channel, {"versions": 0, "bytes": 0})
            entry["versions"] += 1
            entry["bytes"] += len(_dumps(value).encode())
    shown = {name: {"count": n, "bytes": b} for name, (n, b) in figures.items()}
    return {
        "total_bytes": state_bytes + sum(b for _, b in figures.values()),
        "checkpoints": shown["checkpoints"],
        "channel_values": {"count": len(states), "bytes": state_bytes, "by_channel": by_channel},
        "pending_writes": shown["pending_writes"],
        "other_events": shown["other_events"],
    }


def _values(text: str) -> dict[str, Any]:
    """A kept state's channel values as stored (the codec's JSON, not decoded into objects:
    their encoding is what is measured)."""
    try:
        state = json.loads(text)
    except ValueError:
        return {}
    values = state.get("values") if isinstance(state, dict) else None
    return values if isinstance(values, dict) else {}
