"""LangGraph's public types, as rewind provides them to graph code.

A graph file written for LangGraph imports these from ``langgraph.types``; with its imports
rewritten to ``rewind.types`` it gets objects of the same class names, fields, defaults,
reprs, equality and tuple-ness as LangGraph 1.2.22's:

- control values a node returns or sends: :class:`Send`, :class:`Command`, :class:`Overwrite`;
- interrupts: :class:`Interrupt` and :func:`interrupt`;
- node policies: :class:`RetryPolicy` (with :func:`default_retry_on`), :class:`CachePolicy`
  (with :func:`default_cache_key`), :class:`TimeoutPolicy`, :class:`TracePolicy` and
  :func:`omit_payload`;
- what a run reports: :class:`StateSnapshot`, :class:`PregelTask`, :class:`StateUpdate`,
  :class:`GraphOutput` and the ``version="v2"`` stream parts (:data:`StreamPart` and the
  ``*StreamPart`` / ``*Payload`` typed dicts);
- aliases: :data:`StreamMode`, :data:`StreamWriter`, :data:`Durability`, :data:`All`,
  :data:`Checkpointer` (with :func:`ensure_valid_checkpointer`).

This module does not import the runtime. :func:`interrupt` hands its work to the hook the
runtime installs in :data:`_INTERRUPT_HOOK` while a node runs.

Differences from LangGraph, by design: interrupt ids are 32 hex digits of a BLAKE2b digest
(LangGraph uses xxh3-128, which is not a rewind dependency), so the same namespace gives a
different id; :data:`Checkpointer` accepts any object with a checkpoint saver's methods
(``get_tuple``, ``list``, ``put``, ``put_writes``) instead of requiring a subclass of
LangGraph's ``BaseCheckpointSaver``; and mappings typed ``CheckpointMetadata`` in LangGraph
are typed ``dict[str, Any]`` here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
import sys
import warnings
import weakref
from collections import deque
from collections.abc import Callable, Hashable, Mapping, Sequence
from contextvars import ContextVar
from datetime import timedelta
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Generic,
    Literal,
    NamedTuple,
    NotRequired,
    Protocol,
    cast,
    final,
    overload,
    runtime_checkable,
)

from langchain_core.messages import AnyMessage
from langchain_core.messages.tool import ToolOutputMixin
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import BaseModel
from typing_extensions import (
    TypeAliasType,
    TypedDict,
    TypeVar,
    Unpack,
    deprecated,
)

from rewind.errors import (
    LangGraphDeprecatedSinceV10,
    LangGraphDeprecatedSinceV11,
    _mark_invalid_resume,
)
from rewind.log.codec import register_type

if TYPE_CHECKING:
    from pydantic import TypeAdapter

__all__ = (
    "All",
    "Checkpointer",
    "StreamMode",
    "StreamWriter",
    "StreamPart",
    "ValuesStreamPart",
    "UpdatesStreamPart",
    "MessagesStreamPart",
    "CustomStreamPart",
    "CheckpointStreamPart",
    "TasksStreamPart",
    "DebugStreamPart",
    "TaskPayload",
    "TaskResultPayload",
    "CheckpointTask",
    "CheckpointPayload",
    "DebugPayload",
    "RetryPolicy",
    "TimeoutPolicy",
    "CachePolicy",
    "TracePolicy",
    "omit_payload",
    "Interrupt",
    "StateUpdate",
    "PregelTask",
    "PregelExecutableTask",
    "StateSnapshot",
    "Send",
    "Command",
    "Durability",
    "interrupt",
    "Overwrite",
    "GraphOutput",
    "ensure_valid_checkpointer",
)

# Type variables of the generic types below (the names LangGraph gives them).
StateT = TypeVar("StateT")
OutputT = TypeVar("OutputT")
ResponseT = TypeVar("ResponseT", default=Any)
N = TypeVar("N", bound=Hashable)
KeyFuncT = TypeVar("KeyFuncT", bound=Callable[..., str | bytes])

# --------------------------------------------------------------------------------------------
# Aliases
# --------------------------------------------------------------------------------------------

Durability = Literal["sync", "async", "exit"]
"""When a run persists its checkpoints.

- ``"sync"``: before the next step starts.
- ``"async"``: while the next step runs.
- ``"exit"``: only when the graph exits.
"""

All = Literal["*"]
"""Marker for "every node", e.g. ``interrupt_before="*"``."""

StreamMode = Literal["values", "updates", "checkpoints", "tasks", "debug", "messages", "custom"]
"""What ``stream()`` emits.

- ``"values"``: the full state after each step (with interrupts); the functional API emits it
  once, at the end.
- ``"updates"``: each node's or task's name and the update it returned, one item per node.
- ``"custom"``: whatever nodes and tasks pass to their ``StreamWriter``.
- ``"messages"``: LLM messages token by token, with metadata, for LLM calls inside nodes.
- ``"checkpoints"``: an item per checkpoint created, shaped like ``get_state()``'s result.
- ``"tasks"``: an item when a task starts and when it finishes (result or error).
- ``"debug"``: both ``"checkpoints"`` and ``"tasks"`` items.
"""

StreamWriter = Callable[[Any], None]
"""A callable taking one value and writing it to the ``"custom"`` stream.

