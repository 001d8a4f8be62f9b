"""A2A's messages and LangChain's, both ways, as LangGraph's server converts them
(``langgraph_api.api.a2a``): no I/O here.

In: a message's parts become a run's input: text parts each a message of the user (one message
whose content is a list of blocks when a file part is there too), data parts top-level input
keys, file parts content blocks (a URI is passed on, never fetched).

Out: a thread's messages become A2A history (the user's and the agent's; a tool's result
correlated by ``tool_call_id`` as a data part; system prompts and other internals left out),
each message attributed to the task whose user turn started its segment; a run's output
becomes the task's artifact (the agent's last reply of the turn).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from rewind.server.jsonrpc import INVALID_PARAMS, RpcError

__all__ = [
    "CONTENT_TYPE_NOT_SUPPORTED",
    "INVALID_AGENT_RESPONSE",
    "STATES_OF_NAMES",
    "TASK_NOT_CANCELABLE",
    "TASK_NOT_FOUND",
    "TERMINAL_STATES",
    "UNSUPPORTED_OPERATION",
    "InvalidAgentResponseError",
    "RunMessages",
    "Scope",
    "agent_message",
    "content_parts",
    "has_message_parts",
    "history",
    "input_of",
    "interrupt_artifact",
    "now",
    "response_artifact",
    "response_parts",
    "resume_of",
    "role_of",
    "spec_format",
    "state_of",
    "streamed_update",
    "tool_result",
]

TASK_NOT_FOUND = -32001
TASK_NOT_CANCELABLE = -32002
UNSUPPORTED_OPERATION = -32004
CONTENT_TYPE_NOT_SUPPORTED = -32005
INVALID_AGENT_RESPONSE = -32006

Role = Literal["ROLE_USER", "ROLE_AGENT"]
Scope = Literal["context", "task"]

_ROLES = {"ROLE_USER": "user", "ROLE_AGENT": "agent"}
_STATES = {
    "TASK_STATE_SUBMITTED": "submitted",
    "TASK_STATE_WORKING": "working",
    "TASK_STATE_COMPLETED": "completed",
    "TASK_STATE_FAILED": "failed",
    "TASK_STATE_CANCELED": "canceled",
    "TASK_STATE_INPUT_REQUIRED": "input-required",
    "TASK_STATE_REJECTED": "rejected",
    "TASK_STATE_AUTH_REQUIRED": "auth-required",
}
STATES_OF_NAMES = {name: state for state, name in _STATES.items()}
"""A2A 0.x task state names (``completed``) → 1.0's (``TASK_STATE_COMPLETED``)."""
TERMINAL_STATES = frozenset(
    {"TASK_STATE_COMPLETED", "TASK_STATE_FAILED", "TASK_STATE_CANCELED", "TASK_STATE_REJECTED"}
)
_RUN_STATES = {
    "pending": "TASK_STATE_SUBMITTED",
    "running": "TASK_STATE_WORKING",
    "success": "TASK_STATE_COMPLETED",
    "interrupted": "TASK_STATE_CANCELED",  # a cancelled run (an interrupt() ends in success)
    "error": "TASK_STATE_FAILED",
    "timeout": "TASK_STATE_FAILED",
}
_A2UI_TYPES = frozenset({"application/json+a2ui", "application/a2ui+json"})
_USER_TYPES = {"human", "humanmessage", "humanmessagechunk"}
_AGENT_TYPES = {"ai", "aimessage", "aimessagechunk"}
_ROLE_TYPES = {"chat", "chatmessage", "chatmessagechunk"}
_MEDIA_BLOCKS = {"audio", "file", "image", "video"}


class InvalidAgentResponseError(ValueError):
    """An agent's output that no A2A part can carry."""


def now() -> str:
    """The time, as A2A timestamps are written."""
    return datetime.now(UTC).isoformat()


