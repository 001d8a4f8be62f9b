"""What the run page shows, made from a run's events: pure functions, no I/O.

Each function takes stored events (or folded checkpoints) and returns plain JSON data: the
event list's rows, the timeline's bars, the chat-model calls with their tokens, and the change
from one checkpoint's state to the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from rewind.events import EventType, Redacted, RunStatus, StoredEvent, fields_of
from rewind.log import RunRecord
from rewind.server.wire import jsonable

__all__ = [
    "TIMELINE_TYPES",
    "chat_calls",
    "diff_values",
    "event_row",
    "run_row",
    "summary_of",
    "timeline",
]

TIMELINE_TYPES = frozenset(
    {
        EventType.RUN_STARTED,
        EventType.RUN_ENDED,
        EventType.TASK_STARTED,
        EventType.TASK_ENDED,
        EventType.TASK_FAILED,
        EventType.CHAT_STARTED,
        EventType.CHAT_ENDED,
        EventType.TOOL_STARTED,
        EventType.TOOL_ENDED,
        EventType.INTERRUPT,
        EventType.RESUME,
        EventType.CHECKPOINT,
    }
)
"""The event types the timeline is drawn from (tokens and writes are left to the event list)."""

_SUMMARY_LIMIT = 160


def _ms(ts: datetime) -> float:
    return ts.timestamp() * 1000.0


def run_row(record: RunRecord) -> dict[str, Any]:
    """One run as the runs list shows it."""
    return {
        "run_id": record.run_id,
        "thread_id": record.thread_id,
        "graph": record.graph_name,
        "status": str(record.status),
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "events": record.last_seq + 1,
        "origin_run_id": record.origin_run_id,
        "origin_checkpoint_id": record.origin_checkpoint_id,
        "live": record.status == RunStatus.RUNNING,
    }


def event_row(event: StoredEvent) -> dict[str, Any]:
    """One event as the event list shows it: where it is and a one-line summary (a token's
    whole text too, and its call, for the live token playback)."""
    row = {
        "seq": event.seq,
        "position": event.position,
        "type": event.type,
        "ts": _ms(event.ts),
        "step": event.step,
        "ns": event.ns,
        "node": event.node,
        "task_id": event.task_id,
        "summary": summary_of(event),
    }
    if event.type == EventType.CHAT_TOKEN:
        p = fields_of(event.payload)
        row["text"] = str(p.get("token", ""))
        row["call_id"] = str(p.get("run_id"))
    return row


def _short(value: Any) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(jsonable(value), ensure_ascii=False)
    return text if len(text) <= _SUMMARY_LIMIT else text[: _SUMMARY_LIMIT - 1] + "…"


def summary_of(event: StoredEvent) -> str:
    """A one-line account of an event (a redacted payload reads ``[redacted]``)."""
    if isinstance(event.payload, Redacted):
        return str(event.payload)
    p = fields_of(event.payload)
    kind = event.type
    if kind == EventType.RUN_STARTED:
        return f"graph {p.get('graph')} on thread {event.thread_id}"
    if kind == EventType.RUN_ENDED:
        error = p.get("error") or {}
        said = f": {error.get('type')}: {error.get('message')}" if error else ""
        return str(p.get("status")) + said
    if kind == EventType.TASK_ENDED:
        return _short(p["return"] if "return" in p else p.get("update"))
    if kind == EventType.TASK_FAILED:
        return f"{p.get('type')}: {p.get('message')} (attempt {p.get('attempt', 1)})"
    if kind == EventType.CHAT_TOKEN:
        return _short(str(p.get("token", "")))
    if kind == EventType.CHAT_STARTED:
        return model_name(p)
    if kind == EventType.TOOL_STARTED:
        return f"{p.get('name')}({_short(p.get('input'))})"
    if kind == EventType.TOOL_ENDED:
        return _short(getattr(p.get("output"), "content", p.get("output")))
    if kind == EventType.CHECKPOINT:
        nxt = ", ".join(t["name"] for t in p.get("next") or ()) or "-"
        return f"{p.get('id')} next: {nxt}"
    if kind == EventType.INTERRUPT:
        return _short([getattr(i, "value", i) for i in p.get("interrupts") or ()])
    if kind == EventType.CHAT_ENDED:
        return _ended_call(p)
    if kind == EventType.CHAIN_STARTED:  # a runnable run inside a node: a prompt, a parser...
        return f"{p.get('run_type')} {p.get('name')}"
    if kind == EventType.CHAIN_CHUNK:
        return _short(p.get("chunk"))
    if kind == EventType.CHAIN_ENDED:
        error = p.get("error")
        if isinstance(error, Mapping):
            return f"{error.get('type')}: {error.get('message')}"
        return _short(p.get("output"))
    if kind == EventType.TASK_STARTED:
        return ""
    if kind == EventType.REMOTE_CHUNK:  # a RemoteGraph's chunk, forwarded into the stream
        return f"{p.get('mode')} {_short(p.get('chunk'))}"
    return _short(event.payload)


def _ended_call(payload: Mapping[str, Any]) -> str:
    """A chat model's end: its reply's finish reason and usage."""
    said = []
    for generation in payload.get("generations") or ():
        for message in generation or ():
            meta = getattr(message, "response_metadata", None) or {}
            if meta.get("finish_reason"):
                said.append(f"finish {meta['finish_reason']}")
            usage = getattr(message, "usage_metadata", None) or {}
            said += [f"{k} {v}" for k, v in usage.items() if isinstance(v, int)]
    return ", ".join(said)


def model_name(payload: Mapping[str, Any]) -> str:
    """The model a ``chat.started`` payload names."""
    params = payload.get("invocation_params") or {}
    serialized = payload.get("serialized") or {}
    metadata = payload.get("metadata") or {}
    return str(
        params.get("model")
        or params.get("model_name")
        or metadata.get("ls_model_name")
        or serialized.get("name")
        or "chat model"
    )


def timeline(events: Iterable[StoredEvent]) -> dict[str, Any]:
    """The run's tasks as bars (a row per concurrently running task, a subgraph's tasks in
    rows nested under the task that ran it), with the chat-model and tool calls inside them
    and the marks (retries, failures, interrupts, resumes)."""
    bars: list[dict[str, Any]] = []
    open_tasks: dict[tuple[str | None, str | None], dict[str, Any]] = {}
    open_calls: dict[str, dict[str, Any]] = {}
    marks: list[dict[str, Any]] = []
    start = end = None
    for event in events:
        t = _ms(event.ts)
        start = t if start is None else start
        end = t
        p = fields_of(event.payload)
        key = (event.ns, event.task_id)
        if event.type == EventType.TASK_STARTED:
            bar: dict[str, Any] = {
                "task_id": event.task_id,
                "node": event.node,
                "ns": event.ns,
                "depth": len(event.ns.split("|")) if event.ns else 0,
                "step": event.step,
                "start": t,
                "end": None,
                "outcome": "running",
                "calls": [],
                "attempts": 1,
                "seq": event.seq,
                "cached": bool(p.get("cached")),
            }
            earlier = open_tasks.get(key)
            if earlier is not None and earlier["outcome"] == "failed":
                bar["attempts"] = earlier["attempts"] + 1
            open_tasks[key] = bar
            bars.append(bar)
        elif event.type in (EventType.TASK_ENDED, EventType.TASK_FAILED, EventType.INTERRUPT):
            _end_task(open_tasks.get(key), event, t, marks)
        elif event.type == EventType.RESUME:
            said = p.get("values") if "values" in p else p.get("value")
            marks.append(_mark("resumed", event, t, _short(said)))
        elif event.type in (EventType.CHAT_STARTED, EventType.TOOL_STARTED):
            opened: dict[str, Any] = {
                "kind": "chat" if event.type == EventType.CHAT_STARTED else "tool",
                "name": model_name(p) if event.type == EventType.CHAT_STARTED else p.get("name"),
                "start": t,
                "end": None,
                "seq": event.seq,
            }
            open_calls[str(p.get("run_id"))] = opened
            holder = open_tasks.get(key)
            if holder is not None:
                holder["calls"].append(opened)
        elif event.type in (EventType.CHAT_ENDED, EventType.TOOL_ENDED):
            call = open_calls.pop(str(p.get("run_id")), None)
            if call is not None:
                call["end"] = t
        elif event.type == EventType.RUN_ENDED:
            marks.append(_mark("ended", event, t, str(p.get("status"))))
    _rows(bars, end)
    return {"start": start, "end": end, "bars": bars, "marks": marks}


_OUTCOMES = {
    EventType.TASK_ENDED: "ok",
    EventType.TASK_FAILED: "failed",
    EventType.INTERRUPT: "interrupted",
}


def _end_task(
    bar: dict[str, Any] | None, event: StoredEvent, t: float, marks: list[dict[str, Any]]
) -> None:
    """A task's end, failure or interrupt: its bar ends there (a failure the task retries
    after is marked, and the bar goes on to the attempt that follows)."""
    p = fields_of(event.payload)
    kind = _OUTCOMES[EventType(event.type)]
    if bar is not None and (bar["end"] is None or bar.get("retrying")):
        if bar.get("retrying"):
            bar["attempts"] += 1
        bar["end"], bar["outcome"] = t, kind
        bar["retrying"] = kind == "failed" and bool(p.get("retrying"))
        if bar["retrying"]:
            bar.setdefault("failures", []).append(t)
    if kind == "failed":
        retried = " (retried)" if p.get("retrying") else ""
        detail = f"{p.get('type')}: {p.get('message')}, attempt {p.get('attempt', 1)}{retried}"
        marks.append(_mark("retried" if p.get("retrying") else "failed", event, t, detail))
    elif kind == "interrupted":
        said = _short([getattr(i, "value", i) for i in p.get("interrupts") or ()])
        marks.append(_mark(kind, event, t, said))


def _mark(kind: str, event: StoredEvent, t: float, detail: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "t": t,
        "seq": event.seq,
        "node": event.node,
        "ns": event.ns,
        "detail": detail,
    }


def _rows(bars: list[dict[str, Any]], now: float | None) -> None:
    """Give each bar its row: a task that ran a subgraph holds the subgraph's tasks in the rows
    under its own (``rows``: how many its block takes; ``parent``: the task a subgraph's task
    is nested in), and tasks of one level that ran at the same time get rows of their own (a
    lane per concurrent task). ``lane`` is the row, as before nesting."""
    by_key = {(b["ns"], b["task_id"]): b for b in bars}
    children: dict[int, list[dict[str, Any]]] = {}
    roots: list[dict[str, Any]] = []
    for bar in bars:
        holder = by_key.get(_parent_key(bar["ns"]))
        bar["parent"] = holder["task_id"] if holder is not None else None
        (children.setdefault(id(holder), []) if holder is not None else roots).append(bar)

    def pack(siblings: list[dict[str, Any]]) -> int:
        """Rows relative to the siblings' first (``row``) for each of them and its nested
        tasks; how many rows they take."""
        tracks: list[list[float]] = []  # [free from, first row, rows]
        total = 0
        for bar in sorted(siblings, key=lambda b: (b["start"], b["seq"])):
            stop = bar["end"] if bar["end"] is not None else (now or bar["start"])
            nested = children.get(id(bar), [])
            height = 1 + pack(nested)
            for track in tracks:
                free, top, rows = track
                last = top + rows == total
                if free <= bar["start"] and (rows >= height or last):
                    if rows < height:  # the last track grows to hold this block
                        total += height - int(rows)
                        track[2] = height
                    track[0] = stop
                    break
            else:
                track = [stop, total, height]
                tracks.append(track)
                total += height
            bar["row"], bar["rows"] = int(track[1]), height
        return total

    def place(siblings: list[dict[str, Any]], top: int) -> None:
        for bar in siblings:
            bar["row"] += top
            bar["lane"] = bar["row"]
            place(children.get(id(bar), []), bar["row"] + 1)

    pack(roots)
    place(roots, 0)


def _parent_key(ns: str | None) -> tuple[str | None, str | None]:
    """The (namespace, task id) of the task that ran the subgraph a namespace is of (its last
    ``node:task_id`` part names it; the parts before, where that task ran)."""
    if not ns:
        return (None, None)
    *outer, last = ns.split("|")
    return ("|".join(outer) or None, last.partition(":")[2] or None)


def chat_calls(events: Iterable[StoredEvent]) -> list[dict[str, Any]]:
    """Each chat-model call with its tokens as streamed (text, milliseconds since the call
    started) and what its end says (usage, finish reason, time to first token)."""
    calls: dict[str, dict[str, Any]] = {}
    order: list[dict[str, Any]] = []
    for event in events:
        p = fields_of(event.payload)
        key = str(p.get("run_id"))
        if event.type == EventType.CHAT_STARTED:
            call: dict[str, Any] = {
                "call_id": key,
                "node": event.node,
                "ns": event.ns,
                "task_id": event.task_id,
                "model": model_name(p),
                "start": _ms(event.ts),
                "seq": event.seq,
                "tokens": [],
                "usage": None,
                "finish_reason": None,
                "ttft": None,
                "end": None,
                "text": "",
            }
            calls[key] = call
            order.append(call)
        elif event.type == EventType.CHAT_TOKEN and key in calls:
            call = calls[key]
            token = str(p.get("token", ""))
            chunk = p.get("chunk")
            tools = [
                f"{c.get('name') or ''}{c.get('args') or ''}"
                for c in getattr(chunk, "tool_call_chunks", None) or ()
            ]
            call["tokens"].append(
                {
                    "seq": event.seq,
                    "t": _ms(event.ts) - call["start"],
                    "text": token,
                    "tools": tools,
                }
            )
            call["text"] += token
        elif event.type == EventType.CHAT_ENDED and key in calls:
            call = calls[key]
            call["end"] = _ms(event.ts)
            call["ttft"] = p.get("time_to_first_token")
            for generation in p.get("generations") or ():
                for message in generation or ():
                    usage = getattr(message, "usage_metadata", None)
                    if usage:
                        call["usage"] = jsonable(usage)
                    meta = getattr(message, "response_metadata", None) or {}
                    call["finish_reason"] = meta.get("finish_reason") or call["finish_reason"]
    return order


def diff_values(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, Any]:
    """How ``after`` differs from ``before``, key by key: ``added``, ``removed``, ``changed``
    (``same`` for the rest); for a list, which items were added, removed or changed (by
    message id where items have one, else by index)."""
    before = before or {}
    keys: dict[str, Any] = {}
    for key in [*after, *(k for k in before if k not in after)]:
        if key not in before:
            keys[key] = {"change": "added"}
        elif key not in after:
            keys[key] = {"change": "removed"}
        elif before[key] == after[key]:
            keys[key] = {"change": "same"}
        elif isinstance(before[key], list) and isinstance(after[key], list):
            keys[key] = {"change": "changed", "items": _list_diff(before[key], after[key])}
        else:
            keys[key] = {"change": "changed"}
    return keys


def _list_diff(before: Sequence[Any], after: Sequence[Any]) -> dict[str, Any]:
    """Per item of ``after``: ``added``, ``changed`` or ``same``; and the removed items."""
    old = {_item_key(item, i): item for i, item in enumerate(before)}
    marks = []
    seen = set()
    for i, item in enumerate(after):
        key = _item_key(item, i)
        seen.add(key)
        if key not in old:
            marks.append("added")
        elif old[key] != item:
            marks.append("changed")
        else:
            marks.append("same")
    removed = [jsonable(item) for k, item in old.items() if k not in seen]
    return {"after": marks, "removed": removed}


def _item_key(item: Any, index: int) -> Any:
    found = getattr(item, "id", None)
    if found is None and isinstance(item, Mapping):
        found = item.get("id")
    return ("id", found) if isinstance(found, str) and found else ("index", index)
