"""Request bodies of the API, validated (and published in the OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AssistantSearch",
    "CommandBody",
    "HistoryRequest",
    "RunCreate",
    "StateCheckpointRequest",
    "StateUpdate",
    "ThreadCreate",
    "ThreadSearch",
    "ThreadUpdate",
]

StreamMode = Literal[
    "values",
    "messages",
    "messages-tuple",
    "updates",
    "events",
    "debug",
    "tasks",
    "checkpoints",
    "custom",
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CommandBody(_Body):
    """``Command`` as JSON: answer interrupts, update the state, go to nodes."""

    update: Any = None
    resume: Any = None
    goto: Any = None


class RunCreate(_Body):
    """A run to start (stream, wait or background)."""

    assistant_id: str = Field(min_length=1)
    input: Any = None
    command: CommandBody | None = None
    stream_mode: StreamMode | list[StreamMode] = "values"
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = None
    checkpoint_id: str | None = None
    checkpoint_during: bool | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    feedback_keys: list[str] | None = None
    webhook: str | None = None
    multitask_strategy: Literal["reject", "interrupt", "rollback", "enqueue"] = "enqueue"
    if_not_exists: Literal["create", "reject"] = "reject"
    on_disconnect: Literal["cancel", "continue"] = "continue"
    on_completion: Literal["delete", "keep"] | None = None
    after_seconds: float | None = Field(default=None, ge=0, le=86_400)
    durability: Literal["sync", "async", "exit"] | None = None


class ThreadCreate(_Body):
    """A thread to create."""

    thread_id: str | None = Field(default=None, min_length=1)
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"


class ThreadUpdate(_Body):
    """Metadata to merge into a thread's."""

    metadata: dict[str, Any] | None = None


class ThreadSearch(_Body):
    """Which threads to list."""

    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    ids: list[str] | None = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None
    limit: int = Field(default=10, ge=0, le=10_000)
    offset: int = Field(default=0, ge=0)
    sort_by: Literal["thread_id", "status", "created_at", "updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None


class AssistantSearch(_Body):
    """Which assistants to list."""

    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    name: str | None = None
    limit: int = Field(default=10, ge=0, le=10_000)
    offset: int = Field(default=0, ge=0)


class StateUpdate(_Body):
    """Values to write to a thread's state, as if a node returned them."""

    values: Any = None
    as_node: str | None = None
    checkpoint: dict[str, Any] | None = None
    checkpoint_id: str | None = None


class StateCheckpointRequest(_Body):
    """The state at one checkpoint."""

    checkpoint: dict[str, Any]
    subgraphs: bool = False


class HistoryRequest(_Body):
    """Which checkpoints of a thread to list, newest first."""

    limit: int = Field(default=1, ge=0, le=100_000)
    before: str | dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = None