def spec_format(data: Any) -> Any:
    """An answer in A2A 0.x's words, for a call by a 0.x method name (``message/send``): roles
    and states lower case (``agent``, ``input-required``), a ``{"task": ...}`` result
    unwrapped."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key == "role" and isinstance(value, str):
                out[key] = _ROLES.get(value, value)
            elif key == "state" and isinstance(value, str):
                out[key] = _STATES.get(value, value)
            elif key == "result" and isinstance(value, dict) and list(value) == ["task"]:
                out[key] = spec_format(value["task"])
            else:
                out[key] = spec_format(value)
        return out
    if isinstance(data, list):
        return [spec_format(item) for item in data]
    return data


def state_of(run: dict[str, Any], thread: dict[str, Any] | None = None) -> str:
    """A task's state from its run (a run that ended at an interrupt, with ``thread`` the
    interrupted thread it is the latest run of: input required)."""
    state = _RUN_STATES.get(run.get("status", ""), "TASK_STATE_SUBMITTED")
    interrupted = thread is not None and thread.get("status") == "interrupted"
    if run.get("status") == "success" and interrupted:
        return "TASK_STATE_INPUT_REQUIRED"
    return state


# --- in: an A2A message as a run's input -------------------------------------------------------


def input_of(
    parts: list[Any],
    role: str,
    message_id: str,
    *,
    a2a: dict[str, Any],
) -> dict[str, Any]:
    """A message's ``parts`` as a run's input; ``a2a`` (the task, the message's metadata and
    extensions) goes in each message's ``additional_kwargs``. Raises :class:`RpcError`."""
    role = {"user": "ROLE_USER", "agent": "ROLE_AGENT"}.get(role, role)
    speaker = "human" if role == "ROLE_USER" else "assistant"
    blocks_wanted = any(isinstance(p, dict) and ("file" in p or _is_a2ui(p)) for p in parts)
    messages: list[dict[str, Any]] = []
    blocks: list[dict[str, Any]] = []
    data: dict[str, Any] = {}
    for part in parts:
        if not isinstance(part, dict):
            raise _unsupported("Each message part must be an object. ")
        kinds = [k for k in ("text", "file", "data") if k in part]
        if len(kinds) > 1:
            raise RpcError(
                CONTENT_TYPE_NOT_SUPPORTED,
                "Each message part must contain exactly one of 'text', 'file', or 'data'. "
                f"Got multiple: {kinds}.",
            )
        if "text" in part:
            if blocks_wanted:
                blocks.append({"type": "text", "text": part["text"]})
            else:
                messages.append({"role": speaker, "content": part["text"], "id": message_id})
        elif "file" in part:
            blocks.append(_file_block(part))
        elif "data" in part:
            if _is_a2ui(part):
                raise RpcError(INVALID_PARAMS, "A2UI is not enabled for this agent")
            value = part.get("data", {})
            if not isinstance(value, dict):
                raise RpcError(
                    CONTENT_TYPE_NOT_SUPPORTED,
                    "DataPart must contain a JSON object in the 'data' field",
                )
            data.update(value)
        else:
            raise _unsupported("Unsupported part type. ")
    if blocks_wanted:
        messages.append({"role": speaker, "content": blocks, "id": message_id})
    if a2a:
        for message in messages:
            message["additional_kwargs"] = {"a2a": a2a}
    if not messages and not data:
        raise RpcError(
            CONTENT_TYPE_NOT_SUPPORTED,
            "Message must contain at least one valid text, data, or file part",
        )
    return {**({"messages": messages} if messages else {}), **data}


def _unsupported(lead: str) -> RpcError:
    said = "A2A agents support 'text', 'data', and 'file' parts only."
    return RpcError(CONTENT_TYPE_NOT_SUPPORTED, lead + said)


def _is_a2ui(part: dict[str, Any]) -> bool:
    metadata = part.get("metadata")
    return "data" in part and isinstance(metadata, dict) and metadata.get("mimeType") in _A2UI_TYPES


def has_message_parts(parts: list[Any]) -> bool:
    """Whether ``parts`` need the graph to take messages (text, file or A2UI parts)."""
    return any(isinstance(p, dict) and ("text" in p or "file" in p or _is_a2ui(p)) for p in parts)


