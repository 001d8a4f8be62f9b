"""Planning one group commit: the pure part, shared by every way of writing it.

Given the appends of a group, the log head and the runs they touch as the database has them
(read under the write lock), :func:`plan_commit` decides which appends are accepted, gives their
events positions and chained hashes, and says which run rows to create or change. The caller
does the I/O, in one transaction.

Besides events and run rows, a plan indexes the root checkpoints it commits, replaces the head
of each thread that an append brought a new head for (the newest one per thread), and turns a
head (any of the group's, in order) into a snapshot when enough has been appended to the thread
since its last one (:class:`SnapshotPolicy`): snapshots then cost a bounded share of the log's
bytes, and folding state from the nearest one reads a bounded multiple of the state's size,
however the writer grouped the appends.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any, cast

from rewind.errors import ConcurrencyError, RunEndedError, UnknownRunError
from rewind.events import RunStatus
from rewind.log.chain import GENESIS, digest_hash, payload_digest, text_hash
from rewind.log.packs import PACK_MAX, PACKABLE, TokenPack, pack_payload
from rewind.log.writer import EncodedEvent, PendingAppend, QueuedRow, RunStart

__all__ = ["CommitPlan", "HeadRow", "SnapshotPolicy", "TxRun", "plan_commit"]

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
    "chain_from",
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
    "packed",
)
"""Column order of :attr:`CommitPlan.event_rows` (``packed``: see :mod:`rewind.log.packs`)."""

CHECKPOINT_COLUMNS = ("checkpoint_id", "thread_id", "run_key", "seq", "position")
"""Column order of :attr:`CommitPlan.checkpoint_rows`."""

HEAD_COLUMNS = (
    "checkpoint_id",
    "run_key",
    "seq",
    "position",
    "logged",
    "unsnapshotted",
    "codec",
    "state",
    "thread_id",
)
"""Column order of :attr:`HeadRow.values` (the key last, for an UPDATE)."""

SNAPSHOT_COLUMNS = ("run_key", "seq", "codec", "state", "created_at")
"""Column order of :attr:`CommitPlan.snapshot_rows`."""

CHANGED_COLUMNS = ("last_seq", "last_hash", "updated_at", "last_position", "status", "run_key")
"""Column order of :attr:`CommitPlan.changed_runs` rows (the key last)."""

PROGRESS_COLUMNS = ("last_seq", "last_hash", "updated_at", "last_position", "run_key")
"""Column order of :attr:`CommitPlan.progressed_runs` rows (the key last)."""


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
    ended: bool = False
    """Its status changes in this commit (it ended)."""
    start: RunStart | None = None
    created_us: int = 0
    updated_us: int = 0
    first_position: int = 0
    last_position: int = 0
    chain_from: int | None = 0
    """Where its chain goes over payload digests (``None``: a run chained over payload text,
    written before revision 0005; its appends go on that way)."""

    @classmethod
    def existing(
        cls,
        run_key: int,
        thread_id: str,
        last_seq: int,
        last_hash: bytes,
        status: str,
        chain_from: int | None,
    ) -> TxRun:
        """A run already in the database."""
        return cls(
            run_key=run_key,
            thread_id=thread_id,
            next_seq=last_seq + 1,
            last_hash=bytes(last_hash),
            status=status,
            chain_from=chain_from,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class SnapshotPolicy:
    """What a thread's caches keep: its state at its newest checkpoint (the head) when that
    costs little next to its log, and snapshots at earlier ones, spaced by what was logged.

    So the caches' bytes stay within a fraction (``1/factor``) of the log's, and the state at
    any checkpoint is folded from at most ``max(min_bytes, factor * state)`` bytes of events.
    """

    min_bytes: int = 8 * 1024
    """Payload bytes the thread must have appended since its last snapshot, at least..."""
    factor: int = 4
    """... and at least this many times the size of the state itself; a head keeps the state
    when it is at most the thread's logged bytes divided by this (or ``head_bytes``)."""
    head_bytes: int = 16 * 1024
    """A state this small is always kept in the head."""
    codec: int = 1
    """The codec version heads and snapshots are encoded with."""