Injected into nodes that ask for it as a keyword argument; a no-op unless the run streams
``"custom"``.
"""


@runtime_checkable
class _CheckpointSaverLike(Protocol):
    """What rewind requires of a checkpointer object: a checkpoint saver's core methods.

    LangGraph's ``BaseCheckpointSaver`` subclasses satisfy it.
    """

    def get_tuple(self, config: RunnableConfig) -> Any:
        """Fetch the checkpoint ``config`` points at."""

    def list(self, config: RunnableConfig | None, /, **kwargs: Any) -> Any:
        """List checkpoints matching ``config`` and the filters."""

    def put(self, config: RunnableConfig, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        """Store a checkpoint."""

    def put_writes(self, config: RunnableConfig, writes: Any, task_id: str, /) -> Any:
        """Store a task's pending writes."""


Checkpointer = None | bool | _CheckpointSaverLike
"""The checkpointer setting of a (sub)graph.

- ``True``: checkpoint this subgraph persistently.
- ``False``: do not checkpoint, even if the parent graph has a checkpointer.
- ``None``: use the parent graph's checkpointer.
- a checkpoint saver: use it.
"""


def ensure_valid_checkpointer(checkpointer: Checkpointer) -> Checkpointer:
    """Return ``checkpointer`` if it is a valid :data:`Checkpointer` setting.

    Like LangGraph, the flags are tested with ``==``, so ``0`` and ``1`` pass as ``False`` and
    ``True``.

    Args:
        checkpointer: ``None``, ``True``, ``False`` or a checkpoint saver.

    Returns:
        ``checkpointer`` unchanged.

    Raises:
        TypeError: It is none of those.
    """
    if checkpointer in (None, True, False) or isinstance(checkpointer, _CheckpointSaverLike):
        return checkpointer
    raise TypeError(
        "Invalid checkpointer provided. Expected an instance of `BaseCheckpointSaver`, `True`, "
        f"`False`, or `None`. Received {type(checkpointer).__name__!s}. Pass a proper saver "
        "(e.g., InMemorySaver, AsyncPostgresSaver)."
    )


# --------------------------------------------------------------------------------------------
# Stream parts (``stream(..., version="v2")``) and their payloads
# --------------------------------------------------------------------------------------------


class TaskPayload(TypedDict):
    """The payload of a task-start event.

    Attributes:
        id: The task's id.
        name: The node the task runs.
        input: The task's input.
        triggers: What scheduled the task (e.g. the channels written).
        metadata: The task's metadata from its config (e.g. ``langgraph_node``), when not
            empty. Ignore keys you do not know.
    """

    id: str
    name: str
    input: Any
    triggers: list[str]
    metadata: NotRequired[dict[str, Any]]


class TaskResultPayload(TypedDict):
    """The payload of a task-result event.

    Attributes:
        id: The task's id.
        name: The node the task ran.
        error: The error message if the task failed, else ``None``.
        interrupts: The interrupts the task raised.
        result: The values the task wrote, by channel.
    """

    id: str
    name: str
    error: str | None
    interrupts: list[dict[str, Any]]
    result: dict[str, Any]


class CheckpointTask(TypedDict):
    """A task in a :class:`CheckpointPayload`.

    Which keys are present depends on the task: ``id``, ``name``, ``error`` and ``state`` for
    a failed task; ``id``, ``name``, ``result``, ``interrupts`` and ``state`` for a finished
    one; ``id``, ``name``, ``interrupts`` and ``state`` for a pending one.

    Attributes:
        id: The task's id.
        name: The node the task runs.
        error: The error message of a failed task.
        result: The result of a finished task.
        interrupts: The task's interrupts.
        state: The subgraph's state snapshot, or a config pointing at it; ``None`` when the
            node is not a subgraph.
    """

    id: str
    name: str
    error: NotRequired[str]
    result: NotRequired[Any]
    interrupts: NotRequired[list[dict[str, Any]]]
    state: StateSnapshot | RunnableConfig | None


class CheckpointPayload(TypedDict, Generic[StateT]):
    """The payload of a checkpoint event.

    Attributes:
        config: The checkpoint's config (``thread_id``, ``checkpoint_id``...).
        metadata: The checkpoint's metadata (step, source, writes...).
        values: The state at this checkpoint.
        next: The nodes scheduled to run next.
        parent_config: The parent checkpoint's config; ``None`` for the first checkpoint.
        tasks: The checkpoint's tasks.
    """

    config: RunnableConfig | None
    metadata: dict[str, Any]
    values: StateT
    next: list[str]
    parent_config: RunnableConfig | None
    tasks: list[CheckpointTask]


class _DebugCheckpointPayload(TypedDict, Generic[StateT]):
    """A debug event about a checkpoint."""

    step: int
    timestamp: str
    type: Literal["checkpoint"]
    payload: CheckpointPayload[StateT]


class _DebugTaskPayload(TypedDict):
    """A debug event about a task starting."""

    step: int
    timestamp: str
    type: Literal["task"]
    payload: TaskPayload


