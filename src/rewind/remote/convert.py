"""What RemoteGraph sends and what it makes of the answers: configs, checkpoints, state
snapshots and stream chunks (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from rewind.errors import GraphInterrupt, ParentCommand
from rewind.types import Command, Interrupt, PregelTask, StateSnapshot

NS_SEP = "|"
STREAM_KEY = "__pregel_stream"
"""The ``configurable`` key of the parent's stream (LangGraph's ``CONFIG_KEY_STREAM``)."""
INTERRUPT = "__interrupt__"
_NOT_SENT = frozenset(
    ("checkpoint_map", "checkpoint_id", "checkpoint_ns", "__pregel_task_id", "__pregel_strict")
)


class RemoteException(Exception):
    """The remote graph's run failed (its ``error`` event's data is the argument)."""


def merge_configs(*configs: Mapping[str, Any] | None) -> dict[str, Any]:
    """Configs merged as LangGraph merges them: empty values skipped, metadata, tags and
    ``configurable`` combined, the rest replaced; ``configurable`` always there."""
    base: dict[str, Any] = {}
    for config in configs:
        for key, value in (config or {}).items():
            if not value:
                continue
            if key in ("metadata", "configurable"):
                base[key] = {**base.get(key, {}), **value}
            elif key == "tags":
                base[key] = [*base.get(key, []), *value]
            else:
                base[key] = value
    base.setdefault("configurable", {})
    return base


def _plain(value: Any) -> Any:
    """A config value as JSON can carry it (``None`` for what it cannot)."""
    if isinstance(value, str | int | float | bool | UUID):
        return value
    if isinstance(value, dict):
        out = {k: _plain(v) for k, v in value.items() if isinstance(k, str)}
        return {k: v for k, v in out.items() if v is not None}
    if isinstance(value, list | tuple):
        return [p for p in (_plain(v) for v in value) if p is not None]
    return None


def sanitize_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a config the server can take: limits, string tags, plain metadata and
    configurable values (not the caller's checkpoint position)."""
    out: dict[str, Any] = {}
    if "recursion_limit" in config:
        out["recursion_limit"] = config["recursion_limit"]
    if "tags" in config:
        out["tags"] = [tag for tag in config["tags"] if isinstance(tag, str)]
    if "metadata" in config:
        out["metadata"] = _plain(dict(config["metadata"]))
    if "configurable" in config:
        configurable = {k: v for k, v in config["configurable"].items() if k not in _NOT_SENT}
        out["configurable"] = _plain(configurable)
    return out


