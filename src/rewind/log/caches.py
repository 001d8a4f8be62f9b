"""The log's caches of folded state: each thread's head, and snapshots at earlier checkpoints.

Both are written by the group commit with the checkpoint they describe (see
:mod:`rewind.log.commit`), or by a reader that folded the log (a database written before
heads existed, or after :meth:`LogCaches.drop_caches`). Neither is the truth: each can be
dropped and rebuilt from the events, and ``rewind db verify`` checks them against the fold.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from rewind.events import RunStatus, StoredEvent
from rewind.log import codec
from rewind.log.chain import from_micros, to_micros
from rewind.log.commit import CHECKPOINT_COLUMNS, HEAD_COLUMNS, SNAPSHOT_COLUMNS, CommitPlan
from rewind.log.point import PointRows, SqlaRows
from rewind.log.reads import ReadStats, run_record, run_row
from rewind.log.records import CheckpointRecord, RunRecord, Snapshot, ThreadHead
from rewind.log.rows import EVENT_COLUMNS, POSITION, run_events
from rewind.log.schema import checkpoints, events, runs, snapshots, thread_heads
from rewind.log.writer import GroupWriter

__all__ = ["HeadRead", "LogCaches"]

T = TypeVar("T")


class LogCaches:
    """Heads and snapshots, on :class:`~rewind.log.EventLog` (a mixin)."""

    _writer: GroupWriter
    stats: ReadStats
    read_only: str | None

    def _txn(self, *, write: bool = False) -> AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError

    async def _read(self, fn: Callable[[Connection], T], *, drain: bool = True) -> T:
        raise NotImplementedError

    # --- heads --------------------------------------------------------------------------------

    async def get_head(self, thread_id: str) -> ThreadHead | None:
        """The thread's head as stored (``None``: not built yet, or the thread has no
        checkpoint). It may be older than the thread's newest checkpoint when the head was
        written by a reader; the events after its checkpoint say what followed."""
        return await self._point_read(lambda reader: _head(reader, thread_id)[0])

    async def head_and_tail(self, thread_id: str) -> HeadRead:
        """In one read: the thread's stored head, the runs with events after its checkpoint
        (and those still running), and those events (all of them when there is no head)."""

        def query(reader: PointRows) -> HeadRead:
            head, since = _head(reader, thread_id)
            after = head.checkpoint.position if head is not None else -1
            # The head's run and those that started after it (and any still running).
            params = {"thread_id": thread_id, "since": since}
            picked = {r.run_key: r for r in reader.rows(_LATER_RUNS, params)}
            picked.update((r.run_key, r) for r in reader.rows(_RUNNING_RUNS, params))
            rows = sorted(picked.values(), key=lambda r: r.first_position)
            # Each run's events after the head's checkpoint, through the (run, seq) index: the
            # head's run from its seq on, the runs after it whole.
            tail: list[StoredEvent] = []
            for r in rows:
                if r.last_position <= after:
                    continue
                if head is not None and r.run_id == head.checkpoint.run_id:
                    seq = head.checkpoint.seq
                    found = reader.rows(_HEAD_RUN_TAIL, {"run_key": r.run_key, "seq": seq})
                    tail += run_events(found, r.run_id, r.thread_id, after=seq)
                else:
                    found = reader.rows(_RUN_TAIL, {"run_key": r.run_key, "after": after})
                    tail += run_events(found, r.run_id, r.thread_id, key=POSITION, after=after)
            tail.sort(key=_position)  # log order
            return HeadRead(head=head, runs=[run_record(r) for r in rows], tail=tail)

        read = await self._point_read(query)
        tail = read.tail
        self.stats.events_read += len(tail)
        return read

    async def _point_read(self, fn: Callable[[PointRows], T]) -> T:
        """Run ``fn`` in one read transaction, after this store's own queued appends are
        committed: through SQLAlchemy here; a backend may serve it faster (see
        :mod:`rewind.log.point`)."""
        return await self._read(lambda conn: fn(SqlaRows(conn)))

    async def put_head(self, checkpoint: CheckpointRecord, state: Any) -> bool:
        """Keep ``state`` as the head of the checkpoint's thread, unless the stored head is at
        that checkpoint or a newer one; returns whether it was written.

        Raises:
            EncodingError: ``state`` cannot be encoded (nothing is written).
        """
        if self.read_only is not None:  # a cache: a read-only log keeps none
            return False
        text = codec.encode(state)
        await self._writer.drain()
        key = thread_heads.c.thread_id == checkpoint.thread_id
        async with self._txn(write=True) as conn:
            run = await conn.run_sync(run_row, checkpoint.run_id)
            stored = (
                await conn.execute(select(thread_heads.c.position).where(key))
            ).scalar_one_or_none()
            if stored is not None and stored >= checkpoint.position:
                return False
            values = {
                "checkpoint_id": checkpoint.checkpoint_id,
                "run_key": run.run_key,
                "seq": checkpoint.seq,
                "position": checkpoint.position,
                "codec": codec.CODEC_VERSION,
                "state": text,
            }
            if stored is None:
                await conn.execute(
                    insert(thread_heads).values(
                        thread_id=checkpoint.thread_id, logged=0, unsnapshotted=0, **values
                    )
                )
            else:
                await conn.execute(update(thread_heads).where(key).values(**values))
        return True

    async def list_heads(self) -> list[ThreadHead]:
        """Every stored head (for checks; a large database has many)."""
        query = select(
            thread_heads.c.thread_id,
            thread_heads.c.checkpoint_id,
            runs.c.run_id,
            thread_heads.c.seq,
            thread_heads.c.position,
            thread_heads.c.codec,
            thread_heads.c.state,
        ).join(runs, runs.c.run_key == thread_heads.c.run_key)
        ordered = query.order_by(thread_heads.c.thread_id)
        rows = await self._read(lambda conn: conn.execute(ordered).all())
        return [
            ThreadHead(
                thread_id=r[0],
                checkpoint=CheckpointRecord(
                    checkpoint_id=r[1], thread_id=r[0], run_id=r[2], seq=r[3], position=r[4]
                ),
                state=None if r[6] is None else codec.decode(r[6], r[5]),
            )
            for r in rows
        ]

    async def drop_caches(self, *, thread_id: str | None = None) -> int:
        """Drop the heads and snapshots (of one thread, or all); returns how many went.

        Nothing a reader sees changes: heads are rebuilt from the log when next needed.
        """
        await self._writer.drain()
        async with self._txn(write=True) as conn:
            heads = delete(thread_heads)
            kept = delete(snapshots)
            if thread_id is not None:
                heads = heads.where(thread_heads.c.thread_id == thread_id)
                keys = select(runs.c.run_key).where(runs.c.thread_id == thread_id)
                kept = kept.where(snapshots.c.run_key.in_(keys.scalar_subquery()))
            gone = int((await conn.execute(heads)).rowcount)
            gone += int((await conn.execute(kept)).rowcount)
        return gone

    # --- snapshots ----------------------------------------------------------------------------

    async def put_snapshot(self, run_id: str, seq: int, state: Any) -> None:
        """Store the state of a run as of its event ``seq`` (a cache; replaces an older one;
        none in a read-only log)."""
        if self.read_only is not None:
            return
        text = codec.encode(state)
        await self._writer.drain()
        async with self._txn(write=True) as conn:
            run = await conn.run_sync(run_row, run_id)
            if not 0 <= seq <= run.last_seq:
                raise ValueError(f"run {run_id} has no event {seq} (last seq {run.last_seq})")
            key = {"run_key": run.run_key, "seq": seq}
            await conn.execute(delete(snapshots).filter_by(**key))
            await conn.execute(
                insert(snapshots).values(
                    **key,
                    codec=codec.CODEC_VERSION,
                    state=text,
                    created_at=to_micros(datetime.now().astimezone()),
                )
            )

    async def get_snapshot(
        self, run_id: str, *, at_or_before_seq: int | None = None
    ) -> Snapshot | None:
        """The newest snapshot of a run at or before its event ``at_or_before_seq``."""

        def query(conn: Connection) -> Any:
            bound = {
                "run_id": run_id,
                # (no bound: the largest a 32-bit seq column holds, on every backend)
                "seq": 2**31 - 1 if at_or_before_seq is None else at_or_before_seq,
            }
            row = conn.execute(_SNAPSHOT, bound).first()
            if row is None:
                run_row(conn, run_id)  # no run by that id: say so
            return row

        row = await self._read(query)
        if row is None:
            return None
        return Snapshot(
            run_id=run_id,
            seq=row.seq,
            state=codec.decode(row.state, row.codec),
            created_at=from_micros(row.created_at),
        )

    async def list_snapshots(self, *, run_id: str | None = None) -> list[Snapshot]:
        """The snapshots of one run, or all of them, oldest first (for checks)."""
        query = select(runs.c.run_id, snapshots).join(runs, runs.c.run_key == snapshots.c.run_key)
        if run_id is not None:
            query = query.where(runs.c.run_id == run_id)
        ordered = query.order_by(snapshots.c.run_key, snapshots.c.seq)
        rows = await self._read(lambda conn: conn.execute(ordered).all())
        return [
            Snapshot(
                run_id=r.run_id,
                seq=r.seq,
                state=codec.decode(r.state, r.codec),
                created_at=from_micros(r.created_at),
            )
            for r in rows
        ]

    async def delete_snapshots(self, *, run_id: str | None = None) -> int:
        """Drop the snapshots of one run, or all of them; returns how many went."""
        async with self._txn(write=True) as conn:
            query = delete(snapshots)
            if run_id is not None:
                run = await conn.run_sync(run_row, run_id)
                query = query.where(snapshots.c.run_key == run.run_key)
            return int((await conn.execute(query)).rowcount)


@dataclass(frozen=True, kw_only=True, slots=True)
class HeadRead:
    """A thread's stored head and what follows it, read together."""

    head: ThreadHead | None
    """The stored head, if any."""
    runs: list[RunRecord]
    """The thread's runs with an event at or after the head's checkpoint (all of them when
    there is no head), and those still running, oldest first."""
    tail: list[StoredEvent]
    """The thread's events after the head's checkpoint (all of them when there is none)."""


