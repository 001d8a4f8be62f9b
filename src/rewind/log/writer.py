"""The group-commit writer: appends from many concurrent runs share few transactions.

Appends are queued in memory and committed by one background task per store, as many as are
waiting at once (up to a cap) in one transaction. A ``sync`` append waits for the commit of its
group; an ``async`` one returns at once and is durable when its group commits (the window is
the length of the commit in progress, and for a run's first events a short delay, cut short
when someone waits: ``LogOptions.commit_delay``); an ``exit`` one is held until its run ends or
the store is flushed. Failures of appends nobody waits for are kept and raised by the next
``flush()`` and by the next append to the same run.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NamedTuple

from rewind.errors import LogClosedError
from rewind.log.packs import TokenPack
from rewind.log.records import Durability

__all__ = [
    "AppendResult",
    "EncodedEvent",
    "GroupWriter",
    "PendingAppend",
    "QueuedRow",
    "RunStart",
]

EncodedEvent = tuple[str, int, int | None, str | None, str | None, str | None, int, str]
"""(type, ts_us, step, ns, node, task_id, codec, payload): an event ready for the log."""

QueuedRow = EncodedEvent | TokenPack
"""What an append queues per row: an encoded event, or a model call's tokens not yet encoded."""


class AppendResult(NamedTuple):
    """What an append was given: its seqs, and its positions once durable.

    A named tuple rather than a dataclass: one is made per append, on the hot path.
    """

    run_id: str
    """The run appended to."""
    seqs: range
    """The seqs the events got."""
    positions: range | None
    """Their log positions; ``None`` when ``append`` returned before the commit."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RunStart:
    """What a run's ``run.started`` event puts into the run index."""

    thread_id: str
    graph_name: str | None
    origin_run_id: str | None
    origin_checkpoint_id: str | None


class PendingAppend:
    """One ``append`` call on its way to the database (a plain class: made per append)."""

    __slots__ = (
        "checkpoints",
        "count",
        "durability",
        "end_status",
        "first_seq",
        "future",
        "head",
        "positions",
        "rows",
        "run_id",
        "start",
        "thread_id",
        "ticket",
    )

    def __init__(
        self,
        run_id: str,
        thread_id: str,
        first_seq: int,
        rows: list[QueuedRow],
        start: RunStart | None,
        end_status: str | None,
        durability: Durability,
    ) -> None:
        self.run_id = run_id
        self.thread_id = thread_id
        self.first_seq = first_seq
        self.rows = rows
        self.count = len(rows)
        """How many events ``rows`` hold (a :class:`TokenPack` holds several)."""
        self.start = start
        self.end_status = end_status
        self.durability = durability
        self.future: asyncio.Future[AppendResult] | None = None
        self.ticket = 0
        self.positions: range | None = None
        self.checkpoints: list[tuple[int, str]] | None = None
        """(index in ``rows``, checkpoint id) of its root checkpoint events, if any."""
        self.head: tuple[int, str] | None = None
        """(index in ``rows`` of a root checkpoint, the encoded thread state as of it)."""


CommitFn = Callable[[list[PendingAppend]], Awaitable[list[BaseException | None]]]
FailFn = Callable[[PendingAppend, BaseException], BaseException]
"""Told of an append that failed; the error its caller gets (the same, or one that says more)."""