@dataclass(kw_only=True, slots=True)
class HeadRow:
    """A thread head to write: replacing the stored one (``exists``) or the thread's first."""

    values: tuple[Any, ...]
    """The row in :data:`HEAD_COLUMNS` order."""
    exists: bool
    """Whether the thread has a stored head (an UPDATE) or not (an INSERT)."""


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
    """Updates of existing runs that ended, in :data:`CHANGED_COLUMNS` order."""
    progressed_runs: list[tuple[Any, ...]] = field(default_factory=list)
    """Updates of existing runs that go on, in :data:`PROGRESS_COLUMNS` order: their status
    is not written, so the index of running runs (a partial index on status) is not
    rewritten by every commit of a run."""
    fresh: list[tuple[str, str, tuple[Any, ...]]] = field(default_factory=list)
    """(run_id, thread_id, event row) of accepted events, for live subscribers."""
    committed: dict[str, int] = field(default_factory=dict)
    """Per run with accepted appends: its next seq once this commits (every event before it
    is durable then)."""
    new_head: int = 0
    """The log head after the commit."""
    checkpoint_rows: list[tuple[Any, ...]] = field(default_factory=list)
    """Checkpoint index rows in :data:`CHECKPOINT_COLUMNS` order."""
    head_rows: list[HeadRow] = field(default_factory=list)
    """Thread heads to write."""
    snapshot_rows: list[tuple[Any, ...]] = field(default_factory=list)
    """Snapshots to insert, in :data:`SNAPSHOT_COLUMNS` order."""
    unsnapshotted: dict[str, int] = field(default_factory=dict)
    """Per thread: payload bytes committed here and not yet counted in a stored head (the
    caller carries them to the thread's next head)."""


def needs_new_keys(group: Iterable[PendingAppend], tx: dict[str, TxRun]) -> bool:
    """Whether the group creates runs (the caller then reads the largest run key)."""
    return any(p.start is not None and p.run_id not in tx for p in group)


def head_threads(group: Iterable[PendingAppend]) -> list[str]:
    """The threads the group brings a new head for (the caller reads their stored heads)."""
    return list({p.thread_id: None for p in group if p.head is not None})


def plan_commit(
    group: list[PendingAppend],
    head: int,
    tx: dict[str, TxRun],
    max_key: int,
    *,
    fresh: bool,
    heads: Mapping[str, tuple[int, int]] | None = None,
    carried: Mapping[str, int] | None = None,
    policy: SnapshotPolicy | None = None,
    now_us: int = 0,
    refused: Mapping[str, BaseException] | None = None,
) -> CommitPlan:
    """Plan the commit of ``group`` after log position ``head``.

    Args:
        group: The appends, in submission order.
        head: The newest position given out so far.
        tx: The runs the group touches that the database has (by run id).
        max_key: The largest run key in use.
        fresh: Whether to list accepted events for live subscribers.
        heads: For the threads of :func:`head_threads` that have a stored head: its
            ``logged`` and ``unsnapshotted`` byte counts.
        carried: Per thread, payload bytes committed earlier and not yet in a stored head.
        policy: When a head is also kept as a snapshot.
        now_us: The time to stamp snapshots with.
        refused: Runs whose appends are refused, with the error each gets (fenced runs).
    """
    plan = CommitPlan(outcomes=[None] * len(group))
    rows = plan.event_rows
    pos = head
    # Per thread, its accepted appends in order: (payload bytes, append, run).
    appended: dict[str, list[tuple[int, PendingAppend, TxRun]]] = {}
    written = plan.unsnapshotted
    for i, p in enumerate(group):
        if refused and p.run_id in refused:
            plan.outcomes[i] = refused[p.run_id]
            continue
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
                created_us=_ts_of(p.rows[0]),
                first_position=pos + 1,
            )
        error = _check(p, st)
        if error is not None:
            plan.outcomes[i] = error
            continue
        assert st is not None
        prev, first, run_id, key = st.last_hash, pos + 1, p.run_id, st.run_key
        size = 0
        # A run's appends always come after where its digest chain begins, if it has one.
        over_text = st.chain_from is None
        for k, count, (type_, ts_us, step, ns, node, task_id, version, payload) in _rows_of(p.rows):
            seq = p.first_seq + k
            pos += count
            size += len(payload)
            if over_text:
                prev = text_hash(
                    prev, run_id, seq, type_, ts_us, step, ns, node, task_id, version, payload
                )
            else:
                prev = digest_hash(
                    prev,
                    run_id,
                    seq,
                    type_,
                    ts_us,
                    step,
                    ns,
                    node,
                    task_id,
                    version,
                    payload_digest(payload),
                )
            row = (
                pos,
                key,
                seq,
                type_,
                ts_us,
                step,
                ns,
                node,
                task_id,
                version,
                payload,
                prev,
                count if count > 1 else None,
            )
            rows.append(row)
            if fresh:
                plan.fresh.append((run_id, st.thread_id, row))
        p.positions = range(first, pos + 1)
        written[st.thread_id] = written.get(st.thread_id, 0) + size
        for index, checkpoint_id in p.checkpoints or ():
            plan.checkpoint_rows.append(
                (checkpoint_id, st.thread_id, key, p.first_seq + index, first + index)
            )
        appended.setdefault(st.thread_id, []).append((size, p, st))
        st.next_seq += p.count
        plan.committed[run_id] = st.next_seq
        st.last_hash, st.last_position, st.touched = prev, pos, True
        st.updated_us = _ts_of(p.rows[-1], last=True)
        if p.end_status is not None:
            st.status, st.ended = p.end_status, True
    plan.new_head = pos
    _plan_heads(plan, appended, heads or {}, carried or {}, policy or SnapshotPolicy(), now_us)
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
                    st.chain_from,
                )
            )
        elif st.ended:
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
        else:
            plan.progressed_runs.append(
                (st.next_seq - 1, st.last_hash, st.updated_us, st.last_position, st.run_key)
            )
    return plan