class _DebugTaskResultPayload(TypedDict):
    """A debug event about a task finishing."""

    step: int
    timestamp: str
    type: Literal["task_result"]
    payload: TaskResultPayload


DebugPayload = TypeAliasType(
    "DebugPayload",
    _DebugCheckpointPayload[StateT] | _DebugTaskPayload | _DebugTaskResultPayload,
    type_params=(StateT,),
)
"""A debug event: a dict with ``step``, ``timestamp``, ``type`` (``"checkpoint"``, ``"task"`` or
``"task_result"``, to discriminate on) and ``payload``."""


class ValuesStreamPart(TypedDict, Generic[OutputT]):
    """A ``stream_mode="values"`` item: ``data`` is the full state after a step.

    Attributes:
        type: ``"values"``.
        ns: The namespace of the (sub)graph that emitted it.
        data: The state.
        interrupts: The interrupts raised so far.
    """

    type: Literal["values"]
    ns: tuple[str, ...]
    data: OutputT
    interrupts: tuple[Interrupt, ...]


class UpdatesStreamPart(TypedDict):
    """A ``stream_mode="updates"`` item: ``data`` maps node names to what they returned.

    ``data`` may also hold ``__interrupt__`` (the interrupts) and ``__metadata__``.

    Attributes:
        type: ``"updates"``.
        ns: The namespace of the (sub)graph that emitted it.
        data: The updates by node name.
    """

    type: Literal["updates"]
    ns: tuple[str, ...]
    data: dict[str, Any]


class MessagesStreamPart(TypedDict):
    """A ``stream_mode="messages"`` item: ``data`` is ``(message, metadata)``.

    The message is a LangChain message or chunk (e.g. ``AIMessageChunk``); the metadata holds
    keys such as ``langgraph_step``, ``langgraph_node`` and ``langgraph_triggers``.

    Attributes:
        type: ``"messages"``.
        ns: The namespace of the (sub)graph that emitted it.
        data: The message and its metadata.
    """

    type: Literal["messages"]
    ns: tuple[str, ...]
    data: tuple[AnyMessage, dict[str, Any]]


class CustomStreamPart(TypedDict):
    """A ``stream_mode="custom"`` item: ``data`` is what a node passed to its ``StreamWriter``.

    Attributes:
        type: ``"custom"``.
        ns: The namespace of the (sub)graph that emitted it.
        data: The value written.
    """

    type: Literal["custom"]
    ns: tuple[str, ...]
    data: Any


class CheckpointStreamPart(TypedDict, Generic[StateT]):
    """A ``stream_mode="checkpoints"`` item.

    Attributes:
        type: ``"checkpoints"``.
        ns: The namespace of the (sub)graph that emitted it.
        data: The checkpoint.
    """

    type: Literal["checkpoints"]
    ns: tuple[str, ...]
    data: CheckpointPayload[StateT]


class TasksStreamPart(TypedDict):
    """A ``stream_mode="tasks"`` item: a :class:`TaskPayload` or a :class:`TaskResultPayload`.

    Attributes:
        type: ``"tasks"``.
        ns: The namespace of the (sub)graph that emitted it.
        data: The task-start or task-result payload.
    """

    type: Literal["tasks"]
    ns: tuple[str, ...]
    data: TaskPayload | TaskResultPayload


class DebugStreamPart(TypedDict, Generic[StateT]):
    """A ``stream_mode="debug"`` item.

    Attributes:
        type: ``"debug"``.
        ns: The namespace of the (sub)graph that emitted it.
        data: The debug event.
    """

    type: Literal["debug"]
    ns: tuple[str, ...]
    data: DebugPayload[StateT]


StreamPart = TypeAliasType(
    "StreamPart",
    ValuesStreamPart[OutputT]
    | UpdatesStreamPart
    | MessagesStreamPart
    | CustomStreamPart
    | CheckpointStreamPart[StateT]
    | TasksStreamPart
    | DebugStreamPart[StateT],
    type_params=(StateT, OutputT),
)
"""Any ``version="v2"`` stream item; narrow it on ``part["type"]``."""


# --------------------------------------------------------------------------------------------
# Run results
# --------------------------------------------------------------------------------------------

_INTERRUPT_KEY = "__interrupt__"


@dataclasses.dataclass(frozen=True)
class GraphOutput(Generic[OutputT]):
    """What ``invoke()``/``ainvoke()`` return with ``version="v2"``.

    Attributes:
        value: The graph's output (a dict, pydantic model, dataclass...).
        interrupts: The interrupts raised during the run.
    """

    value: OutputT
    interrupts: tuple[Interrupt, ...] = ()

    @staticmethod
    def _warn_key_access(how: str) -> None:
        warnings.warn(
            f"Accessing GraphOutput via `{how}` is deprecated. Use `result.value` to access the "
            "output value directly, or `result.interrupts` for interrupts.",
            LangGraphDeprecatedSinceV11,
            stacklevel=3,
        )

    def __getitem__(self, key: str) -> Any:
        """Deprecated dict-style access: ``result["__interrupt__"]`` or a key of the output."""
        self._warn_key_access("result[key]")
        if key == _INTERRUPT_KEY:
            return self.interrupts
        if isinstance(self.value, dict):
            return self.value[key]
        try:
            return getattr(self.value, key)
        except AttributeError:
            raise KeyError(key)  # noqa: B904  (chained to the AttributeError, as in LangGraph)

    def __contains__(self, key: object) -> bool:
        """Deprecated ``key in result``: interrupts present, or a key of the output."""
        self._warn_key_access("key in result")
        if key == _INTERRUPT_KEY:
            return bool(self.interrupts)
        if isinstance(self.value, dict):
            return key in self.value
        return isinstance(key, str) and hasattr(self.value, key)