# The head's reads are built once: a statement made per call costs more than SQLite's work.
_HEAD = (
    select(
        thread_heads.c.checkpoint_id,
        runs.c.run_id,
        thread_heads.c.seq,
        thread_heads.c.position,
        thread_heads.c.codec,
        thread_heads.c.state,
        runs.c.first_position,
    )
    .join(runs, runs.c.run_key == thread_heads.c.run_key)
    .where(thread_heads.c.thread_id == bindparam("thread_id"))
)
_LATER_RUNS = select(runs).where(
    runs.c.thread_id == bindparam("thread_id"), runs.c.first_position >= bindparam("since")
)
# A literal status (not a parameter), so the partial index of running runs serves it.
_RUNNING_RUNS = select(runs).where(
    runs.c.thread_id == bindparam("thread_id"), text(f"runs.status = '{RunStatus.RUNNING}'")
)
_position = operator.attrgetter("position")
_SNAPSHOT = (
    select(snapshots)
    .join(runs, runs.c.run_key == snapshots.c.run_key)
    .where(runs.c.run_id == bindparam("run_id"), snapshots.c.seq <= bindparam("seq"))
    .order_by(snapshots.c.seq.desc())
    .limit(1)
)
_HEAD_RUN_TAIL = (
    select(*EVENT_COLUMNS)
    .where(events.c.run_key == bindparam("run_key"), events.c.seq > bindparam("seq"))
    .order_by(events.c.seq)
)
_RUN_TAIL = (
    select(*EVENT_COLUMNS)
    .where(events.c.run_key == bindparam("run_key"), events.c.position > bindparam("after"))
    .order_by(events.c.position)
)


