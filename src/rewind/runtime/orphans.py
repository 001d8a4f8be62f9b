"""Runs left ``running`` by a process that died (killed, crashed, powered off).

Every run records the host and process that executes it. A run still ``running`` whose process
is gone (on this host) is an orphan: :func:`orphaned_runs` finds them, and the next run on the
thread closes them with ``run.ended`` (status ``error``, type ``ProcessDied``) before it
continues from the thread's newest durable checkpoint.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

from rewind.errors import ConcurrencyError, RunEndedError
from rewind.events import EventType, RunStatus, run_ended
from rewind.log import EventLog, RunRecord

__all__ = ["close_failed_run", "close_orphans", "end_run", "is_orphan", "orphaned_runs"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


async def orphaned_runs(log: EventLog, *, thread_id: str | None = None) -> list[RunRecord]:
    """Runs still ``running`` whose process, on this host, no longer exists."""
    out: list[RunRecord] = []
    for run in await log.list_runs(thread_id=thread_id, status=RunStatus.RUNNING):
        first = await log.read(run.run_id, types=[EventType.RUN_STARTED], limit=1)
        if first and is_orphan(run, first[0].payload):
            out.append(run)
    return out


def is_orphan(run: RunRecord, started: Any) -> bool:
    """Whether ``run`` (with its ``run.started`` payload) was left running by a dead process."""
    if run.status != RunStatus.RUNNING or not isinstance(started, dict):
        return False
    process = started.get("process")
    if not isinstance(process, dict) or process.get("host") != socket.gethostname():
        return False  # another machine's run: its liveness cannot be seen from here
    pid = process.get("pid")
    return isinstance(pid, int) and pid != os.getpid() and not _alive(pid)


async def close_orphans(
    log: EventLog, thread_id: str | None, orphans: list[RunRecord] | None = None
) -> list[str]:
    """End the thread's orphaned runs in the log (``None``: every thread's, as a server does
    when it starts: a run its dead predecessor left would never end for its followers);
    returns their ids."""
    closed: list[str] = []
    if orphans is None:
        orphans = await orphaned_runs(log, thread_id=thread_id)
    for run in orphans:
        event = run_ended(
            RunStatus.ERROR,
            error={
                "type": "ProcessDied",
                "message": "the process running it died before the run ended",
            },
        )
        if await end_run(log, run.run_id, run.last_seq, event):
            closed.append(run.run_id)
    return closed


async def end_run(log: EventLog, run_id: str, last_seq: int, event: Any) -> bool:
    """Append ``event`` (a ``run.ended``) to a run someone else left running, after its event
    ``last_seq``, durably; ``False`` when it was ended or appended to meanwhile."""
    try:
        await log.append(run_id, [event], expected_seq=last_seq + 1, durability="sync")
    except (ConcurrencyError, RunEndedError):
        return False
    return True


async def close_failed_run(log: EventLog, run_id: str, event: Any) -> bool:
    """End a run whose own appends failed (a commit the database refused: the log no longer
    takes the run's queued events), with ``event`` (its ``run.ended``) at the seq the database
    holds, so it is not left ``running``; whether it was ended. When the database is still
    away it stays running, and the next run on its thread closes it once this process is gone."""
    for pause in _CLOSE_RETRIES:
        try:
            record = await log.get_run(run_id)
            return record.status == RunStatus.RUNNING and await end_run(
                log, run_id, record.last_seq, event
            )
        except Exception:  # the database is away (the run's error is what the caller raises)
            if pause is None:
                return False
        await asyncio.sleep(pause)  # a connection cut under it: the next one may get through
    return False


_CLOSE_RETRIES = (0.05, 0.25, None)
"""Pauses between tries to close a failed run (``None``: the last try): a commit refused
because its connection was cut is often followed by one that gets through."""