# --------------------------------------------------------------------------------------------
# Node policies
# --------------------------------------------------------------------------------------------

# Exceptions that signal a bug or a permanent condition: retrying cannot help.
_NOT_RETRIED: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    ArithmeticError,
    ImportError,
    LookupError,
    NameError,
    SyntaxError,
    RuntimeError,
    ReferenceError,
    StopIteration,
    StopAsyncIteration,
    OSError,
)


def _http_error_decision(exc: Exception) -> bool | None:
    """Decide for httpx/requests HTTP status errors; ``None`` when ``exc`` is neither.

    The libraries are looked up in ``sys.modules``: an instance of their error classes can only
    exist once they have been imported.
    """
    httpx = sys.modules.get("httpx")
    if httpx is not None and isinstance(exc, httpx.HTTPStatusError):
        status: int = exc.response.status_code
        return 500 <= status < 600
    requests = sys.modules.get("requests")
    if requests is not None and isinstance(exc, requests.HTTPError):
        response = exc.response
        # A ``requests.Response`` is falsy for status >= 400, so an HTTPError carrying an
        # error response is always retried, as in LangGraph.
        if not response:
            return True
        response_status: int = response.status_code
        return 500 <= response_status < 600
    return None


def default_retry_on(exc: Exception) -> bool:
    """Whether the default :class:`RetryPolicy` retries after ``exc``.

    Retried: ``ConnectionError``; httpx ``HTTPStatusError`` with a 5xx status; requests
    ``HTTPError`` unless its response has a status below 400; and every exception that is none
    of ``ValueError``, ``TypeError``, ``ArithmeticError``, ``ImportError``, ``LookupError``,
    ``NameError``, ``SyntaxError``, ``RuntimeError``, ``ReferenceError``, ``StopIteration``,
    ``StopAsyncIteration`` or ``OSError`` (the rest of ``OSError``, e.g. ``TimeoutError`` and
    requests' own ``ConnectionError``, is not retried).

    Args:
        exc: The exception a node attempt raised.

    Returns:
        True to retry.
    """
    if isinstance(exc, ConnectionError):
        return True
    decision = _http_error_decision(exc)
    if decision is not None:
        return decision
    return not isinstance(exc, _NOT_RETRIED)


class RetryPolicy(NamedTuple):
    """How to retry a node that raised.

    Attributes:
        initial_interval: Seconds to wait before the first retry.
        backoff_factor: Factor the wait grows by after each retry.
        max_interval: Longest wait between retries, in seconds.
        max_attempts: Attempts in all, the first included.
        jitter: Whether to add random jitter to each wait.
        retry_on: Exception class(es) to retry on, or a predicate returning True for the
            exceptions to retry on; :func:`default_retry_on` by default.
    """

    initial_interval: float = 0.5
    backoff_factor: float = 2.0
    max_interval: float = 128.0
    max_attempts: int = 3
    jitter: bool = True
    retry_on: type[Exception] | Sequence[type[Exception]] | Callable[[Exception], bool] = (
        default_retry_on
    )


def _positive_seconds(value: float | timedelta | None, *, field: str) -> float | None:
    """``value`` as seconds (``None`` stays ``None``); raise ``ValueError`` unless positive."""
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds > 0:
        return seconds
    raise ValueError(f"{field} must be greater than 0")


@dataclasses.dataclass(kw_only=True, slots=True, frozen=True)
class TimeoutPolicy:
    """Timeouts of a node attempt.

    Timeouts cancel the attempt through asyncio, so a node blocking the event loop (e.g. with
    ``time.sleep()``) is only stopped once it yields. With ``refresh_on="auto"`` any callback
    event of the node or its descendants counts as progress.

    Attributes:
        run_timeout: Hard cap, in seconds, on one attempt; progress never extends it.
        idle_timeout: Longest time, in seconds, an attempt may go without progress.
        refresh_on: What counts as progress for ``idle_timeout``: ``"auto"`` (graph progress
            signals and heartbeats) or ``"heartbeat"`` (only ``runtime.heartbeat()``).
    """

    run_timeout: float | timedelta | None = None
    idle_timeout: float | timedelta | None = None
    refresh_on: Literal["auto", "heartbeat"] = "auto"

    @classmethod
    def coerce(cls, value: float | timedelta | TimeoutPolicy | None) -> TimeoutPolicy | None:
        """Normalise a timeout setting to a policy with positive float seconds.

        Args:
            value: ``None``, a number or ``timedelta`` (a ``run_timeout``), or a policy.

        Returns:
            A policy with float seconds, the same object if it already is one; ``None`` when
            no timeout is set.

        Raises:
            ValueError: A timeout is not positive, or ``refresh_on`` is unknown.
        """
        if value is None:
            return None
        if not isinstance(value, TimeoutPolicy):
            value = cls(run_timeout=value)
        elif _is_normalised(value):
            return value
        if value.refresh_on not in ("auto", "heartbeat"):
            raise ValueError("refresh_on must be 'auto' or 'heartbeat'")
        run_timeout = _positive_seconds(value.run_timeout, field="run_timeout")
        idle_timeout = _positive_seconds(value.idle_timeout, field="idle_timeout")
        if run_timeout is None and idle_timeout is None:
            return None
        return cls(run_timeout=run_timeout, idle_timeout=idle_timeout, refresh_on=value.refresh_on)


