"""A compiled graph's schemas, made with pydantic as LangGraph makes them.

``get_input_schema``/``get_output_schema`` (and the ``input_schema``/``output_schema``
properties) are pydantic models: a state graph's input is its input schema (a model, or a root
model of a TypedDict or dataclass), its output a model of its output keys, each of its
channel's value type; a low-level program's are its input and output channels'.

``get_input_jsonschema``/``get_output_jsonschema`` of a state graph are a pydantic model's or
a TypedDict's own schema, else that of a model named ``<graph>Input``/``<graph>Output`` of the
schema's keys, each of its channel's update type, with its default; a program's and an
entrypoint's are their models' schemas. ``get_context_jsonschema`` is the context schema's.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
import warnings
from collections.abc import Sequence
from typing import Any, cast

from langchain_core.utils.pydantic import create_model_v2
from pydantic import BaseModel, TypeAdapter
from typing_extensions import is_typeddict

from rewind.channels import BaseChannel
from rewind.runtime.shapes import all_keys
from rewind.warnings import LangGraphDeprecatedSinceV10

__all__ = ["JsonSchemas", "field_default"]


class JsonSchemas:
    """The schema methods of a compiled graph (mixed into it)."""

    def get_input_schema(self, config: Any = None) -> type[BaseModel]:
        """The pydantic model of the graph's input."""
        graph = cast(Any, self)
        inputs = _io_channels(graph, "input")
        if inputs is None:  # a state graph: its input schema, as one value
            schemas = graph.builder.schemas
            given = schemas.input
            if given is schemas.state:  # (a root-valued graph's as given, not its wrapper)
                given = graph.builder.state_schema
            return _root_model(_name(graph.name, "Input"), given)
        if isinstance(inputs, str):
            channel = graph.channels.get(inputs)
            kind = channel.UpdateType if isinstance(channel, BaseChannel) else Any
            return _root_model(_name(graph.name, "Input"), kind)
        return _fields_model(graph, inputs or list(graph.channels), "Input", "UpdateType")

    def get_output_schema(self, config: Any = None) -> type[BaseModel]:
        """The pydantic model of the graph's output."""
        graph = cast(Any, self)
        outputs = _io_channels(graph, "output")
        if outputs is None:
            managed = graph.builder.schemas.managed
            keys = [k for k in all_keys(graph.builder.schemas.output) if k not in managed]
            outputs = "__root__" if keys == ["__root__"] else keys
        if isinstance(outputs, str):
            channel = graph.channels.get(outputs)
            kind = channel.ValueType if isinstance(channel, BaseChannel) else Any
            return _root_model(_name(graph.name, "Output"), kind)
        return _fields_model(graph, outputs, "Output", "ValueType")

    @property
    def input_schema(self) -> type[BaseModel]:
        """The pydantic model of the graph's input (:meth:`get_input_schema`)."""
        return self.get_input_schema()

    @property
    def output_schema(self) -> type[BaseModel]:
        """The pydantic model of the graph's output (:meth:`get_output_schema`)."""
        return self.get_output_schema()

    def get_input_jsonschema(self, config: Any = None) -> dict[str, Any]:
        """The JSON schema of the graph's input."""
        graph = cast(Any, self)
        if _io_channels(graph, "input") is not None:
            return self.get_input_schema(config).model_json_schema()
        return _json_schema(graph, graph.builder.schemas.input, "Input")

    def get_output_jsonschema(self, config: Any = None) -> dict[str, Any]:
        """The JSON schema of the graph's output."""
        graph = cast(Any, self)
        if _io_channels(graph, "output") is not None:
            return self.get_output_schema(config).model_json_schema()
        return _json_schema(graph, graph.builder.schemas.output, "Output")

    def get_context_jsonschema(self) -> dict[str, Any] | None:
        """The JSON schema of the run-time context (``None`` without a ``context_schema``).

        Raises:
            ValueError: the context schema is not a pydantic model, TypedDict or dataclass.
        """
        schema = cast(Any, self).context_schema
        if schema is None:
            return None
        if inspect.isclass(schema) and issubclass(schema, BaseModel):
            return schema.model_json_schema()
        if is_typeddict(schema) or dataclasses.is_dataclass(schema):
            found: dict[str, Any] = TypeAdapter(schema).json_schema()
            return found
        raise ValueError(
            f"Invalid context schema type: {schema}. Must be a BaseModel, TypedDict or dataclass."
        )

    def config_schema(self, *, include: Sequence[str] | None = None) -> type[BaseModel]:
        """Deprecated (as in LangGraph): a model of the context schema as ``configurable``."""
        warnings.warn(
            "`config_schema` is deprecated. Use `get_context_jsonschema` for the relevant "
            "schema instead.",
            category=LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        from langchain_core.runnables import RunnableConfig

        context = cast(Any, self).context_schema
        wanted = [i for i in include or () if i != "configurable"]
        fields: dict[str, Any] = {"configurable": (context, None)} if context else {}
        hints = typing.get_type_hints(RunnableConfig)
        fields.update({k: (v, None) for k, v in hints.items() if k in wanted})
        return create_model_v2(_name(cast(Any, self).name, "Config"), field_definitions=fields)

    def get_config_jsonschema(self, *, include: Sequence[str] | None = None) -> dict[str, Any]:
        """Deprecated (as in LangGraph): the JSON schema of :meth:`config_schema`."""
        warnings.warn(
            "`get_config_jsonschema` is deprecated. Use `get_context_jsonschema` instead.",
            category=LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=LangGraphDeprecatedSinceV10)
            return self.config_schema(include=include).model_json_schema()


def _io_channels(graph: Any, which: str) -> str | Sequence[str] | None:
    """A program's input or output channels (an entrypoint's: ``__start__``, ``__end__``);
    ``None`` for a state graph."""
    if hasattr(graph, "entry_name"):
        return "__start__" if which == "input" else "__end__"
    if hasattr(graph, "pregel_nodes"):
        found: str | Sequence[str] = getattr(graph, f"{which}_channels")
        return found
    return None


def _root_model(name: str, kind: Any) -> type[BaseModel]:
    """LangChain's ``Runnable.get_input_schema``: a model itself, else a root model of it."""
    if inspect.isclass(kind) and issubclass(kind, BaseModel):
        return kind
    return create_model_v2(name, root=kind)


def _fields_model(graph: Any, keys: Sequence[str], suffix: str, kind: str) -> type[BaseModel]:
    fields = {
        k: (getattr(c, kind), None)
        for k in keys
        if isinstance(c := graph.channels.get(k), BaseChannel)
    }
    return create_model_v2(_name(graph.name, suffix), field_definitions=fields)


def _json_schema(graph: Any, schema: Any, suffix: str) -> dict[str, Any]:
    """LangGraph's ``_get_json_schema`` of a state graph's input or output schema."""
    if inspect.isclass(schema) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    if is_typeddict(schema):
        found: dict[str, Any] = TypeAdapter(schema).json_schema()
        return found
    channels = graph.channels
    keys = all_keys(schema, ordered=True)
    name = _name(graph.name, suffix)
    if list(keys) == ["__root__"]:
        model = create_model_v2(name, root=(channels["__root__"].UpdateType, None))
    else:
        fields: dict[str, Any] = {
            k: (channels[k].UpdateType, field_default(k, channels[k].UpdateType, schema))
            for k in keys
            if k in channels and isinstance(channels[k], BaseChannel)
        }
        model = create_model_v2(name, field_definitions=fields)
    out: dict[str, Any] = model.model_json_schema()
    return out


def _name(name: str, suffix: str) -> str:
    """LangChain's ``get_name(suffix)``."""
    return name + suffix.title() if name[:1].isupper() else f"{name}_{suffix.lower()}"


def field_default(name: str, kind: Any, schema: Any) -> Any:
    """A key's default in a schema model (LangGraph's ``get_field_default``): ``...``
    (required) unless the key is optional, has a dataclass default or an ``Optional`` type."""
    required = {typing.Required: True, typing.NotRequired: False}.get(typing.get_origin(kind))
    if name in getattr(schema, "__optional_keys__", frozenset()):
        return ... if required else None
    if required is not None:
        return ... if required else None
    if dataclasses.is_dataclass(schema):
        for f in dataclasses.fields(schema):
            if f.name == name:
                if f.default is not dataclasses.MISSING and f.default is not ...:
                    return f.default
                if f.default_factory is not dataclasses.MISSING:
                    return f.default_factory()
    return None if _optional(kind) else ...


def _optional(kind: Any) -> bool:
    """Whether a type admits ``None`` (LangGraph's ``_is_optional_type``)."""
    if isinstance(kind, types.UnionType):
        return any(a is type(None) or _optional(a) for a in kind.__args__)
    if hasattr(kind, "__origin__") and hasattr(kind, "__args__"):
        origin = typing.get_origin(kind)
        if origin is typing.Union:
            return any(a is type(None) or _optional(a) for a in kind.__args__)
        if origin is typing.Annotated:
            return _optional(kind.__args__[0])
        return origin is None
    if getattr(kind, "__bound__", None) is not None:
        return _optional(kind.__bound__)
    return kind is None
