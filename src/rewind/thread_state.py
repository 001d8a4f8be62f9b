"""A thread's state, read from the log at a cost that does not grow with its history.

* :func:`read_head`: the thread's newest checkpoint, from its stored head and the events after
  it (what a new run, a resume, ``get_state`` and a stream's first chunk need).
* :func:`read_checkpoint`: any root checkpoint, folded from the nearest snapshot along its
  lineage (the runs it descends from) and the events between.
* :func:`history`: a thread's checkpoints, newest first, lazily, reading only what it yields.

Each returns a :class:`ThreadState`: the checkpoint's view (its state, next tasks, and what
those tasks did: results, errors, interrupts, resume values) and the events after it that
concern its tasks, in every namespace, so subgraph states come from the same read.

A reader that wants the state as LangGraph's checkpointer gives it back (the runtime, a replay)
passes ``read_back`` (see :mod:`rewind.runtime.read_back`): when the read decoded a tuple
(:func:`~rewind.log.codec.tuples_decoded`), each view given out goes through it; a read that
decoded none gives its views as folded, at no cost.

Heads and snapshots are caches (see :mod:`rewind.log.caches`). A thread without a usable head
(a database written before heads existed, caches dropped, a log with a redaction hook) is
folded once from its events, and the result kept as its head.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rewind.events import EventType, RunStatus, StoredEvent
from rewind.log import EventLog
from rewind.log.codec import tuples_decoded
from rewind.log.records import CheckpointRecord, RedactionReport, RunRecord
from rewind.projections.state import (
    CheckpointView,
    fold_thread,
    head_state,
    view_of_head,
)

__all__ = [
    "CacheProblem",
    "ReadBack",
    "ThreadState",
    "history",
    "read_checkpoint",
    "read_checkpoints",
    "read_head",
    "rebuild_caches",
    "rebuild_head",
    "verify_caches",
]

_HISTORY_PAGE = 32

ReadBack = Callable[[CheckpointView], CheckpointView]
"""Makes a checkpoint read from the log what LangGraph's checkpointer gives back (a copy)."""


@dataclass(kw_only=True, slots=True)
class ThreadState:
    """A checkpoint of a thread, and the events after it that concern its tasks."""

    thread_id: str
    """The thread."""
    view: CheckpointView | None
    """The checkpoint with its tasks' outcomes (``None``: the thread has no checkpoint)."""
    tail: list[StoredEvent] = field(default_factory=list)
    """The events after it that concern its tasks (all namespaces), in log order."""
    origins: dict[str, str | None] = field(default_factory=dict)
    """The runs of ``tail``, in order of their first event there: their origin checkpoints."""
    running: list[RunRecord] = field(default_factory=list)
    """The thread's runs still marked running (for :func:`read_head` only)."""
    started: dict[str, Any] = field(default_factory=dict)
    """The ``run.started`` payloads of those runs, by run id."""
    read_back: ReadBack | None = None
    """What each view it gives out went (:attr:`view`) or goes (:meth:`views_at`) through: the
    reader's ``read_back``, when the read decoded a tuple."""

    def views_at(self, ns: str) -> list[CheckpointView]:
        """The checkpoints of subgraph namespace ``ns`` in the tail, oldest first."""
        if not self.tail:
            return []
        views = fold_thread(list(self.origins.items()), _by_run(self.tail), ns=ns)
        read_back = self.read_back
        return views if read_back is None else [read_back(v) for v in views]


def _given_back(state: ThreadState, read_back: ReadBack | None, mark: int) -> ThreadState:
    """``state`` as its reader wants it: through ``read_back`` when its read (since ``mark``)
    decoded a tuple."""
    if read_back is not None and tuples_decoded() != mark:
        state.read_back = read_back
        if state.view is not None:
            state.view = read_back(state.view)
    return state


# --- the head ---------------------------------------------------------------------------------


async def read_head(
    log: EventLog, thread_id: str, *, read_back: ReadBack | None = None
) -> ThreadState:
    """The thread's newest checkpoint: its stored head and the events after it, in one read.

    The events read are those after the head's checkpoint, however long the thread's history.
    A thread without a usable head is folded whole once, and its head kept. ``read_back``:
    see the module's docstring.
    """
    mark = tuples_decoded()
    return _given_back(await _read_head(log, thread_id), read_back, mark)