def _is_normalised(policy: TimeoutPolicy) -> bool:
    """Whether ``policy`` is already what :meth:`TimeoutPolicy.coerce` would return."""
    timeouts = (policy.run_timeout, policy.idle_timeout)
    return (
        policy.refresh_on in ("auto", "heartbeat")
        and all(t is None or (type(t) is float and t > 0) for t in timeouts)
        and any(t is not None for t in timeouts)
    )


def _freeze(value: Any, depth: int = 10) -> Any:
    """A hashable stand-in for ``value``: mappings and sequences become (sorted) tuples."""
    if depth <= 0 or isinstance(value, Hashable):
        return value
    if isinstance(value, Mapping):
        return tuple(sorted((key, _freeze(item, depth - 1)) for key, item in value.items()))
    if isinstance(value, Sequence):
        return tuple(_freeze(item, depth - 1) for item in value)
    if hasattr(value, "tobytes"):  # numpy arrays and the like
        return (type(value).__name__, value.tobytes(), getattr(value, "shape", None))
    return value


def default_cache_key(*args: Any, **kwargs: Any) -> str | bytes:
    """The default :class:`CachePolicy` key: the arguments, frozen, then pickled.

    Freezing turns unhashable mappings into tuples of ``(key, value)`` pairs sorted by key and
    unhashable sequences into tuples, recursively (10 levels deep). As in LangGraph, the
    positional arguments arrive as a tuple, which is hashable, so they are pickled as they are:
    only keyword arguments are frozen, and the order of a dict passed positionally changes
    the key.

    Args:
        *args: The node's positional input.
        **kwargs: The node's keyword input.

    Returns:
        The key, as bytes.
    """
    return pickle.dumps((_freeze(args), _freeze(kwargs)), protocol=5, fix_imports=False)


@dataclasses.dataclass(kw_only=True, slots=True, frozen=True)
class CachePolicy(Generic[KeyFuncT]):
    """How to cache a node's results.

    Attributes:
        key_func: Makes the cache key from the node's input; :func:`default_cache_key`
            (pickles the input) by default.
        ttl: Seconds an entry lives; ``None`` for ever.
    """

    key_func: KeyFuncT = default_cache_key  # type: ignore[assignment]
    ttl: int | None = None


@dataclasses.dataclass(kw_only=True, slots=True, frozen=True)
class TracePolicy:
    """How a node's own trace run records its input and output.

    It does not change what the node receives or returns, nor the runs of what the node calls;
    it is not a way to redact secrets (use the tracing client's hiding options for that).
    Each processor gets the raw value and returns what to record.

    Attributes:
        process_inputs: Transforms the input before it is recorded (e.g. to summarise it).
        process_outputs: Transforms the output before it is recorded.
    """

    process_inputs: Callable[[Any], Any] | None = None
    process_outputs: Callable[[Any], Any] | None = None


def omit_payload(_value: Any) -> dict[str, Any]:
    """A :class:`TracePolicy` processor that records an empty payload.

    Args:
        _value: The input or output, ignored.

    Returns:
        An empty dict: the span and its timing stay, the payload goes.
    """
    return {}


# --------------------------------------------------------------------------------------------
# Interrupts
# --------------------------------------------------------------------------------------------

_DEFAULT_INTERRUPT_ID = "placeholder-id"
_NS_SEP = "|"


