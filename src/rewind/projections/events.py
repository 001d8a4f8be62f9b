"""The ``events`` stream mode: LangChain's ``astream_events`` v2 protocol, rebuilt from the log
(the graph run, its nodes and routing functions, subgraphs, the runnables nodes run inside
themselves, chat models, tools and dispatched custom events, with run ids, parents, tags and
metadata)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from langchain_core.messages import BaseMessage

from rewind.events import EventType, StateSlice, fields_of
from rewind.projections.calls import bound_arguments, call_ns, is_call, is_return, return_value
from rewind.projections.event_runs import (
    NOT_GIVEN,
    Run,
    StartInPlace,
    end_input,
    truthy,
    without_ids,
)
from rewind.projections.modes import (
    EventLike,
    UpdatesMode,
    _Fold,
    namespace,
    unapplied,
)
from rewind.projections.state import (
    ROOT,
    apply_writes,
    channel_writes_of,
    node_input,
    resolve_state,
    with_managed,
)

__all__ = ["EventsMode", "GraphStream"]


class GraphStream(Protocol):
    """What the graph's ``astream`` yields for each event (and, for a resumed run, first)."""

    def __call__(self, event: EventLike) -> list[Any]:
        """The chunks one event makes."""
        ...

    def resumed(self, ns: str, head: Any) -> list[Any]:
        """The chunks a run resuming from ``head`` starts with."""
        ...