def checkpoint_of(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The SDK's checkpoint for a config (``None`` when it names none), as LangGraph's
    RemoteGraph sends it."""
    if config is None:
        return None
    configurable = config.get("configurable") or {}
    keys = ("thread_id", "checkpoint_ns", "checkpoint_id", "checkpoint_map")
    checkpoint = {k: configurable[k] for k in keys if k in configurable}
    return checkpoint or None


def config_of(checkpoint: Mapping[str, Any]) -> dict[str, Any]:
    """The config that names an SDK checkpoint (a state read at a checkpoint id comes back
    without a namespace from LangGraph's server: the root's, ``""``)."""
    return {
        "configurable": {
            "thread_id": checkpoint["thread_id"],
            "checkpoint_ns": checkpoint.get("checkpoint_ns", ""),
            "checkpoint_id": checkpoint["checkpoint_id"],
            "checkpoint_map": checkpoint.get("checkpoint_map", {}),
        }
    }


def snapshot_of(state: Mapping[str, Any]) -> StateSnapshot:
    """A :class:`StateSnapshot` of the server's thread state."""
    tasks = []
    for task in state["tasks"]:
        interrupts = tuple(Interrupt(**i) for i in task["interrupts"])
        nested: Any = None
        if task.get("state"):
            nested = snapshot_of(task["state"])
        elif task.get("checkpoint"):
            nested = {"configurable": task["checkpoint"]}
        tasks.append(
            PregelTask(
                id=task["id"],
                name=task["name"],
                path=(),
                error=Exception(task["error"]) if task.get("error") else None,
                interrupts=interrupts,
                state=nested,
                result=task.get("result"),
            )
        )
    parent = state.get("parent_checkpoint")
    return StateSnapshot(
        values=state["values"],
        next=tuple(state["next"] or ()),
        config=config_of(state["checkpoint"]),  # type: ignore[arg-type]
        metadata=dict(state["metadata"] or {}),
        created_at=state["created_at"],
        parent_config=config_of(parent) if parent else None,  # type: ignore[arg-type]
        tasks=tuple(tasks),
        interrupts=tuple(i for t in tasks for i in t.interrupts),
    )


@dataclass(kw_only=True)
class StreamPlan:
    """What a stream asks the server for, and what it gives its caller."""

    sent: list[str]
    """The modes asked of the server (with ``updates``, to see interrupts)."""
    requested: list[str]
    """The modes the caller asked for."""
    single: bool
    """Whether the caller asked for one mode (chunks without the mode)."""
    subgraphs: bool
    """Whether the caller asked for subgraphs' chunks."""
    version: str
    """``v1`` or ``v2`` (typed parts)."""
    caller_ns: tuple[str, ...] = field(default=())
    """The namespace of the node this graph runs as (empty at the top)."""
    forward: Any = None
    """The parent's stream, when this graph runs inside a task of a run streamed with
    ``subgraphs=True`` (LangGraph's ``CONFIG_KEY_STREAM``: its ``modes``, and a callable
    taking ``(namespace, mode, chunk)``): the remote run's chunks of those modes go to it."""

    @property
    def stream_subgraphs(self) -> bool:
        """Whether the server is asked for its subgraphs' chunks: for the caller, or for the
        parent's stream."""
        return self.subgraphs or self.forward is not None


def plan_stream(
    stream_mode: Any,
    config: Mapping[str, Any] | None,
    *,
    subgraphs: bool,
    version: str,
    default: str = "updates",
) -> StreamPlan:
    """The modes to ask for, as LangGraph's RemoteGraph asks: the caller's, the parent's
    stream's (when run inside a task of a run streamed with subgraphs), ``messages`` as
    ``messages-tuple``, and ``updates`` (to see interrupts); not ``events``."""
    if not stream_mode:
        sent, single = [default], True
    elif isinstance(stream_mode, str):
        sent, single = [stream_mode], True
    else:
        sent, single = list(stream_mode), False
    requested = list(sent)
    configurable = (config or {}).get("configurable") or {}
    forward = configurable.get(STREAM_KEY)
    if forward is not None:
        sent += sorted(forward.modes)
    # (LangGraph's list operations: each replaces or removes one occurrence)
    if "messages" in sent:
        sent.remove("messages")
        sent.append("messages-tuple")
    if "messages-tuple" in requested:
        requested.remove("messages-tuple")
        requested.append("messages")
    if "updates" not in sent:
        sent.append("updates")
    if "events" in sent:
        sent.remove("events")
    caller_ns = configurable.get("checkpoint_ns") or ""
    return StreamPlan(
        sent=sent,
        requested=requested,
        single=single,
        subgraphs=subgraphs,
        version=version,
        caller_ns=tuple(caller_ns.split(NS_SEP)) if caller_ns else (),
        forward=forward,
    )


_SKIP = object()


def chunk_out(plan: StreamPlan, part: Any) -> Any:
    """What the caller gets for one of the SDK's stream parts (``_SKIP`` for nothing), having
    handed it to the parent's stream if that shows its mode; raises for an error, a command to
    the parent graph, or an interrupt when running as a node."""
    event, data = part.event, part.data
    mode, _, ns_text = event.partition(NS_SEP)
    ns = plan.caller_ns + (tuple(ns_text.split(NS_SEP)) if ns_text else ())
    if mode == "command" and isinstance(data, dict) and data.get("graph") == Command.PARENT:
        raise ParentCommand(Command(**data))
    if plan.forward is not None and mode in plan.forward.modes:
        plan.forward((ns, mode, data))
    if mode == "error":
        raise RemoteException(data)
    if mode == "updates" and isinstance(data, dict) and INTERRUPT in data and plan.caller_ns:
        raise GraphInterrupt([Interrupt(**i) for i in data[INTERRUPT]])
    if mode not in plan.requested:
        return _SKIP
    if not plan.subgraphs and ns_text and mode != "messages":
        return _SKIP
    if mode == "messages":
        data = tuple(data)
        part = part._replace(data=data)
    if plan.version == "v2":
        interrupts: tuple[Any, ...] = ()
        if mode == "values" and isinstance(data, dict):
            data = dict(data)  # (the parent's stream may hold the chunk as it came)
            interrupts = tuple(
                Interrupt(**i) if isinstance(i, dict) else i for i in data.pop(INTERRUPT, ())
            )
        return {"type": mode, "ns": ns, "data": data, "interrupts": interrupts}
    if plan.subgraphs:
        return (ns, data) if plan.single else (ns, mode, data)
    return data if plan.single else part  # the SDK's part, as LangGraph's RemoteGraph gives


def is_skip(value: Any) -> bool:
    """Whether :func:`chunk_out` gave nothing."""
    return value is _SKIP
