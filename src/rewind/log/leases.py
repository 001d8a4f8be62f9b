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

__all__ = ["Lease", "held_leases", "refusals", "refused_appends"]


@dataclass(frozen=True, slots=True)
class Lease:
    """What a worker holds: attempt ``attempt`` of queued run ``queued_run_id``, as
    ``owner``."""

    queued_run_id: str
    owner: str
    attempt: int


def held_leases(leases: Mapping[str, Lease], run_ids: Iterable[str]) -> dict[str, Lease]:
    """The leases held on the log runs among ``run_ids`` (taken on the event loop, where
    :meth:`~rewind.log.EventLog.hold_lease` changes them, before a commit leaves it)."""
    return {run_id: leases[run_id] for run_id in set(run_ids) if run_id in leases}


def refusals(
    held: Mapping[str, Lease], rows: Iterable[tuple[str, str | None, int, str | None]]
) -> dict[str, FencedError]:
    """The log runs of ``held`` whose lease is gone, given the queue's rows of their queued
    runs (``run_id, owner, attempt, log_run_id``, read in the commit's transaction)."""
    found = {row[0]: row for row in rows}
    refused: dict[str, FencedError] = {}
    for run_id, lease in held.items():
        row = found.get(lease.queued_run_id)
        if row is None or tuple(row[1:]) != (lease.owner, lease.attempt, run_id):
            refused[run_id] = FencedError(run_id, lease.queued_run_id)
    return refused


async def refused_appends(
    conn: AsyncConnection, leases: Mapping[str, Lease], run_ids: Iterable[str]
) -> dict[str, FencedError]:
    """The log runs among ``run_ids`` whose lease this process no longer holds (read in the
    commit's transaction ``conn``), with the error their appends get."""
    held = held_leases(leases, run_ids)
    if not held:
        return {}
    query = (
        select(run_queue.c.run_id, run_queue.c.owner, run_queue.c.attempt, run_queue.c.log_run_id)
        .where(run_queue.c.run_id.in_({lease.queued_run_id for lease in held.values()}))
        .with_for_update(read=True)
    )
    return refusals(held, [tuple(row) for row in await conn.execute(query)])
