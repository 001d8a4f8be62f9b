"""LangGraph's low-level API, ``Pregel`` and ``NodeBuilder``, on rewind's recorded runtime.

A ``Pregel`` program names its channels and its nodes; a node subscribes to channels (it runs
in the step after one of them is updated), reads them, runs its function and writes the
result to channels. rewind runs it on the same executor as a ``StateGraph``: its channels are
the state's (a schema is made of them), its input is written to them by the input checkpoint,
and a node's task is started by the channels the step before updated, with the input it reads
recorded at its start. Every step is in the log as a graph's is, so every stream mode, the
state and the history are projections of it, live or replayed.

``stream_channels`` names what the program shows of its channels (LangGraph's): one channel
(its value is what ``values`` streams, a checkpoint and ``get_state`` show) or several (a dict
of them); ``updates`` and task results show writes to them only, and a step that wrote none
streams no ``values``. The run's start records them, so a replay shows the same.

A node runs in the step after a channel it subscribes to was updated, as LangGraph runs it;
a node that has not run yet while a channel it subscribes to has a value is listed among a
checkpoint's next tasks without running (:class:`WaitingTask`), as LangGraph lists it.

The channels that hold more than they show (``LastValueAfterFinish``, the named barriers)
keep what they hold with the checkpoint's join progress, as a state graph's do; a step's
tasks consume those they subscribe to before its writes apply, and when what the step updated
starts no node, the after-finish ones finish (as LangGraph's ``apply_writes``).

Managed values among the channels (``RemainingStepsManager``, ``IsLastStepManager``) are given
to the nodes that read them (among several channels) for the step they run in, as LangGraph's.

``step_timeout`` bounds each step (see
:meth:`~rewind.runtime.pregel_loop.PregelLoop._run_task`); ``cache_policy``, ``context_schema``
and ``config`` apply to the program's nodes, runs and calls as LangGraph's. The program's runs
are run by :class:`~rewind.runtime.pregel_loop.PregelLoop`.

A node's function is a run of its own inside the node's (``seq:step:1``; several functions:
``seq:step:2``...), and what it returned is the output of the node's run, as LangGraph's
``astream_events`` shows them (see :func:`~rewind.runtime.pregel_nodes.traced_step`); the
task's ``updates`` and results are its writes. A node that runs no function, only
``ChannelWrite`` writers, is no run of its own (LangGraph's writers are none): its task is
marked ``untraced`` and ``astream_events`` shows its writes alone.

A node's ``mapper`` makes its input of what it read (a pulled task's, as LangGraph's); its
writers are ``ChannelWrite`` objects of write entries, tuple entries and ``Send`` packets,
whose tasks run the next step (see :func:`~rewind.runtime.pregel_nodes.node_writes`), or
runnables of their own: the node then runs its function(s) and writers as one sequence, each
given what the one before returned, as LangGraph's (see
:func:`~rewind.runtime.pregel_nodes.node_sequence`).
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rewind.channels import BaseChannel, Topic
from rewind.events import PULL
from rewind.runtime.channels import MISSING, value_change
from rewind.runtime.compiled import CompiledStateGraph, streamed_node
from rewind.runtime.pregel import RunLoop, current_task
from rewind.runtime.pregel_builder import interrupt_nodes, program_builder
from rewind.runtime.pregel_loop import RAN, PregelLoop, node_triggers
from rewind.runtime.pregel_nodes import (
    PASSTHROUGH,
    TASKS,
    ChannelWriteEntry,
    NodeBuilder,
    PregelNode,
    node_input,
    validate_pregel,
)
from rewind.runtime.tasks import Task
from rewind.types import CachePolicy, RetryPolicy, Send
from rewind.warnings import LangGraphDeprecatedSinceV10

__all__ = ["PASSTHROUGH", "ChannelWriteEntry", "NodeBuilder", "Pregel", "PregelNode"]

logger = logging.getLogger("rewind")


class _PregelType(type):
    """Every compiled graph counts as a ``Pregel``, as in LangGraph (where a compiled
    ``StateGraph`` and an entrypoint are ``Pregel`` subclasses): ``isinstance(graph,
    Pregel)`` holds for them too."""

    def __instancecheck__(cls, instance: Any) -> bool:
        if cls.__name__ == "Pregel" and cls.__module__ == __name__:
            return isinstance(instance, CompiledStateGraph)
        return super().__instancecheck__(instance)

    def __subclasscheck__(cls, subclass: type) -> bool:
        if cls.__name__ == "Pregel" and cls.__module__ == __name__:
            return issubclass(subclass, CompiledStateGraph)
        return super().__subclasscheck__(subclass)


class Pregel(CompiledStateGraph, metaclass=_PregelType):
    """A low-level program of channels and nodes (LangGraph's ``Pregel``), run and recorded
    by rewind::

        app = Pregel(
            nodes={"node1": NodeBuilder().subscribe_only("a").do(fn).write_to("b")},
            channels={"a": EphemeralValue(str), "b": EphemeralValue(str)},
            input_channels=["a"],
            output_channels=["b"],
            checkpointer=InMemorySaver(),
        )
        app.invoke({"a": "foo"})

    ``input_channels``/``output_channels`` name one channel (the input and output are its
    value) or several (a dict of them). ``stream()`` defaults to ``values`` (every channel
    with a value, after each step that wrote one).
    """

    loop_class = PregelLoop

    def __init__(
        self,
        *,
        nodes: Mapping[str, PregelNode | NodeBuilder],
        channels: Mapping[str, BaseChannel[Any, Any, Any] | Any] | None,
        input_channels: str | Sequence[str],
        output_channels: str | Sequence[str],
        stream_channels: str | Sequence[str] | None = None,
        stream_mode: Any = "values",
        interrupt_after_nodes: str | Sequence[str] = (),
        interrupt_before_nodes: str | Sequence[str] = (),
        checkpointer: Any = None,
        store: Any = None,
        cache: Any = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] = (),
        auto_validate: bool = True,
        debug: bool | None = None,
        stream_eager: bool = False,
        step_timeout: float | None = None,
        cache_policy: CachePolicy[Any] | None = None,
        context_schema: Any = None,
        config: Mapping[str, Any] | None = None,
        trigger_to_nodes: Mapping[str, Sequence[str]] | None = None,
        node_error_handler_map: Mapping[str, str] | None = None,
        name: str = "LangGraph",
        stream_transformers: Sequence[Callable[[tuple[str, ...]], Any]] | None = None,
        **deprecated: Any,
    ) -> None:
        if "config_type" in deprecated:  # (as LangGraph's, which takes it for context_schema)
            warnings.warn(
                "`config_type` is deprecated and will be removed. Please use `context_schema` "
                "instead.",
                category=LangGraphDeprecatedSinceV10,
                stacklevel=2,
            )
            context_schema = context_schema or deprecated.pop("config_type")
        # (other keywords are ignored, as LangGraph's ignores them)
        built = {k: v.build() if isinstance(v, NodeBuilder) else v for k, v in nodes.items()}
        every = dict(channels or {})
        channels = {k: v for k, v in every.items() if isinstance(v, BaseChannel)}
        managed = {k: v for k, v in every.items() if k not in channels}
        if auto_validate:
            interrupts = [
                *interrupt_nodes(interrupt_before_nodes, built, unknown=True),
                *interrupt_nodes(interrupt_after_nodes, built, unknown=True),
            ]
            validate_pregel(
                built,
                channels,
                input_channels,
                output_channels,
                interrupts,
                stream_channels,
                managed=managed,
            )
        self.managed: dict[str, Any] = managed
        """The managed values among the channels (``RemainingStepsManager``...): a node that
        reads one (among several channels) gets its value for the step it runs in."""
        self.pregel_nodes: dict[str, PregelNode] = built
        self.nodes = built
        """The program's nodes (LangGraph's ``Pregel.nodes``)."""
        self.channels = {**every, TASKS: Topic(Send, accumulate=False)}
        """The program's channels and LangGraph's own ``__pregel_tasks`` (LangGraph's
        ``Pregel.channels``)."""
        self.input_channels = input_channels
        self.output_channels = output_channels
        self.stream_channels = stream_channels
        policies = (retry_policy,) if isinstance(retry_policy, RetryPolicy) else retry_policy
        builder = program_builder(
            built, channels, list(policies), output_channels, cache_policy, context_schema
        )
        super().__init__(
            builder=builder,
            checkpointer=checkpointer,
            store=store,
            cache=cache,
            interrupt_before=interrupt_nodes(interrupt_before_nodes, built),
            interrupt_after=interrupt_nodes(interrupt_after_nodes, built),
            name=name,
            debug=bool(debug),
        )
        self.stream_mode = stream_mode
        self.stream_eager = stream_eager
        """Whether LangGraph streams each task's output as it comes (rewind always does)."""
        self.step_timeout = step_timeout
        """How long a step's tasks may take, in seconds (``None``: no limit)."""
        self.retry_policy = tuple(policies)
        self.cache_policy = cache_policy
        """The cache policy of the nodes that have none of their own."""
        self.config = dict(config) if config else None
        """A config every call is made with, the call's own merged in (LangGraph's)."""
        self.node_error_handler_map: Mapping[str, str] = dict(node_error_handler_map or {})
        """Nodes whose failures are handled, by the node said to handle them: as LangGraph's
        ``Pregel`` (whose ``NodeBuilder`` gives a node no handler) runs it, a failure of a
        node named there ends the node's task with no writes and the run goes on (see
        :meth:`~rewind.runtime.error_handlers.ErrorHandling.handle_failure`)."""
        self.stream_transformers = tuple(stream_transformers or ())
        self.node_triggers = {n: tuple(sorted(node.triggers)) for n, node in built.items()}
        self.trigger_to_nodes: Mapping[str, Sequence[str]] = (
            _trigger_to_nodes(built) if auto_validate else dict(trigger_to_nodes or {})
        )
        """The nodes each channel starts (LangGraph's: worked out when the program is
        validated, else as given): the channels that, updated, keep the run from finishing."""
        if stream_channels is not None:  # recorded with every run: what its streams show
            keys = [stream_channels] if isinstance(stream_channels, str) else stream_channels
            self._graph_shape = {**self._graph_shape, "stream_keys": list(keys)}
            if isinstance(stream_channels, str):
                self._graph_shape["output_channel"] = stream_channels

    def _own_config(self, config: Any) -> Any:
        """``config`` merged into the program's own (``Pregel(config=...)``), as LangGraph
        merges them (the same again when it was merged already)."""
        base = self.config
        if not base:
            return config
        merged: dict[str, Any] = dict(base)
        for key, value in (config or {}).items():
            if not value:
                continue
            if key in ("metadata", "configurable") and merged.get(key):
                merged[key] = {**merged[key], **value}
            elif key == "tags" and merged.get(key):
                merged[key] = [*merged[key], *(t for t in value if t not in merged[key])]
            else:
                merged[key] = value
        return merged

    @property
    def output_list(self) -> list[str]:
        """The output channels, as a list."""
        out = self.output_channels
        return [out] if isinstance(out, str) else list(out)

    def triggered(self, values: Mapping[str, Any], updated: set[str]) -> list[Task]:
        """The tasks the ``updated`` channels start, each with its input: in node order, or
        with the program's trigger index, in name order (as LangGraph's)."""
        tasks = []
        index = self.trigger_to_nodes
        names: Sequence[str] = list(self.pregel_nodes)
        if index:  # (as LangGraph's: the nodes the index names, sorted)
            names = sorted({n for c in updated for n in index.get(c, ()) if n in self.nodes})
        for name in names:
            node = self.pregel_nodes[name]
            if not updated.intersection(node.triggers):
                continue
            arg = node_input(node, values)
            if arg is MISSING:
                continue
            tasks.append(
                Task(
                    id="",
                    name=name,
                    path=(PULL, name),
                    triggers=node_triggers(node),
                    arg=arg,
                )
            )
        return tasks

    def map_input(self, input: Any) -> list[tuple[str, Any]]:
        """The writes an input makes to the input channels."""
        if input is None:
            return []
        if isinstance(self.input_channels, str):
            return [(self.input_channels, input)]
        if not isinstance(input, dict):
            raise TypeError(f"Expected chunk to be a dict, got {type(input).__name__}")
        writes = []
        for key, value in input.items():
            if key in self.input_channels:
                writes.append((key, value))
            else:
                logger.warning(f"Input channel {key} not found in {self.input_channels}")
        return writes

    async def _first_tasks(self, loop: RunLoop, input: Any, head: Any) -> tuple[list[Task], bool]:
        """The tasks a run starts with; a resume leaves out the checkpoint's waiting tasks
        (see :class:`WaitingTask`), as LangGraph's does."""
        tasks, resuming = await super()._first_tasks(loop, input, head)
        if resuming and head is not None:
            waiting = {d["id"] for d in head.next if d.get("waiting")}
            tasks = [t for t in tasks if t.id not in waiting]
            if isinstance(loop, PregelLoop) and head.source == "update" and not loop.travel.forks:
                loop.as_listed = True  # (see PregelLoop.announced)
        return tasks, resuming

    async def _input_checkpoint(
        self,
        loop: RunLoop,
        input: Any,
        head: Any,
        pending: list[Task] | None = None,
    ) -> list[Task]:
        """The input checkpoint: the input written to its channels (not a step: nothing
        else is told of it), and the nodes those writes start."""
        loop.step = head.step + 1 if head else -1
        changes = [
            [name, "value", value]
            for name, value in loop.values.items()
            if head is None and value is not MISSING
        ]
        dropping = head is not None and bool(head.next)
        consumed: list[str] = []
        if dropping and isinstance(loop, PregelLoop) and loop.hides:
            # (the pending tasks dropped consume what they subscribe to, as LangGraph's)
            consumed = loop.consume([d.get("triggers") or () for d in head.next])
            changes += [value_change(loop.channels[n], loop.values[n]) for n in consumed]
        grouped: dict[str, list[Any]] = {}
        for name, value in self.map_input(input):
            grouped.setdefault(name, []).append(value)
        for name, writes in grouped.items():
            channel = loop.channels[name]
            if channel.hidden:
                loop.values[name] = loop.apply_hidden(channel, writes)
            else:
                loop.values[name] = channel.apply(loop.values[name], writes)
            changes = [c for c in changes if c[0] != name]
            changes.append(value_change(channel, loop.values[name]))
        if dropping:  # the pending tasks dropped: a step, as LangGraph's
            # (their nodes have seen their channels now, as LangGraph's versions say)
            dropped = {d["name"] for d in head.next if d["name"] in self.pregel_nodes}
            loop.barriers[RAN] = sorted(set(loop.barriers.get(RAN, ())) | dropped)
            for name, channel in loop.channels.items():
                if name in grouped or channel.spec is None or loop.values[name] is MISSING:
                    continue
                after = channel.after_step(loop.values[name])
                if after is not loop.values[name]:
                    loop.values[name] = after
                    changes.append(value_change(channel, after))
        updated = {n for n in grouped if loop.values[n] is not MISSING}
        last = updated.isdisjoint(self.trigger_to_nodes)  # (were the dropping a step, its last)
        if dropping and isinstance(loop, PregelLoop) and loop.hides and last:
            start = len(loop.finished_channels)
            loop.finish_channels()
            updated |= {c[0] for c in loop.finished_channels[start:] if c[1] != "clear"}
        tasks = [*self.triggered(loop.values, updated), *(pending or [])]
        if isinstance(loop, PregelLoop):
            loop.updated = updated
            if not updated:
                tasks = loop.with_waiting(tasks)
        await loop.checkpoint(source="input", changes=changes, tasks=tasks)
        return tasks

    async def ainvoke(self, input: Any, config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Run to the end and return the output as the last step that wrote to it left it
        (as LangGraph's: an ephemeral output a last step cleared is still returned; ``None``
        when no step did), with the interrupts the run stopped at under ``__interrupt__``."""
        if kwargs.get("stream_mode", "values") != "values" or "_watch" in kwargs:
            return await super().ainvoke(input, config, **kwargs)
        loops: list[PregelLoop] = []

        def watch(loop: RunLoop, head: Any, resumed: bool) -> None:
            if isinstance(loop, PregelLoop):
                loops.append(loop)
                if resumed:  # a resumed run shows its output first, as LangGraph's
                    loop.output = self._output(loop.state())

        result = await super().ainvoke(input, config, _watch=watch, **kwargs)
        if not loops:
            return result
        if isinstance(result, dict) and result.get("__interrupt__"):
            return result  # the output channels as the interrupt found them
        current = current_task()
        if current is not None and streamed_node(self, current):
            return result  # (streamed as its node: see _output_as_node)
        return loops[0].output

    def _keys_as_node(self, streamed: bool) -> str | list[str] | None:
        """Run as a node and ``streamed`` (see :meth:`_output_as_node`), its stream channels
        (all of them: ``None``)."""
        if not streamed:
            return super()._keys_as_node(streamed)
        shown = self.stream_channels
        return shown if shown is None or isinstance(shown, str) else list(shown)

    def _output_as_node(self, state: dict[str, Any], streamed: bool) -> Any:
        """Its output channels' values, or, run as a node under ``astream_events`` (LangGraph
        runs the node with ``astream``), its last ``values`` chunk: what its stream channels
        show (all its channels, when it names none)."""
        return self._shown_state(state) if streamed else self._output(state)

    def _interrupted_output(self, state: dict[str, Any], interrupts: list[Any]) -> Any:
        """The output and the interrupts (see :meth:`ainvoke`)."""
        output = self._output(state)
        if not interrupts:
            return output
        if isinstance(output, dict):
            return {**output, "__interrupt__": list(interrupts)}
        return {"__interrupt__": list(interrupts)}

    def astream_events(
        self, input: Any, config: dict[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        """LangChain's ``astream_events`` (v2); the graph's own stream follows the program's
        ``stream_mode`` (``values``) unless one is given."""
        kwargs.setdefault("stream_mode", self.stream_mode)
        return super().astream_events(input, config, **kwargs)

    def _shown_state(self, values: dict[str, Any]) -> Any:
        """The state as a snapshot shows it: its stream channels' (one's value, or a dict
        of those that have one)."""
        shown = self.stream_channels
        if shown is None:
            return values
        if isinstance(shown, str):
            return values.get(shown)
        return {k: values[k] for k in shown if k in values}

    def _own_result(self, task: dict[str, Any], result: Any) -> Any:
        """A task's result as a snapshot shows it: its writes to the stream channels (to
        one: the value written, ``None`` when it wrote none)."""
        shown = self.stream_channels
        if shown is None or not isinstance(result, dict):
            return result
        if isinstance(shown, str):
            return result.get(shown)
        return {k: v for k, v in result.items() if k in shown}

    def _output(self, state: dict[str, Any]) -> Any:
        """The output channels' values: one's value, or a dict of those that have one."""
        if isinstance(self.output_channels, str):
            return state.get(self.output_channels)
        return {k: state[k] for k in self.output_channels if k in state}


def _with_own_config(method: Callable[..., Any], at: int) -> Callable[..., Any]:
    """``method`` called with its config (argument ``at``, or ``config=``) merged into the
    program's own (see :meth:`Pregel._own_config`)."""

    @functools.wraps(method)
    def merging(self: Pregel, *args: Any, **kwargs: Any) -> Any:
        if self.config:
            if len(args) > at:
                args = (*args[:at], self._own_config(args[at]), *args[at + 1 :])
            else:
                kwargs["config"] = self._own_config(kwargs.get("config"))
        return method(self, *args, **kwargs)

    return merging


for _name in ("invoke", "ainvoke", "stream", "astream", "stream_events", "astream_events"):
    setattr(Pregel, _name, _with_own_config(getattr(Pregel, _name), 1))
for _name in (
    "get_state",
    "aget_state",
    "get_state_history",
    "aget_state_history",
    "update_state",
    "aupdate_state",
    "bulk_update_state",
    "abulk_update_state",
):
    setattr(Pregel, _name, _with_own_config(getattr(Pregel, _name), 0))


def _trigger_to_nodes(nodes: Mapping[str, PregelNode]) -> dict[str, list[str]]:
    """The nodes each channel starts (LangGraph's index of them)."""
    index: dict[str, list[str]] = {}
    for name, node in nodes.items():
        for trigger in node.triggers:
            index.setdefault(trigger, []).append(name)
    return index