def _file_block(part: dict[str, Any]) -> dict[str, Any]:
    """A file part as a LangChain content block (a URI passed on as ``url``, never fetched)."""
    file = part.get("file")
    if not isinstance(file, dict):
        raise _content("FilePart must contain a 'file' object with 'bytes' or 'uri'.")
    data, uri = file.get("bytes"), file.get("uri")
    if data is None and uri is None:
        raise _content("FilePart 'file' must contain either 'bytes' or 'uri'.")
    if data is not None and uri is not None:
        raise _content("FilePart 'file' must contain only one of 'bytes' or 'uri'.")
    mime = file.get("mimeType")
    top = mime.split("/", 1)[0].strip().lower() if isinstance(mime, str) else ""
    block: dict[str, Any] = {"type": top if top in ("image", "audio", "video") else "file"}
    if data is not None:
        block["base64"] = data
    else:
        block["url"] = uri
    if mime:
        block["mime_type"] = mime
    if file.get("name"):
        block["extras"] = {"filename": file["name"]}
    return block


def _content(message: str) -> RpcError:
    return RpcError(CONTENT_TYPE_NOT_SUPPORTED, message)


def resume_of(parts: list[Any]) -> tuple[Any, Literal["data", "text"] | None]:
    """The answer to an interrupt a message may carry: a data part's ``resume`` value, else
    its text (parts joined by lines); and where it came from (``None``: nothing)."""
    values = [
        p["data"]["resume"]
        for p in parts
        if isinstance(p, dict) and isinstance(p.get("data"), dict) and "resume" in p["data"]
    ]
    if len(values) > 1:
        raise RpcError(INVALID_PARAMS, "Only one resume value is allowed in data parts")
    if values:
        return values[0], "data"
    texts = [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return ("\n".join(texts), "text") if texts else (None, None)


# --- out: a thread's messages as A2A's ----------------------------------------------------------


def _label(value: Any) -> str:
    return value.lower().replace("_", "").replace("-", "") if isinstance(value, str) else ""


def role_of(message: dict[str, Any]) -> Role | None:
    """The A2A role of a LangChain message; ``None`` for an internal one (system, tool)."""
    kind, role = _label(message.get("type")), _label(message.get("role"))
    by_kind: Role | None = None
    by_role: Role | None = None
    if kind:
        if kind in _USER_TYPES:
            by_kind = "ROLE_USER"
        elif kind in _AGENT_TYPES:
            by_kind = "ROLE_AGENT"
        elif kind not in _ROLE_TYPES:
            return None
    if role:
        if role in ("human", "user"):
            by_role = "ROLE_USER"
        elif role in ("agent", "assistant"):
            by_role = "ROLE_AGENT"
        else:
            return None
    if by_kind is not None and by_role is not None and by_kind != by_role:
        return None
    return by_kind or by_role


def content_parts(content: Any) -> list[dict[str, Any]]:
    """A message's content as A2A parts: its text (runs of text blocks joined), its media."""
    if isinstance(content, str):
        return [{"kind": "text", "text": content}]
    if content is None:
        return []
    if not isinstance(content, list):
        return [{"kind": "text", "text": str(content)}]
    parts: list[dict[str, Any]] = []
    texts: list[str] = []
    for block in content:
        if isinstance(block, str):
            texts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            if isinstance(block.get("text"), str):
                texts.append(block["text"])
        elif isinstance(block, dict) and block.get("type") in _MEDIA_BLOCKS:
            if texts:
                parts.append({"kind": "text", "text": "".join(texts)})
                texts = []
            parts.append(_file_part(block))
    if texts:
        parts.append({"kind": "text", "text": "".join(texts)})
    return parts


def _file_part(block: dict[str, Any]) -> dict[str, Any]:
    """A LangChain media block as an A2A file part."""
    source = next((k for k in ("base64", "data", "url") if block.get(k) is not None), None)
    if source is None:
        raise InvalidAgentResponseError(
            "Media content blocks must contain 'base64', 'data', or 'url'."
        )
    value = block[source]
    file: dict[str, Any] = {}
    if source == "url":
        if not isinstance(value, str) or not value:
            raise InvalidAgentResponseError("Media content block 'url' must be a non-empty string.")
        file["uri"] = value
    else:
        if source == "data" and isinstance(value, bytes | bytearray):
            value = base64.b64encode(value).decode("ascii")
        if not isinstance(value, str):
            raise InvalidAgentResponseError(
                f"Media content block '{source}' must be base64-encoded text or bytes."
            )
        compact = "".join(value.split())
        try:
            decoded = base64.b64decode(
                compact + "=" * (-len(compact) % 4), altchars=b"-_", validate=True
            )
        except (binascii.Error, ValueError) as exc:
            raise InvalidAgentResponseError(
                f"Media content block '{source}' must contain valid base64 data."
            ) from exc
        file["bytes"] = base64.b64encode(decoded).decode("ascii")
    mime = block.get("mime_type")
    if mime is not None and not isinstance(mime, str):
        raise InvalidAgentResponseError("Media content block 'mime_type' must be a string.")
    if mime:
        file["mimeType"] = mime
    extras = block.get("extras")
    name = block.get("filename")
    if name is None and isinstance(extras, dict):
        name = extras.get("filename")
    if name is not None and not isinstance(name, str):
        raise InvalidAgentResponseError("Media content block filename must be a string.")
    if name:
        file["name"] = name
    return {"kind": "file", "file": file}


def _has_content(parts: list[dict[str, Any]]) -> bool:
    return any(p.get("kind") in ("data", "file") or p.get("text") for p in parts)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            b if isinstance(b, str) else b["text"]
            for b in content
            if isinstance(b, str)
            or (isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str))
        )
    return "" if content is None else str(content)


