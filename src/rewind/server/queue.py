"""The run queue: runs the API accepted, in the database, claimed by worker processes.

With ``rewind serve --queue`` a server does not execute runs: it writes each one to the
``run_queue`` table, and ``rewind worker`` processes claim them. Any number of servers and
workers share one database (PostgreSQL, or a SQLite file for processes on one machine):

* **Claims.** A worker claims the oldest runnable run (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL, so workers never wait on one another's claims): a pending run whose thread has
  no run executing and no older pending run (two runs of one thread never execute at once), or
  a run whose lease expired. Each claim is the run's next *attempt*, with a lease of its own.
* **Leases.** The worker's heartbeat extends its lease. When a worker dies (SIGKILL, a lost
  machine), its lease expires and another worker claims the run again: that attempt resumes
  from the thread's newest durable checkpoint (tasks whose completion reached the log do not
  run again). A worker whose lease expired while it was paused is fenced: its appends are
  refused (:mod:`rewind.log.leases`).
* **Cancellation** is asked in the row (any server process may ask it); the worker running the
  run sees it at once through a notification (PostgreSQL) or at its next heartbeat.

Outside ``--queue`` mode each server process executes the runs it accepted, and a cancellation
asked of a run another process executes is a row of ``run_cancels`` (:class:`RunCancels`): the
executing process hears of it through a notification (PostgreSQL) or reads it every
:data:`~rewind.server.runs.CANCEL_POLL` seconds while it runs runs (SQLite), and stops the run
as a local cancel does.

Attempt ``1`` of a run records into the log under the run's own id; attempt ``n > 1`` under
:func:`attempt_run_id` ``(run_id, n)``. The run's stream is its attempts' events in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from sqlalchemy import (
    Connection,
    Row,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from rewind.log import EventLog
from rewind.log.schema import run_cancels, run_queue
from rewind.server.runs import ServerRun

__all__ = [
    "FINAL",
    "CancelAction",
    "Heard",
    "QueuedRun",
    "RunCancels",
    "RunQueue",
    "ThreadTurn",
    "attempt_run_id",
    "now_us",
    "server_run_of",
]

logger = logging.getLogger(__name__)

CHANNEL = "rewind_runs"
"""The notification channel a queue change is announced on (PostgreSQL): the run's id."""

FINAL = frozenset({"success", "error", "interrupted"})
"""The statuses a queued run ends in."""

CANCEL_CHANNEL = "rewind_cancels"
"""The notification channel a cancellation in ``run_cancels`` is announced on: the run's id."""

CancelAction = Literal["interrupt", "rollback"]
"""How a cancelled run ends: interrupted, or rolled back (left out of listings too)."""

_THREAD_LOCK = 0x72756E73  # "runs": advisory locks on a thread's runs take this class key


def now_us() -> int:
    """Microseconds since the epoch (leases compare the machines' clocks: keep them in sync)."""
    return time.time_ns() // 1000


def server_run_of(queued: QueuedRun) -> ServerRun:
    """The server's view of a queued run, as it stands in its row."""
    return ServerRun(
        run_id=queued.run_id,
        thread_id=queued.thread_id,
        assistant_id=queued.assistant_id,
        graph_id=queued.graph_id,
        request=queued.request,
        metadata=queued.metadata,
        multitask_strategy=queued.multitask_strategy,
        created_at=datetime.fromtimestamp(queued.created_at / 1e6, UTC),
        updated_at=datetime.fromtimestamp(queued.updated_at / 1e6, UTC),
        status=queued.status,  # type: ignore[arg-type]  # the API's names already
        hidden=queued.hidden,
        error=queued.error,
    )


def attempt_run_id(run_id: str, attempt: int) -> str:
    """The id in the log of attempt ``attempt`` of queued run ``run_id``."""
    if attempt <= 1:
        return run_id
    return str(uuid.uuid5(uuid.UUID(run_id), f"attempt-{attempt}"))


