"""Reading the log: events by run, thread or position; runs, threads and checkpoints.

Every read first waits for this store's own queued appends to commit (so a caller reads what it
wrote), then runs as one function of a (sync) connection in one transaction: on the backend's
reader thread, with a connection it keeps, or through the async engine (``run_sync``). Events
are decoded as they are read; ``stats`` counts them, so tests can check how much of the log an
operation reads.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Row, Select, bindparam, case, func, select, text

from rewind.errors import UnknownRunError
from rewind.events import EventType, RunStatus, StoredEvent
from rewind.log.chain import check_chain, from_micros, to_micros
from rewind.log.records import ChainReport, CheckpointRecord, RunRecord, ThreadRecord
from rewind.log.rows import (
    EVENT_COLUMNS,
    POSITION,
    event_of,
    fetch_rows,
    held,
    iter_events,
    row_events,
    run_events,
    take_events,
)
from rewind.log.schema import checkpoints, events, log_head, redactions, runs
from rewind.log.writer import GroupWriter

__all__ = [
    "LineageStep",
    "LogReads",
    "ReadStats",
    "chain_rows",
    "read_joined",
    "run_record",
    "through_position",
    "through_seq",
]

T = TypeVar("T")

_PAGE = 1000
_CHECKPOINT = EventType.CHECKPOINT.value
_HEAD = select(log_head.c.position)

# From a run back along its origins (the checkpoint each run started from) to the nearest run
# with a snapshot at or before the checkpoint the walk needs there, or to a run with no origin.
# Standard SQL (SQLite and PostgreSQL both speak it): one query, however deep the lineage. (The
# bound is cast: PostgreSQL types a recursive query's columns by its first term, and a driver
# may send a small number as a smallint.)
_LINEAGE = text(
    """
    WITH RECURSIVE chain(depth, run_key, run_id, thread_id, origin, bound) AS (
        SELECT 0, run_key, run_id, thread_id, origin_checkpoint_id, CAST(:seq AS INTEGER)
        FROM runs WHERE run_id = :run_id
        UNION ALL
        SELECT chain.depth + 1, r.run_key, r.run_id, r.thread_id, r.origin_checkpoint_id, c.seq
        FROM chain
        JOIN checkpoints c ON c.thread_id = chain.thread_id AND c.checkpoint_id = chain.origin
        JOIN runs r ON r.run_key = c.run_key
        WHERE chain.depth < :max_depth AND NOT (:snapshots = 1 AND EXISTS (
            SELECT 1 FROM snapshots s WHERE s.run_key = chain.run_key AND s.seq <= chain.bound
        ))
    )
    SELECT chain.depth, chain.run_id, chain.origin, chain.bound,
        CASE WHEN :snapshots = 1 THEN (
            SELECT MAX(s.seq) FROM snapshots s
            WHERE s.run_key = chain.run_key AND s.seq <= chain.bound
        ) END
    FROM chain ORDER BY chain.depth
    """
)


@dataclass(frozen=True, kw_only=True, slots=True)
class LineageStep:
    """One run on the way from a checkpoint back to where its state can be folded from."""

    run_id: str
    """The run."""
    seq: int
    """The seq of the checkpoint needed in it (the start of the run after it in the walk)."""
    origin_checkpoint_id: str | None
    """The checkpoint it started from."""
    snapshot_seq: int | None
    """Its newest snapshot at or before ``seq``, if any (the walk ends there)."""


@dataclass(kw_only=True, slots=True)
class ReadStats:
    """How much this store has read: deterministic figures for tests and benches."""

    events_read: int = 0
    """Events read and decoded."""
    queries: int = 0
    """Read transactions opened."""


class LogReads:
    """The read side of :class:`~rewind.log.EventLog` (a mixin: the store provides the
    connection and the writer)."""

    _writer: GroupWriter
    stats: ReadStats

    async def _read(self, fn: Callable[[Connection], T], *, drain: bool = True) -> T:
        """Run ``fn`` on a connection, in one read transaction (the store provides it)."""
        raise NotImplementedError

    # --- events -------------------------------------------------------------------------------

    async def read(
        self,
        run_id: str,
        *,
        after_seq: int | None = None,
        until_seq: int | None = None,
        types: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """The events of one run in seq order: those after ``after_seq`` up to ``until_seq``.

        Raises:
            UnknownRunError: the store has no such run.
        """

        def query(conn: Connection) -> list[StoredEvent]:
            run = run_row(conn, run_id)
            chosen = _run_events(run.run_key, after_seq, until_seq, types)
            rows: Sequence[Sequence[Any]]
            if limit is None:
                rows = conn.execute(chosen).all()  # in one call, not a fetch per row
            else:
                result = conn.execute(chosen.limit(limit))
                rows = fetch_rows(result.fetchmany, limit, after=after_seq, until=until_seq)
                result.close()
            found = run_events(rows, run_id, run.thread_id, after=after_seq, until=until_seq)
            return found if limit is None else found[:limit]

        found = await self._read(query)
        self.stats.events_read += len(found)
        return found

    async def iter_run(
        self,
        run_id: str,
        *,
        after_seq: int | None = None,
        until_seq: int | None = None,
        types: Iterable[str] | None = None,
        page: int = _PAGE,
    ) -> AsyncIterator[StoredEvent]:
        """The events of one run in seq order, read ``page`` at a time (memory stays bounded
        however long the run).

        Raises:
            UnknownRunError: the store has no such run.
        """
        pages = self._iter_pages(
            run_id, after_seq=after_seq, until_seq=until_seq, types=types, page=page
        )
        async for found in pages:
            for event in found:
                yield event

    async def _iter_pages(
        self,
        run_id: str,
        *,
        after_seq: int | None = None,
        until_seq: int | None = None,
        types: Iterable[str] | None = None,
        page: int = _PAGE,
    ) -> AsyncIterator[Iterator[StoredEvent]]:
        """The events of one run in seq order, a page (at least ``page`` events, but for the
        last) at a time, each page decoded event by event as it is iterated: a consumer that
        lets each event go holds a page of rows, not a page of decoded payloads (which the
        cyclic garbage collector would keep traversing, at a cost that grows with everything
        the process has loaded).

        Raises:
            UnknownRunError: the store has no such run.
        """
        wanted = None if types is None else [str(t) for t in types]
        after = -1 if after_seq is None else after_seq

        def query(after: int) -> Callable[[Connection], tuple[str, Sequence[Sequence[Any]]]]:
            def rows(conn: Connection) -> tuple[str, Sequence[Sequence[Any]]]:
                run = run_row(conn, run_id)
                return run.thread_id, self._event_rows(
                    conn, run.run_key, after, until_seq, wanted, page
                )

            return rows

        # The next page is read (on the store's reader, where it has one) while the consumer
        # decodes and handles this one.
        pending = asyncio.ensure_future(self._read(query(after)))
        try:
            while True:
                thread_id, rows = await pending
                count = held(rows, after=after, until=until_seq)
                self.stats.events_read += count
                last = rows[-1][1] if rows else after  # the seq of the page's last row
                more = count >= page and (until_seq is None or last < until_seq)
                if more:
                    pending = asyncio.ensure_future(self._read(query(last)))
                yield iter_events(rows, run_id, thread_id, after=after, until=until_seq)
                if not more:
                    return
                after = last
        finally:
            if not pending.done():
                pending.cancel()

    def _event_rows(
        self,
        conn: Connection,
        run_key: int,
        after_seq: int | None,
        until_seq: int | None,
        types: list[str] | None,
        limit: int,
    ) -> Sequence[Sequence[Any]]:
        """A page of a run's event rows (:data:`~rewind.log.rows.EVENT_COLUMNS`), in seq
        order, holding ``limit`` events (fewer: the run has no more): the hot read of a
        replay, which a backend may make through its driver."""
        result = conn.execute(_run_events(run_key, after_seq, until_seq, types).limit(limit))
        rows = fetch_rows(result.fetchmany, limit, after=after_seq, until=until_seq)
        result.close()
        return rows

    async def read_runs(
        self, run_ids: Iterable[str], *, types: Iterable[str] | None = None
    ) -> dict[str, list[StoredEvent]]:
        """The events of several runs, each run's in seq order, in one query per 500 runs.

        Runs the store does not have are absent from the result (a bulk reader, such as a
        span export, decides what a missing run means).
        """
        wanted = list(dict.fromkeys(run_ids))
        chosen = None if types is None else [str(t) for t in types]

        def query(conn: Connection) -> dict[str, list[StoredEvent]]:
            found: dict[str, list[StoredEvent]] = {}
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                result = conn.execute(
                    select(runs.c.run_key, runs.c.run_id, runs.c.thread_id).where(
                        runs.c.run_id.in_(chunk)
                    )
                )
                keys = {r.run_key: (r.run_id, r.thread_id) for r in result}
                if not keys:
                    continue
                picked = select(*EVENT_COLUMNS, events.c.run_key).where(
                    events.c.run_key.in_(list(keys))
                )
                if chosen is not None:
                    picked = picked.where(events.c.type.in_(chosen))
                for row in conn.execute(picked.order_by(events.c.run_key, events.c.seq)):
                    run_id, thread_id = keys[row[12]]
                    if row[11] is None:
                        event = event_of(run_id, thread_id, *row[:11])
                        found.setdefault(run_id, []).append(event)
                    else:
                        found.setdefault(run_id, []).extend(row_events(row, run_id, thread_id))
                for run_id, _thread in keys.values():
                    found.setdefault(run_id, [])
            return found

        found = await self._read(query)
        self.stats.events_read += sum(len(v) for v in found.values())
        return {run_id: found[run_id] for run_id in wanted if run_id in found}

    async def thread_log(self, thread_id: str) -> tuple[list[RunRecord], list[StoredEvent]]:
        """A thread's runs (oldest first) and all their events (in log order), in one read.

        Reads the thread's whole history: for a thread's current state use
        :func:`rewind.thread_state.head_view`, which reads its head and what follows it.
        """

        def query(conn: Connection) -> tuple[list[RunRecord], list[StoredEvent]]:
            result = conn.execute(
                select(runs)
                .where(runs.c.thread_id == thread_id)
                .order_by(runs.c.created_at, runs.c.run_key)
            )
            records = [run_record(r) for r in result]
            return records, read_joined(conn, after=0, limit=None, thread_id=thread_id)

        records, found = await self._read(query)
        self.stats.events_read += len(found)
        return records, found

    async def read_thread(
        self, thread_id: str, *, after_position: int | None = None, limit: int | None = None
    ) -> list[StoredEvent]:
        """Events of every run of a thread, in log order, after ``after_position``."""
        found = await self._read(
            lambda conn: read_joined(
                conn, after=after_position or 0, limit=limit, thread_id=thread_id
            )
        )
        self.stats.events_read += len(found)
        return found

    async def read_all(
        self, *, after_position: int | None = None, limit: int | None = None
    ) -> list[StoredEvent]:
        """Events of every run in log order, after ``after_position``."""
        found = await self._read(
            lambda conn: read_joined(conn, after=after_position or 0, limit=limit)
        )
        self.stats.events_read += len(found)
        return found

    async def read_segments(
        self, segments: Iterable[tuple[str, int | None, int | None]]
    ) -> list[StoredEvent]:
        """Events of several run segments, in log order, in one read.

        Each segment is ``(run_id, after_seq, before_seq)``: the run's events with a seq above
        ``after_seq`` and below ``before_seq`` (``None``: no bound). Runs the store does not
        have give nothing.
        """
        wanted = list(segments)
        if not wanted:
            return []

        def query(conn: Connection) -> list[StoredEvent]:
            ids = list({run_id for run_id, _, _ in wanted})
            keys = {r[1]: (r[0], r[2]) for r in conn.execute(_RUN_KEYS, {"run_ids": ids})}
            found: list[StoredEvent] = []
            for run_id, after, before in wanted:
                if run_id not in keys:
                    continue
                run_key, thread_id = keys[run_id]
                start = -1 if after is None else after
                until = _NO_SEQ_END if before is None else before - 1
                bounds = {"run_key": run_key, "after": start, "until": until}
                rows = conn.execute(_SEGMENT, bounds).all()
                found += run_events(rows, run_id, thread_id, after=start, until=until)
            found.sort(key=_position)  # log order
            return found

        found = await self._read(query)
        self.stats.events_read += len(found)
        return found

    # --- runs ---------------------------------------------------------------------------------

    async def head(self) -> int:
        """The newest position given out (0 for an empty log)."""
        await self._writer.drain()
        return await self._read_head()

    async def _read_head(self) -> int:
        return await self._read(lambda conn: int(conn.execute(_HEAD).scalar_one()), drain=False)

    async def get_run(self, run_id: str) -> RunRecord:
        """The record of one run.

        Raises:
            UnknownRunError: the store has no such run.
        """
        return await self._read(lambda conn: run_record(run_row(conn, run_id)))

    async def list_runs(
        self,
        *,
        thread_id: str | None = None,
        status: RunStatus | str | None = None,
        graph_name: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        limit: int | None = None,
        oldest_first: bool = False,
    ) -> list[RunRecord]:
        """Runs matching every filter given, newest first (or oldest first)."""
        query = select(runs)
        if thread_id is not None:
            query = query.where(runs.c.thread_id == thread_id)
        if status is not None:
            query = query.where(runs.c.status == RunStatus(status).value)
        if graph_name is not None:
            query = query.where(runs.c.graph_name == graph_name)
        if created_after is not None:
            query = query.where(runs.c.created_at > to_micros(created_after))
        if created_before is not None:
            query = query.where(runs.c.created_at < to_micros(created_before))
        order = (runs.c.created_at, runs.c.run_key)
        query = query.order_by(*(order if oldest_first else (c.desc() for c in order)))
        return await self._read(
            lambda conn: [run_record(r) for r in conn.execute(query.limit(limit))]
        )

    async def runs_from(self, checkpoint: CheckpointRecord) -> list[RunRecord]:
        """The runs started from a checkpoint (continuations, resumes, forks), oldest first."""
        return (await self.runs_from_checkpoints([checkpoint])).get(checkpoint.checkpoint_id, [])

    async def runs_from_checkpoints(
        self, checkpoints: Iterable[CheckpointRecord]
    ) -> dict[str, list[RunRecord]]:
        """Per checkpoint id: the runs of its thread started from it, oldest first."""
        by_thread: dict[str, list[str]] = {}
        for checkpoint in checkpoints:
            by_thread.setdefault(checkpoint.thread_id, []).append(checkpoint.checkpoint_id)

        def query(conn: Connection) -> dict[str, list[RunRecord]]:
            found: dict[str, list[RunRecord]] = {}
            for thread_id, ids in by_thread.items():
                for row in conn.execute(_STARTED_FROM, {"ids": ids, "thread_id": thread_id}):
                    found.setdefault(row.origin_checkpoint_id, []).append(run_record(row))
            return found

        return await self._read(query)

    async def list_threads(self, *, limit: int | None = None) -> list[ThreadRecord]:
        """Threads, the most recently updated first."""
        ranked = select(
            runs.c.thread_id,
            runs.c.run_id,
            runs.c.status,
            func.row_number()
            .over(
                partition_by=runs.c.thread_id,
                order_by=(runs.c.created_at.desc(), runs.c.run_key.desc()),
            )
            .label("rank"),
            func.min(runs.c.created_at).over(partition_by=runs.c.thread_id).label("created"),
            func.max(runs.c.updated_at).over(partition_by=runs.c.thread_id).label("updated"),
            func.count().over(partition_by=runs.c.thread_id).label("n"),
        ).subquery()
        query = (
            select(ranked).where(ranked.c.rank == 1).order_by(ranked.c.updated.desc()).limit(limit)
        )
        return await self._read(
            lambda conn: [
                ThreadRecord(
                    thread_id=r.thread_id,
                    created_at=from_micros(r.created),
                    updated_at=from_micros(r.updated),
                    run_count=r.n,
                    last_run_id=r.run_id,
                    last_status=RunStatus(r.status),
                )
                for r in conn.execute(query)
            ]
        )

    async def verify_chain(self, run_id: str) -> ChainReport:
        """Check a run's hash chain; the report names the first altered event, if any, and
        counts the redacted ones (whose erased payload's digest the chain goes on covering)."""

        def query(conn: Connection) -> ChainReport:
            run = run_row(conn, run_id)
            result = conn.execute(chain_rows(run.run_key))
            return check_chain(run_id, result, run.last_hash, chain_from=run.chain_from)

        return await self._read(query)

    # --- checkpoints --------------------------------------------------------------------------

    async def get_checkpoint(
        self, checkpoint_id: str, *, thread_id: str | None = None
    ) -> CheckpointRecord | None:
        """Where a root checkpoint is in the log; ``None`` if no run of the store wrote it
        (on ``thread_id``: a copied thread keeps its checkpoints' ids; without it, the first
        thread to write it)."""
        query = _checkpoint_query().where(checkpoints.c.checkpoint_id == checkpoint_id)
        if thread_id is not None:
            query = query.where(checkpoints.c.thread_id == thread_id)
        picked = query.order_by(checkpoints.c.position).limit(1)
        row = await self._read(lambda conn: conn.execute(picked).first())
        return None if row is None else _checkpoint_record(row)

    async def list_checkpoints(
        self,
        thread_id: str,
        *,
        before_position: int | None = None,
        run_id: str | None = None,
        limit: int | None = None,
    ) -> list[CheckpointRecord]:
        """A thread's root checkpoints, newest first, from the checkpoint index.

        Args:
            thread_id: The thread.
            before_position: Only checkpoints written before this log position.
            run_id: Only those of this run.
            limit: At most this many.
        """
        params = {
            "thread_id": thread_id,
            "before": _NO_END if before_position is None else before_position,
            "limit": -1 if limit is None else limit,
        }
        if run_id is None:
            return await self._read(
                lambda conn: [_checkpoint_record(r) for r in conn.execute(_NEWEST, params)]
            )
        query = (
            _checkpoint_query()
            .where(
                checkpoints.c.thread_id == thread_id,
                checkpoints.c.position < params["before"],
                runs.c.run_id == run_id,
            )
            .order_by(checkpoints.c.position.desc())
            .limit(limit)
        )
        return await self._read(lambda conn: [_checkpoint_record(r) for r in conn.execute(query)])

    async def checkpoint_seqs(
        self, bounds: Iterable[tuple[str, int | None]]
    ) -> dict[tuple[str, int | None], int]:
        """For each ``(run_id, after_seq)``: the seq of the run's first root checkpoint after
        ``after_seq`` (``None``: its first); those without one are absent."""
        wanted = list(dict.fromkeys(bounds))
        if not wanted:
            return {}

        def query(conn: Connection) -> dict[tuple[str, int | None], int]:
            found: dict[tuple[str, int | None], int] = {}
            for run_id, after in wanted:
                bound = {"run_id": run_id, "after": -1 if after is None else after}
                seq = conn.execute(_NEXT_CHECKPOINT, bound).scalar_one_or_none()
                if seq is not None:
                    found[(run_id, after)] = int(seq)
            return found

        return await self._read(query)

    async def lineage(
        self, run_id: str, seq: int, *, snapshots: bool = True, max_depth: int = 100_000
    ) -> list[LineageStep]:
        """The runs from ``run_id`` (at its event ``seq``) back along their origins, to the
        first with a snapshot at or before the point needed (``snapshots=False``: to the run
        with no origin), nearest first.

        Raises:
            UnknownRunError: the store has no such run.
        """
        params = {
            "run_id": run_id,
            "seq": seq,
            "snapshots": 1 if snapshots else 0,
            "max_depth": max_depth,
        }
        rows = await self._read(lambda conn: conn.execute(_LINEAGE, params).all())
        if not rows:
            raise UnknownRunError(run_id)
        return [
            LineageStep(run_id=r[1], seq=r[3], origin_checkpoint_id=r[2], snapshot_seq=r[4])
            for r in rows
        ]

    async def run_of_checkpoint(self, checkpoint_id: str) -> RunRecord:
        """The run that wrote a checkpoint.

        Raises:
            KeyError: no run of the store wrote that checkpoint.
        """
        found = await self.get_checkpoint(checkpoint_id)
        if found is None:
            raise KeyError(
                f"no checkpoint {checkpoint_id!r} in this store; list a thread's "
                "checkpoints with get_state_history(config)"
            )
        return await self.get_run(found.run_id)


# --- helpers ----------------------------------------------------------------------------------


def run_row(conn: Connection, run_id: str) -> Row[Any]:
    """The ``runs`` row of a run.

    Raises:
        UnknownRunError: the store has no such run.
    """
    row = conn.execute(select(runs).where(runs.c.run_id == run_id)).first()
    if row is None:
        raise UnknownRunError(run_id)
    return row


def chain_rows(run_key: int) -> Select[Any]:
    """A run's events as the chain check takes them (:data:`~rewind.log.chain.ChainRow`)."""
    return _CHAIN_ROWS.params(run_key=run_key)


def through_seq(run_key: Any, until: Any) -> ColumnElement[bool]:
    """The rows of run ``run_key`` that hold events up to seq ``until``: those keyed at or
    before it, and the packed row that holds it and ends after it, if there is one (found by
    one index seek; the caller leaves out its events after ``until``). ``run_key`` and
    ``until`` are values or bound parameters."""
    after = events.alias("after_bound")
    ending = (
        select(case((after.c.seq - after.c.packed < until, after.c.seq)))
        .where(after.c.run_key == run_key, after.c.seq > until)
        .order_by(after.c.seq)
        .limit(1)
        .scalar_subquery()
    )
    return events.c.seq <= func.coalesce(ending, until)


def through_position(until: Any) -> ColumnElement[bool]:
    """The rows that hold events up to log position ``until``: those at or before it, and the
    packed row that holds it and ends after it, if there is one (as :func:`through_seq`)."""
    after = events.alias("after_bound")
    ending = (
        select(case((after.c.position - after.c.packed < until, after.c.position)))
        .where(after.c.position > until)
        .order_by(after.c.position)
        .limit(1)
        .scalar_subquery()
    )
    return events.c.position <= func.coalesce(ending, until)


def _run_events(
    run_key: int, after_seq: int | None, until_seq: int | None, types: Iterable[str] | None
) -> Select[Any]:
    query = select(*EVENT_COLUMNS).where(events.c.run_key == run_key)
    if after_seq is not None:
        query = query.where(events.c.seq > after_seq)
    if until_seq is not None:
        query = query.where(through_seq(run_key, until_seq))
    if types is not None:
        query = query.where(events.c.type.in_([str(t) for t in types]))
    return query.order_by(events.c.seq)


def _checkpoint_query() -> Select[Any]:
    return select(
        checkpoints.c.checkpoint_id,
        checkpoints.c.thread_id,
        runs.c.run_id,
        checkpoints.c.seq,
        checkpoints.c.position,
    ).join(runs, runs.c.run_key == checkpoints.c.run_key)


def _checkpoint_record(row: Row[*tuple[Any, ...]]) -> CheckpointRecord:
    return CheckpointRecord(
        checkpoint_id=row[0], thread_id=row[1], run_id=row[2], seq=row[3], position=row[4]
    )


def read_joined(
    conn: Connection,
    *,
    after: int,
    limit: int | None,
    until: int | None = None,
    run_id: str | None = None,
    thread_id: str | None = None,
) -> list[StoredEvent]:
    """Events (with their run's id and thread) in log order after position ``after``, up to
    ``until``, at most ``limit`` of them."""
    query = (
        select(*EVENT_COLUMNS, runs.c.run_id, runs.c.thread_id)
        .join(runs, runs.c.run_key == events.c.run_key)
        .where(events.c.position > after)
    )
    if until is not None:
        query = query.where(through_position(until))
    if run_id is not None:
        query = query.where(runs.c.run_id == run_id)
    if thread_id is not None:
        query = query.where(runs.c.thread_id == thread_id)
    result = conn.execute(query.order_by(events.c.position).limit(limit))

    def expand(rows: Sequence[Sequence[Any]]) -> list[StoredEvent]:
        # By index: a row's attribute lookup costs more than the decode.
        if not any(map(_packed, rows)):
            return [event_of(r[12], r[13], *r[:11]) for r in rows]
        found: list[StoredEvent] = []
        for r in rows:
            found += row_events(r, r[12], r[13], key=POSITION, after=after, until=until)
        return found

    try:
        return take_events(result.fetchmany, limit, expand)
    finally:
        result.close()


def run_record(row: Row[Any]) -> RunRecord:
    """A ``runs`` row as a record."""
    return RunRecord(
        run_id=row.run_id,
        thread_id=row.thread_id,
        graph_name=row.graph_name,
        status=RunStatus(row.status),
        created_at=from_micros(row.created_at),
        updated_at=from_micros(row.updated_at),
        origin_run_id=row.origin_run_id,
        origin_checkpoint_id=row.origin_checkpoint_id,
        last_seq=row.last_seq,
        first_position=row.first_position,
        last_position=row.last_position,
    )


# Statements the hot reads use, built once (a statement built per call costs more to build and
# compile than SQLite takes to run it).
_NO_END = 2**62
"""No upper bound on a position (a 64-bit column)."""
_NO_SEQ_END = 2**31 - 1
"""No upper bound on a seq (a 32-bit column on PostgreSQL)."""
_packed = operator.itemgetter(11)
_position = operator.attrgetter("position")
_RUN_KEYS = select(runs.c.run_key, runs.c.run_id, runs.c.thread_id).where(
    runs.c.run_id.in_(bindparam("run_ids", expanding=True))
)
_SEGMENT = (
    select(*EVENT_COLUMNS)
    .where(
        events.c.run_key == bindparam("run_key"),
        events.c.seq > bindparam("after"),
        through_seq(bindparam("run_key"), bindparam("until")),
    )
    .order_by(events.c.seq)
)
_CHAIN_ROWS = (
    # All but the position: what the chain covers, with what a redaction kept, and how many
    # events the row holds (their seqs must follow the row before without a gap).
    select(*EVENT_COLUMNS[1:11], redactions.c.digest, redactions.c.scope, events.c.packed)
    .outerjoin(
        redactions,
        (redactions.c.run_key == events.c.run_key) & (redactions.c.seq == events.c.seq),
    )
    .where(events.c.run_key == bindparam("run_key"))
    .order_by(events.c.seq)
)
_NEWEST = (
    _checkpoint_query()
    .where(
        checkpoints.c.thread_id == bindparam("thread_id"),
        checkpoints.c.position < bindparam("before"),
    )
    .order_by(checkpoints.c.position.desc())
    .limit(bindparam("limit"))
)
_NEXT_CHECKPOINT = (
    select(events.c.seq)
    .join(runs, runs.c.run_key == events.c.run_key)
    .where(
        runs.c.run_id == bindparam("run_id"),
        events.c.seq > bindparam("after"),
        events.c.type == _CHECKPOINT,
        events.c.ns.is_(None),
    )
    .order_by(events.c.seq)
    .limit(1)
)
_STARTED_FROM = (
    select(runs)
    .where(
        runs.c.origin_checkpoint_id.in_(bindparam("ids", expanding=True)),
        runs.c.thread_id == bindparam("thread_id"),
    )
    .order_by(runs.c.first_position)
)
