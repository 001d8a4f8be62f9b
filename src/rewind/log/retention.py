"""Retention: which runs a deletion may remove without breaking a run it keeps.

A run that starts from another (a fork, or the next run of a thread) needs that origin to rebuild
its state, so an origin stays as long as any retained run descends from it. Running runs are
never removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, select

from rewind.events import RunStatus
from rewind.log.schema import checkpoints, events, redactions, runs, snapshots, thread_heads

__all__ = ["DeletionPlan", "delete_runs", "load_runs", "load_thread_runs", "plan_deletion"]

_CHUNK = 500


@dataclass(frozen=True, kw_only=True, slots=True)
class _Run:
    key: int
    run_id: str
    thread_id: str
    origin: str | None
    status: str
    created_at: int


@dataclass(frozen=True, kw_only=True, slots=True)
class DeletionPlan:
    """The runs to delete, and how many candidates stay for the runs that depend on them."""

    run_keys: list[int]
    kept_for_dependants: int


_RUN_COLUMNS = (
    runs.c.run_key,
    runs.c.run_id,
    runs.c.thread_id,
    runs.c.origin_run_id,
    runs.c.status,
    runs.c.created_at,
)


def _runs(rows: Iterable[Sequence[Any]]) -> list[_Run]:
    return [
        _Run(key=r[0], run_id=r[1], thread_id=r[2], origin=r[3], status=r[4], created_at=r[5])
        for r in rows
    ]


def load_runs(conn: Connection) -> list[_Run]:
    """Every run's identity, origin, status and start time."""
    return _runs(conn.execute(select(*_RUN_COLUMNS)))


def load_thread_runs(conn: Connection, thread_id: str) -> list[_Run]:
    """A thread's runs and the runs of other threads that start from one of them: all that
    :func:`plan_deletion` needs to delete the thread, read through indexes (a deletion's cost
    does not grow with the database's other threads)."""
    own = _runs(conn.execute(select(*_RUN_COLUMNS).where(runs.c.thread_id == thread_id)))
    ids = [r.run_id for r in own]
    dependants: list[_Run] = []
    for i in range(0, len(ids), _CHUNK):
        query = select(*_RUN_COLUMNS).where(
            runs.c.origin_run_id.in_(ids[i : i + _CHUNK]), runs.c.thread_id != thread_id
        )
        dependants += _runs(conn.execute(query))
    return own + dependants


def candidates_older_than(all_runs: Iterable[_Run], cutoff_us: int) -> set[str]:
    """Runs that started before the cutoff."""
    return {r.run_id for r in all_runs if r.created_at < cutoff_us}


def candidates_beyond_newest(all_runs: Iterable[_Run], keep: int) -> set[str]:
    """Runs of each thread beyond its ``keep`` newest."""
    by_thread: dict[str, list[_Run]] = {}
    for r in all_runs:
        by_thread.setdefault(r.thread_id, []).append(r)
    out: set[str] = set()
    for thread_runs in by_thread.values():
        thread_runs.sort(key=lambda r: (r.created_at, r.key), reverse=True)
        out.update(r.run_id for r in thread_runs[keep:])
    return out


def plan_deletion(all_runs: list[_Run], candidates: set[str]) -> DeletionPlan:
    """Remove from ``candidates`` every running run and every origin of a retained run."""
    by_id = {r.run_id: r for r in all_runs}
    doomed = {c for c in candidates if by_id[c].status != RunStatus.RUNNING}
    needed: set[str] = set()
    for run in all_runs:
        if run.run_id in doomed:
            continue
        origin = run.origin
        while origin is not None and origin in by_id and origin not in needed:
            needed.add(origin)
            origin = by_id[origin].origin
    kept = doomed & needed
    return DeletionPlan(
        run_keys=[by_id[r].key for r in doomed - needed], kept_for_dependants=len(kept)
    )


def delete_runs(conn: Connection, run_keys: list[int]) -> int:
    """Delete runs with their events, checkpoint index rows, snapshots, redaction records and
    any thread head they hold (rebuilt from the runs that stay when next read); returns the
    events deleted. (A run key can be given again to a new run: nothing of the old may stay.)"""
    deleted = 0
    for i in range(0, len(run_keys), _CHUNK):
        chunk = run_keys[i : i + _CHUNK]
        # Events, not rows: a packed row holds several (rewind.log.packs).
        held = func.coalesce(func.sum(func.coalesce(events.c.packed, 1)), 0)
        deleted += int(conn.execute(select(held).where(events.c.run_key.in_(chunk))).scalar_one())
        conn.execute(delete(events).where(events.c.run_key.in_(chunk)))
        conn.execute(delete(snapshots).where(snapshots.c.run_key.in_(chunk)))
        conn.execute(delete(checkpoints).where(checkpoints.c.run_key.in_(chunk)))
        conn.execute(delete(redactions).where(redactions.c.run_key.in_(chunk)))
        conn.execute(delete(thread_heads).where(thread_heads.c.run_key.in_(chunk)))
        conn.execute(delete(runs).where(runs.c.run_key.in_(chunk)))
    return deleted
