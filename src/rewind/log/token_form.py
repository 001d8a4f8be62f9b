"""How a chat model's token is stored: without its chunk when the token says it all.

A chat model streams each token as a message chunk (LangChain's ``AIMessageChunk``), and almost
every chunk of a stream carries its text and the call's message id and nothing else. The
``chat.token`` event of such a chunk is stored as ``{..., "token": TEXT}``, without ``"chunk"``
(plus ``"chunk_id"`` when the id is not the one LangChain derives from the call's run id,
``lc_run--RUN_ID``); reading the event builds that chunk back, equal to the one recorded. Any
other chunk (with tool-call chunks, usage, metadata, list content, or a ``chunk_position``) is
stored whole. Nothing of the event is lost, and the log's most frequent event is encoded in a
fraction of the time and stored in half the bytes.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessageChunk
from orjson import dumps as _orjson_dumps

from rewind.errors import EncodingError
from rewind.log import codec

__all__ = [
    "DERIVED_ID",
    "NOT_PLAIN",
    "chunk_of",
    "chunk_rest",
    "compact_token",
    "expand_token",
    "plain_fields",
    "plain_id",
    "token_text",
]

_PATH = "langchain_core.messages.ai:AIMessageChunk"
DERIVED_ID = "lc_run--"
"""LangChain's id for a message its chat model made without one: this, then the run id."""

_TEMPLATE = AIMessageChunk(content="")
_PLAIN: dict[str, Any] = dict(_TEMPLATE.__dict__)
"""A chunk's fields when it carries only its text and id (both set for each comparison)."""
_CONTAINERS = [name for name, value in _PLAIN.items() if type(value) in (dict, list)]
"""Fields whose value each chunk gets a new (empty) one of."""
_new = AIMessageChunk.__new__
_set = object.__setattr__


NOT_PLAIN: Any = object()


def plain_id(chunk: Any, token: Any) -> Any:
    """The id of ``chunk`` when it is a plain chat chunk of ``token`` (its text and id and
    nothing else), else :data:`NOT_PLAIN`."""
    if type(chunk) is not AIMessageChunk or chunk.__pydantic_extra__ or type(token) is not str:
        return NOT_PLAIN
    values = chunk.__dict__
    chunk_id = values.get("id")
    probe = plain_fields(chunk_id)
    probe["content"] = token
    if values != probe or type(values["content"]) is not str:
        return NOT_PLAIN
    return chunk_id


def plain_fields(chunk_id: Any) -> dict[str, Any]:
    """The fields of a plain chat chunk with ``chunk_id`` (its ``content`` to be set): a
    chunk is plain when its fields equal these with its token as the content."""
    probe = _PLAIN.copy()
    probe["id"] = chunk_id
    return probe


def chunk_rest(chunk: Any, token: Any) -> tuple[str, str | None, dict[str, Any]] | None:
    """How a pack of its call's tokens (:class:`~rewind.log.packs.TokenPack`) holds a chat
    chunk of ``token`` (its text as its content, its message id set): its id, the text of its
    other fields that are not their defaults (``None`` when none is: a plain chunk, such as
    a provider's chunk carrying its ``response_metadata`` has), and its fields (to compare
    the next token's chunk with, the content set to that token); ``None`` when a pack cannot
    hold it (stored whole, as an event of its own)."""
    plain = plain_id(chunk, token)
    if type(plain) is str:
        probe = plain_fields(plain)
        probe["content"] = token
        return plain, None, probe
    if type(chunk) is not AIMessageChunk or chunk.__pydantic_extra__ or type(token) is not str:
        return None
    values = chunk.__dict__
    chunk_id = values.get("id")
    content = values.get("content")
    if type(chunk_id) is not str or type(content) is not str or content != token:
        return None
    probe = plain_fields(chunk_id)
    probe["content"] = token
    try:  # the fields as the codec stores the chunk, less its text and id
        stored = json.loads(codec.encode(chunk))["v"]
        text = codec.dumps({k: v for k, v in stored.items() if k not in ("content", "id")})
        probe.update(codec.decode(text))
    except (EncodingError, ValueError, KeyError, TypeError):
        return None
    if values != probe:  # (a field the codec does not give back equal)
        return None
    return chunk_id, text, probe


