"""Runs the server executes: a queue per thread, the multitask strategies, cancellation.

A run the server accepts is ``pending`` until the runs before it on its thread are done, then
``running`` while the graph executes, recording into the log like any other run. What a run
did is in the log; this module keeps only what the log cannot say yet (a run still waiting
for its turn) and what belongs to the HTTP API (its assistant, its request, a rolled-back run
hidden from listings).

A run another server process executes (sharing the database) is cancelled through the
database (:class:`~rewind.server.queue.RunCancels`): while this process runs runs, it watches
for cancellations asked of them and stops them as a local cancel does.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.exc import DBAPIError

from rewind.events import EventType, NewEvent, RunStatus
from rewind.log import EventLog, RunRecord
from rewind.runtime.compiled import CompiledStateGraph
from rewind.runtime.forwarding import with_forwarding
from rewind.server.run_keys import started_metadata
from rewind.server.stream import projected_modes
from rewind.server.webhooks import Webhooks, webhook_body
from rewind.server.wire import jsonable
from rewind.types import Command, Send

if TYPE_CHECKING:
    from rewind.store.base import BaseStore

__all__ = [
    "CANCEL_POLL",
    "ApiStatus",
    "RunManager",
    "RunRejectedError",
    "ServerRun",
    "api_status",
    "apply_strategy",
    "bind_graphs",
    "invoke_run",
]

ApiStatus = Literal["pending", "running", "success", "error", "interrupted"]
"""A run's status with the API's names."""

CANCEL_POLL = 0.1
"""Seconds between a SQLite server's reads of the cancellations asked of its runs, while it
runs runs (and between reads of a run another process executes, while waiting for its end)."""

_LISTEN_LINGER = 5.0
"""Seconds a PostgreSQL server keeps listening for cancellations after its last run ended."""

logger = logging.getLogger(__name__)

_STATUSES: dict[str, ApiStatus] = {
    RunStatus.RUNNING: "running",
    RunStatus.SUCCESS: "success",
    # A run that stopped at interrupt() succeeded, as the reference server reports it; the
    # thread is what is interrupted. A cancelled run is "interrupted".
    RunStatus.INTERRUPTED: "success",
    RunStatus.ERROR: "error",
    RunStatus.CANCELLED: "interrupted",
}


def api_status(status: str) -> ApiStatus:
    """A log status with the API's name."""
    return _STATUSES.get(status, "error")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(kw_only=True)
class ServerRun:
    """A run accepted by this server."""

    run_id: str
    """The run's id (the log's run id once it starts)."""
    thread_id: str
    """Its thread."""
    assistant_id: str
    """The assistant (graph) it runs."""
    graph_id: str
    """The graph's id."""
    request: dict[str, Any]
    """The run request, as validated (its ``kwargs`` in the API)."""
    metadata: dict[str, Any]
    """The run's metadata."""
    multitask_strategy: str
    """What was asked to happen if the thread was busy."""
    created_at: datetime = field(default_factory=_now)
    """When the server accepted it."""
    updated_at: datetime = field(default_factory=_now)
    """When its status last changed."""
    status: ApiStatus = "pending"
    """Where it stands."""
    result: Any = None
    """The graph's output, once it ends without an error."""
    error: dict[str, Any] | None = None
    """``{error, message}`` once it fails."""
    hidden: bool = False
    """Rolled back: left out of listings (its events stay in the log)."""
    started: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when its ``run.started`` event is in the log (or it ended without starting)."""
    done: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when it reached a final status."""
    feed: LiveFeed | None = None
    """Its events as the runtime records them, while it runs in this process."""
    task: asyncio.Task[None] | None = None

    @property
    def final(self) -> bool:
        """Whether it reached a final status."""
        return self.done.is_set()

    def set_status(self, status: ApiStatus) -> None:
        """Move to ``status``."""
        self.status = status
        self.updated_at = _now()


