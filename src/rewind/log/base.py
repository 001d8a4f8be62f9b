"""The event log over SQLAlchemy Core: append and subscribe (reads, caches, retention and
redaction are in :mod:`~rewind.log.reads`, :mod:`~rewind.log.caches`,
:mod:`~rewind.log.threads` and :mod:`~rewind.log.erasure`).

Everything here is portable SQL. What only one database speaks (how a write transaction
begins, vacuum, backup) lives in that backend's module, which subclasses :class:`EventLog`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, ClassVar, Self, TypeVar

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rewind.errors import (
    ConcurrencyError,
    LogClosedError,
    LogError,
    ReadOnlyDatabaseError,
    RunEndedError,
    UnknownRunError,
)
from rewind.events import EventType, NewEvent, StoredEvent
from rewind.log.batches import (
    NOT_PLAIN,
    check_batch,
    checkpoints_of,
    encode_event,
    is_boundary,
    micros,
)
from rewind.log.caches import LogCaches, read_stored_heads, write_indexes
from rewind.log.chain import EPOCH as _EPOCH
from rewind.log.chain import MICROSECOND as _MICROSECOND
from rewind.log.commit import (
    CHANGED_COLUMNS,
    FINAL_STATUSES,
    PROGRESS_COLUMNS,
    RUN_COLUMNS,
    CommitPlan,
    SnapshotPolicy,
    TxRun,
    head_threads,
    needs_new_keys,
    plan_commit,
)
from rewind.log.erasure import LogErasure
from rewind.log.leases import Lease, refused_appends
from rewind.log.packs import TokenPack
from rewind.log.reads import LogReads, ReadStats, read_joined, run_row
from rewind.log.records import Durability, HeadWrite
from rewind.log.rows import fresh_events
from rewind.log.schema import events, log_head, runs
from rewind.log.subscriptions import Page, SubscriptionHub
from rewind.log.threads import ThreadKeeping
from rewind.log.turn import WriteTurn
from rewind.log.writer import (
    AppendResult,
    GroupWriter,
    PendingAppend,
    QueuedRow,
    RunStart,
    result_before_commit,
)

__all__ = ["OPENED_READ_ONLY", "EventLog", "LogOptions"]

OPENED_READ_ONLY = "it was opened read-only"
""":attr:`EventLog.read_only` of a log opened with ``read_only=True``."""

T = TypeVar("T")

_DURABILITIES = ("sync", "async", "exit")
_CHAT_TOKEN = EventType.CHAT_TOKEN.value

_FINAL = FINAL_STATUSES
_UPDATE_RUN = (
    update(runs)
    .where(runs.c.run_key == bindparam("b_run_key"))
    .values({c: bindparam(f"b_{c}") for c in CHANGED_COLUMNS if c != "run_key"})
)
_CHANGED_KEYS = [f"b_{c}" for c in CHANGED_COLUMNS]
_UPDATE_RUN_PROGRESS = (
    update(runs)
    .where(runs.c.run_key == bindparam("b_run_key"))
    .values({c: bindparam(f"b_{c}") for c in PROGRESS_COLUMNS if c != "run_key"})
)
_PROGRESS_KEYS = [f"b_{c}" for c in PROGRESS_COLUMNS]


@dataclass(frozen=True, kw_only=True, slots=True)
class LogOptions:
    """How a store behaves; every field has a sensible default."""

    durability: Durability = "async"
    """Default durability of appends (LangGraph's names; ``async`` as in LangGraph)."""
    max_group_events: int = 10_000
    """Most events one group commit writes."""
    commit_delay: float = 0.005
    """Seconds the ``async`` appends that start a run wait, when the writer is idle, for more
    appends to commit with them (a group commit's window, as PostgreSQL's ``commit_delay``):
    a short run commits once. Cut short as soon as someone waits (a ``sync`` append,
    ``flush()``, an ``invoke`` returning) or a group is full; ``0`` never waits."""
    subscriber_buffer: int = 4096
    """Most live events a subscriber holds before it falls back to reading the store."""
    read_page: int = 1000
    """Events a subscriber reads from the store at a time."""
    poll_interval: float = 0.025
    """Seconds between looks at the log head for other processes' appends."""
    redact: Callable[[NewEvent], Any] | None = None
    """Rewrites each event's payload before it is encoded and appended (e.g. to mask secrets or
    personal data); it gets the event and returns the payload to store. With a redaction hook,
    the store keeps no head or snapshot the runtime offers (they would hold what the hook
    removes): readers fold the redacted log and keep the result as the thread's head."""
    snapshots: SnapshotPolicy = dataclasses.field(default_factory=SnapshotPolicy)
    """When a thread's head is also kept as a snapshot (bytes appended since the last one)."""


@dataclass(kw_only=True, slots=True)
class _RunState:
    next_seq: int
    thread_id: str
    ended: bool
    pack: TokenPack | None = None
    """The pack of tokens the run queued last (its next token may join it while it is open)."""
    pending: Any = None
    """The queued append (a :class:`PendingAppend`) :attr:`pack` is the last row of."""


class EventLog(LogReads, LogCaches, ThreadKeeping, LogErasure):
    """The ordered event log of runs and threads.

    Open one with :func:`rewind.log.open_log`; use it from one event loop, and close it
    (``await store.aclose()`` or ``async with``) to make everything durable.
    """

    _write_options: ClassVar[Mapping[str, Any]] = {}
    _head_query: ClassVar[Any] = select(log_head.c.position)
    """How a commit reads the head position it appends after (a server backend locks it)."""
    _serialize = False
    _poll_other_processes = True
    read_only: str | None = None
    """Why nothing may be written (a log opened read-only), or ``None``: appends and other
    writes raise :class:`~rewind.errors.ReadOnlyDatabaseError`; caches are not kept."""

    def __init__(self, engine: AsyncEngine, *, url: str, options: LogOptions) -> None:
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
        # This store's write transactions take turns here rather than in the database's busy
        # handler, which polls with sleeps of up to 100 ms: under a crowd of writers (a
        # server creating threads for 1,000 clients) they queue, each woken when its turn comes.
        self._write_turn = WriteTurn()
        self.stats = ReadStats()
        """How much this store has read (events, queries): for tests and benches."""
        self._unsnapshotted: dict[str, int] = {}  # per thread: bytes committed since its head
        self._runs: dict[str, _RunState] = {}
        self._failed: dict[str, BaseException] = {}
        self._forgotten: dict[str, BaseException] = {}  # runs dropped after a failed commit
        self._leases: dict[str, Lease] = {}
        self._durable_watchers: dict[str, Callable[[int], None]] = {}
        self._closed = False
        if not options.commit_delay >= 0:
            raise ValueError(
                f"commit_delay must be 0 or more seconds, not {options.commit_delay!r}"
            )
        self._writer = GroupWriter(
            self._commit_group,
            self._forget_failed,
            max_group_events=options.max_group_events,
            delay=options.commit_delay,
        )
        self._hub = SubscriptionHub(
            self._read_page,
            self._next_head if self._poll_other_processes else None,
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
    def engine(self) -> AsyncEngine:
        """The database's engine, for tables that live beside the log (the run queue)."""
        return self._engine

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
            raise LogClosedError("the store is closed; open a new one to read")
        guard: AbstractAsyncContextManager[Any] = (
            self._lock if self._lock else self._write_turn if write else nullcontext()
        )
        if write and self.read_only is not None:
            raise ReadOnlyDatabaseError(self.url, self.read_only)
        try:
            async with guard, self._engine.connect() as conn:
                if write and self._write_options:
                    conn = await conn.execution_options(**self._write_options)
                async with conn.begin():
                    yield conn
        except DBAPIError as exc:  # refused, or the server went away (mid-COMMIT, it may have
            # committed: an append made again then hears ConcurrencyError)
            done = "commit to" if write else "read"
            raise LogError(f"could not {done} {self.url}: {exc.orig}") from exc

    async def _read(self, fn: Callable[[Connection], T], *, drain: bool = True) -> T:
        """Run ``fn`` on a connection in one read transaction, after this store's own queued
        appends are committed (``drain=False``: at once); backends may run it on a reader
        thread of their own."""
        if drain:
            await self._writer.drain()  # the database must know this process's own appends
        self.stats.queries += 1
        async with self._txn() as conn:
            return await conn.run_sync(fn)

    async def _write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` on a connection in one write transaction (the database's write lock taken
        first); backends may run it on their writer's thread and connection."""
        async with self._txn(write=True) as conn:
            return await conn.run_sync(fn)

    # --- append -------------------------------------------------------------------------------

    async def append(
        self,
        run_id: str,
        events: Sequence[NewEvent],
        *,
        expected_seq: int,
        durability: Durability | None = None,
        new_run: bool = False,
        head: HeadWrite | None = None,
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
            head: The thread's state as of a root checkpoint event of this batch: kept as the
                thread's head in the same commit (a cache; see :mod:`rewind.log.caches`).

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
        marks = checkpoints_of(events, head, self.options.redact is None)
        state = self._runs.get(run_id)
        if state is None and new_run and start is not None and expected_seq == 0:
            state = self._runs[run_id] = _RunState(
                next_seq=0, thread_id=start.thread_id, ended=False
            )
        elif state is None:
            lost = self._forgotten.get(run_id)
            state = await self._load_run_state(run_id, expected_seq, start)
            if lost is not None and state.next_seq != expected_seq:  # the writer's own events
                self._forgotten[run_id] = lost  # were refused: not "another writer"
                raise _lost(run_id, lost)
        elif state.next_seq != expected_seq and not state.ended:
            # This store knows only its own appends: another store (another process) may have
            # appended since. Re-read the run (after this store's queued appends commit), so
            # that a caller that re-read it gets in, and a stale one hears the real seq.
            self._runs.pop(run_id, None)
            state = await self._load_run_state(run_id, expected_seq, start)
        pending = self._accept(run_id, state, expected_seq, rows, start, end_status, mode)
        if marks is not None:
            pending.checkpoints, pending.head = marks
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
        head: HeadWrite | None = None,
    ) -> AppendResult:
        """Append without waiting, from the store's event loop: for a run this store is writing.

        Takes ``async`` or ``exit`` durability only, and a run whose first events this store
        appended (so its seq is known without reading the database). Raises as :meth:`append`.
        """
        if len(events) == 1 and head is None and (durability or self.options.durability) == "async":
            # The hot case (a token, a custom write): one plain event joining the run's queued
            # append, without the general path's checks of what it cannot be.
            event = events[0]
            state = self._runs.get(run_id)
            if (
                type(event) is NewEvent
                and event.type not in NOT_PLAIN
                and state is not None
                and state.next_seq == expected_seq > 0
                and not self._closed
                and not self._failed
                and self.options.redact is None
            ):
                if event.type == _CHAT_TOKEN:
                    self.append_token(run_id, event, expected_seq)
                else:
                    self._append_plain(run_id, event, expected_seq)
                return AppendResult(run_id, range(expected_seq, expected_seq + 1), None)
        mode, start, end_status, rows = self._prepare(run_id, events, expected_seq, durability)
        if mode == "sync":
            raise ValueError("append_nowait cannot wait for durability; use append()")
        marks = checkpoints_of(events, head, self.options.redact is None)
        state = self._runs.get(run_id)
        if state is None:
            failed = self._forgotten.get(run_id)
            if failed is not None:  # the real cause, not "not being written by this store"
                raise _lost(run_id, failed)
            raise ValueError(
                f"run {run_id} is not being written by this store; use append() for it"
            )
        if (
            marks is None
            and start is None
            and end_status is None
            and mode == "async"
            and state.next_seq == expected_seq
            and self._writer.submit_more(run_id, expected_seq, rows)
        ):
            state.next_seq += len(rows)
            return AppendResult(run_id, range(expected_seq, state.next_seq), None)
        pending = self._accept(run_id, state, expected_seq, rows, start, end_status, mode)
        if marks is not None:
            pending.checkpoints, pending.head = marks
        self._writer.submit(pending)
        return result_before_commit(pending)

    def sync_steps(self, run_id: str) -> None:
        """Say that each step of ``run_id`` ends with an append someone waits for (LangGraph's
        ``durability="sync"``): its other appends (its tasks' starts) then wait up to
        ``options.commit_delay`` for that append and commit with it, rather than in a commit
        of their own: one commit a step. Forgotten when the run ends."""
        self._writer.step_runs.add(run_id)

    def append_token(
        self, run_id: str, event: NewEvent, expected_seq: int, key: object = None
    ) -> None:
        """:meth:`append_nowait` of one ``chat.token`` event with ``async`` durability, the
        log's most frequent append: it joins the pack of its model call's tokens queued
        before it (see :class:`~rewind.log.packs.TokenPack`), in a few steps. ``key``: the
        caller's word that its tokens are of one model call (:meth:`TokenPack.add
        <rewind.log.packs.TokenPack.add>`).

        The run's open pack is joinable as long as it is (the writer closes it; a failed
        run has no state, and no pack is made with a redaction hook): only the seq is asked
        here, and the pack asks whether the token is its call's next."""
        state = self._runs.get(run_id)
        if state is not None and state.next_seq == expected_seq:
            pack = state.pack
            if pack is not None and pack.open:
                ts = event.ts
                if ts is not None and ts.tzinfo is not None:
                    ts_us = (ts - _EPOCH) // _MICROSECOND  # (to_micros, inlined)
                else:
                    ts_us = micros(ts)
                if pack.add(event, ts_us, key):
                    state.next_seq += 1
                    pending = state.pending
                    pending.count += 1  # (the writer's grown(), inlined)
                    if pending.count >= self._writer.max_group_events:
                        self._writer.grown(pending, 0)
                    return
        self._append_plain(run_id, event, expected_seq, key)

    takes_chunks = True
    """Whether :meth:`append_chunk` may take a token (a log in memory keeps events)."""

    def append_chunk(
        self, run_id: str, expected_seq: int, key: object, token: Any, chunk: Any
    ) -> bool:
        """:meth:`append_token` of the next token of the model call whose earlier tokens came
        with ``key``, given as its text and chunk (no event made for it): whether it joined
        that call's open pack, as the event the recorder would make of it would have, stamped
        now. ``False`` (nothing appended) when it cannot join one: the caller appends it
        whole."""
        state = self._runs.get(run_id)
        if state is None or state.next_seq != expected_seq:
            return False
        pack = state.pack
        if pack is None or not pack.open or pack.key is not key:
            return False
        if not pack.add_chunk(time.time_ns() // 1000, token, chunk):
            return False
        state.next_seq += 1
        pending = state.pending
        pending.count += 1  # (the writer's grown(), inlined)
        if pending.count >= self._writer.max_group_events:
            self._writer.grown(pending, 0)
        return True

    def _append_plain(
        self, run_id: str, event: NewEvent, expected_seq: int, key: object = None
    ) -> None:
        """Queue one plain event at the run's next seq, in the run's append queued last (or
        an append of its own); a token as a new pack of its call's tokens."""
        state = self._runs.get(run_id)
        if (
            type(event) is not NewEvent
            or event.type in NOT_PLAIN
            or state is None
            or state.next_seq != expected_seq
            or self.options.redact is not None
            or self._failed
            or self._closed
        ):  # (append_nowait raises, or takes the general path)
            self.append_nowait(run_id, [event], expected_seq=expected_seq, durability="async")
            return
        new = None
        if event.type == _CHAT_TOKEN:
            new = TokenPack.of(event, micros(event.ts), key)
        tail = self._queue_row(
            run_id,
            state,
            expected_seq,
            self._writer.tail(run_id, expected_seq),
            new or encode_event(event),
        )
        state.pack, state.pending = new, tail

    def _queue_row(
        self,
        run_id: str,
        state: _RunState,
        expected_seq: int,
        last: PendingAppend | None,
        row: QueuedRow,
    ) -> PendingAppend:
        """Queue ``row`` (one event) in ``last``, the run's append queued last, or in an
        append of its own; the append it joined."""
        if last is None:
            last = self._accept(run_id, state, expected_seq, [row], None, None, "async")
            self._writer.submit(last)
            return last
        self._writer.add_row(last, row)
        state.next_seq += 1
        return last

    def _prepare(
        self,
        run_id: str,
        events: Sequence[NewEvent],
        expected_seq: int,
        durability: Durability | None,
    ) -> tuple[Durability, RunStart | None, str | None, list[QueuedRow]]:
        if self._closed:
            raise LogClosedError("the store is closed; open a new one to append")
        if self.read_only is not None:
            raise ReadOnlyDatabaseError(self.url, self.read_only)
        if durability is None:
            mode = self.options.durability
        elif durability in _DURABILITIES:
            mode = durability
        else:
            raise ValueError(f"durability must be one of {_DURABILITIES}, not {durability!r}")
        if self._failed and run_id in self._failed:
            raise self._failed.pop(run_id)
        first = events[0] if len(events) == 1 and expected_seq > 0 else None
        if first is not None and type(first) is NewEvent and not is_boundary(first.type):
            start, end_status = None, None  # the common case: one ordinary event
        else:
            start, end_status = check_batch(run_id, events, expected_seq)
        redact = self.options.redact
        if redact is not None:
            events = [dataclasses.replace(e, payload=redact(e)) for e in events]
        return mode, start, end_status, [encode_event(e) for e in events]

    def _accept(
        self,
        run_id: str,
        state: _RunState,
        expected_seq: int,
        rows: list[QueuedRow],
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
        query = select(runs.c.thread_id, runs.c.last_seq, runs.c.status).where(
            runs.c.run_id == run_id
        )
        row = await self._read(lambda conn: conn.execute(query).first())
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
        self._forgotten.pop(run_id, None)
        return state

    def _forget_failed(self, pending: PendingAppend, error: BaseException) -> BaseException:
        # The in-memory seq of this run can no longer be trusted: reload it next time.
        known = self._runs.pop(pending.run_id, None) is not None
        lost = self._forgotten.get(pending.run_id)
        if lost is not None and isinstance(error, ConcurrencyError):
            error = _lost(pending.run_id, lost)  # queued after its own failed commit
        elif known and type(error) is LogError:
            self._forgotten[pending.run_id] = error  # its commit failed (not a conflict)
        if pending.future is None:
            self._failed.setdefault(pending.run_id, error)
        return error

    async def flush(self, run_id: str | None = None) -> None:
        """Return when everything appended before this call is durable.

        Raises the first failure of a background (``async``/``exit``) append since the last
        flush, if any: of ``run_id``'s appends only, when given (the failures of other runs
        stay for their own flush: one process runs many runs on one log), else of any run's.
        """
        await self._writer.flush(run_id)

    def watch_durable(self, run_id: str, told: Callable[[int], None]) -> Callable[[], None]:
        """Tell ``told(n)``, on the event loop, each time this process commits events of
        ``run_id``: every event of the run with a seq below ``n`` is durable then. One watcher
        per run; returns the function that stops it. (A server hands a client only what is
        durable: an id it gave out must never come to mean another event after a crash.)"""
        self._durable_watchers[run_id] = told

        def stop() -> None:
            if self._durable_watchers.get(run_id) is told:
                del self._durable_watchers[run_id]

        return stop

    def _watched(self, group: list[PendingAppend]) -> bool:
        """Whether a stream waits for one of ``group``'s runs to become durable."""
        watchers = self._durable_watchers
        return bool(watchers) and any(p.run_id in watchers for p in group)

    async def _commit_group(self, group: list[PendingAppend]) -> list[BaseException | None]:
        async with self._txn(write=True) as conn:
            head = (await conn.execute(self._head_query)).scalar_one()
            result = await conn.execute(
                select(
                    runs.c.run_key,
                    runs.c.thread_id,
                    runs.c.last_seq,
                    runs.c.last_hash,
                    runs.c.status,
                    runs.c.chain_from,
                    runs.c.run_id,
                ).where(runs.c.run_id.in_({p.run_id for p in group}))
            )
            tx = {r[6]: TxRun.existing(*r[:6]) for r in result}
            max_key = 0
            if needs_new_keys(group, tx):
                max_key = (await conn.execute(select(func.max(runs.c.run_key)))).scalar() or 0
            stored = await read_stored_heads(conn, head_threads(group))
            refused = None
            if self._leases:
                refused = await refused_appends(conn, self._leases, (p.run_id for p in group))
            plan = self._plan(group, head, tx, max_key, stored, refused=refused)
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
                if plan.progressed_runs:
                    await conn.execute(
                        _UPDATE_RUN_PROGRESS,
                        [dict(zip(_PROGRESS_KEYS, r, strict=True)) for r in plan.progressed_runs],
                    )
                await self._insert_events(conn, plan.event_rows)
                await write_indexes(conn, plan)
                await conn.execute(update(log_head).values(position=plan.new_head))
                await self._head_moved(conn, plan.new_head)
        self._publish(head, plan)
        return plan.outcomes

    def hold_lease(self, run_id: str, lease: Lease | None) -> None:
        """Accept appends to ``run_id`` only while ``lease`` is the queued run's current one
        (``None``: no longer fenced). See :mod:`rewind.log.leases`."""
        if lease is None:
            self._leases.pop(run_id, None)
        else:
            self._leases[run_id] = lease

    async def _head_moved(self, conn: AsyncConnection, head: int) -> None:
        """In a commit's transaction, after it moved the head to ``head`` (a backend tells
        other processes here)."""

    def _plan(
        self,
        group: list[PendingAppend],
        head: int,
        tx: dict[str, TxRun],
        max_key: int,
        stored: Mapping[str, tuple[int, int]],
        *,
        refused: Mapping[str, BaseException] | None = None,
    ) -> CommitPlan:
        """Plan a group's commit (in the write transaction, on whichever thread commits)."""
        return plan_commit(
            group,
            head,
            tx,
            max_key,
            fresh=self._hub.active,
            heads=stored,
            carried=self._unsnapshotted,
            policy=self.options.snapshots,
            now_us=time.time_ns() // 1000,
            refused=refused,
        )

    def _publish(self, head: int, plan: CommitPlan) -> None:
        # After the commit, on the loop: carry the bytes not yet counted in a stored head.
        carry = self._unsnapshotted
        for row in plan.head_rows:
            carry.pop(row.values[-1], None)
        for thread_id, size in plan.unsnapshotted.items():
            carry[thread_id] = carry.get(thread_id, 0) + size
        if plan.fresh:
            found = [event for fresh in plan.fresh for event in fresh_events(*fresh)]
            self._hub.publish(head, plan.new_head, found)
        if self._durable_watchers:
            for run_id, next_seq in plan.committed.items():
                told = self._durable_watchers.get(run_id)
                if told is not None:
                    told(next_seq)

    async def _insert_events(self, conn: AsyncConnection, rows: list[tuple[Any, ...]]) -> None:
        """Insert event rows (tuples in ``events`` column order); backends may use the driver."""
        names = [c.name for c in events.columns]
        await conn.execute(insert(events), [dict(zip(names, r, strict=True)) for r in rows])

    # --- subscriptions ------------------------------------------------------------------------

    async def _next_head(self) -> int:
        """Wait until another process may have committed (polling: one ``poll_interval``),
        and return the log's head position."""
        await asyncio.sleep(self.options.poll_interval)
        return await self._read_head()

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
        def query(conn: Connection) -> Page:
            head = conn.execute(select(log_head.c.position)).scalar_one()
            found = read_joined(
                conn, after=after, limit=limit, until=head, run_id=run_id, thread_id=thread_id
            )
            covered = head if len(found) < limit else found[-1].position
            over = False
            if run_id is not None:
                run = run_row(conn, run_id)
                over = run.status in _FINAL and run.last_position <= max(after, covered)
            return Page(events=found, covered=covered, run_over=over and len(found) < limit)

        return await self._read(query, drain=False)

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


def _lost(run_id: str, failed: BaseException) -> LogError:
    """The error an append gets after an earlier append of the run failed in its commit."""
    error = LogError(
        f"an earlier append to run {run_id} failed, so what follows it is not stored: {failed}"
    )
    error.__cause__ = failed
    return error