def tool_result(message: dict[str, Any]) -> dict[str, Any] | None:
    """A tool's result correlated by ``tool_call_id``, as A2A publishes it (data, not text)."""
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str) or not call_id:
        return None
    result: dict[str, Any] = {"toolCallId": call_id}
    if message.get("content") not in (None, ""):
        result["content"] = message["content"]
    for key in ("name", "status"):
        if isinstance(message.get(key), str) and message[key]:
            result[key] = message[key]
    return result


def _tool_results_part(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "data", "data": {"tool_results": results}}


def _current_turn(messages: list[Any]) -> list[Any]:
    """The messages after the last user message."""
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], dict) and role_of(messages[i]) == "ROLE_USER":
            return messages[i + 1 :]
    return messages


def response_parts(result: dict[str, Any], turn: list[Any] | None = None) -> list[dict[str, Any]]:
    """A run's output as the task's answer: the agent's last reply with content in the current
    turn (``turn``, or the messages after the last user message); the output as text when it
    has no messages."""
    messages = result.get("messages")
    if "__error__" in result or not isinstance(messages, list) or not messages:
        return [{"kind": "text", "text": str(result)}]
    for message in reversed(_current_turn(messages) if turn is None else turn):
        if isinstance(message, dict) and role_of(message) == "ROLE_AGENT" and "content" in message:
            reply = content_parts(message["content"])
            if _has_content(reply):
                return reply
    return [{"kind": "text", "text": ""}]


@dataclass(frozen=True)
class RunMessages:
    """A run's messages: the thread's after it, and where the ones it added start."""

    messages: list[Any]
    """The thread's messages once the run ended."""
    added_from: int | None
    """The index of the first message the run added (``None``: unknown)."""

    @classmethod
    def between(cls, before: list[Any], after: list[Any]) -> RunMessages:
        """The messages ``after`` a run, and where the ones it added start, given ``before``."""
        if after[: len(before)] == before:
            return cls(after, len(before))
        ids = {m.get("id") for m in before if isinstance(m, dict)}
        if len(ids) != len(before) or None in ids:
            return cls(after, None)
        kept = [i for i, m in enumerate(after) if isinstance(m, dict) and m.get("id") in ids]
        return cls(after, max(kept, default=-1) + 1)

    @property
    def added(self) -> list[Any] | None:
        """The messages the run added (``None``: unknown)."""
        return None if self.added_from is None else self.messages[self.added_from :]

    def stamped(self, task_id: str) -> list[Any]:
        """The messages, the first the run added attributed to ``task_id`` (unless it names
        its task already)."""
        if self.added_from is None or self.added_from >= len(self.messages):
            return self.messages
        first = self.messages[self.added_from]
        if not isinstance(first, dict):
            return self.messages
        kwargs = first.get("additional_kwargs")
        kwargs = dict(kwargs) if isinstance(kwargs, dict) else {}
        stored = kwargs.get("a2a")
        stored = dict(stored) if isinstance(stored, dict) else {}
        if stored.get("task_id") or stored.get("task_start_id"):
            return self.messages
        messages = list(self.messages)
        kwargs["a2a"] = {**stored, "task_id": task_id}
        messages[self.added_from] = {**first, "additional_kwargs": kwargs}
        return messages


