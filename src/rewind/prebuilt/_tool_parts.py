"""What ``ToolNode`` hands its tools and says when a call goes wrong: the injection markers
(``InjectedState``, ``InjectedStore``, ``ToolRuntime``) and how a tool's parameters are scanned
for them, the error texts and types, and the request a tool-call wrapper sees. Published
through :mod:`rewind.prebuilt.tool_node`, as LangGraph publishes them.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import types
import typing
import warnings
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Generic, Literal, TypedDict, Union, cast

from langchain_core.messages import (
    ToolCall,
    ToolMessage,
)
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, InjectedToolArg, ToolException
from langchain_core.tools.base import (
    TOOL_MESSAGE_BLOCK_TYPES,
    _DirectlyInjectedToolArg,
    _is_injected_arg_type,
    get_all_basemodel_annotations,
)
from pydantic import ValidationError
from typing_extensions import TypeVar, Unpack

from rewind.types import Command, StreamWriter

StateT = TypeVar("StateT", default=dict)  # type: ignore[type-arg]
ContextT = TypeVar("ContextT", default=None)

# The texts the model reads back when a call goes wrong: LangGraph's, to the character.
INVALID_TOOL_NAME_ERROR_TEMPLATE = (
    "Error: {requested_tool} is not a valid tool, try one of [{available_tools}]."
)
TOOL_CALL_ERROR_TEMPLATE = "Error: {error}\n Please fix your mistakes."
TOOL_EXECUTION_ERROR_TEMPLATE = (
    "Error executing tool '{tool_name}' with kwargs {tool_kwargs} with error:\n"
    " {error}\n"
    " Please fix the error and try again."
)
TOOL_INVOCATION_ERROR_TEMPLATE = (
    "Error invoking tool '{tool_name}' with kwargs {tool_kwargs} with error:\n"
    " {error}\n"
    " Please fix the error and try again."
)

# LangGraph's config key for the runtime of the running task. rewind keeps its runtime in a
# context variable instead, but a caller may still hand one over this way (as LangGraph does).
_CONFIG_KEY_RUNTIME = "__pregel_runtime"

_InputKind = Literal["list", "dict", "tool_calls"]
"""What the node was given: a list of messages, a state, or tool calls to run as they are."""

_ErrorHandling = bool | str | Callable[..., str] | type[Exception] | tuple[type[Exception], ...]
_ToolResult = ToolMessage | Command[Any] | list[Command[Any] | ToolMessage]

ToolCallWithContext = TypedDict(
    "ToolCallWithContext",
    {"tool_call": ToolCall, "__type": Literal["tool_call_with_context"], "state": Any},
)
"""A single tool call sent to the node (``Send``) together with the state it should see."""


# --------------------------------------------------------------------------------------------
# Injection markers and the runtime handed to tools
# --------------------------------------------------------------------------------------------


class InjectedState(InjectedToolArg):
    """Marks a tool argument that receives the graph state instead of a model-chosen value.

    ``Annotated[dict, InjectedState]`` receives the whole state; ``InjectedState("foo")``
    receives only the state's ``foo`` field. The argument is hidden from the model's schema.

    Args:
        field: The state field to inject, or ``None`` for the whole state.
    """

    def __init__(self, field: str | None = None) -> None:
        self.field = field


class InjectedStore(InjectedToolArg):
    """Marks a tool argument that receives the graph's long-term memory store.

    The graph must be compiled with one (``compile(store=...)``); injecting it otherwise fails
    as in LangGraph.
    """


def _write_nowhere(_chunk: Any) -> None:
    return None


@dataclasses.dataclass
class ToolRuntime(_DirectlyInjectedToolArg, Generic[ContextT, StateT]):
    """What a tool sees of the run when it declares a ``runtime: ToolRuntime`` parameter.

    Attributes:
        state: The graph state the node was given.
        context: The run's ``context=``.
        config: The ``RunnableConfig`` the tool is invoked with.
        stream_writer: Writes to the ``custom`` stream mode.
        tool_call_id: The id of the tool call being answered.
        store: The long-term memory store, if any.
        tools: Every tool of the node.
        execution_info: LangGraph's execution info when the runtime has one (rewind's has not).
        server_info: LangGraph's server info when the runtime has one (rewind's has not).
    """

    state: StateT
    context: ContextT
    config: RunnableConfig
    stream_writer: StreamWriter
    tool_call_id: str | None
    store: Any
    tools: list[BaseTool] = dataclasses.field(default_factory=list)
    execution_info: Any = None
    server_info: Any = None

    def emit_output_delta(self, delta: Any) -> None:
        """Stream a partial tool output: recorded in the run's log, it is a
        ``tool-output-delta`` of the ``tools`` stream mode (and of a v3 run stream's
        ``ToolCallTransformer`` handles). Outside a recorded run it does nothing."""
        from rewind.runtime.callbacks import Recorder

        manager = (self.config or {}).get("callbacks")
        handlers = manager if isinstance(manager, list) else getattr(manager, "handlers", [])
        for handler in handlers:
            if isinstance(handler, Recorder):
                handler.tool_output_delta(self.tool_call_id, delta)
                return


@dataclasses.dataclass(frozen=True)
class _Injections:
    """Which arguments of one tool the node fills in itself (found once, at construction)."""

    state: dict[str, str | None]
    """Argument name -> state field it receives (``None``: the whole state)."""
    store: str | None
    runtime: str | None
    hidden: frozenset[str]
    """Every argument marked as injected: values the model sends for them are dropped."""
    optional_state: frozenset[str]
    """State arguments with a default: a missing state field leaves them out."""

    def names(self) -> set[str]:
        found = set(self.state)
        found.update(name for name in (self.store, self.runtime) if name)
        return found


def _holds_marker(annotation: Any, marker: type[Any]) -> bool:
    """Whether ``annotation`` is, is an instance of, or contains (in ``Annotated`` metadata or
    ``Union`` members, at any depth) the marker class."""
    if isinstance(annotation, marker):
        return True
    if isinstance(annotation, type) and issubclass(annotation, marker):
        return True
    origin = typing.get_origin(annotation)
    if origin is None:
        return False
    if origin in (Union, types.UnionType, Annotated):
        return any(_holds_marker(part, marker) for part in typing.get_args(annotation))
    return origin is marker or (isinstance(origin, type) and issubclass(origin, marker))


def _marker_in(annotation: Any, marker: type[Any]) -> Any:
    """The marker an argument annotation carries: the part of the annotation that holds it
    (often the marker instance itself), ``True`` when the annotation is the marker type, or
    ``None`` when there is none."""
    parts = [part for part in typing.get_args(annotation) if _holds_marker(part, marker)]
    if len(parts) > 1:
        raise ValueError(
            f"A tool argument should not be annotated with {marker.__name__} more than once. "
            f"Found: {parts}"
        )
    if parts:
        return parts[0]
    return True if _holds_marker(annotation, marker) else None


def _scan_injections(tool: BaseTool) -> _Injections:
    schema = tool.get_input_schema()
    annotations: dict[str, Any] = {}
    function = getattr(tool, "func", None) or getattr(tool, "coroutine", None)
    if function is not None:
        annotations.update(typing.get_type_hints(function, include_extras=True))
    annotations.update(get_all_basemodel_annotations(schema))
    fields = getattr(schema, "model_fields", {})

    state: dict[str, str | None] = {}
    store: str | None = None
    runtime: str | None = None
    hidden: set[str] = set()
    optional: set[str] = set()
    for name, annotation in annotations.items():
        if _is_injected_arg_type(annotation):
            hidden.add(name)
        if name == "runtime" or _marker_in(annotation, ToolRuntime):
            runtime = name
        if _marker_in(annotation, InjectedStore):
            store = name
        wanted = _marker_in(annotation, InjectedState)
        if wanted:
            if isinstance(wanted, InjectedState) and wanted.field:
                state[name] = wanted.field
                field_info = fields.get(name)
                if field_info is not None and not field_info.is_required():
                    optional.add(name)
            else:
                state[name] = None
    return _Injections(
        state=state,
        store=store,
        runtime=runtime,
        hidden=frozenset(hidden),
        optional_state=frozenset(optional),
    )


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ToolInvocationError(ToolException):
    """The model called a tool with arguments that do not validate (raised by ToolNode only).

    Its ``message`` lists the argument errors the model can fix; errors about injected
    arguments are left out.

    Args:
        tool_name: The tool that was called.
        source: The validation error.
        tool_kwargs: The arguments the model sent.
        filtered_errors: The errors to show; all of ``source``'s when ``None``.
    """

    def __init__(
        self,
        tool_name: str,
        source: ValidationError,
        tool_kwargs: dict[str, Any],
        filtered_errors: list[Any] | None = None,
    ) -> None:
        if filtered_errors is None:
            detail = str(source)
        else:
            detail = "\n".join(
                ".".join(str(part) for part in error.get("loc", ()))
                + ": "
                + str(error.get("msg", "Unknown error"))
                for error in filtered_errors
            )
        self.message = TOOL_INVOCATION_ERROR_TEMPLATE.format(
            tool_name=tool_name, tool_kwargs=tool_kwargs, error=detail
        )
        self.tool_name = tool_name
        self.tool_kwargs = tool_kwargs
        self.source = source
        self.filtered_errors = filtered_errors
        super().__init__(self.message)


def _model_fixable_errors(error: ValidationError, injections: _Injections | None) -> list[Any]:
    """The validation errors about arguments the model chose, without injected values."""
    injected = injections.names() if injections is not None else set()
    kept: list[Any] = []
    for detail in error.errors():
        location = detail["loc"]
        if not location or location[0] in injected:
            continue
        entry: dict[str, Any] = dict(detail)
        if isinstance(entry.get("input"), dict):
            entry["input"] = {k: v for k, v in entry["input"].items() if k not in injected}
        kept.append(entry)
    return kept


def _default_handle_tool_errors(e: Exception) -> str:
    """The default ``handle_tool_errors``: answer invalid arguments, re-raise anything else."""
    if isinstance(e, ToolInvocationError):
        return e.message
    raise e


def _error_text(error: Exception, flag: _ErrorHandling) -> str:
    """The content of the error ``ToolMessage`` that answers ``error``."""
    if isinstance(flag, bool | tuple) or (isinstance(flag, type) and issubclass(flag, Exception)):
        return TOOL_CALL_ERROR_TEMPLATE.format(error=repr(error))
    if isinstance(flag, str):
        return flag
    if callable(flag):
        return cast(Callable[..., str], flag)(error)
    raise ValueError(
        "Got unexpected type of `handle_tool_error`. Expected bool, str or callable. "
        f"Received: {flag}"
    )


def _exception_types_of_handler(handler: Callable[..., str]) -> tuple[type[Exception], ...]:
    """The exception types an error-handler callable accepts, read from the annotation of its
    error parameter; every ``Exception`` when it has none."""
    params = list(inspect.signature(handler).parameters.values())
    if not params:
        return (Exception,)
    param = params[1] if len(params) == 2 and params[0].name in ("self", "cls") else params[0]
    try:
        hints = typing.get_type_hints(handler)
    except TypeError:  # a callable object: its __call__ carries the annotations
        try:
            hints = typing.get_type_hints(type(handler).__call__)
        except TypeError:
            hints = {}
    if param.name not in hints:
        return (Exception,)
    annotation = hints[param.name]
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = typing.get_args(annotation)
        if all(isinstance(m, type) and issubclass(m, Exception) for m in members):
            return cast(tuple[type[Exception], ...], members)
        raise ValueError(
            "All types in the error handler error annotation must be Exception types. "
            "For example, `def custom_handler(e: Union[ValueError, TypeError])`. "
            f"Got '{param.annotation}' instead."
        )
    if isinstance(annotation, type) and issubclass(annotation, Exception):
        return (annotation,)
    raise ValueError(
        "Arbitrary types are not supported in the error handler signature. Please annotate "
        "the error with either a specific Exception type or a union of Exception types. "
        "For example, `def custom_handler(e: ValueError)` or "
        "`def custom_handler(e: Union[ValueError, TypeError])`. "
        f"Got '{annotation}' instead."
    )


# --------------------------------------------------------------------------------------------
# Tool-call wrappers
# --------------------------------------------------------------------------------------------


class _RequestOverrides(TypedDict, total=False):
    tool_call: ToolCall
    tool: BaseTool
    state: Any


@dataclasses.dataclass
class ToolCallRequest:
    """One tool call as a ``wrap_tool_call`` / ``awrap_tool_call`` interceptor sees it.

    Attributes:
        tool_call: The call (name, args, id) from the model.
        tool: The tool that will run it, or ``None`` when the node has no tool of that name.
        state: The graph state the node was given.
        runtime: The :class:`ToolRuntime` the tool will see.
    """

    tool_call: ToolCall
    tool: BaseTool | None
    state: Any
    runtime: ToolRuntime[Any, Any]

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__:
            warnings.warn(
                f"Setting attribute '{name}' on ToolCallRequest is deprecated. "
                "Use the override() method instead to create a new instance with "
                "modified values.",
                DeprecationWarning,
                stacklevel=2,
            )
        object.__setattr__(self, name, value)

    def override(self, **overrides: Unpack[_RequestOverrides]) -> ToolCallRequest:
        """A copy of this request with some of ``tool_call``, ``tool``, ``state`` replaced."""
        return dataclasses.replace(self, **overrides)


ToolCallWrapper = Callable[
    [ToolCallRequest, Callable[[ToolCallRequest], ToolMessage | Command[Any]]],
    ToolMessage | Command[Any],
]
"""Intercepts a tool call: gets the request and a function running it (callable any number
of times, e.g. to retry), returns the call's answer."""

AsyncToolCallWrapper = Callable[
    [ToolCallRequest, Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]]],
    Awaitable[ToolMessage | Command[Any]],
]
"""The async form of :data:`ToolCallWrapper`."""


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def msg_content_output(output: Any) -> str | list[dict[str, Any]]:
    """Tool output as ``ToolMessage`` content: strings and lists of content blocks as they
    are, anything else as JSON (or ``str()`` when it is not JSON-serialisable)."""
    if isinstance(output, str):
        return output
    if isinstance(output, list) and all(
        isinstance(item, dict) and item.get("type") in TOOL_MESSAGE_BLOCK_TYPES for item in output
    ):
        return output
    try:
        return json.dumps(output, ensure_ascii=False)
    except Exception:
        return str(output)


def _error_message(content: str, call: ToolCall) -> ToolMessage:
    return ToolMessage(content=content, name=call["name"], tool_call_id=call["id"], status="error")