async def _read_head(log: EventLog, thread_id: str) -> ThreadState:
    read = await log.head_and_tail(thread_id)
    if read.head is None and not read.runs:  # a new thread: nothing more to read
        return ThreadState(thread_id=thread_id, view=None, tail=[], origins={})
    if read.head is None:
        return await rebuild_head(log, thread_id)
    mark = read.head.checkpoint
    if read.head.state is None:  # kept where it is only: folded from the nearest snapshot
        head: CheckpointView | None = await _folded(log, mark, None)
    else:
        head = view_of_head(read.head.state)
    if head is None:  # a layout this rewind does not know
        return await rebuild_head(log, thread_id)
    origins = _origins(read.tail, {r.run_id: r for r in read.runs})
    origins[mark.run_id] = head.id  # its events after the head fold from the head
    state = ThreadState(thread_id=thread_id, view=head, tail=read.tail, origins=origins)
    newest = await _fold_tail(log, state, head)
    if newest is not None and newest.id != head.id:  # the head was behind: catch it up
        await _keep_head(log, read.tail, newest)
    await _running(log, state, read.runs)
    return state


async def rebuild_head(log: EventLog, thread_id: str) -> ThreadState:
    """Fold a thread's whole log to its newest checkpoint and keep the result as its head
    (a thread whose head was never stored, or was dropped)."""
    records, events = await log.thread_log(thread_id)
    by_run = _by_run(events)
    views = fold_thread([(r.run_id, r.origin_checkpoint_id) for r in records], by_run)
    marks = _root_checkpoints(events)
    newest = max(views, key=lambda v: marks.get(v.id, -1), default=None)
    after = marks.get(newest.id, 0) if newest is not None else 0
    tail = [e for e in events if e.position > after]
    origins = _origins(tail, {r.run_id: r for r in records})
    if newest is not None:
        origins[newest.run_id] = newest.id
    state = ThreadState(thread_id=thread_id, view=newest, tail=tail, origins=origins)
    if newest is not None:
        await _keep_head(log, events, newest)
    await _running(log, state, records)
    return state


async def _keep_head(log: EventLog, events: list[StoredEvent], view: CheckpointView) -> None:
    """Keep a head a reader folded (the log refuses it if a newer one is stored)."""
    mark = next(
        (e for e in events if e.type == EventType.CHECKPOINT and not e.ns and _id(e) == view.id),
        None,
    )
    if mark is None:
        return
    checkpoint = CheckpointRecord(
        checkpoint_id=view.id,
        thread_id=mark.thread_id,
        run_id=mark.run_id,
        seq=mark.seq,
        position=mark.position,
    )
    await log.put_head(checkpoint, head_state(view))


async def _running(log: EventLog, state: ThreadState, runs: Iterable[RunRecord]) -> None:
    """Note the runs still running and their ``run.started`` payloads (orphan checks)."""
    state.running = [r for r in runs if r.status == RunStatus.RUNNING]
    firsts = {e.run_id: e for e in state.tail if e.seq == 0}
    missing = [(r.run_id, None, 1) for r in state.running if r.run_id not in firsts]
    for event in await log.read_segments(missing) if missing else ():
        firsts[event.run_id] = event
    state.started = {
        r.run_id: firsts[r.run_id].payload for r in state.running if r.run_id in firsts
    }


# --- any checkpoint ---------------------------------------------------------------------------


async def read_checkpoint(
    log: EventLog,
    checkpoint: str | CheckpointRecord,
    *,
    thread_id: str | None = None,
    cache: dict[str, CheckpointView] | None = None,
    before_position: int | None = None,
    read_back: ReadBack | None = None,
) -> ThreadState | None:
    """A root checkpoint of a thread by id: its state from the nearest snapshot along its
    lineage and the events between, and its tasks' outcomes from the runs that ran them.

    ``cache`` (kept by the caller across calls) holds the checkpoints folded on the way, so
    reading several checkpoints of one lineage folds each event once. ``before_position``
    leaves out what happened from that log position on (the checkpoint as a run starting
    there found it). ``None`` when no run of the log wrote the checkpoint. ``read_back``: see
    the module's docstring (not with a ``cache`` an earlier read filled: what that read
    decoded is not known here).
    """
    mark = tuples_decoded()
    ref = checkpoint if isinstance(checkpoint, CheckpointRecord) else None
    if ref is None:
        ref = await log.get_checkpoint(str(checkpoint), thread_id=thread_id)
        if ref is None:
            return None
    found = await read_checkpoints(log, [ref], cache=cache, before_position=before_position)
    return _given_back(found[0], read_back, mark)


