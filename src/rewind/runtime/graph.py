"""``StateGraph``: the graph builder LangGraph users know, validated as LangGraph validates it."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar, cast

from langchain_core.runnables import Runnable

from rewind.managed.base import ManagedValueSpec
from rewind.runtime.channels import Channel, channels_for_schema, managed_of_schema
from rewind.types import CachePolicy, RetryPolicy, TimeoutPolicy

__all__ = [
    "DEFAULT_ERROR_HANDLER",
    "END",
    "START",
    "Branch",
    "NodeSpec",
    "StateGraph",
    "error_handler_name",
    "handler_spec",
]

logger = logging.getLogger("rewind")

START = "__start__"
"""The first node of every graph: it applies the input."""
END = "__end__"
"""The node that ends a path."""

_RESERVED_CHARACTERS = ("|", ":")

StateT = TypeVar("StateT")


@dataclass(kw_only=True, slots=True)
class NodeSpec:
    """A node as added to the builder."""

    name: str
    action: Any
    """What runs: a function (sync or async), a runnable, a compiled graph."""
    input_schema: Any
    retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None
    metadata: dict[str, Any] | None = None
    ends: tuple[str, ...] = ()
    """Where a ``Command`` it returns may go (``destinations=``, ``Command[Literal[...]]``)."""
    labels: dict[str, str] = field(default_factory=dict)
    """The labels of its drawn edges to those (``destinations=`` a dict: node to label)."""
    defer: bool = False
    cache_policy: CachePolicy[Any] | None = None
    timeout: TimeoutPolicy | None = None
    """The timeout of each of its attempts (see :mod:`rewind.runtime.timeouts`)."""
    is_error_handler: bool = False
    """Whether it is a node error handler (``__error_handler__<node>``, or the default one):
    it runs only for a failed node, and no handler catches its own failure."""
    error_handler_node: str | None = None
    """The node that handles its failures, if any (see :mod:`rewind.runtime.error_handlers`)."""


@dataclass(kw_only=True, slots=True)
class NodeDefaults:
    """What every node of a graph gets unless it has its own (``set_node_defaults``)."""

    retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None
    """The retry policy of nodes added without one."""
    cache_policy: CachePolicy[Any] | None = None
    """The cache policy of nodes added without one."""
    timeout: TimeoutPolicy | None = None
    """The per-attempt timeout of nodes added without one."""
    error_handler: Any = None
    """The error handler of regular nodes added without one."""


@dataclass(kw_only=True, slots=True)
class Branch:
    """A conditional edge: a routing function and where its answers lead."""

    name: str
    path: Callable[..., Any]
    ends: dict[Hashable, str] | None = None


@dataclass(kw_only=True, slots=True)
class _Schemas:
    state: Any
    input: Any
    output: Any
    context: Any
    channels: dict[str, Channel] = field(default_factory=dict)
    managed: dict[str, ManagedValueSpec] = field(default_factory=dict)
    """Keys whose value each task is given (``RemainingSteps``...), not stored."""


class StateGraph(Generic[StateT]):
    """A graph whose nodes read and write a shared state.

    Args:
        state_schema: The state: a TypedDict, dataclass or pydantic model. Keys annotated with a
            reducer (``Annotated[list, operator.add]``) combine writes; others keep the last one.
            A schema without annotations (``dict``, ``list``, ``Annotated[list, operator.add]``)
            is one value, as in LangGraph: nodes are given it and return the new value.
        context_schema: The type of the run-time context passed as ``context=``.
        input_schema: The keys accepted as input (default: the state).
        output_schema: The keys returned as output (default: the state).
    """

    compiled_class: Any = None
    """The class :meth:`compile` builds (``None``: ``CompiledStateGraph``); a graph whose
    state is one root value builds its own."""

    def __init__(
        self,
        state_schema: Any,
        context_schema: Any = None,
        *,
        input_schema: Any = None,
        output_schema: Any = None,
        **kwargs: Any,
    ) -> None:
        input_schema = input_schema or kwargs.pop("input", None)
        output_schema = output_schema or kwargs.pop("output", None)
        context_schema = context_schema or kwargs.pop("config_schema", None)
        given = state_schema
        if not hasattr(state_schema, "__annotations__"):
            # As LangGraph's: a schema without annotations (``dict``, ``list``, an
            # ``Annotated[list, operator.add]``) is one value, the root channel's.
            from rewind.runtime.root import RootGraph, root_schema

            state_schema = root_schema(state_schema)
            self.compiled_class = self.compiled_class or RootGraph
        self.nodes: dict[str, NodeSpec] = {}
        self.node_defaults = NodeDefaults()
        """What nodes without their own policies get at compile."""
        self.edges: set[tuple[str, str]] = set()
        self.waiting_edges: set[tuple[tuple[str, ...], str]] = set()
        self.branches: dict[str, dict[str, Branch]] = {}
        self.compiled = False
        self.schemas = _Schemas(
            state=state_schema,
            input=input_schema or state_schema,
            output=output_schema or state_schema,
            context=context_schema,
        )
        channels = dict(channels_for_schema(state_schema))
        self.schemas.managed = managed_of_schema(state_schema)
        for extra in (input_schema, output_schema):
            if extra is not None and extra is not state_schema:
                if managed := managed_of_schema(extra):
                    raise ValueError(
                        f"Invalid managed channels detected in {getattr(extra, '__name__', '')}: "
                        f"{', '.join(managed)}. Managed channels are not permitted in "
                        "Input/Output schema."
                    )
                for name, channel in channels_for_schema(extra).items():
                    channels.setdefault(name, channel)
        self.schemas.channels = channels
        self.state_schema = given
        self.input_schema = self.schemas.input
        self.output_schema = self.schemas.output
        self.context_schema = context_schema

    @property
    def channels(self) -> dict[str, Channel]:
        """The state's channels, by key."""
        return self.schemas.channels

    def add_node(
        self,
        node: str | Callable[..., Any] | Runnable[Any, Any],
        action: Callable[..., Any] | Runnable[Any, Any] | None = None,
        *,
        defer: bool = False,
        metadata: dict[str, Any] | None = None,
        input_schema: Any = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        cache_policy: CachePolicy[Any] | None = None,
        destinations: dict[str, str] | tuple[str, ...] | None = None,
        timeout: float | timedelta | TimeoutPolicy | None = None,
        error_handler: Callable[..., Any] | Runnable[Any, Any] | None = None,
        **kwargs: Any,
    ) -> StateGraph[StateT]:
        """Add a node; its name defaults to the function's name.

        ``error_handler`` runs when the node fails (after its retries), in the same step, as
        the node ``__error_handler__<node>``: it is given the node's input and, through a
        parameter ``error: NodeError``, the failure; what it returns (an update, a
        ``Command``) takes the node's place (see :mod:`rewind.runtime.error_handlers`).

        ``timeout`` bounds each attempt of it: seconds (or a ``timedelta``) for a run
        timeout, or a :class:`~rewind.types.TimeoutPolicy` (run and idle timeouts); an attempt
        that runs past it fails with :class:`~rewind.errors.NodeTimeoutError`. Only async
        nodes can be timed (``compile`` refuses a sync one).
        """
        policy = TimeoutPolicy.coerce(timeout)
        input_schema = input_schema or kwargs.pop("input", None)
        retry_policy = retry_policy or kwargs.pop("retry", None)
        if not isinstance(node, str):
            action = node
            name = getattr(action, "name", None) or getattr(action, "__name__", None)
            if name is None:
                name = type(action).__name__
            node = str(name)
        if self.compiled:
            logger.warning(
                "Adding a node to a graph that has already been compiled. This will "
                "not be reflected in the compiled graph."
            )
        if action is None:
            raise RuntimeError(f"node {node!r} needs an action")
        if node in self.nodes:
            raise ValueError(f"Node `{node}` already present.")
        if node in (END, START):
            raise ValueError(f"Node `{node}` is reserved.")
        for character in _RESERVED_CHARACTERS:
            if character in node:
                raise ValueError(
                    f"'{character}' is a reserved character and is not allowed in the node names."
                )
        ends = tuple(destinations) if destinations is not None else _command_destinations(action)
        input_schema = input_schema or _inferred_input(action)
        handler = None
        if error_handler is not None:
            handler = error_handler_name(node)
            if handler in self.nodes:
                raise ValueError(f"Auto-generated error handler node `{handler}` already exists.")
            # As LangGraph's: added before the node it handles, reading what that node reads.
            self.nodes[handler] = handler_spec(
                handler, error_handler, input_schema or self.schemas.state
            )
        if input_schema is not None and input_schema is not self.schemas.state:
            # As LangGraph's: the keys of a node's own input schema are channels of the
            # graph too (private state a node reads and others write).
            for key, channel in channels_for_schema(input_schema).items():
                self.schemas.channels.setdefault(key, channel)
            for key, spec in managed_of_schema(input_schema).items():
                self.schemas.managed.setdefault(key, spec)
        self.nodes[node] = NodeSpec(
            name=node,
            action=action,
            input_schema=input_schema,
            retry_policy=retry_policy,
            metadata=metadata,
            ends=ends,
            labels=dict(destinations) if isinstance(destinations, dict) else {},
            defer=defer,
            cache_policy=cache_policy,
            timeout=policy,
            error_handler_node=handler,
        )
        return self

    def set_node_defaults(
        self,
        *,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        cache_policy: CachePolicy[Any] | None = None,
        error_handler: Callable[..., Any] | Runnable[Any, Any] | None = None,
        timeout: float | timedelta | TimeoutPolicy | None = None,
    ) -> StateGraph[StateT]:
        """Policies every node gets at ``compile`` unless ``add_node`` gave it its own.

        Args:
            retry_policy: The retry policy of nodes without one.
            cache_policy: The cache policy of nodes without one.
            error_handler: The error handler of regular nodes without one: compiled as the
                node ``__default_error_handler__`` (an error handler's own failure fails the
                run; it has no handler).
            timeout: The per-attempt timeout of nodes without one.

        Returns:
            The builder, for chaining.
        """
        defaults = self.node_defaults
        if error_handler is not None:
            defaults.error_handler = error_handler
        if retry_policy is not None:
            defaults.retry_policy = retry_policy
        if cache_policy is not None:
            defaults.cache_policy = cache_policy
        if timeout is not None:
            defaults.timeout = TimeoutPolicy.coerce(timeout)
        return self

    def add_edge(self, start_key: str | Sequence[str], end_key: str) -> StateGraph[StateT]:
        """Add an edge; from a list of nodes, the end node waits for all of them."""
        if self.compiled:
            logger.warning(
                "Adding an edge to a graph that has already been compiled. This will "
                "not be reflected in the compiled graph."
            )
        if isinstance(start_key, str):
            if start_key == END:
                raise ValueError("END cannot be a start node")
            if end_key == START:
                raise ValueError("START cannot be an end node")
            self.edges.add((start_key, end_key))
            return self
        for start in start_key:
            if start == END:
                raise ValueError("END cannot be a start node")
            if start not in self.nodes:
                raise ValueError(f"Need to add_node `{start}` first")
        if end_key == START:
            raise ValueError("START cannot be an end node")
        if end_key != END and end_key not in self.nodes:
            raise ValueError(f"Need to add_node `{end_key}` first")
        self.waiting_edges.add((tuple(start_key), end_key))
        return self

    def add_conditional_edges(
        self,
        source: str,
        path: Callable[..., Any],
        path_map: dict[Hashable, str] | list[str] | None = None,
    ) -> StateGraph[StateT]:
        """Route from ``source`` by calling ``path`` on the state after it ran."""
        name = getattr(path, "__name__", None) or "condition"
        if name == "<lambda>":
            name = "condition"
        if name in self.branches.get(source, {}):
            raise ValueError(f"Branch with name `{name}` already exists for node `{source}`")
        ends: dict[Hashable, str] | None
        if isinstance(path_map, dict):
            ends = dict(path_map)
        elif isinstance(path_map, list):
            ends = {name_: name_ for name_ in path_map}
        else:
            ends = _literal_ends(path)
        self.branches.setdefault(source, {})[name] = Branch(name=name, path=path, ends=ends)
        return self

    def add_sequence(
        self, nodes: Sequence[Callable[..., Any] | tuple[str, Callable[..., Any]]]
    ) -> StateGraph[StateT]:
        """Add nodes that run one after the other, in order."""
        if len(nodes) < 1:
            raise ValueError("Sequence requires at least one node.")
        previous: str | None = None
        for node in nodes:
            name: str | None
            if isinstance(node, tuple) and len(node) == 2:
                name, action = node
            else:
                action = node
                name = getattr(action, "name", None) or getattr(action, "__name__", None)
            if name is None:
                raise ValueError("Node name must be provided if action is not a function")
            if name in self.nodes:
                raise ValueError(
                    f"Node names must be unique: node with the name '{name}' already exists. "
                    "If you need to use two different runnables/callables with the same name "
                    "(for example, using `lambda`), please provide them as tuples (name, "
                    "runnable/callable)."
                )
            self.add_node(name, action)
            if previous is not None:
                self.add_edge(previous, name)
            previous = name
        return self

    def set_entry_point(self, key: str) -> StateGraph[StateT]:
        """Start at ``key`` (same as ``add_edge(START, key)``)."""
        return self.add_edge(START, key)

    def set_conditional_entry_point(
        self, path: Callable[..., Any], path_map: dict[Hashable, str] | list[str] | None = None
    ) -> StateGraph[StateT]:
        """Start where ``path`` routes the input."""
        return self.add_conditional_edges(START, path, path_map)

    def set_finish_point(self, key: str) -> StateGraph[StateT]:
        """End after ``key`` (same as ``add_edge(key, END)``)."""
        return self.add_edge(key, END)

    def validate(self, interrupt: Sequence[str] | None = None) -> StateGraph[StateT]:
        """Check the graph as LangGraph does; raises ``ValueError`` naming what is wrong."""
        all_edges = self.edges | {(s, e) for starts, e in self.waiting_edges for s in starts}
        sources = {s for s, _ in all_edges} | set(self.branches)
        sources |= {name for name, spec in self.nodes.items() if spec.ends}
        for source in sorted(sources):
            if source not in self.nodes and source != START:
                raise ValueError(f"Found edge starting at unknown node '{source}'")
        if START not in sources:
            raise ValueError(
                "Graph must have an entrypoint: add at least one edge from START to another node"
            )
        targets = {e for _, e in all_edges}
        for start, branches in self.branches.items():
            for cond, branch in branches.items():
                if branch.ends is None:
                    targets |= {END, *(n for n in self.nodes if n != start)}
                    continue
                for end in branch.ends.values():
                    if end not in self.nodes and end != END:
                        raise ValueError(
                            f"At '{start}' node, '{cond}' branch found unknown target '{end}'"
                        )
                    targets.add(end)
        for spec in self.nodes.values():
            targets.update(spec.ends)
        for target in sorted(targets):
            if target not in self.nodes and target != END:
                raise ValueError(f"Found edge ending at unknown node `{target}`")
        for node in interrupt or ():
            if node not in self.nodes:
                raise ValueError(f"Interrupt node `{node}` not found")
        self.compiled = True
        return self

    def compile(
        self,
        checkpointer: Any = None,
        *,
        cache: Any = None,
        store: Any = None,
        interrupt_before: Sequence[str] | str | None = None,
        interrupt_after: Sequence[str] | str | None = None,
        debug: bool = False,
        name: str | None = None,
        transformers: Sequence[Callable[[tuple[str, ...]], Any]] | None = None,
    ) -> Any:
        """Validate the graph and make it runnable.

        Args:
            checkpointer: Where runs are recorded and state is kept: ``InMemorySaver()``,
                ``SqliteSaver``/``AsyncSqliteSaver``, or an :class:`~rewind.log.EventLog`.
                Without one, runs are still recorded (in memory) but ``get_state`` raises.
            cache: Where nodes with a ``cache_policy`` keep their writes
                (:class:`~rewind.cache.memory.InMemoryCache`,
                :class:`~rewind.cache.sqlite.SqliteCache`).
            store: A long-term memory store (:class:`rewind.store.base.BaseStore`) nodes get
                as LangGraph's do; every write a node makes to it is also an event of its run.
            interrupt_before: Nodes to stop before (``"*"`` for all).
            interrupt_after: Nodes to stop after (``"*"`` for all).
            name: The graph's name (default ``"LangGraph"``).
            transformers: Stream transformer classes (or ``scope -> transformer``
                factories) its v3 run streams (``stream_events(version="v3")``) add to the
                built-in ones, as :mod:`rewind.stream` describes.
        """
        from rewind.runtime.compiled import CompiledStateGraph
        from rewind.runtime.memory import watch_store
        from rewind.runtime.timeouts import natively_async, sync_timeout_unsupported

        watch_store(store, checkpointer)
        before = _interrupt_nodes(interrupt_before, self.nodes)
        after = _interrupt_nodes(interrupt_after, self.nodes)
        self._apply_defaults()
        self.validate([*before, *after])
        for node, spec in self.nodes.items():  # as LangGraph: a timed node must be cancellable
            if spec.timeout is not None and not natively_async(spec.action):
                raise sync_timeout_unsupported(node)
        compiled = (self.compiled_class or CompiledStateGraph)(
            builder=self,
            checkpointer=checkpointer,
            store=store,
            cache=cache,
            interrupt_before=before,
            interrupt_after=after,
            name=name or "LangGraph",
            debug=debug,
        )
        if transformers:
            compiled.stream_transformers = tuple(transformers)
        # As given ("*" too): LangGraph's drawing marks the nodes named in them.
        cast(Any, compiled).drawn_interrupts = (interrupt_before or (), interrupt_after or ())
        return compiled

    def _apply_defaults(self) -> None:
        """As LangGraph's: retry and timeout defaults apply to every node, error handlers
        too; the cache and error handler defaults to regular nodes only (a handler's result
        is not cached, and no handler handles a handler)."""
        defaults = self.node_defaults
        default_handler = None
        if defaults.error_handler is not None:
            default_handler = DEFAULT_ERROR_HANDLER
            if default_handler in self.nodes:
                raise ValueError(
                    "Auto-generated default error handler node "
                    f"`{DEFAULT_ERROR_HANDLER}` already exists."
                )
            self.nodes[default_handler] = handler_spec(
                default_handler, defaults.error_handler, self.schemas.state
            )
        for spec in self.nodes.values():
            if spec.retry_policy is None:
                spec.retry_policy = defaults.retry_policy
            if spec.timeout is None:
                spec.timeout = defaults.timeout
            if spec.is_error_handler:
                continue
            if spec.cache_policy is None:
                spec.cache_policy = defaults.cache_policy
            if spec.error_handler_node is None:
                spec.error_handler_node = default_handler


