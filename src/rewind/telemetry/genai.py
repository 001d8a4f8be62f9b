"""GenAI semantic-convention attributes of a chat-model call, read from its log events.

A model's start event holds what LangChain told the callback (serialized class, invocation
parameters, ``ls_*`` metadata, input messages); its end event holds the generations (messages
with usage and response metadata) and the time to the first token. Messages decode to LangChain
objects when their classes import, to tagged dicts otherwise: both are read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rewind.telemetry.content import ContentPolicy
from rewind.telemetry.messages import (
    field_of,
    genai_input,
    genai_output,
    provider_reason,
    readable,
    text_of,
)

__all__ = [
    "as_mapping",
    "chat_end_attributes",
    "chat_start_attributes",
    "model_name",
    "provider_name",
    "put_value",
]

_PROVIDERS = {
    "azure": "azure.ai.openai",
    "azure_openai": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "google_genai": "gcp.gen_ai",
    "google": "gcp.gen_ai",
    "google_vertexai": "gcp.vertex_ai",
    "google_anthropic_vertex": "gcp.vertex_ai",
    "vertexai": "gcp.vertex_ai",
    "bedrock": "aws.bedrock",
    "bedrock_converse": "aws.bedrock",
    "amazon_bedrock": "aws.bedrock",
    "mistral": "mistral_ai",
    "mistralai": "mistral_ai",
    "xai": "x_ai",
    "watsonx": "ibm.watsonx.ai",
    "ibm": "ibm.watsonx.ai",
}
"""LangChain's ``ls_provider`` names where the conventions' ``gen_ai.provider.name`` differs
(the rest, ``openai``, ``anthropic``, ``groq``, ``deepseek``, ... are the same)."""
_REQUEST = {
    "temperature": "gen_ai.request.temperature",
    "max_tokens": "gen_ai.request.max_tokens",
    "top_p": "gen_ai.request.top_p",
    "top_k": "gen_ai.request.top_k",
    "seed": "gen_ai.request.seed",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
}


def model_name(payload: Mapping[str, Any]) -> str | None:
    """The model a call asked for: its parameters, its ``ls_model_name``, else its class."""
    params = as_mapping(payload.get("invocation_params"))
    metadata = as_mapping(payload.get("metadata"))
    for value in (
        params.get("model"),
        params.get("model_name"),
        metadata.get("ls_model_name"),
        as_mapping(payload.get("serialized")).get("name"),
        payload.get("name"),
    ):
        if isinstance(value, str) and value:
            return value
    return None


def chat_start_attributes(payload: Mapping[str, Any], content: ContentPolicy) -> dict[str, Any]:
    """Attributes known when the call starts: operation, provider, model, request parameters."""
    params = as_mapping(payload.get("invocation_params"))
    metadata = as_mapping(payload.get("metadata"))
    out: dict[str, Any] = {"gen_ai.operation.name": "chat"}
    provider = provider_name(payload)
    if provider:
        out["gen_ai.provider.name"] = provider
    model = model_name(payload)
    if model:
        out["gen_ai.request.model"] = model
    for key, attribute in _REQUEST.items():
        value = params.get(key, metadata.get(f"ls_{key}"))
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[attribute] = value
    stop = params.get("stop") or metadata.get("ls_stop")
    if isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        out["gen_ai.request.stop_sequences"] = stop
    if content.enabled:
        if "messages" in payload:
            batches = payload.get("messages") or []
            messages = list(batches[0]) if batches else []
        else:  # a text-completion model's prompts, each sent as a user's text
            messages = [{"type": "human", "content": p} for p in payload.get("prompts") or []]
        history, instructions = genai_input(messages, provider)
        if instructions:
            content.put(out, "gen_ai.system_instructions", instructions)
        content.put(out, "gen_ai.input.messages", history)
        put_value(content, out, "input", readable(messages))
    return out


def chat_end_attributes(payload: Mapping[str, Any], content: ContentPolicy) -> dict[str, Any]:
    """Attributes known when the call ends: response model and id, finish reasons, usage."""
    out: dict[str, Any] = {}
    llm_output = as_mapping(payload.get("llm_output"))
    outputs = [g for gens in payload.get("generations") or [] for g in gens]
    first = outputs[0] if outputs else None
    meta = as_mapping(_field(first, "response_metadata"))
    response_model = meta.get("model_name") or meta.get("model") or llm_output.get("model_name")
    if isinstance(response_model, str) and response_model:
        out["gen_ai.response.model"] = response_model
    response_id = meta.get("id") or llm_output.get("id") or _field(first, "id")
    if isinstance(response_id, str) and response_id:
        out["gen_ai.response.id"] = response_id
    reasons = [provider_reason(as_mapping(_field(m, "response_metadata"))) for m in outputs]
    if any(reasons):
        out["gen_ai.response.finish_reasons"] = [r for r in reasons if r]
    out.update(_usage(first, llm_output))
    ttft = payload.get("time_to_first_token")
    if isinstance(ttft, int | float):
        out["gen_ai.response.time_to_first_chunk"] = float(ttft)
    if content.enabled and outputs:
        content.put(out, "gen_ai.output.messages", [genai_output(m) for m in outputs])
        # What the span's Output shows (Phoenix would show only the response's id and model).
        only = outputs[0] if len(outputs) == 1 else None
        if only is not None and not field_of(only, "tool_calls"):
            completion = isinstance(only, Mapping) and "content" not in only  # a text model's
            text = field_of(only, "text") if completion else field_of(only, "content")
            put_value(content, out, "output", text_of(text))
        else:
            put_value(content, out, "output", readable(outputs))
    return out


def provider_name(payload: Mapping[str, Any]) -> str | None:
    """The conventions' ``gen_ai.provider.name`` of a model call (LangChain's ``ls_provider``,
    renamed where the conventions name the provider otherwise)."""
    params = as_mapping(payload.get("invocation_params"))
    metadata = as_mapping(payload.get("metadata"))
    provider = metadata.get("ls_provider") or params.get("_type")
    if not isinstance(provider, str) or not provider:
        return None
    return _PROVIDERS.get(provider, provider)


def put_value(content: ContentPolicy, attributes: dict[str, Any], which: str, value: Any) -> None:
    """OpenInference's ``input.value``/``output.value`` (``which``), with its mime type: what
    Phoenix and Langfuse show as a span's Input and Output (text as it is, the rest as JSON)."""
    if not content.enabled or value is None:
        return
    text = isinstance(value, str)
    content.put(attributes, f"{which}.value", value)
    attributes[f"{which}.mime_type"] = "text/plain" if text else "application/json"