@dataclass(frozen=True, kw_only=True, slots=True)
class QueuedRun:
    """One row of the run queue."""

    run_id: str
    thread_id: str
    graph_id: str
    assistant_id: str
    request: dict[str, Any]
    metadata: dict[str, Any]
    multitask_strategy: str
    status: str
    """``pending``, ``running``, ``success``, ``error`` or ``interrupted``."""
    created_at: int
    updated_at: int
    not_before: int
    attempt: int = 0
    """Claims so far (the current attempt's number once claimed)."""
    log_run_id: str | None = None
    """The current attempt's run in the log."""
    owner: str | None = None
    lease_until: int | None = None
    cancel: str | None = None
    """``interrupt`` or ``rollback`` once a cancellation was asked."""
    hidden: bool = False
    error: dict[str, Any] | None = None

    @property
    def final(self) -> bool:
        """Whether the run reached a final status."""
        return self.status in FINAL

    def row(self) -> dict[str, Any]:
        """The row's column values."""
        return {
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            "graph_id": self.graph_id,
            "assistant_id": self.assistant_id,
            "request": orjson.dumps(self.request).decode(),
            "metadata": orjson.dumps(self.metadata).decode(),
            "multitask_strategy": self.multitask_strategy,
            "status": self.status,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "not_before": self.not_before,
            "attempt": self.attempt,
            "log_run_id": self.log_run_id,
            "owner": self.owner,
            "lease_until": self.lease_until,
            "cancel": self.cancel,
            "hidden": int(self.hidden),
            "error": None if self.error is None else orjson.dumps(self.error).decode(),
        }

    @classmethod
    def of(cls, row: Row[Any]) -> QueuedRun:
        """The run a row of the table holds."""
        m = row._mapping
        return cls(
            run_id=m["run_id"],
            thread_id=m["thread_id"],
            graph_id=m["graph_id"],
            assistant_id=m["assistant_id"],
            request=orjson.loads(m["request"]),
            metadata=orjson.loads(m["metadata"]),
            multitask_strategy=m["multitask_strategy"],
            status=m["status"],
            created_at=m["created_at"],
            updated_at=m["updated_at"],
            not_before=m["not_before"],
            attempt=m["attempt"],
            log_run_id=m["log_run_id"],
            owner=m["owner"],
            lease_until=m["lease_until"],
            cancel=m["cancel"],
            hidden=bool(m["hidden"]),
            error=None if m["error"] is None else orjson.loads(m["error"]),
        )


class ThreadTurn:
    """A transaction that holds a thread's turn (no other server accepts a run of the thread
    meanwhile): what it is running, and the run to add."""

    def __init__(self, queue: RunQueue, conn: AsyncConnection, thread_id: str) -> None:
        self._queue = queue
        self._conn = conn
        self.thread_id = thread_id

    async def active(self) -> list[QueuedRun]:
        """The thread's pending and running runs, oldest first."""
        query = (
            select(run_queue)
            .where(run_queue.c.thread_id == self.thread_id)
            .where(run_queue.c.status.in_(("pending", "running")))
            .order_by(run_queue.c.created_at)
        )
        return [QueuedRun.of(r) for r in await self._conn.execute(query)]

    async def cancel(self, run: QueuedRun, *, rollback: bool = False) -> None:
        """Ask ``run`` to stop (see :meth:`RunQueue.cancel`)."""
        await self.cancel_id(run.run_id, rollback=rollback)

    async def cancel_id(self, run_id: str, *, rollback: bool = False) -> None:
        """Ask the run ``run_id`` to stop (see :meth:`RunQueue.cancel`)."""
        await self._queue.cancel_on(self._conn, run_id, rollback=rollback)

    async def hide_all(self) -> None:
        """Leave all the thread's runs out of listings."""
        await self._conn.execute(
            update(run_queue).where(run_queue.c.thread_id == self.thread_id).values(hidden=1)
        )

    async def add(self, run: QueuedRun) -> None:
        """Queue ``run``."""
        await self._conn.execute(insert(run_queue).values(**run.row()))
        await self._queue.announce(self._conn, run.run_id)


