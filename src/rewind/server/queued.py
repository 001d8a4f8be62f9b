"""``rewind serve --queue``: the server's runs in the run queue, executed by workers.

:class:`QueuedRuns` answers the routes as the in-process :class:`~rewind.server.runs.RunManager`
does, from the queue's rows, so any number of server processes share the runs: each sees every
run, cancels any, and refuses or queues a thread's second run per its ``multitask_strategy``
(the check and the insert hold the thread's turn in the database). A run no worker has claimed
yet is ``pending``. A server waits for the runs its clients wait on by reading their rows
(every 0.1 s, only while a client waits).

A run's stream is its attempts' streams in order. Attempt ``n``'s SSE ids are its log events'
ids with the seq moved up by ``(n - 1) * 10**9``, so ids keep increasing across a takeover and a
client resumes with ``Last-Event-ID`` as from any run; the error that closed a lost attempt is
not shown, and the next attempt opens with a ``metadata`` event that carries its number.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from sqlalchemy.exc import DBAPIError

from rewind.events import EventType
from rewind.log import EventLog, RunRecord
from rewind.server.queue import QueuedRun, RunQueue, attempt_run_id, now_us, server_run_of
from rewind.server.runs import RunManager, ServerRun, apply_strategy, start_delay
from rewind.server.stream import RunProjection, SseEvent

__all__ = ["ATTEMPT_SEQS", "QueuedRuns"]

logger = logging.getLogger(__name__)

ATTEMPT_SEQS = 10**9
"""How far each attempt moves its SSE ids' seq up."""

_POLL = 0.1
"""Seconds between reads of the rows of runs a client waits on."""


