"""``rewind worker``: a process that executes the runs servers queue (:mod:`rewind.server.queue`).

A worker claims up to ``jobs`` runs at a time and runs each as a server would (same config,
same log). While it runs one, its heartbeat extends the lease every third of it and checks
whether a server asked for a cancellation (on PostgreSQL a notification wakes it at once). When
its lease is gone (it paused longer than the lease and another worker took the run over) it
stops the run; its late appends are refused anyway.

SIGTERM (or SIGINT) drains: the worker claims nothing more and waits up to ``drain_timeout``
seconds for its runs to end; those still going are then handed back: stopped and returned to
the queue, where another worker resumes them from their newest durable checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError

from rewind.errors import UnknownRunError
from rewind.events import EventType, RunStatus, run_ended
from rewind.log import EventLog
from rewind.log.leases import Lease
from rewind.runtime.compiled import CompiledStateGraph
from rewind.runtime.orphans import end_run
from rewind.server.queue import CHANNEL, QueuedRun, RunQueue, attempt_run_id, server_run_of
from rewind.server.runs import ServerRun, bind_graphs, invoke_run, run_config, send_webhook
from rewind.server.webhooks import Webhooks
from rewind.store.base import BaseStore

__all__ = ["Worker", "run_worker"]

logger = logging.getLogger(__name__)


class _HandBack(Exception):
    """Raised into a run this worker stops to return it to the queue."""


class Worker:
    """Claims queued runs and executes them (see the module's documentation).

    Args:
        log: The log (and queue) to work on.
        graphs: The graphs, by graph id (the servers' assistants).
        worker_id: This worker's name in the queue (host, pid and a random suffix by default).
        lease: Seconds a claim lasts without a heartbeat.
        jobs: Runs executed at once.
        poll: Seconds between looks at the queue when nothing wakes the worker (no
            notifications on SQLite; a run whose ``after_seconds`` come due).
        drain_timeout: Seconds a drain waits for runs to end before it hands them back.
    """

    def __init__(
        self,
        log: EventLog,
        graphs: Mapping[str, CompiledStateGraph],
        *,
        worker_id: str | None = None,
        lease: float = 30.0,
        jobs: int = 10,
        poll: float = 1.0,
        drain_timeout: float = 30.0,
        store: BaseStore | None = None,
    ) -> None:
        if lease <= 0 or jobs < 1 or poll <= 0:
            raise ValueError("lease and poll must be positive, and jobs at least 1")
        self.log = log
        self.queue = RunQueue(log)
        self.store = store
        """The long-term memory store the graphs get (the database's, as the server's)."""
        self.graphs = bind_graphs(graphs, log, store=store)
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = lease
        self.jobs = jobs
        self.poll = poll
        self.drain_timeout = drain_timeout
        self.finished = 0
        """Runs this worker ended (any status) or handed back."""
        self._running: dict[str, asyncio.Task[None]] = {}
        self._held: dict[str, QueuedRun] = {}
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._listener: Any = None
        self.webhooks = Webhooks()
        """Delivers the webhooks of the runs that end here."""

    def stop(self) -> None:
        """Begin draining (what SIGTERM does)."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Work until :meth:`stop`, then drain."""
        listening = asyncio.ensure_future(self._listen()) if self.queue.postgres else None
        try:
            while not self._stopping.is_set():
                free = self.jobs - len(self._running)
                if free > 0:
                    for queued in await self._claim(free):
                        self._start(queued)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll):
                        await self._wake.wait()
            await self._drain()
        finally:
            await self.webhooks.aclose()
            if listening is not None:
                listening.cancel()
                with contextlib.suppress(BaseException):
                    await listening
            if self._listener is not None:
                with contextlib.suppress(Exception):
                    await self._listener.close()

    async def _claim(self, limit: int) -> list[QueuedRun]:
        try:
            return await self.queue.claim(self.id, lease=self.lease, limit=limit)
        except (DBAPIError, OSError) as exc:  # the database is away: try again later
            logger.warning("worker %s cannot claim runs: %s; retrying", self.id, exc)
            return []

    def _start(self, queued: QueuedRun) -> None:
        self._held[queued.run_id] = queued
        task = asyncio.get_running_loop().create_task(self._execute(queued))
        self._running[queued.run_id] = task

        def done(_: asyncio.Task[None]) -> None:
            self._running.pop(queued.run_id, None)
            self._held.pop(queued.run_id, None)
            self.finished += 1
            self._wake.set()

        task.add_done_callback(done)

    async def _drain(self) -> None:
        tasks = list(self._running.values())
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=self.drain_timeout)
        for task in late:
            task.cancel(_HandBack.__name__)
        if late:
            await asyncio.wait(late)

    async def _listen(self) -> None:
        """Wake on the queue's notifications: new runs, and cancellations of held ones."""
        import psycopg

        from rewind.log.postgres import PostgresLog

        if not isinstance(self.log, PostgresLog):
            return
        conninfo = self.log.conninfo
        while True:
            try:
                self._listener = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
                await self._listener.execute(f"LISTEN {CHANNEL}")
                async for notice in self._listener.notifies():
                    held = self._held.get(notice.payload)
                    if held is not None:
                        await self._check(held)
                    else:
                        self._wake.set()
            except psycopg.Error:
                logger.warning("worker %s lost its notification connection; retrying", self.id)
                await asyncio.sleep(self.poll)

    async def _check(self, queued: QueuedRun) -> bool:
        """Extend the lease; stop the run when a cancellation was asked or the lease is lost.
        Whether the run goes on."""
        task = self._running.get(queued.run_id)
        if queued.run_id not in self._held:
            return False  # ending: its end is being recorded
        current = await self.queue.heartbeat(queued, lease=self.lease)
        if queued.run_id not in self._held:
            return False
        if current is None:
            logger.warning(
                "worker %s lost its lease on run %s (attempt %d); stopping it",
                self.id,
                queued.run_id,
                queued.attempt,
            )
            if task is not None:
                task.cancel("lost")
            return False
        if current.cancel is not None and task is not None:
            task.cancel("cancel")
            return False
        return True

    async def _heartbeat(self, queued: QueuedRun) -> None:
        renewed = time.monotonic()  # claimed just now: the lease is fresh
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                if not await self._check(queued):
                    return
                renewed = time.monotonic()
            except (DBAPIError, OSError) as exc:
                logger.warning("worker %s cannot renew its lease: %s", self.id, exc)
                if time.monotonic() - renewed >= self.lease:  # another worker may have it now
                    task = self._running.get(queued.run_id)
                    if task is not None:
                        task.cancel("lost")
                    return

    async def _execute(self, queued: QueuedRun) -> None:
        assert queued.log_run_id is not None
        log_run_id = queued.log_run_id
        self.log.hold_lease(
            log_run_id, Lease(queued_run_id=queued.run_id, owner=self.id, attempt=queued.attempt)
        )
        beat = asyncio.ensure_future(self._heartbeat(queued))
        status, error = "success", None
        started_at = datetime.now(UTC)
        try:
            resumed, decided = await self._earlier_attempts(queued)
            if decided is not None:
                status, error = decided
            else:
                run = server_run_of(queued)
                await invoke_run(
                    self.graphs[queued.graph_id],
                    run,
                    config=attempt_config(run, queued.attempt),
                    resume=resumed,
                )
        except asyncio.CancelledError as exc:
            status = "pending" if _HandBack.__name__ in exc.args else "interrupted"
        except Exception as exc:  # the run failed: recorded in the log as the runtime does
            status, error = "error", {"error": type(exc).__name__, "message": str(exc)}
        finally:
            self._held.pop(queued.run_id, None)
            beat.cancel()
            with contextlib.suppress(BaseException):
                await beat
            with contextlib.suppress(Exception):
                await self.log.flush(log_run_id)
            self.log.hold_lease(log_run_id, None)
        recorded = await self._record_end(queued, status, error)
        if recorded is None:
            return
        if not recorded:
            logger.warning(
                "worker %s: run %s (attempt %d) was taken over; its end here is not recorded",
                self.id,
                queued.run_id,
                queued.attempt,
            )
        elif status != "pending" and queued.request.get("webhook"):
            ended = server_run_of(queued)
            ended.status, ended.error = status, error  # type: ignore[assignment]
            ended.hidden = ended.hidden or queued.cancel == "rollback"
            graph = self.graphs[queued.graph_id]
            await send_webhook(self.webhooks, graph, ended, started_at=started_at)

    async def _record_end(
        self, queued: QueuedRun, status: str, error: dict[str, Any] | None
    ) -> bool | None:
        """Record in the queue how the attempt ended (whether it still held the run). Tried
        again while the database is busy or away, for as long as the lease lasts; ``None``
        when it could not be: the worker that takes the run over then finds its end in the
        log (:meth:`_earlier_attempts`)."""
        deadline = time.monotonic() + self.lease
        pause = 0.05
        while True:
            try:
                return await self.queue.finish(queued, status, error=error)
            except (DBAPIError, OSError) as exc:
                if time.monotonic() + pause > deadline:
                    logger.warning(
                        "worker %s could not record the end of run %s (attempt %d): %s; "
                        "the worker that takes it over records it",
                        self.id,
                        queued.run_id,
                        queued.attempt,
                        exc,
                    )
                    return None
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)

    async def _earlier_attempts(
        self, queued: QueuedRun
    ) -> tuple[bool, tuple[str, dict[str, Any] | None] | None]:
        """Look at the attempts before ``queued``'s: whether one of them started (the run then
        resumes from the thread's newest durable checkpoint), and how the run ended when the
        last of them did end in the log before its worker could record it in the queue.

        An attempt a dead worker left running is ended in the log here (``WorkerLost``)."""
        if queued.cancel is not None:
            return False, ("interrupted", None)  # asked while no worker held it
        started = False
        decided: tuple[str, dict[str, Any] | None] | None = None
        for attempt in range(1, queued.attempt):
            run_id = attempt_run_id(queued.run_id, attempt)
            try:
                record = await self.log.get_run(run_id)
            except (KeyError, UnknownRunError):
                continue
            started, decided = True, None
            if record.status == RunStatus.RUNNING:
                await self._lost(queued, run_id, record.last_seq)
                continue
            ended = await self.log.read(run_id, types=[EventType.RUN_ENDED], limit=1)
            error = (ended[0].payload or {}).get("error") if ended else None
            error = error if isinstance(error, dict) else {}
            if record.status == RunStatus.CANCELLED or error.get("type") == "WorkerLost":
                continue  # handed back, or lost: this attempt goes on with the run
            if record.status == RunStatus.ERROR:
                decided = ("error", {"error": error.get("type"), "message": error.get("message")})
            else:  # ended (or stopped at an interrupt) before its end reached the queue
                decided = ("success", None)
        return started, decided

    async def _lost(self, queued: QueuedRun, run_id: str, last_seq: int) -> None:
        event = run_ended(
            RunStatus.ERROR,
            error={
                "type": "WorkerLost",
                "message": "the worker running it stopped renewing its lease; "
                f"attempt {queued.attempt} resumes it",
            },
        )
        await end_run(self.log, run_id, last_seq, event)


def attempt_config(run: ServerRun, attempt: int) -> dict[str, Any]:
    """The config attempt ``attempt`` of ``run`` is invoked with."""
    config = run_config(run, attempt)
    log_run_id = attempt_run_id(run.run_id, attempt)
    config["run_id"] = log_run_id
    config["configurable"]["run_id"] = log_run_id
    return config


async def run_worker(
    log: EventLog,
    graphs: Mapping[str, CompiledStateGraph],
    *,
    ready: Callable[[Worker], None] | None = None,
    **options: Any,
) -> Worker:
    """Run a worker until SIGTERM/SIGINT, then drain (blocking the calling loop); ``ready``
    is told once the signal handlers are in place. Its graphs get the database's long-term
    memory store, the one ``rewind serve`` gives its graphs and its store API."""
    from rewind.server.store_routes import server_store

    async with server_store(log) as store:
        worker = Worker(log, graphs, store=store, **options)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop)
        if ready is not None:
            ready(worker)
        try:
            await worker.run()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
    return worker
