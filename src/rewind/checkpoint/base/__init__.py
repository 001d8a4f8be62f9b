"""LangGraph's checkpoint-saver interface: the checkpoint shapes and ``BaseCheckpointSaver``.

rewind's savers (:class:`~rewind.checkpoint.memory.InMemorySaver`, ``SqliteSaver``,
``PostgresSaver`` and their async forms) are ``BaseCheckpointSaver`` instances whose read side
(``get_tuple``, ``list``, ``get``, ``delete_thread`` and their async twins) answers from the event
log. The write side (``put``, ``put_writes``) is the runtime's: a run appends events, not
checkpoint rows, so those methods raise. A saver of one's own (a subclass of this class that
stores checkpoints elsewhere) cannot be given to ``compile()``: it raises a ``TypeError`` naming
rewind's savers.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import AsyncIterator, Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, Literal, NamedTuple, NotRequired, TypedDict, TypeVar, cast

from rewind.checkpoint.base.id import uuid6
from rewind.checkpoint.serde.base import SerializerProtocol, maybe_add_typed_methods
from rewind.checkpoint.serde.encrypted import EncryptedSerializer
from rewind.checkpoint.serde.jsonplus import JsonPlusSerializer
from rewind.checkpoint.serde.types import (
    ERROR,
    INTERRUPT,
    RESUME,
    SCHEDULED,
    ChannelProtocol,
)
from rewind.errors import EmptyChannelError

__all__ = [
    "EXCLUDED_METADATA_KEYS",
    "LATEST_VERSION",
    "WRITES_IDX_MAP",
    "BaseCheckpointSaver",
    "ChannelVersions",
    "Checkpoint",
    "CheckpointMetadata",
    "CheckpointTuple",
    "DeltaChannelHistory",
    "EmptyChannelError",
    "PendingWrite",
    "copy_checkpoint",
    "create_checkpoint",
    "empty_checkpoint",
    "get_checkpoint_id",
    "get_checkpoint_metadata",
    "get_serializable_checkpoint_metadata",
    "writes_sort_key",
]

logger = logging.getLogger(__name__)

V = TypeVar("V", int, float, str)
PendingWrite = tuple[str, str, Any]
"""``(task id, channel, value)``: a write a task made from a checkpoint."""
Config = Mapping[str, Any]


class CheckpointMetadata(TypedDict, total=False):
    """What is known about a checkpoint besides its state."""

    source: Literal["input", "loop", "update", "fork"]
    """Where it came from: an input, a super-step, ``update_state``, or a copy."""
    step: int
    """Its step (``-1`` for the input checkpoint)."""
    parents: dict[str, str]
    """The enclosing graphs' checkpoint ids, by namespace."""
    run_id: str
    """The run that wrote it."""
    counters_since_delta_snapshot: dict[str, tuple[int, int]]
    """LangGraph's delta channels' counters (not written by rewind)."""


ChannelVersions = dict[str, str | int | float]
"""Per channel: its version."""


class Checkpoint(TypedDict):
    """A graph's state at one point."""

    v: int
    """The format's version."""
    id: str
    """The checkpoint's id (time-ordered)."""
    ts: str
    """When it was written (ISO 8601)."""
    channel_values: dict[str, Any]
    """Per channel: its value."""
    channel_versions: ChannelVersions
    """Per channel: its version."""
    versions_seen: dict[str, ChannelVersions]
    """Per node: the channel versions it has seen."""
    updated_channels: list[str] | None
    """The channels the step that wrote it updated."""


def copy_checkpoint(checkpoint: Checkpoint) -> Checkpoint:
    """A copy whose dicts can be changed without changing ``checkpoint``'s."""
    return cast(
        Checkpoint,
        {
            "v": checkpoint["v"],
            "ts": checkpoint["ts"],
            "id": checkpoint["id"],
            "channel_values": checkpoint["channel_values"].copy(),
            "channel_versions": checkpoint["channel_versions"].copy(),
            "versions_seen": {k: v.copy() for k, v in checkpoint["versions_seen"].items()},
            "pending_sends": list(cast(Any, checkpoint).get("pending_sends", [])),
            "updated_channels": checkpoint.get("updated_channels"),
        },
    )


class CheckpointTuple(NamedTuple):
    """A checkpoint with its config, metadata, parent and pending writes."""

    config: Any
    """The config that names it (thread, namespace, checkpoint id)."""
    checkpoint: Checkpoint
    """The checkpoint."""
    metadata: CheckpointMetadata
    """Its metadata."""
    parent_config: Any = None
    """The config of the checkpoint before it."""
    pending_writes: list[PendingWrite] | None = None
    """The writes tasks made from it."""


class DeltaChannelHistory(TypedDict):
    """What one channel was written along a checkpoint's ancestors."""

    writes: list[PendingWrite]
    """The channel's writes, oldest first."""
    seed: NotRequired[Any]
    """The value stored at the nearest ancestor that has one."""