def chunk_of(token: str, chunk_id: str, rest: str) -> Any:
    """The chunk :func:`chunk_rest` described: built from its fields as decoding its event
    stored whole builds it (validated; a provider's tag, ``response_metadata`` alone, is set
    on a plain chunk as validation would leave it: a replay builds every token)."""
    fields = codec.decode(rest)
    metadata = fields.get("response_metadata") if type(fields) is dict else None
    if type(token) is str and len(fields) == 1 and type(metadata) is dict:
        chunk = _plain_chunk(token, chunk_id)
        chunk.__dict__["response_metadata"] = metadata
        _set(chunk, "__pydantic_fields_set__", {"content", "response_metadata", "id"})
        return chunk
    return codec.build_model(_PATH, {"content": token, **fields, "id": chunk_id})


def compact_token(payload: Any) -> Any:
    """The payload of a ``chat.token`` event as stored (``payload`` itself unless its chunk
    is a plain chat chunk of its token)."""
    if type(payload) is not dict:
        return payload
    chunk_id = plain_id(payload.get("chunk"), payload.get("token"))
    if chunk_id is NOT_PLAIN:
        return payload
    stored = payload.copy()
    del stored["chunk"]
    run_id = payload.get("run_id")
    if type(run_id) is not str or chunk_id != DERIVED_ID + run_id:
        stored["chunk_id"] = chunk_id
    return stored


def token_text(payload: Any) -> str:
    """The stored text of a ``chat.token`` event's payload: :func:`compact_token`'s form,
    encoded (a compact payload holds only strings: written without the codec's walk)."""
    if type(payload) is dict and len(payload) == 4:
        # A recorder's token (its call's ids, the text, the chunk): written in one go, as
        # the general path below would write it.
        run_id = payload.get("run_id")
        parent = payload.get("parent_run_id")
        token = payload.get("token")
        chunk_id = plain_id(payload.get("chunk"), token)
        if (
            type(chunk_id) is str
            and type(run_id) is str
            and (parent is None or type(parent) is str)
        ):
            stored = {"run_id": run_id, "parent_run_id": parent, "token": token}
            if chunk_id != DERIVED_ID + run_id:
                stored["chunk_id"] = chunk_id
            try:
                return _orjson_dumps(stored).decode()
            except TypeError:  # a lone surrogate: the codec's fallback writes it
                return codec.encode(stored)
    stored = compact_token(payload)
    if stored is payload:
        return codec.encode(payload)
    for key, value in stored.items():
        if not (type(value) is str or value is None) or type(key) is not str or key == codec.TAG:
            return codec.encode(stored)
    return codec.dumps(stored)  # strings only: already in the encoded form


def expand_token(payload: Any) -> Any:
    """The payload of a stored ``chat.token`` event as recorded: its chunk built back."""
    if type(payload) is not dict or "chunk" in payload or "token" not in payload:
        return payload
    whole = dict(payload)
    if "chunk_id" in whole:
        chunk_id = whole.pop("chunk_id")
    else:
        chunk_id = DERIVED_ID + str(whole.get("run_id"))
    whole["chunk"] = _plain_chunk(whole["token"], chunk_id)
    return whole


def _plain_chunk(text: Any, chunk_id: Any) -> Any:
    """The chunk of ``text`` with ``chunk_id`` and nothing else, as validating those two
    fields makes it (that is what was recorded), assembled from a validated one's fields:
    validating costs more than the rest of reading the event (a replay reads every token)."""
    if type(text) is not str or not (chunk_id is None or type(chunk_id) is str):
        fields = {"content": text} if chunk_id is None else {"content": text, "id": chunk_id}
        return codec.build_model(_PATH, fields)  # not written by compact_token: validated
    values = _PLAIN.copy()
    for name in _CONTAINERS:
        values[name] = type(values[name])()
    values["content"] = text
    values["id"] = chunk_id
    chunk = _new(AIMessageChunk)
    _set(chunk, "__dict__", values)
    _set(chunk, "__pydantic_fields_set__", {"content"} if chunk_id is None else {"content", "id"})
    _set(chunk, "__pydantic_extra__", {} if _TEMPLATE.__pydantic_extra__ is not None else None)
    private = _TEMPLATE.__pydantic_private__
    _set(chunk, "__pydantic_private__", None if private is None else dict(private))
    return chunk