class GroupWriter:
    """Commits queued appends in groups, in submission order, from one background task."""

    def __init__(
        self, commit: CommitFn, on_failure: FailFn, *, max_group_events: int, delay: float = 0.0
    ) -> None:
        self._commit = commit
        self._delay = delay
        self._hurry: asyncio.Future[None] | None = None
        """Set while the writer waits out its delay: done when someone waits for a commit."""
        self._on_failure = on_failure
        self.max_group_events = max_group_events
        """The most events one group commits."""
        self.queue: deque[PendingAppend] = deque()
        """The appends waiting for their group, in order (to be read only outside)."""
        self._held: defaultdict[str, list[PendingAppend]] = defaultdict(list)
        self._errors: dict[str, list[BaseException]] = {}
        """Failures of background appends not raised yet, by run: each run's own flush
        raises its own (a process running many runs must not fail one with another's)."""
        self._issued = 0
        self._committed = 0
        self.commits = 0
        """Group commits made so far (each one transaction, whatever it held)."""
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.step_runs: set[str] = set()
        """Runs whose every step ends with an append someone waits for (``sync``
        durability): their other appends wait up to the delay to commit with it."""

    @property
    def backlog(self) -> int:
        """Appends queued or held, not yet committed."""
        return len(self.queue) + sum(len(v) for v in self._held.values())

    def submit(self, pending: PendingAppend) -> None:
        """Queue ``pending`` (or hold it, for ``exit`` durability until its run ends)."""
        if self._closed:
            raise LogClosedError("the store is closed; open a new one to append")
        if pending.durability == "exit" and pending.end_status is None:
            self._held[pending.run_id].append(pending)
            return
        for held in self._held.pop(pending.run_id, ()):
            self._enqueue(held)
        self._enqueue(pending)

    def submit_more(self, run_id: str, first_seq: int, rows: list[QueuedRow]) -> bool:
        """Add plain events (no run start or end, no checkpoint) to the run's append queued
        last, if it is still waiting for its group and ends where these begin; ``False`` when
        they need an append of their own. A token stream then queues one object per group,
        not one per token: fewer objects for the garbage collector to go through."""
        last = self.tail(run_id, first_seq)
        if last is None:
            return False
        _close_pack(last)
        last.rows += rows
        self.grown(last, len(rows))
        return True

    def add_row(self, pending: PendingAppend, row: QueuedRow) -> None:
        """Add one event's row to ``pending``, the :meth:`tail` of its run (the pack of tokens
        it ended with, if any, is closed: no token may join it after this row)."""
        _close_pack(pending)
        pending.rows.append(row)
        self.grown(pending, 1)

    def tail(self, run_id: str, first_seq: int) -> PendingAppend | None:
        """The run's append queued last, if plain events beginning at ``first_seq`` may
        still join it (it waits for its group, and ends there)."""
        if not self.queue:
            return None
        last = self.queue[-1]
        if (
            last.run_id != run_id
            or last.end_status is not None
            or last.future is not None
            or last.durability != "async"
            or last.first_seq + last.count != first_seq
            or last.count >= self.max_group_events
        ):
            return None
        return last

    def grown(self, pending: PendingAppend, count: int) -> None:
        """``count`` events joined ``pending`` (the :meth:`tail`); when it is full, its pack
        of tokens closes and the writer stops waiting for more."""
        pending.count += count
        if pending.count >= self.max_group_events:
            _close_pack(pending)
            self._cut_delay()

    def _enqueue(self, pending: PendingAppend) -> None:
        if self.queue:  # (a token queued from now on goes after this append, not before)
            _close_pack(self.queue[-1])
        self._issued += 1
        pending.ticket = self._issued
        self.queue.append(pending)
        if self._task is None:
            self._start()
        elif pending.future is not None or pending.count >= self.max_group_events:
            self._cut_delay()

    def _cut_delay(self) -> None:
        """Someone waits for a commit (or a group is full): the writer stops waiting for
        more appends to join the group."""
        hurry = self._hurry
        if hurry is not None and not hurry.done():
            hurry.set_result(None)

    async def _wait_for_company(self) -> None:
        """When a run starts and nobody waits for its first events: wait up to the delay for
        more to commit in the same transaction (a run of a few steps commits once, with the
        flush that ends it, not once for its first events and again at its end). So do the
        appends of a ``sync`` run's step (its tasks' starts: the step's durable end follows
        within microseconds for quick tasks, and they commit with it, one commit a step). A
        running ``async`` run's appends are not delayed: the commit in progress gathers them."""
        if (
            self._waiters
            or not (
                any(p.start is not None for p in self.queue)
                or (self.step_runs and all(p.run_id in self.step_runs for p in self.queue))
            )
            or any(p.future is not None or p.count >= self.max_group_events for p in self.queue)
        ):
            return
        loop = asyncio.get_running_loop()
        hurry = self._hurry = loop.create_future()
        timer = loop.call_later(self._delay, self._cut_delay)
        try:
            await hurry
        finally:
            timer.cancel()
            self._hurry = None

    def _start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="rewind-writer")

    async def drain(self) -> None:
        """Return when everything queued before this call is committed (held appends stay)."""
        target = self._issued
        if self._committed >= target:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, waiter))
        if self._task is None and self.queue:
            self._start()
        self._cut_delay()
        await waiter

    async def flush(self, run_id: str | None = None) -> None:
        """Commit everything appended so far, held appends included; raise the deferred
        failures of ``run_id``'s appends (``None``: of every run's)."""
        for held_run in list(self._held):
            for held in self._held.pop(held_run):
                self._enqueue(held)
        await self.drain()
        if not self._errors:
            return
        if run_id is None:
            errors = [e for run_errors in self._errors.values() for e in run_errors]
            self._errors.clear()
        else:
            errors = self._errors.pop(run_id, [])
        if errors:
            first, *rest = errors
            if rest:
                first.add_note(f"{len(rest)} more background append(s) failed as well")
            raise first

    async def close(self) -> None:
        """Flush; no further appends are taken."""
        try:
            await self.flush()
        finally:
            self._closed = True

    async def _run(self) -> None:
        # Runs while there is work, and ends when the queue is empty, so an idle store holds
        # no pending task (a store dropped without close() leaves nothing running behind).
        try:
            if self._delay > 0:
                await self._wait_for_company()
            while self.queue:
                group = self._take_group()
                self.commits += 1
                try:
                    outcomes = await self._commit(group)
                except BaseException as exc:  # the whole group failed (e.g. the disk is full)
                    outcomes = [exc] * len(group)
                    if not isinstance(exc, Exception):
                        self._settle(group, outcomes)
                        raise
                self._settle(group, outcomes)
        finally:
            self._task = None
            if self.queue and not self._closed:  # cancelled mid-way: another task goes on
                self._start()

    def awaited(self, group: list[PendingAppend]) -> bool:
        """Whether someone waits for ``group``'s commit (a ``sync`` append, a flush)."""
        last = group[-1].ticket
        return any(p.future is not None for p in group) or any(
            ticket <= last for ticket, _ in self._waiters
        )

    def _take_group(self) -> list[PendingAppend]:
        group = [self.queue.popleft()]
        size = group[0].count
        while self.queue and size + self.queue[0].count <= self.max_group_events:
            pending = self.queue.popleft()
            size += pending.count
            group.append(pending)
        for pending in group:  # (being committed: no token joins it now)
            _close_pack(pending)
        return group

    def _settle(self, group: list[PendingAppend], outcomes: list[BaseException | None]) -> None:
        for pending, error in zip(group, outcomes, strict=True):
            if pending.end_status is not None:
                self.step_runs.discard(pending.run_id)
            if error is None:
                if pending.future is not None and not pending.future.done():
                    pending.future.set_result(_result(pending))
                continue
            error = self._on_failure(pending, error)
            if pending.future is not None and not pending.future.done():
                pending.future.set_exception(error)
            else:
                self._errors.setdefault(pending.run_id, []).append(error)
        self._committed = group[-1].ticket
        still: list[tuple[int, asyncio.Future[None]]] = []
        for ticket, waiter in self._waiters:
            if ticket <= self._committed:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                still.append((ticket, waiter))
        self._waiters = still


def _close_pack(pending: PendingAppend) -> None:
    """No more tokens join the pack ``pending`` ends with, if it ends with one."""
    last = pending.rows[-1] if pending.rows else None
    if type(last) is TokenPack:
        last.open = False


def _result(pending: PendingAppend) -> AppendResult:
    n = pending.count
    return AppendResult(
        run_id=pending.run_id,
        seqs=range(pending.first_seq, pending.first_seq + n),
        positions=pending.positions,
    )


def result_before_commit(pending: PendingAppend) -> AppendResult:
    """The result an ``async``/``exit`` append returns at once (no positions yet)."""
    return _result(pending)