def _digest32(text: str) -> str:
    """32 hex digits identifying ``text``."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _interrupt_id(ns: str, answered: int) -> str:
    """The id of the interrupt a task raises after ``answered`` answered ones.

    Args:
        ns: The task's checkpoint namespace.
        answered: How many resume values the task already has.

    Returns:
        32 hex digits; with no answers, the digest of the bare namespace.
    """
    return _digest32(f"{ns}{_NS_SEP}{answered}" if answered else ns)


class _DeprecatedKwargs(TypedDict):
    """Keyword arguments LangGraph still accepts and ignores (e.g. ``ns``); none is typed."""


@final
@dataclasses.dataclass(init=False, slots=True)
class Interrupt(Generic[ResponseT]):
    """An interrupt raised in a node.

    Attributes:
        value: The value surfaced to the client.
        id: The interrupt's id (32 hex digits when raised by a graph); resume it by this id.
        response_schema: The schema of the value expected on resume, if the graph gave one (a
            JSON Schema dict once surfaced; the Python type at construction).
    """

    value: Any
    id: str
    response_schema: type[ResponseT] | dict[str, Any] | None = None

    def __init__(
        self,
        value: Any,
        id: str = _DEFAULT_INTERRUPT_ID,
        *,
        response_schema: type[ResponseT] | dict[str, Any] | None = None,
        **deprecated_kwargs: Unpack[_DeprecatedKwargs],
    ) -> None:
        """Create an interrupt.

        Args:
            value: The value surfaced to the client.
            id: The interrupt's id.
            response_schema: The schema of the expected resume value.
            **deprecated_kwargs: Accepted for compatibility; a sequence ``ns`` (the removed
                namespace field) given without ``id`` makes the id from the namespace.
        """
        self.value = value
        self.response_schema = response_schema
        ns = cast(dict[str, Any], deprecated_kwargs).get("ns")
        if id == _DEFAULT_INTERRUPT_ID and isinstance(ns, Sequence):
            self.id = _digest32(_NS_SEP.join(ns))
        else:
            self.id = id

    @classmethod
    def from_ns(
        cls,
        value: Any,
        ns: str,
        *,
        response_schema: type[ResponseT] | dict[str, Any] | None = None,
    ) -> Interrupt[ResponseT]:
        """Create the first interrupt of the task with checkpoint namespace ``ns``.

        Args:
            value: The value surfaced to the client.
            ns: The task's checkpoint namespace.
            response_schema: The schema of the expected resume value.

        Returns:
            The interrupt, its id derived from ``ns``.
        """
        return cls(value=value, id=_interrupt_id(ns, 0), response_schema=response_schema)

    @property
    @deprecated("`interrupt_id` is deprecated. Use `id` instead.", category=None)
    def interrupt_id(self) -> str:
        """Deprecated alias of :attr:`id`."""
        warnings.warn(
            "`interrupt_id` is deprecated. Use `id` instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        return self.id


_INTERRUPT_HOOK: ContextVar[Callable[..., Any] | None] = ContextVar(
    "rewind_interrupt_hook", default=None
)
"""Set by the runtime while a node runs; :func:`interrupt` calls it with its own arguments."""


def _validate_resume(adapter: TypeAdapter[Any], value: Any) -> Any:
    """Validate a resume value; a rejection is tagged for ``is_invalid_resume`` and re-raised."""
    from pydantic import ValidationError

    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        _mark_invalid_resume(exc)
        raise


@overload
def interrupt(value: Any, *, response_schema: type[ResponseT]) -> ResponseT: ...


@overload
def interrupt(value: Any, *, response_schema: dict[str, Any] | None = None) -> Any: ...


def interrupt(value: Any, *, response_schema: dict[str, Any] | type | None = None) -> Any:
    """Pause the graph from inside a node and surface ``value`` to the client.

    This is how a node asks a human (or any client) for input. The first time a node calls
    ``interrupt``, the call raises :class:`~rewind.errors.GraphInterrupt`: the step stops and
    the client receives an :class:`Interrupt` carrying ``value``. The client resumes the run
    with ``Command(resume=...)``; the node then runs again **from its start**, and this time
    the call returns the resume value instead of raising.

    A node may call ``interrupt`` several times: resume values are matched to the calls in the
    order the node makes them, per task (tasks do not share resume values). Interrupts need a
    checkpointer, since the paused state must be saved.

    Example:
        .. code-block:: python

            def ask_age(state: State) -> dict[str, Any]:
                age = interrupt("what is your age?")
                return {"age": age}

            graph = builder.compile(checkpointer=InMemorySaver())
            config = {"configurable": {"thread_id": "1"}}
            graph.invoke({"name": "Ada"}, config)
            # {'name': 'Ada', '__interrupt__': (Interrupt(value='what is your age?', ...),)}
            graph.invoke(Command(resume=36), config)
            # {'name': 'Ada', 'age': 36}

    Args:
        value: What to surface to the client when the graph pauses.
        response_schema: Optional schema of the value expected on resume, shown to clients so
            they can render a form. A JSON Schema ``dict`` is passed on as is (resume values
            are not checked); a pydantic model, ``TypedDict`` or dataclass is turned into JSON
            Schema for clients and validates the resume value, and the validated object is
            what ``interrupt`` returns.

    Returns:
        Any: When the node runs again after a resume: the resume value for this call,
        validated when ``response_schema`` supports it.

    Raises:
        GraphInterrupt: The first time, to pause the graph and surface ``value``.
        pydantic.ValidationError: The resume value does not validate against a pydantic
            model, ``TypedDict`` or dataclass ``response_schema``. Nothing is saved, so the
            interrupt can be answered again; ``is_invalid_resume`` recognises this error.
        RuntimeError: Called outside a running graph.
    """
    hook = _INTERRUPT_HOOK.get()
    if hook is None:
        raise RuntimeError("Called get_config outside of a runnable context")
    return hook(value, response_schema=response_schema)


# --------------------------------------------------------------------------------------------
# State and tasks
# --------------------------------------------------------------------------------------------


class StateUpdate(NamedTuple):
    """One state update of a batch applied to a thread.

    Attributes:
        values: The update; ``None`` for none.
        as_node: The node the update is attributed to.
        task_id: The task the update is attributed to.
    """

    values: dict[str, Any] | None
    as_node: str | None = None
    task_id: str | None = None


class PregelTask(NamedTuple):
    """A task of a step, as a state snapshot reports it.

    Attributes:
        id: The task's id.
        name: The node the task runs.
        path: The task's path in the graph.
        error: The error the task raised, if it failed.
        interrupts: The interrupts the task raised.
        state: The subgraph's state, or a config pointing at it, for subgraph nodes.
        result: The task's result, once it finished.
    """

    id: str
    name: str
    path: tuple[str | int | tuple[Any, ...], ...]
    error: Exception | None = None
    interrupts: tuple[Interrupt, ...] = ()
    state: RunnableConfig | StateSnapshot | None = None
    result: Any | None = None


class CacheKey(NamedTuple):
    """The cache key of a task.

    Attributes:
        ns: The cache entry's namespace.
        key: The entry's key.
        ttl: Seconds the entry lives; ``None`` for ever.
    """

    ns: tuple[str, ...]
    key: str
    ttl: int | None


@dataclasses.dataclass(weakref_slot=True, slots=True, frozen=True)
class PregelExecutableTask:
    """A task ready to run: its node, input, config, policies and where its writes go.

    Attributes:
        name: The node's name.
        input: The task's input.
        proc: The runnable that runs the node.
        writes: The task's writes, appended as it runs.
        config: The task's config.
        triggers: What scheduled the task.
        retry_policy: The retry policies, tried in order.
        cache_key: The task's cache key, when the node is cached.
        id: The task's id.
        path: The task's path in the graph.
        writers: Runnables that write the node's output to channels.
        subgraphs: The graphs the node runs as subgraphs.
        timeout: The node's timeout policy.
    """

    name: str
    input: Any
    proc: Runnable[Any, Any]
    writes: deque[tuple[str, Any]]
    config: RunnableConfig
    triggers: Sequence[str]
    retry_policy: Sequence[RetryPolicy]
    cache_key: CacheKey | None
    id: str
    path: tuple[str | int | tuple[Any, ...], ...]
    writers: Sequence[Runnable[Any, Any]] = ()
    subgraphs: Sequence[Any] = ()
    timeout: TimeoutPolicy | None = None


class StateSnapshot(NamedTuple):
    """The state of a graph at the start of a step.

    Attributes:
        values: The channels' values.
        next: The nodes the step's tasks run.
        config: The config that fetched this snapshot.
        metadata: The checkpoint's metadata.
        created_at: When the checkpoint was created.
        parent_config: The config of the parent snapshot, if any.
        tasks: The step's tasks; attempted ones may carry an error.
        interrupts: For the latest state, the interrupts still waiting for an answer; for a
            given checkpoint or in the history, each task's latest interrupt of that step,
            answered or not.
    """

    values: dict[str, Any] | Any
    next: tuple[str, ...]
    config: RunnableConfig
    metadata: dict[str, Any] | None
    created_at: str | None
    parent_config: RunnableConfig | None
    tasks: tuple[PregelTask, ...]
    interrupts: tuple[Interrupt, ...]


# --------------------------------------------------------------------------------------------
# Control values
# --------------------------------------------------------------------------------------------


class Send:
    """A packet for one node: run ``node`` in the next step with ``arg`` as its input.

    Returned from a conditional edge, a list of ``Send`` fans out, e.g. map-reduce: one task
    per item, each with its own input, which need not be the graph's state::

        def fan_out(state: OverallState) -> list[Send]:
            return [Send("generate_joke", {"subject": s}) for s in state["subjects"]]

    Equal when node, input and timeout are equal; hashable when the input is.

    Attributes:
        node: The target node.
        arg: The input for the target node.
        timeout: The timeout policy of this task; the node's own when ``None``.
    """

    __slots__ = ("node", "arg", "timeout")  # noqa: RUF023  (LangGraph's order)

    node: str
    arg: Any
    timeout: TimeoutPolicy | None

    def __init__(
        self,
        /,
        node: str,
        arg: Any,
        *,
        timeout: float | timedelta | TimeoutPolicy | None = None,
    ) -> None:
        """Address ``arg`` to ``node``.

        Args:
            node: The target node.
            arg: The input for the target node.
            timeout: The timeout policy of this task; a number or ``timedelta`` is a
                ``run_timeout``.
        """
        self.node = node
        self.arg = arg
        self.timeout = TimeoutPolicy.coerce(timeout)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Send):
            return False
        return (self.node, self.arg, self.timeout) == (other.node, other.arg, other.timeout)

    def __hash__(self) -> int:
        return hash((self.node, self.arg, self.timeout))

    def __repr__(self) -> str:
        extra = "" if self.timeout is None else f", timeout={self.timeout!r}"
        return f"Send(node={self.node!r}, arg={self.arg!r}{extra})"


# Send is logged with routing decisions and task inputs: the codec learns it where it lives, so a
# replay that imports nothing of the runtime still decodes it (the codec imports this module).
register_type(
    Send,
    encode=lambda send: {"node": send.node, "arg": send.arg},
    decode=lambda data: Send(data["node"], data["arg"]),
)

_ROOT_KEY = "__root__"
_annotated_keys_cache: weakref.WeakKeyDictionary[type[Any], tuple[str, ...]] = (
    weakref.WeakKeyDictionary()
)


def _annotated_keys(cls: type[Any]) -> tuple[str, ...]:
    """Every annotated name of ``cls`` and its bases, base classes first (cached)."""
    cached = _annotated_keys_cache.get(cls)
    if cached is not None:
        return cached
    keys: list[str] = []
    for klass in reversed(cls.__mro__):
        annotations = klass.__dict__.get("__annotations__")  # noqa: RUF063  (own ones only)
        if annotations is None:  # e.g. pydantic models on Python 3.14
            annotations = getattr(klass, "__annotations__", None)
        if isinstance(annotations, Mapping):
            keys.extend(annotations)
    return _annotated_keys_cache.setdefault(cls, tuple(keys))


def _object_update_items(update: Any, keys: Sequence[str]) -> list[tuple[str, Any]]:
    """``(key, value)`` pairs of an object update (dataclass, pydantic model...).

    Attributes the object lacks are skipped. A pydantic model also skips ``None`` values of
    fields that default to ``None`` and were not set explicitly.
    """
    unset: Any = object()
    if isinstance(update, BaseModel):
        explicitly_set: set[str] | None = update.model_fields_set
        defaults = {name: f.default for name, f in type(update).model_fields.items()}
    else:
        explicitly_set, defaults = None, {}
    items: list[tuple[str, Any]] = []
    for key in keys:
        value = getattr(update, key, unset)
        if value is unset:
            continue
        if (
            value is None
            and defaults.get(key, unset) is None
            and not (explicitly_set is not None and key in explicitly_set)
        ):
            continue
        items.append((key, value))
    return items


def _is_pair_list(update: Any) -> bool:
    """Whether ``update`` is a list or tuple of ``(str, value)`` pairs."""
    return isinstance(update, list | tuple) and all(
        isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str) for pair in update
    )


@dataclasses.dataclass(kw_only=True, slots=True, frozen=True)
class Command(Generic[N], ToolOutputMixin):
    """Commands for the graph: update its state, resume interrupts, choose the next nodes.

    A node (or tool) returns one to combine a state update with control flow; a client passes
    one to ``invoke()``/``stream()`` to resume a paused run.

    Attributes:
        graph: The graph the command is for: ``None`` for the current graph,
            ``Command.PARENT`` for the closest parent graph.
        update: The update to apply to the graph's state.
        resume: The value(s) to resume with (see :func:`interrupt`): a mapping of interrupt
            ids to resume values, or one value for the next interrupt.
        goto: Where to go next: a node name, a sequence of node names, a :class:`Send`, or a
            sequence of them.
        PARENT: The value of ``graph`` that addresses the parent graph.
    """

    graph: str | None = None
    update: Any | None = None
    resume: dict[str, Any] | Any | None = None
    goto: Send | Sequence[Send | N] | N = ()

    PARENT: ClassVar[Literal["__parent__"]] = "__parent__"

    def __repr__(self) -> str:
        # Only truthy fields are shown, converted as ``dataclasses.asdict`` converts them.
        shown = ", ".join(
            f"{name}={value!r}" for name, value in dataclasses.asdict(self).items() if value
        )
        return f"Command({shown})"

    def _update_as_tuples(self) -> Sequence[tuple[str, Any]]:
        """The update as ``(key, value)`` pairs.

        A dict gives its items; a list or tuple of ``(str, value)`` pairs is returned as is; an
        object with annotated fields (dataclass, pydantic model...) gives those fields;
        anything else not ``None`` is a single ``("__root__", update)`` pair.
        """
        update = self.update
        if isinstance(update, dict):
            return list(update.items())
        if _is_pair_list(update):
            return cast(Sequence[tuple[str, Any]], update)
        keys = _annotated_keys(type(update))
        if keys:
            return _object_update_items(update, keys)
        return [] if update is None else [(_ROOT_KEY, update)]


@dataclasses.dataclass(slots=True)
class Overwrite:
    """Write ``value`` to a reducer channel as is, bypassing its reducer.

    Two ``Overwrite`` values for one channel in the same step raise
    :class:`~rewind.errors.InvalidUpdateError`::

        class State(TypedDict):
            messages: Annotated[list[str], operator.add]

        def reset(state: State) -> dict[str, Any]:
            return {"messages": Overwrite(value=["b"])}  # replaces, does not append

    Attributes:
        value: The value to write.
        type: Discriminator (``"__overwrite__"``) that identifies an overwrite after it has
            been serialised to plain JSON.
    """

    value: Any
    type: Literal["__overwrite__"] = "__overwrite__"
