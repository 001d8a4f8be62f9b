"""Packed rows: a chat model's consecutive tokens stored together, still one event each.

A chat model streams a token every few microseconds, and a row per token costs the log more
than everything else a token goes through (its own insert into two indexes, its own chained
hash, its own share of the commit). So the writer stores consecutive ``chat.token`` events of
one run that share their step, namespace, node, task and codec version in one row of
``events``, up to :data:`PACK_MAX` of them:

* ``packed`` is the number ``k`` of events in the row (``NULL`` for a row of one event);
* ``position`` and ``seq`` are those of its **last** event: its events have the ``k``
  positions and seqs ending there, without gaps (so "the events after position ``p``" are in
  the rows with ``position > p``, the first of which may begin at or before ``p``);
* ``ts`` is its first event's time; ``type``, ``step``, ``ns``, ``node``, ``task_id`` and
  ``codec`` are every event's;
* ``payload`` is ``[prefix, [dt, ...], [rest, ...]]``: per event, in order, its time as
  microseconds after the row's ``ts``, and its payload's text as a row of its own would store
  it, split into the prefix every event's text shares (a call's tokens all begin with the
  call's ids) and the rest (so a token costs the file its text, not its ids again);
* ``hash`` chains the row as any row (over its header, with the last event's seq, and its
  payload's digest); an edit of any of its events, or of ``packed`` (its events' seqs would no
  longer follow the row before it without a gap), breaks the chain there.

A model call's plain tokens (each chunk its text and the call's message id and nothing else, see
:mod:`rewind.log.token_form`) are gathered as they come, before they are encoded
(:class:`TokenPack`): the log's hot path then costs a token two list appends, and the row's
payload is ``[call, [dt, ...], [token, ...]]``, the ``call`` the fields every token's payload
shares (``run_id``, ``parent_run_id``, and ``chunk_id`` when it is not LangChain's derived
one), each event's payload that object with its ``token``. Readers take both layouts.

Every read gives each event on its own, with its own position, seq and time; the events of a
row share its hash. Redacting any of them erases the row's payload (all its tokens): a token
on its own says little, and its neighbours say the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import repeat
from operator import getitem, sub
from typing import Any

import orjson
from langchain_core.messages import AIMessageChunk

from rewind.events import EventType, NewEvent
from rewind.log import codec
from rewind.log.token_form import DERIVED_ID, chunk_of, chunk_rest

__all__ = ["PACK_MAX", "PACKABLE", "TokenPack", "offsets", "pack_payload", "texts", "unpack"]

PACK_MAX = 256
"""The most events one row holds."""

PACKABLE = EventType.CHAT_TOKEN.value
"""The type of event the writer packs."""


def pack_payload(times: list[int], texts: list[str]) -> str:
    """The payload of a row of events with these times (µs, the first the row's ``ts``) and
    payload texts."""
    shared = _shared(min(texts), max(texts))  # what the least and greatest share, all do
    prefix, cut = texts[0][:shared], slice(shared, None)
    return codec.dumps(
        [prefix, list(map(sub, times, repeat(times[0]))), list(map(getitem, texts, repeat(cut)))]
    )


def _shared(first: str, last: str) -> int:
    """The length of the longest prefix of both texts (by halving: a few C comparisons)."""
    low, high = 0, min(len(first), len(last))
    while low < high:
        mid = (low + high + 1) // 2
        if last.startswith(first[:mid]):
            low = mid
        else:
            high = mid - 1
    return low


class TokenPack:
    """A model call's plain tokens, consecutive in one run's queued append, as they came: one
    row of the log when the writer commits them (:meth:`row`).

    The hot path's part: :meth:`of` a first token, :meth:`add` each next one (its time and
    text: strings, which nothing can change before the commit)."""

    __slots__ = (
        "call",
        "fields",
        "key",
        "open",
        "parent_run_id",
        "run_id",
        "times",
        "tokens",
        "where",
    )

    def __init__(
        self,
        event: NewEvent,
        run_id: str,
        parent_run_id: str | None,
        chunk: tuple[str, str | None, dict[str, Any]],
    ) -> None:
        self.where = (event.step, event.ns, event.node, event.task_id)
        """The step, namespace, node and task of every token of the pack."""
        self.run_id, self.parent_run_id = run_id, parent_run_id
        chunk_id, rest, fields = chunk
        call: dict[str, str | None] = {"run_id": run_id, "parent_run_id": parent_run_id}
        if chunk_id != DERIVED_ID + run_id:
            call["chunk_id"] = chunk_id
        if rest is not None:
            call["chunk"] = rest
        self.call = call
        self.fields = fields
        """Every token's chunk's fields (the content set per token; see
        :func:`~rewind.log.token_form.chunk_rest`)."""
        self.times: list[int] = []
        self.tokens: list[str] = []
        self.key: object = None
        """What its tokens came with (see :meth:`add`)."""
        self.open = True
        """Whether the run's next token may join it: it is still the last row of its run's
        append queued last (the writer closes it when anything is queued after it, or takes
        it to commit)."""

    @classmethod
    def of(cls, event: NewEvent, ts_us: int, key: object = None) -> TokenPack | None:
        """A pack of ``event``, a ``chat.token`` of time ``ts_us`` (``key``: see :meth:`add`);
        ``None`` unless its token is plain."""
        payload = event.payload
        if type(payload) is not dict or len(payload) != 4:
            return None
        run_id, parent = payload.get("run_id"), payload.get("parent_run_id")
        if type(run_id) is not str or not (parent is None or type(parent) is str):
            return None
        chunk = chunk_rest(payload.get("chunk"), payload.get("token"))
        if chunk is None:
            return None
        pack = cls(event, run_id, parent, chunk)
        pack.key = key
        pack.times.append(ts_us)
        pack.tokens.append(payload["token"])
        return pack

    def add(self, event: NewEvent, ts_us: int, key: object = None) -> bool:
        """Take the next token of the run (of time ``ts_us``) if it is this call's next plain
        one (its chunk :func:`~rewind.log.token_form.plain_id`'s, inlined: once per token), in
        the same step, namespace, node and task (and the pack is not full).

        ``key``, when given, is the caller's word that every token it comes with is of one
        model call, step, namespace, node and task, its payload ``{run_id, parent_run_id,
        token, chunk}`` (a recorder's: one key per model call): a token with the pack's key
        is not asked for those again."""
        payload = event.payload
        if (key is None or key is not self.key) and (
            type(payload) is not dict
            or len(payload) != 4
            or payload.get("run_id") != self.run_id
            or payload.get("parent_run_id") != self.parent_run_id
            or (event.step, event.ns, event.node, event.task_id) != self.where
        ):
            return False
        return self.add_chunk(ts_us, payload["token"], payload["chunk"])

    def add_chunk(self, ts_us: int, token: Any, chunk: Any) -> bool:
        """:meth:`add` of a token of this pack's model call, step, namespace, node and task
        (the caller's word), given as its text and chunk: whether the pack took it (it is
        plain as the pack's others, and the pack is not full)."""
        if len(self.tokens) >= PACK_MAX:
            return False
        if type(chunk) is not AIMessageChunk or type(token) is not str or chunk.__pydantic_extra__:
            return False
        fields = self.fields
        fields["content"] = token
        if chunk.__dict__ != fields:
            return False
        self.times.append(ts_us)
        self.tokens.append(token)
        return True

    def __len__(self) -> int:
        return len(self.tokens)

    def row(self) -> tuple[str, int, int | None, str | None, str | None, str | None, int, str]:
        """The encoded event of the row: one token's as a row of its own stores it, or the
        pack's (with the layout of :func:`pack_payload` if a token cannot go in the
        ``[call, offsets, tokens]`` one)."""
        times, tokens = self.times, self.tokens
        if len(tokens) == 1:
            text = _token_text(self.call, tokens[0])
        else:
            try:
                text = _orjson_dumps([self.call, list(map(sub, times, repeat(times[0]))), tokens])
            except TypeError:  # a lone surrogate: one codec text per token
                text = pack_payload(times, [_token_text(self.call, t) for t in tokens])
        step, ns, node, task_id = self.where
        return (PACKABLE, times[0], step, ns, node, task_id, codec.CODEC_VERSION, text)


def _token_payload(call: dict[str, Any], token: Any) -> dict[str, Any]:
    """The stored payload of one token of a call (the order of its keys as a row of its own
    stores them): compact (its chunk built when read), or with its chunk whole when the
    call's chunks carry more than their text and id."""
    run_id = call.get("run_id")
    payload = {"run_id": run_id, "parent_run_id": call.get("parent_run_id"), "token": token}
    rest = call.get("chunk")
    if type(rest) is str:
        chunk_id = call.get("chunk_id", f"{DERIVED_ID}{run_id}")
        payload["chunk"] = chunk_of(token, chunk_id, rest)
    elif "chunk_id" in call:
        payload["chunk_id"] = call["chunk_id"]
    return payload


def _token_text(call: dict[str, Any], token: str) -> str:
    """One token's payload text, as a row of its own stores it."""
    payload = _token_payload(call, token)
    if "chunk" in payload:
        return codec.encode(payload)
    try:
        return _orjson_dumps(payload)
    except TypeError:  # a lone surrogate: the codec's fallback writes it
        return codec.encode(payload)


def _orjson_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def unpack(
    position: int, seq: int, ts_us: int, count: int, payload: str, version: int
) -> Iterator[tuple[int, int, int, Any]]:
    """``(position, seq, ts_us, decoded payload)`` of each event of a packed row, in order.

    A row whose payload was redacted whole gives each of its events the redacted payload, at
    the row's time."""
    first_position, first_seq = position - count + 1, seq - count + 1
    value = codec.decode(payload, version)
    calls = _call_parts(value)
    if calls is not None and len(calls[1]) == count:
        call, offsets, tokens = calls
        for i, (dt, token) in enumerate(zip(offsets, tokens, strict=True)):
            yield first_position + i, first_seq + i, ts_us + dt, _token_payload(call, token)
        return
    parts = _parts(value)
    if parts is not None and len(parts[1]) == count:
        prefix, offsets, rests = parts
        decode = codec.decode
        for i, (dt, rest) in enumerate(zip(offsets, rests, strict=True)):
            yield first_position + i, first_seq + i, ts_us + dt, decode(prefix + rest, version)
        return
    for i in range(count):
        yield first_position + i, first_seq + i, ts_us, value


def texts(payload: str) -> list[str] | None:
    """The payload text of each event of a packed row, as a row of its own would store it
    (``None`` for a row whose payload was redacted whole, or is no packed row's): what a
    search of the log's text looks in (the row's own text splits a token's text, and escapes
    it once more)."""
    try:
        value = json.loads(payload)
    except ValueError:
        return None
    calls = _call_parts(value)
    if calls is not None:
        call, _offsets, tokens = calls
        return [_token_text(call, token) for token in tokens]
    parts = _parts(value)
    if parts is None:
        return None
    prefix, _offsets, rests = parts
    return [prefix + rest for rest in rests]


def offsets(payload: str) -> list[int] | None:
    """The time of each event of a packed row, in µs after the row's (``None`` for a row
    whose payload was redacted whole)."""
    try:
        value = json.loads(payload)
    except ValueError:
        return None
    parts = _call_parts(value) or _parts(value)
    return None if parts is None else parts[1]


def _call_parts(value: Any) -> tuple[dict[str, Any], list[int], list[str]] | None:
    """A decoded ``[call, offsets, tokens]`` payload's parts (``None``: not that layout)."""
    if type(value) is list and len(value) == 3 and type(value[0]) is dict:
        call, offsets, tokens = value
        if (
            type(offsets) is list
            and type(tokens) is list
            and len(tokens) == len(offsets)
            and type(call.get("run_id")) is str
        ):
            return call, offsets, tokens
    return None


def _parts(value: Any) -> tuple[str, list[int], list[str]] | None:
    """A decoded packed payload's prefix, offsets and rests (``None``: not that layout, as a
    payload redacted whole)."""
    if type(value) is list and len(value) == 3 and type(value[1]) is list:
        prefix, offsets, rests = value
        if type(prefix) is str and type(rests) is list and len(rests) == len(offsets):
            return prefix, offsets, rests
    return None
