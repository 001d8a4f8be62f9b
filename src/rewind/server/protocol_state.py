"""The thread protocol's state payloads: ``values`` as LangGraph's server shows them on
``POST /threads/{thread_id}/stream/events``.

A message in the state is shown in the protocol's short form: its ``type`` (``user`` and
``assistant`` read as ``human`` and ``ai``), ``content`` (a list of content blocks when it is
one, each block in the protocol's kinds), ``id`` and ``name`` when set, a non-empty
``response_metadata``, a tool message's ``tool_call_id``, ``status`` and ``artifact``, an AI
message's tool calls (valid ones as ``tool_call`` blocks, the others as ``invalid_tool_call``).
``__interrupt__`` keys are left out (interrupts travel on the ``input`` channel).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["state_payload"]

_MESSAGE_TYPES = frozenset({"human", "ai", "system", "tool", "function", "remove"})
_BLOCK_TYPES = frozenset(
    {
        "text",
        "reasoning",
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_call_result",
        "image",
        "audio",
        "video",
        "file",
        "non_standard",
    }
)
_AUDIO_MIME = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "pcm16": "audio/wav",
    "pcm": "audio/wav",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
}


def state_payload(value: Any) -> Any:
    """``value`` (JSON) with its messages in the protocol's form and no ``__interrupt__``."""
    if isinstance(value, list):
        return [_message(v) if _is_message(v) else state_payload(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, entry in value.items():
        if key == "__interrupt__":
            continue
        if key == "messages" and isinstance(entry, list):
            out[key] = [_message(v) if _is_message(v) else v for v in entry]
        else:
            out[key] = state_payload(entry)
    return out


def _kind(value: Any) -> str | None:
    if value == "assistant":
        return "ai"
    if value == "user":
        return "human"
    return value if isinstance(value, str) else None


def _is_message(value: Any) -> bool:
    return isinstance(value, dict) and _kind(value.get("type")) in _MESSAGE_TYPES


def _message(value: dict[str, Any]) -> dict[str, Any]:
    kind = _kind(value.get("type"))
    assert kind is not None
    extra = value.get("additional_kwargs")
    extra = extra if isinstance(extra, dict) else None
    out: dict[str, Any] = {
        "type": kind,
        "content": _content(value.get("content", ""), extra if kind == "ai" else None),
    }
    for key in ("id", "name"):
        if isinstance(value.get(key), str):
            out[key] = value[key]
    if kind in ("ai", "human") and isinstance(value.get("example"), bool):
        out["example"] = value["example"]
    if isinstance(value.get("response_metadata"), dict) and value["response_metadata"]:
        out["response_metadata"] = value["response_metadata"]
    if kind == "tool":
        if isinstance(value.get("tool_call_id"), str):
            out["tool_call_id"] = value["tool_call_id"]
        if value.get("status") in ("success", "error"):
            out["status"] = value["status"]
        if "artifact" in value:
            out["artifact"] = value["artifact"]
    if kind == "ai":
        raw = value.get("tool_calls")
        if not (isinstance(raw, list) and raw):
            raw = extra.get("tool_calls") if extra is not None else None
        calls, bad = _tool_calls(raw)
        invalid = value.get("invalid_tool_calls")
        if isinstance(invalid, list) and invalid:
            bad = _invalid_calls(invalid)
        if calls:
            out["tool_calls"] = calls
        if bad:
            out["invalid_tool_calls"] = bad
    return out


def _content(content: Any, extra: dict[str, Any] | None) -> Any:
    audio = _audio(extra)
    if isinstance(content, str):
        if audio is None:
            return content
        return [*([{"type": "text", "text": content}] if content else []), audio]
    if not isinstance(content, list):
        return [audio] if audio is not None else content
    blocks: list[dict[str, Any]] = []
    for entry in content:
        block = {"type": "text", "text": entry} if isinstance(entry, str) else _block(entry)
        if block is not None:
            blocks.append(block)
    if audio is not None and not any(b.get("type") == "audio" for b in blocks):
        blocks.append(audio)
    return blocks or content


def _block(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        return None
    kind = value["type"]
    if kind in _BLOCK_TYPES:
        return value
    if kind == "image_url":
        image = value.get("image_url")
        if isinstance(image, str):
            return {"type": "image", "url": image}
        if isinstance(image, dict) and isinstance(image.get("url"), str):
            return {"type": "image", "url": image["url"]}
        return None
    if kind == "input_audio":
        raw = value.get("input_audio")
        if not isinstance(raw, dict):
            return None
        block: dict[str, Any] = {"type": "audio"}
        for key in ("data", "mime_type"):
            if isinstance(raw.get(key), str):
                block[key] = raw[key]
        return block
    return {"type": "non_standard", "value": dict(value)}


def _audio(extra: dict[str, Any] | None) -> dict[str, Any] | None:
    audio = extra.get("audio") if extra is not None else None
    if not isinstance(audio, dict):
        return None
    data, url = audio.get("data"), audio.get("url")
    data = data if isinstance(data, str) else None
    url = url if isinstance(url, str) else None
    if data is None and url is None:
        return None
    mime = audio.get("mime_type")
    fmt = audio.get("format")
    fmt = fmt.lower() if isinstance(fmt, str) else (None if isinstance(mime, str) else "wav")
    block: dict[str, Any] = {"type": "audio"}
    if isinstance(audio.get("id"), str):
        block["id"] = audio["id"]
    if url is not None:
        block["url"] = url
    if data is not None:
        block["data"] = data
    if isinstance(mime, str):
        block["mime_type"] = mime
    elif fmt in _AUDIO_MIME:
        block["mime_type"] = _AUDIO_MIME[fmt]
    if isinstance(audio.get("transcript"), str):
        block["transcript"] = audio["transcript"]
    return block


def _call_identity(raw: dict[str, Any]) -> tuple[str | None, str | None]:
    function = raw.get("function")
    function = function if isinstance(function, dict) else {}
    call_id = raw["id"] if isinstance(raw.get("id"), str) else None
    name = raw.get("name") if isinstance(raw.get("name"), str) else function.get("name")
    return call_id, name if isinstance(name, str) else None


def _call_args(raw: dict[str, Any]) -> Any:
    if "args" in raw:
        return raw["args"]
    function = raw.get("function")
    return function.get("arguments") if isinstance(function, dict) else None


def _parsed_args(value: Any) -> tuple[bool, Any]:
    if isinstance(value, str):
        if not value:
            return True, {}
        try:
            return True, json.loads(value)
        except ValueError:
            return False, value
    return True, {} if value is None else value


def _tool_calls(raw: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict):
            continue
        call_id, name = _call_identity(entry)
        args = _call_args(entry)
        valid, parsed = _parsed_args(args)
        if name is None or not valid:
            shown: dict[str, Any] = {"type": "invalid_tool_call"}
            if name is not None:
                shown["name"] = name
            shown["error"] = "Incomplete tool call." if name is None else "Malformed args."
            if call_id is not None:
                shown["id"] = call_id
            if isinstance(args, str):
                shown["args"] = args
            bad.append(shown)
            continue
        call: dict[str, Any] = {"type": "tool_call", "name": name, "args": parsed}
        if call_id is not None:
            call["id"] = call_id
        calls.append(call)
    return calls, bad


def _invalid_calls(raw: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        call_id, name = _call_identity(entry)
        shown: dict[str, Any] = {"type": "invalid_tool_call"}
        if call_id is not None:
            shown["id"] = call_id
        if name is not None:
            shown["name"] = name
        if isinstance(entry.get("args"), str):
            shown["args"] = entry["args"]
        error = entry.get("error")
        shown["error"] = error if isinstance(error, str) else "Malformed args."
        out.append(shown)
    return out
