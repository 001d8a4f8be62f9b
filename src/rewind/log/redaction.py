"""Redacting one payload: the text stored in place of the erased one (pure; no I/O).

It works on the payload's JSON text as the codec wrote it (tags and all), without decoding it:
no class needs importing, and what it does not touch is kept as it was. A redacted value is
the codec's marker ``{"__rw__": "redacted"}``, read back as :data:`rewind.events.REDACTED`.

Two scopes:

* ``payload``: the whole payload becomes the marker. Readers take such an event as one that
  says nothing (a stream mode built from it yields nothing for it; the custom mode yields the
  marker).
* ``contents``: the payload keeps its structure and loses its values. With ``contents_only``,
  each chat message's text (its ``content``, its tool calls' arguments, ``additional_kwargs``
  and a tool message's ``artifact``; role, ids, names and tool calls' names stay), a token's
  text, a text model's prompts and generations, and every text in the input, output and
  chunks of a run nested in a node (``chain.*``: a prompt, a parser, a retriever; keys and
  class names stay); with ``match``, every string (and number) holding the text (in any case
  of its letters, with ``ignore_case``).

Some events hold the structure rewind reads its runs by (:data:`STRUCTURAL_TYPES`: a run's
start and end, checkpoints, a task's start, end and failure, interrupts, resumes, subgraphs,
routing decisions). Those are never replaced whole: only their values change (the run's input
and config, a checkpoint's channel values, next tasks' inputs and metadata, a task's input,
update and writes, an error's text, an interrupt's value, resume values), so every thread folds
as before, with the values gone. Whole redaction of one of them is refused.

After a redaction with ``match``, the text must be gone from the payload: where it is still
there (in a key, a class name, a checkpoint's task names), an event that may be replaced whole
is, and a structural event is refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rewind.events import EventType
from rewind.log.codec import REDACTED_TEXT, TAG, dumps
from rewind.log.records import RedactionScope

__all__ = [
    "STRUCTURAL_TYPES",
    "Rewrite",
    "RefusedError",
    "holds_text",
    "redact_text",
]

STRUCTURAL_TYPES = frozenset(
    {
        EventType.RUN_STARTED.value,
        EventType.RUN_ENDED.value,
        EventType.CHECKPOINT.value,
        EventType.TASK_STARTED.value,
        EventType.TASK_ENDED.value,
        EventType.TASK_FAILED.value,
        EventType.INTERRUPT.value,
        EventType.RESUME.value,
        EventType.SUBGRAPH_STARTED.value,
        EventType.SUBGRAPH_ENDED.value,
        EventType.ROUTE.value,
    }
)
"""Event types whose payload the log's readers need the structure of: only values inside them
are redacted, never the whole payload."""

_MESSAGES = "langchain_core.messages."
_MARK = {TAG: "redacted"}


@dataclass(frozen=True, kw_only=True, slots=True)
class Rewrite:
    """A redacted payload, as it is to be stored."""

    text: str
    """The payload's new text."""
    scope: RedactionScope
    """What was replaced."""


class RefusedError(ValueError):
    """The payload cannot be redacted as asked (the caller names the event)."""


def redact_text(
    text: str,
    type_: str,
    *,
    contents_only: bool = False,
    match: str | None = None,
    ignore_case: bool = False,
) -> Rewrite | None:
    """The payload to store in place of ``text`` (an event of type ``type_``), or ``None``
    when there is nothing in it to redact (already redacted so, or nothing matched).

    Args:
        text: The payload as stored.
        type_: The event's type.
        contents_only: Redact the texts of messages (and tokens, prompts) only, keeping the
            payload's structure; otherwise the whole payload (its values only, for a
            structural event).
        match: Also redact every string (or number) holding this text.
        ignore_case: Match letters whatever their case.

    Raises:
        RefusedError: a structural event asked to be redacted whole without ``match``, or one
            whose structure holds the text.
    """
    if text == REDACTED_TEXT:
        return None
    structural = type_ in STRUCTURAL_TYPES
    if not contents_only and not structural:
        return Rewrite(text=REDACTED_TEXT, scope="payload")
    if not contents_only and match is None:
        raise RefusedError(
            f"a {type_} event holds the structure rewind reads its runs by and cannot be "
            "redacted whole; redact its message texts (contents only) or the strings that "
            "hold a text (match)"
        )
    needle = None if match is None else _Needle(match, ignore_case)
    walker = _Walker(messages=contents_only, needle=needle)
    value = json.loads(text)
    if structural and isinstance(value, dict):
        new = _STRUCTURES.get(type_, _values_at(()))(value, walker)
    else:
        new = walker(value)
        if contents_only and isinstance(new, dict):
            new = _top_level_texts(type_, new, walker)
    new_text = dumps(new) if walker.changed else text
    if needle is not None and needle.in_payload(new_text):  # where no value held it alone
        if structural:
            raise RefusedError(
                f"the text is part of this {type_} event's structure (a key, a name or an "
                "id), which a redaction keeps; choose a text that only values hold"
            )
        return Rewrite(text=REDACTED_TEXT, scope="payload")
    if not walker.changed:
        return None
    return Rewrite(text=new_text, scope="contents")


