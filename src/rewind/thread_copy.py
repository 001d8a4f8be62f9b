"""Copying a thread: each finished run's events appended again under new run ids and the new
thread's id, so the copy has the same history (and checkpoint ids) and shares nothing.

Used by the server's ``POST /threads/{thread_id}/copy`` and the savers' ``copy_thread``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from rewind.events import EventType, NewEvent, RunStatus
from rewind.log import EventLog

__all__ = ["copy_thread_runs"]


async def copy_thread_runs(log: EventLog, source: str, target: str) -> int:
    """Append the finished runs of thread ``source`` to thread ``target``, oldest first, under
    new run ids (a fork's origin renamed with them); how many runs were copied."""
    renamed: dict[str, str] = {}
    records = await log.list_runs(thread_id=source, oldest_first=True)
    ended = [r.run_id for r in records if r.status != RunStatus.RUNNING]
    stored = await log.read_runs(ended)
    for old_id in ended:
        run_id = renamed[old_id] = str(uuid.uuid4())
        await log.append(
            run_id,
            [_copied(e, target, renamed) for e in stored[old_id]],
            expected_seq=0,
            new_run=True,
        )
    await log.flush()
    return len(ended)


def _copied(event: Any, thread_id: str, renamed: Mapping[str, str]) -> NewEvent:
    payload = event.payload
    if event.type == EventType.RUN_STARTED:
        payload = dict(payload)
        payload["thread_id"] = thread_id
        origin = payload.get("origin")
        if isinstance(origin, dict) and origin.get("run_id") in renamed:
            payload["origin"] = {**origin, "run_id": renamed[origin["run_id"]]}
        config = payload.get("config")
        if isinstance(config, dict) and isinstance(config.get("configurable"), dict):
            payload["config"] = {
                **config,
                "configurable": {**config["configurable"], "thread_id": thread_id},
            }
    return NewEvent(
        type=event.type,
        payload=payload,
        ts=event.ts,
        step=event.step,
        ns=event.ns,
        node=event.node,
        task_id=event.task_id,
    )
