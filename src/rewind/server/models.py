"""Request bodies of the API, validated (and published in the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "AssistantCount",
    "AssistantCreate",
    "AssistantPatch",
    "AssistantSearch",
    "AssistantVersionChange",
    "AssistantVersionsSearch",
    "CommandBody",
    "CronCount",
    "CronCreate",
    "CronField",
    "CronPatch",
    "CronSearch",
    "HistoryRequest",
    "RunCreate",
    "RunsCancel",
    "StateCheckpointRequest",
    "StateUpdate",
    "StoreDelete",
    "StoreNamespaces",
    "StorePut",
    "StoreSearch",
    "ThreadCount",
    "ThreadCreate",
    "ThreadPrune",
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


AssistantField = Literal[
    "assistant_id",
    "graph_id",
    "name",
    "description",
    "config",
    "context",
    "created_at",
    "updated_at",
    "metadata",
    "version",
]
"""A field of an assistant a search may select."""


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
    # LangSmith feedback URLs in LangGraph: accepted and shown in the run's kwargs, no more.
    feedback_keys: list[str] | None = None
    webhook: str | None = Field(default=None, min_length=1, max_length=65_536)
    multitask_strategy: Literal["reject", "interrupt", "rollback", "enqueue"] = "enqueue"
    if_not_exists: Literal["create", "reject"] = "reject"
    on_disconnect: Literal["cancel", "continue"] = "continue"
    on_completion: Literal["delete", "keep"] | None = None
    after_seconds: float | None = Field(default=None, ge=0, le=86_400)
    durability: Literal["sync", "async", "exit"] | None = None


class SuperstepUpdate(_Body):
    """One update of a super-step: ``values`` (or a ``command``) as if ``as_node`` wrote it."""

    values: Any = None
    command: CommandBody | None = None
    as_node: str | None = None


class Superstep(_Body):
    """Updates applied together, as the tasks of one step: a checkpoint."""

    updates: list[SuperstepUpdate] = Field(min_length=1)


class ThreadCreate(_Body):
    """A thread to create; with ``supersteps``, its state seeded as ``bulk_update_state``
    does (the thread's ``graph_id`` metadata names the graph)."""

    thread_id: str | None = Field(default=None, min_length=1)
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"
    supersteps: list[Superstep] | None = None


class ThreadUpdate(_Body):
    """Metadata to merge into a thread's."""

    metadata: dict[str, Any] | None = None


ThreadField = Literal[
    "thread_id",
    "created_at",
    "updated_at",
    "state_updated_at",
    "metadata",
    "config",
    "status",
    "values",
    "interrupts",
]
"""A field of a thread a search may select."""

RunField = Literal[
    "run_id",
    "thread_id",
    "assistant_id",
    "created_at",
    "updated_at",
    "status",
    "metadata",
    "kwargs",
    "multitask_strategy",
    "langsmith_session_name",
]
"""A field of a run a listing may select."""


class ThreadSearch(_Body):
    """Which threads to list, with which fields."""

    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    ids: list[str] | None = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None
    limit: int = Field(default=10, ge=0, le=10_000)
    offset: int = Field(default=0, ge=0)
    sort_by: Literal["thread_id", "status", "created_at", "updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[ThreadField] | None = None


class AssistantSearch(_Body):
    """Which assistants to list, in what order, with which fields."""

    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    name: str | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: Literal["assistant_id", "created_at", "updated_at", "name", "graph_id"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[AssistantField] | None = None


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


# --- assistants -------------------------------------------------------------------------------


def _config_shape(config: dict[str, Any]) -> dict[str, Any]:
    """LangGraph's ``Config``: ``tags`` strings, ``recursion_limit`` an integer,
    ``configurable`` an object (other keys pass)."""
    tags = config.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("config.tags must be a list of strings")
    limit = config.get("recursion_limit", 0)
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise ValueError("config.recursion_limit must be an integer")
    if not isinstance(config.get("configurable", {}), dict):
        raise ValueError("config.configurable must be an object")
    return config


AssistantConfig = Annotated[dict[str, Any], AfterValidator(_config_shape)]
"""An assistant's config, checked as LangGraph checks it."""


class AssistantCreate(_Body):
    """An assistant to create."""

    graph_id: str
    assistant_id: str | None = None
    config: AssistantConfig | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"
    name: str | None = None
    description: str | None = None


class AssistantPatch(_Body):
    """What to change in an assistant (a new version); what is left out is kept."""

    graph_id: str | None = None
    config: AssistantConfig | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    name: str | None = None
    description: str | None = None


class AssistantCount(_Body):
    """Which assistants to count."""

    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    name: str | None = None


class AssistantVersionsSearch(_Body):
    """Which versions of an assistant to list, newest first."""

    metadata: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class AssistantVersionChange(_Body):
    """The version of an assistant to use from now on."""

    version: int


# --- the store, thread counts and pruning, bulk cancels -----------------------------------------

_MAX_TTL = 100 * 365 * 24 * 60
"""The longest time to live a store item may be given, in minutes (a century)."""
_MAX_OFFSET = 1_000_000_000
"""The largest offset a listing takes (a database integer holds it)."""


class StorePut(_Body):
    """An item to store (replacing the one under its key)."""

    namespace: list[str]
    key: str
    value: dict[str, Any]
    index: Literal[False] | list[str] | None = None
    ttl: float | None = Field(default=None, gt=0, le=_MAX_TTL, allow_inf_nan=False)


class StoreDelete(_Body):
    """An item to delete."""

    namespace: list[str] | None = None
    key: str


class StoreSearch(_Body):
    """Which items to list, or to rank by a query."""

    namespace_prefix: list[str] | None = None
    filter: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=0, le=10_000)
    offset: int = Field(default=0, ge=0, le=_MAX_OFFSET)
    query: str | None = None
    refresh_ttl: bool | None = None


class StoreNamespaces(_Body):
    """Which namespaces to list."""

    prefix: list[str] | None = None
    suffix: list[str] | None = None
    max_depth: int | None = Field(default=None, ge=1, le=10_000)
    limit: int = Field(default=100, ge=0, le=10_000)
    offset: int = Field(default=0, ge=0, le=_MAX_OFFSET)


class ThreadCount(_Body):
    """Which threads to count."""

    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None


class ThreadPrune(_Body):
    """Threads to prune, and how."""

    thread_ids: list[str]
    strategy: Literal["delete", "keep_latest"] = "delete"


class RunsCancel(_Body):
    """Runs to cancel: those of a thread by id, or every run in a status."""

    thread_id: str | None = Field(default=None, min_length=1)
    run_ids: list[str] | None = None
    status: Literal["pending", "running", "all"] | None = None


CronField = Literal[
    "cron_id",
    "assistant_id",
    "thread_id",
    "on_run_completed",
    "end_time",
    "schedule",
    "timezone",
    "created_at",
    "updated_at",
    "user_id",
    "payload",
    "next_run_date",
    "metadata",
    "enabled",
]
"""A field of a cron a search may select."""


class CronCreate(RunCreate):
    """A cron: a run request, and when to make it (each field of a run request is taken)."""

    schedule: str = Field(min_length=1, max_length=255)
    timezone: str | None = Field(default=None, max_length=64)
    end_time: datetime | None = None
    enabled: bool = True
    on_run_completed: Literal["delete", "keep"] | None = None


class CronPatch(_Body):
    """What to change in a cron (the run request's fields are merged into its own)."""

    schedule: str | None = Field(default=None, min_length=1, max_length=255)
    timezone: str | None = Field(default=None, max_length=64)
    end_time: datetime | None = None
    input: Any = None
    metadata: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    webhook: str | None = Field(default=None, min_length=1, max_length=65_536)
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    on_run_completed: Literal["delete", "keep"] | None = None
    enabled: bool | None = None
    stream_mode: StreamMode | list[StreamMode] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    durability: Literal["sync", "async", "exit"] | None = None


class CronSearch(_Body):
    """Which crons to list, in what order, with which fields."""

    assistant_id: str | None = None
    thread_id: str | None = None
    enabled: bool | None = None
    metadata: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: (
        Literal[
            "cron_id",
            "assistant_id",
            "thread_id",
            "next_run_date",
            "end_time",
            "created_at",
            "updated_at",
        ]
        | None
    ) = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[CronField] | None = None


class CronCount(_Body):
    """Which crons to count."""

    assistant_id: str | None = None
    thread_id: str | None = None
    metadata: dict[str, Any] | None = None
