"""Planning one group commit: the pure part, shared by every way of writing it.

Given the appends of a group, the log head and the runs they touch as the database has them
(read under the write lock), :func:`plan_commit` decides which appends are accepted, gives their
events positions and chained hashes, and says which run rows to create or change. The caller
does the I/O, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rewind.errors import ConcurrencyError, RunEndedError, UnknownRunError
from rewind.events import RunStatus
from rewind.store.chain import GENESIS, event_hash
from rewind.store.writer import PendingAppend, RunStart

__all__ = ["CommitPlan", "TxRun", "plan_commit"]

FINAL_STATUSES = frozenset(s.value for s in RunStatus if s is not RunStatus.RUNNING)

RUN_COLUMNS = (
    "run_key",
    "run_id",
    "thread_id",
    "graph_name",
    "status",
    "created_at",
    "updated_at",
    "origin_run_id",
    "origin_checkpoint_id",
    "last_seq",
    "last_hash",
    "first_position",
    "last_position",
)
"""Column order of :attr:`CommitPlan.created_runs` rows."""

EVENT_COLUMNS = (
    "position",
    "run_key",
    "seq",
    "type",
    "ts",
    "step",
    "ns",
    "node",
    "task_id",
    "codec",
    "payload",
    "hash",
)
"""Column order of :attr:`CommitPlan.event_rows`."""

CHANGED_COLUMNS = ("last_seq", "last_hash", "updated_at", "last_position", "status", "run_key")
"""Column order of :attr:`CommitPlan.changed_runs` rows (the key last)."""


@dataclass(kw_only=True, slots=True)
class TxRun:
    """A run as the transaction sees it, updated as the plan accepts appends."""

    run_key: int
    thread_id: str
    next_seq: int
    last_hash: bytes
    status: str
    new: bool = False
    touched: bool = False
    start: RunStart | None = None
    created_us: int = 0
    updated_us: int = 0
    first_position: int = 0
    last_position: int = 0

    @classmethod
    def existing(
        cls, run_key: int, thread_id: str, last_seq: int, last_hash: bytes, status: str
    ) -> TxRun:
        """A run already in the database."""
        return cls(
            run_key=run_key,
            thread_id=thread_id,
            next_seq=last_seq + 1,
            last_hash=bytes(last_hash),
            status=status,
        )


@dataclass(kw_only=True, slots=True)
class CommitPlan:
    """What one transaction writes, and what each append gets."""

    outcomes: list[BaseException | None]
    """Per append of the group: ``None`` if accepted, else why not."""
    event_rows: list[tuple[Any, ...]] = field(default_factory=list)
    """Event rows in :data:`EVENT_COLUMNS` order."""
    created_runs: list[tuple[Any, ...]] = field(default_factory=list)
    """New run rows in :data:`RUN_COLUMNS` order."""
    changed_runs: list[tuple[Any, ...]] = field(default_factory=list)
    """Updates of existing runs in :data:`CHANGED_COLUMNS` order."""
    fresh: list[tuple[str, str, tuple[Any, ...]]] = field(default_factory=list)
    """(run_id, thread_id, event row) of accepted events, for live subscribers."""
    new_head: int = 0
    """The log head after the commit."""


def needs_new_keys(group: Iterable[PendingAppend], tx: dict[str, TxRun]) -> bool:
    """Whether the group creates runs (the caller then reads the largest run key)."""
    return any(p.start is not None and p.run_id not in tx for p in group)


def plan_commit(
    group: list[PendingAppend], head: int, tx: dict[str, TxRun], max_key: int, *, fresh: bool
) -> CommitPlan:
    """Plan the commit of ``group`` after log position ``head``.

    Args:
        group: The appends, in submission order.
        head: The newest position given out so far.
        tx: The runs the group touches that the database has (by run id).
        max_key: The largest run key in use.
        fresh: Whether to list accepted events for live subscribers.
    """
    plan = CommitPlan(outcomes=[None] * len(group))
    rows = plan.event_rows
    pos = head
    for i, p in enumerate(group):
        st = tx.get(p.run_id)
        if st is None and p.start is not None:
            max_key += 1
            st = tx[p.run_id] = TxRun(
                run_key=max_key,
                thread_id=p.thread_id,
                next_seq=0,
                last_hash=GENESIS,
                status=RunStatus.RUNNING.value,
                new=True,
                start=p.start,
                created_us=p.rows[0][1],
                first_position=pos + 1,
            )
        error = _check(p, st)
        if error is not None:
            plan.outcomes[i] = error
            continue
        assert st is not None
        prev, first, run_id, key = st.last_hash, pos + 1, p.run_id, st.run_key
        for k, (type_, ts_us, step, ns, node, task_id, version, payload) in enumerate(p.rows):
            seq = p.first_seq + k
            pos += 1
            prev = event_hash(
                prev, run_id, seq, type_, ts_us, step, ns, node, task_id, version, payload
            )
            row = (pos, key, seq, type_, ts_us, step, ns, node, task_id, version, payload, prev)
            rows.append(row)
            if fresh:
                plan.fresh.append((run_id, st.thread_id, row))
        p.positions = range(first, pos + 1)
        st.next_seq += len(p.rows)
        st.last_hash, st.last_position, st.touched = prev, pos, True
        st.updated_us = p.rows[-1][1]
        if p.end_status is not None:
            st.status = p.end_status
    plan.new_head = pos
    for run_id, st in tx.items():
        if not st.touched:
            continue
        if st.new and st.start is not None:
            plan.created_runs.append(
                (
                    st.run_key,
                    run_id,
                    st.thread_id,
                    st.start.graph_name,
                    st.status,
                    st.created_us,
                    st.updated_us,
                    st.start.origin_run_id,
                    st.start.origin_checkpoint_id,
                    st.next_seq - 1,
                    st.last_hash,
                    st.first_position,
                    st.last_position,
                )
            )
        else:
            plan.changed_runs.append(
                (
                    st.next_seq - 1,
                    st.last_hash,
                    st.updated_us,
                    st.last_position,
                    st.status,
                    st.run_key,
                )
            )
    return plan


def _check(p: PendingAppend, st: TxRun | None) -> BaseException | None:
    if st is None:
        return UnknownRunError(p.run_id)
    if (p.start is not None and not st.new) or st.next_seq != p.first_seq:
        return ConcurrencyError(p.run_id, p.first_seq, st.next_seq)
    if st.status in FINAL_STATUSES:
        return RunEndedError(p.run_id)
    return None
