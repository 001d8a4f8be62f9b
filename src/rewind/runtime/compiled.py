"""``CompiledStateGraph``: invoke a graph, read its state; all of it through the log.

The async methods are the implementation; the sync ones drive them, and work from code that
already runs an event loop (Jupyter, a web handler) by running the call on a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from rewind.callbacks import (
    GraphInterruptEvent,
    GraphResumeEvent,
)
from rewind.errors import EncodingError, GraphDrained, GraphInterrupt, LogError
from rewind.events import EventType, NewEvent, RunStatus, run_ended, run_started
from rewind.log import EventLog, codec
from rewind.log.codec import unrecorded
from rewind.projections.state import CheckpointView
from rewind.projections.stream import FORM as PROJECTION_FORM
from rewind.runtime.caching import node_namespace
from rewind.runtime.calling import nested_config
from rewind.runtime.context import coerce_context
from rewind.runtime.control import Drained, RunControl
from rewind.runtime.drawing import GraphDrawing
from rewind.runtime.jsonschemas import JsonSchemas
from rewind.runtime.loops import run_sync
from rewind.runtime.orphans import close_failed_run, close_orphans
from rewind.runtime.pregel import RunLoop, current_task
from rewind.runtime.scratch import ScratchLog
from rewind.runtime.shapes import (
    all_keys,
    checked_output_keys,
    graph_shape,
    input_shapes,
    interrupted_keys,
    keys_of,
    state_only_keys,
)
from rewind.runtime.starting import lifecycle, resume_values, trace_context, travel_of
from rewind.runtime.state_api import StateMethods, checkpoint_state
from rewind.runtime.structure import graph_channels, graph_nodes
from rewind.runtime.tasks import Interrupted, Task
from rewind.runtime.updating import StateUpdates
from rewind.types import Command, Interrupt, RetryPolicy

if TYPE_CHECKING:
    from rewind.runtime.graph import StateGraph

__all__ = ["CompiledStateGraph", "run_sync", "streamed_node"]

T = TypeVar("T")

DEFAULT_RECURSION_LIMIT = int(os.environ.get("LANGGRAPH_DEFAULT_RECURSION_LIMIT", "10007"))
"""Super-steps a run may take unless its config says otherwise (LangGraph's default)."""

_THREAD_KEYS = "thread_id, checkpoint_ns, checkpoint_id"


class CompiledStateGraph(GraphDrawing, JsonSchemas, StateUpdates, StateMethods):
    """A validated graph, ready to run. Made by :meth:`StateGraph.compile`."""

    loop_class: type[RunLoop] = RunLoop
    """The executor of its runs."""
    retry_policy: Sequence[RetryPolicy] = ()
    """The retry policies of task calls that have none of their own (an entrypoint's)."""

    def __init__(
        self,
        *,
        builder: StateGraph[Any],
        checkpointer: Any,
        store: Any = None,
        cache: Any = None,
        interrupt_before: list[str],
        interrupt_after: list[str],
        name: str,
        debug: bool,
    ) -> None:
        _check_checkpointer(checkpointer)
        self.builder = builder
        self.checkpointer = checkpointer
        self.store = store
        """The long-term memory store its nodes get (a subgraph without one uses its parent's)."""
        self.cache = cache
        """Where nodes with a ``cache_policy`` keep their writes (``None``: nothing cached)."""
        self.interrupt_before_nodes = interrupt_before
        self.interrupt_after_nodes = interrupt_after
        self.name = name
        self.debug = debug
        self.context_schema = builder.context_schema
        """The type a run's ``context=`` is made (a dict, into a dataclass or pydantic model)."""
        self.stream_mode = "updates"
        self.digest = _digest(builder, interrupt_before, interrupt_after)
        """SHA-256 of the graph's structure, recorded with every run."""
        self._input_shapes = input_shapes(builder)
        self.state_only = state_only_keys(builder)
        """The keys a node given the state schema reads (see :func:`state_only_keys`)."""
        self._graph_shape = graph_shape(builder)
        self._output_keys = frozenset(all_keys(builder.schemas.output))
        joins = sorted(builder.waiting_edges)
        self.node_triggers: dict[str, tuple[str, ...]] = {
            name: tuple(
                sorted(
                    [f"branch:to:{name}"]
                    + [f"join:{'+'.join(starts)}:{end}" for starts, end in joins if end == name]
                )
            )
            for name in builder.nodes
        }
        """What can start each node, as LangGraph lists a task's triggers: every channel it
        listens to (its branch channel, its joins), sorted, whichever of them started it."""
        self.deferred_nodes = frozenset(n for n, spec in builder.nodes.items() if spec.defer)
        """Nodes added with ``defer=True``: they run once no other node is left to run."""

    @functools.cached_property
    def nodes(self) -> dict[str, Any]:
        """Its nodes by name, ``__start__`` first, as LangGraph's ``PregelNode`` (what
        starts each one, the keys it reads, what it runs)."""
        return graph_nodes(self.builder, self.node_triggers)

    @functools.cached_property
    def channels(self) -> dict[str, Any]:
        """Its channels by name, as LangGraph lists them: the state's keys, the managed
        values, ``__start__``, ``__pregel_tasks``, each node's ``branch:to:`` channel and each
        join's barrier."""
        return graph_channels(self.builder)

    def _cache_namespaces(self, nodes: Sequence[str] | None) -> list[tuple[str, ...]]:
        if self.cache is None:
            raise ValueError("No cache is set for this graph. Cannot clear cache.")
        specs = self.builder.nodes
        return [node_namespace(n, specs[n].action) for n in nodes or specs if n in specs]

    def clear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Delete the cached writes of these nodes (of every node, without any)."""
        namespaces = self._cache_namespaces(nodes)  # raises without a cache
        self.cache.clear(namespaces)

    async def aclear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """:meth:`clear_cache`, for async code."""
        namespaces = self._cache_namespaces(nodes)
        await self.cache.aclear(namespaces)

    def get_name(self) -> str:
        """The graph's name."""
        return self.name

    # --- logs ---------------------------------------------------------------------------------

    @asynccontextmanager
    async def _event_log(self) -> AsyncIterator[EventLog]:
        from rewind.log import EventLog

        saver = self.checkpointer
        if isinstance(saver, EventLog):
            yield saver
        elif saver is not None:
            yield await saver.log()
        else:  # pragma: no cover - callers check for a checkpointer first
            raise ValueError("No checkpointer set")

    @asynccontextmanager
    async def _run_log(self) -> AsyncIterator[EventLog | ScratchLog]:
        """Where a run is logged: the checkpointer's event_log, or without one in memory (for its
        stream; dropped after it)."""
        if self.checkpointer is None:
            yield ScratchLog()
        else:
            async with self._event_log() as event_log:
                yield event_log

    def _thread_id(self, config: dict[str, Any] | None) -> str | None:
        configurable = (config or {}).get("configurable") or {}
        thread_id = configurable.get("thread_id")
        if self.checkpointer is not None and thread_id is None:
            raise ValueError(
                f"Checkpointer requires one or more of the following 'configurable' keys: "
                f"{_THREAD_KEYS}"
            )
        return None if thread_id is None else str(thread_id)

    # --- invoke -------------------------------------------------------------------------------

    def invoke(self, input: Any, config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Run the graph to the end (or an interrupt) and return its output state."""
        current = current_task()
        on = current[0].loop if current is not None else None
        return run_sync(self.ainvoke(input, config, _sync_api=True, **kwargs), on=on)

    async def ainvoke(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        durability: str | None = None,
        context: Any = None,
        interrupt_before: Sequence[str] | str | None = None,
        interrupt_after: Sequence[str] | str | None = None,
        control: RunControl | None = None,
        output_keys: str | Sequence[str] | None = None,
        _sync_api: bool = False,
        _watch: Callable[[RunLoop, CheckpointView | None, bool], None] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run the graph to the end (or an interrupt) and return its output state.

        ``input`` is the graph's input, ``None`` to continue a thread from its newest
        checkpoint, or ``Command(resume=...)`` to answer its pending interrupts. With a
        ``stream_mode`` other than ``values``, the list of that stream's chunks, as LangGraph
        returns it. ``output_keys`` (a channel, or a list of them) is what the output and the
        ``values`` and ``updates`` modes show, as in LangGraph: one key, its value; a list,
        those keys in that order.
        """
        stream_mode = kwargs.pop("stream_mode", "values")
        if output_keys is not None:
            output_keys = checked_output_keys(output_keys, self.builder.channels)
        if stream_mode != "values":
            return [
                chunk
                async for chunk in self.astream(
                    input,
                    config,
                    stream_mode=stream_mode,
                    durability=durability,
                    context=context,
                    interrupt_before=interrupt_before,
                    interrupt_after=interrupt_after,
                    output_keys=output_keys,
                    _sync_api=_sync_api,
                    **kwargs,
                )
            ]
        current = current_task()
        if current is not None and self.checkpointer is None:
            return await self._anested(current, input, config or {}, _watch, _sync_api, context)
        config = dict(config or {})
        # Without a checkpointer a run continues nothing and is kept under its own id (its
        # log is dropped after it), whatever thread_id the config names, as in LangGraph.
        thread_id = self._thread_id(config) if self.checkpointer is not None else None
        async with self._run_log() as event_log:
            head, orphans, superseded = await self._start_state(event_log, thread_id, config)
            loop = self._run_loop(event_log, config, durability, context, head)
            loop.travel = travel_of(config, input, head, superseded)
            loop.thread_id = thread_id or loop.run_id
            loop.sync_api = _sync_api
            loop.control = control or RunControl()
            if interrupt_before is not None:
                loop.interrupt_before = _names(interrupt_before, self.builder.nodes)
            if interrupt_after is not None:
                loop.interrupt_after = _names(interrupt_after, self.builder.nodes)
            if thread_id is not None and orphans and isinstance(event_log, EventLog):
                await close_orphans(event_log, thread_id, orphans)
            if isinstance(input, Command) and input.resume is not None and head is not None:
                resume_values(input.resume, head)  # refused before the run starts, as LangGraph
            if _watch is not None:  # a stream: its projections see every event from here
                _watch(loop, head, input is None or isinstance(input, Command))
            await loop.emit(
                run_started(
                    thread_id=thread_id or loop.run_id,
                    graph=self.name,
                    origin_run_id=head.run_id if head else None,
                    origin_checkpoint_id=head.id if head else None,
                    extra={
                        "input": input,
                        "checkpointer": self.checkpointer is not None,
                        "config": _recordable_config(config),
                        "process": {"host": socket.gethostname(), "pid": os.getpid()},
                        "versions": _VERSIONS,
                        "graph_digest": self.digest,
                        "channels": list(self.builder.channels),
                        "durability": durability or "async",
                        "trace_context": trace_context(),
                        **({"node_inputs": self._input_shapes} if self._input_shapes else {}),
                        **({"fork": True} if loop.travel.forks else {}),
                        **({"output_keys": output_keys} if output_keys is not None else {}),
                        # A v3 run stream's run: its messages mode showed the chat.events.
                        **({"stream_protocol": True} if loop.log.stream_protocol else {}),
                        "form": PROJECTION_FORM,  # what its streams show (replays keep it)
                        **self._graph_shape,
                    },
                )
            )
            told = lifecycle(config, loop.run_id)
            try:
                tasks, resuming = await self._first_tasks(loop, input, head)
                if told and head is not None and resuming and not loop.travel.forks:
                    told.on_resume(GraphResumeEvent(told.run_id, "pending", head.id, ()))
                await loop.run(tasks, resuming=resuming)
            except Interrupted as stop:
                if told:
                    status: Any = f"interrupt_{stop.static}" if stop.static else "pending"
                    told.on_interrupt(
                        GraphInterruptEvent(
                            told.run_id,
                            status,
                            loop.checkpoint_id or "",
                            (),
                            tuple(stop.interrupts),
                        )
                    )
                # As LangGraph's: the run's last values have the finished tasks' writes.
                pending = self._shown_pending(loop.pending_values())
                await loop.end(run_ended(RunStatus.INTERRUPTED, pending=pending))
                state = {**loop.state(), **pending}
                output = (
                    self._interrupted_output(state, stop.interrupts)
                    if output_keys is None
                    else interrupted_keys(state, stop.interrupts, output_keys)
                )
                await self._finish(event_log, loop)
                return output
            except Drained as drained:  # stopped before a step: resumable from its checkpoint
                ended = run_ended(RunStatus.INTERRUPTED)
                ended.payload["drained"] = drained.reason
                await loop.end(ended)
                await self._finish(event_log, loop)
                raise GraphDrained(drained.reason) from None
            except asyncio.CancelledError:  # stopped from outside (a node's own is wrapped)
                await loop.end(run_ended(RunStatus.CANCELLED))
                await self._finish(event_log, loop)
                raise
            except BaseException as exc:
                ended = run_ended(
                    RunStatus.ERROR, error={"type": type(exc).__name__, "message": str(exc)}
                )
                if not isinstance(exc, LogError):
                    await loop.end(ended)
                    await self._finish(event_log, loop)
                    raise
                # The log refused the run's appends (the database went away): what it queued
                # after them is gone; the run ends at the seq the database holds, if it can.
                loop.log.end()
                if isinstance(event_log, EventLog):
                    with contextlib.suppress(LogError):
                        await event_log.flush(loop.run_id)
                    await close_failed_run(event_log, loop.run_id, ended)
                raise
            await loop.end(run_ended(RunStatus.SUCCESS))
            await self._finish(event_log, loop)
            if output_keys is not None:
                return keys_of(loop.output_state(), output_keys)
            return self._output(loop.output_state())

    async def _finish(self, event_log: EventLog | ScratchLog, loop: RunLoop) -> None:
        await event_log.flush(loop.run_id)
        if self.checkpointer is None:  # nothing to keep: LangGraph keeps nothing either
            await event_log.delete_thread(loop.run_id, vacuum=False)

    def stream(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        stream_mode: Any = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run the graph and yield its stream chunks as they are produced (see :meth:`astream`)."""
        from rewind.runtime.streaming import iterate_sync

        current = current_task()
        on = current[0].loop if current is not None else None
        return iterate_sync(
            lambda deliver: self.astream(
                input, config, stream_mode=stream_mode, _sync_api=True, _deliver=deliver, **kwargs
            ),
            on=on,
        )

    async def astream(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        stream_mode: Any = None,
        subgraphs: bool = False,
        version: str = "v1",
        print_mode: Any = (),
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Run the graph and yield chunks of the stream modes asked for, as they happen.

        ``stream_mode`` is one mode (bare chunks), a list of modes (``(mode, chunk)``), or a
        tuple of modes (bare chunks of all of them); LangGraph's default is ``updates``. With
        ``subgraphs=True`` chunks carry their namespace; ``version="v2"`` yields typed parts.
        Every chunk is a projection of an event of the run's log, as a replay would yield it.
        """
        from rewind.runtime.streaming import stream_run

        if stream_mode is None and "__pregel_task_id" in ((config or {}).get("configurable") or {}):
            stream_mode = "values"  # given a node's config: LangGraph's default there
        async for item in stream_run(
            self,
            input,
            config,
            stream_mode=stream_mode or self.stream_mode,
            subgraphs=subgraphs,
            version=version,
            print_mode=print_mode,
            deliver=kwargs.pop("_deliver", None),
            **kwargs,
        ):
            yield item

    stream_transformers: tuple[Callable[[tuple[str, ...]], Any], ...] = ()
    """The stream transformers of its v3 run streams, besides the built-in ones (what
    ``compile(transformers=...)`` was given)."""

    def stream_events(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        version: str = "v2",
        transformers: Sequence[Callable[[tuple[str, ...]], Any]] | None = None,
        **kwargs: Any,
    ) -> Any:
        """With ``version="v3"``, a :class:`~rewind.stream.GraphRunStream` (LangGraph's
        experimental run streams): its projections, read as the run goes, drive it; the
        built-in transformers, the graph's and ``transformers`` make them; ``kwargs`` go to
        :meth:`stream` (``stream_mode`` and ``subgraphs`` are refused: v3 sets them). Other
        versions are not synchronous, in LangChain either: use :meth:`astream_events`."""
        if version == "v3":
            from rewind.stream._run import stream_v3

            return stream_v3(self, input, config, transformers=transformers, **kwargs)
        raise NotImplementedError(
            "stream_events: synchronous event streaming is not implemented (as in LangChain); "
            "use `async for event in graph.astream_events(input, config)`"
        )

    def astream_events(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        version: str = "v2",
        transformers: Sequence[Callable[[tuple[str, ...]], Any]] | None = None,
        **kwargs: Any,
    ) -> Any:
        """LangChain's ``astream_events`` (v2): an async iterator of the run's events, as they
        happen, from the log. With ``version="v3"``, an awaitable of an
        :class:`~rewind.stream.AsyncGraphRunStream` (see :meth:`stream_events`)."""
        if version == "v3":
            from rewind.stream._run import astream_v3

            return astream_v3(self, input, config, transformers=transformers, **kwargs)
        return self._astream_events(input, config, version=version, **kwargs)

    async def _astream_events(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        version: str = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        """The v2 events of :meth:`astream_events`. The filters keep events whose name, run
        type (``chain``, ``chat_model``, ``tool``...) or tags are included, and none excluded,
        as LangChain's do."""
        if version != "v2":
            raise ValueError(  # (LangChain deprecated 'v1' in langchain-core 1.3.3)
                f"rewind streams events in version 'v2' (and 'v3') only, not {version!r}: "
                "pass version='v2'"
            )
        from langchain_core.runnables.config import DEFAULT_RECURSION_LIMIT as LANGCHAIN_LIMIT

        from rewind.runtime.streaming import event_wanted, stream_run

        # LangChain fills in its config defaults first: the run's recursion limit is then
        # LangChain's (25), not LangGraph's, unless the caller gave one.
        config = {"recursion_limit": LANGCHAIN_LIMIT, **(config or {})}
        # As LangChain's: the root run's id is the config's run_id (nodes see it in
        # runtime.execution_info), a new one when the caller gave none.
        config.setdefault("run_id", str(uuid.uuid4()))
        # LangGraph passes ``stream_mode`` on to the graph's own stream: its on_chain_stream.
        stream = stream_run(
            self,
            input,
            config,
            stream_mode="events",
            # (in a node, LangChain gives it the node's config: LangGraph's default is values)
            events_stream_mode=kwargs.pop("stream_mode", None)
            or ("values" if current_task() is not None else "updates"),
            events_subgraphs=kwargs.pop("subgraphs", False),
            subgraphs=False,
            version="v1",
            print_mode=kwargs.pop("print_mode", ()),
            **kwargs,
        )
        async for event in stream:
            if event_wanted(
                event,
                include_names,
                include_types,
                include_tags,
                exclude_names,
                exclude_types,
                exclude_tags,
            ):
                yield event

    async def _anested(
        self,
        current: tuple[RunLoop, Task],
        input: Any,
        config: dict[str, Any],
        watch: Callable[[RunLoop, CheckpointView | None, bool], None] | None = None,
        sync_api: bool = False,
        context: Any = None,
    ) -> Any:
        """Run as a subgraph of the task that invoked this graph: in its run's log, under its
        namespace, resuming the subgraph where it stopped (interrupted, or done) if it did;
        ``watch``: the node streams it (``sync_api``: with ``stream``), see nested_streams;
        its ``context``, or else the parent run's (as LangGraph merges them)."""
        parent, ptask = current
        segment = f"{ptask.name}:{ptask.id}"
        ns = f"{parent.ns}|{segment}" if parent.ns else segment
        if count := next(ptask.graphs):  # the task's second graph and later: numbered
            ns = f"{ns}|{count}"
        event_log = parent.log.event_log
        parents = {**parent.parents, parent.ns: parent.checkpoint_id or ""}
        # Only a task resumed from a checkpoint can find its subgraph stopped there: the
        # subgraph's checkpoints are among the events after the root checkpoint it runs under.
        views: list[CheckpointView] = []
        if ptask.resumed and isinstance(event_log, EventLog):  # only a kept run resumes
            under = await checkpoint_state(event_log, parent.thread_id, parents[""])
            views = under.views_at(ns) if under is not None else []
        loop = self.loop_class(
            self,
            event_log=event_log,
            run_id=parent.run_id,
            config=nested_config(config),
            durability=parent.log.durability,
            recursion_limit=parent.recursion_limit,
            context=coerce_context(self.context_schema, context) or parent.context,
            log=parent.log,
            ns=ns,
            parent_checkpoints=parents,
        )
        loop.thread_id = parent.thread_id
        if loop.store is None:
            loop.store = parent.store
        if watch is not None:  # streamed by the node: its own stream, of its events
            watch(loop, None, False)
        loop.own_custom = parent.own_custom or "custom" in (loop.own_stream or ())
        loop.sync_streamed = parent.sync_streamed or sync_api
        # The subgraph's own run, as a callback handler sees it: its id, its input, and whether
        # it runs through the async API (its nodes then stream their outputs, as LangGraph's)
        # or is called with invoke or stream from a sync node.
        # (Run as the node itself, not called in one, it is streamed under `astream_events`:
        # its output is its last `values` chunk, see _output_as_node.)
        streamed = streamed_node(self, current)
        started: dict[str, Any] = {
            "run_id": str(uuid.uuid4()),
            "name": self.name,
            "streamed": not loop.sync_streamed,
        }
        if input is not ptask.node_input:  # the node's own input is not copied again
            started["input"] = input
        if self._input_shapes:
            started["node_inputs"] = self._input_shapes
        started.update(self._graph_shape, channels=list(self.builder.channels))
        keys = self._keys_as_node(streamed)
        if keys is not None:
            started["output_keys"] = keys
        if loop.own_stream is not None:  # (the modes of the node's own stream of it)
            started["stream_modes"] = loop.own_stream
            if loop.own_subgraphs:
                started["stream_subgraphs"] = True
        loop.record(NewEvent(type=EventType.SUBGRAPH_STARTED, payload=started))
        head = views[-1] if views else None
        # (interrupted there, or a failure its handler handles, or done: LangGraph's loop
        # resumes it at its end, running nothing)
        handled = loop.handled_failures(head) if head is not None else []
        if head is not None and (head.interrupted_order or handled or not head.next):
            loop.values.update(head.values)
            loop.barriers = {k: list(v) for k, v in head.barriers.items()}
            loop.step, loop.checkpoint_id = head.step, head.id
            for task_id in [*head.interrupted_order, *handled]:
                if task_id not in head.results:
                    head.resumes[task_id] = list(ptask.resume)
            loop.record(
                NewEvent(
                    type=EventType.RESUME, payload={"checkpoint_id": head.id, "subgraph": True}
                )
            )
            for hook in parent.log.resumes:
                hook(ns, head)
            tasks, resuming = await self._first_tasks(loop, None, head)
        else:
            tasks, resuming = await self._first_tasks(loop, input, None)
        try:
            await loop.run(tasks, resuming=resuming)
        except Interrupted as stop:
            raise GraphInterrupt(tuple(stop.interrupts)) from None
        output = self._output_as_node(loop.output_state(), streamed)
        # Its output is its state as it ended: the log's fold has it, so it is not copied.
        loop.record(NewEvent(type=EventType.SUBGRAPH_ENDED, payload={"run_id": started["run_id"]}))
        return output

    def _run_loop(
        self,
        event_log: EventLog | ScratchLog,
        config: dict[str, Any],
        durability: str | None,
        context: Any,
        head: CheckpointView | None,
    ) -> RunLoop:
        run_id = str(config.get("run_id") or uuid.uuid4())
        loop = self.loop_class(
            self,
            event_log=event_log,
            run_id=run_id,
            config=config,
            durability=durability or "async",
            recursion_limit=int(config.get("recursion_limit", DEFAULT_RECURSION_LIMIT)),
            # (as LangGraph's: made the context_schema; an empty one is none)
            context=coerce_context(self.context_schema, context) or None,
        )
        if head is not None:
            loop.values.update(head.values)
            loop.barriers = {k: list(v) for k, v in head.barriers.items()}
            loop.step, loop.checkpoint_id = head.step, head.id
        return loop

    def _interrupted_output(self, state: dict[str, Any], interrupts: list[Interrupt[Any]]) -> Any:
        """What ``invoke`` returns when the run stops at interrupts: the output, with them."""
        output = self._output(state)
        if interrupts:
            output["__interrupt__"] = list(interrupts)
        return output

    def _keys_as_node(self, streamed: bool) -> str | list[str] | None:
        """The keys of its state that its output shows, run as a node (``None``: as
        :meth:`_output` shows it; one key: its value): its output schema's, all of them
        when ``streamed``."""
        if streamed or self.builder.schemas.output is self.builder.schemas.state:
            return None
        return sorted(all_keys(self.builder.schemas.output))

    def _output_as_node(self, state: dict[str, Any], streamed: bool) -> Any:
        """What it returns run as a node: its output, or, ``streamed`` (under
        ``astream_events`` LangGraph runs the node with ``astream``), its last ``values``
        chunk: its whole state when it has an output schema of its own."""
        if streamed and self.builder.schemas.output is not self.builder.schemas.state:
            return state
        return self._output(state)

    def _shown_pending(self, pending: dict[str, Any]) -> dict[str, Any]:
        """``pending`` when it changes an output key (LangGraph shows it then), else none."""
        return pending if self._output_keys & set(pending) else {}

    def _output(self, state: dict[str, Any]) -> Any:
        """What ``invoke`` returns: the output schema's keys (the state schema's, without the
        private channels of nodes' own input schemas, when none was given)."""
        schemas = self.builder.schemas
        if self._output_keys >= schemas.channels.keys():  # every channel: the state as it is
            return state
        return {k: v for k, v in state.items() if k in self._output_keys}

    # --- state --------------------------------------------------------------------------------


def streamed_node(graph: Any, current: tuple[RunLoop, Task]) -> bool:
    """Whether ``graph``, run in the task ``current``, is that task's node, run under
    ``astream_events`` (LangGraph's runs it with ``astream``; not one its node calls)."""
    parent, ptask = current
    spec = getattr(parent.graph.builder, "nodes", {}).get(ptask.name)
    return parent.log.stream_nodes and getattr(spec, "action", None) is graph


def _names(spec: Sequence[str] | str, nodes: Any) -> list[str]:
    if spec == "*":
        return list(nodes)
    return [spec] if isinstance(spec, str) else list(spec)


def _recordable_config(config: dict[str, Any]) -> dict[str, Any]:
    """The parts of a run's config worth recording: its ``configurable`` (but LangGraph's
    internal ``__pregel_*`` keys), tags, metadata, recursion limit and run name. Callbacks are
    left out, and a value the log cannot store (a database client in ``configurable``, as
    LangGraph's how-tos pass one) is recorded as :func:`unrecorded` names it."""
    out: dict[str, Any] = {}
    for key in ("configurable", "tags", "metadata", "recursion_limit", "run_name"):
        if key in config:
            value = config[key]
            if key == "configurable":
                value = {k: v for k, v in value.items() if not k.startswith("__pregel_")}
            if key in ("configurable", "metadata") and isinstance(value, dict):
                value = {k: _recordable(v) for k, v in value.items()}
            out[key] = value
    return out


def _recordable(value: Any) -> Any:
    """``value`` when the log can store it, else what says it was not stored."""
    if value is None or isinstance(value, str | int | float):  # (no need to try those)
        return value
    try:
        codec.encode(value)
    except EncodingError:
        return unrecorded(value)
    return value


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for package in ("rewind", "langchain-core"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            out[package] = "unknown"
    return out


_VERSIONS = _versions()


def _digest(builder: StateGraph[Any], before: list[str], after: list[str]) -> str:
    """A stable digest of the graph's structure: nodes, edges, branches, channels (the same in
    every process: reprs lose their memory addresses)."""
    import hashlib
    import json
    import re

    def annotation_of(annotation: Any) -> str:
        return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(annotation))

    def name_of(fn: Any) -> str:
        return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', type(fn).__name__)}"

    shape = {
        "nodes": {n: name_of(spec.action) for n, spec in builder.nodes.items()},
        "edges": sorted(builder.edges),
        "waiting": sorted([list(s), e] for s, e in builder.waiting_edges),
        "branches": {
            src: {
                n: [name_of(b.path), sorted(map(str, (b.ends or {}).values()))]
                for n, b in branches.items()
            }
            for src, branches in builder.branches.items()
        },
        "channels": {n: [c.fold, annotation_of(c.annotation)] for n, c in builder.channels.items()},
        "interrupt_before": before,
        "interrupt_after": after,
    }
    text = json.dumps(shape, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _check_checkpointer(checkpointer: Any) -> None:
    """Refuse a checkpointer rewind cannot record into (a ``BaseCheckpointSaver`` of one's
    own stores checkpoints elsewhere; rewind's runs are kept in its event log)."""
    if checkpointer is None or isinstance(checkpointer, bool | EventLog):
        return
    if callable(getattr(checkpointer, "open_log", None)):  # rewind's savers
        return
    raise TypeError(
        f"compile(checkpointer={type(checkpointer).__name__}(...)): rewind records runs into "
        "its own event log, not through a checkpoint saver's put/put_writes. Use one of "
        "rewind's savers: rewind.checkpoint.memory.InMemorySaver, "
        "rewind.checkpoint.sqlite.SqliteSaver (or .aio.AsyncSqliteSaver), "
        "rewind.checkpoint.postgres.PostgresSaver (or .aio.AsyncPostgresSaver), or an EventLog."
    )
