"""LangGraph's helpers of the ``debug`` stream mode (``langgraph.pregel.debug``): the payloads
of its ``task``, ``task_result`` and ``checkpoint`` events, built from tasks, their writes
and channels as LangGraph builds them. rewind's own ``debug`` mode is a projection of the log
(:mod:`rewind.projections.modes`); these are for code that builds such payloads itself."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from rewind.channels import BaseChannel
from rewind.projections.modes import EXCLUDED_METADATA_KEYS
from rewind.types import PregelTask

_ERROR = "__error__"
_INTERRUPT = "__interrupt__"
_RETURN = "__return__"
_HIDDEN = "langsmith:hidden"

COLOR_MAPPING = {
    "black": "0;30",
    "red": "0;31",
    "green": "0;32",
    "yellow": "0;33",
    "blue": "0;34",
    "magenta": "0;35",
    "cyan": "0;36",
    "white": "0;37",
    "gray": "1;30",
}
"""ANSI colour codes by name."""


def map_debug_tasks(tasks: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """The ``task`` payloads of ``tasks`` (objects with ``id``, ``name``, ``input``,
    ``triggers`` and ``config``), but hidden ones; their metadata and tags, LangGraph's own
    keys left out."""
    for task in tasks:
        config = getattr(task, "config", None)
        if config is not None and _HIDDEN in config.get("tags", []):
            continue
        payload: dict[str, Any] = {
            "id": task.id,
            "name": task.name,
            "input": task.input,
            "triggers": task.triggers,
        }
        if config is not None:
            metadata = {
                k: v
                for k, v in (config.get("metadata") or {}).items()
                if k not in EXCLUDED_METADATA_KEYS
            }
            tags = [t for t in config.get("tags") or () if not t.startswith("seq:step")]
            if tags:
                metadata["tags"] = tags
            if metadata:
                payload["metadata"] = metadata
        yield payload


def is_multiple_channel_write(value: Any) -> bool:
    """Whether ``value`` already wraps several writes to one channel (``{"$writes": [...]}``)."""
    return isinstance(value, dict) and "$writes" in value and isinstance(value["$writes"], list)


def map_task_result_writes(writes: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """A task's writes as a result dict: ``{channel: write}``, or ``{channel: {"$writes":
    [write1, write2, ...]}}`` for a channel written more than once."""
    result: dict[str, Any] = {}
    for channel, value in writes:
        existing = result.get(channel)
        if existing is not None:
            many = existing["$writes"] if is_multiple_channel_write(existing) else [existing]
            many.append(value)
            result[channel] = {"$writes": many}
        else:
            result[channel] = value
    return result


def map_debug_task_results(
    task_tup: tuple[Any, Sequence[tuple[str, Any]]], stream_keys: str | Sequence[str]
) -> Iterator[dict[str, Any]]:
    """The ``task_result`` payload of a task and its writes (those to ``stream_keys``)."""
    keys = [stream_keys] if isinstance(stream_keys, str) else stream_keys
    task, writes = task_tup
    yield {
        "id": task.id,
        "name": task.name,
        "error": next((w[1] for w in writes if w[0] == _ERROR), None),
        "result": map_task_result_writes([w for w in writes if w[0] in keys or w[0] == _RETURN]),
        "interrupts": [
            dataclasses.asdict(v)
            for w in writes
            if w[0] == _INTERRUPT
            for v in (w[1] if isinstance(w[1], Sequence) else [w[1]])
        ],
    }


def rm_pregel_keys(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``config``'s ``configurable`` without LangGraph's internal ``__pregel_*`` keys."""
    if config is None:
        return None
    return {
        "configurable": {
            k: v
            for k, v in (config.get("configurable") or {}).items()
            if not k.startswith("__pregel_")
        }
    }


def map_debug_checkpoint(
    config: Mapping[str, Any],
    channels: Mapping[str, BaseChannel[Any, Any, Any]],
    stream_channels: str | Sequence[str],
    metadata: Mapping[str, Any],
    tasks: Iterable[Any],
    pending_writes: list[tuple[str, str, Any]],
    parent_config: Mapping[str, Any] | None,
    output_keys: str | Sequence[str],
) -> Iterator[dict[str, Any]]:
    """The ``checkpoint`` payload of a checkpoint: its configs, the ``stream_channels`` that
    have a value, its metadata, and its next tasks with their writes so far."""
    tasks = list(tasks)
    keys = [stream_channels] if isinstance(stream_channels, str) else stream_channels
    values = {k: channels[k].get() for k in keys if k in channels and channels[k].is_available()}
    out_tasks = []
    for t in tasks_w_writes(tasks, pending_writes, None, output_keys):
        interrupts = tuple(dataclasses.asdict(i) for i in t.interrupts)
        if t.error:
            out_tasks.append({"id": t.id, "name": t.name, "error": t.error, "state": t.state})
        elif t.result:
            out_tasks.append(
                {
                    "id": t.id,
                    "name": t.name,
                    "result": t.result,
                    "interrupts": interrupts,
                    "state": t.state,
                }
            )
        else:
            out_tasks.append(
                {"id": t.id, "name": t.name, "interrupts": interrupts, "state": t.state}
            )
    yield {
        "config": rm_pregel_keys(config),
        "parent_config": rm_pregel_keys(parent_config),
        "values": values if not isinstance(stream_channels, str) else values.get(stream_channels),
        "metadata": dict(metadata),
        "next": [t.name for t in tasks],
        "tasks": out_tasks,
    }


def tasks_w_writes(
    tasks: Iterable[Any],
    pending_writes: list[tuple[str, str, Any]] | None,
    states: Mapping[str, Any] | None,
    output_keys: str | Sequence[str],
    *,
    live: bool = False,
) -> tuple[PregelTask, ...]:
    """``tasks`` as a ``StateSnapshot`` lists them, with what ``pending_writes`` (``(task_id,
    channel, value)``) say each did: its error, interrupts and result (its writes to
    ``output_keys``, or what it returned); ``live`` is accepted for LangGraph's signature."""
    out = []
    for task in tasks:
        mine = [(c, v) for tid, c, v in pending_writes or () if tid == task.id]
        error = next((v for c, v in mine if c == _ERROR), None)
        interrupts = tuple(
            i for c, v in mine if c == _INTERRUPT for i in (v if isinstance(v, Sequence) else [v])
        )
        writes = [(c, v) for c, v in mine if c not in (_ERROR, _INTERRUPT, _RETURN)]
        returned = [v for c, v in mine if c == _RETURN]
        finished = bool(writes or returned) and error is None and not interrupts
        if returned:
            result: Any = returned[0]
        elif isinstance(output_keys, str):
            mapped = map_task_result_writes([(c, v) for c, v in writes if c == output_keys])
            result = mapped.get(output_keys) if mapped else None
        else:
            result = map_task_result_writes([(c, v) for c, v in writes if c in output_keys])
        out.append(
            PregelTask(
                task.id,
                task.name,
                tuple(task.path),
                error,
                interrupts,
                states.get(task.id) if states else None,
                result if finished else None,
            )
        )
    return tuple(out)


def get_colored_text(text: str, color: str) -> str:
    """``text`` in an ANSI colour (a key of :data:`COLOR_MAPPING`)."""
    return f"\033[1;3{COLOR_MAPPING[color]}m{text}\033[0m"


def get_bolded_text(text: str) -> str:
    """``text`` in ANSI bold."""
    return f"\033[1m{text}\033[0m"
