"""Errors raised by rewind.

Every error rewind raises on its own account derives from :class:`RewindError`. Errors carry
structured fields (``run_id``, ``seq``, ``path``) and a message that says what was wrong and
what to do about it. Driver errors are translated at the log boundary.

The graph runtime also raises LangGraph's errors under LangGraph's names, with LangGraph's
bases, messages and ``args``, so ``except`` clauses written against ``langgraph.errors`` catch
them unchanged; each of them derives from :class:`RewindError` as well::

    RewindError
    ├── EncodingError          (also a TypeError)   a value the codec cannot store
    ├── InvalidEventError      (also a ValueError)  an append that breaks the log's rules
    ├── LogError
    │   ├── ConcurrencyError                        a stale ``expected_seq``
    │   ├── UnknownRunError    (also a KeyError)    no such run in this log
    │   ├── RunEndedError                           an append after the run's end event
    │   ├── RedactionError                          a redaction refused; nothing was changed
    │   ├── LogClosedError                        the log was closed
    │   └── DatabaseError                           the database cannot be used as it is
    │       ├── NotARewindDatabaseError             not a rewind file (left untouched)
    │       ├── SchemaTooNewError                   written by a newer rewind (left untouched)
    │       └── SchemaOutdatedError                 older schema and upgrades are disabled
    ├── NotAV3RunError         (also a ValueError)  a v3 replay of a run not streamed as v3
    ├── RecordedRunError                            a replayed run's failure, not rebuildable
    │
    │   LangGraph-compatible (as ``langgraph.errors``; LangGraph's base is plain Exception
    │   unless noted):
    ├── GraphBubbleUp                               a signal that unwinds the run, not a failure
    │   ├── GraphInterrupt                          a (sub)graph stopped at ``interrupt()``
    │   │   └── NodeInterrupt                       deprecated: raised by a node to interrupt
    │   ├── ParentCommand                           a ``Command`` addressed to the parent graph
    │   └── GraphDrained                            the run stopped early on a drain request
    ├── GraphRecursionError    (also a RecursionError)  ``recursion_limit`` steps exhausted
    ├── InvalidUpdateError                          a channel got an invalid set of updates
    ├── EmptyInputError                             the graph was given empty input
    ├── EmptyChannelError                           a channel read before its first write
    ├── TaskNotFound                                a task the executor cannot find
    ├── UnknownInterruptError                       a strict resume matching no pending interrupt
    ├── NodeCancelledError                          a node body raised ``asyncio.CancelledError``
    └── NodeTimeoutError                            a node attempt exceeded a timeout

Also LangGraph-compatible, outside the tree: :class:`ErrorCode` and
:func:`create_error_message` (messages with a troubleshooting link), :class:`NodeError` (the
failure handed to a node's error handler, not an exception) and :func:`is_invalid_resume`.
``LangGraphDeprecationWarning`` and its ``LangGraphDeprecatedSinceV10``/``V11`` subclasses are
the warning categories of LangGraph's deprecations (``DeprecationWarning`` subclasses).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

from typing_extensions import deprecated

if TYPE_CHECKING:
    from rewind.types import Command, Interrupt

__all__ = [
    "ConcurrencyError",
    "CorruptPayloadError",
    "DatabaseError",
    "EmptyChannelError",
    "EmptyInputError",
    "EncodingError",
    "ErrorCode",
    "FencedError",
    "GraphBubbleUp",
    "GraphDrained",
    "GraphInterrupt",
    "GraphRecursionError",
    "InvalidEventError",
    "InvalidUpdateError",
    "LogClosedError",
    "LogError",
    "NodeCancelledError",
    "NodeError",
    "NodeInterrupt",
    "NodeTimeoutError",
    "NotARewindDatabaseError",
    "NotAV3RunError",
    "ParentCommand",
    "ReadOnlyDatabaseError",
    "RecordedRunError",
    "RedactionError",
    "RewindError",
    "RunEndedError",
    "SchemaOutdatedError",
    "SchemaTooNewError",
    "TaskNotFound",
    "UnknownInterruptError",
    "UnknownRunError",
    "UnknownThreadError",
    "create_error_message",
    "is_invalid_resume",
]


class RewindError(Exception):
    """Root of every error rewind raises on its own account."""


class EncodingError(RewindError, TypeError):
    """A payload holds a value the codec cannot encode; nothing of the append was written.

    Attributes:
        path: Where in the payload the value sits, e.g. ``payload['messages'][2]``.
        type_name: The fully qualified type of the value.
    """

    def __init__(self, path: str, type_name: str, detail: str = "") -> None:
        self.path = path
        self.type_name = type_name
        hint = (
            "Store plain JSON values, dataclasses, pydantic models, LangChain messages, bytes, "
            "datetimes, UUIDs, tuples or sets, or register a codec for the type."
        )
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"cannot encode {path} of type {type_name}{extra}; nothing was written. {hint}"
        )


class InvalidEventError(RewindError, ValueError):
    """An append breaks a rule of the log (e.g. a run that does not begin with ``run.started``)."""

    def __init__(self, run_id: str, reason: str) -> None:
        self.run_id = run_id
        self.reason = reason
        super().__init__(f"invalid append to run {run_id}: {reason}; nothing was written")


class LogError(RewindError):
    """An operation on the event log failed."""


class ConcurrencyError(LogError):
    """The caller's ``expected_seq`` is stale: another writer appended to the run first.

    Attributes:
        run_id: The run appended to.
        expected_seq: The seq the caller expected its first event to get.
        actual_seq: The seq the run's next event actually gets.
    """

    def __init__(self, run_id: str, expected_seq: int, actual_seq: int) -> None:
        self.run_id = run_id
        self.expected_seq = expected_seq
        self.actual_seq = actual_seq
        super().__init__(
            f"run {run_id}: expected to append at seq {expected_seq} but the run is at seq "
            f"{actual_seq}; another writer appended first. Nothing of this batch was stored: "
            "re-read the run and retry from its current seq."
        )


class UnknownRunError(LogError, KeyError):
    """No run with this id exists in the log."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(run_id)

    def __str__(self) -> str:
        return (
            f"no run {self.run_id!r} in this log; list the runs with log.list_runs() "
            "(or `rewind runs`) and check the database path"
        )


