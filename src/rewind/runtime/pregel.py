"""The super-step executor: runs a compiled graph and records every step in the log.

Each super-step runs its tasks concurrently (async nodes on the loop, sync nodes in threads with
the context copied), then applies their writes in task order (pull tasks by node name, then
``Send`` tasks by index), decides the next step's tasks, and records a checkpoint. Everything is
appended to the run's log as it happens; state is never kept anywhere else.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from rewind.errors import (
    ErrorCode,
    GraphInterrupt,
    GraphRecursionError,
    InvalidUpdateError,
    ParentCommand,
    create_error_message,
)
from rewind.events import PULL, EventType, NewEvent, announced_order, new_uuid4, task_id_for
from rewind.log.records import HeadWrite
from rewind.projections.state import CheckpointView, head_state, recorded_writes
from rewind.runtime.caching import cache_entry, cached_writes, input_of
from rewind.runtime.calling import TaskCalling, current_task
from rewind.runtime.calls import CallRunner
from rewind.runtime.channels import MISSING, Channel, refused, value_change
from rewind.runtime.checkpoint_records import checkpoint_metadata, compact_changes, compact_task
from rewind.runtime.control import Drained
from rewind.runtime.error_handlers import ErrorHandling, FailedBefore
from rewind.runtime.graph import END, START, NodeSpec
from rewind.runtime.loops import call_on
from rewind.runtime.routing import Routing
from rewind.runtime.runlog import RunLog
from rewind.runtime.shapes import all_keys, coerce, coerce_messages, object_fields
from rewind.runtime.tasks import (
    Interrupted,
    Outcome,
    Task,
    addresses_parent,
    failure_of,
    for_parent,
    new_checkpoint_id,
    retries_on,
    retry_interval,
    retry_policies,
    runs_subgraph,
    task_event,
    task_order,
)
from rewind.runtime.timeouts import AttemptClock, guard_outer, sync_timeout_unsupported, timed
from rewind.types import (
    Command,
    Interrupt,
    RetryPolicy,
    Send,
    TimeoutPolicy,
)

if TYPE_CHECKING:
    from rewind.log import EventLog
    from rewind.runtime.compiled import CompiledStateGraph
    from rewind.runtime.scratch import ScratchLog

__all__ = ["RunLog", "RunLoop", "current_task", "value_change"]

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True)
class Travel:
    """How a run stands to the checkpoint it starts from."""

    traveling: bool = False
    """A checkpoint was addressed (``checkpoint_id``), not to answer its interrupts."""
    superseded: bool = False
    """The thread has moved past that checkpoint."""
    forks: bool = False
    """The run starts with a ``fork`` checkpoint after it (LangGraph 1.2's time travel)."""

    @property
    def replaying(self) -> bool:
        """Whether the checkpoint's finished tasks run again (not handed back their writes)."""
        return self.traveling or self.superseded


class RunLoop(TaskCalling, Routing, ErrorHandling):
    """Executes one run of a graph (or of a subgraph inside a task), appending its events."""

    control: Any = None
    """The root run's ``RunControl``: a drain request stops it before its next step."""

    def __init__(
        self,
        graph: CompiledStateGraph,
        *,
        event_log: EventLog | ScratchLog,
        run_id: str,
        config: dict[str, Any],
        durability: str,
        recursion_limit: int,
        context: Any = None,
        log: RunLog | None = None,
        ns: str = "",
        parent_checkpoints: dict[str, str] | None = None,
    ) -> None:
        self.graph = graph
        self.event_log = event_log
        self.run_id = run_id
        self.log = log or RunLog(event_log=event_log, run_id=run_id, durability=durability)
        self.ns = ns
        """The subgraph namespace (``""`` at the root): ``name:task_id`` segments joined by |."""
        self.parents: dict[str, str] = dict(parent_checkpoints or {})
        """The checkpoint each enclosing graph is at, by namespace (LangGraph's ``parents``)."""
        self.outer_clocks: tuple[AttemptClock, ...] = _outer_clocks() if ns else ()
        """The timed attempts a subgraph runs inside, innermost first (see
        :func:`~rewind.runtime.timeouts.guard_outer`)."""
        self.own_stream: list[str] | None = None
        """A graph streamed by the node that runs it: the modes of that stream (the node's
        own), which its chunks go to besides the run's stream (LangGraph's own stream)."""
        self.own_subgraphs = False
        """Whether that stream has its subgraphs' chunks (``subgraphs=True``): then they go to
        it alone, not to the run's stream, as LangGraph's."""
        self.sync_streamed = False
        """Whether a sync node streams it (or a graph it runs in): its nodes are called, not
        streamed, whoever watches (LangGraph's sync runs stream no node's output)."""
        self.own_custom = False
        """Whether its custom writes go to a node's own stream (:attr:`own_stream`, its own or
        an enclosing graph's, has ``custom``): then not to the run's stream, as LangGraph's."""
        self.loop = asyncio.get_running_loop()
        self.store: Any = graph.store
        """The long-term memory store its nodes get (``None`` when the graph has none)."""
        self.thread_id: str = run_id
        self._prepared: dict[str, Any] = {}
        self.sync_api = False
        self._alone = False
        """Whether the run was started from the sync API (async nodes then refuse, as in
        LangGraph)."""
        schemas = graph.builder.schemas
        self._input_keys: set[str] | None = (
            None if schemas.input is schemas.state else all_keys(schemas.input)
        )
        self._state_only: frozenset[str] | None = graph.state_only
        self.config = config
        self.durability = durability
        self.recursion_limit = recursion_limit
        self.channels: dict[str, Channel] = graph.builder.channels
        self.values: dict[str, Any] = {n: c.initial() for n, c in self.channels.items()}
        self.barriers: dict[str, list[str]] = {}
        self.hides = any(c.hidden for c in self.channels.values())
        """Whether a channel holds more than it shows (see :meth:`finish_channels`)."""
        self.finished_channels: list[list[Any]] = []
        self.unshown: set[str] = set()
        """Channels readable since a step that streamed no values (they finished, nothing
        was written): the output, LangGraph's last values, lacks them."""
        """The changes of hidden channels the run finishing made readable, for the next
        checkpoint (see :meth:`~rewind.runtime.routing.Routing.finish_channels`)."""
        self.context: Any = context
        self.interrupt_before: list[str] = list(graph.interrupt_before_nodes)
        self.interrupt_after: list[str] = list(graph.interrupt_after_nodes)
        self.step = -1
        self.stop = 0
        """The step the recursion limit stops the run before (set when it runs)."""
        self.finished: list[Outcome] = []
        """The outcomes of the tasks that finished in a step another task interrupted."""
        self.travel = Travel()
        """How the run stands to the checkpoint it starts from (time travel)."""
        self.null_resume: tuple[int, Any] | None = None
        """A resume value no waiting task took (LangGraph's "null" resume), and the step whose
        tasks may take it: the first ``interrupt()`` called in that step returns it."""
        self.checkpoint_id: str | None = None
        self._written: tuple[str, list[str]] | None = None
        """The last checkpoint this loop recorded, and its tasks' ids."""
        self._calls: CallRunner | None = None

    @property
    def calls(self) -> CallRunner:
        """The functional-API task calls made by this loop's tasks."""
        if self._calls is None:
            self._calls = CallRunner(self)
        return self._calls

    # --- recording ----------------------------------------------------------------------------

    async def emit(
        self, *events: NewEvent, durable: bool = False, head: HeadWrite | None = None
    ) -> None:
        """Append events to the run's log (checkpoints wait when durability is ``sync``);
        ``head`` is the thread's state as of a checkpoint among them."""
        log = self.log
        if log.seq == 0 or (durable and log.durability == "sync"):
            batch = self._stamped(events)
            mode: Any = "sync" if durable else log.batched
            await log.event_log.append(
                log.run_id,
                batch,
                expected_seq=log.seq,
                durability=mode,
                new_run=log.seq == 0,
                head=head,
            )
            log.seq += len(batch)
            self._tap(batch)
        else:
            self.record(*events, head=head)

    async def end(self, event: NewEvent) -> None:
        """Append the run's last event (``run.ended``)."""
        self.log.end()
        await self.emit(event)

    def record(self, *events: NewEvent, head: HeadWrite | None = None) -> None:
        """Append events now, in order, without waiting (on the loop's thread)."""
        log = self.log
        batch = self._stamped(events)
        log.event_log.append_nowait(
            log.run_id, batch, expected_seq=log.seq, durability=log.batched, head=head
        )
        log.seq += len(batch)
        self._tap(batch)

    def _tap(self, batch: list[NewEvent]) -> None:
        for tap in self.log.taps:
            for event in batch:
                tap(event)

    def _stamped(self, events: Sequence[NewEvent]) -> list[NewEvent]:
        # Streamed, the live event carries the time the log will event_log; in a subgraph, its ns.
        ns = self.ns or None
        stamp = bool(self.log.taps)
        if ns is None and (not stamp or all(e.ts is not None for e in events)):
            return list(events)  # nothing to stamp (a token: stamped when it came)
        now = datetime.now(UTC) if stamp else None
        return [
            e
            if (e.ts or now is None) and (e.ns or ns is None)
            else e.changed(ts=e.ts or now, ns=e.ns or ns)
            for e in events
        ]

    @property
    def seq(self) -> int:
        """How many events the run's log has."""
        return self.log.seq

    def writer_for(self, task: Task, step: int) -> Callable[[Any], None]:
        """The stream writer a node gets: each chunk becomes a ``custom`` event (in a subgraph
        run inside timed attempts, behind their guards)."""
        loop = asyncio.get_running_loop()

        def write(chunk: Any) -> None:
            call_on(loop, self.record, task_event(EventType.CUSTOM, task, step, chunk))

        if not self.outer_clocks:
            return write
        counts = self.log.stream_subgraphs and not self.own_custom
        return guard_outer(write, self.outer_clocks, counts=counts)

    async def checkpoint(self, *, source: str, changes: list[list[Any]], tasks: list[Task]) -> None:
        """Record the end of a super-step."""
        parent = self.checkpoint_id
        self.checkpoint_id = new_checkpoint_id()
        for task in tasks:
            task.id = task_id_for(self.checkpoint_id, self.ns, self.step + 1, task.name, task.path)
            spec = self.graph.builder.nodes.get(task.name)
            task.subgraph = spec is not None and runs_subgraph(spec.action)
        # As LangGraph's: the next tasks' inputs are built (a pydantic state validated) before
        # the step's output is streamed; a state their node refuses fails the run here, and
        # the checkpoint, kept, is marked so that no stream shows it.
        refused = self._prepare_next(tasks) if source == "loop" else None
        # Values the run finishing made readable (see Routing.finish_channels); those of
        # channels the step did not write are no write: LangGraph streams no values for them.
        changed = {c[0] for c in changes}
        finished = [c[0] for c in self.finished_channels if c[0] not in changed]
        changes = [*changes, *self.finished_channels]
        self.finished_channels = []
        if any(c[1] != "clear" and c[0] not in finished for c in changes):
            self.unshown = set()
        else:
            self.unshown.update(finished)
        described = [t.describe() for t in tasks]
        # What the events before it in this run say already is left out (see
        # projections.state.Expander): the step (a column), a "loop" source, the parent when
        # it is this loop's previous checkpoint, task ids (derived), pull paths, and in the
        # changes, the step's tasks as their index in that previous checkpoint's list.
        payload: dict[str, Any] = {"id": self.checkpoint_id}
        written = self._written
        if written is None or written[0] != parent:
            payload["parent_id"] = parent
        if source != "loop":
            payload["source"] = source
        payload["changes"] = compact_changes(changes, written[1] if written else None)
        payload["next"] = [compact_task(d) for d in described]
        self._written = (self.checkpoint_id, [d["id"] for d in described])
        # Only what the fold cannot infer: waiting-edge progress once there is any, metadata
        # beyond LangGraph's default source/step/parents.
        if self.barriers:
            payload["barriers"] = {k: list(v) for k, v in self.barriers.items()}
        if refused is not None:
            payload["unprepared"] = True
        if finished:
            payload["finished"] = finished
        default = {"source": source, "step": self.step, "parents": dict(self.parents)}
        metadata = checkpoint_metadata(self.config, default)
        if metadata != default or self.parents:
            payload["metadata"] = metadata
        now = datetime.now(UTC)
        head = None
        if not self.ns and self.graph.checkpointer is not None:  # the thread's new head
            view = CheckpointView(
                id=self.checkpoint_id,
                parent_id=parent,
                run_id=self.run_id,
                step=self.step,
                source=source,
                ts=now,
                values={
                    k: v
                    for k, v in self.values.items()
                    # (a thread another graph ran holds keys this one has no channel for)
                    if v is not MISSING and not getattr(self.channels.get(k), "untracked", False)
                },
                barriers=payload.get("barriers") or {},
                next=described,
                metadata=metadata,
            )
            head = HeadWrite(checkpoint_id=self.checkpoint_id, state=head_state(view))
        event = NewEvent(type=EventType.CHECKPOINT, step=self.step, payload=payload, ts=now)
        # Under `sync` durability a checkpoint is durable before the next step starts. After
        # the last step there is none: the checkpoint commits with the run's end, which the
        # run waits for before it returns (one commit fewer per run).
        await self.emit(event, durable=bool(tasks), head=head)
        if refused is not None:
            raise refused

    def _prepare_next(self, tasks: list[Task]) -> Exception | None:
        """Build the inputs of the next step's tasks (see :meth:`prepare_input`); the error
        one of them raised, if any."""
        try:
            for task in tasks:
                self.prepare_input(task)
        except Exception as exc:
            return exc
        return None

    # --- the loop -----------------------------------------------------------------------------

    async def run(self, tasks: list[Task], *, resuming: bool = False) -> None:
        """Run super-steps until no task is left.

        Raises:
            Interrupted: a node interrupted, or the run reached a static breakpoint.
        """
        # As LangGraph's: the limit counts from the step after the checkpoint the run starts
        # at (a resumed run's first step; a new input's or a fork's checkpoint is that step).
        first_step = (
            self.step + 1 if resuming and not (self.travel.forks and not self.ns) else self.step
        )
        stop = self.stop = first_step + self.recursion_limit + 1
        first = True
        while True:
            # As LangGraph: the limit is checked before looking for work, so a run that ends on
            # the step after the last allowed one still fails.
            if self.step + 1 > stop:
                raise GraphRecursionError(
                    create_error_message(
                        message=f"Recursion limit of {self.recursion_limit} reached without "
                        "hitting a stop condition. You can increase the limit by setting the "
                        "`recursion_limit` config key.",
                        error_code=ErrorCode.GRAPH_RECURSION_LIMIT,
                    )
                )
            if not tasks:
                return
            if not (first and resuming) and any(t.name in self.interrupt_before for t in tasks):
                self.record(
                    NewEvent(
                        type=EventType.INTERRUPT,
                        step=self.step + 1,
                        payload={"interrupts": [], "static": "before"},
                    )
                )
                raise Interrupted([], static="before")
            first = False
            ran = {t.name for t in tasks}
            tasks = await self.super_step(tasks)
            if tasks and ran & set(self.interrupt_after):
                self.record(
                    NewEvent(
                        type=EventType.INTERRUPT,
                        step=self.step,
                        payload={"interrupts": [], "static": "after"},
                    )
                )
                raise Interrupted([], static="after")

    async def super_step(self, tasks: list[Task]) -> list[Task]:
        """Run one step's tasks, apply their writes, checkpoint, and return the next tasks."""
        if self.control is not None and self.control.drain_requested:  # after breakpoints
            raise Drained(self.control.drain_reason or "shutdown")
        step = self.step + 1
        for task in tasks:
            if task.id not in self._prepared:  # (built before its checkpoint was recorded)
                self.prepare_input(task)
        hits = await self._match_cache(tasks) if self.graph.cache is not None else []
        for task in self.announced(tasks):
            payload: dict[str, Any] = {"triggers": list(task.triggers)}
            if list(task.path) != [PULL, task.name]:  # a pull task's path is implied
                payload["path"] = list(task.path)
            if task.arg is not MISSING and task.name != START:  # the run's input is recorded
                payload["input"] = task.arg
            elif task.name != START and (managed := self.managed_values()) is not None:
                payload["managed"] = managed  # what its input held besides the state
            if task.cached is not None:
                payload["cached"] = True
            if task.handled_error is not None:
                payload["failed_before"] = True  # not run: its error handler runs again
            payload.update(self.started_marks(task))
            task.run_id = new_uuid4()
            payload["run_id"] = task.run_id
            task.seq = self.log.seq
            await self.emit(task_event(EventType.TASK_STARTED, task, step, payload))
        raised: list[Interrupt[Any]] = []
        # Writes a task saved before a failure count first, before any task runs (as LangGraph
        # applies them), so they come first in the log whatever the running tasks do.
        done = [
            await self._run_task(t, step, raised)
            for t in [*(t for t in tasks if t.cached is not None and t not in hits), *hits]
        ]
        running = [t for t in tasks if t.cached is None]
        # A lone task's sync node runs on the loop's thread (see rewind.runtime.inline); tasks
        # of a wider step each in a worker thread, in parallel.
        self._alone = len(running) == 1
        try:
            outcomes = [
                *done,
                *await asyncio.gather(
                    *(self._run_task(t, step, raised) for t in running), return_exceptions=True
                ),
            ]
            if self._calls is not None:  # calls left running end with the step, as LangGraph's
                await self._calls.settle()
        finally:
            if self._calls is not None:  # none is waited for past its step
                self._calls.abandon()
        failures = [
            o
            for o in outcomes
            if isinstance(o, BaseException) and not isinstance(o, GraphInterrupt)
        ]
        if self._calls is not None and self._calls.fatal is not None:
            raise self._calls.fatal
        if failures:
            raise failures[0]
        if raised:  # the step stops here: no writes applied, no checkpoint
            self.finished = [o for o in outcomes if isinstance(o, Outcome)]
            raise Interrupted(raised)
        ordered = sorted(
            (o for o in outcomes if isinstance(o, Outcome)), key=lambda o: task_order(o.task)
        )
        changes = self.apply_outcomes(ordered)
        self.step = step
        next_tasks = self.next_tasks(ordered)
        await self.checkpoint(source="loop", changes=changes, tasks=next_tasks)
        return next_tasks

    def announced(self, tasks: list[Task]) -> list[Task]:
        """A step's tasks in the order LangGraph announces them (see ``announced_order``)."""
        return sorted(tasks, key=lambda t: announced_order(t.path))

    def started_marks(self, task: Task) -> dict[str, Any]:
        """What a task's ``task.started`` says besides its triggers, path and input."""
        return {}

    async def _match_cache(self, tasks: list[Task]) -> list[Task]:
        """Look the step's cacheable tasks up in the node cache: the hits (not run), in the
        order LangGraph emits them (their keys' first appearance)."""
        specs = self.graph.builder.nodes
        for task in tasks:
            spec = specs.get(task.name)
            if spec is None or spec.cache_policy is None or task.cached is not None:
                continue
            node_input = input_of(task.arg, self._prepared.get(task.id, MISSING))
            task.cache_entry = cache_entry(spec.cache_policy, task.name, spec.action, node_input)

        # As LangGraph matches them: tasks of one step with the same key share one lookup,
        # and the last of them takes the hit (the others run).
        by_key = {t.cache_entry[0]: t for t in tasks if t.cache_entry is not None}
        found = await cached_writes(self.graph.cache, [t.cache_entry for t in by_key.values()])
        hits = []
        for key, task in by_key.items():
            hit = found.get(key)
            if hit is not None:
                task.cached = dict(hit["writes"])
                task.cached_goto = list(hit["goto"])
                hits.append(task)
        return hits

    async def _run_task(self, task: Task, step: int, raised: list[Interrupt[Any]]) -> Outcome:
        if task.cached is not None:  # completed by an earlier attempt (or cached): not run
            cached = list(task.cached.items())
            outcome = Outcome(task=task, update=task.cached, writes=cached)
            if task.cached_goto is not None:  # the node cache's: where it led then
                outcome.goto = list(task.cached_goto)
            else:
                outcome.goto = await self._route(task.name, cached)
            ended = {**self.ended_payload(outcome, cached=True), "cached": True}
            self.record(task_event(EventType.TASK_ENDED, task, step, ended))
            return outcome
        try:
            if task.handled_error is not None:  # failed before: its handler runs again
                raise FailedBefore(task.handled_error)
            outcome = await self._attempts(task, step)
        except GraphInterrupt as exc:
            interrupts = list(exc.args[0]) if exc.args else []
            raised.extend(interrupts)
            self.record(task_event(EventType.INTERRUPT, task, step, {"interrupts": interrupts}))
            raise
        except Exception as exc:  # its error handler's task takes its place, if it has one
            if (handling := await self.handle_failure(task, exc, step)) is None:
                raise
            if isinstance(handling, Outcome):  # (no handler, yet handled: nothing written)
                return handling
            return await self._run_task(handling, step, raised)
        await self.emit(task_event(EventType.TASK_ENDED, task, step, self.ended_payload(outcome)))
        if task.cache_entry is not None:  # it finished: cached for next time
            key, ttl = task.cache_entry
            value = {"writes": [list(w) for w in outcome.writes], "goto": list(outcome.goto)}
            await self.graph.cache.aset({key: (value, ttl)})
        return outcome

    def ended_payload(self, outcome: Outcome, *, cached: bool = False) -> dict[str, Any]:
        """What a node's ``task.ended`` records: its update as returned, its writes where they
        differ from it, ids given to its messages, its routing decisions (``cached``: a task
        an earlier attempt completed, whose writes are all there is)."""
        ended: dict[str, Any] = {"update": outcome.update}
        if cached:
            return ended
        writes = recorded_writes(outcome.writes)
        if not (isinstance(outcome.update, dict) and writes == outcome.update):
            ended["writes"] = writes
        if outcome.ids_given:
            ended["ids_given"] = outcome.ids_given
        untracked = sorted({k for k, _ in outcome.writes if self.channels[k].untracked})
        if untracked:  # writes no checkpoint keeps: not part of the task's saved result
            ended["untracked"] = untracked
        if outcome.routes:
            ended["routes"] = outcome.routes
        if self._alone and not self.ns and self.refused_alone(outcome.writes):
            ended["unapplied"] = True  # (its step fails: see refused_alone)
        return ended

    def refused_alone(self, writes: list[tuple[str, Any]]) -> bool:
        """Whether the writes of a root step's one task will be refused (its step fails):
        LangGraph's runner, running it alone, streams its chunks only when its stream takes
        chunks as they come (``custom``, ``messages``, ``subgraphs``)."""
        return refused(self.channels, self.barriers, writes)

    async def _attempts(
        self,
        task: Task,
        step: int,
        *,
        policies: list[RetryPolicy] | None = None,
        execute: Callable[[Task, int], Awaitable[T]] | None = None,
        limit: TimeoutPolicy | None = None,
    ) -> T:
        """Run a task (``execute``: a node's by default), retrying as its retry policy says (its
        node's by default), each attempt bounded by ``limit`` (a timeout policy: the task's own,
        else its node's, by default); every failure is recorded."""
        spec = self.graph.builder.nodes.get(task.name) if execute is None else None
        if policies is None:
            policies = retry_policies(spec.retry_policy if spec else None)
        timeout = limit
        if execute is None:
            timeout = task.timeout or (spec.timeout if spec else None)
        run = execute or cast(Callable[[Task, int], Awaitable[T]], self._execute)
        attempt = 0
        task.first_attempt_at = time.time()
        while True:
            attempt += 1
            task.attempt = attempt
            refused = timeout is not None and self.sync_api
            try:
                if refused:  # as LangGraph's sync runner: a timed task cannot run there
                    raise sync_timeout_unsupported(task.name)
                if timeout is None:
                    return await run(task, step)
                return await timed(lambda: run(task, step), task, timeout)
            except (GraphInterrupt, ParentCommand):
                raise
            except Exception as exc:
                policy = next((p for p in policies if retries_on(p, exc)), None)
                if refused:
                    policy = None
                retrying = policy is not None and attempt < policy.max_attempts
                failed = failure_of(exc, attempt, retrying=retrying)
                if retrying:  # each attempt is a run of its own, as a callback handler sees it
                    task.run_id = failed["retry_run_id"] = new_uuid4()
                elif execute is None and self.error_handler_of(task, exc) is not None:
                    # its handler's task runs next; alone in its step, before it is streamed
                    failed["handled"] = "first" if self._alone else True
                elif execute is None:
                    failed.update(self.kept_writes(task))
                self.record(task_event(EventType.TASK_FAILED, task, step, failed))
                # Each failed attempt notes its error, as LangGraph's (an error raised again
                # by the next attempt has a note per attempt). LangGraph refuses a timed sync
                # task before it runs: no note then.
                if not refused:
                    exc.add_note(f"During task with name '{task.name}' and id '{task.id}'")
                if policy is None or not retrying:
                    raise
                await asyncio.sleep(retry_interval(policy, attempt))

    def kept_writes(self, task: Task) -> dict[str, Any]:
        """What a task's failure (its last attempt's) records of the writes it made before it
        failed, kept as its writes (a ``Pregel`` node's: see its loop's); none here."""
        return {}

    async def _execute(self, task: Task, step: int) -> Outcome:
        if task.name == START:
            update = task.arg
            if isinstance(update, Mapping) and self._input_keys is not None:
                update = {k: v for k, v in update.items() if k in self._input_keys}
            outcome = Outcome(task=task, update=update, writes=self._map_update(update, START))
            outcome.goto = await self._route(START, outcome.writes, outcome.routes)
            if isinstance(update, Command):  # a Command run on a new thread: its goto too
                gotos = update.goto if isinstance(update.goto, list | tuple) else [update.goto]
                outcome.goto += [
                    g for g in gotos if isinstance(g, str | Send) and g not in (END, "")
                ]
            return outcome
        spec = self.graph.builder.nodes[task.name]
        task.sent = []  # this attempt's
        node_input = self._prepared.pop(task.id, MISSING)
        if node_input is MISSING:
            node_input = task.arg if task.arg is not MISSING else self._node_input(spec)
        task.node_input = node_input
        try:
            result = await self._call(spec.action, node_input, task, step)
        except ParentCommand as command:  # a subgraph node addressed this graph
            result = dataclasses.replace(command.args[0], graph=None)
        if self.ns and addresses_parent(result):
            raise ParentCommand(for_parent(result))
        outcome = Outcome(task=task, update=result)
        for key, value in task.sent:  # written while it ran: first, in the order made
            outcome.writes += self._map_update({key: value}, task.name, outcome.ids_given)
        # A node returns an update, a Command, or a list of them (ToolNode does, when tools
        # return Commands): each item's writes and gotos count, in order.
        items = (
            result
            if isinstance(result, list) and any(isinstance(i, Command) for i in result)
            else [result]
        )
        commanded = False
        for item in items:
            if isinstance(item, Command):
                commanded = True
                if item.update is not None:
                    outcome.writes += self._map_update(item, task.name, outcome.ids_given)
                gotos = item.goto if isinstance(item.goto, list | tuple) else [item.goto]
                outcome.goto += [
                    g for g in gotos if isinstance(g, str | Send) and g not in (END, "")
                ]
            else:
                outcome.writes += self._map_update(item, task.name, outcome.ids_given)
        outcome.goto += await self._route(task.name, outcome.writes, outcome.routes)
        if not commanded:
            outcome.update = result
        return outcome

    # --- state --------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The current state: every channel with a value (the graph's own: a thread another
        graph ran keeps that graph's keys, which this one neither reads nor shows)."""
        channels = self.channels
        return {n: v for n, v in self.values.items() if v is not MISSING and n in channels}

    def output_state(self) -> dict[str, Any]:
        """The state as the run's last ``values`` showed it (LangGraph's output): without
        the channels a finishing step made readable while writing nothing."""
        state = self.state()
        return {k: v for k, v in state.items() if k not in self.unshown} if self.unshown else state

    def pending_values(self) -> dict[str, Any]:
        """The channels the writes of :attr:`finished` change, as they stand with those writes
        applied (in task order), as LangGraph shows an interrupted run's last ``values``."""
        grouped: dict[str, list[Any]] = {}
        for outcome in sorted(self.finished, key=lambda o: task_order(o.task)):
            for name, value in outcome.writes:
                grouped.setdefault(name, []).append(value)
        return {
            name: self.channels[name].apply(self.values[name], writes)
            for name, writes in grouped.items()
            if name in self.channels
        }

    def prepare_input(self, task: Task) -> Any:
        """A task's input, built (and validated, for a pydantic state) before the task starts;
        a failure names the task, as LangGraph's "Before task" note does."""
        if task.name == START or task.arg is not MISSING:
            return task.arg
        try:
            value = self._node_input(self.graph.builder.nodes[task.name])
        except Exception as exc:
            exc.add_note(f"Before task with name '{task.name}' and path '{task.path}'")
            raise
        self._prepared[task.id] = value
        return value

    def forget_input(self, task: Task) -> None:
        """Drop the input built for a task that will not run."""
        self._prepared.pop(task.id, None)

    def _node_input(self, spec: NodeSpec) -> Any:
        schemas = self.graph.builder.schemas
        schema = spec.input_schema or schemas.state
        state = self.state()
        if self._state_only is not None and schema is schemas.state:
            state = {k: v for k, v in state.items() if k in self._state_only}
        return coerce(schema, self.with_managed(state, schema), schemas.state)

    def _map_update(
        self, update: Any, node: str, ids_given: list[str] | None = None
    ) -> list[tuple[str, Any]]:
        if update is None:
            return []
        if isinstance(update, Command):
            return self._map_update(update.update, node, ids_given)
        if not isinstance(update, Mapping):
            fields = object_fields(update, list(self.channels))
            if fields is None:
                raise InvalidUpdateError(
                    create_error_message(
                        message=f"Expected dict, got {update}",
                        error_code=ErrorCode.INVALID_GRAPH_NODE_RETURN_VALUE,
                    )
                )
            update = fields
        return [
            (k, coerce_messages(v, ids_given) if self.channels[k].fold == "messages" else v)
            for k, v in update.items()
            if k in self.channels
        ]

    async def update_outcome(self, task: Task, values: Any, *, route: bool) -> Outcome:
        """The outcome of a state update made from outside, as if ``task`` returned it."""
        outcome = Outcome(task=task, update=values, writes=self._map_update(values, task.name))
        if route:
            outcome.goto = await self._route(task.name, outcome.writes)
        return outcome

    def apply_outcomes(self, outcomes: list[Outcome]) -> list[list[Any]]:
        """Apply writes in task order; return the checkpoint's change list. A channel the
        step did not write is told of the new step (an ``EphemeralValue`` empties)."""
        by_channel: dict[str, list[tuple[str, Any]]] = {}
        for outcome in outcomes:
            for name, value in outcome.writes:
                by_channel.setdefault(name, []).append((outcome.task.id, value))
        changes: list[list[Any]] = []
        for name, channel in self.channels.items():
            if name not in by_channel:
                if channel.spec is not None and self.values[name] is not MISSING:
                    after = channel.after_step(self.values[name])
                    if after is not self.values[name]:
                        self.values[name] = after
                        changes.append(value_change(channel, after))
                continue
            writes = by_channel[name]
            if channel.hidden:
                self.values[name] = self.apply_hidden(channel, [v for _, v in writes])
                changes.append(value_change(channel, self.values[name]))
                continue
            self.values[name] = channel.apply(self.values[name], [v for _, v in writes])
            if channel.fold == "value":
                changes.append(value_change(channel, self.values[name]))
            else:
                changes.append([name, channel.fold, [task_id for task_id, _ in writes]])
        return changes


def _outer_clocks() -> tuple[AttemptClock, ...]:
    """The timed attempts a subgraph's loop, made now, runs inside: that of the task running
    it (a subgraph's loop is made in its context), and those its own graph runs inside."""
    current = current_task()
    if current is None:
        return ()
    parent, task = current
    own = (task.clock,) if task.clock is not None else ()
    return (*own, *parent.outer_clocks)
