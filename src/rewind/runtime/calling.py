"""How one task's function is called: the config, LangChain callbacks (with the recorder),
``Runtime`` and context variables it runs with, on the loop, inline on the loop's thread, or
in a worker thread (the part of :class:`~rewind.runtime.pregel.RunLoop` that runs a node, an
entrypoint or a task call once; a mixin)."""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import inspect
import itertools
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from langchain_core.callbacks import CallbackManager
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import patch_config, var_child_runnable_config
from opentelemetry import context as otel_context
from opentelemetry import trace

from rewind import trace_ids
from rewind.events import EventType, NewEvent
from rewind.projections.stream import PROPAGATED_KEYS
from rewind.runtime.callbacks import ProtocolRecorder, Recorder, StreamingRecorder
from rewind.runtime.chains import NO_INPUT
from rewind.runtime.channels import MISSING
from rewind.runtime.context import _RUNTIME, ExecutionInfo, Runtime, current_config
from rewind.runtime.deployment import server_info_of
from rewind.runtime.inline import NOT_RUN, run_inline
from rewind.runtime.loops import alone_on_background_loop, call_on, inbox_of
from rewind.runtime.runnable_node import run_runnable_node, streams_as_node, traced_run
from rewind.runtime.tasks import (
    SyncAsyncNode,
    Task,
    callable_facts,
    injected_kwargs,
    interrupter,
    no_sync_function,
)
from rewind.runtime.timeouts import AttemptClock, ProgressHandler, heartbeat_of
from rewind.types import _INTERRUPT_HOOK

if TYPE_CHECKING:
    from rewind.runtime.pregel import RunLoop
    from rewind.runtime.runlog import RunLog

_PROPAGATED = tuple(k for k in PROPAGATED_KEYS if not k.startswith("checkpoint_"))
"""The ids LangGraph copies from a run's ``configurable`` into its metadata, but the
checkpoint's (a task's config sets them anew; a subgraph's outer namespace is kept below)."""

__all__ = ["TaskCalling", "current_task", "nested_config", "send_writes"]

_COORDINATES = ("thread_id", "checkpoint_ns", "checkpoint_id", "checkpoint_map")
"""The ``configurable`` keys by which a config names a checkpoint lineage of its own."""


_CURRENT: contextvars.ContextVar[tuple[RunLoop, Task] | None] = contextvars.ContextVar(
    "rewind_current_task", default=None
)
"""The loop and task whose node is running: a graph invoked inside it runs as a subgraph."""


def current_task() -> tuple[RunLoop, Task] | None:
    """The run loop and task of the node running in this context, if any."""
    return _CURRENT.get()


