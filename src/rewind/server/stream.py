"""A run's SSE events, projected from its log: live, replayed, or resumed after any id.

Every SSE event comes from one log event: the ``k``-th SSE event made from the run's event
``seq`` has the id ``{seq:010d}-{k:06d}`` (``metadata`` is the first one made from
``run.started``). Ids are unique, increase along the stream, compare as strings and as numbers,
and depend only on the log and the run's stream modes, so a client that reconnects with
``Last-Event-ID`` gets the events after that id and nothing else, whether the run is still
going or ended long ago. The projections are the ones ``stream`` and ``replay`` use; the stream
is a replay that keeps following the log.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, get_args

from langchain_core.messages import (
    AIMessageChunk,
    BaseMessageChunk,
    ToolMessageChunk,
    convert_to_messages,
    message_chunk_to_message,
)

from rewind.events import EventType, StoredEvent
from rewind.log import EventLog, RunRecord
from rewind.projections.modes import of_subgraph
from rewind.projections.stream import Item
from rewind.replay import RunStream
from rewind.server.models import StreamMode

if TYPE_CHECKING:
    from rewind.server.runs import LiveFeed

__all__ = [
    "API_MODES",
    "RunProjection",
    "SseEvent",
    "format_event",
    "parse_event_id",
    "projected_modes",
    "run_events",
]

API_MODES: tuple[str, ...] = get_args(StreamMode)
"""The stream modes the API accepts (the reference server's names)."""

_EXPOSED_ERRORS = frozenset(
    {
        "ValueError",
        "TypeError",
        "KeyError",
        "AttributeError",
        "RuntimeError",
        "RecursionError",
        "TimeoutError",
        "InvalidUpdateError",
        "GraphBubbleUp",
        "EmptyInputError",
        "TaskNotFound",
        "HTTPException",
        "UserInterrupt",
        "GraphRecursionError",
        "ProcessDied",
        "WorkerLost",
    }
)
"""Exception classes whose message an error event shows (as the reference server's list, and
rewind's own ends of a run whose process died: their messages are rewind's words)."""

_ID = re.compile(r"^(\d+)-(\d+)$")

SseEvent = tuple[tuple[int, int], str, Any]
"""((seq, k), event name, data)."""


def event_id(key: tuple[int, int]) -> str:
    """The SSE id of the ``k``-th event made from log event ``seq``."""
    return f"{key[0]:010d}-{key[1]:06d}"


def parse_event_id(value: str | None) -> tuple[int, int] | None:
    """The (seq, k) of a ``Last-Event-ID``; ``None`` (replay everything) for any other value
    (``-1`` and ``0``, which the reference documents as "from the start", included)."""
    if not value:
        return None
    match = _ID.match(value.strip())
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def format_event(name: str, data: str, key: tuple[int, int] | None) -> bytes:
    """One SSE block: CRLF line ends, one data line, the id last (as the reference)."""
    name = name.replace("\r", "").replace("\n", "")
    block = f"event: {name}\r\ndata: {data}\r\n"
    if key is not None:
        block += f"id: {event_id(key)}\r\n"
    return (block + "\r\n").encode()


def _error_data(error: Any) -> dict[str, Any]:
    error = error if isinstance(error, dict) else {}
    kind = str(error.get("type") or error.get("error") or "Exception")
    message = str(error.get("message") or "")
    if kind not in _EXPOSED_ERRORS:
        message = "An internal error occurred"
    return {"error": kind, "message": message}


class RunProjection:
    """Turns one run's events, in seq order, into its SSE events (a pure fold but for setup)."""

    def __init__(
        self,
        run_id: str,
        api_modes: Iterable[str],
        *,
        subgraphs: bool,
        shown_id: str | None = None,
        attempt: int = 1,
    ) -> None:
        self.run_id = run_id
        self.shown_id = shown_id or run_id
        """The run id the stream's ``metadata`` shows (the queued run an attempt is of)."""
        self.attempt = attempt
        self.api_modes = tuple(api_modes) or ("values",)
        """The API's stream modes (``messages`` and ``messages-tuple`` are two shapes)."""
        self.modes = projected_modes(self.api_modes)
        self.subgraphs = subgraphs
        self._stream = RunStream(run_id, self.modes, subgraphs=subgraphs)
        self._messages: dict[str, Any] = {}
        self.stateless = False
        """A thread-less run whose thread goes with it (as its ``run.started`` records it):
        LangGraph's server runs those without a checkpointer, so their streams show no
        checkpoint (no ``checkpoints`` event, no ``debug`` one of type ``checkpoint``)."""

    async def prepare(self, log: EventLog) -> RunRecord:
        """Read what the run starts from: the thread's state at its origin checkpoint."""
        return await self._stream.prepare(log)

    def feed(self, event: StoredEvent) -> list[SseEvent]:
        """The SSE events one log event makes, with their ids."""
        out: list[tuple[str, Any]] = []
        if event.type == EventType.RUN_STARTED:
            out.append(("metadata", {"run_id": self.shown_id, "attempt": self.attempt}))
            self.stateless = _stateless(event.payload)
        items = self._stream.feed(event)
        if self._stream.projector is None:  # a log that does not open with run.started
            return []
        own = event.type != EventType.REMOTE_CHUNK  # (a RemoteGraph's are its server's)
        for item in items:
            if self.stateless and own and _checkpoint_item(item):
                continue
            out += self._shaped(item)
        if event.type == EventType.RUN_ENDED and (event.payload or {}).get("status") == "error":
            out.append(("error", _error_data(event.payload.get("error"))))
        return [((event.seq, k), name, data) for k, (name, data) in enumerate(out)]

    def _shaped(self, item: Item) -> list[tuple[str, Any]]:
        mode, ns, chunk = item
        if mode == "events":  # LangChain's protocol: subgraphs' events carry their own ids
            return [] if _root_stream(chunk, ns) else [("events", chunk)]
        if not self.subgraphs and of_subgraph(ns):
            return []
        suffix = "".join(f"|{part}" for part in ns)
        if mode == "messages":  # (as LangGraph's server: the tuples when both are asked for)
            if "messages-tuple" in self.api_modes:
                return [(f"messages{suffix}", list(chunk))]
            return self._message_events(chunk)
        if mode == "debug" and chunk.get("type") == "checkpoint":
            chunk = {**chunk, "payload": _debug_checkpoint(chunk["payload"])}
        return [(f"{mode}{suffix}", _errors_shown(mode, chunk))]

    def _message_events(self, chunk: Any) -> list[tuple[str, Any]]:
        message, metadata = chunk
        forwarded = isinstance(message, dict)  # a RemoteGraph's chunk, as its server sent it
        if forwarded:
            message = _message_of(message)
        out: list[tuple[str, Any]] = []
        key = getattr(message, "id", None) or ""
        if key not in self._messages:
            out.append(("messages/metadata", {key: {"metadata": metadata}}))
            self._messages[key] = None
        if isinstance(message, BaseMessageChunk):
            so_far = self._messages[key]
            so_far = message if so_far is None else so_far + message
            self._messages[key] = so_far
            shown = so_far if forwarded else message_chunk_to_message(so_far)
            out.append(("messages/partial", [shown]))
        else:
            out.append(("messages/complete", [message]))
        return out


def _message_of(data: dict[str, Any]) -> Any:
    """A forwarded message (a dict) as LangGraph's server reads one: a chunk by its ``type``
    or ``role`` (an AI or tool chunk by its role only, else a plain ``BaseMessageChunk``),
    other messages by ``convert_to_messages``."""
    kind, role = str(data.get("type") or "").lower(), str(data.get("role") or "").lower()
    if "chunk" in kind or "chunk" in role:
        if "ai" in role:
            return AIMessageChunk(**data)
        if "tool" in role:
            return ToolMessageChunk(**data)
        return BaseMessageChunk(**data)
    return convert_to_messages([data])[0]


def _errors_shown(mode: str, chunk: Any) -> Any:
    """A chunk with its tasks' errors as LangGraph's server serialises an exception: the
    message of an error not in its list of exposed ones hidden (``tasks`` and ``debug`` task
    results, the tasks of ``checkpoints`` and ``debug`` checkpoints)."""
    if not isinstance(chunk, dict):
        return chunk
    if mode == "tasks":
        return _task_error_shown(chunk)
    if mode == "checkpoints":
        return _tasks_errors_shown(chunk)
    if mode == "debug" and isinstance(chunk.get("payload"), dict):
        payload = chunk["payload"]
        if chunk.get("type") == "task_result":
            return {**chunk, "payload": _task_error_shown(payload)}
        if chunk.get("type") == "checkpoint":
            return {**chunk, "payload": _tasks_errors_shown(payload)}
    return chunk


def _tasks_errors_shown(payload: dict[str, Any]) -> dict[str, Any]:
    tasks = payload.get("tasks")
    if not isinstance(tasks, list):
        return payload
    return {**payload, "tasks": [_task_error_shown(t) for t in tasks]}


def _task_error_shown(task: Any) -> Any:
    error = task.get("error") if isinstance(task, dict) else None
    if isinstance(error, BaseException):
        error = {"error": type(error).__name__, "message": str(error)}
    if not isinstance(error, dict) or "message" not in error:
        return task
    return {**task, "error": _error_data(error)}


def _debug_checkpoint(payload: dict[str, Any]) -> dict[str, Any]:
    """A ``debug`` checkpoint's payload as LangGraph's server sends it: with ``checkpoint``
    and ``parent_checkpoint`` (its configs' ids), and a task's subgraph ``state`` config as
    its ``checkpoint``."""
    tasks = []
    for task in payload["tasks"]:
        state = task.get("state")
        if isinstance(state, dict) and state.get("configurable"):
            task = {k: v for k, v in task.items() if k != "state"}
            task["checkpoint"] = state["configurable"]
        tasks.append(task)
    return {
        **payload,
        "checkpoint": _config_checkpoint(payload.get("config")),
        "parent_checkpoint": _config_checkpoint(payload.get("parent_config")),
        "tasks": tasks,
    }


def _config_checkpoint(config: Any) -> dict[str, Any] | None:
    """A config's checkpoint ids (LangGraph's server's ``runnable_config_to_checkpoint``):
    ``None`` unless it names a thread and a checkpoint."""
    configurable = (config or {}).get("configurable") or {}
    if not configurable.get("thread_id") or not configurable.get("checkpoint_id"):
        return None
    out = {"checkpoint_id": configurable["checkpoint_id"], "thread_id": configurable["thread_id"]}
    if "checkpoint_ns" in configurable:
        out["checkpoint_ns"] = configurable["checkpoint_ns"] or ""
    if "checkpoint_map" in configurable:
        out["checkpoint_map"] = configurable["checkpoint_map"]
    return out


def _stateless(started: Any) -> bool:
    config = (started or {}).get("config") or {}
    recorded = (config.get("configurable") or {}).get("rewind_stream")
    return isinstance(recorded, dict) and bool(recorded.get("stateless"))


def _checkpoint_item(item: Item) -> bool:
    mode, _, chunk = item
    if mode == "checkpoints":
        return True
    return mode == "debug" and isinstance(chunk, dict) and chunk.get("type") == "checkpoint"


def _root_stream(chunk: Any, ns: tuple[str, ...]) -> bool:
    """The root graph's own ``on_chain_stream``, which the reference server leaves out."""
    return chunk.get("event") == "on_chain_stream" and not ns and not chunk.get("parent_ids")


def projected_modes(api_modes: Iterable[str]) -> list[str]:
    """The projections (rewind's mode names) that the API's stream modes need, in order."""
    return list(dict.fromkeys("messages" if m.startswith("messages") else m for m in api_modes))


async def run_events(
    log: EventLog,
    run_id: str,
    api_modes: Iterable[str],
    *,
    subgraphs: bool,
    after: tuple[int, int] | None = None,
    after_seq: int | None = None,
    feed: LiveFeed | None = None,
) -> AsyncIterator[SseEvent]:
    """A run's SSE events from its log: stored, then live until its ``run.ended``.

    Args:
        after: Only the events after this id (a ``Last-Event-ID``).
        after_seq: Only the events made from log events after this seq (a join that attaches
            to a running run sees what happens from then on).
        feed: The run's live feed, when this process is running it.
    """
    projection = RunProjection(run_id, api_modes, subgraphs=subgraphs)
    events: AsyncIterator[StoredEvent]
    started = feed.events[0].payload if feed is not None and feed.events else None
    if feed is not None and isinstance(started, dict) and "origin" not in started:
        # Running here, from a fresh thread: the runtime's own record of it, no log read.
        events = _from_feed(feed, run_id, str(started.get("thread_id")), 0)
    else:
        record = await projection.prepare(log)
        if feed is not None:
            events = _from_feed(feed, run_id, record.thread_id, record.first_position)
        else:
            events = log.subscribe(run_id=run_id)
    async for event in events:
        if after_seq is not None and event.seq <= after_seq:
            projection.feed(event)  # the projections still need it
            continue
        for key, name, data in projection.feed(event):
            if after is None or key > after:
                yield key, name, data


async def _from_feed(
    feed: LiveFeed, run_id: str, thread_id: str, first_position: int
) -> AsyncIterator[StoredEvent]:
    """The feed's events as the log will hold them (the position is a stand-in that keeps the
    run's order and sorts after the thread's earlier runs)."""
    async for seq, event in feed.follow():
        yield StoredEvent(
            run_id=run_id,
            thread_id=thread_id,
            seq=seq,
            position=first_position + seq,
            type=event.type,
            payload=event.payload,
            ts=event.ts or datetime.now(UTC),
            step=event.step,
            ns=event.ns,
            node=event.node,
            task_id=event.task_id,
            hash=b"",
        )