_HEAD = itemgetter(0, 2, 3, 4, 5, 6)
"""What the events of one row share: type, step, namespace, node, task and codec version."""
_TS, _TEXT = itemgetter(1), itemgetter(7)


def _rows_of(queued: list[QueuedRow]) -> Iterator[tuple[int, int, EncodedEvent]]:
    """The rows an append's events are stored in: ``(index of the row's last event, how many
    events it holds, the row)``. A model call's tokens gathered as they came
    (:class:`~rewind.log.packs.TokenPack`) are one row; other consecutive tokens with the same
    step, namespace, node, task and codec version share a row (up to :data:`PACK_MAX`); every
    other event has its own."""
    if len(queued) == 1 and type(queued[0]) is tuple:
        yield 0, 1, queued[0]
        return
    i = 0
    for kind, part in groupby(queued, type):
        if kind is TokenPack:
            for pack in part:
                assert isinstance(pack, TokenPack)
                i += len(pack)
                yield i - 1, len(pack), pack.row()
            continue
        encoded = cast(list[EncodedEvent], list(part))
        yield from _packed_rows(encoded, i)
        i += len(encoded)


def _packed_rows(events: list[EncodedEvent], base: int) -> Iterator[tuple[int, int, EncodedEvent]]:
    """:func:`_rows_of` encoded events, the first the append's ``base``-th."""
    i = 0
    for head, members in groupby(map(_HEAD, events)):
        end = i + len(list(members))
        if head[0] != PACKABLE:
            for k in range(i, end):
                yield base + k, 1, events[k]
        else:
            for start in range(i, end, PACK_MAX):
                stop = min(start + PACK_MAX, end)
                if stop - start == 1:
                    yield base + start, 1, events[start]
                    continue
                part = events[start:stop]
                payload = pack_payload(list(map(_TS, part)), list(map(_TEXT, part)))
                yield base + stop - 1, stop - start, (*part[0][:7], payload)
        i = end


def _ts_of(row: QueuedRow, *, last: bool = False) -> int:
    """The time of a queued row's (first or ``last``) event, in µs."""
    if type(row) is tuple:
        return row[1]
    assert isinstance(row, TokenPack)
    return row.times[-1 if last else 0]


def _plan_heads(
    plan: CommitPlan,
    appended: dict[str, list[tuple[int, PendingAppend, TxRun]]],
    stored: Mapping[str, tuple[int, int]],
    carried: Mapping[str, int],
    policy: SnapshotPolicy,
    now_us: int,
) -> None:
    """Each thread's newest head of the group replaces its stored one; a head becomes a
    snapshot where enough was appended since the last one, the group's earlier heads as well
    as its newest: how the writer groups appends does not change where snapshots fall."""
    for thread_id, appends in appended.items():
        if all(p.head is None for _, p, _ in appends):
            continue  # its bytes are carried to the commit of its next head
        logged, since = stored.get(thread_id, (0, 0))
        added = carried.get(thread_id, 0)
        newest: tuple[PendingAppend, TxRun] | None = None
        for size, p, st in appends:
            added += size
            if p.head is None:
                continue
            logged, since, added = logged + added, since + added, 0
            index, state = p.head
            if since >= max(policy.min_bytes, policy.factor * len(state)):
                plan.snapshot_rows.append(
                    (st.run_key, p.first_seq + index, policy.codec, state, now_us)
                )
                since = 0
            newest = (p, st)
        assert newest is not None
        p, st = newest
        logged, since = logged + added, since + added  # what followed the newest head
        plan.unsnapshotted.pop(thread_id, None)
        assert p.head is not None and p.positions is not None
        index, state = p.head
        seq, position = p.first_seq + index, p.positions[index]
        checkpoint_id = next(c for i, c in p.checkpoints or () if i == index)
        kept = state if len(state) <= max(policy.head_bytes, logged // policy.factor) else None
        values = (
            checkpoint_id,
            st.run_key,
            seq,
            position,
            logged,
            since,
            policy.codec,
            kept,
            thread_id,
        )
        plan.head_rows.append(HeadRow(values=values, exists=thread_id in stored))


def _check(p: PendingAppend, st: TxRun | None) -> BaseException | None:
    if st is None:
        return UnknownRunError(p.run_id)
    if (p.start is not None and not st.new) or st.next_seq != p.first_seq:
        return ConcurrencyError(p.run_id, p.first_seq, st.next_seq)
    if st.status in FINAL_STATUSES:
        return RunEndedError(p.run_id)
    return None
