"""The nodes of LangGraph's low-level ``Pregel`` programs: ``NodeBuilder``, the node it builds
(the channels it reads and subscribes to, what it runs, where its result is written), what a
node reads and writes, and the checks LangGraph makes of a program before it runs
(:mod:`rewind.runtime.lowlevel` runs them)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple, Self

from langchain_core.runnables import Runnable

from rewind.runtime.channels import MISSING
from rewind.types import CachePolicy, RetryPolicy, TimeoutPolicy

__all__ = [
    "PASSTHROUGH",
    "RESERVED",
    "SKIP_WRITE",
    "TASKS",
    "ChannelWrite",
    "ChannelWriteEntry",
    "ChannelWriteTupleEntry",
    "NodeBuilder",
    "PregelNode",
    "node_input",
    "no_function",
    "WriteStep",
    "entry_writes",
    "node_sequence",
    "node_writes",
    "runs_writers",
    "streamed_last",
    "untraced",
    "validate_pregel",
    "whole_run",
    "writers_run",
]

RESERVED = frozenset(
    {
        ":",
        "|",
        "__error__",
        "__error_source_node__",
        "__input__",
        "__interrupt__",
        "__no_writes__",
        "__resume__",
        "__snapshot_bumps__",
        "checkpoint_id",
        "checkpoint_map",
        "checkpoint_ns",
        "configurable",
        "langsmith:hidden",
        "__pregel_checkpointer",
        "__pregel_pull",
        "__pregel_push",
        "__pregel_read",
        "__pregel_replay_state",
        "__pregel_resume_map",
        "__pregel_resuming",
        "__pregel_send",
        "__pregel_stream",
        "__pregel_stream_messages_v2",
        "__pregel_strict_resume",
        "__pregel_task_id",
        "__pregel_timed_attempt_observer",
    }
)
"""Names no channel or node of a ``Pregel`` may take (LangGraph's own channels)."""


class _Passthrough:
    __slots__ = ()

    def __repr__(self) -> str:
        return "PASSTHROUGH"


PASSTHROUGH: Any = _Passthrough()
"""A write entry's value meaning "what the node returned"."""


class _SkipWrite:
    __slots__ = ()

    def __repr__(self) -> str:
        return "SKIP_WRITE"


SKIP_WRITE: Any = _SkipWrite()
"""What a write entry's mapper returns to write nothing."""

TASKS = "__pregel_tasks"
"""The channel a ``Send`` is written to (LangGraph's own): it starts a task the next step."""


class ChannelWriteEntry(NamedTuple):
    """One write a node makes after it runs (LangGraph's ``ChannelWriteEntry``)."""

    channel: str
    """Channel name to write to."""
    value: Any = PASSTHROUGH
    """Value to write, or PASSTHROUGH to use what the node returned."""
    skip_none: bool = False
    """Whether to skip writing if the value is None."""
    mapper: Callable[..., Any] | None = None
    """Function to transform the value before writing."""


class ChannelWriteTupleEntry(NamedTuple):
    """Writes a function makes of the node's result (LangGraph's ``ChannelWriteTupleEntry``):
    ``mapper`` gives ``(channel, value)`` pairs, or nothing."""

    mapper: Callable[[Any], Sequence[tuple[str, Any]] | None]
    """Function to extract tuples from value."""
    value: Any = PASSTHROUGH
    """Value to write, or PASSTHROUGH to use what the node returned."""
    static: Sequence[tuple[str, Any, str | None]] | None = None
    """Optional, declared writes for static analysis."""


class ChannelWrite:
    """A node's writes (LangGraph's ``ChannelWrite``, as ``NodeBuilder`` builds them and a
    ``PregelNode``'s ``writers`` hold them): write entries, and ``Send`` packets (a task of
    their node the next step), written of what the node returned (or, after a runnable
    writer, of what that returned: see :func:`node_sequence`)."""

    def __init__(
        self,
        writes: Sequence[ChannelWriteEntry | ChannelWriteTupleEntry | Any],
        *,
        tags: Sequence[str] | None = None,
    ) -> None:
        self.writes: list[Any] = list(writes)
        """The write entries and ``Send`` packets."""
        self.tags = list(tags) if tags else None
        self.name = self.get_name()

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        """``ChannelWrite<channel,...>``, as LangGraph names it."""
        if not name:
            named = [
                w.channel
                if isinstance(w, ChannelWriteEntry)
                else "..."
                if isinstance(w, ChannelWriteTupleEntry)
                else getattr(w, "node", "?")
                for w in self.writes
            ]
            name = f"ChannelWrite<{','.join(named)}>"
        return f"{name}{suffix}" if suffix else name

    @staticmethod
    def is_writer(runnable: Any) -> bool:
        """Whether ``runnable`` is a writer (a ``ChannelWrite``, or one registered as such)."""
        return isinstance(runnable, ChannelWrite) or hasattr(runnable, "_is_channel_writer")

    def __repr__(self) -> str:
        return f"ChannelWrite(writes={self.writes!r})"


@dataclass(kw_only=True)
class PregelNode:
    """A node of a ``Pregel`` program, as :meth:`NodeBuilder.build` makes it."""

    channels: str | list[str]
    """What it reads: one channel (its value is the input) or several (a dict of them)."""
    triggers: list[str]
    """The channels whose update starts it."""
    bound: Any = None
    """What runs: a function (sync or async) or a runnable; ``None``: nothing but its
    writers."""
    writers: list[Any] = field(default_factory=list)
    """Where its result goes: ``ChannelWrite`` writers (of write entries and ``Send`` packets),
    write entries, or runnables of their own (run after it, see :func:`node_sequence`)."""
    tags: list[str] = field(default_factory=list)
    """Tags of its runs."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Metadata of its runs."""
    retry_policy: list[RetryPolicy] = field(default_factory=list)
    """How it is retried."""
    cache_policy: CachePolicy[Any] | None = None
    """How its writes are cached."""
    mapper: Callable[[Any], Any] | None = None
    """A function of what it reads, whose answer is its input (a pulled task's)."""
    timeout: TimeoutPolicy | None = None
    """The timeout of each of its attempts (an async node's)."""


class NodeBuilder:
    """Builds a ``Pregel`` node: the channels it subscribes to and reads, what it runs, and
    where its result is written::

        NodeBuilder().subscribe_only("a").do(lambda x: x + x).write_to("b")
    """

    def __init__(self) -> None:
        self._channels: str | list[str] = []
        self._triggers: list[str] = []
        self._tags: list[str] = []
        self._metadata: dict[str, Any] = {}
        self._writes: list[Any] = []
        self._bound: list[Any] = []
        self._retry_policy: list[RetryPolicy] = []
        self._cache_policy: CachePolicy[Any] | None = None
        self._timeout: TimeoutPolicy | None = None

    def subscribe_only(self, channel: str) -> Self:
        """Subscribe to a single channel: its value is the node's input."""
        if self._channels:
            raise ValueError(
                "Cannot subscribe to single channels when other channels are already subscribed to"
            )
        self._channels = channel
        self._triggers.append(channel)
        return self

    def subscribe_to(self, *channels: str, read: bool = True) -> Self:
        """Subscribe to channels: the node runs when any of them is updated, with a dict of
        their values as input (``read=False``: they start it without being read)."""
        if isinstance(self._channels, str):
            raise ValueError("Cannot subscribe to channels when subscribed to a single channel")
        if read:
            self._channels.extend(channels)
        self._triggers.extend(channels)
        return self

    def read_from(self, *channels: str) -> Self:
        """Read these channels too, without subscribing to them."""
        # (an AssertionError, as LangGraph's assert raises it)
        if isinstance(self._channels, str):
            raise AssertionError(
                "Cannot read additional channels when subscribed to single channels"
            )
        self._channels.extend(channels)
        return self

    def do(self, node: Any) -> Self:
        """Run ``node`` (after what the node runs already, with its result as input)."""
        self._bound.append(node)
        return self

    def write_to(self, *channels: str | ChannelWriteEntry, **kwargs: Any) -> Self:
        """Write the node's result to ``channels``; ``name=value`` writes a value, or a
        callable's answer given the result."""
        self._writes.extend(ChannelWriteEntry(c) if isinstance(c, str) else c for c in channels)
        self._writes.extend(
            ChannelWriteEntry(k, mapper=v) if callable(v) else ChannelWriteEntry(k, value=v)
            for k, v in kwargs.items()
        )
        return self

    def meta(self, *tags: str, **metadata: Any) -> Self:
        """Add tags or metadata to the node's runs."""
        self._tags.extend(tags)
        self._metadata.update(metadata)
        return self

    def add_retry_policies(self, *policies: RetryPolicy) -> Self:
        """Retry the node as these policies say."""
        self._retry_policy.extend(policies)
        return self

    def add_cache_policy(self, policy: CachePolicy[Any]) -> Self:
        """Cache the node's writes as ``policy`` says."""
        self._cache_policy = policy
        return self

    def set_timeout(self, timeout: float | timedelta | TimeoutPolicy | None) -> Self:
        """Bound each attempt of the node (an async one): seconds or a ``timedelta`` for a run
        timeout, or a :class:`~rewind.types.TimeoutPolicy`; ``None`` for none."""
        self._timeout = TimeoutPolicy.coerce(timeout)
        return self

    def build(self) -> PregelNode:
        """The node."""
        return PregelNode(
            channels=self._channels,
            triggers=list(self._triggers),
            bound=_sequence(self._bound),
            writers=[ChannelWrite(self._writes)],
            tags=list(self._tags),
            metadata=dict(self._metadata),
            retry_policy=list(self._retry_policy),
            cache_policy=self._cache_policy,
            timeout=self._timeout,
        )


def no_function(value: Any) -> Any:
    """What a node with no function runs (LangGraph runs only its writers: no run of it)."""
    return value


def _sequence(steps: list[Any]) -> Any:
    """What a node runs: its one function, or its functions one after the other (each a run
    of its own, as :func:`traced_step` makes it)."""
    if not steps:
        return no_function
    if len(steps) == 1:
        return steps[0]
    from langchain_core.runnables import RunnableSequence

    return RunnableSequence(*(traced_step(s, sequenced=True) for s in steps))


class WriteStep(Runnable[Any, Any]):
    """A node's ``ChannelWrite`` as a step of its sequence (see :func:`node_sequence`): its
    writes of what it is given, kept in ``made``; it passes that on, and is no run of its own
    (LangGraph's ``ChannelWrite`` is traced by none)."""

    def __init__(self, entries: Sequence[Any], made: list[tuple[str, Any]]) -> None:
        self.entries = list(entries)
        self.made = made

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        """Write, and pass ``input`` on."""
        self.made.extend(entry_writes(self.entries, input))
        return input

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        """Write, and pass ``input`` on."""
        return self.invoke(input)


def untraced(node: PregelNode) -> bool:
    """Whether a node runs no function and only ``ChannelWrite`` writers: LangGraph runs its
    writers alone, which are no run of their own (``astream_events`` shows no run of it)."""
    return node.bound in (None, no_function) and not runs_writers(node)


def whole_run(node: PregelNode) -> Any:
    """The one runnable a node's whole run is, or ``None``: LangGraph runs a node of no
    function and one runnable writer, or of a function (a LangChain runnable, a program) and
    no writers, as that runnable alone, named after the node, so ``astream_events`` shows the
    runnable's own run (a program's) as the node's (a run of the node's with it inside,
    otherwise)."""
    from rewind.runtime.runnable_node import streams_as_node
    from rewind.runtime.tasks import SyncAsyncNode

    if node.bound in (None, no_function):
        one = node.writers[0] if len(node.writers) == 1 else None
        return one if streams_as_node(one) and not ChannelWrite.is_writer(one) else None
    if node.writers:
        return None
    action = traced_step(node.bound)
    traced = isinstance(action, SyncAsyncNode) and action.trace
    graph = hasattr(action, "ainvoke") and not isinstance(action, Runnable)
    return action if traced or graph or streams_as_node(action) else None


def _is_entry(writer: Any) -> bool:
    """Whether a node's writer is a write entry or a ``Send`` packet (not a runnable)."""
    from rewind.types import Send

    return isinstance(writer, ChannelWriteEntry | ChannelWriteTupleEntry | Send)


def step_name(func: Any) -> str:
    """The name of a node function's run, as LangGraph's ``RunnableCallable`` gives it: the
    function's, ``Unnamed`` for a lambda or a callable with no name."""
    name = getattr(func, "__name__", None)
    return name if isinstance(name, str) and name != "<lambda>" else "Unnamed"


def traced_step(step: Any, *, sequenced: bool = False) -> Any:
    """What a node runs, as LangGraph's ``NodeBuilder.do`` makes it: a function is a run of
    its own inside the node's (LangGraph's ``RunnableCallable(trace=True)``, the node's first
    step, ``seq:step:1``), so ``astream_events`` shows it; a generator function is a
    ``RunnableLambda``, a dict a ``RunnableParallel``; a runnable runs as it is.
    ``sequenced``: one function of several (``.do(f).do(g)``), a step of the node's
    ``RunnableSequence``."""
    from langchain_core.runnables import Runnable, RunnableLambda
    from langchain_core.runnables.base import coerce_to_runnable

    if isinstance(step, Runnable) or step is no_function or hasattr(step, "ainvoke"):
        return step  # (a graph too: run as a subgraph of the node)
    if inspect.isgeneratorfunction(step) or inspect.isasyncgenfunction(step):
        return RunnableLambda(step)
    if not callable(step):
        return coerce_to_runnable(step)
    if sequenced:
        from rewind.runtime.traced_step import TracedStep

        return TracedStep(step, step_name(step))
    from rewind.runtime.tasks import SyncAsyncNode

    return SyncAsyncNode(step, step, name=step_name(step), trace=True)


def node_writes(node: PregelNode, result: Any) -> list[tuple[str, Any]]:
    """The writes a node's result makes through its ``ChannelWrite`` writers (and entries),
    in their order (a ``Send`` as a write to :data:`TASKS`), as LangGraph's make them; a
    node with a runnable writer runs it (see :func:`node_sequence`) instead.

    Raises:
        InvalidUpdateError: a write entry to :data:`TASKS`.
        ValueError: an entry that is none of LangGraph's.
    """
    writes: list[tuple[str, Any]] = []
    for writer in node.writers:
        writes += entry_writes(_entries(writer), result)
    return writes


def _entries(writer: Any) -> list[Any]:
    """A ``ChannelWrite``'s entries, or a bare entry as one."""
    return list(writer.writes) if isinstance(writer, ChannelWrite) else [writer]


def entry_writes(entries: Sequence[Any], value: Any) -> list[tuple[str, Any]]:
    """The writes ``entries`` make of ``value`` (what their ``ChannelWrite`` was given).

    Raises:
        InvalidUpdateError: a write entry to :data:`TASKS`.
        ValueError: an entry that is none of LangGraph's.
    """
    from rewind.errors import InvalidUpdateError
    from rewind.types import Send

    writes: list[tuple[str, Any]] = []
    for entry in entries:
        if isinstance(entry, Send):
            writes.append((TASKS, entry))
        elif isinstance(entry, ChannelWriteTupleEntry):
            made = entry.mapper(value if entry.value is PASSTHROUGH else entry.value)
            if made:
                writes.extend(made)
        elif isinstance(entry, ChannelWriteEntry):
            if entry.channel == TASKS:
                raise InvalidUpdateError("Cannot write to the reserved channel TASKS")
            written = value if entry.value is PASSTHROUGH else entry.value
            if entry.mapper is not None:
                written = entry.mapper(written)
            if written is SKIP_WRITE or (entry.skip_none and written is None):
                continue
            writes.append((entry.channel, written))
        else:
            raise ValueError(f"Invalid write entry: {entry}")
    return writes


def runs_writers(node: PregelNode) -> bool:
    """Whether a node has a writer that is a runnable of its own (not a ``ChannelWrite``)."""
    return not all(ChannelWrite.is_writer(w) or _is_entry(w) for w in node.writers)


def node_sequence(node: PregelNode, made: list[tuple[str, Any]]) -> Any:
    """What a node with a runnable writer runs, as LangGraph's ``PregelNode.node``: its
    function(s) and its writers one after the other, each given what the one before returned
    (a ``ChannelWrite`` passes it on, its writes kept in ``made``; a runnable writer's
    return is passed on, the last one's is the node's output). A writer, as a function, is a
    run of its own, tagged with its place in the sequence (``seq:step:3`` after one
    function and a ``ChannelWrite``); a ``ChannelWrite`` is none."""
    from langchain_core.runnables import RunnableSequence

    steps = _sequence_steps(node, made)
    return steps[0] if len(steps) == 1 else RunnableSequence(*steps)


def streamed_last(node: PregelNode) -> str | None:
    """The tag of a node's last step (``seq:step:N``) when it streams its output as it comes
    (a runnable of the user's after another step, not a function): LangGraph streams the
    node's output with each of its chunks (before that step's run ends), as they come."""
    steps = _sequence_steps(node, [])
    last = steps[-1]
    if len(steps) < 2 or isinstance(last, WriteStep) or type(last).__module__.startswith("rewind."):
        return None
    return f"seq:step:{len(steps)}"


def _sequence_steps(node: PregelNode, made: list[tuple[str, Any]]) -> list[Any]:
    """The steps of a node's sequence (see :func:`node_sequence`)."""
    from langchain_core.runnables import RunnableSequence

    bound = node.bound
    steps: list[Any] = []
    if bound not in (None, no_function):
        steps = list(bound.steps) if isinstance(bound, RunnableSequence) else [bound]
    steps = [traced_step(s, sequenced=True) for s in steps]
    for writer in node.writers:
        if ChannelWrite.is_writer(writer) or _is_entry(writer):
            steps.append(WriteStep(_entries(writer), made))
        else:
            steps.append(traced_step(writer, sequenced=True))
    # (the last ones, when they write, write together: LangGraph's flat_writers joins them)
    while len(steps) > 1 and isinstance(steps[-1], WriteStep) and isinstance(steps[-2], WriteStep):
        joined = steps.pop()
        steps[-1] = WriteStep([*steps[-1].entries, *joined.entries], made)
    return steps


async def writers_run(node: PregelNode, value: Any) -> list[tuple[str, Any]]:
    """The writes a node's writers make of ``value`` when they run alone (a state update made
    as the node, as LangGraph's runs them): a runnable writer's return passed on."""
    writes: list[tuple[str, Any]] = []
    for writer in node.writers:
        if ChannelWrite.is_writer(writer) or _is_entry(writer):
            writes += entry_writes(_entries(writer), value)
        else:
            value = await traced_step(writer, sequenced=True).ainvoke(value)
    return writes


def node_input(node: PregelNode, values: Mapping[str, Any]) -> Any:
    """What a node reads: its one channel's value (``MISSING`` when empty), or a dict of
    its channels that have a value."""
    if isinstance(node.channels, str):
        return values.get(node.channels, MISSING)
    return {c: values[c] for c in node.channels if values.get(c, MISSING) is not MISSING}


def validate_pregel(
    nodes: Mapping[str, Any],
    channels: Mapping[str, Any],
    input_channels: str | Sequence[str],
    output_channels: str | Sequence[str],
    interrupt_nodes: Sequence[str],
    stream_channels: str | Sequence[str] | None = None,
    *,
    managed: Mapping[str, Any] | None = None,
) -> None:
    """Refuse a program LangGraph refuses, with LangGraph's messages.

    Raises:
        ValueError: a reserved name, a channel that does not exist, an input no node
            subscribes to, an interrupt at an unknown node.
        TypeError: a node that is no ``PregelNode`` or ``NodeBuilder``.
    """
    known = repr(sorted([*channels, "__pregel_tasks"]))[:100]  # (LangGraph's own, listed)
    for chan in channels:
        if chan in RESERVED:
            raise ValueError(f"Channel name '{chan}' is reserved")
    managed = managed or {}
    for chan in managed:
        if chan in RESERVED:
            raise ValueError(f"Managed name '{chan}' is reserved")
    subscribed: set[str] = set()
    for name, node in nodes.items():
        if name in RESERVED:
            raise ValueError(f"Node name '{name}' is reserved")
        if not isinstance(node, PregelNode):
            raise TypeError(f"Invalid node type {type(node)}, expected PregelNode or NodeBuilder")
        subscribed.update(node.triggers)
        for chan in [node.channels] if isinstance(node.channels, str) else node.channels:
            if chan not in channels and (isinstance(node.channels, str) or chan not in managed):
                raise ValueError(
                    f"Node {name} reads channel '{chan}' not in known channels: '{known}'"
                )
    for chan in subscribed:
        if chan not in channels:
            raise ValueError(f"Subscribed channel '{chan}' not in known channels: '{known}'")
    if isinstance(input_channels, str):
        if input_channels not in channels:
            raise ValueError(f"Input channel '{input_channels}' not in known channels: '{known}'")
        if input_channels not in subscribed:
            raise ValueError(f"Input channel {input_channels} is not subscribed to by any node")
    else:
        for chan in input_channels:
            if chan not in channels:
                raise ValueError(f"Input channel '{chan}' not in '{known}'")
        if all(chan not in subscribed for chan in input_channels):
            raise ValueError(
                f"None of the input channels {input_channels} are subscribed to by any node"
            )
    outputs = [output_channels] if isinstance(output_channels, str) else list(output_channels)
    if stream_channels is not None:
        outputs += [stream_channels] if isinstance(stream_channels, str) else stream_channels
    for chan in outputs:
        if chan not in channels:
            raise ValueError(f"Output channel '{chan}' not in known channels: '{known}'")
    for n in interrupt_nodes:
        if n not in nodes:
            raise ValueError(f"Node {n} not in nodes")