def nested_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config of a graph a node calls: ``config`` over the ``configurable`` and metadata of
    the config the call is made in (the node's), as LangGraph's ``ensure_config`` merges them,
    so its nodes see the thread and the node's namespace; a ``configurable`` that names a
    lineage of its own (a thread, a namespace, a checkpoint) replaces the node's."""
    ambient = var_child_runnable_config.get() or {}
    own = config.get("configurable") or {}
    configurable = dict(ambient.get("configurable") or {})
    if any(own.get(key) for key in _COORDINATES):
        configurable = {}
    out = dict(config)
    if configurable or own:
        out["configurable"] = {**configurable, **own}
    metadata = {**(ambient.get("metadata") or {}), **(config.get("metadata") or {})}
    if metadata:
        out["metadata"] = metadata
    return out


def send_writes(writes: list[tuple[str, Any]]) -> None:
    """State writes from the running node, made before it returns (LangGraph's
    ``CONFIG_KEY_SEND``): they join its task's writes, ahead of what it returns.

    Raises:
        RuntimeError: outside a running node.
    """
    current = current_task()
    if current is None:
        raise RuntimeError("Called get_config outside of a runnable context")
    clock = current[1].clock
    if clock is not None:  # a timed attempt: its writes are progress, none once it timed out
        if not clock.active:
            return
        if writes:
            clock.progress()
    current[1].sent.extend(writes)


class TaskCalling:
    """The task-calling part of :class:`~rewind.runtime.pregel.RunLoop` (a mixin)."""

    config: dict[str, Any]
    context: Any
    store: Any
    ns: str
    parents: Mapping[str, Any]
    checkpoint_id: str | None
    run_id: str
    sync_api: bool
    sync_streamed: bool
    _alone: bool
    log: RunLog
    outer_clocks: tuple[AttemptClock, ...]

    if TYPE_CHECKING:  # RunLoop's

        def writer_for(self, task: Task, step: int) -> Callable[[Any], None]: ...

        null_resume: tuple[int, Any] | None

        def record(self, *events: NewEvent) -> None: ...

        def state(self) -> dict[str, Any]: ...

    def _null_taker(self, step: int) -> Callable[[Task], Any] | None:
        """What gives the run's null resume (:attr:`RunLoop.null_resume`) to the first task of
        ``step`` that interrupts, once: recorded as that task's resume value, so a later resume
        of it has it first, as LangGraph writes it."""
        if self.null_resume is None or self.null_resume[0] != step:
            return None
        loop = asyncio.get_running_loop()
        lock = threading.Lock()

        def take(task: Task) -> Any:
            with lock:
                if self.null_resume is None:
                    return MISSING
                _, value = self.null_resume
                self.null_resume = None
            event = NewEvent(
                type=EventType.RESUME,
                payload={"checkpoint_id": self.checkpoint_id, "values": {task.id: value}},
            )
            call_on(loop, self.record, event)
            return value

        return take

    def runnable_name(self, task: Task, action: Any) -> str:
        """The name LangGraph gives the runnable a task runs (its node's)."""
        return task.name

    async def _call(
        self,
        action: Callable[..., Any],
        node_input: Any,
        task: Task,
        step: int,
        *,
        call: tuple[tuple[Any, ...], dict[str, Any], dict[str, Any]] | None = None,
        whole: bool = False,
    ) -> Any:
        """Run a task's function once. ``call``: a task call's arguments (positional,
        keyword) and the config of the task that called it, under whose run it runs;
        ``whole``: ``action`` is all the node runs, its run named after the node and not
        flattened (a ``Pregel`` node's, see :func:`~rewind.runtime.pregel_nodes.whole_run`)."""
        traced: str | None = None  # the name of the run a traced node's call is
        task.graphs = itertools.count()  # (an attempt numbers the graphs it runs anew)
        if isinstance(action, SyncAsyncNode):  # the function for the API the run came from
            named = task.name if whole else action.name
            if named == "Unnamed" and (self.sync_api or self.sync_streamed):
                named = "RunnableCallable"  # (a nameless function's, as LangGraph's sync call)
            traced = named if action.trace and call is None else None
            action = action.func if self.sync_api else action.afunc
        config = self._task_config(task, step, call[2] if call is not None else None)
        writer = self.writer_for(task, step)
        if task.clock is not None:  # a timed attempt: its stream writes are its progress
            writer = task.clock.guard(writer)
        runtime = self.runtime_for(task, writer)
        run_manager, config = self._callbacks(task, step, config, node_input, call is not None)
        # This task's own context (gather gave it a copy): nodes find these with get_config(),
        # get_stream_writer(), get_runtime() and LangChain's ensure_config(), in threads too.
        current_config.set(config)
        _RUNTIME.set(runtime)
        if task.root is None:
            task.interrupt_hook = interrupter(task, self.ns, self._null_taker(step))
        _INTERRUPT_HOOK.set((task.root or task).interrupt_hook)
        _CURRENT.set((cast("RunLoop", self), task))
        var_child_runnable_config.set(cast(RunnableConfig, config))
        inner = traced_run(config, node_input, traced) if traced is not None else None
        span_token = _enter_node_span(self.run_id, task.seq)
        injected = injected_kwargs(action, config, writer, runtime, runtime.store, task.node_error)
        args: tuple[Any, ...] = (node_input,)
        kwargs = injected
        if call is not None:  # as LangGraph's: what the caller passed wins over what is injected
            args, kwargs = call[0], {**injected, **call[1]}
        is_async = callable_facts(action)[1]
        try:
            if is_async and self.sync_api and call is None:
                raise no_sync_function(self.runnable_name(task, action))
            if is_async and inner is not None:  # as LangGraph's traced function: a task of
                # its own, so the step's other tasks run on while it starts
                running = action(*args, **kwargs)
                result = await asyncio.create_task(running, context=contextvars.copy_context())
            elif is_async:
                result = await action(*args, **kwargs)
            elif streams_as_node(action) and call is None:  # a LangChain runnable
                result = await run_runnable_node(
                    action,
                    node_input,
                    {**config, "run_name": task.name} if whole else config,
                    run_manager,
                    stream=self.log.stream_nodes,
                    whole=whole,
                )
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
            if inner is not None:
                inner.on_chain_error(exc)
            run_manager.on_chain_error(exc)
            raise
        finally:
            otel_context.detach(span_token)
        if inner is not None:
            inner.on_chain_end(result)
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
        runtime: Runtime[Any] = Runtime(
            context=self.context,
            store=self.store,
            stream_writer=writer,
            execution_info=info,
            server_info=server_info_of(configurable),
            control=getattr(self, "control", None),
        )
        beat = heartbeat_of(task.clock, self.outer_clocks)  # an idle timeout's signal
        if beat is not None:
            runtime = dataclasses.replace(runtime, heartbeat=beat)
        return runtime

    def _callbacks(
        self, task: Task, step: int, config: dict[str, Any], node_input: Any, a_call: bool
    ) -> tuple[Any, dict[str, Any]]:
        """Run the task under a LangChain callback manager whose handlers include the recorder
        (``a_call``: a task call's, whose function is given its arguments, not ``node_input``)."""
        handler: type[Recorder] = (
            ProtocolRecorder
            if self.log.stream_protocol
            else StreamingRecorder
            if self.log.stream_tokens
            else Recorder
        )
        run_id = uuid.UUID(task.run_id) if task.run_id else uuid.uuid4()
        recorder = handler(
            self.log.record_event,
            asyncio.get_running_loop(),
            token_sink=self.log.record_token,
            chunk_sink=self.log.record_chunk if self.log.takes_chunks else None,
            step=step,
            node=task.name,
            task_id=task.id,
            ns=self.ns or None,
            state=self.state,
            run_id=run_id,
            node_input=NO_INPUT if a_call else node_input,
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
        if task.clock is not None and task.clock.refresh_on == "auto":  # callbacks: progress
            manager.add_handler(ProgressHandler(task.clock), inherit=True)
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
        for key in _PROPAGATED:
            if configurable.get(key) and key not in metadata:
                metadata[key] = configurable[key]
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