class RunQueue:
    """The run queue of one database (the one ``log`` is in)."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.engine = log.engine
        self.postgres = self.engine.dialect.name == "postgresql"

    @contextlib.asynccontextmanager
    async def _begin(self, *, write: bool = True) -> AsyncIterator[AsyncConnection]:
        """A transaction. On a SQLite file one that ``write``s takes the file's write lock
        first, not midway; one that only reads takes none (every process polls the queue:
        reads that queued for the write lock starved writers past their busy timeout)."""
        async with self.engine.connect() as conn:
            if write and not self.postgres:
                conn = await conn.execution_options(rewind_begin="IMMEDIATE")
            async with conn.begin():
                yield conn

    async def announce(self, conn: AsyncConnection, run_id: str) -> None:
        """Tell listeners (workers, servers) that ``run_id`` changed, when ``conn`` commits."""
        if self.postgres:
            await conn.execute(
                text("SELECT pg_notify(:channel, :run_id)"),
                {"channel": CHANNEL, "run_id": run_id},
            )

    @contextlib.asynccontextmanager
    async def thread_turn(self, thread_id: str) -> AsyncIterator[ThreadTurn]:
        """A transaction holding ``thread_id``'s turn: what it reads of the thread stays true
        until it commits (another server's run of the thread waits)."""
        async with self._begin() as conn:
            if self.postgres:
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:kind, hashtext(:thread_id))"),
                    {"kind": _THREAD_LOCK, "thread_id": thread_id},
                )
            yield ThreadTurn(self, conn, thread_id)

    # --- reads --------------------------------------------------------------------------------

    async def get(self, run_id: str) -> QueuedRun | None:
        """The run, if it is queued here."""
        async with self._begin(write=False) as conn:
            query = select(run_queue).where(run_queue.c.run_id == run_id)
            row = (await conn.execute(query)).first()
        return None if row is None else QueuedRun.of(row)

    async def get_many(self, run_ids: Sequence[str]) -> dict[str, QueuedRun]:
        """The runs among ``run_ids`` that are queued here."""
        if not run_ids:
            return {}
        async with self._begin(write=False) as conn:
            rows = await conn.execute(select(run_queue).where(run_queue.c.run_id.in_(run_ids)))
            return {r.run_id: QueuedRun.of(r) for r in rows}

    async def of_thread(self, thread_id: str, *, hidden: bool = False) -> list[QueuedRun]:
        """The thread's queued runs, oldest first (``hidden``: rolled-back ones too)."""
        query = select(run_queue).where(run_queue.c.thread_id == thread_id)
        if not hidden:
            query = query.where(run_queue.c.hidden == 0)
        async with self._begin(write=False) as conn:
            rows = await conn.execute(query.order_by(run_queue.c.created_at))
            return [QueuedRun.of(r) for r in rows]

    async def active(self, thread_id: str) -> list[QueuedRun]:
        """The thread's pending and running runs, oldest first (as of now: a server that
        acts on them takes the thread's turn, :meth:`thread_turn`)."""
        async with self._begin(write=False) as conn:
            return await ThreadTurn(self, conn, thread_id).active()

    async def in_flight(self, statuses: Iterable[str]) -> list[QueuedRun]:
        """Every thread's runs in ``statuses`` (``pending``, ``running``), oldest first."""
        query = (
            select(run_queue)
            .where(run_queue.c.status.in_(list(statuses)))
            .order_by(run_queue.c.created_at)
        )
        async with self._begin(write=False) as conn:
            return [QueuedRun.of(r) for r in await conn.execute(query)]

    # --- changes from the API -----------------------------------------------------------------

    async def cancel(self, run_id: str, *, rollback: bool = False) -> None:
        """Ask a run to stop: a pending one ends ``interrupted`` at once; a running one when its
        worker sees the request. ``rollback`` hides it from listings too."""
        async with self._begin() as conn:
            await self.cancel_on(conn, run_id, rollback=rollback)

    async def cancel_on(self, conn: AsyncConnection, run_id: str, *, rollback: bool) -> None:
        """:meth:`cancel`, in the transaction ``conn``."""
        now = now_us()
        action = "rollback" if rollback else "interrupt"
        values: dict[str, Any] = {"cancel": action, "updated_at": now}
        if rollback:
            values["hidden"] = 1
        await conn.execute(
            update(run_queue)
            .where(run_queue.c.run_id == run_id, run_queue.c.status.in_(("pending", "running")))
            .values(**values)
        )
        # Not claimed yet (or handed back): nothing runs it, so it ends here.
        await conn.execute(
            update(run_queue)
            .where(run_queue.c.run_id == run_id, run_queue.c.status == "pending")
            .values(status="interrupted", owner=None, lease_until=None)
        )
        await self.announce(conn, run_id)

    async def hide(self, run_id: str) -> None:
        """Leave a run out of listings (its events stay in the log)."""
        async with self._begin() as conn:
            await conn.execute(
                update(run_queue).where(run_queue.c.run_id == run_id).values(hidden=1)
            )

    async def forget_thread(self, thread_id: str) -> None:
        """Drop a deleted thread's queued runs (cancelling those still going)."""
        async with self.thread_turn(thread_id) as turn:
            for run in await turn.active():
                await turn.cancel(run)
            await turn.hide_all()

    # --- workers ------------------------------------------------------------------------------

    async def claim(self, owner: str, *, lease: float, limit: int = 1) -> list[QueuedRun]:
        """Claim up to ``limit`` runnable runs for worker ``owner``, each as its next attempt
        with a lease of ``lease`` seconds (see the module's documentation)."""
        now = now_us()
        q, o = run_queue.alias("q"), run_queue.alias("o")
        blocked = exists().where(
            o.c.thread_id == q.c.thread_id,
            o.c.run_id != q.c.run_id,
            or_(
                o.c.status == "running",
                and_(o.c.status == "pending", o.c.created_at < q.c.created_at),
            ),
        )
        runnable = or_(
            and_(q.c.status == "pending", q.c.not_before <= now),
            and_(q.c.status == "running", q.c.lease_until < now),
        )
        query = (
            select(q)
            .where(runnable, ~blocked)
            .order_by(q.c.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=q)
        )
        claimed: list[QueuedRun] = []
        if not self.postgres:  # look first: most polls find nothing, and need no write lock
            async with self._begin(write=False) as conn:
                if not (await conn.execute(query)).first():
                    return claimed
        async with self._begin() as conn:
            for row in (await conn.execute(query)).all():
                run = QueuedRun.of(row)
                attempt = run.attempt + 1
                values: dict[str, Any] = {
                    "status": "running",
                    "owner": owner,
                    "lease_until": now + int(lease * 1_000_000),
                    "attempt": attempt,
                    "log_run_id": attempt_run_id(run.run_id, attempt),
                    "updated_at": now,
                }
                # Optimistic too (SQLite has no row locks): only if no one claimed it first.
                done = await conn.execute(
                    update(run_queue)
                    .where(
                        run_queue.c.run_id == run.run_id,
                        run_queue.c.status == run.status,
                        run_queue.c.attempt == run.attempt,
                    )
                    .values(**values)
                )
                if done.rowcount == 1:  # (not announced: no one waits for a claim)
                    claimed.append(replace(run, **values))
        return claimed

    async def heartbeat(self, run: QueuedRun, *, lease: float) -> QueuedRun | None:
        """Extend ``run``'s lease; the run as it now stands, or ``None`` when the lease is no
        longer this attempt's (expired and taken over, or the run was deleted)."""
        async with self._begin() as conn:
            done = await conn.execute(
                update(run_queue)
                .where(*self._held(run))
                .values(lease_until=now_us() + int(lease * 1_000_000))
            )
            if done.rowcount != 1:
                return None
            row = (
                await conn.execute(select(run_queue).where(run_queue.c.run_id == run.run_id))
            ).first()
        return None if row is None else QueuedRun.of(row)

    async def finish(
        self, run: QueuedRun, status: str, *, error: Mapping[str, Any] | None = None
    ) -> bool:
        """Record how the attempt ``run`` ended (``status``: a final one, or ``pending`` to
        hand the run back to the queue); ``False`` when this attempt no longer held it."""
        values: dict[str, Any] = {
            "status": status,
            "owner": None,
            "lease_until": None,
            "updated_at": now_us(),
            "error": None if error is None else orjson.dumps(dict(error)).decode(),
        }
        async with self._begin() as conn:
            done = await conn.execute(update(run_queue).where(*self._held(run)).values(**values))
            if done.rowcount == 1:
                await self.announce(conn, run.run_id)
        return done.rowcount == 1

    def _held(self, run: QueuedRun) -> tuple[Any, ...]:
        return (
            run_queue.c.run_id == run.run_id,
            run_queue.c.owner == run.owner,
            run_queue.c.attempt == run.attempt,
            run_queue.c.status == "running",
        )

    async def counts(self) -> dict[str, int]:
        """How many runs are in each status."""
        query = select(run_queue.c.status, func.count()).group_by(run_queue.c.status)
        async with self._begin(write=False) as conn:
            return {status: int(n) for status, n in await conn.execute(query)}