def holds_text(payload: str, match: str, *, ignore_case: bool = False) -> bool:
    """Whether a payload's JSON text holds ``match`` (as written, or as JSON escapes it)."""
    return _Needle(match, ignore_case).in_payload(payload)


def escaped(match: str) -> str:
    """``match`` as it appears inside a JSON string (quotes, backslashes and control
    characters escaped; other characters as they are)."""
    return json.dumps(match, ensure_ascii=False)[1:-1]


class _Needle:
    """The text a redaction looks for."""

    def __init__(self, text: str, ignore_case: bool) -> None:
        self.ignore_case = ignore_case
        fold = str.casefold if ignore_case else str
        self.text, self.escaped = fold(text), fold(escaped(text))

    def in_value(self, value: str) -> bool:
        """Whether a string value holds it."""
        return self.text in (value.casefold() if self.ignore_case else value)

    def in_payload(self, payload: str) -> bool:
        """Whether a payload's JSON text holds it (as written, or as JSON escapes it)."""
        if self.ignore_case:
            payload = payload.casefold()
        return self.text in payload or self.escaped in payload


class _Walker:
    """Replaces values in a payload's JSON (as parsed, tags and all)."""

    def __init__(self, *, messages: bool, needle: _Needle | None) -> None:
        self.messages = messages
        self.needle = needle
        self.changed = False

    def mark(self) -> dict[str, str]:
        self.changed = True
        return dict(_MARK)

    def __call__(self, value: Any) -> Any:
        needle = self.needle
        if isinstance(value, str):
            return self.mark() if needle is not None and needle.in_value(value) else value
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            hit = needle is not None and needle.in_value(json.dumps(value))
            return self.mark() if hit else value
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):  # pragma: no cover - JSON has no other kind
            return value
        tag = value.get(TAG)
        if tag is None:
            out = {key: self(item) for key, item in value.items()}
            if self.messages and _is_message_dict(value):
                _blank(out, "content", self)
            if self.messages and "text" in value and "generation_info" in value:
                _blank(out, "text", self)  # a text model's generation
            return out
        return self._tagged(tag, value)

    def _tagged(self, tag: str, value: dict[str, Any]) -> Any:
        if tag in ("pydantic", "dataclass", "custom", "enum", "pydantic_root"):
            fields = self(value["v"])
            if (
                self.messages
                and tag == "pydantic"
                and str(value.get("cls", "")).startswith(_MESSAGES)
            ):
                _blank_message(fields, self)
            return {**value, "v": fields}
        if tag in ("tuple", "set", "frozenset"):
            return {**value, "v": self(value["v"])}
        if tag == "dict":  # [[key, value], ...]: keys stay (they are a mapping's structure)
            return {**value, "v": [[key, self(item)] for key, item in value["v"]]}
        if tag == "exception":
            out = {**value, "v": self(value["v"]), "repr": self(value.get("repr"))}
            if "fields" in value:  # the attributes it keeps
                out["fields"] = self(value["fields"])
            return out
        return value  # a marker already, or a scalar of its own (bytes, dates, ids, numbers)


def _is_message_dict(value: dict[str, Any]) -> bool:
    """A message given as a plain dict (``{"role": "user", "content": "..."}``)."""
    return "content" in value and ("role" in value or "type" in value)


