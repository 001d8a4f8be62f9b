"""``ValidationNode``: validates the tool calls of the latest ``AIMessage`` against pydantic
schemas instead of running tools, answering each with a ``ToolMessage`` (the validated
arguments as JSON, or the error for the model to fix). Deprecated in LangGraph 1.x (in favour
of ``langchain.agents``), and warning as LangGraph's does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from langchain_core.messages import AIMessage, AnyMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import get_executor_for_config
from langchain_core.tools import BaseTool, create_schema_from_function
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import BaseModel, ValidationError
from pydantic.v1 import BaseModel as BaseModelV1
from pydantic.v1 import ValidationError as ValidationErrorV1
from typing_extensions import deprecated

from rewind.errors import LangGraphDeprecatedSinceV10

__all__ = ["ValidationNode"]


def _default_format_error(
    error: BaseException, call: ToolCall, schema: type[BaseModel] | type[BaseModelV1]
) -> str:
    return f"{error!r}\n\nRespond after fixing all validation errors."


@deprecated(
    "ValidationNode is deprecated. Please use `create_agent` from `langchain.agents` with "
    "custom tool error handling.",
    category=LangGraphDeprecatedSinceV10,
)
class ValidationNode:
    """A node that validates the last ``AIMessage``'s tool calls (in parallel threads).

    Args:
        schemas: Pydantic models (by class name), tools (their ``args_schema``, by tool name)
            or functions (a schema made from their signature, by function name).
        format_error: What an invalid call is answered with (``(error, call, schema) ->
            str``); by default the error and "Respond after fixing all validation errors."
        name: The node's name.
        tags: Its tags.

    Input: a list of messages, or a state with ``messages``; output in the same shape: the
    ``ToolMessage`` answers (an invalid call's with ``additional_kwargs={"is_error": True}``).
    """

    def __init__(
        self,
        schemas: Sequence[BaseTool | type[BaseModel] | Callable[..., Any]],
        *,
        format_error: Callable[[BaseException, ToolCall, type[BaseModel]], str] | None = None,
        name: str = "validation",
        tags: list[str] | None = None,
    ) -> None:
        self.name = name
        self.tags = tags
        self._format_error = format_error or _default_format_error
        self.schemas_by_name: dict[str, type[BaseModel]] = {}
        for schema in schemas:
            if isinstance(schema, BaseTool):
                if schema.args_schema is None:
                    raise ValueError(f"Tool {schema.name} does not have an args_schema defined.")
                if not isinstance(schema.args_schema, type) or not is_basemodel_subclass(
                    schema.args_schema
                ):
                    raise ValueError(
                        "Validation node only works with tools that have a pydantic BaseModel "
                        f"args_schema. Got {schema.name} with args_schema: {schema.args_schema}."
                    )
                self.schemas_by_name[schema.name] = cast(type[BaseModel], schema.args_schema)
            elif isinstance(schema, type) and issubclass(schema, BaseModel | BaseModelV1):
                self.schemas_by_name[schema.__name__] = cast(type[BaseModel], schema)
            elif callable(schema):
                made = create_schema_from_function("Validation", schema)
                self.schemas_by_name[schema.__name__] = cast(type[BaseModel], made)
            else:
                raise ValueError(
                    "Unsupported input to ValidationNode. Expected BaseModel, tool or function. "
                    f"Got: {type(schema)}."
                )

    def _message(self, input: list[AnyMessage] | dict[str, Any]) -> tuple[str, AIMessage]:
        if isinstance(input, list):
            shape, messages = "list", input
        elif messages := input.get("messages", []):
            shape = "dict"
        else:
            raise ValueError("No message found in input")
        message = messages[-1]
        if not isinstance(message, AIMessage):
            raise ValueError("Last message is not an AIMessage")
        return shape, message

    def _answer(self, call: ToolCall) -> ToolMessage:
        schema = self.schemas_by_name[call["name"]]
        try:
            if issubclass(schema, BaseModel):
                content = schema.model_validate(call["args"]).model_dump_json()
            elif issubclass(schema, BaseModelV1):
                content = schema.validate(call["args"]).json()
            else:
                raise ValueError(
                    f"Unsupported schema type: {type(schema)}. Expected BaseModel or BaseModelV1."
                )
            return ToolMessage(content=content, name=call["name"], tool_call_id=str(call["id"]))
        except (ValidationError, ValidationErrorV1) as error:
            return ToolMessage(
                content=self._format_error(error, call, schema),
                name=call["name"],
                tool_call_id=str(call["id"]),
                additional_kwargs={"is_error": True},
            )

    def __call__(self, input: list[AnyMessage] | dict[str, Any], config: RunnableConfig) -> Any:
        shape, message = self._message(input)
        with get_executor_for_config(config) as executor:
            answers = [*executor.map(self._answer, message.tool_calls)]
        return answers if shape == "list" else {"messages": answers}
