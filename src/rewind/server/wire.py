"""Values as the Platform API puts them on the wire: JSON, LangGraph's server's shapes.

Messages are LangChain's ``model_dump()``; an interrupt in a stream or a run's result is
``{value, id, response_schema}``, in a thread's state ``{id, value}``. Anything the encoder
does not know becomes its ``str()``: a value a graph wrote never turns a response into a 500.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import uuid
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from starlette.requests import HTTPConnection

from rewind.types import Interrupt, Send, StateSnapshot

__all__ = [
    "dumps",
    "empty_state",
    "interrupt_in_state",
    "jsonable",
    "public_url",
    "snapshot_json",
]


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (dicts, lists, strings, numbers, booleans, ``None``)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, Interrupt):
        return {
            "value": jsonable(value.value),
            "id": value.id,
            "response_schema": _schema(value.response_schema),
        }
    if isinstance(value, Send):
        return {"node": value.node, "arg": jsonable(value.arg)}
    if isinstance(value, BaseException):
        return {"error": type(value).__name__, "message": str(value)}
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return jsonable(dump())
        except Exception:  # a model that cannot dump itself: say what it was
            return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)


def _schema(schema: Any) -> Any:
    if schema is None or isinstance(schema, dict):
        return schema
    return getattr(schema, "__name__", str(schema))


def dumps(value: Any) -> str:
    """Compact one-line JSON, as the reference server writes it."""
    return json.dumps(jsonable(value), separators=(",", ":"), ensure_ascii=False)


def interrupt_in_state(value: Interrupt) -> dict[str, Any]:
    """An interrupt as a thread's state shows it."""
    return {"id": value.id, "value": jsonable(value.value)}


def _checkpoint(config: Any) -> dict[str, Any] | None:
    if not config:
        return None
    configurable = config.get("configurable") or {}
    if "checkpoint_id" not in configurable:
        return None
    out = {
        "checkpoint_id": configurable["checkpoint_id"],
        "thread_id": configurable.get("thread_id"),
        "checkpoint_ns": configurable.get("checkpoint_ns") or "",
    }
    if "checkpoint_map" in configurable:  # (a subgraph's, as LangGraph's server shows it)
        out["checkpoint_map"] = jsonable(configurable["checkpoint_map"])
    return out


def snapshot_json(snapshot: StateSnapshot, *, thread_id: str | None = None) -> dict[str, Any]:
    """A state snapshot as the API's ``ThreadState``. With ``thread_id``, its metadata (and
    its subgraphs' states') names the thread, as LangGraph's server's checkpoints all do (its
    checkpointer keeps the run's ``thread_id`` with each)."""
    checkpoint = _checkpoint(snapshot.config)
    parent = _checkpoint(snapshot.parent_config)
    tasks = []
    for task in snapshot.tasks:
        state = task.state
        tasks.append(
            {
                "id": task.id,
                "name": task.name,
                "path": jsonable(task.path),
                "error": None if task.error is None else _error_text(task.error),
                "interrupts": [interrupt_in_state(i) for i in task.interrupts],
                # (a subgraph's state as a config: its configurable, as LangGraph's server)
                "checkpoint": jsonable(state.get("configurable"))
                if isinstance(state, dict)
                else None,
                "state": snapshot_json(state, thread_id=thread_id)
                if isinstance(state, StateSnapshot)
                else None,
                "result": jsonable(task.result),
            }
        )
    metadata = jsonable(snapshot.metadata)
    if thread_id is not None and isinstance(metadata, dict):
        metadata.setdefault("thread_id", thread_id)
    return {
        "values": jsonable(snapshot.values),
        "next": list(snapshot.next),
        "tasks": tasks,
        "metadata": metadata,
        "created_at": snapshot.created_at,
        "checkpoint": checkpoint,
        "parent_checkpoint": parent,
        "interrupts": [interrupt_in_state(i) for i in snapshot.interrupts],
        "checkpoint_id": checkpoint["checkpoint_id"] if checkpoint else None,
        "parent_checkpoint_id": parent["checkpoint_id"] if parent else None,
    }


def empty_state() -> dict[str, Any]:
    """The ``ThreadState`` of a thread that has no checkpoint and no graph yet."""
    return {
        "values": {},
        "next": [],
        "tasks": [],
        "metadata": None,
        "created_at": None,
        "checkpoint": None,
        "parent_checkpoint": None,
        "interrupts": [],
        "checkpoint_id": None,
        "parent_checkpoint_id": None,
    }


def _error_text(error: Any) -> str:
    if isinstance(error, BaseException):
        return f"{type(error).__name__}({str(error)!r})"
    return str(error)


def public_url(request: HTTPConnection) -> str:
    """The server's URL as the client reached it, no trailing slash (behind a proxy, with the
    scheme its ``X-Forwarded-Proto`` names)."""
    url = str(request.base_url).rstrip("/")
    scheme = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return f"{scheme}://{url.split('://', 1)[1]}" if scheme in ("http", "https") else url