DEFAULT_ERROR_HANDLER = "__default_error_handler__"
"""The node ``set_node_defaults(error_handler=...)`` compiles to (LangGraph's name)."""


def error_handler_name(node: str) -> str:
    """The node ``add_node(node, ..., error_handler=...)`` adds for the handler (LangGraph's
    name: streams, the state's tasks and drawings show it)."""
    return f"__error_handler__{node}"


def handler_spec(name: str, action: Any, input_schema: Any) -> NodeSpec:
    """An error handler's node: no retry or cache policy of its own (the defaults' retry
    policy reaches it at ``compile``), and never a handler of its own."""
    return NodeSpec(name=name, action=action, input_schema=input_schema, is_error_handler=True)


def _interrupt_nodes(spec: Sequence[str] | str | None, nodes: dict[str, NodeSpec]) -> list[str]:
    if spec is None:
        return []
    if spec == "*":
        return list(nodes)
    return [spec] if isinstance(spec, str) else list(spec)


def _inferred_input(action: Any) -> Any:
    """The state type a node's first parameter is annotated with, if any."""
    try:
        params = list(inspect.signature(action).parameters.values())
        if not params:
            return None
        hints = getattr(action, "__annotations__", {})
        import typing

        hints = typing.get_type_hints(action)
        hint = hints.get(params[0].name)
        return hint if isinstance(hint, type) and hasattr(hint, "__annotations__") else None
    except Exception:
        return None


def _command_destinations(action: Any) -> tuple[str, ...]:
    """Where a node returning ``Command[Literal["a", "b"]]`` may go (checked at compile)."""
    import typing

    from rewind.types import Command

    try:
        hint = typing.get_type_hints(action).get("return")
    except Exception:
        return ()
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union,) else (hint,)
    ends: list[str] = []
    for option in options:
        args = typing.get_args(option)
        if (
            typing.get_origin(option) is Command
            and args
            and typing.get_origin(args[0]) is typing.Literal
        ):
            ends += [str(a) for a in typing.get_args(args[0])]
    return tuple(ends)


def _literal_ends(path: Callable[..., Any]) -> dict[Hashable, str] | None:
    """Destinations named by a routing function's ``Literal[...]`` return annotation."""
    import typing

    try:
        hint = typing.get_type_hints(path).get("return")
    except Exception:
        return None
    if typing.get_origin(hint) is typing.Literal:
        return {v: str(v) for v in typing.get_args(hint)}
    return None
