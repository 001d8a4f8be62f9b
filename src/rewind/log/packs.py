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

from rewind.events import EventType
from rewind.log import codec

__all__ = ["PACK_MAX", "PACKABLE", "pack_payload", "texts", "unpack"]

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


def unpack(
    position: int, seq: int, ts_us: int, count: int, payload: str, version: int
) -> Iterator[tuple[int, int, int, Any]]:
    """``(position, seq, ts_us, decoded payload)`` of each event of a packed row, in order.

    A row whose payload was redacted whole gives each of its events the redacted payload, at
    the row's time."""
    first_position, first_seq = position - count + 1, seq - count + 1
    value = codec.decode(payload, version)
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
    parts = _parts(value)
    if parts is None:
        return None
    prefix, _offsets, rests = parts
    return [prefix + rest for rest in rests]


def _parts(value: Any) -> tuple[str, list[int], list[str]] | None:
    """A decoded packed payload's prefix, offsets and rests (``None``: not that layout, as a
    payload redacted whole)."""
    if type(value) is list and len(value) == 3 and type(value[1]) is list:
        prefix, offsets, rests = value
        if type(prefix) is str and type(rests) is list and len(rests) == len(offsets):
            return prefix, offsets, rests
    return None
