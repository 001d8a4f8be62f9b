"""The log's tables, in SQLAlchemy Core. Migrations create them; this module only describes them.

``events`` is the log. ``runs`` is an index of it (the first and last event of each run), kept
in the same transaction as the append, so it can always be rebuilt from the events.
``log_head`` holds the newest position ever given out: positions are never reused, even after
retention deletes the newest events, and writers serialise on it. ``checkpoints`` is an index of
the root checkpoint events (by id, by thread in log order, by run), kept in the same transaction
as the append. ``thread_heads`` (each thread's state at its newest checkpoint, replaced in place)
and ``snapshots`` (the state at some earlier checkpoints) are caches of folded state: both can be
dropped and rebuilt from the events. ``thread_metadata`` holds what an API says of a thread
besides its runs (the server's thread metadata), so a thread with no run yet is kept too.
``redactions`` records each event whose payload was erased (``rewind db redact``): when, why,
by whom, and the digest of the erased payload, which its hash chain goes on covering (see
:mod:`rewind.log.chain`).

``run_queue`` is not the log's either: the runs an API server accepted, claimed by workers
(:mod:`rewind.server.queue`); what each did is in the log. Nor are the API server's other
records: ``assistants`` and ``assistant_versions`` (versioned assistant configurations),
``run_cancels`` (cancellations asked of runs another server process executes) and ``crons``
(scheduled runs).

``store_items`` and ``store_vectors`` are not the log's: they hold the long-term memory store's
items and embeddings (:mod:`rewind.store.sqlite`, which reads and writes them in SQL of its own),
described here so that the schema the migrations build is described in one place.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

__all__ = [
    "assistant_versions",
    "assistants",
    "checkpoints",
    "crons",
    "events",
    "log_head",
    "metadata",
    "redactions",
    "run_cancels",
    "run_queue",
    "runs",
    "snapshots",
    "store_items",
    "store_vectors",
    "thread_heads",
    "thread_metadata",
]

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("run_key", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False, unique=True),
    Column("thread_id", String(255), nullable=False),
    Column("graph_name", String(255)),
    Column("status", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("updated_at", BigInteger, nullable=False),
    Column("origin_run_id", String(64)),
    Column("origin_checkpoint_id", String(64)),
    Column("last_seq", Integer, nullable=False),
    Column("last_hash", LargeBinary, nullable=False),
    Column("first_position", BigInteger, nullable=False),
    Column("last_position", BigInteger, nullable=False),
    # The first seq whose hash chains over its payload's digest: 0 for every run created since
    # revision 0005; NULL for a run written before (chained over its payloads' text) until a
    # redaction re-chains it from the first event it erases.
    Column("chain_from", Integer),
    # A thread's runs in log order (its listings, the runs after its head), the runs started
    # from a checkpoint or from a run (a deletion's dependants), and the runs still running
    # (orphan checks): each found without reading a thread's history.
    Index("ix_runs_thread", "thread_id", "first_position"),
    Index("ix_runs_created", "created_at"),
    Index("ix_runs_origin_checkpoint", "origin_checkpoint_id"),
    Index("ix_runs_origin", "origin_run_id"),
    Index(
        "ix_runs_running",
        "thread_id",
        sqlite_where=text("status = 'running'"),
        postgresql_where=text("status = 'running'"),
    ),
)

events = Table(
    "events",
    metadata,
    Column(
        "position",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("run_key", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("type", String(32), nullable=False),
    Column("ts", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("step", Integer),
    Column("ns", Text),
    Column("node", String(255)),
    Column("task_id", String(64)),
    Column("codec", SmallInteger, nullable=False),
    Column("payload", Text, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    Column("packed", Integer),  # NULL: one event; k: k events (rewind.log.packs)
    UniqueConstraint("run_key", "seq", name="uq_events_run_seq"),
)

log_head = Table(
    "log_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("position", BigInteger, nullable=False),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("run_key", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("codec", SmallInteger, nullable=False),
    Column("state", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("thread_id", String(255), primary_key=True),  # a copied thread keeps the ids
    Column("checkpoint_id", String(64), primary_key=True),
    Column("run_key", Integer, nullable=False),
    Column("seq", Integer, nullable=False),  # the checkpoint event's seq in its run
    Column("position", BigInteger, nullable=False),  # and its log position
    Index("ix_checkpoints_thread_position", "thread_id", "position"),
    sqlite_with_rowid=False,
)

thread_heads = Table(
    "thread_heads",
    metadata,
    Column("thread_id", String(255), primary_key=True),
    Column("checkpoint_id", String(64), nullable=False),
    Column("run_key", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("position", BigInteger, nullable=False),
    # Payload bytes the thread has logged, and logged since its newest snapshot: whether the
    # state is worth keeping here, and when the next snapshot is due.
    Column("logged", BigInteger, nullable=False),
    Column("unsnapshotted", BigInteger, nullable=False),
    Column("codec", SmallInteger, nullable=False),
    # NULL when the state is too large for the thread's log to keep twice: a reader folds it
    # from the nearest snapshot (it costs a bounded multiple of the state's own size).
    Column("state", Text),
    sqlite_with_rowid=False,
)

thread_metadata = Table(
    "thread_metadata",
    metadata,
    Column("thread_id", String(255), primary_key=True),
    Column("created_at", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("updated_at", BigInteger, nullable=False),
    Column("codec", SmallInteger, nullable=False),
    Column("metadata", Text, nullable=False),
    sqlite_with_rowid=False,
)

redactions = Table(
    "redactions",
    metadata,
    Column("run_key", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    # The SHA-256 of the payload the redaction erased: what the event's hash goes on covering.
    Column("digest", LargeBinary, nullable=False),
    Column("scope", String(16), nullable=False),  # "payload" (whole) or "contents"
    Column("redacted_at", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("reason", Text),
    Column("actor", String(255)),
    # When this redaction re-chained the run (written before revision 0005) from this event on:
    # the run's last hash before it did.
    Column("rechained_from", LargeBinary),
    sqlite_with_rowid=False,
)

store_items = Table(
    "store_items",
    metadata,
    Column("prefix", Text, primary_key=True),  # the namespace's labels joined with "."
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),  # JSON
    Column("created_at", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("updated_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger),
    Column("ttl_minutes", Float),
    Index(
        "ix_store_items_expires_at",
        "expires_at",
        sqlite_where=text("expires_at IS NOT NULL"),
        postgresql_where=text("expires_at IS NOT NULL"),
    ),
)

store_vectors = Table(
    "store_vectors",
    metadata,
    Column("prefix", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("field", Text, primary_key=True),  # the field path embedded
    Column("embedding", LargeBinary, nullable=False),  # float32, the machine's byte order
    sqlite_with_rowid=False,
)

run_queue = Table(
    "run_queue",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("thread_id", String(255), nullable=False),
    Column("graph_id", String(255), nullable=False),
    Column("assistant_id", String(64), nullable=False),
    Column("request", Text, nullable=False),  # JSON: the run request, as validated
    Column("metadata", Text, nullable=False),  # JSON
    Column("multitask_strategy", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # the API's: pending, running, success, ...
    Column("created_at", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("updated_at", BigInteger, nullable=False),
    Column("not_before", BigInteger, nullable=False),  # not claimed before (after_seconds)
    Column("attempt", Integer, nullable=False),  # 0 until claimed; +1 per claim
    Column("log_run_id", String(64)),  # the current attempt's run in the log
    Column("owner", String(255)),  # the worker holding the lease
    Column("lease_until", BigInteger),
    Column("cancel", String(16)),  # "interrupt" or "rollback", once asked
    Column("hidden", SmallInteger, nullable=False),
    Column("error", Text),  # JSON: {error, message} of a run that failed
    Index("ix_run_queue_status", "status", "created_at"),
    Index("ix_run_queue_thread", "thread_id", "created_at"),
)

assistants = Table(
    "assistants",
    metadata,
    Column("assistant_id", String(64), primary_key=True),
    Column("graph_id", String(255), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("config", Text, nullable=False),  # JSON
    Column("context", Text, nullable=False),  # JSON
    Column("metadata", Text, nullable=False),  # JSON
    Column("version", Integer, nullable=False),  # the version in use (set_latest may go back)
    Column("created_at", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_assistants_graph", "graph_id", "created_at"),
)
"""Each assistant as it is now: its version in use, copied from ``assistant_versions``."""

assistant_versions = Table(
    "assistant_versions",
    metadata,
    Column("assistant_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("graph_id", String(255), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("config", Text, nullable=False),  # JSON
    Column("context", Text, nullable=False),  # JSON
    Column("metadata", Text, nullable=False),  # JSON
    Column("created_at", BigInteger, nullable=False),
)
"""Every version of every assistant (an update adds one; none is ever changed)."""

run_cancels = Table(
    "run_cancels",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("thread_id", String(255), nullable=False),
    Column("action", String(16), nullable=False),  # "interrupt" or "rollback"
    Column("requested_at", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Index("ix_run_cancels_thread", "thread_id"),
)
"""Cancellations asked of runs a server process executes, by any server process (outside
``--queue`` mode, where each server executes its own runs): the executing process stops the
run when it sees its row (:mod:`rewind.server.queue`). An ``interrupt`` row goes once it was
acted on; a ``rollback`` row stays, as the record that the run is left out of listings, until
its thread is deleted."""

crons = Table(
    "crons",
    metadata,
    Column("cron_id", String(64), primary_key=True),
    Column("assistant_id", String(64), nullable=False),
    Column("thread_id", String(255)),  # none: each firing makes a thread of its own
    Column("schedule", String(255), nullable=False),  # a cron expression (seconds: a 6th field)
    Column("timezone", String(64)),  # IANA; none: UTC
    Column("payload", Text, nullable=False),  # JSON: the run request each firing makes
    Column("metadata", Text, nullable=False),  # JSON
    Column("user_id", String(255)),
    Column("on_run_completed", String(16)),  # thread-less crons: "delete" or "keep"
    Column("enabled", SmallInteger, nullable=False),
    Column("end_time", BigInteger),  # microseconds since the epoch: no firing after it
    Column("next_run_at", BigInteger, nullable=False),  # the next tick due
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_crons_next", "next_run_at"),
)
"""Scheduled runs: a firing claims its tick by moving ``next_run_at`` on (compare and set), so
one tick fires once whatever number of server processes share the database."""