def writes_sort_key(task_path: str, task_id: str = "", idx: int = 0) -> tuple[str, str, int]:
    """The order a super-step's writes are applied in: task path, task id, index."""
    return (task_path, task_id, idx)


WRITES_IDX_MAP = {ERROR: -1, SCHEDULED: -2, INTERRUPT: -3, RESUME: -4}
"""The write index of the special channels' writes."""

EXCLUDED_METADATA_KEYS = {
    "thread_id",
    "checkpoint_id",
    "checkpoint_ns",
    "checkpoint_map",
    "langgraph_step",
    "langgraph_node",
    "langgraph_triggers",
    "langgraph_path",
    "langgraph_checkpoint_ns",
}
"""Config keys never copied into a checkpoint's metadata."""

LATEST_VERSION = 2
"""The checkpoint format :func:`empty_checkpoint` writes."""


class BaseCheckpointSaver(Generic[V]):
    """Where a graph keeps its checkpoints: LangGraph's interface.

    Subclasses implement ``get_tuple``, ``list``, ``put``, ``put_writes`` (and their async
    forms); ``get`` and the delta-channel walk are built on them.
    """

    serde: SerializerProtocol = JsonPlusSerializer()
    """Turns values into bytes and back."""

    def __init__(self, *, serde: SerializerProtocol | None = None) -> None:
        self.serde = maybe_add_typed_methods(serde or self.serde)

    @property
    def config_specs(self) -> list[Any]:
        """The configuration options the saver reads (none)."""
        return []

    def get(self, config: Config) -> Checkpoint | None:
        """The checkpoint ``config`` names (``None`` if there is none)."""
        if value := self.get_tuple(config):
            return value.checkpoint
        return None

    def get_tuple(self, config: Config) -> CheckpointTuple | None:
        """The checkpoint tuple ``config`` names (``None`` if there is none)."""
        raise NotImplementedError

    def list(
        self,
        config: Config | None,
        *,
        filter: dict[str, Any] | None = None,
        before: Config | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints matching ``config`` (a thread), ``filter`` (metadata), newest first."""
        raise NotImplementedError

    def put(
        self,
        config: Config,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Any:
        """Store a checkpoint; returns the config that names it."""
        raise NotImplementedError

    def put_writes(
        self,
        config: Config,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's writes from the checkpoint ``config`` names."""
        raise NotImplementedError

    def delete_thread(self, thread_id: str) -> None:
        """Delete a thread's checkpoints and writes."""
        raise NotImplementedError

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints and writes of these runs."""
        raise NotImplementedError

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy a thread's checkpoints and writes to another thread."""
        raise NotImplementedError

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Delete checkpoints of these threads (``keep_latest``: all but the newest)."""
        raise NotImplementedError

    async def aget(self, config: Config) -> Checkpoint | None:
        """The checkpoint ``config`` names (``None`` if there is none)."""
        if value := await self.aget_tuple(config):
            return value.checkpoint
        return None

    async def aget_tuple(self, config: Config) -> CheckpointTuple | None:
        """The checkpoint tuple ``config`` names (``None`` if there is none)."""
        raise NotImplementedError

    async def alist(
        self,
        config: Config | None,
        *,
        filter: dict[str, Any] | None = None,
        before: Config | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Checkpoints matching ``config``, ``filter``, newest first."""
        raise NotImplementedError
        yield  # an async generator

    async def aput(
        self,
        config: Config,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Any:
        """Store a checkpoint; returns the config that names it."""
        raise NotImplementedError

    async def aput_writes(
        self,
        config: Config,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's writes from the checkpoint ``config`` names."""
        raise NotImplementedError

    async def adelete_thread(self, thread_id: str) -> None:
        """Delete a thread's checkpoints and writes."""
        raise NotImplementedError

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints and writes of these runs."""
        raise NotImplementedError

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy a thread's checkpoints and writes to another thread."""
        raise NotImplementedError

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Delete checkpoints of these threads."""
        raise NotImplementedError

    def get_delta_channel_history(
        self, *, config: Config, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """Per channel: its writes along the parent chain of the checkpoint ``config`` names,
        back to the nearest ancestor that stores its value (the seed)."""
        walk = _DeltaWalk(channels)
        target = self.get_tuple(config) if channels else None
        cursor = target.parent_config if target else None
        while cursor is not None and walk.remaining:
            found = self.get_tuple(cursor)
            if found is None:
                break
            cursor = walk.visit(found)
        return walk.result()

    async def aget_delta_channel_history(
        self, *, config: Config, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """The async form of :meth:`get_delta_channel_history`."""
        walk = _DeltaWalk(channels)
        target = await self.aget_tuple(config) if channels else None
        cursor = target.parent_config if target else None
        while cursor is not None and walk.remaining:
            found = await self.aget_tuple(cursor)
            if found is None:
                break
            cursor = walk.visit(found)
        return walk.result()

    def get_next_version(self, current: V | None, channel: None) -> V:
        """The version after ``current`` (integers counting up from 1)."""
        if isinstance(current, str):
            raise NotImplementedError
        following: Any = 1 if current is None else current + 1
        return cast(V, following)

    def with_allowlist(self, extra_allowlist: Collection[tuple[str, ...]]) -> Any:
        """A shallow copy whose serializer also loads the types in ``extra_allowlist``."""
        serde = _with_msgpack_allowlist(self.serde, extra_allowlist)
        if serde is self.serde:
            return self
        clone = copy.copy(self)
        clone.serde = maybe_add_typed_methods(serde)
        return clone


class _DeltaWalk:
    def __init__(self, channels: Sequence[str]) -> None:
        self.channels = list(channels)
        self.remaining = set(channels)
        self.collected: dict[str, list[PendingWrite]] = {c: [] for c in channels}
        self.seeds: dict[str, Any] = {}

    def visit(self, found: CheckpointTuple) -> Any:
        for write in reversed(found.pending_writes or []):
            if write[1] in self.remaining:
                self.collected[write[1]].append(write)
        for channel in list(self.remaining):
            if channel in found.checkpoint["channel_values"]:
                self.seeds[channel] = found.checkpoint["channel_values"][channel]
                self.remaining.discard(channel)
        return found.parent_config

    def result(self) -> dict[str, DeltaChannelHistory]:
        out: dict[str, DeltaChannelHistory] = {}
        for channel in self.channels:
            entry: DeltaChannelHistory = {"writes": list(reversed(self.collected[channel]))}
            if channel in self.seeds:
                entry["seed"] = self.seeds[channel]
            out[channel] = entry
        return out


def _with_msgpack_allowlist(
    serde: SerializerProtocol, extra_allowlist: Collection[tuple[str, ...]]
) -> SerializerProtocol:
    if isinstance(serde, JsonPlusSerializer):
        return serde.with_msgpack_allowlist(extra_allowlist)
    if isinstance(serde, EncryptedSerializer) and isinstance(serde.serde, JsonPlusSerializer):
        inner = serde.serde.with_msgpack_allowlist(extra_allowlist)
        return serde if inner is serde.serde else EncryptedSerializer(serde.cipher, inner)
    logger.warning(
        "Serializer %s does not support msgpack allowlist. "
        "Strict msgpack deserialization will not be enforced.",
        type(serde).__name__,
    )
    return serde


def get_checkpoint_id(config: Config) -> str | None:
    """The ``checkpoint_id`` a config names."""
    checkpoint_id: str | None = config["configurable"].get("checkpoint_id")
    return checkpoint_id


def get_checkpoint_metadata(config: Config, metadata: CheckpointMetadata) -> CheckpointMetadata:
    """``metadata`` with the config's plain metadata and configurable values added (as
    LangGraph records them; NUL characters removed)."""
    out: dict[str, Any] = {
        k: v.replace("\u0000", "") if isinstance(v, str) else v for k, v in metadata.items()
    }
    for source in (config.get("metadata"), config.get("configurable")):
        for key, value in (source or {}).items():
            if key in out or key in EXCLUDED_METADATA_KEYS or key.startswith("__"):
                continue
            if isinstance(value, str):
                out[key] = value.replace("\u0000", "")
            elif isinstance(value, int | bool | float):
                out[key] = value
    return cast(CheckpointMetadata, out)


def get_serializable_checkpoint_metadata(
    config: Config, metadata: CheckpointMetadata
) -> CheckpointMetadata:
    """:func:`get_checkpoint_metadata` without the old ``writes`` key."""
    out = get_checkpoint_metadata(config, metadata)
    cast(dict[str, Any], out).pop("writes", None)
    return out


def empty_checkpoint() -> Checkpoint:
    """A checkpoint with no values."""
    return cast(
        Checkpoint,
        {
            "v": LATEST_VERSION,
            "id": str(uuid6(clock_seq=-2)),
            "ts": datetime.now(UTC).isoformat(),
            "channel_values": {},
            "channel_versions": {},
            "versions_seen": {},
            "pending_sends": [],
            "updated_channels": None,
        },
    )


def create_checkpoint(
    checkpoint: Checkpoint,
    channels: Mapping[str, ChannelProtocol[Any, Any, Any]] | None,
    step: int,
    *,
    id: str | None = None,
) -> Checkpoint:
    """A new checkpoint of ``channels``' values (or ``checkpoint``'s, without channels)."""
    if channels is None:
        values = checkpoint["channel_values"]
    else:
        values = {}
        for name, channel in channels.items():
            if name not in checkpoint["channel_versions"]:
                continue
            with contextlib.suppress(EmptyChannelError):
                values[name] = channel.checkpoint()
    return cast(
        Checkpoint,
        {
            "v": LATEST_VERSION,
            "ts": datetime.now(UTC).isoformat(),
            "id": id or str(uuid6(clock_seq=step)),
            "channel_values": values,
            "channel_versions": checkpoint["channel_versions"],
            "versions_seen": checkpoint["versions_seen"],
            "pending_sends": cast(Any, checkpoint).get("pending_sends", []),
            "updated_channels": None,
        },
    )
