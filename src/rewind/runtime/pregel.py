"""The super-step executor: runs a compiled graph and records every step in the log.

Each super-step runs its tasks concurrently (async nodes on the loop, sync nodes in threads with
the context copied), then applies their writes in task order (pull tasks by node name, then
``Send`` tasks by index), decides the next step's tasks, and records a checkpoint. Everything is
appended to the run's log as it happens; state is never kept anywhere else.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import inspect
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from langchain_core.callbacks import CallbackManager
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import patch_config, var_child_runnable_config
from opentelemetry import context as otel_context
from opentelemetry import trace

from rewind import trace_ids
from rewind.errors import (
    ErrorCode,
    GraphInterrupt,
    GraphRecursionError,
    InvalidUpdateError,
    ParentCommand,
    create_error_message,
)
from rewind.events import PULL, EventType, NewEvent, task_id_for
from rewind.log.records import HeadWrite
from rewind.projections.modes import EXCLUDED_METADATA_KEYS
from rewind.projections.state import CheckpointView, head_state, recorded_writes
from rewind.runtime.caching import cache_entry, cached_writes, input_of
from rewind.runtime.callbacks import Recorder, StreamingRecorder
from rewind.runtime.calls import CallRunner
from rewind.runtime.channels import MISSING, Channel
from rewind.runtime.context import _RUNTIME, ExecutionInfo, Runtime, current_config
from rewind.runtime.graph import END, START, NodeSpec
from rewind.runtime.inline import NOT_RUN, run_inline
from rewind.runtime.loops import alone_on_background_loop, call_on, inbox_of
from rewind.runtime.routing import Routing
from rewind.runtime.runlog import RunLog
from rewind.runtime.shapes import all_keys, coerce, coerce_messages, object_fields
from rewind.runtime.tasks import (
    Interrupted,
    Outcome,
    SyncAsyncNode,
    Task,
    addresses_parent,
    callable_facts,
    for_parent,
    injected_kwargs,
    interrupter,
    new_checkpoint_id,
    retries_on,
    retry_interval,
    retry_policies,
    runs_subgraph,
    task_event,
    task_order,
)
from rewind.types import (
    _INTERRUPT_HOOK,
    Command,
    Interrupt,
    RetryPolicy,
    Send,
)

if TYPE_CHECKING:
    from rewind.log import EventLog
    from rewind.runtime.compiled import CompiledStateGraph
    from rewind.runtime.scratch import ScratchLog

__all__ = ["RunLog", "RunLoop", "current_task"]

T = TypeVar("T")


_CURRENT: contextvars.ContextVar[tuple[RunLoop, Task] | None] = contextvars.ContextVar(
    "rewind_current_task", default=None
)
"""The loop and task whose node is running: a graph invoked inside it runs as a subgraph."""


def current_task() -> tuple[RunLoop, Task] | None:
    """The run loop and task of the node running in this context, if any."""
    return _CURRENT.get()


def send_writes(writes: list[tuple[str, Any]]) -> None:
    """State writes from the running node, made before it returns (LangGraph's
    ``CONFIG_KEY_SEND``): they join its task's writes, ahead of what it returns.

    Raises:
        RuntimeError: outside a running node.
    """
    current = current_task()
    if current is None:
        raise RuntimeError("Called get_config outside of a runnable context")
    current[1].sent.extend(writes)


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


class RunLoop(Routing):
    """Executes one run of a graph (or of a subgraph inside a task), appending its events."""

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
        self.config = config
        self.durability = durability
        self.recursion_limit = recursion_limit
        self.channels: dict[str, Channel] = graph.builder.channels
        self.values: dict[str, Any] = {n: c.initial() for n, c in self.channels.items()}
        self.barriers: dict[str, list[str]] = {}
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
        """The stream writer a node gets: each chunk becomes a ``custom`` event."""
        loop = asyncio.get_running_loop()

        def write(chunk: Any) -> None:
            call_on(loop, self.record, task_event(EventType.CUSTOM, task, step, chunk))

        return write

    async def checkpoint(self, *, source: str, changes: list[list[Any]], tasks: list[Task]) -> None:
        """Record the end of a super-step."""
        parent = self.checkpoint_id
        self.checkpoint_id = new_checkpoint_id()
        for task in tasks:
            task.id = task_id_for(self.checkpoint_id, self.ns, self.step + 1, task.name, task.path)
            spec = self.graph.builder.nodes.get(task.name)
            task.subgraph = spec is not None and runs_subgraph(spec.action)
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
        payload["changes"] = _compact_changes(changes, written[1] if written else None)
        payload["next"] = [_compact_task(d) for d in described]
        self._written = (self.checkpoint_id, [d["id"] for d in described])
        # Only what the fold cannot infer: waiting-edge progress once there is any, metadata
        # beyond LangGraph's default source/step/parents.
        if self.barriers:
            payload["barriers"] = {k: list(v) for k, v in self.barriers.items()}
        default = {"source": source, "step": self.step, "parents": dict(self.parents)}
        metadata = _checkpoint_metadata(self.config, default)
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
                values={k: v for k, v in self.values.items() if v is not MISSING},
                barriers=payload.get("barriers") or {},
                next=described,
                metadata=metadata,
            )
            head = HeadWrite(checkpoint_id=self.checkpoint_id, state=head_state(view))
        event = NewEvent(type=EventType.CHECKPOINT, step=self.step, payload=payload, ts=now)
        await self.emit(event, durable=True, head=head)

    # --- the loop -----------------------------------------------------------------------------

    async def run(self, tasks: list[Task], *, resuming: bool = False) -> None:
        """Run super-steps until no task is left.

        Raises:
            Interrupted: a node interrupted, or the run reached a static breakpoint.
        """
        stop = self.stop = self.step + self.recursion_limit + 1
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
        step = self.step + 1
        for task in tasks:
            self.prepare_input(task)
        hits = await self._match_cache(tasks) if self.graph.cache is not None else []
        for task in sorted(tasks, key=task_order):  # LangGraph announces them in task order
            payload: dict[str, Any] = {"triggers": list(task.triggers)}
            if list(task.path) != [PULL, task.name]:  # a pull task's path is implied
                payload["path"] = list(task.path)
            if task.arg is not MISSING and task.name != START:  # the run's input is recorded
                payload["input"] = task.arg
            elif task.name != START and (managed := self.managed_values()) is not None:
                payload["managed"] = managed  # what its input held besides the state
            if task.cached is not None:
                payload["cached"] = True
            task.run_id = str(uuid.uuid4())
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
            outcome = await self._attempts(task, step)
        except GraphInterrupt as exc:
            interrupts = list(exc.args[0]) if exc.args else []
            raised.extend(interrupts)
            self.record(task_event(EventType.INTERRUPT, task, step, {"interrupts": interrupts}))
            raise
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
        if outcome.routes:
            ended["routes"] = outcome.routes
        return ended

    async def _attempts(
        self,
        task: Task,
        step: int,
        *,
        policies: list[RetryPolicy] | None = None,
        execute: Callable[[Task, int], Awaitable[T]] | None = None,
    ) -> T:
        """Run a task (``execute``: a node's by default), retrying as its retry policy says (its
        node's by default); every failure is recorded."""
        if policies is None:
            spec = self.graph.builder.nodes.get(task.name)
            policies = retry_policies(spec.retry_policy if spec else None)
        run = execute or cast(Callable[[Task, int], Awaitable[T]], self._execute)
        attempt = 0
        task.first_attempt_at = time.time()
        while True:
            attempt += 1
            task.attempt = attempt
            try:
                return await run(task, step)
            except (GraphInterrupt, ParentCommand):
                raise
            except Exception as exc:
                policy = next((p for p in policies if retries_on(p, exc)), None)
                retrying = policy is not None and attempt < policy.max_attempts
                failed = {
                    "type": type(exc).__name__,
                    "message": str(exc),
                    "repr": repr(exc),
                    "traceback": traceback.format_exc(),
                    "attempt": attempt,
                    "retrying": retrying,
                    "error": exc,
                }
                if retrying:  # each attempt is a run of its own, as a callback handler sees it
                    task.run_id = failed["retry_run_id"] = str(uuid.uuid4())
                self.record(task_event(EventType.TASK_FAILED, task, step, failed))
                if policy is None or not retrying:
                    exc.add_note(f"During task with name '{task.name}' and id '{task.id}'")
                    raise
                await asyncio.sleep(retry_interval(policy, attempt))

    async def _execute(self, task: Task, step: int) -> Outcome:
        if task.name == START:
            update = task.arg
            if isinstance(update, Mapping) and self._input_keys is not None:
                update = {k: v for k, v in update.items() if k in self._input_keys}
            outcome = Outcome(task=task, update=update, writes=self._map_update(update, START))
            outcome.goto = await self._route(START, outcome.writes, outcome.routes)
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
                    outcome.writes += self._map_update(item.update, task.name, outcome.ids_given)
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

    async def _call(
        self,
        action: Callable[..., Any],
        node_input: Any,
        task: Task,
        step: int,
        *,
        call: tuple[tuple[Any, ...], dict[str, Any], dict[str, Any]] | None = None,
    ) -> Any:
        """Run a task's function once. ``call``: a task call's arguments (positional,
        keyword) and the config of the task that called it, under whose run it runs."""
        if isinstance(action, SyncAsyncNode):  # the function for the API the run came from
            action = action.func if self.sync_api else action.afunc
        config = self._task_config(task, step, call[2] if call is not None else None)
        writer = self.writer_for(task, step)
        runtime = self.runtime_for(task, writer)
        run_manager, config = self._callbacks(task, step, config, node_input)
        # This task's own context (gather gave it a copy): nodes find these with get_config(),
        # get_stream_writer(), get_runtime() and LangChain's ensure_config(), in threads too.
        current_config.set(config)
        _RUNTIME.set(runtime)
        if task.root is None:
            task.interrupt_hook = interrupter(task, self.ns)
        _INTERRUPT_HOOK.set((task.root or task).interrupt_hook)
        _CURRENT.set((self, task))
        var_child_runnable_config.set(cast(RunnableConfig, config))
        span_token = _enter_node_span(self.run_id, task.seq)
        injected = injected_kwargs(action, config, writer, runtime, runtime.store)
        args: tuple[Any, ...] = (node_input,)
        kwargs = injected
        if call is not None:  # as LangGraph's: what the caller passed wins over what is injected
            args, kwargs = call[0], {**injected, **call[1]}
        is_async = callable_facts(action)[1]
        try:
            if is_async and self.sync_api and call is None:
                raise TypeError(
                    f'No synchronous function provided to "{task.name}".'
                    "\nEither initialize with a synchronous function or invoke"
                    " via the async API (ainvoke, astream, etc.)"
                )
            if is_async:
                result = await action(*args, **kwargs)
            elif hasattr(action, "ainvoke") and call is None:
                result = await action.ainvoke(node_input, config)
            else:
                ctx = contextvars.copy_context()
                result = NOT_RUN
                if self.sync_api and self._alone and call is None:
                    # As LangGraph's sync runner does: right here (on the loop's thread),
                    # unless another sync call runs on this loop too (it would wait). A task
                    # call runs beside its caller, so in a thread of its own.
                    result = await run_inline(
                        ctx, action, *args, allowed=alone_on_background_loop, **kwargs
                    )
                    # What threads it started handed over (a ToolNode's tools run in a
                    # pool) is recorded before its end, as LangGraph's handlers see it.
                    inbox_of(asyncio.get_running_loop()).run()
                if result is NOT_RUN:
                    loop = asyncio.get_running_loop()
                    result = await loop.run_in_executor(
                        None, lambda: ctx.run(action, *args, **kwargs)
                    )
                if inspect.isawaitable(result):
                    result = await result
        except BaseException as exc:
            run_manager.on_chain_error(exc)
            raise
        finally:
            otel_context.detach(span_token)
        run_manager.on_chain_end(result)
        return result

    def runtime_for(self, task: Task, writer: Callable[[Any], None]) -> Runtime[Any]:
        """The :class:`Runtime` a task's function is given (``runtime``, and through it
        ``store``, ``previous`` and the stream writer): the one place every node, entrypoint
        and task call gets it from."""
        configurable = self.config.get("configurable") or {}
        run_id = self.config.get("run_id")
        info = ExecutionInfo(
            checkpoint_id=self.checkpoint_id or "",
            checkpoint_ns=self.task_ns(task),
            task_id=task.id,
            thread_id=configurable.get("thread_id"),
            run_id=str(run_id) if run_id else None,
            node_attempt=task.attempt,
            node_first_attempt_time=task.first_attempt_at,
        )
        return Runtime(
            context=self.context, store=self.store, stream_writer=writer, execution_info=info
        )

    def _callbacks(
        self, task: Task, step: int, config: dict[str, Any], node_input: Any
    ) -> tuple[Any, dict[str, Any]]:
        """Run the task under a LangChain callback manager whose handlers include the recorder."""
        handler = StreamingRecorder if self.log.stream_tokens else Recorder
        recorder = handler(
            self.log.record_event,
            asyncio.get_running_loop(),
            token_sink=self.log.record_token,
            step=step,
            node=task.name,
            task_id=task.id,
            ns=self.ns or None,
            state=self.state,
        )
        manager = CallbackManager.configure(
            inheritable_callbacks=config.get("callbacks"),
            inheritable_tags=config.get("tags"),
            # As under LangGraph's graph run: calls made in a node see ls_integration "langgraph"
            # (a chat model replaces it with its own), after the run's own metadata.
            inheritable_metadata=_with_integration(config.get("metadata") or {}),
        )
        for inherited in [*manager.handlers]:  # a subgraph's task: the parent's recorder goes
            if isinstance(inherited, Recorder):
                manager.remove_handler(inherited)
        manager.add_handler(recorder, inherit=True)
        run_id = uuid.UUID(task.run_id) if task.run_id else uuid.uuid4()
        run_manager = manager.on_chain_start(None, node_input, name=task.name, run_id=run_id)
        child = dict(
            patch_config(
                cast(RunnableConfig, config),
                callbacks=run_manager.get_child(tag="seq:step:1"),  # as a node's function
            )
        )
        for key in ("recursion_limit", "run_name"):  # LangChain's defaults, not the caller's
            if key not in config:
                child.pop(key, None)
        if not child.get("tags") and "tags" not in config:  # (none: no key, as LangGraph's)
            child.pop("tags", None)
        child["metadata"] = config["metadata"]  # not configurable values copied in by LangChain
        return run_manager, child

    def task_ns(self, task: Task) -> str:
        """The task's checkpoint namespace (LangGraph's ``langgraph_checkpoint_ns``): its
        graph's, or for a task call its caller's, then ``name:id``."""
        outer = task.caller_ns if task.caller_ns is not None else self.ns
        return f"{outer}|{task.name}:{task.id}" if outer else f"{task.name}:{task.id}"

    def _task_config(
        self, task: Task, step: int, base: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The config a task runs with: the run's, or ``base`` (a task call's caller's)."""
        base = self.config if base is None else base
        configurable = dict(base.get("configurable") or {})
        task_ns = self.task_ns(task)
        configurable["checkpoint_ns"] = task_ns
        configurable["checkpoint_id"] = None
        configurable["checkpoint_map"] = {**self.parents, self.ns: self.checkpoint_id}
        configurable["__pregel_task_id"] = task.id
        metadata = dict(base.get("metadata") or {})
        if "thread_id" in configurable:
            metadata.setdefault("thread_id", configurable["thread_id"])
        if self.ns:  # as LangChain copies it in when the subgraph is invoked: the outermost
            outer = (self.config.get("configurable") or {}).get("checkpoint_ns")
            if outer:
                metadata.setdefault("checkpoint_ns", outer)
        metadata.update(
            {
                "langgraph_step": step,
                "langgraph_node": task.name,
                "langgraph_triggers": task.triggers,
                "langgraph_path": task.path,
                "langgraph_checkpoint_ns": task_ns,
            }
        )
        return {**base, "configurable": configurable, "metadata": metadata}

    # --- state --------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The current state: every channel with a value."""
        return {n: v for n, v in self.values.items() if v is not MISSING}

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

    def _node_input(self, spec: NodeSpec) -> Any:
        schemas = self.graph.builder.schemas
        schema = spec.input_schema or schemas.state
        return coerce(schema, self.with_managed(self.state(), schema), schemas.state)

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
        """Apply writes in task order; return the checkpoint's change list."""
        by_channel: dict[str, list[tuple[str, Any]]] = {}
        for outcome in outcomes:
            for name, value in outcome.writes:
                by_channel.setdefault(name, []).append((outcome.task.id, value))
        changes: list[list[Any]] = []
        for name, channel in self.channels.items():
            if name not in by_channel:
                continue
            writes = by_channel[name]
            self.values[name] = channel.apply(self.values[name], [v for _, v in writes])
            if channel.fold == "value":
                changes.append([name, "value", self.values[name]])
            else:
                changes.append([name, channel.fold, [task_id for task_id, _ in writes]])
        return changes


def _compact_task(described: dict[str, Any]) -> dict[str, Any]:
    """A next task as a checkpoint event records it: no id (derived), no pull path."""
    out = {k: v for k, v in described.items() if k != "id"}
    if out["path"] == [PULL, out["name"]]:
        del out["path"]
    return out


def _compact_changes(changes: list[list[Any]], previous: list[str] | None) -> list[list[Any]]:
    """A checkpoint's changes with the step's tasks named by their index in the previous
    checkpoint's list (known to this loop), where they are among them."""
    if not previous:
        return changes
    index = {task_id: i for i, task_id in enumerate(previous)}
    return [
        [name, kind, refs if kind == "value" else [index.get(r, r) for r in refs]]
        for name, kind, refs in changes
    ]


def _checkpoint_metadata(config: Mapping[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Checkpoint metadata as LangGraph writes it: the caller's scalar metadata and
    configurable values join ``source``/``step``/``parents``."""
    out = dict(base)
    for source in (config.get("metadata"), config.get("configurable")):
        for key, value in (source or {}).items():
            if key in out or key in EXCLUDED_METADATA_KEYS or key.startswith("__"):
                continue
            if isinstance(value, str):
                out[key] = value.replace("\x00", "")
            elif isinstance(value, int | float | bool):
                out[key] = value
    return out


def _enter_node_span(run_id: str, seq: int) -> contextvars.Token[otel_context.Context]:
    """Make the node's span (as telemetry derives it from the log) the current OTel span, so
    spans opened inside the node, in threads too, nest under it (a user's own tracer provider
    too: it need not be the global one); returns the detach token."""
    caller = trace.get_current_span().get_span_context()
    trace_id = caller.trace_id if caller.is_valid else trace_ids.trace_id_for(run_id)
    flags = caller.trace_flags if caller.is_valid else trace.TraceFlags(trace.TraceFlags.SAMPLED)
    node = trace.SpanContext(trace_id, trace_ids.span_id_for(run_id, seq), False, flags)
    return otel_context.attach(trace.set_span_in_context(trace.NonRecordingSpan(node)))


def _with_integration(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """A task's metadata as the calls made in it see it: ``ls_integration`` after the run's own
    keys and before the task's ``langgraph_*`` ones, in LangGraph's order (the run's own
    ``ls_integration``, if it has one, wins)."""
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        if key.startswith("langgraph_") and "ls_integration" not in out:
            out["ls_integration"] = "langgraph"
        out[key] = value
    out.setdefault("ls_integration", "langgraph")
    return out
