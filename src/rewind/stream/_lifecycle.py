"""Subgraphs found in a run's ``tasks`` events: the ``lifecycle`` projection (payloads, for the
wire) and the ``subgraphs`` projection (handles to read each subgraph by).

A subgraph starts when the first task event of its namespace arrives; it ends when the result
of the parent task whose id ends its namespace (``node:<task_id>``) arrives: ``completed``,
``failed`` (the result's error) or ``interrupted``. Subgraphs still open when the run ends are
closed then (``completed``, or what the run's error says). Both transformers keep the ``tasks``
events out of the main log: they are folded into these projections.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal, NotRequired

from typing_extensions import TypedDict

from rewind.errors import GraphDrained, GraphInterrupt
from rewind.stream._types import ProtocolEvent, StreamTransformer
from rewind.stream.run_stream import AsyncSubgraphRunStream, SubgraphRunStream
from rewind.stream.stream_channel import StreamChannel

if TYPE_CHECKING:
    from langchain_protocol.protocol import LifecycleCause

    from rewind.stream._mux import StreamMux

__all__ = [
    "LifecyclePayload",
    "LifecycleTransformer",
    "SubgraphStatus",
    "SubgraphTransformer",
]

_logger = logging.getLogger(__name__)

SubgraphStatus = Literal["started", "completed", "failed", "interrupted", "drained"]
"""Where a subgraph stands."""

_Handle = SubgraphRunStream | AsyncSubgraphRunStream


class LifecyclePayload(TypedDict, total=False):
    """An item of the ``lifecycle`` projection (logged as a ``lifecycle`` event)."""

    event: SubgraphStatus
    namespace: list[str]
    graph_name: NotRequired[str]
    trigger_call_id: NotRequired[str]
    cause: NotRequired[LifecycleCause]
    error: NotRequired[str]


def _split_segment(segment: str) -> tuple[str, str | None]:
    """``node:task_id`` → ``(node, task_id)``; a segment without ``:`` has no task id."""
    name, sep, task_id = segment.partition(":")
    return name, task_id if sep else None


def _status_of_error(err: BaseException) -> tuple[SubgraphStatus, str | None]:
    if isinstance(err, GraphDrained):
        return "drained", None
    if isinstance(err, GraphInterrupt):
        return "interrupted", None
    return "failed", str(err)


def _status_of_result(result: dict[str, Any]) -> tuple[SubgraphStatus, str | None]:
    # An interrupt shows as interrupts, not as an error: it wins when both are there.
    if result.get("interrupts"):
        return "interrupted", None
    if result.get("error"):
        return "failed", str(result["error"])
    return "completed", None


class _TasksLifecycle(StreamTransformer):
    """Finds subgraphs in ``tasks`` events; subclasses say which namespaces they follow
    (``_should_track``) and what a start (``_on_started``) and an end (``_on_terminal``)
    make. The cause of the start being told is in ``self._pending_cause``."""

    required_stream_modes = ("tasks",)

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._seen: set[tuple[str, ...]] = set()
        self._open: dict[tuple[str, ...], str] = {}
        """Followed namespaces still running: the id of the task whose result ends each."""
        self._lc_by_ns: dict[tuple[str, ...], str | None] = {}
        """Each namespace's ``lc_agent_name`` (its first task's)."""
        self._pending_tool_calls: dict[str, str] = {}
        """Task id → the id of the tool call it runs (a subagent's cause)."""
        self._pending_cause: LifecycleCause | None = None

    def _should_track(self, ns: tuple[str, ...]) -> bool:
        raise NotImplementedError

    def _on_started(
        self, ns: tuple[str, ...], graph_name: str | None, trigger_call_id: str | None
    ) -> None:
        raise NotImplementedError

    def _on_terminal(self, ns: tuple[str, ...], status: SubgraphStatus, error: str | None) -> None:
        raise NotImplementedError

    def process(self, event: ProtocolEvent) -> bool:
        if event["method"] != "tasks":
            return True
        ns = tuple(event["params"]["namespace"])
        data = event["params"]["data"]
        if "result" in data:
            for child, status, error in self._pop_terminal_transitions(ns, data):
                self._on_terminal(child, status, error)
        else:
            self._task_started(ns, data)
        return False

    def _task_started(self, ns: tuple[str, ...], data: dict[str, Any]) -> None:
        self._record_identity(ns, data)
        self._record_pending_tool_calls(data)
        self._handle_task_start(ns, data)

    def _record_identity(self, ns: tuple[str, ...], data: dict[str, Any]) -> None:
        if ns not in self._lc_by_ns:
            self._lc_by_ns[ns] = (data.get("metadata") or {}).get("lc_agent_name")

    def _record_pending_tool_calls(self, data: dict[str, Any]) -> None:
        task_id, given = data.get("id"), data.get("input")
        if not isinstance(task_id, str):
            return
        call_id = None
        if isinstance(given, dict) and isinstance(given.get("tool_call"), dict):
            call_id = given["tool_call"].get("id")
        elif isinstance(given, list):  # a batch of tool calls: the first one's
            call_id = next(
                (c["id"] for c in given if isinstance(c, dict) and isinstance(c.get("id"), str)),
                None,
            )
        if isinstance(call_id, str):
            self._pending_tool_calls[task_id] = call_id

    def _handle_task_start(self, ns: tuple[str, ...], data: dict[str, Any]) -> None:
        if ns in self._seen or not self._should_track(ns):
            return
        self._seen.add(ns)
        name, trigger = _split_segment(ns[-1])
        # A run with an lc_agent_name (create_agent's) is a subagent, named by it.
        agent = (data.get("metadata") or {}).get("lc_agent_name")
        cause: LifecycleCause | None = None
        if agent is not None and trigger is not None:
            call_id = self._pending_tool_calls.get(trigger)
            if call_id:
                cause = {"type": "toolCall", "tool_call_id": str(call_id)}
        self._pending_cause = cause
        self._on_started(ns, agent if agent is not None else (name or None), trigger)
        if trigger is not None:
            self._open[ns] = trigger

    def _pop_terminal_transitions(
        self, ns: tuple[str, ...], data: dict[str, Any]
    ) -> list[tuple[tuple[str, ...], SubgraphStatus, str | None]]:
        """The followed subgraphs the task result ``data`` (at ``ns``) ends, forgotten."""
        task_id = data.get("id")
        if not task_id:
            return []
        ended = [c for c, t in self._open.items() if c[:-1] == ns and t == task_id]
        for child in ended:
            del self._open[child]
        return [(child, *_status_of_result(data)) for child in ended]

    def finalize(self) -> None:
        for ns in list(self._open):
            self._on_terminal(ns, "completed", None)
        self._open.clear()

    def fail(self, err: BaseException) -> None:
        status, error = _status_of_error(err)
        for ns in list(self._open):
            self._on_terminal(ns, status, error)
        self._open.clear()


class LifecycleTransformer(_TasksLifecycle):
    """``run.lifecycle``: a payload when each subgraph, at any depth below the scope, starts
    and ends (also logged as ``lifecycle`` events, for the wire)."""

    _native = True

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._channel: StreamChannel[LifecyclePayload] = StreamChannel("lifecycle")

    def init(self) -> dict[str, Any]:
        return {"lifecycle": self._channel}

    def _should_track(self, ns: tuple[str, ...]) -> bool:
        return len(ns) > len(self.scope) and ns[: len(self.scope)] == self.scope

    def _on_started(
        self, ns: tuple[str, ...], graph_name: str | None, trigger_call_id: str | None
    ) -> None:
        if trigger_call_id is None:  # no task id: its end could not be told, nor its start
            return
        payload: LifecyclePayload = {"event": "started", "namespace": list(ns)}
        if graph_name:
            payload["graph_name"] = graph_name
        payload["trigger_call_id"] = trigger_call_id
        if self._pending_cause is not None:
            payload["cause"] = self._pending_cause
        self._channel.push(payload)

    def _on_terminal(self, ns: tuple[str, ...], status: SubgraphStatus, error: str | None) -> None:
        payload: LifecyclePayload = {"event": status, "namespace": list(ns)}
        if error is not None:
            payload["error"] = error
        self._channel.push(payload)


class SubgraphTransformer(_TasksLifecycle):
    """``run.subgraphs``: a handle (a run stream of its own) per direct child subgraph; each
    subgraph event goes to its handle's mux too (a grandchild is found by the child's)."""

    _native = True
    supports_sync = True

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._log: StreamChannel[_Handle] = StreamChannel()
        self._handles: dict[tuple[str, ...], _Handle] = {}
        self._mux: StreamMux | None = None

    def init(self) -> dict[str, Any]:
        return {"subgraphs": self._log}

    def _on_register(self, mux: Any) -> None:
        self._mux = mux

    def _should_track(self, ns: tuple[str, ...]) -> bool:
        return len(ns) == len(self.scope) + 1 and ns[: len(self.scope)] == self.scope

    def _on_started(
        self, ns: tuple[str, ...], graph_name: str | None, trigger_call_id: str | None
    ) -> None:
        if self._mux is None:
            return
        try:
            child = self._mux._make_child(ns)
        except RuntimeError:  # a mux of pre-built transformers: no handles
            return
        handle_cls = AsyncSubgraphRunStream if child.is_async else SubgraphRunStream
        handle = handle_cls(child, path=ns, graph_name=graph_name, trigger_call_id=trigger_call_id)
        self._handles[ns] = handle
        self._log.push(handle)

    def _ended(
        self, ns: tuple[str, ...], status: SubgraphStatus, error: str | None
    ) -> _Handle | None:
        """The handle of ``ns`` marked ended (``None``: no handle, or already ended)."""
        handle = self._handles.get(ns)
        if handle is None or handle._seen_terminal:
            return None
        handle.status = status
        if error is not None and handle.error is None:
            handle.error = error
        handle._seen_terminal = True
        return handle if not handle._mux._events._closed else None

    def _on_terminal(self, ns: tuple[str, ...], status: SubgraphStatus, error: str | None) -> None:
        if (handle := self._ended(ns, status, error)) is not None:
            if status == "failed":
                handle._mux.fail(RuntimeError(error or "Subgraph failed"))
            else:
                handle._mux.close()

    async def _aon_terminal(
        self, ns: tuple[str, ...], status: SubgraphStatus, error: str | None
    ) -> None:
        if (handle := self._ended(ns, status, error)) is not None:
            if status == "failed":
                await handle._mux.afail(RuntimeError(error or "Subgraph failed"))
            else:
                await handle._mux.aclose()

    def _handle_for_event(self, event: ProtocolEvent) -> _Handle | None:
        ns = tuple(event["params"]["namespace"])
        depth = len(self.scope)
        handle = self._handles.get(ns[: depth + 1]) if len(ns) > depth else None
        if handle is None or handle._mux._events._closed:
            return None
        return handle

    def process(self, event: ProtocolEvent) -> bool:
        keep = super().process(event)  # a subgraph's first event makes its handle first
        if (handle := self._handle_for_event(event)) is not None:
            handle._observe_event(event)
            handle._mux.push(event)
        return keep

    async def aprocess(self, event: ProtocolEvent) -> bool:
        keep = True
        if event["method"] == "tasks":
            keep = False
            ns = tuple(event["params"]["namespace"])
            data = event["params"]["data"]
            if "result" in data:
                for child, status, error in self._pop_terminal_transitions(ns, data):
                    await self._aon_terminal(child, status, error)
            else:
                self._task_started(ns, data)
        if (handle := self._handle_for_event(event)) is not None:
            handle._observe_event(event)
            await handle._mux.apush(event)
        return keep

    def _still_open(self) -> list[tuple[str, ...]]:
        """Every namespace not ended yet (the open ones, then handles without a task id)."""
        pending = list(self._open)
        self._open.clear()
        return pending + [ns for ns, h in self._handles.items() if ns not in pending]

    def finalize(self) -> None:
        first: BaseException | None = None
        for ns in self._still_open():
            try:
                self._on_terminal(ns, "completed", None)
            except BaseException as e:
                first = first or e
        if first is not None:
            raise first

    async def afinalize(self) -> None:
        first: BaseException | None = None
        for ns in self._still_open():
            try:
                await self._aon_terminal(ns, "completed", None)
            except BaseException as e:
                first = first or e
        if first is not None:
            raise first

    def _failing(self, err: BaseException) -> list[_Handle]:
        status, error = _status_of_error(err)
        self._open.clear()
        failing = []
        for handle in self._handles.values():
            if not handle._seen_terminal:
                handle.status, handle._seen_terminal = status, True
                if error is not None and handle.error is None:
                    handle.error = error
            if not handle._mux._events._closed:
                failing.append(handle)
        return failing

    def fail(self, err: BaseException) -> None:
        for handle in self._failing(err):
            try:
                handle._mux.fail(err)
            except Exception:
                _logger.warning("Error failing subgraph mini-mux at %s", handle.path, exc_info=True)

    async def afail(self, err: BaseException) -> None:
        for handle in self._failing(err):
            try:
                await handle._mux.afail(err)
            except Exception:
                _logger.warning("Error failing subgraph mini-mux at %s", handle.path, exc_info=True)