def _blank(fields: dict[str, Any], key: str, walker: _Walker) -> None:
    """Replace ``fields[key]`` by the marker, unless it is empty or a marker already."""
    value = fields.get(key)
    if value in (None, "", [], {}) or value == _MARK:
        return
    fields[key] = walker.mark()


def _blank_message(fields: Any, walker: _Walker) -> None:
    """A chat message's texts replaced, its structure kept (role, ids, names, tool calls'
    names and ids, usage, response metadata)."""
    if not isinstance(fields, dict):
        return
    _blank(fields, "content", walker)
    _blank(fields, "artifact", walker)
    for key in ("additional_kwargs",):
        extra = fields.get(key)
        if isinstance(extra, dict):
            for name in extra:
                _blank(extra, name, walker)
    for key in ("tool_calls", "invalid_tool_calls", "tool_call_chunks"):
        for call in fields.get(key) or ():
            if not isinstance(call, dict):
                continue
            args = call.get("args")
            if isinstance(args, dict):  # a tool call's arguments: names kept, values gone
                for name in args:
                    _blank(args, name, walker)
            else:  # a chunk's (or an invalid call's) argument text
                _blank(call, "args", walker)
            _blank(call, "error", walker)


def _top_level_texts(type_: str, payload: dict[str, Any], walker: _Walker) -> dict[str, Any]:
    """The texts a model call's events hold outside messages: a token, prompts."""
    if type_ == EventType.CHAT_TOKEN:
        _blank(payload, "token", walker)
    elif type_ == EventType.CHAT_STARTED and isinstance(payload.get("prompts"), list):
        payload["prompts"] = [walker.mark() if p else p for p in payload["prompts"]]
    elif type_ == EventType.CHAT_EVENT and isinstance(payload.get("event"), dict):
        payload["event"] = _blank_protocol(payload["event"], walker)
    elif type_ == EventType.TOOL_DELTA:
        _blank(payload, "delta", walker)
    elif type_ in _NESTED_RUNS:
        for key in ("input", "output", "chunk"):
            if key in payload:
                payload[key] = _blank_texts(payload[key], walker)
    return payload


_NESTED_RUNS = frozenset(
    {EventType.CHAIN_STARTED.value, EventType.CHAIN_CHUNK.value, EventType.CHAIN_ENDED.value}
)
_STATE_SLICE = "rewind.events:StateSlice"


