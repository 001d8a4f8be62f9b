"""What the API's routes do, over the log and the run manager (no HTTP in here)."""

from __future__ import annotations

import asyncio
import copy
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete

from rewind.errors import EncodingError, RewindError
from rewind.events import EventType, RunStatus
from rewind.log import EventLog, RunRecord, ThreadMetadata
from rewind.log.schema import crons
from rewind.runtime.compiled import CompiledStateGraph
from rewind.runtime.memory import STORE_THREAD
from rewind.server.queued import QueuedRuns
from rewind.server.runs import (
    RunManager,
    assistant_id_of,
    bind_graphs,
    command_of,
    run_json,
)
from rewind.server.wire import empty_state, interrupt_in_state, jsonable, snapshot_json
from rewind.store.base import BaseStore
from rewind.thread_copy import copy_thread_runs
from rewind.types import StateUpdate

__all__ = ["ApiError", "Service", "ThreadInfo"]

_UNEXPECTED = (RewindError, ValueError, KeyError, TypeError, LookupError)
"""What a state read or write raises for input it cannot use (answered with a 4xx)."""

_STOP_ELSEWHERE_WAIT = 10.0
"""Seconds a thread's deletion waits for the runs another server process runs on it to stop."""

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An answer other than 2xx: ``status`` and the ``detail`` message."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _now() -> datetime:
    return datetime.now(UTC)


def _updates_state(started: Mapping[str, Any]) -> bool:
    """Whether a run (its ``run.started`` payload) is a state update, not an assistant's run."""
    return "update" in started or "supersteps" in started


@dataclass(kw_only=True)
class ThreadInfo:
    """What the API knows of a thread beyond its runs: its metadata."""

    thread_id: str
    """The thread's id."""
    created_at: datetime = field(default_factory=_now)
    """When it was created."""
    updated_at: datetime = field(default_factory=_now)
    """When it last changed."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Its metadata (``graph_id`` and ``assistant_id`` once a run used it)."""