class LiveFeed:
    """A running run's events, handed over by the runtime as it records them (in seq order:
    the ``n``-th event is the run's event ``seq == n``), so its live streams need no read of
    the log. Appending never waits on a stream: this only keeps a list and wakes readers.

    A stream is handed an event once the log has made it durable (:meth:`durable_to`): a
    client that saw an event's id can resume after it from the log, even after this process
    died. Unless the feed is ungated (a run with ``durability="exit"``, whose events are
    durable only at its end: its clients see them live, and lose them with the process)."""

    def __init__(self, *, gated: bool = True) -> None:
        self.events: list[NewEvent] = []
        self.closed = False
        self.durable = 0
        """How many of :attr:`events` a stream may hand out (durable, or ungated)."""
        self._gated = gated
        self._stop_watching: Callable[[], None] | None = None
        self._changed = asyncio.Event()

    def watch(self, log: Any, run_id: str) -> None:
        """Learn from ``log`` (the run's :class:`EventLog`) which of its events are durable."""
        if self._gated:
            self._stop_watching = log.watch_durable(run_id, self.durable_to)

    def add(self, event: NewEvent) -> None:
        """One more event of the run."""
        self.events.append(event)
        if not self._gated:
            self.durable_to(len(self.events))

    def durable_to(self, count: int) -> None:
        """The run's events with a seq below ``count`` are durable."""
        if count > self.durable:
            self.durable = count
            self._wake()

    def close(self) -> None:
        """The run is over: no event will follow (nor become durable: what is not is lost)."""
        self.closed = True
        if self._stop_watching is not None:
            self._stop_watching()
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def follow(self, start: int = 0) -> AsyncIterator[tuple[int, NewEvent]]:
        """(seq, event) from ``start`` on, as each becomes durable, until the run is over."""
        seq = start
        while True:
            while seq < self.durable:
                yield seq, self.events[seq]
                seq += 1
            if self.closed:
                return
            await self._changed.wait()


class RunRejectedError(Exception):
    """A run refused because its thread is busy (``multitask_strategy="reject"``)."""


