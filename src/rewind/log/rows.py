"""From rows of ``events`` to events: one per ordinary row, ``k`` per packed row.

A packed row (see :mod:`rewind.log.packs`) holds ``k`` consecutive tokens of one run and is
keyed by its last event: its events have the ``k`` seqs and positions ending at the row's. So a
read bounded below ("after seq ``s``") may get a first row that begins at or before ``s``, and
one bounded above ("until seq ``s``") fetches the one packed row that begins at or before ``s``
and ends after it (see :func:`rewind.log.reads.through_seq`): both are trimmed here, to the
events within the bounds. Ordinary rows are always within a read's bounds, and take the fast
path they always took (:func:`event_of`, a page's rows mapped straight through it).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from rewind.events import STATE_EVENTS, EventType, StoredEvent
from rewind.log import codec
from rewind.log.chain import from_micros
from rewind.log.packs import unpack
from rewind.log.schema import events
from rewind.log.token_form import expand_token

__all__ = [
    "EVENT_COLUMNS",
    "POSITION",
    "SEQ",
    "event_of",
    "fetch_rows",
    "fresh_events",
    "held",
    "iter_events",
    "row_events",
    "run_events",
    "take_events",
]

EVENT_COLUMNS = (
    events.c.position,
    events.c.seq,
    events.c.type,
    events.c.ts,
    events.c.step,
    events.c.ns,
    events.c.node,
    events.c.task_id,
    events.c.codec,
    events.c.payload,
    events.c.hash,
    events.c.packed,
)
"""The columns an event is read with, in :func:`event_of`'s order (``packed`` last: ``None``
for a row of one event, ``k`` for a row of ``k``)."""

POSITION, SEQ = 0, 1
"""The index in a read row of the key a read is bounded by: log position, or seq in the run."""

_PACKED = 11
_packed = operator.itemgetter(_PACKED)
_CHUNK = 256
"""Rows a limited read takes from its cursor at a time (see :func:`fetch_rows`)."""
_CHAT_TOKEN = EventType.CHAT_TOKEN.value

Row = Sequence[Any]
"""A read row: :data:`EVENT_COLUMNS`, then whatever else the read selected."""


def event_of(
    run_id: str,
    thread_id: str,
    position: int,
    seq: int,
    type_: str,
    ts: int,
    step: int | None,
    ns: str | None,
    node: str | None,
    task_id: str | None,
    version: int,
    payload: str,
    hash_: bytes,
    packed: None = None,
) -> StoredEvent:
    """The event of an ordinary row, from its columns (``packed`` is ``None`` for such a row,
    and taken so a read row maps straight through; a packed row's events:
    :func:`row_events`)."""
    # (a tuple in a payload no state is read from leaves the codec's mark: see read_back)
    value = codec.decode(payload, version, counted=type_ in STATE_EVENTS)
    return _built(
        run_id,
        thread_id,
        position,
        seq,
        type_,
        expand_token(value) if type_ == _CHAT_TOKEN else value,
        ts,
        step,
        ns,
        node,
        task_id,
        bytes(hash_),
    )


def _built(
    run_id: str,
    thread_id: str,
    position: int,
    seq: int,
    type_: str,
    payload: Any,
    ts: int,
    step: int | None,
    ns: str | None,
    node: str | None,
    task_id: str | None,
    hash_: bytes,
) -> StoredEvent:
    """An event of decoded fields. Read by the hundred thousand: the record is built without
    its __init__ (which sets each frozen field through object.__setattr__), each slot set by
    its own descriptor."""
    event = _new_event(StoredEvent)
    _set_run_id(event, run_id)
    _set_thread_id(event, thread_id)
    _set_seq(event, seq)
    _set_position(event, position)
    _set_type(event, type_)
    _set_payload(event, payload)
    _set_ts(event, from_micros(ts))
    _set_step(event, step)
    _set_ns(event, ns)
    _set_node(event, node)
    _set_task_id(event, task_id)
    _set_hash(event, hash_)
    return event


def row_events(
    row: Row,
    run_id: str,
    thread_id: str,
    *,
    key: int = SEQ,
    after: int | None = None,
    until: int | None = None,
) -> list[StoredEvent]:
    """The events of one read row whose key (``row[key]``: :data:`SEQ` or :data:`POSITION`)
    is above ``after`` and at most ``until``: the row's event, or those of a packed row's
    events within the bounds (each with its own position, seq and time, all with the row's
    hash)."""
    count = row[_PACKED]
    if count is None:
        return [event_of(run_id, thread_id, *row[:11])]
    position, seq, type_, ts, step, ns, node, task_id, version, payload, hash_ = row[:11]
    skip, stop = _span(row[key], count, after, until)
    token = type_ == _CHAT_TOKEN
    hash_ = bytes(hash_)
    return [
        _built(
            run_id,
            thread_id,
            event_position,
            event_seq,
            type_,
            expand_token(value) if token else value,
            event_ts,
            step,
            ns,
            node,
            task_id,
            hash_,
        )
        for event_position, event_seq, event_ts, value in itertools.islice(
            unpack(position, seq, ts, count, payload, version), skip, stop
        )
    ]


def run_events(
    rows: Sequence[Row],
    run_id: str,
    thread_id: str,
    *,
    key: int = SEQ,
    after: int | None = None,
    until: int | None = None,
) -> list[StoredEvent]:
    """The events of rows of one run (as :func:`row_events`, row after row)."""
    if not any(map(_packed, rows)):
        return [event_of(run_id, thread_id, *row[:11]) for row in rows]
    found: list[StoredEvent] = []
    for row in rows:
        found += row_events(row, run_id, thread_id, key=key, after=after, until=until)
    return found


def iter_events(
    rows: Sequence[Row],
    run_id: str,
    thread_id: str,
    *,
    after: int | None = None,
    until: int | None = None,
) -> Iterator[StoredEvent]:
    """The events of a page of a run's rows (:data:`EVENT_COLUMNS` exactly, bounded by seq),
    each decoded as it is iterated (a packed row's together)."""
    if not any(map(_packed, rows)):
        return itertools.starmap(functools.partial(event_of, run_id, thread_id), rows)
    return itertools.chain.from_iterable(
        row_events(row, run_id, thread_id, after=after, until=until) for row in rows
    )


def held(
    rows: Sequence[Row], *, key: int = SEQ, after: int | None = None, until: int | None = None
) -> int:
    """How many events ``rows`` hold within the bounds (without decoding any)."""
    count = len(rows)
    if not any(map(_packed, rows)):
        return count
    for row in rows:
        packed = row[_PACKED]
        if packed is not None:
            skip, stop = _span(row[key], packed, after, until)
            count += max(0, stop - skip) - 1
    return count


def take_events(
    fetchmany: Callable[[int], Sequence[Row]],
    limit: int | None,
    expand: Callable[[Sequence[Row]], list[StoredEvent]],
) -> list[StoredEvent]:
    """Events from a cursor (its ``fetchmany``), ``expand`` turning each few rows taken into
    their events within the read's bounds, until there are ``limit`` of them (``None``: all):
    rows are decoded as they come, never a whole result's held at once."""
    found: list[StoredEvent] = []
    while limit is None or len(found) < limit:
        size = _CHUNK if limit is None else min(limit - len(found), _CHUNK)
        chunk = fetchmany(size)
        found += expand(chunk)
        if len(chunk) < size:
            break
    return found if limit is None or len(found) <= limit else found[:limit]


def fetch_rows(
    fetchmany: Callable[[int], Sequence[Row]],
    events: int,
    *,
    key: int = SEQ,
    after: int | None = None,
    until: int | None = None,
) -> list[Row]:
    """Rows from a cursor (its ``fetchmany``) until they hold ``events`` events within the
    bounds, or the cursor ends. A row holds at least one event, so the query's own limit is
    ``events`` rows; rows are taken a few at a time, so a few packed rows do not bring a whole
    limit's worth of rows along."""
    rows: list[Row] = []
    count = 0
    while count < events:
        size = min(events - count, _CHUNK)
        chunk = fetchmany(size)
        rows += chunk
        count += held(chunk, key=key, after=after, until=until)
        if len(chunk) < size:
            break
    return rows


def fresh_events(run_id: str, thread_id: str, row: Sequence[Any]) -> list[StoredEvent]:
    """The events of a row as a commit plan writes it (``events`` column order: ``position,
    run_key, seq, type, ts, step, ns, node, task_id, codec, payload, hash[, packed]``), for
    live subscribers: one, or a packed row's ``k``."""
    position, _key, *rest = row
    if len(rest) > 10 and rest[10] is not None:
        return row_events((position, *rest), run_id, thread_id)
    return [event_of(run_id, thread_id, position, *rest[:10])]


def _span(last: int, count: int, after: int | None, until: int | None) -> tuple[int, int]:
    """Which of a packed row's ``count`` events (the last keyed ``last``) are above ``after``
    and at most ``until``: a slice's start and stop."""
    skip = 0 if after is None else max(0, after - last + count)
    stop = count if until is None else count - max(0, last - until)
    return skip, stop


def _setter(name: str) -> Callable[[StoredEvent, Any], None]:
    return getattr(StoredEvent, name).__set__  # type: ignore[no-any-return]


_new_event = StoredEvent.__new__
_set_run_id = _setter("run_id")
_set_thread_id = _setter("thread_id")
_set_seq = _setter("seq")
_set_position = _setter("position")
_set_type = _setter("type")
_set_payload = _setter("payload")
_set_ts = _setter("ts")
_set_step = _setter("step")
_set_ns = _setter("ns")
_set_node = _setter("node")
_set_task_id = _setter("task_id")
_set_hash = _setter("hash")
assert len(dataclasses.fields(StoredEvent)) == 12, "a field event_of does not set"
assert not hasattr(StoredEvent, "__post_init__"), "StoredEvent has a __post_init__ to run"