def history(
    messages: list[Any],
    task_id: str,
    context_id: str,
    *,
    length: int | None = None,
    scope: Scope = "context",
    task_ids: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """A thread's messages as a task's A2A history: the context's (``scope="context"``) or the
    task's own, the last ``length`` of them. A user message that names its task (or the start
    id of one, ``task_ids``: start id → task id) starts that task's messages."""
    current: str | None = None if scope == "task" else task_id
    known = set(task_ids.values()) if task_ids is not None else None
    out: list[dict[str, Any]] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        kwargs = message.get("additional_kwargs")
        stored = kwargs.get("a2a") if isinstance(kwargs, dict) else None
        stored = stored if isinstance(stored, dict) else {}
        named, start = stored.get("task_id"), stored.get("task_start_id")
        if isinstance(named, str) and named:
            current = named if known is None or named == task_id or named in known else None
        elif isinstance(start, str) and start:
            if task_ids is not None:
                current = task_ids.get(start)
            elif scope == "task":
                current = None
        if current is None:
            continue
        role = role_of(message)
        if role is None:
            result = tool_result(message)
            if result is None:
                continue
            parts, role = [_tool_results_part([result])], "ROLE_AGENT"
        else:
            parts = content_parts(message.get("content", ""))
            if role == "ROLE_AGENT" and not _has_content(parts):
                continue
            parts = parts or [{"kind": "text", "text": ""}]
        out.append(
            {
                "kind": "message",
                "role": role,
                "parts": parts,
                "messageId": message.get("id") or str(uuid.uuid4()),
                "taskId": current,
                "contextId": context_id,
            }
        )
    if scope == "task":
        out = [m for m in out if m["taskId"] == task_id]
    if length is None:
        return out
    return out[-length:] if length else []


# --- artifacts and updates ----------------------------------------------------------------------


def agent_message(
    parts: list[dict[str, Any]], task_id: str, context_id: str | None = None
) -> dict[str, Any]:
    """A message of the agent about a task (in its context, when given)."""
    message = {
        "kind": "message",
        "role": "ROLE_AGENT",
        "parts": parts,
        "messageId": str(uuid.uuid4()),
        "taskId": task_id,
    }
    if context_id is not None:
        message["contextId"] = context_id
    return message


def interrupt_artifact(interrupts: list[Any]) -> dict[str, Any]:
    """The interrupts a run stopped at, as the artifact asking for input."""
    parts = []
    for found in interrupts:
        found = found if isinstance(found, dict) else {}
        data = {"id": found.get("id"), "value": found.get("value")}
        if found.get("response_schema") is not None:
            data["response_schema"] = found["response_schema"]
        parts.append({"kind": "data", "data": data})
    return {
        "artifactId": str(uuid.uuid4()),
        "name": "Interrupt",
        "description": "Agent requires input to continue",
        "parts": parts,
    }


def response_artifact(parts: list[dict[str, Any]], assistant_id: str) -> dict[str, Any]:
    """The agent's answer, as the task's artifact."""
    return {
        "artifactId": str(uuid.uuid4()),
        "name": "Assistant Response",
        "description": f"Response from assistant {assistant_id}",
        "parts": parts,
    }


def streamed_update(items: list[Any], task_id: str, context_id: str) -> dict[str, Any] | None:
    """A streamed ``messages`` event's messages as a working status update: the agent's text,
    and tools' correlated results as data; ``None`` when they carry neither."""
    texts: list[str] = []
    results: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if role_of(item) is None:
            result = tool_result(item)
            if result is not None:
                results.append(result)
            continue
        if text := _text_of(item.get("content")):
            texts.append(text)
    parts: list[dict[str, Any]] = []
    if texts:
        parts.append({"kind": "text", "text": "".join(texts)})
    if results:
        parts.append(_tool_results_part(results))
    if not parts:
        return None
    return {
        "taskId": task_id,
        "contextId": context_id,
        "kind": "status-update",
        "status": {
            "state": "TASK_STATE_WORKING",
            "message": agent_message(parts, task_id, context_id),
            "timestamp": now(),
        },
        "final": False,
    }
