"""Replay a recorded run's stream: the chunks a live client got, rebuilt from the log alone.

A replay reads the run's events (and, for the state it started from, its thread's earlier
events) and feeds them to the same projections a live stream uses. It runs no node, calls no
model, and needs none of the graph's code.

    for chunk in replay(store, run_id, stream_mode=["updates", "values"]):
        ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any

from rewind.errors import UnknownThreadError
from rewind.events import EventType, StoredEvent
from rewind.projections.state import fold_thread
from rewind.projections.stream import (
    Item,
    Projector,
    RunFacts,
    event_types,
    parse_stream_mode,
    shape_chunk,
)
from rewind.store import EventStore
from rewind.types import Command

__all__ = ["areplay", "areplay_thread", "replay", "replay_thread"]


async def areplay(
    store: EventStore,
    run_id: str,
    *,
    stream_mode: Any = "updates",
    subgraphs: bool = False,
    version: str = "v1",
    start: str | int | None = None,
    events_stream_mode: Any = "updates",
) -> AsyncIterator[Any]:
    """Yield what ``stream(..., stream_mode=...)`` yielded for run ``run_id``, from the log.

    Args:
        store: The store holding the run.
        run_id: The run.
        stream_mode: One mode, a list or a tuple, as for ``stream`` (default ``updates``).
        subgraphs: Include subgraphs' chunks, with their namespaces.
        version: ``"v2"`` for typed parts.
        start: A checkpoint id (the replay starts at that checkpoint) or a log position (it
            starts after it): the suffix of the full replay from that point.
        events_stream_mode: In the ``events`` mode, the stream mode(s) the graph's own
            ``on_chain_stream`` chunks follow (``astream_events(..., stream_mode=...)``).

    Raises:
        UnknownRunError: the store has no such run.
        ValueError: ``start`` names no checkpoint of the run.
    """
    modes, shape = parse_stream_mode(stream_mode)
    items = await _items(
        store, run_id, modes, start, events_stream_mode=events_stream_mode, subgraphs=subgraphs
    )
    for position, (mode, ns, chunk) in items:
        if ns and not subgraphs:
            continue
        del position
        yield shape_chunk(mode, ns, chunk, shape=shape, subgraphs=subgraphs, version=version)


async def areplay_thread(store: EventStore, thread_id: str, **kwargs: Any) -> AsyncIterator[Any]:
    """Replay every run of a thread, oldest first, as :func:`areplay` replays one.

    Raises:
        UnknownThreadError: the store has no run on that thread.
    """
    runs = await store.list_runs(thread_id=thread_id, oldest_first=True)
    if not runs:
        raise UnknownThreadError(thread_id)
    for run in runs:
        async for chunk in areplay(store, run.run_id, **kwargs):
            yield chunk


def replay_thread(store: EventStore, thread_id: str, **kwargs: Any) -> Iterator[Any]:
    """The sync twin of :func:`areplay_thread`."""
    from rewind.runtime.loops import run_sync

    async def collect() -> list[Any]:
        return [chunk async for chunk in areplay_thread(store, thread_id, **kwargs)]

    return iter(run_sync(collect()))


def replay(store: EventStore, run_id: str, **kwargs: Any) -> Iterator[Any]:
    """The sync twin of :func:`areplay` (for a store used from sync code)."""
    from rewind.runtime.loops import run_sync

    async def collect() -> list[Any]:
        return [chunk async for chunk in areplay(store, run_id, **kwargs)]

    return iter(run_sync(collect()))


async def _items(
    store: EventStore,
    run_id: str,
    modes: list[str],
    start: str | int | None,
    *,
    events_stream_mode: Any = "updates",
    subgraphs: bool = True,
) -> list[tuple[int, Item]]:
    run = await store.get_run(run_id)
    by_run: dict[str, list[StoredEvent]] = {}
    runs: list[tuple[str, str | None]] = []
    needed = event_types(modes)
    if run.origin_run_id is not None or needed is None:
        # The run starts from an earlier checkpoint, or a mode folds state: read the thread.
        records, thread_events = await store.thread_log(run.thread_id)
        for event in thread_events:
            by_run.setdefault(event.run_id, []).append(event)
        runs = [(r.run_id, r.origin_checkpoint_id) for r in records]
    else:  # a fresh run, and modes that read few kinds of event: read only those
        by_run[run_id] = await store.read(run_id, types=needed)
        runs = [(run_id, None)]
    events = by_run[run_id]
    started = events[0].payload
    # The thread as it was when the run started: later runs (a resume) must not show through.
    before = runs[: [r for r, _ in runs].index(run_id)]
    root = {v.id: v for v in fold_thread(before, by_run)}
    head = root.get(run.origin_checkpoint_id or "")
    facts = dataclasses.replace(RunFacts.from_started(started), run_id=run_id)
    projector = Projector(
        modes,
        facts,
        head.values if head else None,
        events_stream_mode=events_stream_mode,
        subgraphs=subgraphs,
    )
    out: list[tuple[int, Item]] = []
    inputs = started.get("input")
    if head is not None and (inputs is None or isinstance(inputs, Command)):
        out += [(events[0].position, item) for item in projector.resumed("", head)]
    for event in events:
        if event.type == EventType.RESUME and (event.payload or {}).get("subgraph"):
            ns = event.ns or ""
            so_far = {**by_run, run_id: [e for e in events if e.position < event.position]}
            upto = [*before, (run_id, run.origin_checkpoint_id)]
            nested = {v.id: v for v in fold_thread(upto, so_far, ns=ns)}
            resumed = nested.get(event.payload["checkpoint_id"])
            if resumed is not None:
                out += [(event.position, item) for item in projector.resumed(ns, resumed)]
        out += [(event.position, item) for item in projector.feed(event)]
    return _suffix(out, events, start)


def _suffix(
    items: list[tuple[int, Item]], events: list[StoredEvent], start: str | int | None
) -> list[tuple[int, Item]]:
    if start is None:
        return items
    if isinstance(start, int):
        return [(p, item) for p, item in items if p > start]
    for event in events:
        if event.type == EventType.CHECKPOINT and event.payload.get("id") == start:
            return [(p, item) for p, item in items if p >= event.position]
    raise ValueError(f"run {events[0].run_id} has no checkpoint {start!r}")