class UnknownThreadError(LogError, KeyError):
    """No run of the log belongs to this thread."""

    def __init__(self, thread_id: str) -> None:
        self.thread_id = thread_id
        super().__init__(thread_id)

    def __str__(self) -> str:
        return (
            f"no thread {self.thread_id!r} in this log; list the threads with "
            "log.list_threads() and check the database path"
        )


class RunEndedError(LogError):
    """An append to a run whose ``run.ended`` event is already in the log."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(
            f"run {run_id} has ended; its log is closed. Start a new run on the thread instead."
        )


class RedactionError(LogError):
    """A redaction was refused (a run still running, a broken chain, an event that cannot be
    redacted as asked); nothing was changed.

    Attributes:
        run_id: The run concerned, if one is.
        seq: The event concerned, if one is.
    """

    def __init__(self, message: str, *, run_id: str | None = None, seq: int | None = None) -> None:
        self.run_id = run_id
        self.seq = seq
        super().__init__(f"{message}; nothing was redacted")


class FencedError(LogError):
    """An append by a worker that no longer holds its run's lease (it paused, or lost the
    database, for longer than the lease, and another worker took the run over): refused, so the
    two never interleave. Nothing of the batch was stored.

    Attributes:
        run_id: The run in the log appended to.
        queued_run_id: The API's run it is an attempt of.
    """

    def __init__(self, run_id: str, queued_run_id: str) -> None:
        self.run_id = run_id
        self.queued_run_id = queued_run_id
        super().__init__(
            f"run {run_id}: this worker's lease on run {queued_run_id} expired and another "
            "worker took it over; the append was refused and nothing was stored. The run goes "
            "on in the other worker."
        )


class CorruptPayloadError(LogError, ValueError):
    """A stored payload cannot be decoded: the bytes are not what rewind wrote (a damaged
    file, or a row written by something else)."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"a stored payload cannot be decoded ({reason}); the database may be damaged: "
            "`rewind db verify` checks the file and every hash chain"
        )