def _usage(message: Any, llm_output: Mapping[str, Any]) -> dict[str, Any]:
    usage = as_mapping(_field(message, "usage_metadata"))
    out: dict[str, Any] = {}
    if usage:
        pairs = [
            ("gen_ai.usage.input_tokens", usage.get("input_tokens")),
            ("gen_ai.usage.output_tokens", usage.get("output_tokens")),
        ]
        inputs = as_mapping(usage.get("input_token_details"))
        pairs += [
            ("gen_ai.usage.cache_read.input_tokens", inputs.get("cache_read")),
            ("gen_ai.usage.cache_creation.input_tokens", inputs.get("cache_creation")),
        ]
        outputs = as_mapping(usage.get("output_token_details"))
        pairs.append(("gen_ai.usage.reasoning.output_tokens", outputs.get("reasoning")))
    else:
        tokens = as_mapping(llm_output.get("token_usage") or llm_output.get("usage"))
        pairs = [
            ("gen_ai.usage.input_tokens", tokens.get("prompt_tokens", tokens.get("input_tokens"))),
            (
                "gen_ai.usage.output_tokens",
                tokens.get("completion_tokens", tokens.get("output_tokens")),
            ),
        ]
    for key, value in pairs:
        if isinstance(value, int) and not isinstance(value, bool):
            out[key] = value
    return out


def _field(value: Any, name: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(name)
    return getattr(value, name, None)


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one (payload fields are read, never trusted)."""
    if type(value) is dict:  # the common case, without the ABC check
        return value
    return value if isinstance(value, Mapping) else {}
