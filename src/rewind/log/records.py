"""Records the store returns besides events: runs, threads, snapshots, chain checks,
redactions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from rewind.events import RunStatus

__all__ = [
    "ChainReport",
    "CheckpointRecord",
    "HeadWrite",
    "Durability",
    "PruneReport",
    "RedactionScope",
    "RedactedEvent",
    "RedactionRecord",
    "RedactionReport",
    "RunRecord",
    "Snapshot",
    "ThreadHead",
    "ThreadMetadata",
    "ThreadRecord",
]

RedactionScope = Literal["payload", "contents"]
"""What a redaction replaced: the whole payload, or values inside it."""

Durability = Literal["sync", "async", "exit"]
"""When appended events become durable (LangGraph's names).

``sync``: before ``append`` returns (concurrent appenders share commits). ``async``: in the
background, within the writer's commit window (the commit in progress, or
``LogOptions.commit_delay`` for a run's first events). ``exit``: when the run's
``run.ended`` event is appended, or at ``flush()``.
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class RunRecord:
    """One run, as the log's index knows it."""

    run_id: str
    """The run's id."""
    thread_id: str
    """The thread it belongs to."""
    graph_name: str | None
    """The graph it ran."""
    status: RunStatus
    """Where it stands; ``running`` until its ``run.ended`` event."""
    created_at: datetime
    """When its ``run.started`` event happened."""
    updated_at: datetime
    """When its newest event happened."""
    origin_run_id: str | None
    """For a fork or continuation, the run it started from."""
    origin_checkpoint_id: str | None
    """The checkpoint of that run it started from."""
    last_seq: int
    """The seq of its newest event; the next append's ``expected_seq`` is one more."""
    first_position: int
    """The log position of its first event."""
    last_position: int
    """The log position of its newest event."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ThreadRecord:
    """One thread: the runs that share a ``thread_id``."""

    thread_id: str
    """The thread's id."""
    created_at: datetime
    """When its first run started."""
    updated_at: datetime
    """When its newest event happened."""
    run_count: int
    """How many runs it has."""
    last_run_id: str
    """Its newest run."""
    last_status: RunStatus
    """The status of its newest run."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Snapshot:
    """Folded state of a run at one of its events: a cache, never the truth."""

    run_id: str
    """The run the state belongs to."""
    seq: int
    """The state is as of this event of the run (inclusive)."""
    state: Any
    """The state."""
    created_at: datetime
    """When the snapshot was written."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckpointRecord:
    """Where a root checkpoint is in the log (from the checkpoint index)."""

    checkpoint_id: str
    """The checkpoint's id."""
    thread_id: str
    """The thread it belongs to."""
    run_id: str
    """The run that wrote it."""
    seq: int
    """The seq of its ``checkpoint`` event in that run."""
    position: int
    """The log position of that event."""


@dataclass(frozen=True, kw_only=True, slots=True)
class HeadWrite:
    """A thread's state as of a root checkpoint event of an append: the head the store keeps
    for the thread (replaced in place), and sometimes a snapshot too. A cache of the fold."""

    checkpoint_id: str
    """The checkpoint; its ``checkpoint`` event must be in the same append."""
    state: Any
    """The state as of that checkpoint, encoded by the store's codec."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ThreadHead:
    """A thread's state at its newest checkpoint, as the store keeps it."""

    thread_id: str
    """The thread."""
    checkpoint: CheckpointRecord
    """The newest checkpoint."""
    state: Any
    """The state as of that checkpoint (what :class:`HeadWrite` gave); ``None`` when the store
    keeps only where the checkpoint is (the state is large next to the thread's log)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ChainReport:
    """The result of checking a run's hash chain."""

    run_id: str
    """The run checked."""
    ok: bool
    """Whether every event is as it was appended."""
    checked: int
    """How many events were checked."""
    first_bad_seq: int | None = None
    """The first event that was altered, removed or inserted, if any."""
    reason: str | None = None
    """What is wrong with it."""
    redacted: int = 0
    """How many of the events checked were redacted (their erased payload's digest kept)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PruneReport:
    """What a retention pass removed."""

    runs_deleted: int
    """Runs removed with their events and snapshots."""
    events_deleted: int
    """Events removed."""
    runs_kept_for_dependants: int
    """Runs that matched the rule but stayed because a retained run starts from them."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ThreadMetadata:
    """What an API says of a thread besides its runs (kept even before its first run)."""

    thread_id: str
    """The thread's id."""
    metadata: dict[str, Any]
    """The metadata, as last saved."""
    created_at: datetime
    """When it was first saved."""
    updated_at: datetime
    """When it was last saved."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RedactedEvent:
    """An event a redaction erased (or, in a dry run, would erase) values of."""

    run_id: str
    """Its run."""
    thread_id: str
    """That run's thread."""
    seq: int
    """Its seq in the run (a packed row's: its last event's)."""
    type: str
    """Its type."""
    scope: RedactionScope
    """``payload``: the whole payload was replaced; ``contents``: values inside it."""
    count: int = 1
    """How many events this is: more than one for a packed row of tokens (seqs ``seq -
    count + 1`` to ``seq``), which is redacted whole."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RedactionReport:
    """What a redaction did (or, ``dry_run``, would do)."""

    events: list[RedactedEvent]
    """The events redacted, in log order."""
    unchanged: int
    """Events selected that held nothing (more) to redact."""
    rechained: list[str]
    """Runs written before revision 0005 whose chain was re-hashed from the first event
    redacted on (see :mod:`rewind.log.chain`)."""
    threads: list[str]
    """Threads whose caches of folded state (heads, snapshots) were dropped: those of the
    runs redacted and of every run that starts from one of them."""
    snapshots: list[tuple[str, int]]
    """The snapshots dropped, as (run id, seq): where a rebuild may write them again."""
    dry_run: bool
    """Nothing was written."""
    vacuumed: bool
    """The file was compacted afterwards, so the erased bytes left it too."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RedactionRecord:
    """The record of one redacted event (kept in the ``redactions`` table)."""

    run_id: str
    """Its run."""
    thread_id: str
    """That run's thread."""
    seq: int
    """Its seq in the run (a packed row's: its last event's)."""
    type: str
    """Its type."""
    scope: RedactionScope
    """What was replaced (the widest of the redactions it went through)."""
    redacted_at: datetime
    """When (the last redaction of it)."""
    reason: str | None
    """Why, as the redaction said."""
    actor: str | None
    """Who asked for it, as the redaction said."""
    digest: bytes
    """The SHA-256 of the payload erased, which the run's hash chain goes on covering."""
    rechained_from: bytes | None
    """When this redaction re-chained the run (written before revision 0005) from this event
    on: the run's last hash before it did."""
    count: int = 1
    """How many events this is: more than one for a packed row of tokens (seqs ``seq -
    count + 1`` to ``seq``), redacted whole and recorded as one."""
