"""Fencing: a worker's appends to a run are accepted only while it holds the run's lease.

A worker that claims a queued run (:mod:`rewind.server.queue`) tells its log which log run is
the attempt it holds (:meth:`~rewind.log.EventLog.hold_lease`). Every commit that carries
appends to such a run reads the queue's row in the commit's own transaction (on PostgreSQL
with ``FOR SHARE``, so a takeover waits for the commit, and the commit for the takeover): if
another worker took the run over, or the run's lease moved on to another attempt, the appends
are refused with :class:`~rewind.errors.FencedError` and nothing of them is stored. A worker
that paused longer than its lease cannot interleave its late events with its successor's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from rewind.errors import FencedError
from rewind.log.schema import run_queue

__all__ = ["Lease", "refused_appends"]


@dataclass(frozen=True, slots=True)
class Lease:
    """What a worker holds: attempt ``attempt`` of queued run ``queued_run_id``, as
    ``owner``."""

    queued_run_id: str
    owner: str
    attempt: int


async def refused_appends(
    conn: AsyncConnection, leases: Mapping[str, Lease], run_ids: Iterable[str]
) -> dict[str, FencedError]:
    """The log runs among ``run_ids`` whose lease this process no longer holds (read in the
    commit's transaction ``conn``), with the error their appends get."""
    held = {run_id: leases[run_id] for run_id in set(run_ids) if run_id in leases}
    if not held:
        return {}
    query = (
        select(run_queue.c.run_id, run_queue.c.owner, run_queue.c.attempt, run_queue.c.log_run_id)
        .where(run_queue.c.run_id.in_({lease.queued_run_id for lease in held.values()}))
        .with_for_update(read=True)
    )
    rows = {row.run_id: row for row in await conn.execute(query)}
    refused: dict[str, FencedError] = {}
    for run_id, lease in held.items():
        row = rows.get(lease.queued_run_id)
        if (
            row is None
            or row.owner != lease.owner
            or row.attempt != lease.attempt
            or row.log_run_id != run_id
        ):
            refused[run_id] = FencedError(run_id, lease.queued_run_id)
    return refused
