"""``ToolNode`` and ``tools_condition``: the tool-calling half of an agent loop.

A :class:`ToolNode` reads the tool calls of the latest ``AIMessage`` in the state, runs them
(concurrently: ``asyncio.gather`` when awaited, a thread pool when invoked synchronously) and
answers each with a ``ToolMessage``. It behaves as LangGraph's ``langgraph.prebuilt.ToolNode``:
the same input shapes, the same outputs, the same error messages, ``Command`` results,
``InjectedState`` / ``InjectedStore`` / ``ToolRuntime`` injection and tool-call wrappers.

It is a LangChain ``Runnable`` that opens no run of its own: every tool is invoked with a copy
of the node's config, so the tools' callbacks (``on_tool_start`` / ``on_tool_end``) reach the
callback handlers of the graph task that runs the node, and rewind's recorder with them.

:func:`tools_condition` is the routing function that goes with it: ``"tools"`` while the last
message asks for tools, ``"__end__"`` once it does not.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from copy import copy, deepcopy
from typing import Any, Literal

from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    RemoveMessage,
    ToolCall,
    ToolMessage,
    convert_to_messages,
)
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import (
    ensure_config,
    get_config_list,
    get_executor_for_config,
)
from langchain_core.tools import BaseTool
from langchain_core.tools import tool as as_tool
from pydantic import BaseModel, ValidationError

from rewind.errors import GraphBubbleUp, is_invalid_resume
from rewind.graph.message import REMOVE_ALL_MESSAGES
from rewind.prebuilt._tool_parts import (
    _CONFIG_KEY_RUNTIME,
    INVALID_TOOL_NAME_ERROR_TEMPLATE,
    TOOL_CALL_ERROR_TEMPLATE,
    TOOL_EXECUTION_ERROR_TEMPLATE,
    TOOL_INVOCATION_ERROR_TEMPLATE,
    AsyncToolCallWrapper,
    InjectedState,
    InjectedStore,
    ToolCallRequest,
    ToolCallWithContext,
    ToolCallWrapper,
    ToolInvocationError,
    ToolRuntime,
    _default_handle_tool_errors,
    _error_message,
    _error_text,
    _ErrorHandling,
    _exception_types_of_handler,
    _Injections,
    _InputKind,
    _model_fixable_errors,
    _scan_injections,
    _ToolResult,
    _write_nowhere,
    msg_content_output,
)
from rewind.runtime.context import Runtime, get_runtime
from rewind.types import Command, Send

__all__ = [
    "INVALID_TOOL_NAME_ERROR_TEMPLATE",
    "TOOL_CALL_ERROR_TEMPLATE",
    "TOOL_EXECUTION_ERROR_TEMPLATE",
    "TOOL_INVOCATION_ERROR_TEMPLATE",
    "AsyncToolCallWrapper",
    "InjectedState",
    "InjectedStore",
    "ToolCallRequest",
    "ToolCallWithContext",
    "ToolCallWrapper",
    "ToolInvocationError",
    "ToolNode",
    "ToolRuntime",
    "msg_content_output",
    "tools_condition",
]

# Defined in _tool_parts (split by idea); they belong to this module, as LangGraph's do, for
# their reprs, pickles and the names a recorded error carries.
# (ToolRuntime and ToolCallRequest keep theirs: their annotations are read in their own module.)
for _published in (InjectedState, InjectedStore, ToolInvocationError, msg_content_output):
    _published.__module__ = __name__
del _published

# --------------------------------------------------------------------------------------------
# The node
# --------------------------------------------------------------------------------------------


class ToolNode(Runnable[Any, Any]):
    """Runs the tool calls of the latest ``AIMessage`` and answers each with a ``ToolMessage``.

    Input: a state with a ``messages_key`` list (a dict, or an object with that attribute),
    a list of messages, or a list of tool calls to run directly. Output: ``{messages_key:
    [ToolMessage, ...]}`` (a plain list for list-of-messages input), in call order; when a
    tool returns a ``Command``, a list mixing those commands with the other answers.

    Tool calls run concurrently: gathered on the event loop by ``ainvoke`` (where sync tools
    run in threads), in a thread pool by ``invoke``.

    Args:
        tools: The tools, as ``BaseTool`` objects or plain functions (made into tools).
        name: The node's name (its default name in a graph).
        tags: Tags of the node.
        handle_tool_errors: What to do when a tool fails. ``True``: answer with
            ``"Error: {repr(e)}\\n Please fix your mistakes."``; a string: answer with it; a
            callable: answer with what it returns for the exceptions its first parameter is
            annotated with (every exception when unannotated); an exception type or tuple of
            types: answer those with the default text; ``False``: raise. The default answers
            invalid arguments from the model (``ToolInvocationError``) and raises the rest.
            Calls to unknown tools are always answered with an error message.
        messages_key: The state key holding the messages, also used for the output.
        wrap_tool_call: Interceptor around each tool call (see :data:`ToolCallWrapper`).
        awrap_tool_call: Async interceptor, used by ``ainvoke`` (which falls back to
            ``wrap_tool_call``).
    """

    name: str | None = "tools"

    def __init__(
        self,
        tools: Sequence[BaseTool | Callable[..., Any]],
        *,
        name: str = "tools",
        tags: list[str] | None = None,
        handle_tool_errors: _ErrorHandling = _default_handle_tool_errors,
        messages_key: str = "messages",
        wrap_tool_call: ToolCallWrapper | None = None,
        awrap_tool_call: AsyncToolCallWrapper | None = None,
    ) -> None:
        self.name = name
        self.tags = tags
        self._handle_tool_errors = handle_tool_errors
        self._messages_key = messages_key
        self._wrap_tool_call = wrap_tool_call
        self._awrap_tool_call = awrap_tool_call
        self._tools_by_name: dict[str, BaseTool] = {}
        self._injections: dict[str, _Injections] = {}
        for item in tools:
            made = item if isinstance(item, BaseTool) else as_tool(item)
            self._tools_by_name[made.name] = made
            self._injections[made.name] = _scan_injections(made)

    def __repr__(self) -> str:
        return f"ToolNode(name={self.name!r}, tools={list(self._tools_by_name)!r})"

    @property
    def tools_by_name(self) -> dict[str, BaseTool]:
        """The node's tools by name."""
        return self._tools_by_name

    # --- running ------------------------------------------------------------------------------

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run the tool calls in a thread pool (``max_concurrency`` threads at most)."""
        config = ensure_config(config) if config is None else config
        calls, kind = self._parse_input(input)
        runtimes = self._runtimes(input, calls, config, kwargs.get("runtime"))
        run = functools.partial(self._run_one, kind=kind)
        with get_executor_for_config(config) as executor:
            outputs = list(executor.map(run, calls, runtimes))
        return self._combine(outputs, kind)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run the tool calls concurrently on the event loop."""
        config = ensure_config(config) if config is None else config
        calls, kind = self._parse_input(input)
        runtimes = self._runtimes(input, calls, config, kwargs.get("runtime"))
        outputs = await asyncio.gather(
            *(self._arun_one(call, rt, kind=kind) for call, rt in zip(calls, runtimes, strict=True))
        )
        return self._combine(list(outputs), kind)

    def _runtimes(
        self, input: Any, calls: list[ToolCall], config: RunnableConfig, given: Any
    ) -> list[ToolRuntime[Any, Any]]:
        """One ToolRuntime per call, each with its own copy of the config."""
        runtime = given if given is not None else _current_runtime(config)
        tools = list(self._tools_by_name.values())
        return [
            ToolRuntime(
                state=self._state_of(input),
                context=getattr(runtime, "context", None),
                config=call_config,
                stream_writer=getattr(runtime, "stream_writer", None) or _write_nowhere,
                tool_call_id=call["id"],
                store=getattr(runtime, "store", None),
                tools=tools,
                execution_info=getattr(runtime, "execution_info", None),
                server_info=getattr(runtime, "server_info", None),
            )
            for call, call_config in zip(calls, get_config_list(config, len(calls)), strict=True)
        ]

    def _run_one(self, call: ToolCall, runtime: ToolRuntime[Any, Any], *, kind: _InputKind) -> Any:
        request = ToolCallRequest(
            tool_call=call,
            tool=self._tools_by_name.get(call["name"]),
            state=runtime.state,
            runtime=runtime,
        )
        config = runtime.config
        if self._wrap_tool_call is None:
            return self._execute(request, kind, config)
        try:
            return self._wrap_tool_call(request, lambda req: self._execute(req, kind, config))
        except GraphBubbleUp:
            raise
        except Exception as exc:
            if not self._handle_tool_errors or is_invalid_resume(exc):
                raise
            return _error_message(_error_text(exc, self._handle_tool_errors), call)

    async def _arun_one(
        self, call: ToolCall, runtime: ToolRuntime[Any, Any], *, kind: _InputKind
    ) -> Any:
        request = ToolCallRequest(
            tool_call=call,
            tool=self._tools_by_name.get(call["name"]),
            state=runtime.state,
            runtime=runtime,
        )
        config = runtime.config
        try:
            if self._awrap_tool_call is not None:

                async def execute(req: ToolCallRequest) -> Any:
                    return await self._aexecute(req, kind, config)

                return await self._awrap_tool_call(request, execute)
            if self._wrap_tool_call is not None:
                # A sync interceptor only: the calls it makes run synchronously.
                return self._wrap_tool_call(request, lambda req: self._execute(req, kind, config))
        except GraphBubbleUp:
            raise
        except Exception as exc:
            if not self._handle_tool_errors or is_invalid_resume(exc):
                raise
            return _error_message(_error_text(exc, self._handle_tool_errors), call)
        return await self._aexecute(request, kind, config)

    def _execute(self, request: ToolCallRequest, kind: _InputKind, config: RunnableConfig) -> Any:
        tool, payload = self._prepare(request)
        if tool is None:
            return payload
        try:
            try:
                response = tool.invoke(payload, config)
            except ValidationError as exc:
                raise self._invalid_arguments(request.tool_call, exc) from exc
            return self._normalize(response, request.tool_call, kind)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            answer = self._answer_failure(exc, request.tool_call)
            if answer is None:
                raise
            return answer

    async def _aexecute(
        self, request: ToolCallRequest, kind: _InputKind, config: RunnableConfig
    ) -> Any:
        tool, payload = self._prepare(request)
        if tool is None:
            return payload
        try:
            try:
                response = await tool.ainvoke(payload, config)
            except ValidationError as exc:
                raise self._invalid_arguments(request.tool_call, exc) from exc
            return self._normalize(response, request.tool_call, kind)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            answer = self._answer_failure(exc, request.tool_call)
            if answer is None:
                raise
            return answer

    def _prepare(self, request: ToolCallRequest) -> tuple[BaseTool | None, Any]:
        """The tool and the call to invoke it with (injected arguments filled in), or no tool
        and the error message answering a call to an unknown tool."""
        call, tool = request.tool_call, request.tool
        if tool is None:
            if call["name"] not in self._tools_by_name:
                content = INVALID_TOOL_NAME_ERROR_TEMPLATE.format(
                    requested_tool=call["name"],
                    available_tools=", ".join(self._tools_by_name),
                )
                return None, _error_message(content, call)
            raise TypeError(f"Tool {call['name']} is not registered with ToolNode")
        injected = self._inject(call, request.runtime, tool)
        return tool, {**injected, "type": "tool_call"}

    def _invalid_arguments(self, call: ToolCall, error: ValidationError) -> Exception:
        """What a validation error of the tool's input becomes: a ToolInvocationError, except
        for a rejected resume value, which must stay as it is."""
        if is_invalid_resume(error):
            return error
        kept = _model_fixable_errors(error, self._injections.get(call["name"]))
        return ToolInvocationError(call["name"], error, call["args"], kept)

    def _answer_failure(self, error: Exception, call: ToolCall) -> ToolMessage | None:
        """The error message answering a failed call, or ``None`` when it must be raised."""
        flag = self._handle_tool_errors
        if is_invalid_resume(error) or not flag:
            return None
        handled: tuple[type[Exception], ...]
        if isinstance(flag, type) and issubclass(flag, Exception):
            handled = (flag,)
        elif isinstance(flag, tuple):
            handled = flag
        elif callable(flag) and not isinstance(flag, type):
            handled = _exception_types_of_handler(flag)
        else:
            handled = (Exception,)
        if not isinstance(error, handled):
            return None
        return _error_message(_error_text(error, flag), call)

    # --- input --------------------------------------------------------------------------------

    def _parse_input(self, input: Any) -> tuple[list[ToolCall], _InputKind]:
        """The tool calls to run and the input's kind."""
        if isinstance(input, list):
            last = input[-1]
            if isinstance(last, dict) and last.get("type") == "tool_call":
                return list(input), "tool_calls"
            messages: Any = input
            kind: _InputKind = "list"
        elif isinstance(input, dict) and input.get("__type") == "tool_call_with_context":
            return [input["tool_call"]], "tool_calls"
        else:
            messages = input.get(self._messages_key) if isinstance(input, dict) else None
            if not messages:
                messages = getattr(input, self._messages_key, None) or []
            if not messages:
                raise ValueError("No message found in input")
            kind = "dict"
        for message in reversed(messages):
            if isinstance(message, AIMessage):
                return list(message.tool_calls), kind
        raise ValueError("No AIMessage found in input")

    def _state_of(self, input: Any) -> Any:
        """The state tools see: the input, or the state sent along with a single tool call.

        Bare tool calls come with no state here (LangGraph reads its channels for them; rewind
        gives no node a way to read state that it was not given), so tools see ``{}``.
        """
        if isinstance(input, dict) and input.get("__type") == "tool_call_with_context":
            return input["state"]
        if (
            isinstance(input, list)
            and input
            and isinstance(input[-1], dict)
            and input[-1].get("type") == "tool_call"
        ):
            return {}
        return input

    def _inject(
        self, call: ToolCall, runtime: ToolRuntime[Any, Any], tool: BaseTool | None
    ) -> ToolCall:
        """The call with its injected arguments set (and any the model forged dropped)."""
        injections = self._injections.get(call["name"])
        if injections is None and tool is not None:
            injections = _scan_injections(tool)  # a tool a wrapper brought in
        if injections is None:
            return call
        values: dict[str, Any] = {}
        if injections.state:
            state = self._as_state(runtime.state, call, injections)
            for argument, key in injections.state.items():
                if key is None:
                    values[argument] = state
                elif isinstance(state, dict):
                    if key in state:
                        values[argument] = state[key]
                    elif argument not in injections.optional_state:
                        raise KeyError(key)
                elif hasattr(state, key):
                    values[argument] = getattr(state, key)
                elif argument not in injections.optional_state:
                    raise AttributeError(key)
        if injections.store:
            if runtime.store is None:
                raise ValueError(
                    "Cannot inject store into tools with InjectedStore annotations - "
                    "please compile your graph with a store."
                )
            values[injections.store] = runtime.store
        if injections.runtime:
            values[injections.runtime] = runtime
        injected = copy(call)
        kept = {k: v for k, v in call["args"].items() if k not in injections.hidden}
        injected["args"] = {**kept, **values}
        return injected

    def _as_state(self, state: Any, call: ToolCall, injections: _Injections) -> Any:
        """A list of messages given as state becomes ``{messages_key: list}`` when the tool
        only wants the whole state or the messages; other fields cannot come from a list."""
        if not isinstance(state, list):
            return state
        wanted = list(injections.state.values())
        if wanted[0] is None or wanted == [self._messages_key]:
            return {self._messages_key: state}
        text = f"Invalid input to ToolNode. Tool {call['name']} requires graph state dict as input."
        named = [key for key in wanted if key]
        if named:
            text += f" State should contain fields {', '.join(named)}."
        raise ValueError(text)

    # --- output -------------------------------------------------------------------------------

    def _normalize(self, response: Any, call: ToolCall, kind: _InputKind) -> _ToolResult:
        """Check what a tool returned and put it in the node's output form."""
        if isinstance(response, Command):
            return self._check_command(response, call, kind)
        if isinstance(response, ToolMessage):
            response.content = msg_content_output(response.content)  # type: ignore[assignment]
            return response
        if isinstance(response, list):
            if all(isinstance(item, Command | ToolMessage) for item in response):
                return self._check_answers(response, call, kind)
            raise TypeError(
                f"Tool {call['name']} returned a list with invalid element types: "
                "expected all Command or ToolMessage"
            )
        raise TypeError(f"Tool {call['name']} returned unexpected type: {type(response)}")

    def _check_answers(
        self, answers: list[Command[Any] | ToolMessage], call: ToolCall, kind: _InputKind
    ) -> list[Command[Any] | ToolMessage]:
        """A list a tool returned must answer its call exactly once, with a ToolMessage given
        directly or inside a command's update."""
        answering = 0
        for item in answers:
            if isinstance(item, ToolMessage):
                answering += item.tool_call_id == call["id"]
            elif isinstance(item.update, dict):
                answering += sum(
                    isinstance(m, ToolMessage) and m.tool_call_id == call["id"]
                    for m in item.update.get(self._messages_key, [])
                )
        if answering != 1:
            raise ValueError(
                f"Tool {call['name']} returned a list with {answering} messages bound to "
                f"tool_call_id {call['id']!r}; expected exactly one terminating ToolMessage."
            )
        checked: list[Command[Any] | ToolMessage] = []
        for item in answers:
            if isinstance(item, Command):
                checked.append(self._check_command(item, call, kind, must_answer=False))
            else:
                item.content = msg_content_output(item.content)  # type: ignore[assignment]
                checked.append(item)
        return checked

    def _check_command(
        self, command: Command[Any], call: ToolCall, kind: _InputKind, *, must_answer: bool = True
    ) -> Command[Any]:
        """Validate a command a tool returned: its update must match the input's form and,
        for the current graph, hold the ToolMessage answering the call (named after it)."""
        update = command.update
        if isinstance(update, dict):
            if kind == "list":
                raise ValueError(
                    "Tools can provide a dict in Command.update only when using dict with "
                    f"'{self._messages_key}' key as ToolNode input, got: {update} for tool "
                    f"'{call['name']}'"
                )
            checked = deepcopy(command)
            messages = (checked.update or {}).get(self._messages_key, [])
        elif isinstance(update, list):
            if kind != "list":
                raise ValueError(
                    "Tools can provide a list of messages in Command.update only when using "
                    f"list of messages as ToolNode input, got: {update} for tool "
                    f"'{call['name']}'"
                )
            checked = deepcopy(command)
            messages = checked.update
        else:
            return command
        messages = convert_to_messages(messages)
        if messages == [RemoveMessage(id=REMOVE_ALL_MESSAGES)]:
            return checked
        answered = False
        for message in messages:
            if isinstance(message, ToolMessage) and message.tool_call_id == call["id"]:
                message.name = call["name"]
                answered = True
        if must_answer and checked.graph is None and not answered:
            answer = '[ToolMessage("Success", tool_call_id=tool_call_id), ...]'
            example = (
                f'`Command(update={{"messages": {answer}}}, ...)`'
                if kind == "dict"
                else f"`Command(update={answer}, ...)`"
            )
            raise ValueError(
                "Expected to have a matching ToolMessage in Command.update for tool "
                f"'{call['name']}', got: {messages}. Every tool call (LLM requesting to call a "
                "tool) in the message history MUST have a corresponding ToolMessage. You can "
                f"fix it by modifying the tool to return {example}."
            )
        return checked

    def _combine(self, outputs: list[Any], kind: _InputKind) -> Any:
        """The node's return value from the answers, in call order."""
        answers: list[Any] = []
        for output in outputs:
            if isinstance(output, list):
                answers.extend(output)
            else:
                answers.append(output)

        def wrapped(messages: list[Any]) -> Any:
            return messages if kind == "list" else {self._messages_key: messages}

        if not any(isinstance(answer, Command) for answer in answers):
            return wrapped(answers)
        # Commands and messages side by side; the parent-graph commands that only fan out
        # (goto a list of Sends) are merged into one, placed last.
        combined: list[Any] = []
        sends: list[Send] | None = None
        for answer in answers:
            if not isinstance(answer, Command):
                combined.append(wrapped([answer]))
            elif (
                answer.graph == Command.PARENT
                and isinstance(answer.goto, list)
                and all(isinstance(target, Send) for target in answer.goto)
            ):
                sends = [*(sends or []), *answer.goto]
            else:
                combined.append(answer)
        if sends is not None:
            combined.append(Command(graph=Command.PARENT, goto=sends))
        return combined