def _head(reader: PointRows, thread_id: str) -> tuple[ThreadHead | None, int]:
    """The stored head, and where its run begins in the log (0 without a head)."""
    found = reader.rows(_HEAD, {"thread_id": thread_id})
    if not found:
        return None, 0
    row = found[0]
    checkpoint = CheckpointRecord(
        checkpoint_id=row[0], thread_id=thread_id, run_id=row[1], seq=row[2], position=row[3]
    )
    state = None if row[5] is None else codec.decode(row[5], row[4])
    return ThreadHead(thread_id=thread_id, checkpoint=checkpoint, state=state), row[6]


async def read_stored_heads(
    conn: AsyncConnection, thread_ids: list[str]
) -> dict[str, tuple[int, int]]:
    """For the threads that have a stored head: its ``logged`` and ``unsnapshotted`` bytes."""
    if not thread_ids:
        return {}
    query = select(
        thread_heads.c.thread_id, thread_heads.c.logged, thread_heads.c.unsnapshotted
    ).where(thread_heads.c.thread_id.in_(thread_ids))
    return {t: (int(a), int(b)) for t, a, b in await conn.execute(query)}


async def write_indexes(conn: AsyncConnection, plan: CommitPlan) -> None:
    """Write a commit plan's checkpoint index rows, heads and snapshots (SQLAlchemy Core)."""
    if plan.checkpoint_rows:
        await conn.execute(
            insert(checkpoints), [_named(CHECKPOINT_COLUMNS, r) for r in plan.checkpoint_rows]
        )
    for head in plan.head_rows:
        row = _named(HEAD_COLUMNS, head.values)
        if head.exists:
            thread_id = row.pop("thread_id")
            await conn.execute(
                update(thread_heads).where(thread_heads.c.thread_id == thread_id).values(**row)
            )
        else:
            await conn.execute(insert(thread_heads).values(**row))
    if plan.snapshot_rows:
        await conn.execute(
            insert(snapshots), [_named(SNAPSHOT_COLUMNS, r) for r in plan.snapshot_rows]
        )


def _named(columns: tuple[str, ...], row: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(columns, row, strict=True))