class LogClosedError(LogError):
    """The log was closed; open a new one."""


class DatabaseError(LogError):
    """The database cannot be used as it is. The file was not modified.

    Attributes:
        url: The database the log was asked to open.
    """

    def __init__(self, url: str, message: str) -> None:
        self.url = url
        super().__init__(message)


class NotARewindDatabaseError(DatabaseError):
    """The file is not a rewind database (random bytes, or another application's SQLite file)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            url,
            f"{url} is not a rewind database ({reason}); it was left untouched. "
            "Point rewind at a new path or at an existing rewind database.",
        )


class ReadOnlyDatabaseError(DatabaseError):
    """The database can only be read here (a read-only file, directory or filesystem, or a log
    opened with ``read_only=True``) and something asked to write to it. Nothing was written."""

    def __init__(self, url: str, reason: str) -> None:
        self.reason = reason
        super().__init__(
            url,
            f"{url} cannot be written: {reason}. Read commands (and open_log(..., "
            "read_only=True)) read it as it is; to write, make it writable or copy it to a "
            "writable place (`rewind db copy SRC DST`).",
        )


class SchemaTooNewError(DatabaseError):
    """The database was written by a newer rewind whose schema this version does not know."""

    def __init__(self, url: str, found: str, supported: str) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            url,
            f"{url} has schema revision {found!r}, newer than this rewind knows (newest: "
            f"{supported!r}); it was left untouched. Upgrade rewind to open it.",
        )


class SchemaOutdatedError(DatabaseError):
    """The database has an older schema and the log was opened with upgrades disabled."""

    def __init__(self, url: str, found: str | None, head: str) -> None:
        self.found = found
        self.head = head
        super().__init__(
            url,
            f"{url} has schema revision {found!r}, older than this rewind's {head!r}. "
            "Run `rewind db upgrade` (or open the log with upgrade=True) to migrate it.",
        )


# --------------------------------------------------------------------------------------------
# LangGraph-compatible errors. Names, bases, messages and ``args`` follow ``langgraph.errors``
# (1.2.22); RewindError is an extra base that adds no state or methods.
# --------------------------------------------------------------------------------------------

_DOCS_ERRORS_URL = "https://docs.langchain.com/oss/python/langgraph/errors/"


class LangGraphDeprecationWarning(DeprecationWarning):
    """A deprecation of LangGraph API that rewind reproduces, with version information.

    ``str()`` of the warning appends when the deprecation started and when the API is
    expected to go, e.g. ``"... Deprecated in LangGraph V1.0 to be removed in V2.0."``.

    Attributes:
        message: The description, without a trailing period.
        since: The LangGraph version, ``(major, minor)``, that deprecated the API.
        expected_removal: The version expected to remove it (default: the next major).
    """

    message: str
    since: tuple[int, int]
    expected_removal: tuple[int, int]

    def __init__(
        self,
        message: str,
        *args: object,
        since: tuple[int, int],
        expected_removal: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(message, *args)
        self.message = message.rstrip(".")
        self.since = since
        self.expected_removal = (since[0] + 1, 0) if expected_removal is None else expected_removal

    def __str__(self) -> str:
        since, removal = self.since, self.expected_removal
        return (
            f"{self.message}. Deprecated in LangGraph V{since[0]}.{since[1]} "
            f"to be removed in V{removal[0]}.{removal[1]}."
        )


class LangGraphDeprecatedSinceV05(LangGraphDeprecationWarning):
    """API deprecated since LangGraph 0.5, to be removed in 2.0."""

    def __init__(self, message: str, *args: object) -> None:
        super().__init__(message, *args, since=(0, 5), expected_removal=(2, 0))


class LangGraphDeprecatedSinceV10(LangGraphDeprecationWarning):
    """API deprecated since LangGraph 1.0, to be removed in 2.0."""

    def __init__(self, message: str, *args: object) -> None:
        super().__init__(message, *args, since=(1, 0), expected_removal=(2, 0))


class LangGraphDeprecatedSinceV11(LangGraphDeprecationWarning):
    """API deprecated since LangGraph 1.1, to be removed in 3.0."""

    def __init__(self, message: str, *args: object) -> None:
        super().__init__(message, *args, since=(1, 1), expected_removal=(3, 0))


class ErrorCode(Enum):
    """Codes of the errors that have a troubleshooting page in LangGraph's documentation."""

    GRAPH_RECURSION_LIMIT = "GRAPH_RECURSION_LIMIT"
    INVALID_CONCURRENT_GRAPH_UPDATE = "INVALID_CONCURRENT_GRAPH_UPDATE"
    INVALID_GRAPH_NODE_RETURN_VALUE = "INVALID_GRAPH_NODE_RETURN_VALUE"
    MULTIPLE_SUBGRAPHS = "MULTIPLE_SUBGRAPHS"
    INVALID_CHAT_HISTORY = "INVALID_CHAT_HISTORY"


