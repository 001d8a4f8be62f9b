"""The event store over SQLAlchemy Core: append, read, subscribe, snapshot, retain.

Everything here is portable SQL. What only one database speaks (how a write transaction
begins, vacuum, backup) lives in that backend's module, which subclasses :class:`EventStore`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

from sqlalchemy import Row, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rewind.errors import (
    ConcurrencyError,
    InvalidEventError,
    RunEndedError,
    StoreClosedError,
    UnknownRunError,
)
from rewind.events import EventType, NewEvent, RunStatus, StoredEvent
from rewind.store import codec, retention
from rewind.store.chain import check_chain, from_micros, to_micros
from rewind.store.commit import (
    CHANGED_COLUMNS,
    FINAL_STATUSES,
    RUN_COLUMNS,
    CommitPlan,
    TxRun,
    needs_new_keys,
    plan_commit,
)
from rewind.store.records import (
    ChainReport,
    Durability,
    PruneReport,
    RunRecord,
    Snapshot,
    ThreadMetadata,
    ThreadRecord,
)
from rewind.store.schema import events, log_head, runs, snapshots, thread_metadata
from rewind.store.subscriptions import Page, SubscriptionHub
from rewind.store.writer import (
    AppendResult,
    EncodedEvent,
    GroupWriter,
    PendingAppend,
    RunStart,
    result_before_commit,
)

__all__ = ["EventStore", "StoreOptions"]

_DURABILITIES = ("sync", "async", "exit")
_STARTED, _ENDED = EventType.RUN_STARTED.value, EventType.RUN_ENDED.value


def _is_boundary(type_: str) -> bool:
    return type_ in (_STARTED, _ENDED)


_FINAL = FINAL_STATUSES
_UPDATE_RUN = (
    update(runs)
    .where(runs.c.run_key == bindparam("b_run_key"))
    .values({c: bindparam(f"b_{c}") for c in CHANGED_COLUMNS if c != "run_key"})
)
_CHANGED_KEYS = [f"b_{c}" for c in CHANGED_COLUMNS]
_EVENT_COLUMNS = (
    events.c.position,
    events.c.seq,
    events.c.type,
    events.c.ts,
    events.c.step,
    events.c.ns,
    events.c.node,
    events.c.task_id,
    events.c.codec,
    events.c.payload,
    events.c.hash,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class StoreOptions:
    """How a store behaves; every field has a sensible default."""

    durability: Durability = "async"
    """Default durability of appends (LangGraph's names; ``async`` as in LangGraph)."""
    max_group_events: int = 10_000
    """Most events one group commit writes."""
    subscriber_buffer: int = 4096
    """Most live events a subscriber holds before it falls back to reading the store."""
    read_page: int = 1000
    """Events a subscriber reads from the store at a time."""
    poll_interval: float = 0.025
    """Seconds between looks at the log head for other processes' appends."""
    redact: Callable[[NewEvent], Any] | None = None
    """Rewrites each event's payload before it is encoded and appended (e.g. to mask secrets or
    personal data); it gets the event and returns the payload to store."""


@dataclass(kw_only=True, slots=True)
class _RunState:
    next_seq: int
    thread_id: str
    ended: bool


class EventStore:
    """The ordered event log of runs and threads.

    Open one with :func:`rewind.store.open_store`; use it from one event loop, and close it
    (``await store.aclose()`` or ``async with``) to make everything durable.
    """

    _write_options: ClassVar[Mapping[str, Any]] = {}
    _serialize = False
    _poll_other_processes = True

    def __init__(self, engine: AsyncEngine, *, url: str, options: StoreOptions) -> None:
        if options.durability not in _DURABILITIES:
            raise ValueError(
                f"durability must be one of {_DURABILITIES}, not {options.durability!r}"
            )
        self.url = url
        """The database this store writes to."""
        self.options = options
        """How this store behaves."""
        self._engine = engine
        self._lock = asyncio.Lock() if self._serialize else None
        self._runs: dict[str, _RunState] = {}
        self._failed: dict[str, BaseException] = {}
        self._closed = False
        self._writer = GroupWriter(
            self._commit_group, self._forget_failed, max_group_events=options.max_group_events
        )
        self._hub = SubscriptionHub(
            self._read_page,
            self._read_head if self._poll_other_processes else None,
            buffer_size=options.subscriber_buffer,
            page_size=options.read_page,
            poll_interval=options.poll_interval,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    @property
    def commit_count(self) -> int:
        """How many group commits this store has made (appends share them)."""
        return self._writer.commits

    @property
    def durability(self) -> Durability:
        """The default durability of appends."""
        return self.options.durability

    # --- connections --------------------------------------------------------------------------

    @asynccontextmanager
    async def _txn(self, *, write: bool = False) -> AsyncIterator[AsyncConnection]:
        if self._closed and not write:
            raise StoreClosedError("the store is closed; open a new one to read")
        guard: AbstractAsyncContextManager[Any] = self._lock if self._lock else nullcontext()
        async with guard, self._engine.connect() as conn:
            if write and self._write_options:
                conn = await conn.execution_options(**self._write_options)
            async with conn.begin():
                yield conn

    # --- append -------------------------------------------------------------------------------

    async def append(
        self,
        run_id: str,
        events: Sequence[NewEvent],
        *,
        expected_seq: int,
        durability: Durability | None = None,
        new_run: bool = False,
    ) -> AppendResult:
        """Append ``events`` to a run, atomically.

        Args:
            run_id: The run. Its first append (``expected_seq=0``) must begin with a
                ``run.started`` event; its last event may be ``run.ended``.
            events: The events, in order.
            expected_seq: The seq the first event must get: the number of events the caller
                knows the run to have.
            durability: ``sync`` waits until the events are durable; ``async`` (the default)
                returns at once; ``exit`` holds them until the run ends or :meth:`flush`.
            new_run: The caller vouches that a starting run's id is new (a fresh UUID): the
                store does not look it up first, and a duplicate is refused at commit.

        Returns:
            The seqs given, and the log positions when the append was durable on return.

        Raises:
            ConcurrencyError: ``expected_seq`` is stale; nothing of the batch is stored.
            EncodingError: a payload cannot be encoded; nothing is stored.
            InvalidEventError: the batch breaks the log's rules; nothing is stored.
            UnknownRunError: ``expected_seq > 0`` for a run the store does not have.
            RunEndedError: the run's ``run.ended`` event is already appended.
        """
        mode, start, end_status, rows = self._prepare(run_id, events, expected_seq, durability)
        state = self._runs.get(run_id)
        if state is None and new_run and start is not None and expected_seq == 0:
            state = self._runs[run_id] = _RunState(
                next_seq=0, thread_id=start.thread_id, ended=False
            )
        elif state is None:
            state = await self._load_run_state(run_id, expected_seq, start)
        pending = self._accept(run_id, state, expected_seq, rows, start, end_status, mode)
        if mode == "sync":
            pending.future = asyncio.get_running_loop().create_future()
        self._writer.submit(pending)
        if pending.future is not None:
            return await pending.future
        return result_before_commit(pending)

    def append_nowait(
        self,
        run_id: str,
        events: Sequence[NewEvent],
        *,
        expected_seq: int,
        durability: Durability | None = None,
    ) -> AppendResult:
        """Append without waiting, from the store's event loop: for a run this store is writing.

        Takes ``async`` or ``exit`` durability only, and a run whose first events this store
        appended (so its seq is known without reading the database). Raises as :meth:`append`.
        """
        mode, start, end_status, rows = self._prepare(run_id, events, expected_seq, durability)
        if mode == "sync":
            raise ValueError("append_nowait cannot wait for durability; use append()")
        state = self._runs.get(run_id)
        if state is None:
            raise ValueError(
                f"run {run_id} is not being written by this store; use append() for it"
            )
        pending = self._accept(run_id, state, expected_seq, rows, start, end_status, mode)
        self._writer.submit(pending)
        return result_before_commit(pending)

    def _prepare(
        self,
        run_id: str,
        events: Sequence[NewEvent],
        expected_seq: int,
        durability: Durability | None,
    ) -> tuple[Durability, RunStart | None, str | None, list[EncodedEvent]]:
        if self._closed:
            raise StoreClosedError("the store is closed; open a new one to append")
        if durability is None:
            mode = self.options.durability
        elif durability in _DURABILITIES:
            mode = durability
        else:
            raise ValueError(f"durability must be one of {_DURABILITIES}, not {durability!r}")
        if self._failed and run_id in self._failed:
            raise self._failed.pop(run_id)
        first = events[0] if len(events) == 1 and expected_seq > 0 else None
        if first is not None and type(first) is NewEvent and not _is_boundary(first.type):
            start, end_status = None, None  # the common case: one ordinary event
        else:
            start, end_status = _check_batch(run_id, events, expected_seq)
        redact = self.options.redact
        if redact is not None:
            events = [dataclasses.replace(e, payload=redact(e)) for e in events]
        return mode, start, end_status, [_encode(e) for e in events]

    def _accept(
        self,
        run_id: str,
        state: _RunState,
        expected_seq: int,
        rows: list[EncodedEvent],
        start: RunStart | None,
        end_status: str | None,
        mode: Durability,
    ) -> PendingAppend:
        if state.ended:
            raise RunEndedError(run_id)
        if state.next_seq != expected_seq:
            raise ConcurrencyError(run_id, expected_seq, state.next_seq)
        state.next_seq += len(rows)
        if end_status is not None:
            state.ended = True
            self._runs.pop(run_id, None)  # the cache holds running runs only
        return PendingAppend(run_id, state.thread_id, expected_seq, rows, start, end_status, mode)

    async def _load_run_state(
        self, run_id: str, expected_seq: int, start: RunStart | None
    ) -> _RunState:
        await self._writer.drain()  # the database must know this process's own appends
        async with self._txn() as conn:
            row = (
                await conn.execute(
                    select(runs.c.thread_id, runs.c.last_seq, runs.c.status).where(
                        runs.c.run_id == run_id
                    )
                )
            ).first()
        if run_id in self._runs:  # another task loaded it meanwhile
            return self._runs[run_id]
        if row is None:
            if expected_seq > 0 or start is None:
                raise UnknownRunError(run_id)
            state = _RunState(next_seq=0, thread_id=start.thread_id, ended=False)
        else:
            state = _RunState(
                next_seq=row.last_seq + 1, thread_id=row.thread_id, ended=row.status in _FINAL
            )
        if not state.ended:
            self._runs[run_id] = state
        return state

    def _forget_failed(self, pending: PendingAppend, error: BaseException) -> None:
        # The in-memory seq of this run can no longer be trusted: reload it next time.
        self._runs.pop(pending.run_id, None)
        if pending.future is None:
            self._failed.setdefault(pending.run_id, error)

    async def flush(self) -> None:
        """Return when everything appended before this call is durable.

        Raises the first failure of a background (``async``/``exit``) append since the last
        flush, if any.
        """
        await self._writer.flush()

    async def _commit_group(self, group: list[PendingAppend]) -> list[BaseException | None]:
        async with self._txn(write=True) as conn:
            head = (await conn.execute(select(log_head.c.position))).scalar_one()
            result = await conn.execute(
                select(
                    runs.c.run_key,
                    runs.c.thread_id,
                    runs.c.last_seq,
                    runs.c.last_hash,
                    runs.c.status,
                    runs.c.run_id,
                ).where(runs.c.run_id.in_({p.run_id for p in group}))
            )
            tx = {r[5]: TxRun.existing(*r[:5]) for r in result}
            max_key = 0
            if needs_new_keys(group, tx):
                max_key = (await conn.execute(select(func.max(runs.c.run_key)))).scalar() or 0
            plan = plan_commit(group, head, tx, max_key, fresh=self._hub.active)
            if plan.event_rows:
                if plan.created_runs:
                    await conn.execute(
                        insert(runs),
                        [dict(zip(RUN_COLUMNS, r, strict=True)) for r in plan.created_runs],
                    )
                if plan.changed_runs:
                    await conn.execute(
                        _UPDATE_RUN,
                        [dict(zip(_CHANGED_KEYS, r, strict=True)) for r in plan.changed_runs],
                    )
                await self._insert_events(conn, plan.event_rows)
                await conn.execute(update(log_head).values(position=plan.new_head))
        self._publish(head, plan)
        return plan.outcomes

    def _publish(self, head: int, plan: CommitPlan) -> None:
        if plan.fresh:
            self._hub.publish(head, plan.new_head, [_fresh_event(*f) for f in plan.fresh])

    async def _insert_events(self, conn: AsyncConnection, rows: list[tuple[Any, ...]]) -> None:
        """Insert event rows (tuples in ``events`` column order); backends may use the driver."""
        names = [c.name for c in events.columns]
        await conn.execute(insert(events), [dict(zip(names, r, strict=True)) for r in rows])

    # --- reads --------------------------------------------------------------------------------

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
        await self._writer.drain()
        async with self._txn() as conn:
            run = await self._run_row(conn, run_id)
            query = select(*_EVENT_COLUMNS).where(events.c.run_key == run.run_key)
            if after_seq is not None:
                query = query.where(events.c.seq > after_seq)
            if until_seq is not None:
                query = query.where(events.c.seq <= until_seq)
            if types is not None:
                query = query.where(events.c.type.in_([str(t) for t in types]))
            query = query.order_by(events.c.seq).limit(limit)
            result = await conn.execute(query)
            return [_stored(r, run_id, run.thread_id) for r in result]

    async def read_runs(
        self, run_ids: Iterable[str], *, types: Iterable[str] | None = None
    ) -> dict[str, list[StoredEvent]]:
        """The events of several runs, each run's in seq order, in one query per 500 runs.

        Runs the store does not have are absent from the result (a bulk reader, such as a
        span export, decides what a missing run means).
        """
        await self._writer.drain()
        wanted = list(dict.fromkeys(run_ids))
        found: dict[str, list[StoredEvent]] = {}
        async with self._txn() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                result = await conn.execute(
                    select(runs.c.run_key, runs.c.run_id, runs.c.thread_id).where(
                        runs.c.run_id.in_(chunk)
                    )
                )
                keys = {r.run_key: (r.run_id, r.thread_id) for r in result}
                if not keys:
                    continue
                query = select(*_EVENT_COLUMNS, events.c.run_key).where(
                    events.c.run_key.in_(list(keys))
                )
                if types is not None:
                    query = query.where(events.c.type.in_([str(t) for t in types]))
                rows = await conn.execute(query.order_by(events.c.run_key, events.c.seq))
                for row in rows:
                    run_id, thread_id = keys[row[11]]
                    found.setdefault(run_id, []).append(_stored(row, run_id, thread_id))
                for run_id, _thread in keys.values():
                    found.setdefault(run_id, [])
        return {run_id: found[run_id] for run_id in wanted if run_id in found}

    async def thread_log(self, thread_id: str) -> tuple[list[RunRecord], list[StoredEvent]]:
        """A thread's runs (oldest first) and all their events (in log order), in one read."""
        await self._writer.drain()
        async with self._txn() as conn:
            result = await conn.execute(
                select(runs)
                .where(runs.c.thread_id == thread_id)
                .order_by(runs.c.created_at, runs.c.run_key)
            )
            records = [_run_record(r) for r in result]
            events = await _read_joined(conn, after=0, limit=None, thread_id=thread_id)
        return records, events

    async def run_of_checkpoint(self, checkpoint_id: str) -> RunRecord:
        """The run that wrote a checkpoint.

        Raises:
            KeyError: no run of the store wrote that checkpoint.
        """
        await self._writer.drain()
        pattern = f'%"id":"{checkpoint_id}"%'
        query = (
            select(runs.c.run_id, events.c.payload, events.c.codec)
            .join(runs, runs.c.run_key == events.c.run_key)
            .where(events.c.type == EventType.CHECKPOINT.value, events.c.payload.like(pattern))
        )
        async with self._txn() as conn:
            for run_id, payload, version in await conn.execute(query):
                if codec.decode(payload, version).get("id") == checkpoint_id:
                    return _run_record(await self._run_row(conn, run_id))
        raise KeyError(
            f"no checkpoint {checkpoint_id!r} in this store; list a thread's "
            "checkpoints with get_state_history(config)"
        )

    async def read_thread(
        self, thread_id: str, *, after_position: int | None = None, limit: int | None = None
    ) -> list[StoredEvent]:
        """Events of every run of a thread, in log order, after ``after_position``."""
        await self._writer.drain()
        async with self._txn() as conn:
            return await _read_joined(
                conn, after=after_position or 0, limit=limit, thread_id=thread_id
            )

    async def read_all(
        self, *, after_position: int | None = None, limit: int | None = None
    ) -> list[StoredEvent]:
        """Events of every run in log order, after ``after_position``."""
        await self._writer.drain()
        async with self._txn() as conn:
            return await _read_joined(conn, after=after_position or 0, limit=limit)

    async def head(self) -> int:
        """The newest position given out (0 for an empty log)."""
        await self._writer.drain()
        return await self._read_head()

    async def _read_head(self) -> int:
        async with self._txn() as conn:
            return int((await conn.execute(select(log_head.c.position))).scalar_one())

    async def get_run(self, run_id: str) -> RunRecord:
        """The record of one run.

        Raises:
            UnknownRunError: the store has no such run.
        """
        await self._writer.drain()
        async with self._txn() as conn:
            return _run_record(await self._run_row(conn, run_id))

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
        await self._writer.drain()
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
        async with self._txn() as conn:
            return [_run_record(r) for r in await conn.execute(query.limit(limit))]

    async def list_threads(self, *, limit: int | None = None) -> list[ThreadRecord]:
        """Threads, the most recently updated first."""
        await self._writer.drain()
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
        async with self._txn() as conn:
            return [
                ThreadRecord(
                    thread_id=r.thread_id,
                    created_at=from_micros(r.created),
                    updated_at=from_micros(r.updated),
                    run_count=r.n,
                    last_run_id=r.run_id,
                    last_status=RunStatus(r.status),
                )
                for r in await conn.execute(query)
            ]

    async def verify_chain(self, run_id: str) -> ChainReport:
        """Check a run's hash chain; the report names the first altered event, if any."""
        await self._writer.drain()
        async with self._txn() as conn:
            run = await self._run_row(conn, run_id)
            result = await conn.execute(
                select(*_EVENT_COLUMNS[1:])  # all but the position: what the chain covers
                .where(events.c.run_key == run.run_key)
                .order_by(events.c.seq)
            )
            return check_chain(run_id, result, run.last_hash)

    async def _run_row(self, conn: AsyncConnection, run_id: str) -> Row[Any]:
        row = (await conn.execute(select(runs).where(runs.c.run_id == run_id))).first()
        if row is None:
            raise UnknownRunError(run_id)
        return row

    # --- subscriptions ------------------------------------------------------------------------

    async def subscribe(
        self,
        *,
        run_id: str | None = None,
        thread_id: str | None = None,
        after_position: int | None = None,
    ) -> AsyncIterator[StoredEvent]:
        """Yield the stored events after ``after_position``, then live ones as they commit.

        Subscribe to one run (the iterator ends after its ``run.ended`` event), one thread, or
        everything (neither given). Events appended by other processes to the same database
        arrive too, within about ``options.poll_interval``. Close the iterator (``aclose()``,
        or break out of ``async for``) to stop.

        Raises:
            UnknownRunError: ``run_id`` names no run in the store.
        """
        if run_id is not None and thread_id is not None:
            raise ValueError("subscribe to a run or to a thread, not both")
        if run_id is not None:
            await self.get_run(run_id)
        async for event in self._hub.subscribe(
            run_id=run_id, thread_id=thread_id, after_position=after_position or 0
        ):
            yield event

    async def _read_page(
        self, run_id: str | None, thread_id: str | None, after: int, limit: int
    ) -> Page:
        async with self._txn() as conn:
            head = (await conn.execute(select(log_head.c.position))).scalar_one()
            found = await _read_joined(
                conn, after=after, limit=limit, until=head, run_id=run_id, thread_id=thread_id
            )
            covered = head if len(found) < limit else found[-1].position
            over = False
            if run_id is not None:
                run = await self._run_row(conn, run_id)
                over = run.status in _FINAL and run.last_position <= max(after, covered)
        return Page(events=found, covered=covered, run_over=over and len(found) < limit)

    # --- snapshots ----------------------------------------------------------------------------

    async def put_snapshot(self, run_id: str, seq: int, state: Any) -> None:
        """Store the state of a run as of its event ``seq`` (a cache; replaces an older one)."""
        text = codec.encode(state)
        await self._writer.drain()
        async with self._txn(write=True) as conn:
            run = await self._run_row(conn, run_id)
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
        await self._writer.drain()
        async with self._txn() as conn:
            run = await self._run_row(conn, run_id)
            query = select(snapshots).where(snapshots.c.run_key == run.run_key)
            if at_or_before_seq is not None:
                query = query.where(snapshots.c.seq <= at_or_before_seq)
            row = (await conn.execute(query.order_by(snapshots.c.seq.desc()).limit(1))).first()
        if row is None:
            return None
        return Snapshot(
            run_id=run_id,
            seq=row.seq,
            state=codec.decode(row.state, row.codec),
            created_at=from_micros(row.created_at),
        )

    # --- thread metadata ------------------------------------------------------------------------

    async def save_thread_metadata(
        self, thread_id: str, metadata: Mapping[str, Any]
    ) -> ThreadMetadata:
        """Keep ``metadata`` for a thread (replacing what was kept); the thread need have no run.

        Raises:
            EncodingError: a value the codec cannot encode (nothing is written).
        """
        text = codec.encode(dict(metadata))
        now = to_micros(datetime.now().astimezone())
        async with self._txn(write=True) as conn:
            key = thread_metadata.c.thread_id == thread_id
            row = (await conn.execute(select(thread_metadata.c.created_at).where(key))).first()
            values = {"updated_at": now, "codec": codec.CODEC_VERSION, "metadata": text}
            if row is None:
                await conn.execute(
                    insert(thread_metadata).values(thread_id=thread_id, created_at=now, **values)
                )
            else:
                await conn.execute(update(thread_metadata).where(key).values(**values))
        created = now if row is None else row.created_at
        return ThreadMetadata(
            thread_id=thread_id,
            metadata=dict(metadata),
            created_at=from_micros(created),
            updated_at=from_micros(now),
        )

    async def get_thread_metadata(self, thread_id: str | None = None) -> list[ThreadMetadata]:
        """The metadata kept for one thread (a list of one, or empty), or for all of them."""
        query = select(thread_metadata).order_by(thread_metadata.c.created_at)
        if thread_id is not None:
            query = query.where(thread_metadata.c.thread_id == thread_id)
        async with self._txn() as conn:
            rows = (await conn.execute(query)).all()
        return [
            ThreadMetadata(
                thread_id=row.thread_id,
                metadata=codec.decode(row.metadata, row.codec),
                created_at=from_micros(row.created_at),
                updated_at=from_micros(row.updated_at),
            )
            for row in rows
        ]

    async def delete_snapshots(self, *, run_id: str | None = None) -> int:
        """Drop the snapshots of one run, or all of them; returns how many went."""
        async with self._txn(write=True) as conn:
            query = delete(snapshots)
            if run_id is not None:
                run = await self._run_row(conn, run_id)
                query = query.where(snapshots.c.run_key == run.run_key)
            return int((await conn.execute(query)).rowcount)

    # --- retention ----------------------------------------------------------------------------

    async def delete_thread(self, thread_id: str, *, vacuum: bool = True) -> PruneReport:
        """Delete a thread's runs, events and snapshots, and the metadata kept for it.

        Runs still running, and runs that a retained run of another thread starts from, stay;
        the report counts them.
        """
        async with self._txn(write=True) as conn:
            await conn.execute(
                delete(thread_metadata).where(thread_metadata.c.thread_id == thread_id)
            )
        return await self._delete(
            lambda all_runs: {r.run_id for r in all_runs if r.thread_id == thread_id}, vacuum=vacuum
        )

    async def prune(
        self,
        *,
        older_than: datetime | None = None,
        keep_last: int | None = None,
        vacuum: bool = True,
    ) -> PruneReport:
        """Delete finished runs that started before ``older_than``, or all but each thread's
        ``keep_last`` newest, then give the space back to the file system.

        A run that a retained run starts from (a fork's origin, the run a thread's next run
        continues) is kept, so every retained run can still be rebuilt.
        """
        if (older_than is None) == (keep_last is None):
            raise ValueError("prune needs exactly one of older_than= or keep_last=")
        if keep_last is not None and keep_last < 0:
            raise ValueError(f"keep_last must be >= 0, not {keep_last}")
        if older_than is not None:
            cutoff = to_micros(older_than)
            return await self._delete(
                lambda all_runs: retention.candidates_older_than(all_runs, cutoff), vacuum=vacuum
            )
        assert keep_last is not None
        return await self._delete(
            lambda all_runs: retention.candidates_beyond_newest(all_runs, keep_last),
            vacuum=vacuum,
        )

    async def _delete(self, choose: Any, *, vacuum: bool) -> PruneReport:
        await self._writer.drain()
        async with self._txn(write=True) as conn:
            all_runs = await retention.load_runs(conn)
            plan = retention.plan_deletion(all_runs, choose(all_runs))
            deleted = await retention.delete_runs(conn, plan.run_keys)
        if vacuum and plan.run_keys:
            await self._vacuum()
        return PruneReport(
            runs_deleted=len(plan.run_keys),
            events_deleted=deleted,
            runs_kept_for_dependants=plan.kept_for_dependants,
        )

    async def _vacuum(self) -> None:
        """Give freed space back to the file system (backends override)."""

    async def backup(self, target: str) -> None:
        """Write a consistent copy of the live database to ``target`` (backends override)."""
        raise NotImplementedError(f"{type(self).__name__} cannot back up")

    # --- lifecycle ----------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Make everything appended durable, end subscriptions and release the database."""
        if self._closed:
            return
        try:
            await self._writer.close()
        finally:
            self._closed = True
            await self._hub.close()
            await self._engine.dispose()


# --- helpers ----------------------------------------------------------------------------------


def _check_batch(
    run_id: str, batch: Sequence[NewEvent], expected_seq: int
) -> tuple[RunStart | None, str | None]:
    if not batch:
        raise InvalidEventError(run_id, "an append needs at least one event")
    if expected_seq < 0:
        raise InvalidEventError(run_id, f"expected_seq must be >= 0, not {expected_seq}")
    start: RunStart | None = None
    end_status: str | None = None
    for i, event in enumerate(batch):
        if not isinstance(event, NewEvent):
            raise InvalidEventError(run_id, f"event {i} is a {type(event).__name__}, not NewEvent")
        if event.type == EventType.RUN_STARTED:
            if i != 0 or expected_seq != 0:
                raise InvalidEventError(run_id, "run.started may only be a run's first event")
            start = _run_start(run_id, event.payload)
        elif event.type == EventType.RUN_ENDED:
            if i != len(batch) - 1:
                raise InvalidEventError(run_id, "run.ended must be a run's last event")
            status = event.payload.get("status") if isinstance(event.payload, Mapping) else None
            if status not in _FINAL:
                raise InvalidEventError(
                    run_id, f"run.ended needs a final status in {sorted(_FINAL)}"
                )
            end_status = status
    if expected_seq == 0 and start is None:
        raise InvalidEventError(run_id, "a run's first event must be run.started")
    return start, end_status


def _run_start(run_id: str, payload: Any) -> RunStart:
    thread_id = payload.get("thread_id") if isinstance(payload, Mapping) else None
    if not isinstance(thread_id, str) or not thread_id:
        raise InvalidEventError(run_id, "run.started needs a non-empty thread_id in its payload")
    origin = payload.get("origin") or {}
    return RunStart(
        thread_id=thread_id,
        graph_name=payload.get("graph"),
        origin_run_id=origin.get("run_id"),
        origin_checkpoint_id=origin.get("checkpoint_id"),
    )


def _encode(event: NewEvent) -> EncodedEvent:
    type_ = event.type
    if type(type_) is not str:  # an EventType member: store its plain value
        type_ = str.__str__(type_)
    ts = event.ts
    return (
        type_,
        time.time_ns() // 1000 if ts is None else to_micros(ts),
        event.step,
        event.ns,
        event.node,
        event.task_id,
        codec.CODEC_VERSION,
        codec.encode(event.payload),
    )


async def _read_joined(
    conn: AsyncConnection,
    *,
    after: int,
    limit: int | None,
    until: int | None = None,
    run_id: str | None = None,
    thread_id: str | None = None,
) -> list[StoredEvent]:
    query = (
        select(*_EVENT_COLUMNS, runs.c.run_id, runs.c.thread_id)
        .join(runs, runs.c.run_key == events.c.run_key)
        .where(events.c.position > after)
    )
    if until is not None:
        query = query.where(events.c.position <= until)
    if run_id is not None:
        query = query.where(runs.c.run_id == run_id)
    if thread_id is not None:
        query = query.where(runs.c.thread_id == thread_id)
    result = await conn.execute(query.order_by(events.c.position).limit(limit))
    return [_stored(r, r.run_id, r.thread_id) for r in result]


def _stored(row: Row[*tuple[Any, ...]], run_id: str, thread_id: str) -> StoredEvent:
    # By index, in _EVENT_COLUMNS order: a row's attribute lookup costs more than the decode.
    return _event(run_id, thread_id, *row[:11])


def _fresh_event(run_id: str, thread_id: str, row: tuple[Any, ...]) -> StoredEvent:
    """An event just committed, from its row in ``events`` column order."""
    position, _key, *rest = row
    return _event(run_id, thread_id, position, *rest)


def _event(
    run_id: str,
    thread_id: str,
    position: int,
    seq: int,
    type_: str,
    ts: int,
    step: int | None,
    ns: str | None,
    node: str | None,
    task_id: str | None,
    version: int,
    payload: str,
    hash_: bytes,
) -> StoredEvent:
    return StoredEvent(
        run_id=run_id,
        thread_id=thread_id,
        seq=seq,
        position=position,
        type=type_,
        payload=codec.decode(payload, version),
        ts=from_micros(ts),
        step=step,
        ns=ns,
        node=node,
        task_id=task_id,
        hash=bytes(hash_),
    )


def _run_record(row: Row[Any]) -> RunRecord:
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