async def read_checkpoints(
    log: EventLog,
    refs: list[CheckpointRecord],
    *,
    cache: dict[str, CheckpointView] | None = None,
    before_position: int | None = None,
    read_back: ReadBack | None = None,
) -> list[ThreadState]:
    """Several root checkpoints of one thread (as :func:`read_checkpoint` reads one), their
    tasks' outcomes read together: a few reads for a page of history, not a few per item.
    ``read_back``: see the module's docstring."""
    if not refs:
        return []
    mark = tuples_decoded()
    cache = {} if cache is None else cache
    views = [await _folded(log, ref, cache) for ref in refs]
    started = await log.runs_from_checkpoints(refs)
    if before_position is not None:
        started = {
            checkpoint_id: [r for r in runs if r.first_position < before_position]
            for checkpoint_id, runs in started.items()
        }
    bounds = await log.checkpoint_seqs(
        [
            *((ref.run_id, ref.seq) for ref in refs),
            *((r.run_id, None) for runs in started.values() for r in runs),
        ]
    )
    plans = []
    for ref in refs:
        runs = started.get(ref.checkpoint_id, [])
        segments = [
            (ref.run_id, ref.seq, bounds.get((ref.run_id, ref.seq))),
            *((r.run_id, None, bounds.get((r.run_id, None))) for r in runs),
        ]
        plans.append((ref, runs, segments))
    read = await log.read_segments([s for _, _, segments in plans for s in segments])
    out = []
    for (ref, runs, segments), view in zip(plans, views, strict=True):
        tail = [e for e in read if any(_within(e, s) for s in segments)]
        if before_position is not None:
            tail = [e for e in tail if e.position < before_position]
        origins: dict[str, str | None] = {ref.run_id: ref.checkpoint_id}
        origins.update((r.run_id, ref.checkpoint_id) for r in runs)
        state = ThreadState(thread_id=ref.thread_id, view=view, tail=tail, origins=origins)
        await _fold_tail(log, state, view)
        out.append(state)
    return [_given_back(state, read_back, mark) for state in out]


def _within(event: StoredEvent, segment: tuple[str, int | None, int | None]) -> bool:
    run_id, after, before = segment
    return (
        event.run_id == run_id
        and (after is None or event.seq > after)
        and (before is None or event.seq < before)
    )


async def _folded(
    log: EventLog, ref: CheckpointRecord, cache: dict[str, CheckpointView] | None
) -> CheckpointView:
    """The checkpoint's state, without its tasks' outcomes (a fresh copy to fold them onto)."""
    cache = {} if cache is None else cache
    if ref.checkpoint_id not in cache:
        await _fold_lineage(log, ref, cache)
    return _bare(cache[ref.checkpoint_id])


async def _fold_lineage(
    log: EventLog, ref: CheckpointRecord, cache: dict[str, CheckpointView]
) -> None:
    """Fold the checkpoints from the nearest snapshot up to ``ref`` into ``cache``."""
    steps = await log.lineage(ref.run_id, ref.seq)
    base = steps[-1]
    known: list[CheckpointView] = []
    if base.snapshot_seq is not None:
        snapshot = await log.get_snapshot(base.run_id, at_or_before_seq=base.seq)
        view = view_of_head(snapshot.state) if snapshot is not None else None
        if view is None:  # not a checkpoint's snapshot (written by hand): fold from the start
            steps = await log.lineage(ref.run_id, ref.seq, snapshots=False)
            base = steps[-1]
        else:
            known.append(view)
            cache.setdefault(view.id, view)
    segments = [
        (s.run_id, s.snapshot_seq if s is base and known else None, s.seq + 1)
        for s in reversed(steps)
    ]
    events = await log.read_segments(segments)
    runs = [
        (s.run_id, known[0].id if s is base and known else s.origin_checkpoint_id)
        for s in reversed(steps)
    ]
    for view in fold_thread(runs, _by_run(events), known=known):
        cache.setdefault(view.id, view)


