"""A compiled graph's drawable shape (``graph.get_graph()``), as LangGraph draws it.

LangGraph finds a graph's edges by running its Pregel loop on an empty input: each node's
plain writes (its edges, its joins) are written, and the writes its conditional edges and
``Command`` destinations declare (``path_map``, a ``Literal`` return annotation,
``Command[Literal[...]]``, ``destinations=``) are written once, as conditional edges labelled
with the branch's answer. A node started by a channel some node wrote is the end of an edge
from it; a node started by nothing written in the step before (a deferred node) is the end of
a conditional edge from each node of that step. The nodes no edge leaves go to ``__end__``.

rewind does the same on its builder's edges, with channels of LangGraph's kinds
(:mod:`rewind.runtime.structure`), so the ``langchain_core`` :class:`Graph` it returns has
LangGraph's node ids, metadata (``defer``, ``__interrupt``, ``__tools``), edges, labels and,
with ``xray``, subgraphs drawn in place of their nodes (``xray=n``: ``n`` levels deep), a
subgraph being a node's graph or one its function calls (``get_subgraphs`` lists them). A
low-level ``Pregel`` program is drawn from its nodes' triggers and write entries, a ``Send``
packet starting a task of its node the next step, as LangGraph runs it: no node writes that
task's trigger, so a conditional edge reaches it from each node of the step that sent it. An
entrypoint is drawn as its one function.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from langchain_core.runnables import Runnable, RunnableLambda, RunnableSequence
from langchain_core.runnables.graph import Graph, Node
from langchain_core.runnables.utils import get_function_nonlocals

from rewind.channels import BaseChannel, EphemeralValue, LastValueAfterFinish
from rewind.events import PUSH
from rewind.runtime.graph import END, START
from rewind.runtime.pregel_nodes import TASKS

NS_SEP = "|"
"""What joins a subgraph's namespace to its parent's (LangGraph's)."""

if TYPE_CHECKING:
    from rewind.runtime.graph import StateGraph

__all__ = ["GraphDrawing", "draw_graph"]

logger = logging.getLogger("rewind")

LIMIT = 250
"""Steps of the empty run (LangGraph's limit)."""


class _Edge(NamedTuple):
    source: str
    target: str
    conditional: bool
    data: str | None


class _Trigger(NamedTuple):
    channel: str
    conditional: bool
    data: str | None


@dataclass(kw_only=True, eq=False)
class Writer:
    """One of a node's writers: what it writes on any input, and what it may write (each
    ``(channel, value, label)``), drawn as conditional edges."""

    writes: list[tuple[str, Any]] = field(default_factory=list)
    static: list[tuple[str, Any, str | None]] = field(default_factory=list)


@dataclass(kw_only=True)
class Process:
    """A node as the drawing sees it."""

    name: str
    bound: Any
    metadata: dict[str, Any] | None = None
    triggers: list[str]
    writers: list[Writer]


class GraphDrawing:
    """``get_graph``/``aget_graph`` of a compiled graph (mixed into it)."""

    def get_graph(self, config: Any = None, *, xray: int | bool = False) -> Graph:
        """A drawable representation of the graph (``.draw_mermaid()``, ``.draw_ascii()``,
        ``.to_json()``), LangGraph's: with ``xray``, subgraphs are drawn in place of their
        nodes (an int: that many levels)."""
        subgraphs: dict[str, Graph] = {}
        if xray:
            deeper = _deeper(xray)
            subgraphs = {k: v.get_graph(config, xray=deeper) for k, v in self.get_subgraphs()}
        return self._draw(subgraphs)

    async def aget_graph(self, config: Any = None, *, xray: int | bool = False) -> Graph:
        """:meth:`get_graph`, for async code (subgraphs drawn concurrently, as LangGraph's: a
        remote one asks its server)."""
        subgraphs: dict[str, Graph] = {}
        if xray:
            found = {k: v async for k, v in self.aget_subgraphs()}
            deeper = _deeper(xray)
            drawn = [v.aget_graph(config, xray=deeper) for v in found.values()]
            subgraphs = dict(zip(found, await asyncio.gather(*drawn), strict=True))
        return self._draw(subgraphs)

    def get_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> Iterator[tuple[str, Any]]:
        """The ``(namespace, subgraph)`` pairs of the graph's nodes that run a graph (found as
        :func:`subgraph_of` finds it), in node order; with ``recurse``, each followed by its
        own, named ``parent|child``. ``namespace`` (``parent|child``, no task ids) yields only
        the subgraph there (a nested one needs ``recurse``), as LangGraph's does."""
        for name, node in cast(Any, self).nodes.items():
            if namespace is not None and not _within(namespace, name):
                continue
            graph = subgraph_of(node.bound)
            if graph is None:
                continue
            if name == namespace:
                yield name, graph
                return
            if namespace is None:
                yield name, graph
            if recurse and isinstance(graph, GraphDrawing):
                child = None if namespace is None else namespace[len(name) + 1 :]
                for inner, sub in graph.get_subgraphs(namespace=child, recurse=recurse):
                    yield f"{name}{NS_SEP}{inner}", sub

    async def aget_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> AsyncIterator[tuple[str, Any]]:
        """:meth:`get_subgraphs`, for async code."""
        for name, graph in self.get_subgraphs(namespace=namespace, recurse=recurse):
            yield name, graph

    def _draw(self, subgraphs: dict[str, Graph]) -> Graph:
        """The graph drawn, with ``subgraphs`` drawn in place of their nodes."""
        drawn = self._drawn()
        graph = cast(Any, self)
        interrupts = getattr(graph, "drawn_interrupts", None) or (
            graph.interrupt_before_nodes,
            graph.interrupt_after_nodes,
        )
        return draw_graph(
            drawn.processes,
            drawn.channels,
            input_writes=drawn.input_writes,
            has_start=drawn.has_start,
            interrupt_before=interrupts[0],
            interrupt_after=interrupts[1],
            subgraphs=subgraphs,
        )

    def _drawn(self) -> _Drawn:
        """Its nodes, the channels that start them, and what the input writes to them."""
        graph = cast(Any, self)
        if hasattr(graph, "entry_name"):  # an entrypoint: its function, started by the input
            proc = Process(
                name=graph.entry_name,
                bound=graph.func,
                triggers=[START],
                writers=[Writer(writes=[(END, None), ("__previous__", None)])],
            )
            return _Drawn([proc], {START: EphemeralValue(Any)}, [(START, {})], has_start=False)
        if hasattr(graph, "pregel_nodes"):  # a low-level program
            return program_drawn(graph)
        builder = graph.builder
        return _Drawn(state_graph_processes(builder), _trigger_channels(builder), [(START, {})])


def _within(namespace: str, name: str) -> bool:
    """Whether ``namespace`` is the node ``name``'s or one under it (its first segment, whole)."""
    return namespace == name or namespace.startswith(name + NS_SEP)


def _deeper(xray: int | bool) -> int | bool:
    """The ``xray`` a subgraph is drawn with: one level less (``True`` stays ``True``)."""
    return xray if isinstance(xray, bool) or xray <= 0 else xray - 1


@dataclass
class _Drawn:
    processes: list[Process]
    channels: dict[str, BaseChannel[Any, Any, Any]]
    input_writes: list[tuple[str, Any]]
    has_start: bool = True


def program_drawn(program: Any) -> _Drawn:
    """A low-level ``Pregel`` program's nodes, their writers run on no input (``None``), as
    LangGraph's drawing runs them."""
    from rewind.runtime.pregel_nodes import ChannelWrite, ChannelWriteEntry
    from rewind.types import Send

    processes = []
    for name, node in program.nodes.items():
        writers = []
        for writer in node.writers:
            entries = writer.writes if isinstance(writer, ChannelWrite) else [writer]
            drawn = Writer()
            for entry in entries:
                if isinstance(entry, ChannelWriteEntry):
                    _entry_write(drawn, entry)
                elif isinstance(entry, Send):  # a task of its node the next step
                    drawn.writes.append((TASKS, entry))
                elif hasattr(entry, "mapper") and getattr(entry, "static", None):
                    drawn.static.extend(entry.static)
            writers.append(drawn)
        processes.append(
            Process(
                name=name,
                bound=node.bound,
                metadata=dict(node.metadata) if node.metadata else None,
                triggers=list(node.triggers),
                writers=writers,
            )
        )
    channels = {k: v.copy() for k, v in program.channels.items() if isinstance(v, BaseChannel)}
    inputs = program.input_channels
    writes: list[tuple[str, Any]] = [(inputs, {})] if isinstance(inputs, str) else []
    return _Drawn(processes, channels, writes, has_start=False)


def _entry_write(writer: Writer, entry: Any) -> None:
    """What a write entry writes of no input (nothing if it skips ``None`` or its mapper
    fails on it)."""
    from rewind.runtime.pregel_nodes import PASSTHROUGH

    value = None if entry.value is PASSTHROUGH else entry.value
    if entry.mapper is not None:
        try:
            value = entry.mapper(value)
        except Exception:
            return
    if value is None and entry.skip_none:
        return
    writer.writes.append((entry.channel, value))


def subgraph_of(action: Any) -> Any:
    """The graph a node runs (LangGraph's ``find_subgraph_pregel``): the node itself, a step
    of its sequence, or a graph its function refers to (a nonlocal or a global it reads); a
    graph is a compiled graph or any ``PregelProtocol`` (a ``RemoteGraph``), but a graph
    compiled with ``checkpointer=False`` is not one."""
    from rewind.pregel.protocol import PregelProtocol

    candidates = [action]
    for candidate in candidates:
        if isinstance(candidate, PregelProtocol):
            if not isinstance(candidate, GraphDrawing):
                return candidate
            if cast(Any, candidate).checkpointer is not False:
                return candidate
        elif isinstance(candidate, RunnableSequence):
            candidates.extend(candidate.steps)
        elif isinstance(candidate, RunnableLambda):
            candidates.extend(_lambda_deps(candidate, PregelProtocol))
        elif inspect.isfunction(candidate) or inspect.ismethod(candidate):
            candidates.extend(
                getattr(found, "__self__", found) for found in get_function_nonlocals(candidate)
            )
    return None


def _lambda_deps(runnable: RunnableLambda[Any, Any], graph: type) -> list[Any]:
    """A ``RunnableLambda``'s ``deps`` (the runnables its function refers to), graphs among
    them: rewind's compiled graphs are no ``Runnable``, LangGraph's, which ``deps`` finds,
    are."""
    if hasattr(runnable, "func"):
        objects = get_function_nonlocals(runnable.func)
    elif hasattr(runnable, "afunc"):
        objects = get_function_nonlocals(runnable.afunc)
    else:
        objects = []
    deps = []
    for found in objects:
        if isinstance(found, Runnable | graph):
            deps.append(found)
        elif isinstance(owner := getattr(found, "__self__", None), Runnable | graph):
            deps.append(owner)
    return deps


def state_graph_processes(builder: StateGraph[Any]) -> list[Process]:
    """A ``StateGraph``'s nodes, ``__start__`` first, with the writers LangGraph attaches."""
    first = RunnableLambda(_passthrough, name=START)
    out = [Process(name=START, bound=first, triggers=[START], writers=[Writer()])]
    for name, spec in builder.nodes.items():
        out.append(
            Process(
                name=name,
                bound=spec.action,
                metadata=dict(spec.metadata) if spec.metadata else None,
                triggers=[f"branch:to:{name}"],
                writers=[Writer(static=[(_to(e), None, spec.labels.get(e)) for e in spec.ends])],
            )
        )
    by_name = {p.name: p for p in out}
    for start, end in builder.edges:
        if end != END:
            by_name[start].writers.append(Writer(writes=[(f"branch:to:{end}", None)]))
    for starts, end in builder.waiting_edges:
        if end != END:
            channel = f"join:{'+'.join(starts)}:{end}"
            by_name[end].triggers.append(channel)
            for start in starts:
                by_name[start].writers.append(Writer(writes=[(channel, start)]))
    for start, branches in builder.branches.items():
        for branch in branches.values():
            static: list[tuple[str, Any, str | None]] = [
                (_to(e), None, str(label)) for label, e in (branch.ends or {}).items()
            ]
            by_name[start].writers.append(Writer(static=static))
    return out


def _passthrough(value: Any) -> Any:
    return value


def _to(node: str) -> str:
    return node if node == END else f"branch:to:{node}"


def _trigger_channels(builder: StateGraph[Any]) -> dict[str, BaseChannel[Any, Any, Any]]:
    from rewind.runtime.structure import graph_channels

    return {
        k: v
        for k, v in graph_channels(builder).items()
        if k == START or k.startswith(("branch:to:", "join:"))
    }


def _runnable(action: Any, name: str) -> Any:
    """What a node's drawing holds: its runnable (a function wrapped as one, as LangGraph's
    nodes are runnables)."""
    if isinstance(action, Runnable):
        return action
    if isinstance(action, GraphDrawing):  # a subgraph: drawn as a runnable of its name
        return RunnableLambda(_passthrough, name=name)
    try:
        return RunnableLambda(action, name=name)
    except Exception:
        return RunnableLambda(lambda x: x, name=name)


class _Run:
    """The empty run's channels, their versions, and what each node saw."""

    def __init__(
        self, processes: list[Process], channels: dict[str, BaseChannel[Any, Any, Any]]
    ) -> None:
        self.processes = {p.name: p for p in processes}
        self.channels = channels
        self.versions: dict[str, int] = {}
        self.seen: dict[str, dict[str, int]] = {}
        self.trigger_to_nodes: dict[str, list[str]] = defaultdict(list)
        for p in processes:
            for trigger in p.triggers:
                self.trigger_to_nodes[trigger].append(p.name)

    def apply(self, tasks: Sequence[_Task], *, bump: bool = True) -> set[str]:
        """LangGraph's ``apply_writes``: the channels updated (and available)."""
        tasks = sorted(tasks, key=lambda t: t.pushed)  # (its order: pulled tasks first)
        for task in tasks:
            seen = self.seen.setdefault(task.name, {})
            seen.update({c: self.versions[c] for c in task.triggers if c in self.versions})
        version = max(self.versions.values(), default=0) + 1
        for chan in {c for t in tasks for c in t.triggers if c in self.channels}:
            if self.channels[chan].consume():
                self.versions[chan] = version
        pending: dict[str, list[Any]] = defaultdict(list)
        for task in tasks:
            for chan, value in task.writes:
                if chan in self.channels:
                    pending[chan].append(value)
        updated: set[str] = set()
        for chan, values in pending.items():
            if self.channels[chan].update(values):
                self.versions[chan] = version
                if self.channels[chan].is_available():
                    updated.add(chan)
        if not bump:
            return updated
        for chan, channel in self.channels.items():
            if channel.is_available() and chan not in updated and channel.update([]):
                self.versions[chan] = version
                if channel.is_available():
                    updated.add(chan)
        if updated.isdisjoint(self.trigger_to_nodes):
            for chan, channel in self.channels.items():
                if channel.finish():
                    self.versions[chan] = version
                    if channel.is_available():
                        updated.add(chan)
        return updated

    def next_tasks(self, updated: set[str]) -> list[_Task]:
        """LangGraph's ``prepare_next_tasks``: a task per ``Send`` packet written the step
        before (push tasks, first), then the nodes a channel they listen to was updated since
        they last ran (pull tasks)."""
        tasks: list[_Task] = []
        sends = self.channels.get(TASKS)
        for send in sends.get() if sends is not None and sends.is_available() else ():
            if send.node not in self.processes:  # (LangGraph's warning, as a run gives it)
                logger.warning(f"Ignoring unknown node name {send.node} in pending sends")
                continue
            proc = self.processes[send.node]
            tasks.append(_Task(name=proc.name, triggers=[PUSH], writers=proc.writers, pushed=True))
        if updated:
            names: Any = sorted({n for c in updated for n in self.trigger_to_nodes.get(c, ())})
        elif not self.versions:
            names = ()
        else:
            names = list(self.processes)
        for name in names:
            proc = self.processes[name]
            seen = self.seen.get(name, {})
            if any(
                c in self.channels
                and self.channels[c].is_available()
                and self.versions.get(c, 0) > seen.get(c, 0)
                for c in proc.triggers
            ):
                tasks.append(_Task(name=name, triggers=list(proc.triggers), writers=proc.writers))
        return tasks


@dataclass(kw_only=True)
class _Task:
    name: str
    triggers: list[str]
    writers: list[Writer]
    writes: list[tuple[str, Any]] = field(default_factory=list)
    pushed: bool = False
    """Started by a ``Send`` packet (its trigger is ``__pregel_push``, which no node writes)."""


def draw_graph(
    processes: list[Process],
    channels: dict[str, BaseChannel[Any, Any, Any]],
    *,
    input_writes: list[tuple[str, Any]],
    has_start: bool,
    interrupt_before: Sequence[str],
    interrupt_after: Sequence[str],
    subgraphs: Mapping[str, Graph],
) -> Graph:
    """The drawing of these nodes: the edges an empty run finds, as LangGraph's
    ``draw_graph`` finds them (see the module's docstring)."""
    run = _Run(processes, channels)
    edges: set[_Edge] = set()
    static_seen: set[int] = set()
    sources: dict[str, set[_Trigger]] = {}
    step_sources: dict[str, set[_Trigger]] = {}
    declared: dict[str, set[_Trigger]] = defaultdict(set)
    deferred: set[str] = set()
    input_task = _Task(name="__input__", triggers=[], writers=[], writes=input_writes)
    tasks = run.next_tasks(run.apply([input_task], bump=False))
    start_tasks = tasks
    for _ in range(-1, LIMIT):
        if not tasks:
            break
        conditionals: dict[tuple[str, str, Any], str | None] = {}
        for task in tasks:
            for writer in task.writers:
                task.writes.extend(writer.writes)
                if id(writer) in static_seen or not writer.static:
                    continue
                static_seen.add(id(writer))
                for chan, value, label in writer.static:
                    if chan == END:
                        edges.add(_Edge(task.name, END, True, label))
                        continue
                    conditionals[(task.name, chan, value)] = label
                    declared[task.name].add(_Trigger(chan, True, label))
                    task.writes.append((chan, value))
        step_sources = {}
        for task in tasks:
            found = {
                _Trigger(
                    chan,
                    (task.name, chan, v) in conditionals,
                    conditionals.get((task.name, chan, v)),
                )
                for chan, v in task.writes
            }
            step_sources[task.name] = found | declared.get(task.name, set())
        sources.update(step_sources)
        trigger_to_sources: dict[str, set[_Trigger]] = defaultdict(set)
        for src, triggers in sources.items():
            for trigger, cond, label in triggers:
                trigger_to_sources[trigger].add(_Trigger(src, cond, label))
        tasks = run.next_tasks(run.apply(tasks))
        deferred = {
            chan.split(":", 2)[-1]
            for chan, item in run.channels.items()
            if isinstance(item, LastValueAfterFinish)
        }
        for task in tasks:
            added = False
            for trigger in task.triggers:
                for src, cond, label in sorted(trigger_to_sources[trigger], key=_order):
                    edges.add(_Edge(src, task.name, cond, label))
                    if (trigger, cond, label) in step_sources.get(src, set()):
                        added = True
                    else:
                        sources[src].discard(_Trigger(trigger, cond, label))
            if not added:
                for src in step_sources:
                    edges.add(_Edge(src, task.name, True, None))
    graph = _assemble(
        processes, edges, deferred, has_start, start_tasks, interrupt_before, interrupt_after
    )
    termini = {d for _, d, _, _ in edges if d != END}.difference(s for s, _, _, _ in edges)
    if termini:
        for src in sorted(termini):
            _add_edge(graph, src, END)
    elif len(step_sources) == 1 and not any(d == END for _, d, _, _ in edges):
        for src in sorted(step_sources):
            _add_edge(graph, src, END, conditional=True)
    _replace_subgraphs(graph, subgraphs)
    return graph


def _order(edge: _Trigger) -> tuple[str, bool, str]:
    return (edge.channel, edge.conditional, edge.data or "")


def _edge_order(edge: _Edge) -> tuple[str, str, bool, str]:
    return (edge.source, edge.target, edge.conditional, edge.data or "")


def _assemble(
    processes: list[Process],
    edges: set[_Edge],
    deferred: set[str],
    has_start: bool,
    start_tasks: Sequence[_Task],
    interrupt_before: Sequence[str],
    interrupt_after: Sequence[str],
) -> Graph:
    graph = Graph()
    for proc in processes:
        metadata = dict(proc.metadata or {})
        if proc.name in deferred:
            metadata["defer"] = True
        before, after = proc.name in interrupt_before, proc.name in interrupt_after
        if before or after:
            metadata["__interrupt"] = ",".join(
                w for w, on in (("before", before), ("after", after)) if on
            )
        tools = getattr(proc.bound, "tools_by_name", None)
        if isinstance(tools, Mapping) and tools:
            metadata["__tools"] = list(tools)
        graph.add_node(_runnable(proc.bound, proc.name), proc.name, metadata=metadata or None)
    if not has_start:
        graph.add_node(None, START)
        for task in start_tasks:
            _add_edge(graph, START, task.name)
    for src, dest, conditional, label in sorted(edges, key=_edge_order):
        _add_edge(graph, src, dest, data=label if label != dest else None, conditional=conditional)
    return graph


def _add_edge(
    graph: Graph, source: str, target: str, *, data: Any = None, conditional: bool = False
) -> None:
    for edge in graph.edges:
        if edge.source == source and edge.target == target:
            return
    if target not in graph.nodes and target == END:
        graph.add_node(None, END)
    graph.add_edge(graph.nodes[source], graph.nodes[target], data, conditional)


def _replace_subgraphs(graph: Graph, subgraphs: Mapping[str, Graph]) -> None:
    """Draw each subgraph in place of its node (LangGraph's, without its start and end)."""
    for name, subgraph in subgraphs.items():
        if (
            len(subgraph.nodes) > 1
            and name in graph.nodes
            and subgraph.first_node()
            and subgraph.last_node()
        ):
            subgraph.trim_first_node()
            subgraph.trim_last_node()
            graph.nodes.pop(name)
            first, last = graph.extend(subgraph, prefix=name)
            for idx, edge in enumerate(graph.edges):
                if edge.source == name:
                    edge = edge.copy(source=cast(Node, last).id)
                if edge.target == name:
                    edge = edge.copy(target=cast(Node, first).id)
                graph.edges[idx] = edge