def create_error_message(*, message: str, error_code: ErrorCode) -> str:
    """Append the troubleshooting link for ``error_code`` to ``message``.

    Args:
        message: What went wrong.
        error_code: The code whose documentation page to link.

    Returns:
        ``message``, a newline, then ``For troubleshooting, visit: <url>``.
    """
    return f"{message}\nFor troubleshooting, visit: {_DOCS_ERRORS_URL}{error_code.value}"


class NotAV3RunError(RewindError, ValueError):
    """A v3 replay (:func:`rewind.stream.replay_events`) of a run that no v3 run stream read.

    Attributes:
        run_id: The run.
    """

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(
            f"run {run_id!r} was not streamed with stream_events(version='v3') or "
            "astream_events(version='v3'): its chat models did not stream content-block "
            "events, so it has no v3 form. Replay its stream modes instead: "
            f"replay(log, {run_id!r}, stream_mode=[...])"
        )


class RecordedRunError(RewindError):
    """A replayed run's failure, raised where the live stream raised the run's own error,
    when the log holds only that error's type and message (not the exception itself).

    Attributes:
        run_id: The run.
        type: The recorded error's class name.
        message: The recorded error's message.
    """

    def __init__(self, run_id: str, type: str | None, message: str | None) -> None:
        self.run_id = run_id
        self.type = type
        self.message = message
        super().__init__(f"run {run_id!r} failed with {type}: {message}")


class GraphBubbleUp(RewindError):
    """Base of the signals that unwind a run to its caller (interrupts, parent commands, drains).

    They are not failures: the runtime stops the step, keeps what it must and surfaces them.
    """


class GraphDrained(GraphBubbleUp):
    """The run stopped cooperatively at a super-step boundary because a drain was requested.

    Its checkpoint was saved, so the run can be resumed later.

    Attributes:
        reason: Why the drain was requested (``"shutdown"`` by default).
    """

    def __init__(self, reason: str = "shutdown") -> None:
        self.reason = reason
        super().__init__(f"Graph drained: {reason}")


class GraphRecursionError(RecursionError, RewindError):
    """The graph ran ``recursion_limit`` super-steps without finishing.

    The limit guards against endless loops. If the graph genuinely needs more steps, pass a
    higher limit in the config, e.g. ``graph.invoke(inputs, {"recursion_limit": 1000})``.

    Troubleshooting: https://docs.langchain.com/oss/python/langgraph/GRAPH_RECURSION_LIMIT
    """