def _bare(view: CheckpointView) -> CheckpointView:
    """A copy of a folded checkpoint without what its tasks did (folded afresh from its tail)."""
    return dataclasses.replace(
        view,
        results={},
        errors={},
        interrupts={},
        resumes={},
        interrupted_order=[],
        writes={},
        subgraphs={},
        calls={},
    )


# --- history ----------------------------------------------------------------------------------


async def history(
    log: EventLog,
    thread_id: str,
    *,
    before: str | None = None,
    limit: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    read_back: ReadBack | None = None,
) -> AsyncIterator[CheckpointView]:
    """A thread's checkpoints, newest first, as ``get_state_history`` lists them.

    Args:
        log: The log.
        thread_id: The thread.
        before: Only checkpoints written before this one (by id).
        limit: At most this many.
        metadata: Only checkpoints whose metadata has all these key/value pairs.
        read_back: See the module's docstring.

    Raises:
        ValueError: ``before`` names no checkpoint of the thread.
    """
    if limit is not None and limit <= 0:
        return
    head = await read_head(log, thread_id, read_back=read_back)
    below: int | None = None
    if before is not None:
        mark = await log.get_checkpoint(before, thread_id=thread_id)
        if mark is None:
            raise ValueError(
                f"no checkpoint {before!r} on thread {thread_id!r}; list them with "
                "get_state_history(config)"
            )
        below = mark.position
    cache: dict[str, CheckpointView] = {}
    given = 0
    # Whether a read of this history decoded a tuple: the pages after it may reuse the
    # checkpoints it folded (the cache) without decoding them again.
    decoded = tuples_decoded()
    while True:
        size = _HISTORY_PAGE if limit is None else min(_HISTORY_PAGE, limit - given + 1)
        page = await log.list_checkpoints(thread_id, before_position=below, limit=size)
        newest = head.view.id if head.view is not None else None
        folded = {
            state.view.id: state.view
            for state in await read_checkpoints(
                log, [r for r in page if r.checkpoint_id != newest], cache=cache
            )
            if state.view is not None
        }
        given_back = read_back if tuples_decoded() != decoded else None
        for ref in page:
            view = head.view if ref.checkpoint_id == newest else folded.get(ref.checkpoint_id)
            if view is None or not _matches(view, metadata):
                continue
            yield view if given_back is None or view is head.view else given_back(view)
            given += 1
            if limit is not None and given >= limit:
                return
        if len(page) < size:
            return
        below = page[-1].position


def _matches(view: CheckpointView, metadata: Mapping[str, Any] | None) -> bool:
    return not metadata or all(view.metadata.get(k) == v for k, v in metadata.items())


# --- rebuilding the caches ---------------------------------------------------------------------


async def rebuild_caches(log: EventLog, report: RedactionReport) -> int:
    """Fold again, from the redacted log, the heads and snapshots a redaction dropped
    (``log.redact`` drops them; a head would otherwise be rebuilt when its thread is next
    read, and a snapshot not at all). Returns how many were written."""
    written = 0
    for thread_id in report.threads:
        state = await read_head(log, thread_id)
        written += state.view is not None
    threads: dict[str, str] = {}
    for run_id, seq in report.snapshots:
        if run_id not in threads:
            threads[run_id] = (await log.get_run(run_id)).thread_id
        marks = await log.list_checkpoints(threads[run_id], run_id=run_id)
        ref = next((m for m in marks if m.seq == seq), None)
        found = await read_checkpoint(log, ref) if ref is not None else None
        if found is not None and found.view is not None:
            await log.put_snapshot(run_id, seq, head_state(found.view))
            written += 1
    return written


# --- checking the caches -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class CacheProblem:
    """A head or snapshot that disagrees with the fold of the log."""

    thread_id: str
    """The thread."""
    what: str
    """``head`` or ``snapshot``."""
    checkpoint_id: str
    """The checkpoint it describes."""
    reason: str
    """What differs."""