class RunCancels:
    """Cancellations asked of runs another server process executes (the ``run_cancels`` table;
    see the module's documentation).

    A server asked to cancel a run it does not hold writes a row (:meth:`ask`); the server
    that runs it watches (:meth:`listening`, then :meth:`asked`) and stops it. An ``interrupt``
    goes once acted on (:meth:`done`); a ``rollback`` stays as the record that the run is left
    out of listings (:meth:`rolled_back`) until its thread is deleted (:meth:`forget_thread`).
    """

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self._queue = RunQueue(log)

    @property
    def postgres(self) -> bool:
        """Whether the database is PostgreSQL (notifications) rather than SQLite (polling)."""
        return self._queue.postgres

    @property
    def shared(self) -> bool:
        """Whether other processes can open the database (a log in memory: none can)."""
        return self.postgres or getattr(self.log, "path", None) is not None

    async def ask(self, run_id: str, thread_id: str, *, rollback: bool = False) -> None:
        """Ask the process running ``run_id`` to stop it (a rollback asked before stays one)."""

        def write(conn: Connection) -> None:
            query = select(run_cancels.c.action).where(run_cancels.c.run_id == run_id)
            before = conn.execute(query).scalar()
            action: CancelAction = "rollback" if rollback or before == "rollback" else "interrupt"
            conn.execute(delete(run_cancels).where(run_cancels.c.run_id == run_id))
            conn.execute(
                insert(run_cancels).values(
                    run_id=run_id, thread_id=thread_id, action=action, requested_at=now_us()
                )
            )
            if self.postgres:  # delivered when this commits
                conn.execute(
                    text("SELECT pg_notify(:channel, :run_id)"),
                    {"channel": CANCEL_CHANNEL, "run_id": run_id},
                )

        await self.log._write(write)

    async def asked(self, run_ids: Sequence[str]) -> dict[str, CancelAction]:
        """The cancellations asked of any of ``run_ids``: run id -> action."""
        if not run_ids:
            return {}
        query = select(run_cancels.c.run_id, run_cancels.c.action).where(
            run_cancels.c.run_id.in_(list(run_ids))
        )
        # On the log's reader (a SQLite file's: its thread and kept connection): a server
        # running runs polls this ten times a second.
        return await self.log._read(
            lambda conn: {r.run_id: r.action for r in conn.execute(query)}, drain=False
        )

    async def done(self, run_id: str) -> None:
        """Drop the ``interrupt`` asked of ``run_id``: it was acted on."""
        query = delete(run_cancels).where(
            run_cancels.c.run_id == run_id, run_cancels.c.action == "interrupt"
        )
        await self.log._write(lambda conn: conn.execute(query))

    async def rolled_back(
        self, *, thread_id: str | None = None, run_id: str | None = None
    ) -> set[str]:
        """The runs (of ``thread_id``, or ``run_id`` itself) a rollback was asked of."""
        query = select(run_cancels.c.run_id).where(run_cancels.c.action == "rollback")
        if thread_id is not None:
            query = query.where(run_cancels.c.thread_id == thread_id)
        if run_id is not None:
            query = query.where(run_cancels.c.run_id == run_id)
        return await self.log._read(
            lambda conn: {r.run_id for r in conn.execute(query)}, drain=False
        )

    async def forget_thread(self, thread_id: str) -> None:
        """Drop what was asked of a deleted thread's runs."""
        query = delete(run_cancels).where(run_cancels.c.thread_id == thread_id)
        await self.log._write(lambda conn: conn.execute(query))

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[Heard | None]:
        """On PostgreSQL, the ids of the runs asked to stop from now on (a connection of its
        own, listening); ``None`` on SQLite, whose servers poll :meth:`asked` instead."""
        from rewind.log.postgres import PostgresLog

        if not isinstance(self.log, PostgresLog):
            yield None
            return
        import psycopg

        conn = await psycopg.AsyncConnection.connect(self.log.conninfo, autocommit=True)
        try:
            await conn.execute(f"LISTEN {CANCEL_CHANNEL}")
            heard = Heard(conn)
            try:
                yield heard
            finally:
                heard.close()
        finally:
            with contextlib.suppress(Exception):
                await conn.close()


class Heard:
    """The run ids a listening connection hears, in order (see :meth:`RunCancels.listening`)."""

    def __init__(self, conn: Any) -> None:
        self._ids: asyncio.Queue[str | None] = asyncio.Queue()
        self._reader = asyncio.get_running_loop().create_task(self._read(conn))

    async def _read(self, conn: Any) -> None:
        try:
            async for notice in conn.notifies():
                self._ids.put_nowait(notice.payload)
        except Exception as exc:  # the connection was lost: the watcher listens anew
            logger.warning("the cancellation listener lost its connection: %s", exc)
        finally:
            self._ids.put_nowait(None)

    async def next(self) -> str:
        """The next run id heard (waits).

        Raises:
            ConnectionError: the connection closed; nothing more will be heard on it.
        """
        run_id = await self._ids.get()
        if run_id is None:
            self._ids.put_nowait(None)
            raise ConnectionError("the cancellation listener's connection closed")
        return run_id

    def close(self) -> None:
        """Stop reading."""
        self._reader.cancel()