class RunManager:
    """Executes the server's runs on the server's event loop.

    The routes use the ``async`` methods, which :class:`~rewind.server.queued.QueuedRuns`
    (``rewind serve --queue``) implements over the run queue instead."""

    def __init__(self, log: EventLog, graphs: Mapping[str, Any]) -> None:
        from rewind.server.queue import RunCancels  # (that module imports this one)

        self.log = log
        self.graphs = graphs
        self.runs: dict[str, ServerRun] = {}
        self.cancels = RunCancels(log)
        """Cancellations asked of runs another server process executes, and of this one's."""
        self.webhooks = Webhooks()
        """Delivers the webhooks of the runs that end here."""
        self._closing = False
        self._watcher: asyncio.Task[None] | None = None
        self._stopping: set[str] = set()
        """Runs stopped at another process's request (not stopped twice)."""

    def active(self, thread_id: str) -> list[ServerRun]:
        """The thread's runs that are pending or running, oldest first."""
        return [r for r in self.runs.values() if r.thread_id == thread_id and not r.final]

    # --- what the routes use ------------------------------------------------------------------

    async def lookup(self, run_id: str) -> ServerRun | None:
        """The run, if this server accepted it."""
        return self.runs.get(run_id)

    async def active_runs(self, thread_id: str) -> list[ServerRun]:
        """The thread's runs that are pending or running, oldest first."""
        return self.active(thread_id)

    async def thread_runs(self, thread_id: str) -> tuple[list[ServerRun], set[str]]:
        """The thread's runs shown in listings, and the ids of the log's runs this manager
        accounts for (its runs, hidden ones included, and their attempts): the log's other
        runs of the thread are listed on their own."""
        mine = [r for r in self.runs.values() if r.thread_id == thread_id]
        return [r for r in mine if not r.hidden], {r.run_id for r in mine}

    def record_for(self, run: ServerRun, record: RunRecord | None) -> RunRecord | None:
        """The log's record that tells ``run``'s status, if the log knows better than the
        run's own (this process's runs: the log knows they ended before their task does)."""
        return record

    async def request_cancel(self, run: ServerRun, *, rollback: bool = False) -> None:
        """Stop ``run`` (see :meth:`cancel`)."""
        self.cancel(run, rollback=rollback)

    def cancel_soon(self, run: ServerRun) -> None:
        """Stop ``run`` without waiting (a client went away)."""
        self.cancel(run)

    async def cancel_elsewhere(self, record: RunRecord, *, rollback: bool = False) -> None:
        """Ask the server process that executes the log's running run ``record`` to stop it
        (it ends as a local cancel ends it)."""
        await self.cancels.ask(record.run_id, record.thread_id, rollback=rollback)

    async def wait_ended(self, run_id: str) -> None:
        """Wait until the log's run ``run_id`` (another process's) has ended."""
        while True:
            try:
                record = await self.log.get_run(run_id)
            except KeyError:
                return
            if record.status != RunStatus.RUNNING:
                return
            await asyncio.sleep(CANCEL_POLL)

    async def forget(self, run_id: str) -> None:
        """Leave a finished run out of listings."""
        self.runs.pop(run_id, None)

    async def forget_thread(self, thread_id: str) -> None:
        """Cancel a deleted thread's runs, wait for them, and forget them all."""
        for run in self.active(thread_id):
            self.cancel(run)
            await run.done.wait()
        for run_id in [r for r, run in self.runs.items() if run.thread_id == thread_id]:
            del self.runs[run_id]

    async def admit(self, run: ServerRun, *, context: Any = None) -> None:
        """Accept ``run`` on its thread per its ``multitask_strategy`` (raises
        :class:`RunRejectedError`), and start it once the runs before it are done."""
        busy = await apply_strategy(self, run, self.active(run.thread_id))
        self.submit(run, after=busy, context=context)

    async def origin_of(self, run: ServerRun) -> str | None:
        """The checkpoint a started run started from."""
        if not run.started.is_set():
            return None
        try:
            record = await self.log.get_run(run.run_id)
        except KeyError:
            return None
        return record.origin_checkpoint_id

    # --- in this process ----------------------------------------------------------------------

    def submit(self, run: ServerRun, *, after: list[ServerRun], context: Any = None) -> None:
        """Start ``run`` once the runs in ``after`` are done (``context``: a contextvars copy)."""
        self.runs[run.run_id] = run
        coro = self._execute(run, [r.done for r in after])
        loop = asyncio.get_running_loop()
        run.task = loop.create_task(coro, context=context) if context else loop.create_task(coro)
        run.task.add_done_callback(lambda _: _cancelled_unstarted(run))
        if self.cancels.shared and (self._watcher is None or self._watcher.done()):
            self._watcher = loop.create_task(self._watch_cancels())

    def cancel(self, run: ServerRun, *, rollback: bool = False) -> None:
        """Stop ``run`` (pending or running); it ends ``interrupted`` (hidden on rollback)."""
        if rollback:
            run.hidden = True
        if run.task is not None and not run.final:
            run.task.cancel()

    @property
    def closing(self) -> bool:
        """Whether the server is stopping (:meth:`shutdown` began): long-lived streams end."""
        return self._closing

    async def shutdown(self, grace: float = 10.0) -> None:
        """Cancel every run still going and wait for each to record its end."""
        self._closing = True
        if self._watcher is not None:
            self._watcher.cancel()
        tasks = [r.task for r in self.runs.values() if r.task is not None and not r.final]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        await self.webhooks.aclose()

    async def _execute(self, run: ServerRun, before: list[asyncio.Event]) -> None:
        started_at: datetime | None = None
        try:
            for event in before:
                await event.wait()
            delay = start_delay(run.request)
            if delay > 0:
                await asyncio.sleep(delay)
            if self._closing:
                raise asyncio.CancelledError
            run.set_status("running")
            started_at = run.updated_at
            await self._invoke(run)
        except asyncio.CancelledError:
            run.set_status("interrupted")
        except Exception as exc:
            run.error = {"error": type(exc).__name__, "message": str(exc)}
            run.set_status("error")
        else:
            run.set_status("success")
        finally:
            if run.feed is not None:
                run.feed.close()
                run.feed = None  # streams that attach from now on read the log
            self._stopping.discard(run.run_id)
            try:
                if started_at is not None and run.request.get("webhook"):
                    graph = self.graphs[run.graph_id]
                    await send_webhook(self.webhooks, graph, run, started_at=started_at)
            finally:
                run.started.set()
                run.done.set()

    async def _invoke(self, run: ServerRun) -> None:
        request = run.request

        def watch(loop: Any, head: Any, resuming: bool) -> None:
            from rewind.projections.stream import tokens_needed

            loop.log.stream_tokens = tokens_needed(stream_modes_of(request))
            loop.log.stream_nodes = "events" in stream_modes_of(request)

            # (a run without a checkpointer keeps no log: nothing of it outlives the process)
            logged = isinstance(loop.log.event_log, EventLog)
            feed = run.feed = LiveFeed(gated=logged and loop.log.durability != "exit")
            feed.watch(loop.log.event_log, loop.run_id)

            def tap(event: NewEvent) -> None:
                feed.add(event)
                if event.type == EventType.RUN_STARTED:
                    run.started.set()

            loop.log.add_tap(tap)

        run.result = await invoke_run(self.graphs[run.graph_id], run, watch=watch)

    # --- cancellations asked by other processes -----------------------------------------------

    def _holding(self) -> list[str]:
        return [run_id for run_id, run in self.runs.items() if not run.final]

    async def _watch_cancels(self) -> None:
        """While this process holds runs, stop those another process asks to stop: heard of at
        once on PostgreSQL (a notification), read every ``CANCEL_POLL`` seconds on SQLite."""
        while self._holding():
            try:
                async with self.cancels.listening() as heard:
                    await self._stop_asked(self._holding())  # asked before it listened
                    if heard is None:
                        while self._holding():
                            await asyncio.sleep(CANCEL_POLL)
                            await self._stop_asked(self._holding())
                        return
                    while True:
                        try:
                            async with asyncio.timeout(_LISTEN_LINGER):
                                run_id = await heard.next()
                        except TimeoutError:
                            if not self._holding():
                                return
                            continue
                        if run_id in self.runs:
                            await self._stop_asked([run_id])
            except Exception as exc:  # the database is away (or psycopg's listener lost it)
                logger.warning("cannot watch for cancellations: %s; retrying", exc)
                await asyncio.sleep(1.0)

    async def _stop_asked(self, run_ids: list[str]) -> None:
        for run_id, action in (await self.cancels.asked(run_ids)).items():
            run = self.runs.get(run_id)
            if run is None or run.final or run_id in self._stopping:
                continue
            self._stopping.add(run_id)
            self.cancel(run, rollback=action == "rollback")
            if action == "interrupt":
                with contextlib.suppress(DBAPIError, OSError):
                    await self.cancels.done(run_id)