class Service:
    """The server's state: the log, the graphs as assistants, threads and runs."""

    def __init__(
        self,
        log: EventLog,
        graphs: Mapping[str, CompiledStateGraph],
        *,
        heartbeat_seconds: float,
        queue: bool = False,
        store: BaseStore | None = None,
    ) -> None:
        self.log = log
        self.store = store
        """The long-term memory store: the store API's, and the one the graphs get."""
        self.graphs = bind_graphs(graphs, log, store=store)
        self.runs = (QueuedRuns if queue else RunManager)(log, self.graphs)
        self.threads: dict[str, ThreadInfo] = {}
        self.hidden_runs: set[str] = set()
        self.heartbeat_seconds = heartbeat_seconds
        """Seconds between heartbeats on an idle stream (and keep-alives on a wait)."""
        self.cleanups: set[asyncio.Task[None]] = set()
        """Deletions of thread-less runs' threads still to come (see :meth:`finish_cleanups`)."""
        self.stopping = asyncio.Event()
        """Set when the server stops: deletions to come stop waiting for responses."""

    async def finish_cleanups(self, grace: float = 10.0) -> None:
        """At shutdown, before the log closes: let the deletions of thread-less runs' threads
        still to come happen now (they no longer wait for the responses following their runs,
        which the shutdown ends), for up to ``grace`` seconds; a restarted server would
        otherwise keep those threads for good."""
        self.stopping.set()
        if self.cleanups:
            await asyncio.wait(list(self.cleanups), timeout=grace)

    # --- assistants ---------------------------------------------------------------------------

    async def threads_of_assistant(self, assistant_id: str) -> list[str]:
        """The threads whose metadata names ``assistant_id`` (those a run of it started)."""
        known = [r.thread_id for r in await self.log.get_thread_metadata()]
        known += [r.thread_id for r in await self.log.list_threads() if r.thread_id != STORE_THREAD]
        found = []
        for thread_id in dict.fromkeys(known):
            info = await self.find_thread(thread_id)
            if info is not None and info.metadata.get("assistant_id") == assistant_id:
                found.append(thread_id)
        return found

    # --- threads ------------------------------------------------------------------------------

    async def find_thread(self, thread_id: str) -> ThreadInfo | None:
        """The thread, if the API (this process or an earlier one) or the log knows it. The
        database is the truth: another server process may have changed the thread's metadata
        or deleted it since this process last looked."""
        kept = await self.log.get_thread_metadata(thread_id)
        info = self.threads.get(thread_id)
        if info is not None:
            if kept:
                _refresh(info, kept[0])
                return info
            if await self.log.list_runs(thread_id=thread_id, limit=1):
                return info
            del self.threads[thread_id]  # deleted by another process
            return None
        records = await self.log.list_runs(thread_id=thread_id, oldest_first=True)
        if not records and not kept:
            return None
        if kept:
            info = ThreadInfo(
                thread_id=thread_id,
                created_at=kept[0].created_at,
                updated_at=kept[0].updated_at,
                metadata=dict(kept[0].metadata),
            )
        else:
            info = ThreadInfo(thread_id=thread_id, created_at=records[0].created_at)
        if records:
            info.updated_at = max(info.updated_at, records[-1].updated_at)
            graph_id = await self._graph_of_records(records)
            if graph_id is not None and "graph_id" not in info.metadata:
                info.metadata.update(graph_id=graph_id, assistant_id=assistant_id_of(graph_id))
        self.threads[thread_id] = info
        return info

    async def save_thread(self, info: ThreadInfo) -> None:
        """Keep a thread's metadata in the database, so a restarted server still has it."""
        try:
            kept = await self.log.save_thread_metadata(info.thread_id, info.metadata)
        except EncodingError as exc:
            raise ApiError(422, f"metadata cannot be stored: {exc}") from exc
        info.updated_at = kept.updated_at
        self.threads[info.thread_id] = info

    async def thread(self, thread_id: str) -> ThreadInfo:
        """The thread, or a 404."""
        info = await self.find_thread(thread_id)
        if info is None:
            raise ApiError(404, f"Thread with ID {thread_id} not found")
        return info

    async def create_thread(
        self, thread_id: str | None, metadata: Mapping[str, Any] | None, if_exists: str
    ) -> ThreadInfo:
        """A new thread (or the existing one, with ``if_exists="do_nothing"``)."""
        thread_id = thread_id or str(uuid.uuid4())
        existing = await self.find_thread(thread_id)
        if existing is not None:
            if if_exists == "do_nothing":
                return existing
            raise ApiError(409, f"Thread with ID {thread_id} already exists")
        info = ThreadInfo(thread_id=thread_id, metadata=dict(metadata or {}))
        await self.save_thread(info)
        return info

    async def seed_thread(self, info: ThreadInfo, supersteps: Sequence[Any]) -> None:
        """Apply ``supersteps`` (:class:`~rewind.server.models.Superstep`) to a new thread's
        state, as LangGraph's server does on ``POST /threads``: only when the thread names its
        graph (``graph_id`` in its metadata). A failure leaves the thread created and answers
        201 with what went wrong, as LangGraph's does."""
        graph_id = str(info.metadata.get("graph_id"))
        graph = self.graphs.get(graph_id)
        if graph is None:
            return
        batches = [[self._update_of(u) for u in superstep.updates] for superstep in supersteps]
        config = _thread_config(info.thread_id, None)
        config["configurable"]["graph_id"] = graph_id
        try:
            await graph.abulk_update_state(config, batches)
        except _UNEXPECTED as exc:
            raise ApiError(
                201,
                f"Thread {info.thread_id} was created, but there were problems updating the "
                f"state: {exc}",
            ) from exc

    @staticmethod
    def _update_of(update: Any) -> StateUpdate:
        """A super-step's update (:class:`~rewind.server.models.SuperstepUpdate`) as the
        graph takes it: its values, or its command."""
        values: Any = command_of(update.command.model_dump()) if update.command else update.values
        return StateUpdate(values, update.as_node)

    async def new_thread(self, metadata: Mapping[str, Any] | None = None) -> ThreadInfo:
        """A thread with a fresh id (nothing to look up), kept with ``metadata``."""
        info = ThreadInfo(thread_id=str(uuid.uuid4()), metadata=dict(metadata or {}))
        await self.save_thread(info)
        return info

    async def _graph_of_records(self, records: list[RunRecord]) -> str | None:
        started = await self._started([r.run_id for r in records])
        for record in reversed(records):
            config = started.get(record.run_id, {}).get("config")
            graph_id = ((config or {}).get("configurable") or {}).get("graph_id")
            if graph_id in self.graphs:
                return str(graph_id)
        names = {g.name: gid for gid, g in self.graphs.items()}
        for record in reversed(records):
            if record.graph_name in names:
                return names[record.graph_name]
        return None

    def graph_of_thread(self, info: ThreadInfo) -> CompiledStateGraph | None:
        """The graph whose state the thread holds, if known."""
        graph_id = info.metadata.get("graph_id")
        if graph_id in self.graphs:
            return self.graphs[graph_id]
        if len(self.graphs) == 1:
            return next(iter(self.graphs.values()))
        return None

    async def thread_json(self, info: ThreadInfo) -> dict[str, Any]:
        """A thread as the API's ``Thread``."""
        records = await self.log.list_runs(thread_id=info.thread_id, limit=1)
        last = records[0] if records else None
        out: dict[str, Any] = {
            "thread_id": info.thread_id,
            "created_at": info.created_at.isoformat(),
            "updated_at": max(
                info.updated_at, last.updated_at if last else info.updated_at
            ).isoformat(),
            "state_updated_at": (last.updated_at if last else info.updated_at).isoformat(),
            "metadata": info.metadata,
            "status": "idle",
            "config": {},
            "values": None,
        }
        if last is None:
            if await self.runs.active_runs(info.thread_id):
                out["status"] = "busy"
            return out
        if await self._ran(info.thread_id, last):
            # LangGraph's server gives a thread the config of its runs' assistant (a run's
            # config merged over it), its configurable ``{}`` for an assistant without one.
            out["config"] = {"configurable": {}}
        graph = self.graph_of_thread(info)
        snapshot = None
        if graph is not None:
            try:
                snapshot = await graph.aget_state(_thread_config(info.thread_id))
            except _UNEXPECTED:
                snapshot = None
        if snapshot is not None:
            out["values"] = jsonable(snapshot.values)
            interrupts: dict[str, list[dict[str, Any]]] = {}
            for task in snapshot.tasks:
                if task.interrupts:
                    interrupts[task.id] = [interrupt_in_state(i) for i in task.interrupts]
            out["interrupts"] = interrupts
            if interrupts or snapshot.next:
                out["status"] = "interrupted"
        out["error"] = None
        if last.status == RunStatus.ERROR:
            out["status"] = "error"
            out["error"] = await self._run_error(last.run_id)
        if await self.runs.active_runs(info.thread_id):
            out["status"] = "busy"
        return out

    async def _ran(self, thread_id: str, last: RunRecord) -> bool:
        """Whether a run of an assistant (not only state updates) went on the thread."""
        started = await self._started([last.run_id])
        if not _updates_state(started.get(last.run_id, {})):
            return True
        records = await self.log.list_runs(thread_id=thread_id)
        started = await self._started([r.run_id for r in records])
        return any(not _updates_state(started.get(r.run_id, {})) for r in records)

    async def _run_error(self, run_id: str) -> dict[str, Any] | None:
        ended = await self.log.read(run_id, types=[EventType.RUN_ENDED], limit=1)
        error = (ended[0].payload or {}).get("error") if ended else None
        if not isinstance(error, dict):
            return None
        return {"error": error.get("type"), "message": error.get("message")}

    async def _known_threads(
        self, *, ids: list[str] | None = None, metadata: Mapping[str, Any] | None = None
    ) -> list[ThreadInfo]:
        """Every thread (among ``ids``) whose metadata holds ``metadata``."""
        kept = {r.thread_id: r for r in await self.log.get_thread_metadata()}
        known = list(kept)
        # The long-term memory store's own stream is not a conversation.
        known += [r.thread_id for r in await self.log.list_threads() if r.thread_id != STORE_THREAD]
        for thread_id in known:
            info = self.threads.get(thread_id)
            if info is None:
                await self.find_thread(thread_id)
            elif thread_id in kept:
                _refresh(info, kept[thread_id])
        for gone in self.threads.keys() - set(known):  # deleted by another process
            del self.threads[gone]
        return [
            info
            for info in self.threads.values()
            if info.thread_id != STORE_THREAD
            and (ids is None or info.thread_id in ids)
            and (not metadata or _contains(info.metadata, metadata))
        ]

    async def count_threads(self, query: Any) -> int:
        """How many threads match a ``ThreadCount`` (as a search would find them)."""
        infos = await self._known_threads(metadata=query.metadata)
        if not query.status and not query.values:
            return len(infos)
        count = 0
        for info in infos:
            thread = await self.thread_json(info)
            if query.status and thread["status"] != query.status:
                continue
            if query.values and not _contains(thread.get("values") or {}, query.values):
                continue
            count += 1
        return count

    async def prune_threads(self, thread_ids: list[str], *, strategy: str) -> int:
        """Prune the threads among ``thread_ids`` that exist (unknown ones are skipped); how
        many. ``delete`` removes each thread as :meth:`delete_thread` does; ``keep_latest``
        keeps it, its metadata and its newest state, and deletes the runs that state does not
        descend from (forks left behind, rolled-back runs): a state is folded from the runs it
        descends from, so those stay."""
        pruned = 0
        for thread_id in dict.fromkeys(thread_ids):
            if thread_id == STORE_THREAD or await self.find_thread(thread_id) is None:
                continue
            if strategy == "delete":
                await self.delete_thread(thread_id)
            else:
                await self._keep_latest(thread_id)
            pruned += 1
        return pruned

    async def _keep_latest(self, thread_id: str) -> None:
        records = await self.log.list_runs(thread_id=thread_id)
        # The log's retention: it keeps every run a kept one starts from.
        await self.log.prune_thread(thread_id, keep_last=1, vacuum=False)
        left = {r.run_id for r in await self.log.list_runs(thread_id=thread_id)}
        for record in records:
            if record.run_id not in left:
                await self.runs.forget(record.run_id)

    async def search_threads(self, query: Any) -> list[dict[str, Any]]:
        """Threads matching a ``ThreadSearch``, newest first (only their ``select``ed fields,
        when it names some, as LangGraph's server answers)."""
        found = await self._searched_threads(query)
        if query.select:
            return [{k: v for k, v in t.items() if k in query.select} for t in found]
        return found

    async def _searched_threads(self, query: Any) -> list[dict[str, Any]]:
        infos = await self._known_threads(ids=query.ids, metadata=query.metadata)
        key = query.sort_by or "created_at"
        descending = (query.sort_order or "desc") == "desc"
        if not query.status and not query.values and key in ("thread_id", "created_at"):
            # Sorted and paged on what the registry knows: only the page's states are read.
            infos.sort(key=lambda i: str(getattr(i, key)), reverse=descending)
            page = infos[query.offset : query.offset + query.limit]
            return [await self.thread_json(info) for info in page]
        found = []
        for info in infos:
            thread = await self.thread_json(info)
            if query.status and thread["status"] != query.status:
                continue
            if query.values and not _contains(thread.get("values") or {}, query.values):
                continue
            found.append(thread)
        found.sort(key=lambda t: str(t.get(key)), reverse=descending)
        return found[query.offset : query.offset + query.limit]

    async def delete_thread(self, thread_id: str) -> None:
        """Remove a thread, its runs (cancelling those still going, here or in another server
        process on the database) and its crons."""
        await self.thread(thread_id)
        await self.runs.forget_thread(thread_id)
        await self._stop_elsewhere(thread_id)
        await self.log.delete_thread(thread_id, vacuum=False)
        await self.runs.cancels.forget_thread(thread_id)
        query = delete(crons).where(crons.c.thread_id == thread_id)
        await self.log._write(lambda conn: conn.execute(query))
        self.threads.pop(thread_id, None)

    async def _stop_elsewhere(self, thread_id: str) -> None:
        """Cancel the thread's runs that another process runs, and wait (a bounded while) for
        them to end, so the thread's deletion takes them too."""
        running = await self.log.list_runs(thread_id=thread_id, status=RunStatus.RUNNING)
        others = [r.run_id for r in running if await self.runs.lookup(r.run_id) is None]
        if not others:
            return
        for run_id in others:
            await self.runs.cancels.ask(run_id, thread_id)
        deadline = asyncio.get_running_loop().time() + _STOP_ELSEWHERE_WAIT
        while others and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
            still = await self.log.list_runs(thread_id=thread_id, status=RunStatus.RUNNING)
            others = [r.run_id for r in still if r.run_id in others]
        if others:  # its process is gone or stuck: its runs stay, recorded as running
            logger.warning(
                "thread %s deleted; runs %s of another process did not stop within %.0f s "
                "and were kept",
                thread_id,
                ", ".join(others),
                _STOP_ELSEWHERE_WAIT,
            )

    async def copy_thread(self, thread_id: str) -> ThreadInfo:
        """A new thread with the same history: each run's events appended under new ids."""
        info = await self.thread(thread_id)
        if await self.runs.active_runs(thread_id):
            raise ApiError(409, f"Thread {thread_id} has a run in progress; copy it after")
        new_id = str(uuid.uuid4())
        await copy_thread_runs(self.log, thread_id, new_id)
        copied = ThreadInfo(thread_id=new_id, metadata=copy.deepcopy(info.metadata))
        await self.save_thread(copied)
        return copied

    # --- state --------------------------------------------------------------------------------

    def _state_graph(self, info: ThreadInfo) -> CompiledStateGraph:
        graph = self.graph_of_thread(info)
        if graph is None:
            raise ApiError(  # LangGraph's server's answer, word for word
                400,
                f"Thread '{info.thread_id}' has no assigned graph ID. This usually occurs when "
                "no runs have been made on this particular thread. This operation requires a "
                "graph ID. Please ensure a run has been made for the thread or manually update "
                "the thread metadata (by setting the 'graph_id' field) before running this "
                "operation.",
            )
        return graph

    async def state(
        self, thread_id: str, *, checkpoint_id: str | None = None, subgraphs: bool = False
    ) -> dict[str, Any]:
        """The thread's state (at ``checkpoint_id``), as a ``ThreadState``: an empty one for a
        thread no graph has run on yet (as LangGraph's server answers)."""
        info = await self.thread(thread_id)
        graph = self.graph_of_thread(info)
        if graph is None:
            return empty_state()
        config = _thread_config(thread_id, checkpoint_id)
        try:
            snapshot = await graph.aget_state(config, subgraphs=subgraphs)
        except _UNEXPECTED as exc:
            raise ApiError(400, str(exc)) from exc
        if checkpoint_id is not None and snapshot.metadata is None:
            raise ApiError(404, f"Checkpoint {checkpoint_id} not found on thread {thread_id}")
        state = snapshot_json(snapshot, thread_id=thread_id)
        if checkpoint_id is not None and state["checkpoint"] is not None:
            # LangGraph's checkpointer answers a read at a checkpoint id with the config it
            # was asked (no namespace in it), which its server shows as the checkpoint.
            state["checkpoint"].pop("checkpoint_ns", None)
        return state

    async def update_state(self, thread_id: str, body: Any) -> dict[str, Any]:
        """Write values to the thread's state as a node would; the new checkpoint."""
        info = await self.thread(thread_id)
        graph = self._state_graph(info)
        if await self.runs.active_runs(thread_id):
            raise ApiError(409, "Thread is busy; update its state when its runs are done")
        checkpoint_id = body.checkpoint_id or (body.checkpoint or {}).get("checkpoint_id")
        try:
            config = _thread_config(thread_id, checkpoint_id)
            # As LangGraph's server: the thread's graph in the configurable, so in the
            # checkpoint's metadata.
            config["configurable"]["graph_id"] = info.metadata.get("graph_id") or graph.name
            config = await graph.aupdate_state(config, body.values, as_node=body.as_node)
        except _UNEXPECTED as exc:
            raise ApiError(400, str(exc)) from exc
        info.updated_at = _now()
        configurable = config["configurable"]
        return {
            "checkpoint": dict(configurable),
            "configurable": dict(configurable),
            "checkpoint_id": configurable["checkpoint_id"],
        }

    async def history(
        self,
        thread_id: str,
        *,
        limit: int,
        before: Any = None,
        metadata: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """The thread's checkpoints, newest first."""
        info = await self.thread(thread_id)
        graph = self.graph_of_thread(info)
        if graph is None or not await self.log.list_runs(thread_id=thread_id, limit=1):
            return []
        try:
            snapshots = [s async for s in graph.aget_state_history(_thread_config(thread_id))]
        except _UNEXPECTED as exc:
            raise ApiError(400, str(exc)) from exc
        before_id = _checkpoint_id_of(before)
        if before_id is not None:
            ids = [_config_id(s.config) for s in snapshots]
            snapshots = snapshots[ids.index(before_id) + 1 :] if before_id in ids else []
        upto = _checkpoint_id_of(checkpoint)
        if upto is not None:
            ids = [_config_id(s.config) for s in snapshots]
            snapshots = snapshots[ids.index(upto) :] if upto in ids else []
        if metadata:  # (the metadata as shown: the thread's id in it)
            snapshots = [
                s
                for s in snapshots
                if _contains({"thread_id": thread_id, **(s.metadata or {})}, metadata)
            ]
        return [snapshot_json(s, thread_id=thread_id) for s in snapshots[:limit]]

    # --- runs ---------------------------------------------------------------------------------

    async def run_record(self, run_id: str) -> RunRecord | None:
        """The log's record of a run, if it started."""
        try:
            return await self.log.get_run(run_id)
        except KeyError:
            return None

    async def listed_runs(self, thread_id: str) -> list[dict[str, Any]]:
        """The thread's runs as the API's ``Run``, newest first: the server's and the log's
        (state updates and rolled-back runs left out)."""
        mine, held = await self.runs.thread_runs(thread_id)
        records = {r.run_id: r for r in await self.log.list_runs(thread_id=thread_id)}
        out = [
            (run.created_at, run_json(run, self.runs.record_for(run, records.get(run.run_id))))
            for run in mine
        ]
        hidden = self.hidden_runs | await self.runs.cancels.rolled_back(thread_id=thread_id)
        logged = [r for r in records if r not in held and r not in hidden]
        started = await self._started(logged)
        for run_id in logged:
            if "update" in started.get(run_id, {}):
                continue  # a state update, not a run
            record = records[run_id]
            out.append((record.created_at, run_json(None, record, started.get(run_id))))
        out.sort(key=lambda pair: pair[0], reverse=True)
        return [shown for _, shown in out]

    async def run_started(self, run_id: str) -> Mapping[str, Any]:
        """The ``run.started`` payload of a run of the log (``{}`` for none)."""
        return (await self._started([run_id])).get(run_id, {})

    async def _started(self, run_ids: list[str]) -> dict[str, Mapping[str, Any]]:
        """The ``run.started`` payloads of runs of the log, in one read."""
        if not run_ids:
            return {}
        found = await self.log.read_runs(run_ids, types=[EventType.RUN_STARTED])
        return {run_id: events[0].payload or {} for run_id, events in found.items() if events}


def _thread_config(thread_id: str, checkpoint_id: str | None = None) -> dict[str, Any]:
    configurable: dict[str, Any] = {"thread_id": thread_id}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def _config_id(config: Any) -> str | None:
    return ((config or {}).get("configurable") or {}).get("checkpoint_id")


def _checkpoint_id_of(value: Any) -> str | None:
    """A checkpoint id given as a string, a ``Checkpoint`` dict or a config."""
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        if "configurable" in value and isinstance(value["configurable"], Mapping):
            return value["configurable"].get("checkpoint_id")
        found = value.get("checkpoint_id")
        return str(found) if found else None
    return None


def _contains(haystack: Mapping[str, Any], needle: Mapping[str, Any]) -> bool:
    return all(k in haystack and haystack[k] == v for k, v in needle.items())


def _refresh(info: ThreadInfo, kept: ThreadMetadata) -> None:
    """Bring a thread this process knows up to date with its metadata in the database."""
    info.metadata = dict(kept.metadata)
    info.updated_at = max(info.updated_at, kept.updated_at)