class EventsMode:
    """``events``: LangChain's ``astream_events`` v2 protocol, rebuilt from the log.

    The graph run, each node run and routing function, subgraph runs and their nodes, chat
    models, tools and dispatched custom events, each with its run id, its ancestors' run ids,
    tags and metadata. The graph's own ``on_chain_stream`` chunks are what ``astream`` yields
    for ``graph_stream`` (its ``updates`` unless told).
    """

    def __init__(
        self,
        fold: _Fold,
        *,
        run_id: str,
        graph: str,
        metadata: Mapping[str, Any],
        tags: list[str] | None,
        node_inputs: Mapping[str, Any] | None = None,
        graph_shape: Mapping[str, Any] | None = None,
        graph_stream: GraphStream | None = None,
        output_keys: str | list[str] | None = None,
        stream_subgraphs: bool = False,
    ) -> None:
        """``output_keys``: the call's, what the graph's own stream and output show;
        ``stream_subgraphs``: that stream has its subgraphs' chunks (``subgraphs=True``)."""
        self._fold = fold
        self._output_keys = output_keys
        # Per namespace: how its nodes' inputs differ from the plain state, and how its state
        # is folded and built (a routing function's input).
        self._shapes: dict[str, Mapping[str, Any]] = {"": node_inputs or {}}
        self._graph_shapes: dict[str, Mapping[str, Any]] = {"": graph_shape or {}}
        self._root = Run(
            name=graph,
            run_id=run_id,
            parents=[],
            tags=list(tags or []),
            metadata={**metadata, "ls_integration": "langgraph"},
            input=None,
        )
        self._nodes: dict[str, Run] = {}  # by task id
        # The input's task shows as a run only when a routing function runs under it.
        self._hidden: dict[str, Run] = {}
        self._untraced: set[str] = set()  # tasks of Pregel nodes of writers alone (no run)
        self._graphs: dict[str, Run] = {}  # subgraph runs, by namespace
        self._calls: dict[str, Run] = {}  # model and tool calls, and nested runs, by run id
        # Per task: message ids rewind gave at the task's tool ends (its events show none).
        self._given: dict[str, set[str]] = {}
        updates = UpdatesMode()
        if output_keys is not None:
            if isinstance(output_keys, str):
                updates.only((), [output_keys], single=output_keys)
            else:
                updates.only((), output_keys, single=None)
        self._graph_stream: Callable[[EventLike], list[Any]] = graph_stream or (
            lambda e: [c for _, c in updates.feed(e)]
        )
        self._graph_resumed = graph_stream.resumed if graph_stream is not None else None
        # The graph's stream of a resumed run starts with the state it resumes from, once the
        # run has started (its first event).
        self._resumed: list[Any] = []
        # The graph's own stream in ``updates`` (the default) has chunks for task ends and
        # interrupts only; other modes may have some for any root event.
        self._streams_any = graph_stream is not None
        self._stream_subgraphs = stream_subgraphs
        # A subgraph's chunks in the graph's own stream: LangGraph's reach it through a
        # queue, after what the subgraph does next (its next step's node starts) has shown.
        self._deferred: list[dict[str, Any]] = []
        # A step's node starts wait for the writes its tasks saved before a failure (LangGraph
        # applies those first, then starts the nodes).
        self._starting: list[dict[str, Any]] = []
        # And the chunks the graph's own stream has of them (``tasks``, ``debug``): all of a
        # step's go before its node starts, as LangGraph streams them before it runs them.
        self._announced: list[dict[str, Any]] = []
        # A failure an error handler handles, of a task alone in its step: its chunks in the
        # graph's own stream wait for the handler's run to end (LangGraph runs the handler
        # before they reach the stream), by the failed task's id; and the failed task's id, by
        # its handler's task id.
        self._held: dict[str, list[dict[str, Any]]] = {}
        self._handling: dict[str, str] = {}
        # What waits behind the start of a node whose whole run is one runnable's (see
        # StartInPlace), and how many such starts are on their way.
        self._waiting: list[dict[str, Any]] = []
        self._in_place = 0

    @staticmethod
    def _event(kind: str, run: Run, data: Any) -> dict[str, Any]:
        return {
            "event": kind,
            "name": run.name,
            "run_id": run.run_id,
            "parent_ids": list(run.parents),
            "tags": list(run.tags),
            "metadata": dict(run.metadata),
            "data": data,
        }

    def resumed(self, ns: str, head: Any) -> None:
        """The run resumes ``head`` (namespace ``ns``): the graph's own stream starts with
        what a resumed run re-emits (its state, its checkpoint), once the run has started."""
        if self._graph_resumed is not None and not ns:
            self._resumed += self._graph_resumed(ns, head)
        elif self._graph_resumed is not None and self._stream_subgraphs:  # a subgraph's
            chunks = self._graph_resumed(ns, head)
            self._deferred += [
                self._event("on_chain_stream", self._root, {"chunk": c}) for c in chunks
            ]

    holds = True
    """It holds a step's node starts until the next event it is fed: a stream that skips some
    kinds of event must :meth:`release` them at those."""

    def release(self) -> list[tuple[tuple[str, ...], Any]]:
        """The node starts held back, now (at an event this mode does not read)."""
        held = [*self._announced, *self._starting]
        self._announced, self._starting = [], []
        return self._out(held)

    def forwarded(self, event: EventLike) -> list[tuple[tuple[str, ...], Any]]:
        """A chunk a ``RemoteGraph`` run inside a task forwarded (``remote.chunk``): in the
        graph's own stream, as LangGraph's ``astream_events(subgraphs=True)`` shows it."""
        if not self._streams_any:
            return []
        return self._out(self._graph_streamed(event))

    def feed(self, event: EventLike) -> list[tuple[tuple[str, ...], Any]]:
        payload = fields_of(event.payload)  # none, for a payload redacted whole
        prior, self._deferred = self._deferred, []
        events = self._events(event, payload)
        announced: list[dict[str, Any]] = []
        if (
            self._streams_any
            and (not event.ns or self._stream_subgraphs)
            and event.type not in (EventType.TASK_ENDED, EventType.INTERRUPT)
        ):
            streamed = self._graph_streamed(event)
            if event.type == EventType.TASK_FAILED and payload.get("handled") == "first":
                self._held[event.task_id or ""], streamed = streamed, []
            elif event.type == EventType.TASK_FAILED:  # a handler's own failure: after it
                streamed = [*self._handled_failure(event), *streamed]
            if event.type == EventType.TASK_STARTED and "handles" in payload:
                events = [*streamed, *events]
            elif event.type == EventType.TASK_STARTED and not is_call(payload):
                # LangGraph streams a step's tasks (all of them) before it runs them; a task
                # call starts (in its caller's run) before its start is streamed.
                announced = streamed
            elif event.type == EventType.RUN_ENDED:  # the graph's last chunks, then its end
                events = [*streamed, *events]
            else:
                events += streamed
        if (
            event.type == EventType.TASK_STARTED
            and "handles" in payload
            and "announced" not in payload
        ):
            # An error handler's, run as a node fails: LangGraph starts it after what was
            # streamed so far reached the stream (a subgraph's chunks too).
            out = [*self._announced, *self._starting, *prior]
            self._announced, self._starting = [], events
            return self._out(out)
        if event.type == EventType.TASK_STARTED:
            self._announced += announced
            self._starting += events
            self._deferred[:0] = prior
            return []
        if not events:  # nothing of its own to show: a subgraph's chunks wait on
            self._deferred[:0], prior = prior, []
        # A step's tasks answered without running stream their outputs before the step's
        # starts (as LangGraph's); a task call answered from the cache, in its turn.
        a_call = is_return(payload) and not payload.get("entrypoint")
        if not (event.type == EventType.TASK_ENDED and payload.get("cached") and not a_call):
            events = [*self._announced, *self._starting, *prior, *events]
            self._announced, self._starting = [], []
        else:
            events, self._announced = [*self._announced, *prior, *events], []
        if event.type == EventType.RUN_ENDED:  # (a start never begun: none to wait for)
            for node in self._nodes.values():
                node.settled = True
        return self._out(events)

    def _out(self, events: list[dict[str, Any]]) -> list[tuple[tuple[str, ...], Any]]:
        """``events`` as they go out: none after the start of a node whose whole run is one
        runnable's until that runnable begins (its start then goes in the node's place)."""
        if self._in_place or self._waiting:
            self._waiting += events
            events = []
            for i, e in enumerate(self._waiting):
                if not isinstance(e, StartInPlace):
                    events.append(e)
                    continue
                if not e.node.settled:
                    self._waiting = self._waiting[i:]
                    break
                self._in_place -= 1
                if e.node.start is not None:
                    events.append(e.node.start)
            else:
                self._waiting = []
        return [((), e) for e in events]

    def _events(self, event: EventLike, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
        root = self._root
        if event.type == EventType.RUN_STARTED:
            root.input = payload.get("input")
            resumed, self._resumed = self._resumed, []
            return [
                self._event("on_chain_start", root, {"input": root.input}),
                *(self._event("on_chain_stream", root, {"chunk": c}) for c in resumed),
            ]
        if event.type == EventType.RUN_ENDED:
            if payload.get("status") not in ("success", "interrupted"):
                return []
            # (interrupted: with the writes of the step's tasks that finished, as the last
            # `values` chunk shows them, LangGraph's output)
            output = self._output(payload.get("pending"))
            return [self._event("on_chain_end", root, {"output": output})]
        if event.type == EventType.INTERRUPT:
            # An interrupted node never ends: its run is left open, as LangGraph leaves it.
            interrupted = self._nodes.pop(event.task_id or "", None)
            if interrupted is not None:
                interrupted.settled = True
            return [*self._handled_failure(event), *self._graph_streamed(event)]
        if event.type == EventType.SUBGRAPH_STARTED:
            return self._subgraph_started(event, payload)
        if event.type == EventType.SUBGRAPH_ENDED:
            graph = self._graphs.pop(event.ns or "", None)
            if graph is None:
                return []
            # Its output is its state as it ended (the log's fold), unless an older log kept it.
            output = payload["output"] if "output" in payload else self._output_of(event.ns or "")
            ended = {"output": output, "input": end_input(graph.input)}
            return [self._event("on_chain_end", graph, ended)]
        if event.type == EventType.TASK_STARTED:
            if event.node is None or payload.get("cached") or payload.get("failed_before"):
                return []
            if payload.get("untraced"):  # a Pregel node of writers alone: no run of its own
                self._untraced.add(event.task_id or "")
                return []
            started = self._node_started(event, payload)
            if payload.get("whole"):  # shown as its runnable's run, in its place
                self._in_place += 1
                return [StartInPlace(self._nodes[event.task_id or ""])]
            if event.node != "__start__":
                return [started]
            start = self._nodes.pop(event.task_id or "")
            start.tags.insert(1, "langsmith:hidden")
            self._hidden[event.task_id or ""] = start
            return []
        if event.type == EventType.ROUTE:  # a log whose routes were events of their own
            return self._routed(event, payload, payload.get("input"))
        if event.type == EventType.TASK_ENDED:
            return self._task_ended(event, payload)
        node = self._nodes.get(event.task_id or "")
        if node is None:
            return []
        if event.type == EventType.TASK_FAILED:
            # A failed attempt's run never ends; a retry starts a run of its own.
            del self._nodes[event.task_id or ""]
            node.settled = True
            if not payload.get("retry_run_id"):
                return []
            retry = dataclasses.replace(
                node, run_id=payload["retry_run_id"], shown_as=None, start=None, settled=False
            )
            self._nodes[event.task_id or ""] = retry
            if retry.whole:
                self._in_place += 1
                return [StartInPlace(retry)]
            return [self._event("on_chain_start", retry, {"input": retry.input})]
        if event.type in (EventType.CHAT_STARTED, EventType.TOOL_STARTED):
            if "run_id" not in payload:  # redacted whole: no call to show
                return []
            return self._call_started(event, payload, node)
        if event.type in (EventType.CHAT_TOKEN, EventType.CHAT_ENDED, EventType.TOOL_ENDED):
            return self._call_went_on(event, payload)
        if event.type in _CHAIN_EVENTS:
            return self._chain_event(event, payload, node)
        if event.type == EventType.CUSTOM_EVENT and "name" in payload:
            owner = self._calls.get(payload["run_id"])  # dispatched from a nested run
            custom = Run(
                name=payload["name"],
                run_id=payload["run_id"],
                parents=(owner or node).parents,  # the run it was dispatched from's
                tags=list(payload.get("tags") or []),
                metadata=dict(payload.get("metadata") or node.metadata),
                input=None,
            )
            return [self._event("on_custom_event", custom, payload.get("data"))]
        return []

    def _task_ended(self, event: EventLike, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
        """A task's end: its routing functions' runs first (they ran inside the node's run),
        then the node's end."""
        routed = self._task_routes(event, payload) if payload.get("routes") else []
        task_id = event.task_id or ""
        if task_id in self._hidden:  # the input's task, with no routing function under it
            del self._hidden[task_id]
            # (no run of its own; the graph's own stream still takes its writes: the input)
            return [*routed, *self._graph_streamed(event)]
        if payload.get("cached"):
            return [*routed, *self._graph_streamed(event)]  # not run again: no run of its own
        if task_id in self._untraced:
            self._untraced.discard(task_id)
            return [*routed, *self._graph_streamed(event)]
        node = self._nodes.get(task_id)
        if node is None:  # (a state edit's task: its writes reach the graph's own stream's
            if not event.ns or self._stream_subgraphs:  # fold, which shows none of it)
                self._graph_stream(event)
            return routed
        return [*routed, *self._node_ended(event, payload, node)]

    def _routed(
        self, event: EventLike, payload: Mapping[str, Any], given: Any
    ) -> list[dict[str, Any]]:
        """A routing function's run, inside its task's node run (which the input's task gets
        only now: it shows as a run when a routing function runs under it)."""
        task_id = event.task_id or ""
        out: list[dict[str, Any]] = []
        if task_id in self._hidden:
            shown = self._nodes[task_id] = self._hidden.pop(task_id)
            out.append(self._event("on_chain_start", shown, {"input": shown.input}))
        node = self._nodes.get(task_id)
        if node is None:
            return out
        route = Run(
            name=payload["name"],
            run_id=payload["run_id"],
            parents=[*node.parents, node.run_id],
            # The input's task has no function of its own before its writes and routes; a
            # node's place in its node's sequence is recorded when not the usual one.
            tags=[f"seq:step:{payload.get('seq_step', 2)}", "langsmith:hidden"]
            if event.node == "__start__"
            else [f"seq:step:{payload.get('seq_step', 3)}"],
            metadata=node.metadata,
            input=given,
        )
        return [
            *out,
            self._event("on_chain_start", route, {"input": given}),
            self._event(
                "on_chain_end", route, {"output": payload.get("output"), "input": end_input(given)}
            ),
        ]

    def _task_routes(self, event: EventLike, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The routing decisions a task's end records, with the state they were given: the
        step's state (the fold's) with the task's writes applied."""
        ns = event.ns or ""
        shape = self._graph_shapes.get(ns, {})
        folds = shape.get("folds") or {}
        values = dict(self._fold.state(namespace(ns)))
        for name, writes in channel_writes_of(payload).items():
            kind = folds.get(name, "set")
            if kind != "value":
                values[name] = apply_writes(values.get(name), kind, name, writes)
        order = shape.get("channels") or self._fold.order
        node = self._nodes.get(event.task_id or "")
        managed = node.managed if node is not None else None
        out: list[dict[str, Any]] = []
        for decision in payload["routes"]:
            state = {**values, **(decision.get("reduced") or {})}
            ordered = {k: state[k] for k in order if k in state}
            ordered.update((k, v) for k, v in state.items() if k not in ordered)
            ordered = with_managed(ordered, managed, shape.get("state_keys"))
            out += self._routed(event, decision, node_input(shape.get("state_shape"), ordered))
        return out

    def _subgraph_started(
        self, event: EventLike, payload: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """A subgraph's run begins inside the node (task) its namespace ends with (before
        ``|n``: the task's second graph and later are numbered)."""
        ns = event.ns or ""
        segments = ns.split("|")
        if segments[-1].isdigit():
            segments.pop()
        node = self._nodes.get(segments[-1].rsplit(":", 1)[-1])
        if node is None:
            return []
        graph = Run(
            name=payload.get("name") or "LangGraph",
            run_id=payload.get("run_id") or "",
            parents=[*node.parents, node.shown_as or node.run_id],
            tags=["seq:step:1", *self._root.tags],
            # LangChain's child config keeps the first namespace it was given as checkpoint_ns.
            metadata={**node.metadata, "checkpoint_ns": ns.split("|", 1)[0]},
            # Its input is the node's, unless it was called with something else.
            input=payload.get("input", node.input),
            streamed=bool(payload.get("streamed")),
        )
        graph = self._graphs[ns] = self._as_node(graph, node.run_id, node)
        self._shapes[ns] = payload.get("node_inputs") or {}
        self._graph_shapes[ns] = {
            k: payload[k]
            for k in ("folds", "state_shape", "channels", "output_keys", "state_keys")
            if k in payload
        }
        return self._begun(
            node, graph, self._event("on_chain_start", graph, {"input": graph.input})
        )

    def _output(self, pending: Mapping[str, Any] | None = None) -> Any:
        """The graph run's output: its state as it ended (with an interrupted step's
        ``pending`` writes), as the call's ``output_keys`` show it (one key: its value; a
        list: those keys in order)."""
        shown = self._fold.shown_ended(pending)
        keys = self._output_keys
        if keys is None or not isinstance(shown, dict):
            return shown
        if isinstance(keys, str):
            return shown.get(keys)
        return {k: shown[k] for k in keys if k in shown}

    def _output_of(self, ns: str) -> Any:
        """What a subgraph returned: its state as it ended, in its output schema's keys (one
        key: its value; a root-valued graph's: its one value)."""
        shape = self._graph_shapes.get(ns, {})
        state = self._fold.state(namespace(ns))
        order = shape.get("channels") or list(state)
        keys = shape.get("output_keys")
        if isinstance(keys, str):
            return state.get(keys)
        wanted = [k for k in order if k in state and (keys is None or k in keys)]
        if wanted == [ROOT]:
            return state[ROOT]
        return {k: state[k] for k in wanted}

    def _node_started(self, event: EventLike, payload: Mapping[str, Any]) -> dict[str, Any]:
        step = getattr(event, "step", None)
        ns = event.ns or ""
        graph = self._graphs.get(ns, self._root)
        caller = payload.get("call")  # a task call's: it runs inside its caller's run
        handled = payload.get("handles")  # an error handler's: under the failed task's ns
        metadata = {
            **self._root.metadata,
            "langgraph_step": step,
            "langgraph_node": event.node,
            "langgraph_triggers": tuple(payload.get("triggers") or ()),
            "langgraph_path": tuple(payload.get("path") or ()),
            "langgraph_checkpoint_ns": call_ns(caller, event.node, event.task_id)
            if caller is not None
            else call_ns(f"{ns}|{handled}" if ns else handled, event.node, event.task_id)
            if handled is not None
            else f"{ns}|{event.node}:{event.task_id}"
            if ns
            else f"{event.node}:{event.task_id}",
        }
        if ns:
            metadata["checkpoint_ns"] = ns.split("|", 1)[0]
        parent = self._nodes.get(caller.rpartition(":")[2]) if caller is not None else None
        if handled is not None:
            self._handling[event.task_id or ""] = handled.rpartition(":")[2]
        node = Run(
            name=str(event.node),
            run_id=payload.get("run_id") or "",
            parents=[*parent.parents, parent.run_id] if parent else [*graph.parents, graph.run_id],
            tags=["seq:step:1" if caller is not None else f"graph:step:{step}", *self._root.tags],
            metadata=metadata,
            input=self._task_input(event, payload, graph),
            managed=payload.get("managed"),
            streamed_last=payload.get("streamed_last"),
            whole=bool(payload.get("whole")),
        )
        self._nodes[event.task_id or ""] = node
        return self._event("on_chain_start", node, {"input": node.input})

    def _task_input(self, event: EventLike, payload: Mapping[str, Any], graph: Run) -> Any:
        """What a task's run was given: a task call's arguments by name, a Send's argument,
        the (sub)graph's input for the input's task, or the state as its node takes it."""
        ns = event.ns or ""
        if is_call(payload):
            return bound_arguments(payload.get("arguments"), *payload["input"])
        if "input" in payload:
            return payload["input"]
        if event.node == "__start__":
            return graph.input
        shape = self._shapes.get(ns, {}).get(str(event.node))
        order = self._graph_shapes.get(ns, {}).get("state_keys")
        state = with_managed(self._fold.state(namespace(ns)), payload.get("managed"), order)
        return node_input(shape, state)

    def _node_ended(
        self, event: EventLike, payload: Mapping[str, Any], node: Run
    ) -> list[dict[str, Any]]:
        del self._nodes[event.task_id or ""]
        node.settled = True
        if node.whole:  # its runnable's run, shown as it, ended already
            return [*self._handled_failure(event), *self._graph_streamed(event)]
        if is_return(payload):
            update = return_value(payload)
        else:  # (a Pregel node's run shows what its function returned, not its writes)
            update = payload["returned"] if "returned" in payload else payload.get("update")
        given = self._given.pop(event.task_id or "", set()) | set(payload.get("ids_given") or ())
        returned = without_ids(update, given) if given else update
        data = {"output": returned, "input": end_input(node.input)}
        ended = [self._event("on_chain_end", node, data)]
        if self._graphs.get(event.ns or "", self._root).streamed and not node.streamed_out:
            ended.insert(0, self._event("on_chain_stream", node, {"chunk": returned}))
        return [*ended, *self._handled_failure(event), *self._graph_streamed(event)]

    def _handled_failure(self, event: EventLike) -> list[dict[str, Any]]:
        """The held chunks of the failure the task of ``event`` handled, if it is a handler's
        (see ``_held``)."""
        failed = self._handling.pop(event.task_id or "", None)
        return self._held.pop(failed, []) if failed is not None else []

    def _graph_streamed(self, event: EventLike) -> list[dict[str, Any]]:
        """The graph's own stream: what ``astream`` yields for this event (the root's, and its
        subgraphs' with ``subgraphs=True``)."""
        if event.ns and not self._stream_subgraphs:
            return []
        if self._graph_resumed is None and not self._stream_subgraphs and unapplied(event):
            self._graph_stream(event)  # (its own stream, in updates: nothing of it)
            return []
        streamed = [
            self._event("on_chain_stream", self._root, {"chunk": chunk})
            for chunk in self._graph_stream(event)
        ]
        if event.ns:  # shown with the next event that shows something of its own
            self._deferred += streamed
            return []
        return streamed

    def _call_started(
        self, event: EventLike, payload: Mapping[str, Any], node: Run
    ) -> list[dict[str, Any]]:
        chat = event.type == EventType.CHAT_STARTED
        serialized = payload.get("serialized") or {}
        data: Any
        if chat:
            data = (
                {"messages": self._resolved(payload["messages"], event.ns)}
                if "messages" in payload
                else {"prompts": payload.get("prompts")}
            )
        else:
            data = payload.get("input")
        call = Run(
            name=payload.get("name") or serialized.get("name") or "run",
            run_id=payload.get("run_id", ""),
            parents=self._under(payload.get("parent_run_id"), node),
            tags=list(payload.get("tags") or []),
            metadata=dict(payload.get("metadata") or {}),
            input=data,
            kind=("llm" if "prompts" in data else "chat_model") if chat else "tool",
        )
        call = self._as_node(call, payload.get("parent_run_id"), node)
        self._calls[call.run_id] = call
        return self._begun(node, call, self._event(f"on_{call.kind}_start", call, {"input": data}))

    @staticmethod
    def _as_node(run: Run, parent_run_id: Any, node: Run) -> Run:
        """``run`` as LangGraph shows it: the node's own, named after it under the node's
        parent with its step's tag, when the node's whole run is that runnable's (the first
        run begun in the node's)."""
        if not node.whole or node.shown_as is not None or parent_run_id != node.run_id:
            return run
        node.shown_as = run.run_id
        tags = [node.tags[0] if t == "seq:step:1" else t for t in run.tags]
        return dataclasses.replace(run, name=node.name, parents=list(node.parents), tags=tags)

    @staticmethod
    def _begun(node: Run, run: Run, started: dict[str, Any]) -> list[dict[str, Any]]:
        """A run's start as it goes out: in the node's place, if it is the node's run (see
        :meth:`_as_node`)."""
        if node.shown_as != run.run_id or node.settled:
            return [started]
        node.start, node.settled = started, True
        return []

    def _under(self, parent_run_id: Any, node: Run) -> list[str]:
        """The parent ids of a run started under ``parent_run_id``: a nested run's or a tool's
        (a chain, a model called inside them), else the node's own run."""
        parent = self._calls.get(parent_run_id) if self._calls and parent_run_id else None
        if parent is None:
            return [*node.parents, node.shown_as or node.run_id]
        return [*parent.parents, parent.run_id]

    def _chain_event(
        self, event: EventLike, payload: Mapping[str, Any], node: Run
    ) -> list[dict[str, Any]]:
        """A nested run's start, streamed chunk or end (``on_chain_*``, ``on_prompt_*``,
        ``on_parser_*``, ``on_retriever_*``...); a failed one has no end, as in LangChain."""
        if event.type == EventType.CHAIN_STARTED:
            return self._chain_started(event, payload, node) if "run_id" in payload else []
        run_id = payload.get("run_id", "")
        run = self._calls.get(run_id)
        if run is None:
            return []
        if event.type == EventType.CHAIN_CHUNK:
            chunk = self._chain_value(payload, "chunk", node, event.ns)
            out = [self._event(f"on_{run.kind}_stream", run, {"chunk": chunk})]
            if (
                node.streamed_last in run.tags
                and run.parents[-1:] == [node.run_id]
                and self._graphs.get(event.ns or "", self._root).streamed
            ):  # the node's last step: each of its chunks is the node's output, as it comes
                node.streamed_out = True
                out.append(self._event("on_chain_stream", node, {"chunk": chunk}))
            return out
        del self._calls[run_id]
        if "error" in payload:
            return []
        given = (
            self._chain_value(payload, "input", node, event.ns)
            if "input" in payload or "node_input" in payload
            else None
        )
        started = None if run.input is NOT_GIVEN else run.input
        data = {
            "output": self._chain_value(payload, "output", node, event.ns),
            # LangChain's: the input the end gave, else the start's, else {}; a retriever's
            # is its start's query.
            "input": started
            if run.kind == "retriever"
            else given
            if truthy(given)
            else started
            if truthy(started)
            else {},
        }
        return [self._event(f"on_{run.kind}_end", run, data)]

    def _chain_started(
        self, event: EventLike, payload: Mapping[str, Any], node: Run
    ) -> list[dict[str, Any]]:
        """A nested run begins, under the run it was started from (with no input shown when
        it was given none yet: a streamed run's)."""
        given = "input" in payload or "node_input" in payload
        value = self._chain_value(payload, "input", node, event.ns) if given else NOT_GIVEN
        run = Run(
            name=payload.get("name") or "Unnamed",
            run_id=payload["run_id"],
            parents=self._under(payload.get("parent_run_id"), node),
            tags=list(payload.get("tags") or []),
            metadata=dict(payload.get("metadata") or {}),
            input=value,
            kind=payload.get("run_type") or "chain",
        )
        run = self._as_node(run, payload.get("parent_run_id"), node)
        self._calls[run.run_id] = run
        data = {} if value is NOT_GIVEN else {"input": value}
        return self._begun(node, run, self._event(f"on_{run.kind}_start", run, data))

    def _chain_value(self, payload: Mapping[str, Any], key: str, node: Run, ns: str | None) -> Any:
        """A nested run's recorded value: the node's input where it was that, the state's
        messages put back where it named them."""
        if payload.get("node_input" if key == "input" else f"{key}_is_node_input"):
            return node.input
        value = payload.get(key)
        if type(value) is list and any(isinstance(v, StateSlice) for v in value):
            return self._resolved([value], ns)[0]
        return value

    def _resolved(self, messages: Any, ns: str | None) -> Any:
        """A chat call's input with the state's messages it names put back (the fold holds
        the state its task was given)."""
        return resolve_state(messages, self._fold.state(namespace(ns)))

    def _call_went_on(self, event: EventLike, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
        run_id = payload.get("run_id", "")
        call = self._calls.get(run_id)
        if call is None:
            return []
        if event.type == EventType.CHAT_TOKEN:
            return [self._event(f"on_{call.kind}_stream", call, {"chunk": payload.get("chunk")})]
        del self._calls[run_id]
        if "error" in payload:
            return []
        if event.type == EventType.TOOL_ENDED:
            output = payload.get("output")
            if payload.get("id_given") and isinstance(output, BaseMessage) and output.id:
                self._given.setdefault(event.task_id or "", set()).add(output.id)
                output = output.model_copy(update={"id": None})
            return [self._event("on_tool_end", call, {"output": output, "input": call.input})]
        generations = payload.get("generations") or []
        result: Any = (
            {"generations": generations, "llm_output": payload.get("llm_output")}
            if call.kind == "llm"  # LangChain's shape for a text-completion model's result
            else (generations[0][0] if generations and generations[0] else None)
        )
        data = {"output": result, "input": call.input}
        return [self._event(f"on_{call.kind}_end", call, data)]


_CHAIN_EVENTS = frozenset({EventType.CHAIN_STARTED, EventType.CHAIN_CHUNK, EventType.CHAIN_ENDED})