async def apply_strategy(
    manager: RunManager,
    run: ServerRun,
    busy: list[ServerRun],
    *,
    cancel: Callable[..., Awaitable[None]] | None = None,
) -> list[ServerRun]:
    """Apply ``run``'s multitask strategy to its thread's ``busy`` runs: refuse it
    (``reject``), or cancel them (``interrupt``; ``rollback`` hides them too, and the new run
    starts where the first of them did). The runs it must wait for.

    ``cancel(run_id, rollback=...)`` cancels one (the manager's own by default)."""
    strategy = run.multitask_strategy
    if busy and strategy == "reject":
        raise RunRejectedError(
            "Thread is already running a task. Wait for it to finish or choose a different "
            "multitask strategy."
        )
    if not busy or strategy not in ("interrupt", "rollback"):
        return busy
    for other in busy:
        origin = await manager.origin_of(other)
        if (
            strategy == "rollback"
            and origin
            and not {"checkpoint_id", "checkpoint"} & set(run.request)
        ):
            run.request["checkpoint_id"] = origin  # the new run starts where this one did
        if cancel is not None:
            await cancel(other.run_id, rollback=strategy == "rollback")
        else:
            await manager.request_cancel(other, rollback=strategy == "rollback")
    return busy


def bind_graphs(
    graphs: Mapping[str, CompiledStateGraph], log: EventLog, *, store: BaseStore | None = None
) -> dict[str, CompiledStateGraph]:
    """The graphs as a server runs them: each recording into ``log``, its root run named
    after its graph id (as the reference server's), and given ``store`` as its long-term
    memory store when one is given (the server's, in place of any the graph was compiled
    with, as the reference server does)."""
    bound: dict[str, CompiledStateGraph] = {}
    for graph_id, graph in graphs.items():
        copied = copy.copy(graph)
        copied.checkpointer = log  # every run and every state read goes to this log
        copied.name = graph_id
        if store is not None:
            copied.store = store
        bound[graph_id] = copied
    return bound


async def invoke_run(
    graph: CompiledStateGraph,
    run: ServerRun,
    *,
    config: dict[str, Any] | None = None,
    resume: bool = False,
    watch: Any = None,
) -> Any:
    """Execute a server run's request on ``graph``; its output.

    Args:
        config: The config to invoke with (:func:`run_config` by default).
        resume: Continue from the thread's newest checkpoint instead (an attempt after a
            worker died): no input.
        watch: The runtime's hook that sees the run's loop before it starts.
    """
    request = run.request
    command = request.get("command")
    input_ = None if resume else command_of(command) if command else request.get("input")
    kwargs: dict[str, Any] = {}
    for key in ("interrupt_before", "interrupt_after", "context"):
        if request.get(key) is not None:
            kwargs[key] = request[key]
    if durability_of(request) is not None:
        kwargs["durability"] = durability_of(request)
    forwarded = forwarded_modes(request)
    if forwarded:

        def watched(loop: Any, head: Any, resuming: bool) -> None:
            # As LangGraph's server streams a run with subgraphs: a RemoteGraph run in a task
            # forwards its chunks into the run's stream (recorded as remote.chunk events).
            loop.config = with_forwarding(loop.config, forwarded)
            if watch is not None:
                watch(loop, head, resuming)

        kwargs["_watch"] = watched
    elif watch is not None:
        kwargs["_watch"] = watch
    return await graph.ainvoke(input_, config or run_config(run), **kwargs)


