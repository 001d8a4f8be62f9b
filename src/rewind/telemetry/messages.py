"""Chat messages as tracing backends read them: the GenAI conventions' typed parts, and a short
readable form for state values.

A message in the log is a LangChain message object, or a tagged dict when its class does not
import where the log is read; both are read here (fields by name, never trusted). The GenAI form
follows the input/output message JSON schemas of the OpenTelemetry GenAI semantic conventions
(v1.41): ``{"role", "parts": [...]}`` with ``text``, ``tool_call``, ``tool_call_response``,
``reasoning``, ``uri``/``blob`` and generic parts, and a ``finish_reason`` on output messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "SEPARATE_INSTRUCTIONS",
    "field_of",
    "finish_reason",
    "genai_input",
    "genai_output",
    "is_message",
    "readable",
    "text_of",
]

_ROLES = {
    "human": "user",
    "HumanMessageChunk": "user",
    "ai": "assistant",
    "AIMessageChunk": "assistant",
    "system": "system",
    "SystemMessageChunk": "system",
    "tool": "tool",
    "ToolMessageChunk": "tool",
    "function": "tool",
    "FunctionMessageChunk": "tool",
    "developer": "system",
}
_MESSAGE_TYPES = frozenset(_ROLES) | {"chat", "ChatMessageChunk", "remove"}
_FINISH = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "STOP": "stop",
    "eos": "stop",
    "length": "length",
    "max_tokens": "length",
    "MAX_TOKENS": "length",
    "tool_calls": "tool_call",
    "tool_use": "tool_call",
    "function_call": "tool_call",
    "content_filter": "content_filter",
    "SAFETY": "content_filter",
    "refusal": "content_filter",
    "error": "error",
}
SEPARATE_INSTRUCTIONS = frozenset({"anthropic", "gcp.gen_ai", "gcp.vertex_ai", "aws.bedrock"})
"""Providers whose API takes system instructions apart from the chat history: a call's leading
system messages go to ``gen_ai.system_instructions`` for them (for the others they are part of
the history the API is sent, and stay in ``gen_ai.input.messages``, as the conventions say)."""


_SCALARS = frozenset({str, int, float, bool, type(None), bytes})


def field_of(value: Any, name: str) -> Any:
    """A field of a message object or of its tagged dict."""
    if isinstance(value, Mapping):
        return value.get(name)
    return getattr(value, name, None)


def is_message(value: Any) -> bool:
    """Whether ``value`` is a chat message (an object with a message type and content, or the
    tagged dict a message decodes to without its class)."""
    kind = field_of(value, "type")
    if not isinstance(kind, str) or kind not in _MESSAGE_TYPES:
        return False
    if isinstance(value, Mapping):
        return "content" in value
    return hasattr(value, "content")


def role_of(message: Any) -> str:
    """The conventions' role of a message (``chat`` messages keep their own)."""
    kind = str(field_of(message, "type") or "")
    if kind in ("chat", "ChatMessageChunk"):
        return str(field_of(message, "role") or "user")
    return _ROLES.get(kind, kind or "user")


def text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text blocks of a list joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for block in content:
            if isinstance(block, str):
                texts.append(block)
            elif isinstance(block, Mapping) and block.get("type") == "text":
                texts.append(str(block.get("text") or ""))
        return "".join(texts)
    return "" if content is None else str(content)