def _blank_texts(value: Any, walker: _Walker) -> Any:
    """A nested run's value (a prompt's input, a parser's output, a retriever's documents) with
    every text replaced: its strings, inside containers and objects' fields; keys, class names,
    numbers and messages' structure stay, and so do references to the state's messages."""
    if isinstance(value, str):
        return walker.mark() if value else value
    if isinstance(value, list):
        return [_blank_texts(item, walker) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(TAG)
    if tag is None:
        return {key: _blank_texts(item, walker) for key, item in value.items()}
    cls = str(value.get("cls", ""))
    if tag in ("pydantic", "dataclass", "custom", "pydantic_root"):
        if cls == _STATE_SLICE or cls.startswith(_MESSAGES):  # (a message's texts are gone)
            return value
        return {**value, "v": _blank_texts(value["v"], walker)}
    if tag in ("tuple", "set", "frozenset"):
        return {**value, "v": _blank_texts(value["v"], walker)}
    if tag == "dict":
        return {**value, "v": [[key, _blank_texts(item, walker)] for key, item in value["v"]]}
    return value


_PROTOCOL_STRUCTURE = frozenset(
    {"event", "type", "index", "id", "role", "name", "tool_call_id", "mime_type", "status"}
)
"""What a content-block protocol event (``chat.event``) keeps under a redaction of contents:
its kind, positions, ids, names and roles. Every other value (a text, a delta, reasoning, a tool
call's arguments, data, a URL) goes; ``usage`` and ``response_metadata`` stay as a message's do."""


def _blank_protocol(event: dict[str, Any], walker: _Walker) -> dict[str, Any]:
    """A protocol event with its contents replaced (see :data:`_PROTOCOL_STRUCTURE`)."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        if key in _PROTOCOL_STRUCTURE or key in ("usage", "response_metadata"):
            out[key] = value
        elif isinstance(value, dict):
            out[key] = _blank_protocol(value, walker)
        elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
            out[key] = [_blank_protocol(v, walker) for v in value]  # (an empty list stays)
        elif value in (None, "") or isinstance(value, bool):
            out[key] = value
        else:
            out[key] = walker.mark()
    return out


# --- the values of structural events ----------------------------------------------------------

Structure = Callable[[dict[str, Any], _Walker], dict[str, Any]]


def _values_at(keys: tuple[str, ...]) -> Structure:
    """The payload with its fields ``keys`` walked, the others kept."""

    def walk(payload: dict[str, Any], walker: _Walker) -> dict[str, Any]:
        return {k: walker(v) if k in keys else v for k, v in payload.items()}

    return walk


def _checkpoint(payload: dict[str, Any], walker: _Walker) -> dict[str, Any]:
    """A checkpoint: its channel values, its next tasks' inputs, and the caller's metadata."""
    out = dict(payload)
    changes = payload.get("changes")
    if isinstance(changes, list):
        out["changes"] = [
            [*change[:2], walker(change[2])]
            if isinstance(change, list) and len(change) == 3 and change[1] in ("value", "untracked")
            else change
            for change in changes
        ]
    tasks = payload.get("next")
    if isinstance(tasks, list):
        out["next"] = [
            {**task, "arg": walker(task["arg"])}
            if isinstance(task, dict) and "arg" in task
            else task
            for task in tasks
        ]
    metadata = payload.get("metadata")
    if isinstance(metadata, dict):
        kept = ("source", "step", "parents")
        out["metadata"] = {k: v if k in kept else walker(v) for k, v in metadata.items()}
    return out


def _task_ended(payload: dict[str, Any], walker: _Walker) -> dict[str, Any]:
    """A task's end: its update and its writes (channel names kept)."""
    out = dict(payload)
    if "update" in payload:
        out["update"] = walker(payload["update"])
    writes = payload.get("writes")
    if isinstance(writes, dict):
        out["writes"] = {channel: walker(value) for channel, value in writes.items()}
    elif isinstance(writes, list):
        out["writes"] = [
            [pair[0], walker(pair[1])] if isinstance(pair, list) and len(pair) == 2 else pair
            for pair in writes
        ]
    return out


def _interrupt(payload: dict[str, Any], walker: _Walker) -> dict[str, Any]:
    """An interrupt: each one's value (its id kept)."""
    out = dict(payload)
    found = payload.get("interrupts")
    if isinstance(found, list):
        out["interrupts"] = [_interrupt_value(item, walker) for item in found]
    return out


def _interrupt_value(item: Any, walker: _Walker) -> Any:
    """One interrupt (tagged, or a plain dict): its value walked, its id kept."""
    if isinstance(item, dict) and TAG in item:
        fields = item.get("v")
        if isinstance(fields, dict) and "value" in fields:
            return {**item, "v": {**fields, "value": walker(fields["value"])}}
    elif isinstance(item, dict) and "value" in item:
        return {**item, "value": walker(item["value"])}
    return walker(item)


def _resume(payload: dict[str, Any], walker: _Walker) -> dict[str, Any]:
    """A resume: the values given (per task id)."""
    out = dict(payload)
    given = payload.get("values")
    if isinstance(given, dict):
        out["values"] = {task_id: walker(values) for task_id, values in given.items()}
    return out


_STRUCTURES: dict[str, Structure] = {
    EventType.RUN_STARTED.value: _values_at(("input", "update", "config")),
    EventType.RUN_ENDED.value: _values_at(("error",)),
    EventType.CHECKPOINT.value: _checkpoint,
    EventType.TASK_STARTED.value: _values_at(("input",)),
    EventType.TASK_ENDED.value: _task_ended,
    EventType.TASK_FAILED.value: _values_at(("message", "repr", "traceback", "error")),
    EventType.INTERRUPT.value: _interrupt,
    EventType.RESUME.value: _resume,
    EventType.SUBGRAPH_STARTED.value: _values_at(("input",)),
    EventType.SUBGRAPH_ENDED.value: _values_at(()),
    EventType.ROUTE.value: _values_at(("input",)),
}