def forwarded_modes(request: Mapping[str, Any]) -> list[str]:
    """The modes a RemoteGraph run in a task forwards into a run streamed with subgraphs: the
    graph's stream modes as LangGraph's server streams it (the requested ones but ``events``,
    and ``debug``); none without ``stream_subgraphs``."""
    if not request.get("stream_subgraphs"):
        return []
    modes = [m for m in stream_modes_of(request) if m != "events"]
    return modes if "debug" in modes else [*modes, "debug"]


def durability_of(request: Mapping[str, Any]) -> str | None:
    """The durability a run request asks for: its ``durability``, else ``exit`` for
    ``checkpoint_during=false`` (LangGraph's mapping), else none (the graph's default,
    ``async``)."""
    durability = request.get("durability")
    if durability is not None:
        return str(durability)
    return "exit" if request.get("checkpoint_during") is False else None


async def send_webhook(
    webhooks: Webhooks, graph: CompiledStateGraph, run: ServerRun, *, started_at: datetime
) -> None:
    """Send the webhook of ``run``, which ended (in the background): the run as the API shows
    it, its end, and its thread's values then (:mod:`rewind.server.webhooks`)."""
    url = run.request.get("webhook")
    if not url:
        return
    ended_at = _now()
    try:
        if graph.checkpointer is not None:
            await graph.checkpointer.flush()
        snapshot = await graph.aget_state({"configurable": {"thread_id": run.thread_id}})
        values = jsonable(snapshot.values)
    except Exception as exc:  # its state cannot be read: the run is still reported
        logger.warning("run %s: its webhook goes without its values: %s", run.run_id, exc)
        values = None
    shown = run_json(run, None)
    if run.hidden and run.status == "interrupted":
        shown["status"] = "rollback"  # as LangGraph reports a run cancelled to roll back
    body = webhook_body(
        shown, started_at=started_at, ended_at=ended_at, values=values, error=run.error
    )
    webhooks.send(str(url), body)


def _cancelled_unstarted(run: ServerRun) -> None:
    """End a run whose task was cancelled before it took its first step (so before
    :meth:`RunManager._execute` could record anything): it ends ``interrupted``."""
    if not run.done.is_set():
        run.set_status("interrupted")
        run.started.set()
        run.done.set()


def start_delay(request: Mapping[str, Any]) -> float:
    """Seconds a run waits before it starts (``after_seconds``)."""
    value = request.get("after_seconds")
    return float(value) if isinstance(value, int | float) and value > 0 else 0.0


def stream_modes_of(request: Mapping[str, Any]) -> list[str]:
    """The projections a run's requested stream modes need (rewind's names)."""
    return projected_modes(_as_list(request.get("stream_mode") or "values"))


def recorded_stream(started: Mapping[str, Any] | None) -> tuple[list[str], bool] | None:
    """The stream modes and subgraphs flag recorded in a run's ``run.started`` payload by
    :func:`run_config`; ``None`` for a run this server did not start."""
    config = (started or {}).get("config") or {}
    recorded = (config.get("configurable") or {}).get("rewind_stream")
    if isinstance(recorded, dict) and isinstance(recorded.get("stream_mode"), list):
        return [str(m) for m in recorded["stream_mode"]], bool(recorded.get("subgraphs"))
    return None


def run_config(run: ServerRun, attempt: int = 1) -> dict[str, Any]:
    """The config a run's graph is invoked with: the run's as created (:func:`created_config`),
    its metadata as it starts (:func:`~rewind.server.run_keys.started_metadata`), and what
    rewind records with it (``rewind_stream``)."""
    request = run.request
    config = created_config(run)
    config["configurable"]["rewind_stream"] = {
        # Recorded with the run, so its stream (and its SSE ids) can be rebuilt from the log
        # by any server, after a restart too.
        "stream_mode": _as_list(request.get("stream_mode") or "values"),
        "subgraphs": bool(request.get("stream_subgraphs")),
        "stateless": bool(request.get("temporary")),
    }
    config["metadata"].update(started_metadata(attempt, request.get("api_url")))
    config["run_id"] = run.run_id
    return config