async def verify_caches(log: EventLog) -> tuple[int, list[CacheProblem]]:
    """Fold every thread that has a head or a snapshot from its whole log and compare: the
    head must be at the thread's newest checkpoint with the same state, and each snapshot
    must hold the state at its checkpoint. Returns how many caches were checked, and what
    disagrees (nothing, when the caches can be trusted; dropping them changes no output)."""
    heads = {h.thread_id: h for h in await log.list_heads()}
    snapshots = await log.list_snapshots()
    runs = {s.run_id for s in snapshots}
    threads = set(heads)
    for run_id in runs:
        threads.add((await log.get_run(run_id)).thread_id)
    problems: list[CacheProblem] = []
    checked = 0
    for thread_id in sorted(threads):
        records, events = await log.thread_log(thread_id)
        views = fold_thread([(r.run_id, r.origin_checkpoint_id) for r in records], _by_run(events))
        by_id = {v.id: v for v in views}
        marks = _root_checkpoints(events)
        head = heads.get(thread_id)
        if head is not None:
            checked += 1
            newest = max(views, key=lambda v: marks.get(v.id, -1), default=None)
            found = head.checkpoint.checkpoint_id
            if newest is None or newest.id != found:
                reason = f"the thread's newest checkpoint is {newest.id if newest else None}"
                problems.append(
                    CacheProblem(
                        thread_id=thread_id, what="head", checkpoint_id=found, reason=reason
                    )
                )
            elif head.state is not None:
                problems += _compare(thread_id, "head", head.state, newest)
        for snapshot in (s for s in snapshots if s.run_id in {r.run_id for r in records}):
            checked += 1
            kept = view_of_head(snapshot.state)
            view = by_id.get(kept.id) if kept is not None else None
            if kept is None or view is None:
                problems.append(
                    CacheProblem(
                        thread_id=thread_id,
                        what="snapshot",
                        checkpoint_id=str(kept.id if kept else "?"),
                        reason=f"describes no checkpoint of run {snapshot.run_id}",
                    )
                )
                continue
            problems += _compare(thread_id, "snapshot", snapshot.state, view)
    return checked, problems


def _compare(thread_id: str, what: str, state: Any, view: CheckpointView) -> list[CacheProblem]:
    expected = head_state(view)
    differing = [k for k in expected if expected[k] != (state or {}).get(k)]
    if not differing:
        return []
    reason = "differs from the fold of the log in " + ", ".join(differing)
    return [CacheProblem(thread_id=thread_id, what=what, checkpoint_id=view.id, reason=reason)]


# --- helpers ----------------------------------------------------------------------------------


async def _fold_tail(
    log: EventLog, state: ThreadState, view: CheckpointView
) -> CheckpointView | None:
    """Fold ``state.tail`` onto ``view`` (its tasks' outcomes, and any newer root checkpoint);
    set ``state.view`` to the newest root checkpoint and return it."""
    known = [view]
    marks = _root_checkpoints(state.tail)
    by_run = _by_run(state.tail)
    for run_id, origin in state.origins.items():  # a run from elsewhere that checkpointed here
        if (
            origin
            and origin != view.id
            and any(e.run_id == run_id for e in state.tail if e.position in marks.values())
        ):
            found = await read_checkpoint(log, origin, thread_id=state.thread_id)
            if found is not None and found.view is not None:
                known.append(found.view)
    views = fold_thread(list(state.origins.items()), by_run, known=known)
    newest = max(views, key=lambda v: marks.get(v.id, -1), default=view)
    state.view = newest
    return newest


def _by_run(events: Iterable[StoredEvent]) -> dict[str, list[StoredEvent]]:
    by_run: dict[str, list[StoredEvent]] = {}
    for event in events:
        by_run.setdefault(event.run_id, []).append(event)
    return by_run


def _origins(tail: list[StoredEvent], records: Mapping[str, RunRecord]) -> dict[str, str | None]:
    """The runs of ``tail`` in order of their first event there, with their origins."""
    out: dict[str, str | None] = {}
    for event in tail:
        if event.run_id not in out:
            record = records.get(event.run_id)
            out[event.run_id] = record.origin_checkpoint_id if record else None
    return out


def _root_checkpoints(events: Iterable[StoredEvent]) -> dict[str, int]:
    """The root checkpoints among ``events``: their log positions, by id."""
    return {_id(e): e.position for e in events if e.type == EventType.CHECKPOINT and not e.ns}


def _id(event: StoredEvent) -> str:
    return str((event.payload or {}).get("id"))