def genai_input(
    messages: list[Any], provider: str | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A model call's input messages in the conventions' form, and its system instructions
    (the parts of its leading system messages, for a provider that takes them apart; see
    :data:`SEPARATE_INSTRUCTIONS`)."""
    instructions: list[dict[str, Any]] = []
    start = 0
    if provider in SEPARATE_INSTRUCTIONS:
        while start < len(messages) and role_of(messages[start]) == "system":
            instructions += _parts(messages[start])
            start += 1
    return [_genai(m) for m in messages[start:]], instructions


def genai_output(message: Any) -> dict[str, Any]:
    """One generation in the conventions' output form (with its finish reason)."""
    if isinstance(message, str):
        return {"role": "assistant", "parts": _text_parts(message), "finish_reason": "stop"}
    if isinstance(message, Mapping) and "text" in message and "content" not in message:
        # a text-completion model's generation
        text = str(message.get("text") or "")
        info = field_of(message, "generation_info")
        reason = finish_reason(info if isinstance(info, Mapping) else {}) or "stop"
        return {"role": "assistant", "parts": _text_parts(text), "finish_reason": reason}
    out = _genai(message)
    meta = field_of(message, "response_metadata")
    out["finish_reason"] = finish_reason(meta if isinstance(meta, Mapping) else {}) or (
        "tool_call" if field_of(message, "tool_calls") else "stop"
    )
    return out


def finish_reason(meta: Mapping[str, Any]) -> str | None:
    """A response's finish reason as the conventions name it (a provider's own name when the
    conventions have none for it)."""
    for key in ("finish_reason", "stop_reason", "done_reason"):
        value = meta.get(key)
        if isinstance(value, str) and value:
            return _FINISH.get(value, value)
    return None


def provider_reason(meta: Mapping[str, Any]) -> str | None:
    """The finish reason as the provider reported it (``gen_ai.response.finish_reasons``)."""
    for key in ("finish_reason", "stop_reason", "done_reason"):
        value = meta.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def readable(value: Any, depth: int = 0) -> Any:
    """``value`` with every chat message in it shown as a short readable dict (role, content
    text, tool calls, tool call id, name): what a node's input or output shows on its span."""
    if depth > 32 or type(value) in _SCALARS:  # most of a state: nothing to look into
        return value
    if is_message(value):
        return _readable_message(value)
    if isinstance(value, Mapping):
        return {str(k): readable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [readable(v, depth + 1) for v in value]
    return value


def _readable_message(message: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"role": role_of(message)}
    name = field_of(message, "name")
    if isinstance(name, str) and name:
        out["name"] = name
    content = field_of(message, "content")
    out["content"] = text_of(content) if _only_text(content) else content
    calls = field_of(message, "tool_calls")
    if calls:
        out["tool_calls"] = [
            {
                "id": field_of(c, "id"),
                "name": field_of(c, "name"),
                "arguments": field_of(c, "args"),
            }
            for c in calls
        ]
    call_id = field_of(message, "tool_call_id")
    if call_id:
        out["tool_call_id"] = call_id
    message_id = field_of(message, "id")
    if message_id:
        out["id"] = message_id
    return out


def _only_text(content: Any) -> bool:
    if isinstance(content, str) or content is None:
        return True
    return isinstance(content, list) and all(
        isinstance(b, str) or (isinstance(b, Mapping) and b.get("type") == "text") for b in content
    )


def _genai(message: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"role": role_of(message), "parts": _parts(message)}
    name = field_of(message, "name")
    if isinstance(name, str) and name:
        out["name"] = name
    return out


def _parts(message: Any) -> list[dict[str, Any]]:
    if isinstance(message, str):
        return _text_parts(message)
    content = field_of(message, "content")
    if role_of(message) == "tool":
        response = text_of(content) if _only_text(content) else content
        return [
            {
                "type": "tool_call_response",
                "id": field_of(message, "tool_call_id"),
                "response": response,
            }
        ]
    calls = field_of(message, "tool_calls") or []
    listed = {field_of(c, "id") for c in calls}
    parts = _content_parts(content, listed)
    for call in calls:
        parts.append(
            {
                "type": "tool_call",
                "id": field_of(call, "id"),
                "name": str(field_of(call, "name") or ""),
                "arguments": field_of(call, "args"),
            }
        )
    return parts


def _text_parts(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "content": text}] if text else []


def _content_parts(content: Any, listed: set[Any]) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        return _text_parts(text_of(content))
    parts: list[dict[str, Any]] = []
    for block in content:
        if isinstance(block, str):
            parts += _text_parts(block)
            continue
        if not isinstance(block, Mapping):
            continue
        kind = str(block.get("type") or "")
        if kind == "text":
            parts += _text_parts(str(block.get("text") or ""))
        elif kind in ("reasoning", "thinking"):
            text = block.get("reasoning") or block.get("thinking") or block.get("text") or ""
            parts.append({"type": "reasoning", "content": str(text)})
        elif kind in ("tool_use", "tool_call", "function_call"):
            if block.get("id") not in listed:  # the message's tool_calls list the others
                parts.append(
                    {
                        "type": "tool_call",
                        "id": block.get("id"),
                        "name": str(block.get("name") or ""),
                        "arguments": block.get("input", block.get("args")),
                    }
                )
        elif kind in ("image_url", "image", "audio", "video", "file"):
            parts.append(_media_part(kind, block))
        else:
            parts.append({**{str(k): v for k, v in block.items()}, "type": kind or "unknown"})
    return parts


def _media_part(kind: str, block: Mapping[str, Any]) -> dict[str, Any]:
    modality = "image" if kind in ("image_url", "image") else kind
    if modality == "file":
        modality = "document"
    url = block.get("url")
    if kind == "image_url":
        image = block.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
    mime = block.get("mime_type")
    if isinstance(url, str) and url.startswith("data:") and ";base64," in url:
        head, _, data = url.partition(";base64,")
        blob_mime = head[5:] or mime
        return {"type": "blob", "modality": modality, "mime_type": blob_mime, "content": data}
    if isinstance(url, str) and url:
        return {"type": "uri", "modality": modality, "mime_type": mime, "uri": url}
    inline = block.get("base64") or block.get("data")
    if inline:
        return {"type": "blob", "modality": modality, "mime_type": mime, "content": inline}
    if block.get("file_id") or block.get("id"):
        file_id = block.get("file_id") or block.get("id")
        return {"type": "file", "modality": modality, "mime_type": mime, "file_id": file_id}
    return {**{str(k): v for k, v in block.items()}, "type": kind}
