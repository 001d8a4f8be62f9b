"""What the writer's own connection knows of the database after its last group commit.

A group commit reads the log head, the rows of the runs it appends to and the stored heads of
the threads it brings a new head for (see :mod:`rewind.log.commit`). Right after a commit, the
writer knows each of those as the commit left them: unless another connection wrote since.
SQLite's ``PRAGMA data_version`` says exactly that: it changes, for a connection, when any
other connection (of this process or another) commits. So the next commit, once it holds the
write lock, asks for it (one cheap statement) and, when it is unchanged, takes what it needs
from here instead of reading it: a ``sync`` run's commits, one a step, then read nothing but
runs and threads they have not seen. What is not here is read as before; anything else
(another writer, an erasure, a failed commit) forgets it all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rewind.log.commit import FINAL_STATUSES, CommitPlan, TxRun

__all__ = ["Known", "known_after"]

_MAX_ENTRIES = 4096
"""Runs (and threads) kept at most; past that the next commit starts over with what it read."""

RunRow = tuple[int, str, int, bytes, str, "int | None"]
"""A run's row as a commit reads it: key, thread, last seq, last hash, status, chain start."""


@dataclass(slots=True)
class Known:
    """The database as the writer's last commit left it, at ``data_version`` ``version``."""

    version: int
    head: int
    """The log head (the newest position given out)."""
    max_key: int | None
    """The largest run key, when a commit read or made it."""
    runs: dict[str, RunRow] = field(default_factory=dict)
    """Running runs, by id."""
    heads: dict[str, tuple[int, int] | None] = field(default_factory=dict)
    """Per thread: its stored head's ``logged`` and ``unsnapshotted`` bytes (``None``: none)."""

    def tx_runs(self, ids: Iterable[str]) -> tuple[dict[str, TxRun], list[str]]:
        """The runs of ``ids`` known here, and the ids to read."""
        tx: dict[str, TxRun] = {}
        unknown: list[str] = []
        for run_id in ids:
            row = self.runs.get(run_id)
            if row is None:
                unknown.append(run_id)
            else:
                tx[run_id] = TxRun.existing(*row)
        return tx, unknown

    def stored_heads(self, threads: Iterable[str]) -> tuple[dict[str, tuple[int, int]], list[str]]:
        """The stored heads of ``threads`` known here (threads known to have none are left
        out), and the threads to read."""
        stored: dict[str, tuple[int, int]] = {}
        unknown: list[str] = []
        for thread_id in threads:
            if thread_id not in self.heads:
                unknown.append(thread_id)
            elif (counts := self.heads[thread_id]) is not None:
                stored[thread_id] = counts
        return stored, unknown


def known_after(
    before: Known | None,
    version: int,
    plan: CommitPlan,
    tx: Mapping[str, TxRun],
    max_key: int | None,
    threads: Iterable[str],
    stored: Mapping[str, tuple[int, int]],
) -> Known:
    """What the writer knows once ``plan`` committed: ``before`` (what it knew, if still
    valid) with the runs of ``tx`` as the plan left them, the heads it wrote, and the threads
    of ``threads`` it found without one."""
    known = before if before is not None else Known(version=version, head=0, max_key=None)
    if len(known.runs) > _MAX_ENTRIES or len(known.heads) > _MAX_ENTRIES:
        known.runs.clear()
        known.heads.clear()
    known.version, known.head = version, plan.new_head
    for run_id, st in tx.items():
        if st.new and max_key is not None:  # (a run made and ended in one commit too)
            max_key = max(max_key, st.run_key)
        if st.status in FINAL_STATUSES or (st.new and not st.touched):  # (made: not stored)
            known.runs.pop(run_id, None)
            continue
        known.runs[run_id] = (
            st.run_key,
            st.thread_id,
            st.next_seq - 1,
            st.last_hash,
            st.status,
            st.chain_from,
        )
    known.max_key = max_key
    for thread_id in threads:
        known.heads[thread_id] = stored.get(thread_id)
    for row in plan.head_rows:
        values = row.values  # (see rewind.log.commit.HEAD_COLUMNS: logged, unsnapshotted)
        known.heads[values[-1]] = (values[4], values[5])
    return known