class QueuedRuns(RunManager):
    """The server's runs, in the run queue (see the module's documentation)."""

    def __init__(self, log: EventLog, graphs: Mapping[str, Any]) -> None:
        super().__init__(log, graphs)
        self.queue = RunQueue(log)
        self._rows: dict[str, QueuedRun] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._cancels: set[asyncio.Task[None]] = set()

    # --- rows as the routes' runs -------------------------------------------------------------

    def _adopt(self, row: QueuedRun) -> ServerRun:
        """The route's view of ``row``: the object clients of this server wait on while the
        run is going (watched until it ends, then forgotten), a fresh one once it ended."""
        run = self.runs.get(row.run_id)
        if run is None:
            run = server_run_of(row)
        else:
            fresh = server_run_of(row)
            run.status, run.updated_at = fresh.status, fresh.updated_at
            run.hidden, run.error = fresh.hidden, fresh.error
        if row.attempt >= 1 or row.final:
            run.started.set()
        if row.final:
            run.done.set()
            self.runs.pop(row.run_id, None)
            self._rows.pop(row.run_id, None)
            return run
        self.runs[row.run_id] = run
        self._rows[row.run_id] = row
        if self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self._watch())
        return run

    def _adopt_all(self, rows: Iterable[QueuedRun]) -> list[ServerRun]:
        return [self._adopt(row) for row in rows]

    async def _watch(self) -> None:
        try:
            while True:
                waiting = [run_id for run_id, run in self.runs.items() if not run.final]
                if not waiting:
                    return
                await asyncio.sleep(_POLL)
                try:
                    found = await self.queue.get_many(waiting)
                except (DBAPIError, OSError) as exc:  # the database is away: look again later
                    logger.warning("cannot read the run queue: %s; retrying", exc)
                    continue
                for run_id in waiting:
                    run = self.runs.get(run_id)
                    row = found.get(run_id)
                    if row is not None:
                        self._adopt(row)
                    elif run is not None:  # its thread was deleted
                        run.done.set()
                        run.started.set()
        finally:
            self._watcher = None

    # --- what the routes use ------------------------------------------------------------------

    async def lookup(self, run_id: str) -> ServerRun | None:
        row = await self.queue.get(run_id)
        return None if row is None else self._adopt(row)

    async def active_runs(self, thread_id: str) -> list[ServerRun]:
        return self._adopt_all(await self.queue.active(thread_id))

    async def thread_runs(self, thread_id: str) -> tuple[list[ServerRun], set[str]]:
        rows = await self.queue.of_thread(thread_id, hidden=True)
        held = {attempt_run_id(r.run_id, n) for r in rows for n in range(1, r.attempt + 1)}
        held |= {r.run_id for r in rows}
        return self._adopt_all(r for r in rows if not r.hidden), held

    def record_for(self, run: ServerRun, record: RunRecord | None) -> RunRecord | None:
        return None  # the row knows the run's status across attempts; the log, one attempt's

    async def request_cancel(self, run: ServerRun, *, rollback: bool = False) -> None:
        await self.queue.cancel(run.run_id, rollback=rollback)
        await self._refresh(run.run_id)

    def cancel_soon(self, run: ServerRun) -> None:
        task = asyncio.get_running_loop().create_task(self.request_cancel(run))
        self._cancels.add(task)
        task.add_done_callback(self._cancels.discard)

    async def forget(self, run_id: str) -> None:
        await self.queue.hide(run_id)
        self.runs.pop(run_id, None)

    async def forget_thread(self, thread_id: str) -> None:
        await self.queue.forget_thread(thread_id)
        for run in self._adopt_all(await self.queue.of_thread(thread_id, hidden=True)):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(run.done.wait(), timeout=30)
            self.runs.pop(run.run_id, None)

    async def admit(self, run: ServerRun, *, context: Any = None) -> None:
        now = now_us()
        async with self.queue.thread_turn(run.thread_id) as turn:
            busy = self._adopt_all(await turn.active())
            await apply_strategy(self, run, busy, cancel=turn.cancel_id)
            await turn.add(
                QueuedRun(
                    run_id=run.run_id,
                    thread_id=run.thread_id,
                    graph_id=run.graph_id,
                    assistant_id=run.assistant_id,
                    request=run.request,
                    metadata=run.metadata,
                    multitask_strategy=run.multitask_strategy,
                    status="pending",
                    created_at=now,
                    updated_at=now,
                    not_before=now + int(start_delay(run.request) * 1_000_000),
                )
            )
        self.runs[run.run_id] = run  # the route's object is the one its clients wait on
        await self._refresh(run.run_id)
        for other in busy:
            await self._refresh(other.run_id)

    async def origin_of(self, run: ServerRun) -> str | None:
        row = self._rows.get(run.run_id)
        if row is None or row.log_run_id is None:
            return None
        try:
            record = await self.log.get_run(attempt_run_id(run.run_id, 1))
        except KeyError:
            return None
        return record.origin_checkpoint_id

    async def _refresh(self, run_id: str) -> None:
        row = await self.queue.get(run_id)
        if row is not None:
            self._adopt(row)

    async def shutdown(self, grace: float = 10.0) -> None:
        """Nothing runs here; stop watching rows."""
        self._closing = True
        if self._watcher is not None:
            self._watcher.cancel()

    # --- streams ------------------------------------------------------------------------------

    async def events(
        self,
        run: ServerRun,
        api_modes: list[str],
        *,
        subgraphs: bool,
        after: tuple[int, int] | None,
        live: bool,
    ) -> AsyncIterator[SseEvent]:
        """The run's SSE events: its attempts' in order (``live``: a join without
        ``Last-Event-ID``, from now on)."""
        attempt = 1
        if live:
            row = await self.queue.get(run.run_id)
            if row is None or row.final:
                return
            attempt = max(row.attempt, 1)
            with contextlib.suppress(KeyError):
                record = await self.log.get_run(attempt_run_id(run.run_id, attempt))
                after = ((attempt - 1) * ATTEMPT_SEQS + record.last_seq, 10**6)
        while True:
            found = await self._attempt_in_log(run.run_id, attempt)
            if found is None:
                if attempt == 1 and run.error is not None and after is None:
                    yield (0, 0), "metadata", {"run_id": run.run_id, "attempt": 1}
                    yield (0, 1), "error", run.error
                return
            if found > attempt:
                attempt = found
                continue
            log_run_id = attempt_run_id(run.run_id, attempt)
            projection = RunProjection(
                log_run_id, api_modes, subgraphs=subgraphs, shown_id=run.run_id, attempt=attempt
            )
            await projection.prepare(self.log)
            offset = (attempt - 1) * ATTEMPT_SEQS
            follows = False
            async for event in self.log.subscribe(run_id=log_run_id):
                made = projection.feed(event)
                if event.type == EventType.RUN_ENDED:
                    follows = await self._followed(run.run_id, attempt)
                    if follows:  # the lost attempt's end is not the run's
                        made = [m for m in made if m[1] != "error"]
                for (seq, k), name, data in made:
                    key = (offset + seq, k)
                    if after is None or key > after:
                        yield key, name, data
            if not follows:
                return
            attempt += 1

    async def _attempt_in_log(self, run_id: str, attempt: int) -> int | None:
        """Wait until attempt ``attempt`` or a later one is in the log; the first such
        attempt's number, or ``None`` when the run ended without one."""
        while True:
            row = await self.queue.get(run_id)
            # Read after the row: a worker records a run's end in the queue only once its
            # events are durable, so a final row's attempts are all in the log by now.
            for n in range(attempt, max(attempt, row.attempt if row else 0) + 1):
                try:
                    await self.log.get_run(attempt_run_id(run_id, n))
                except KeyError:
                    continue
                return n
            if row is None or row.final:
                return None
            await asyncio.sleep(_POLL)

    async def _followed(self, run_id: str, attempt: int) -> bool:
        """After attempt ``attempt`` ended in the log: whether another attempt follows it
        (a takeover, a hand-back) rather than the run ending."""
        while True:
            row = await self.queue.get(run_id)
            if row is None:
                return False
            if row.attempt > attempt:
                return True
            if row.final:
                return False
            if row.status == "pending":  # handed back: the next claim resumes it
                return True
            await asyncio.sleep(_POLL)