def _current_runtime(config: RunnableConfig) -> Any:
    """The runtime of the task running the node: one handed over in the config (LangGraph's
    way), else rewind's current one, else an empty one (outside a graph)."""
    handed = (config.get("configurable") or {}).get(_CONFIG_KEY_RUNTIME)
    if handed is not None:
        return handed
    try:
        return get_runtime()
    except RuntimeError:
        return Runtime()


# --------------------------------------------------------------------------------------------
# Routing
# --------------------------------------------------------------------------------------------


def tools_condition(
    state: list[AnyMessage] | dict[str, Any] | BaseModel,
    messages_key: str = "messages",
) -> Literal["tools", "__end__"]:
    """Route to ``"tools"`` when the last message has tool calls, else to ``"__end__"``.

    Args:
        state: A list of messages, or a state holding them under ``messages_key`` (a dict or
            an object with that attribute).
        messages_key: Where the messages are.

    Raises:
        ValueError: when the state holds no messages.
    """
    if isinstance(state, list):
        last = state[-1]
    else:
        messages = (state.get(messages_key) if isinstance(state, dict) else None) or getattr(
            state, messages_key, None
        )
        if not messages:
            raise ValueError(f"No messages found in input state to tool_edge: {state}")
        last = messages[-1]
    return "tools" if len(getattr(last, "tool_calls", None) or ()) > 0 else "__end__"