def created_config(run: ServerRun) -> dict[str, Any]:
    """A run's config as LangGraph's server keeps it when it creates the run: the request's
    (with the server's keys, :mod:`~rewind.server.run_keys`), the run's identity in its
    ``configurable``, the run's metadata as its metadata."""
    request = run.request
    config = copy.deepcopy(request.get("config") or {})
    configurable = dict(config.get("configurable") or {})
    checkpoint_id = request.get("checkpoint_id") or (request.get("checkpoint") or {}).get(
        "checkpoint_id"
    )
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    configurable.update(
        run_id=run.run_id,
        thread_id=run.thread_id,
        graph_id=run.graph_id,
        assistant_id=run.assistant_id,
    )
    config["configurable"] = configurable
    config["metadata"] = {**(config.get("metadata") or {}), **run.metadata}
    return config


def shown_config(run: ServerRun, *, started: bool) -> dict[str, Any]:
    """A run's config as LangGraph's server shows it: as created; once it ``started``, with the
    metadata it started with (and the node counter LangGraph adds, which shows as null)."""
    config = created_config(run)
    if started:
        config["metadata"].update(started_metadata(1, run.request.get("api_url")))
        config["configurable"]["__pregel_node_finished"] = None
    return config


def command_of(body: Mapping[str, Any]) -> Command[Any]:
    """A ``Command`` of its JSON form (``goto`` as node names or ``{node, input}`` sends)."""
    goto = body.get("goto")
    if goto is not None:
        items = goto if isinstance(goto, list) else [goto]
        goto = [Send(g["node"], g.get("input")) if isinstance(g, dict) else g for g in items]
    return Command(
        resume=body.get("resume"),
        update=body.get("update"),
        goto=goto if goto is not None else (),
    )


def new_run_id() -> str:
    """A fresh run id."""
    return str(uuid.uuid4())


def run_json(
    run: ServerRun | None, record: RunRecord | None, started: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A run as the API's ``Run``: the server's view of it, or the log's (``started``: its
    ``run.started`` payload, whose config names its assistant and its metadata)."""
    if run is not None:
        request = run.request
        status = run.status
        if record is not None and record.status != RunStatus.RUNNING:
            status = api_status(record.status)  # the log knows it ended before this task does
        kwargs = {
            "input": request.get("input"),
            "command": request.get("command"),
            # (LangGraph's server shows a cancelled run's config as created.)
            "config": shown_config(
                run,
                started=status != "interrupted"
                and (record is not None or status in ("running", "success", "error")),
            ),
            "context": request.get("context") or {},
            "stream_mode": _as_list(request.get("stream_mode") or "values"),
            "interrupt_before": request.get("interrupt_before"),
            "interrupt_after": request.get("interrupt_after"),
            "webhook": request.get("webhook"),
            "feedback_keys": request.get("feedback_keys"),
            "temporary": bool(request.get("temporary")),
            "subgraphs": bool(request.get("stream_subgraphs")),
            "resumable": bool(request.get("stream_resumable")),
            "checkpoint_during": request.get("checkpoint_during", True),
            "durability": durability_of(request) or "async",
        }
        return {
            "run_id": run.run_id,
            "thread_id": run.thread_id,
            "assistant_id": run.assistant_id,
            "metadata": run.metadata,
            "status": status,
            "kwargs": kwargs,
            "multitask_strategy": run.multitask_strategy,
            "created_at": run.created_at.isoformat(),
            "updated_at": run.updated_at.isoformat(),
            "langsmith_session_name": None,
        }
    assert record is not None
    config = _mapping((started or {}).get("config"))
    metadata = _mapping(config.get("metadata"))
    return {
        "run_id": record.run_id,
        "thread_id": record.thread_id,
        "assistant_id": _mapping(config.get("configurable")).get("assistant_id")
        or assistant_id_of(record.graph_name or ""),
        # (as the run was created: what its start added to its metadata left out)
        "metadata": {k: v for k, v in metadata.items() if k not in _STARTED_KEYS},
        "status": api_status(record.status),
        "kwargs": {},
        "multitask_strategy": "enqueue",
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "langsmith_session_name": None,
    }


_STARTED_KEYS = frozenset(started_metadata(1, None))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


_ASSISTANT_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


def assistant_id_of(graph_id: str) -> str:
    """The id of the assistant registered for a graph (the reference server's derivation)."""
    return str(uuid.uuid5(_ASSISTANT_NAMESPACE, graph_id))