class InvalidUpdateError(RewindError):
    """A channel received a set of updates it cannot apply.

    Typical causes: several nodes wrote one last-value key in the same step, or a node
    returned something that is not a state update. Troubleshooting:
    https://docs.langchain.com/oss/python/langgraph/INVALID_CONCURRENT_GRAPH_UPDATE and
    https://docs.langchain.com/oss/python/langgraph/INVALID_GRAPH_NODE_RETURN_VALUE
    """


class GraphInterrupt(GraphBubbleUp):
    """A (sub)graph stopped at one or more interrupts.

    The root graph catches it and reports the interrupts; user code does not normally see it.
    ``args[0]`` holds the interrupts as they were passed.

    Args:
        interrupts: The :class:`~rewind.types.Interrupt` objects raised.
    """

    def __init__(self, interrupts: Sequence[Interrupt] = ()) -> None:
        super().__init__(interrupts)


_NODE_INTERRUPT_DEPRECATION = (
    "NodeInterrupt is deprecated. Please use [`interrupt`][rewind.types.interrupt] instead."
)


@deprecated(_NODE_INTERRUPT_DEPRECATION, category=None)
class NodeInterrupt(GraphInterrupt):
    """Raised by a node to interrupt the run (deprecated: call ``interrupt()`` instead).

    Constructing one emits a :class:`LangGraphDeprecatedSinceV10` warning.

    Args:
        value: The value to surface to the client.
        id: The interrupt's id; LangGraph's placeholder id when omitted.
    """

    def __init__(self, value: Any, id: str | None = None) -> None:
        warnings.warn(
            "NodeInterrupt is deprecated. Please use `rewind.types.interrupt` instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        from rewind.types import Interrupt

        interrupt = Interrupt(value=value) if id is None else Interrupt(value=value, id=id)
        super().__init__([interrupt])


class ParentCommand(GraphBubbleUp):
    """Carries a ``Command(graph=Command.PARENT)`` out of a subgraph to its parent.

    Args:
        command: The command, kept as ``args[0]``.
    """

    args: tuple[Command[Any]]

    def __init__(self, command: Command[Any]) -> None:
        super().__init__(command)


class EmptyInputError(RewindError):
    """The graph received an empty input."""


class EmptyChannelError(RewindError):
    """A channel was read before anything was written to it.

    LangGraph defines this one in ``langgraph.checkpoint.base`` and re-exports it from
    ``langgraph.errors``.
    """


class TaskNotFound(RewindError):
    """The executor cannot find a task (distributed mode)."""


class UnknownInterruptError(RewindError):
    """A strict-mode resume does not match the interrupts that are pending.

    Nothing was written when it is raised, so the pending interrupts can still be answered.
    A single resume value while no interrupt is pending is not an error: it resumes a graph
    stopped at a static breakpoint.

    Args:
        message: The error message.
        reason: ``"not_pending"`` (the resume names interrupts that are not pending, listed in
            ``interrupt_ids``), ``"empty_map"`` (an empty map of answers) or ``"ambiguous"``
            (one bare value while several interrupts wait).
        interrupt_ids: The ids the resume named that are not pending.
        pending_ids: The ids still waiting for an answer.

    Attributes:
        reason: As passed.
        interrupt_ids: As passed, as a tuple.
        pending_ids: As passed, as a tuple.
    """

    reason: Literal["not_pending", "empty_map", "ambiguous"]
    interrupt_ids: tuple[str, ...]
    pending_ids: tuple[str, ...]

    def __init__(
        self,
        message: str,
        *,
        reason: Literal["not_pending", "empty_map", "ambiguous"],
        interrupt_ids: Sequence[str] = (),
        pending_ids: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.interrupt_ids = tuple(interrupt_ids)
        self.pending_ids = tuple(pending_ids)


@dataclass(frozen=True, slots=True)
class NodeError:
    """What a node-level error handler is told about the failure it handles.

    A handler registered with ``add_node(..., error_handler=...)`` receives it through a
    parameter annotated ``NodeError``.

    Attributes:
        node: The name of the node that failed.
        error: The exception the node raised.
    """

    node: str
    error: BaseException


class NodeCancelledError(RewindError):
    """A node's own code raised ``asyncio.CancelledError``.

    Cancellation the runtime starts (e.g. stopping sibling tasks after a failure) stays silent;
    a node that raises ``CancelledError`` itself is reported as a failure of that node, as this
    error, so the run ends in ``error`` instead of looking successful.

    Args:
        node: The node's name.
        message: The message; a default naming the node when empty or omitted.

    Attributes:
        node: The node's name.
    """

    node: str

    def __init__(self, node: str, message: str | None = None) -> None:
        super().__init__(message if message else f"Node {node!r} raised asyncio.CancelledError")
        self.node = node


class NodeTimeoutError(RewindError):
    """A node attempt ran past its idle timeout or its run timeout.

    It is deliberately not a built-in ``TimeoutError`` (an ``OSError``), so the default
    ``RetryPolicy`` retries it.

    Args:
        node: The node's name.
        elapsed: Seconds the attempt had run.
        kind: Which timeout fired, ``"idle"`` or ``"run"``.
        idle_timeout: The configured idle timeout, if any (required when ``kind="idle"``).
        run_timeout: The configured run timeout, if any (required when ``kind="run"``).

    Raises:
        ValueError: ``kind`` is neither ``"idle"`` nor ``"run"``, or the timeout it names is
            ``None``.

    Attributes:
        timeout: The timeout that fired.
        node, elapsed, kind, idle_timeout, run_timeout: As passed.
    """

    node: str
    timeout: float
    run_timeout: float | None
    idle_timeout: float | None
    elapsed: float
    kind: Literal["idle", "run"]

    def __init__(
        self,
        node: str,
        elapsed: float,
        *,
        kind: Literal["idle", "run"],
        idle_timeout: float | None = None,
        run_timeout: float | None = None,
    ) -> None:
        if kind not in ("idle", "run"):
            raise ValueError("kind must be 'idle' or 'run'")
        fired = idle_timeout if kind == "idle" else run_timeout
        if fired is None:
            raise ValueError(f"{kind}_timeout is required when kind={kind!r}")
        if kind == "idle":
            text = (
                f"Node '{node}' exceeded its idle timeout of {fired:.3f}s without making "
                f"progress (elapsed: {elapsed:.3f}s)."
            )
        else:
            text = (
                f"Node '{node}' exceeded its run timeout of {fired:.3f}s (elapsed: {elapsed:.3f}s)."
            )
        super().__init__(text)
        self.timeout = fired
        self.node = node
        self.elapsed = elapsed
        self.kind = kind
        self.idle_timeout = idle_timeout
        self.run_timeout = run_timeout


# The marker attribute is LangGraph's own, so LangGraph-aware code (e.g. its ToolNode) also
# recognises resumes rejected by rewind.
_INVALID_RESUME_MARK = "_langgraph_invalid_resume"


def _mark_invalid_resume(error: BaseException) -> None:
    """Tag ``error`` as the rejection of a resume value by an interrupt's ``response_schema``."""
    setattr(error, _INVALID_RESUME_MARK, True)


def is_invalid_resume(error: BaseException) -> bool:
    """Tell whether ``error`` rejected a resume value that did not match ``response_schema``.

    ``interrupt()`` raises a ``pydantic.ValidationError`` when the value a graph is resumed
    with does not validate against the interrupt's ``response_schema``. This tells that error
    apart from other validation errors (e.g. invalid tool arguments), so the interrupt can be
    answered again.

    Args:
        error: Any exception.

    Returns:
        True only for errors tagged as rejected resume values.
    """
    return getattr(error, _INVALID_RESUME_MARK, False) is True
