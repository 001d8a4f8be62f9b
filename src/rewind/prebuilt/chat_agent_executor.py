"""``create_react_agent``: LangGraph's prebuilt tool-calling agent, built on rewind's graph.

The graph it returns is an ordinary compiled ``StateGraph`` (so every run of it is recorded,
streamed and replayed like any other): an ``agent`` node calls the chat model with the
conversation (after an optional prompt), a ``tools`` node (a :class:`ToolNode`) runs the tool
calls it asked for, and the two alternate until the model answers without tool calls, a tool
that returns directly has answered, or too few steps remain for another round. Optional nodes:
``pre_model_hook`` (before each model call), ``post_model_hook`` (after it) and
``generate_structured_response`` (a last model call for ``response_format``).

As in LangGraph 1.x the function and its state classes are deprecated there in favour of
``langchain.agents``; they warn as LangGraph's do.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Literal, NotRequired, TypeVar, cast, get_type_hints

from langchain_core.language_models import BaseChatModel, LanguageModelInput, LanguageModelLike
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, SystemMessage, ToolMessage
from langchain_core.runnables import (
    Runnable,
    RunnableBinding,
    RunnableConfig,
    RunnableLambda,
    RunnableSequence,
)
from langchain_core.tools import BaseTool
from pydantic import BaseModel
from typing_extensions import TypedDict, deprecated

from rewind.errors import ErrorCode, LangGraphDeprecatedSinceV10, create_error_message
from rewind.graph import END, StateGraph
from rewind.graph.message import add_messages
from rewind.managed import RemainingSteps
from rewind.prebuilt.tool_node import ToolNode
from rewind.runtime.context import Runtime
from rewind.runtime.tasks import SyncAsyncNode
from rewind.types import Send

__all__ = [
    "AgentState",
    "AgentStatePydantic",
    "AgentStateWithStructuredResponse",
    "AgentStateWithStructuredResponsePydantic",
    "create_react_agent",
    "create_tool_calling_executor",
]

StructuredResponse = dict[str, Any] | BaseModel
StructuredResponseSchema = dict[str, Any] | type[BaseModel]


@deprecated(
    "AgentState has been moved to `langchain.agents`. Please update your import to "
    "`from langchain.agents import AgentState`.",
    category=LangGraphDeprecatedSinceV10,
)
class AgentState(TypedDict):
    """The state of the agent."""

    messages: Annotated[Sequence[BaseMessage], add_messages]
    remaining_steps: NotRequired[RemainingSteps]


@deprecated(
    "AgentStatePydantic has been deprecated in favor of AgentState in `langchain.agents`.",
    category=LangGraphDeprecatedSinceV10,
)
class AgentStatePydantic(BaseModel):
    """The state of the agent."""

    messages: Annotated[Sequence[BaseMessage], add_messages]
    remaining_steps: RemainingSteps = 25


with warnings.catch_warnings():  # subclassing the deprecated classes here is not the user's
    warnings.simplefilter("ignore", LangGraphDeprecatedSinceV10)

    @deprecated(
        "AgentStateWithStructuredResponse has been deprecated in favor of AgentState in "
        "`langchain.agents`.",
        category=LangGraphDeprecatedSinceV10,
    )
    class AgentStateWithStructuredResponse(AgentState):
        """The state of the agent with a structured response."""

        structured_response: StructuredResponse

    @deprecated(
        "AgentStateWithStructuredResponsePydantic has been deprecated in favor of AgentState "
        "in `langchain.agents`.",
        category=LangGraphDeprecatedSinceV10,
    )
    class AgentStateWithStructuredResponsePydantic(AgentStatePydantic):
        """The state of the agent with a structured response."""

        structured_response: StructuredResponse


StateSchema = TypeVar("StateSchema")

Prompt = (
    SystemMessage | str | Callable[[Any], LanguageModelInput] | Runnable[Any, LanguageModelInput]
)

PROMPT_RUNNABLE_NAME = "Prompt"


def _value(state: Any, key: str, default: Any = None) -> Any:
    """A key of a dict state, or an attribute of a model state."""
    return state.get(key, default) if isinstance(state, dict) else getattr(state, key, default)


def _prompt_runnable(prompt: Prompt | None) -> Runnable[Any, Any]:
    """What turns the agent's state into the model's input."""
    if prompt is None:
        return RunnableLambda(lambda state: _value(state, "messages"), name=PROMPT_RUNNABLE_NAME)
    if isinstance(prompt, str | SystemMessage):
        system = SystemMessage(content=prompt) if isinstance(prompt, str) else prompt
        return RunnableLambda(
            lambda state: [system, *_value(state, "messages")], name=PROMPT_RUNNABLE_NAME
        )
    if isinstance(prompt, Runnable):
        return prompt
    if inspect.iscoroutinefunction(prompt):
        return RunnableLambda(_no_sync(prompt), afunc=prompt, name=PROMPT_RUNNABLE_NAME)
    if callable(prompt):
        return RunnableLambda(prompt, name=PROMPT_RUNNABLE_NAME)
    raise ValueError(f"Got unexpected type for `prompt`: {type(prompt)}")


def _no_sync(afunc: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    def sync(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{afunc.__name__} is async: run the agent with the async API")

    return sync


def _chat_model_of(model: LanguageModelLike) -> Any:
    """The chat model in ``model`` (a binding's, or a sequence's first model step)."""
    if isinstance(model, RunnableSequence):
        model = next(
            (s for s in model.steps if isinstance(s, RunnableBinding | BaseChatModel)), model
        )
    return model


def _should_bind_tools(
    model: LanguageModelLike, tools: Sequence[BaseTool], num_builtin: int = 0
) -> bool:
    """Whether the agent binds the tools itself: not when the model has them bound already
    (then they must be the same tools)."""
    model = _chat_model_of(model)
    if not isinstance(model, RunnableBinding) or "tools" not in model.kwargs:
        return True
    bound_tools = model.kwargs["tools"]
    if len(tools) != len(bound_tools) - num_builtin:
        raise ValueError(
            "Number of tools in the model.bind_tools() and tools passed to create_react_agent "
            f"must match Got {len(tools)} tools, expected {len(bound_tools) - num_builtin}"
        )
    bound_names = set()
    for bound in bound_tools:
        if bound.get("type") == "function":
            bound_names.add(bound["function"]["name"])
        elif bound.get("name"):
            bound_names.add(bound["name"])
    if missing := {tool.name for tool in tools} - bound_names:
        raise ValueError(f"Missing tools '{missing}' in the model.bind_tools()")
    return False


def _get_model(model: LanguageModelLike) -> BaseChatModel:
    """The chat model under a binding (``model.bind_tools(...)``) or the model itself."""
    model = _chat_model_of(model)
    if isinstance(model, RunnableBinding):
        model = model.bound
    if not isinstance(model, BaseChatModel):
        raise TypeError(
            "Expected `model` to be a ChatModel or RunnableBinding (e.g. model.bind_tools(...)), "
            f"got {type(model)}"
        )
    return model


def _validate_chat_history(messages: Sequence[BaseMessage]) -> None:
    """Every tool call of the history must have its ``ToolMessage`` (providers require it)."""
    calls = [c for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    unanswered = [c for c in calls if c["id"] not in answered]
    if not unanswered:
        return
    raise ValueError(
        create_error_message(
            message="Found AIMessages with tool_calls that do not have a corresponding "
            f"ToolMessage. Here are the first few of those tool calls: {unanswered[:3]}.\n\n"
            "Every tool call (LLM requesting to call a tool) in the message history MUST have "
            "a corresponding ToolMessage (result of a tool invocation to return to the LLM) - "
            "this is required by most LLM providers.",
            error_code=ErrorCode.INVALID_CHAT_HISTORY,
        )
    )


@deprecated(
    "create_react_agent has been moved to `langchain.agents`. Please update your import to "
    "`from langchain.agents import create_agent`.",
    category=LangGraphDeprecatedSinceV10,
)
def create_react_agent(
    model: Any,
    tools: Sequence[BaseTool | Callable[..., Any] | dict[str, Any]] | ToolNode,
    *,
    prompt: Prompt | None = None,
    response_format: StructuredResponseSchema | tuple[str, StructuredResponseSchema] | None = None,
    pre_model_hook: Any = None,
    post_model_hook: Any = None,
    state_schema: Any = None,
    context_schema: type[Any] | None = None,
    checkpointer: Any = None,
    store: Any = None,
    interrupt_before: list[str] | None = None,
    interrupt_after: list[str] | None = None,
    debug: bool = False,
    version: Literal["v1", "v2"] = "v2",
    name: str | None = None,
    **deprecated_kwargs: Any,
) -> Any:
    """A graph that calls ``model`` in a loop with ``tools`` until it stops asking for them.

    Args:
        model: A chat model (``"provider:model"`` with ``langchain`` installed), one with the
            tools bound already, or a function of ``(state, runtime)`` returning the model to
            call (sync or async).
        tools: Tools (``BaseTool``, functions, provider built-in tool dicts) or a ``ToolNode``.
        prompt: A system prompt (string or ``SystemMessage``), or a function/runnable of the
            state returning the model's input.
        response_format: A schema (or ``(system prompt, schema)``): after the loop, one more
            model call fills ``structured_response``.
        pre_model_hook: A node run before each model call; it may set ``llm_input_messages``
            (what the model sees instead of ``messages``).
        post_model_hook: A node run after each model call.
        state_schema: The state (``messages`` and ``remaining_steps`` at least).
        context_schema: The run-time context's type.
        checkpointer, store, interrupt_before, interrupt_after, debug, name: as ``compile``'s.
        version: ``"v1"``: all tool calls of a message in one ``tools`` task; ``"v2"``: one
            ``tools`` task per call (``Send``).
    """
    if (config_schema := deprecated_kwargs.pop("config_schema", None)) is not None:
        warnings.warn(
            "`config_schema` is deprecated and will be removed. Please use `context_schema` "
            "instead.",
            category=LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        context_schema = context_schema or config_schema
    if deprecated_kwargs:
        raise TypeError(
            f"create_react_agent() got unexpected keyword arguments: {deprecated_kwargs}"
        )
    if version not in ("v1", "v2"):
        raise ValueError(f"Invalid version {version}. Supported versions are 'v1' and 'v2'.")
    if state_schema is not None:
        required = {"messages", "remaining_steps"}
        if response_format is not None:
            required.add("structured_response")
        if missing := required - set(get_type_hints(state_schema)):
            raise ValueError(f"Missing required key(s) {missing} in state_schema")
    else:
        state_schema = (
            AgentStateWithStructuredResponse if response_format is not None else AgentState
        )
    pydantic_state = isinstance(state_schema, type) and issubclass(state_schema, BaseModel)

    builtin_tools: list[dict[str, Any]] = []
    if isinstance(tools, ToolNode):
        tool_node = tools
    else:
        builtin_tools = [t for t in tools if isinstance(t, dict)]
        tool_node = ToolNode([t for t in tools if not isinstance(t, dict)])
    tool_classes = list(tool_node.tools_by_name.values())
    dynamic = not isinstance(model, str | Runnable) and callable(model)
    async_dynamic = dynamic and inspect.iscoroutinefunction(model)

    static_model: Runnable[Any, Any] | None = None
    if not dynamic:
        if isinstance(model, str):
            try:
                from langchain.chat_models import init_chat_model  # type: ignore[import-not-found]
            except ImportError:
                raise ImportError(
                    "Please install langchain (`pip install langchain`) to use "
                    "'<provider>:<model>' string syntax for `model` parameter."
                ) from None
            model = init_chat_model(model)
        if (
            _should_bind_tools(model, tool_classes, num_builtin=len(builtin_tools))
            and tool_classes + builtin_tools
        ):
            model = cast(BaseChatModel, model).bind_tools([*tool_classes, *builtin_tools])
        static_model = _prompt_runnable(prompt) | model
    return_direct = {t.name for t in tool_classes if t.return_direct}

    def resolve(state: Any, runtime: Runtime[Any]) -> Any:
        if dynamic:
            return _prompt_runnable(prompt) | model(state, runtime)
        return static_model

    async def aresolve(state: Any, runtime: Runtime[Any]) -> Any:
        if async_dynamic:
            return _prompt_runnable(prompt) | await model(state, runtime)
        return resolve(state, runtime)

    def more_steps_needed(state: Any, response: BaseMessage) -> bool:
        calls = response.tool_calls if isinstance(response, AIMessage) else []
        all_direct = isinstance(response, AIMessage) and all(
            c["name"] in return_direct for c in calls
        )
        remaining = _value(state, "remaining_steps")
        if remaining is None:
            return False
        return (remaining < 1 and all_direct) or (remaining < 2 and bool(calls))

    def model_input(state: Any) -> Any:
        if pre_model_hook is not None:
            messages = _value(state, "llm_input_messages") or _value(state, "messages")
            expected = "'llm_input_messages' or 'messages' key"
        else:
            messages = _value(state, "messages")
            expected = "'messages' key"
        if messages is None:
            raise ValueError(f"Expected input to call_model to have {expected}, but got {state}")
        _validate_chat_history(messages)
        if pydantic_state:
            state.messages = messages
        else:
            state["messages"] = messages
        return state

    def answered(state: Any, response: Any) -> dict[str, Any]:
        response.name = name
        if more_steps_needed(state, response):
            return {
                "messages": [
                    AIMessage(
                        id=response.id, content="Sorry, need more steps to process this request."
                    )
                ]
            }
        return {"messages": [response]}

    def call_model(state: Any, runtime: Runtime[Any], config: RunnableConfig) -> dict[str, Any]:
        if async_dynamic:
            raise RuntimeError(
                "Async model callable provided but agent invoked synchronously. Use "
                "agent.ainvoke() or agent.astream(), or provide a sync model callable."
            )
        given = model_input(state)
        return answered(state, resolve(state, runtime).invoke(given, config))

    async def acall_model(
        state: Any, runtime: Runtime[Any], config: RunnableConfig
    ) -> dict[str, Any]:
        given = model_input(state)
        return answered(state, await (await aresolve(state, runtime)).ainvoke(given, config))

    def structured_input(state: Any) -> tuple[list[Any], Any]:
        messages = list(_value(state, "messages"))
        schema = response_format
        if isinstance(response_format, tuple):
            system, schema = response_format
            messages = [SystemMessage(content=system), *messages]
        return messages, schema

    def generate_structured_response(
        state: Any, runtime: Runtime[Any], config: RunnableConfig
    ) -> dict[str, Any]:
        if async_dynamic:
            raise RuntimeError(
                "Async model callable provided but agent invoked synchronously. Use "
                "agent.ainvoke() or agent.astream(), or provide a sync model callable."
            )
        messages, schema = structured_input(state)
        structured = _get_model(resolve(state, runtime)).with_structured_output(schema)
        return {"structured_response": structured.invoke(messages, config)}

    async def agenerate_structured_response(
        state: Any, runtime: Runtime[Any], config: RunnableConfig
    ) -> dict[str, Any]:
        messages, schema = structured_input(state)
        resolved = await aresolve(state, runtime)
        structured = _get_model(resolved).with_structured_output(schema)
        return {"structured_response": await structured.ainvoke(messages, config)}

    input_schema: Any = state_schema
    if pre_model_hook is not None:  # the model node also reads what the hook sets
        if pydantic_state:
            from pydantic import create_model

            input_schema = create_model(
                "CallModelInputSchema",
                llm_input_messages=(list[AnyMessage], ...),
                __base__=state_schema,
            )
        else:

            class CallModelInputSchema(state_schema):  # type: ignore[misc]
                llm_input_messages: list[AnyMessage]

            input_schema = CallModelInputSchema

    def compiled(graph: StateGraph[Any]) -> Any:
        return graph.compile(
            checkpointer=checkpointer,
            store=store,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            debug=debug,
            name=name,
        )

    workflow: StateGraph[Any] = StateGraph(state_schema, context_schema=context_schema)
    workflow.add_node("agent", SyncAsyncNode(call_model, acall_model), input_schema=input_schema)
    entry = "agent"
    if pre_model_hook is not None:
        workflow.add_node("pre_model_hook", pre_model_hook)
        workflow.add_edge("pre_model_hook", "agent")
        entry = "pre_model_hook"
    workflow.set_entry_point(entry)
    structured_node = SyncAsyncNode(generate_structured_response, agenerate_structured_response)

    if not tool_classes:  # no loop: the model once, then the hooks and structured response
        if post_model_hook is not None:
            workflow.add_node("post_model_hook", post_model_hook)
            workflow.add_edge("agent", "post_model_hook")
        if response_format is not None:
            workflow.add_node("generate_structured_response", structured_node)
            before = "post_model_hook" if post_model_hook is not None else "agent"
            workflow.add_edge(before, "generate_structured_response")
        return compiled(workflow)

    def tool_sends(state: Any, calls: list[Any]) -> list[Send]:
        return [
            Send(
                "tools",
                {"__type": "tool_call_with_context", "tool_call": call, "state": state},
            )
            for call in calls
        ]

    def should_continue(state: Any) -> str | list[Send]:
        last = _value(state, "messages")[-1]
        if not isinstance(last, AIMessage) or not last.tool_calls:
            if post_model_hook is not None:
                return "post_model_hook"
            if response_format is not None:
                return "generate_structured_response"
            return END
        if version == "v1":
            return "tools"
        if post_model_hook is not None:
            return "post_model_hook"
        return tool_sends(state, last.tool_calls)

    workflow.add_node("tools", tool_node)
    agent_paths: list[str] = []
    hook_paths = [entry, "tools"]
    if post_model_hook is not None:
        workflow.add_node("post_model_hook", post_model_hook)
        agent_paths.append("post_model_hook")
        workflow.add_edge("agent", "post_model_hook")
    else:
        agent_paths.append("tools")
    if response_format is not None:
        workflow.add_node("generate_structured_response", structured_node)
        (hook_paths if post_model_hook is not None else agent_paths).append(
            "generate_structured_response"
        )
    else:
        (hook_paths if post_model_hook is not None else agent_paths).append(END)

    if post_model_hook is not None:

        def post_model_hook_router(state: Any) -> str | list[Send]:
            """After the post-model hook: the tool calls still unanswered, else back to the
            entry after tool answers, else the structured response or the end."""
            messages = _value(state, "messages")
            answered_ids = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
            last_ai = next(m for m in reversed(messages) if isinstance(m, AIMessage))
            pending = [c for c in last_ai.tool_calls if c["id"] not in answered_ids]
            if pending:
                return tool_sends(state, pending)
            if isinstance(messages[-1], ToolMessage):
                return entry
            if response_format is not None:
                return "generate_structured_response"
            return END

        workflow.add_conditional_edges(
            "post_model_hook", post_model_hook_router, path_map=hook_paths
        )
    workflow.add_conditional_edges("agent", should_continue, path_map=agent_paths)

    def route_tool_responses(state: Any) -> str:
        message: Any = None
        for message in reversed(_value(state, "messages")):
            if not isinstance(message, ToolMessage):
                break
            if message.name in return_direct:
                return END
        if isinstance(message, AIMessage) and any(
            call["name"] in return_direct for call in message.tool_calls
        ):
            return END
        return entry

    if return_direct:
        workflow.add_conditional_edges("tools", route_tool_responses, path_map=[entry, END])
    else:
        workflow.add_edge("tools", entry)
    return compiled(workflow)


create_tool_calling_executor = create_react_agent
