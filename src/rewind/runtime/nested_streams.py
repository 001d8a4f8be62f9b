"""A graph a node streams itself: its stream, a projection of its events in the run's log.

A graph called from a running node runs inside the caller's run: its events are the run's,
under the node's namespace (see ``CompiledStateGraph._anested``). When the node streams it
(``sub.astream(...)``, ``sub.stream(...)``, ``sub.ainvoke(..., stream_mode=...)``), the node
gets what LangGraph's own stream of that graph yields: the chunks of the graph's events, and of
its subgraphs' with ``subgraphs=True``, each with its namespace as the run's log has it (a
subgraph's stream shows LangGraph's checkpoint namespace, not ``()``); its ``astream_events``,
the graph's run under the node's. The graph's start records the modes of that stream
(``stream_modes``, and ``stream_subgraphs``): its custom writes, and with ``subgraphs=True``
its subgraphs' chunks, then go to it alone, not to the run's stream, as LangGraph's do (and
so are no progress of a timed node it runs in).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from rewind.events import EventType, NewEvent, RunStatus, fields_of, run_ended
from rewind.projections.modes import ShownNamespace, namespace
from rewind.projections.state import Expander
from rewind.projections.stream import (
    FORM,
    Item,
    Projector,
    RunFacts,
    parse_stream_mode,
    tokens_needed,
)
from rewind.runtime.calling import current_task
from rewind.runtime.scratch import ScratchLog

if TYPE_CHECKING:
    from rewind.projections.state import CheckpointView
    from rewind.runtime.pregel import RunLoop
    from rewind.runtime.tasks import Task

__all__ = ["watch_nested"]

_STARTED = EventType.SUBGRAPH_STARTED.value


def watch_nested(
    loop: RunLoop,
    modes: list[str],
    handed: Callable[[list[Item]], None],
    *,
    subgraphs: bool,
    events_stream_mode: Any = "updates",
    messages_protocol: bool = False,
) -> Callable[[], None]:
    """Feed the stream of ``modes`` of the graph ``loop`` runs (a node's own stream of it) the
    events of its namespace, from its start on, handing its items to ``handed``: those of
    the graph itself as a stream's own (not a subgraph's), with the namespace they have in the
    run. Returns what stops it (once the graph's run is over: a later call of it from the same
    node runs under the same namespace)."""
    prefix = loop.ns
    deeper = f"{prefix}|"
    own = namespace(prefix)
    # (astream_events streams the graph in events_stream_mode: its own stream's modes)
    own_modes = parse_stream_mode(events_stream_mode)[0] if "events" in modes else modes
    loop.own_stream = list(own_modes)
    loop.own_subgraphs = subgraphs
    current = current_task()
    caller = current[0] if current is not None else loop
    view = _EventsView(prefix, current, subgraphs) if "events" in modes else None
    projector: Projector | None = None
    closed = False

    def tap(event: NewEvent) -> None:
        nonlocal projector
        ns = event.ns or ""
        if closed or (ns != prefix and not ns.startswith(deeper)):
            return
        if projector is None:
            if event.type != _STARTED or ns != prefix:
                return
            payload = dict(fields_of(event.payload))
            # (its namespace is not the root's: what is its own is told by _relative)
            projector = Projector(
                modes,
                _facts(loop, caller, payload),
                events_stream_mode=events_stream_mode,
                subgraphs=True if view is None else subgraphs,
                messages_protocol=messages_protocol,
            )
            # Its own stream shows its chunks: the marks are for the run's stream.
            payload.pop("stream_modes", None)
            payload.pop("stream_subgraphs", None)
            event = event.changed(payload=payload)
        if view is not None:  # (the events mode: of the graph as the root of its stream)
            handed([view.shown(item) for item in projector.feed(view.relative(event))])
            return
        found = projector.feed(event)
        if found:
            # Its subgraphs write through its writer while the run is streamed with them.
            writes = loop.log.stream_subgraphs
            handed([_relative(item, own, writes) for item in found])

    def resumed(ns: str, head: CheckpointView) -> None:
        if not closed and projector is not None and ns == prefix:
            handed([_relative(item, own, False) for item in projector.resumed(ns, head)])

    # Its chat models stream their tokens while it runs, as LangGraph's stream handler makes
    # them (the run's own streams may not have asked for them).
    log = loop.log
    tokens = tokens_needed(modes) and not log.stream_tokens
    if tokens:
        log.stream_tokens = True

    def close() -> None:
        nonlocal closed
        closed = True
        if tokens:
            log.stream_tokens = False

    index = loop.log.add_tap(tap)
    loop.log.set_token_tap(index, tap, None)
    loop.log.resumes.append(resumed)
    return close


class _EventsView:
    """The events mode of a graph a node streams (its ``astream_events``): its events made
    relative to its namespace (its start and end the run's), so that the events mode sees
    it as the root, and the events it makes shown as LangGraph's: under the node's run, with
    the run's namespaces, the graph's own run carrying the node's metadata."""

    def __init__(self, prefix: str, current: tuple[RunLoop, Task] | None, subgraphs: bool) -> None:
        self._prefix = prefix
        self._deeper = len(prefix) + 1
        self._subgraphs = subgraphs
        self._first = prefix.split("|", 1)[0]
        self._caller_run = current[1].run_id if current is not None else ""
        self._input = current[1].node_input if current is not None else None
        self._root_run = ""
        self._expander = Expander()
        self._caller_meta: dict[str, Any] = {"checkpoint_ns": self._first}
        if current is not None:
            parent, task = current
            self._caller_meta.update(
                langgraph_step=parent.step + 1,  # (its step runs: the loop's is the last)
                langgraph_node=task.name,
                langgraph_triggers=tuple(task.triggers),
                langgraph_path=tuple(task.path),
                langgraph_checkpoint_ns=prefix,
            )

    def relative(self, event: NewEvent) -> NewEvent:
        """``event`` as the events mode of the graph's own stream reads it."""
        ns = event.ns or ""
        # (expanded where it is: a checkpoint's task ids derive from its namespace)
        event = self._expander.expand(event)
        if ns != self._prefix:
            return event.changed(ns=ns[self._deeper :])
        if event.type == _STARTED:
            payload = fields_of(event.payload)
            self._root_run = str(payload.get("run_id") or "")
            given = payload.get("input", self._input)
            return NewEvent(type=EventType.RUN_STARTED, payload={"input": given})
        if event.type == EventType.SUBGRAPH_ENDED:
            return run_ended(RunStatus.SUCCESS)
        return event.changed(ns=None)

    def shown(self, item: Item) -> Item:
        """An item of the events mode, as LangGraph's stream of the graph shows it."""
        mode, ns, shown = item
        event = dict(shown)
        event["parent_ids"] = [self._caller_run, *event["parent_ids"]]
        metadata = dict(event["metadata"])
        inner = metadata.get("langgraph_checkpoint_ns")
        if inner:
            metadata["langgraph_checkpoint_ns"] = f"{self._prefix}|{inner}"
        metadata["checkpoint_ns"] = self._first  # (LangChain's keeps the first it was given)
        if event["run_id"] == self._root_run:
            metadata.update(self._caller_meta)
            event["tags"] = ["seq:step:1", *event["tags"]]
            chunk = event["data"].get("chunk") if event["event"] == "on_chain_stream" else None
            if self._subgraphs and isinstance(chunk, tuple) and isinstance(chunk[0], tuple):
                absolute = (*namespace(self._prefix), *chunk[0])
                event["data"] = {**event["data"], "chunk": (absolute, *chunk[1:])}
        event["metadata"] = metadata
        return mode, ns, event


def _relative(item: Item, own: tuple[str, ...], writes: bool) -> Item:
    """An item of the streamed graph's projection, whose namespace is the run's: shown as
    it is, yet the stream's own (not a subgraph's) when it is the graph's, or a custom write
    of a subgraph of it made through its writer (``writes``)."""
    mode, ns, chunk = item
    graph = ns.graph if isinstance(ns, ShownNamespace) else ns
    shown = ShownNamespace(ns)
    shown.graph = () if writes and mode == "custom" else tuple(graph[len(own) :])
    return mode, shown, chunk


def _facts(loop: RunLoop, caller: RunLoop, started: Mapping[str, Any]) -> RunFacts:
    """What the stream's projection knows of the graph: its start's facts, the run's thread,
    durability and checkpointer, and the caller's metadata and tags."""
    config = caller.config
    return RunFacts(
        thread_id=loop.thread_id,
        checkpointer=not isinstance(loop.log.event_log, ScratchLog),
        durability=loop.log.durability,
        key_order=list(started.get("channels") or []),
        metadata=dict(config.get("metadata") or {}),
        tags=config.get("tags"),
        run_id=str(started.get("run_id") or ""),
        graph=started.get("name") or "LangGraph",
        node_inputs=started.get("node_inputs"),
        state_keys=started.get("state_keys"),
        graph_shape={k: started[k] for k in ("folds", "state_shape", "state_keys") if k in started},
        configurable=config.get("configurable"),
        form=FORM,  # made live, as this code shows it
    )
