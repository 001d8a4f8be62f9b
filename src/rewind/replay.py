"""Replay a recorded run's stream: the chunks a live client got, rebuilt from the log alone.

A replay reads the run's events a page at a time (memory stays bounded however long the run)
and feeds them to the same projections a live stream uses; the state the run started from is
read from its origin checkpoint (the nearest snapshot and the events after it), never from the
thread's whole history. It runs no node, calls no model, and needs none of the graph's code.

    for chunk in replay(log, run_id, stream_mode=["updates", "values"]):
        ...

A run streamed by a v3 run stream (``stream_events(version="v3")``) is replayed as the run
stream its client got by :func:`rewind.stream.replay_events` (``await``
:func:`rewind.stream.areplay_events`); its stream modes replay here too, its ``messages`` mode
giving the chat models' content-block events, as it did live.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any

from rewind.errors import UnknownThreadError
from rewind.events import EventType, StoredEvent
from rewind.log import EventLog, RunRecord
from rewind.projections.modes import of_subgraph
from rewind.projections.state import CheckpointView, fold_thread
from rewind.projections.stream import (
    Item,
    Projector,
    RunFacts,
    event_types,
    mappers_of,
    parse_stream_mode,
    shaper,
)
from rewind.runtime.read_back import checkpointed
from rewind.thread_state import ThreadState, read_checkpoint
from rewind.types import Command

__all__ = ["RunStream", "areplay", "areplay_thread", "replay", "replay_thread"]


class RunStream:
    """One run's events, fed in seq order, made into its projections' items.

    :meth:`prepare` reads what the run starts from (its origin checkpoint's state, and the
    events after that checkpoint, where a resumed subgraph finds the checkpoint it continues
    from); :meth:`feed` then needs no further read. The server's streams and :func:`areplay`
    both use it.
    """

    def __init__(
        self,
        run_id: str,
        modes: list[str],
        *,
        subgraphs: bool,
        events_stream_mode: Any = "updates",
    ) -> None:
        self.run_id = run_id
        self.modes = modes
        self.subgraphs = subgraphs
        self.events_stream_mode = events_stream_mode
        self.projector: Projector | None = None
        self._origin: ThreadState | None = None
        # This run's events until its first root checkpoint: where a subgraph resumed in its
        # first step finds its own checkpoints (none is resumed later in a run, and none in a
        # run that continues no checkpoint: such a run keeps none).
        self._first_step: list[StoredEvent] | None = None

    async def prepare(self, log: EventLog) -> RunRecord:
        """Read the run's record and the state it starts from."""
        run = await log.get_run(self.run_id)
        if run.origin_checkpoint_id is not None:
            self._first_step = []
            # As the thread was when the run started: later runs must not show through. As
            # the live run loaded it: as LangGraph's checkpointer gives it back.
            self._origin = await read_checkpoint(
                log,
                run.origin_checkpoint_id,
                thread_id=run.thread_id,
                before_position=run.first_position,
                read_back=checkpointed,
            )
        return run

    @property
    def head(self) -> CheckpointView | None:
        """The checkpoint the run starts from, if any."""
        return self._origin.view if self._origin is not None else None

    def feed(self, event: StoredEvent) -> list[Item]:
        """The items one event makes (``[]`` before the run's ``run.started``)."""
        projector = self.projector
        if projector is not None and self._first_step is None and event.type not in _OPENING:
            return projector.feed(event)  # most events: nothing but the projections' items
        items: list[Item] = []
        if event.type == EventType.RUN_STARTED:
            facts = dataclasses.replace(RunFacts.from_started(event.payload), run_id=self.run_id)
            head = self.head
            self.projector = Projector(
                self.modes,
                facts,
                head.values if head else None,
                events_stream_mode=self.events_stream_mode,
                subgraphs=self.subgraphs,
                messages_protocol=facts.stream_protocol,
            )
            inputs = (event.payload or {}).get("input")
            if head is not None and (inputs is None or isinstance(inputs, Command)):
                fork = bool((event.payload or {}).get("fork"))
                items += self.projector.resumed("", head, fork=fork)
        projector = self.projector
        if projector is None:  # a log that does not open with run.started: nothing to show
            return []
        if event.type == EventType.RESUME and (event.payload or {}).get("subgraph"):
            items += self._resumed_subgraph(projector, event)
        if self._first_step is not None:
            if event.type == EventType.CHECKPOINT and not event.ns:
                self._first_step = None
            elif event.type in _FOLDED:
                self._first_step.append(event)
        items += projector.feed(event)
        return items

    def _resumed_subgraph(self, projector: Projector, event: StoredEvent) -> list[Item]:
        """What a subgraph resumed from its own checkpoint re-emits first (as live)."""
        origin = self._origin
        if origin is None or origin.view is None:
            return []
        earlier = [e for e in origin.tail if e.run_id != self.run_id]
        runs = [(r, o) for r, o in origin.origins.items() if r != self.run_id]
        runs.append((self.run_id, origin.view.id))
        by_run: dict[str, list[StoredEvent]] = {}
        for e in [*earlier, *(self._first_step or ())]:
            by_run.setdefault(e.run_id, []).append(e)
        ns = event.ns or ""
        nested = {v.id: v for v in fold_thread(runs, by_run, ns=ns, known=[origin.view])}
        resumed = nested.get(event.payload["checkpoint_id"])
        if resumed is None:
            return []
        if origin.read_back is not None:  # (as the live run read it back)
            resumed = origin.read_back(resumed)
        return projector.resumed(ns, resumed)


async def areplay(
    log: EventLog,
    run_id: str,
    *,
    stream_mode: Any = "updates",
    subgraphs: bool = False,
    version: str = "v1",
    start: str | int | None = None,
    events_stream_mode: Any = "updates",
    graph: Any = None,
) -> AsyncIterator[Any]:
    """Yield what ``stream(..., stream_mode=...)`` yielded for run ``run_id``, from the log.

    Args:
        log: The log holding the run.
        run_id: The run.
        stream_mode: One mode, a list or a tuple, as for ``stream`` (default ``updates``).
        subgraphs: Include subgraphs' chunks, with their namespaces.
        version: ``"v2"`` for typed parts.
        start: A checkpoint id (the replay starts at that checkpoint) or a log position (it
            starts after it): the suffix of the full replay from that point.
        events_stream_mode: In the ``events`` mode, the stream mode(s) the graph's own
            ``on_chain_stream`` chunks follow (``astream_events(..., stream_mode=...)``).
        graph: The compiled graph that made the run, when its code is at hand: v2 parts then
            carry its state as its schema's instances (a pydantic model, a dataclass), as its
            live stream did; without it, as the dicts the log holds.

    The ``messages`` mode of a run a v3 run stream made gives what it gave there: each chat
    model's content-block events (``(event, metadata)``, the metadata with the model call's
    ``run_id``), not tokens.

    Raises:
        UnknownRunError: the log has no such run.
        ValueError: ``start`` names no checkpoint of the run.
    """
    modes, shape = parse_stream_mode(stream_mode)
    schemas = getattr(getattr(graph, "builder", None), "schemas", None)
    mappers = (
        mappers_of(schemas.state, schemas.output)
        if schemas is not None and version == "v2"
        else None
    )
    shaped = shaper(shape=shape, subgraphs=subgraphs, version=version, mappers=mappers)
    items = replayed_items(
        log,
        run_id,
        modes,
        subgraphs=subgraphs,
        start=start,
        events_stream_mode=events_stream_mode,
    )
    async for _, mode, ns, chunk in items:
        yield shaped(mode, ns, chunk)


async def replayed_items(
    log: EventLog,
    run_id: str,
    modes: list[str],
    *,
    subgraphs: bool,
    start: str | int | None = None,
    events_stream_mode: Any = "updates",
) -> AsyncIterator[tuple[StoredEvent, str, tuple[str, ...], Any]]:
    """What :func:`areplay` shows, unshaped: each ``(event, mode, namespace, chunk)``, with the
    stored event the chunk was made of (a subgraph's only with ``subgraphs``).

    Raises:
        UnknownRunError: the log has no such run.
        ValueError: ``start`` names no checkpoint of the run.
    """
    stream = RunStream(run_id, modes, subgraphs=subgraphs, events_stream_mode=events_stream_mode)
    run = await stream.prepare(log)
    # Only the kinds of event the modes read (and, for a run that continues a checkpoint,
    # those a resumed subgraph's fold reads; for a start checkpoint, the checkpoints).
    needed = event_types(modes, events_stream_mode=events_stream_mode)
    if needed is not None and run.origin_checkpoint_id is not None:
        needed |= _FOLDED
    if needed is not None and isinstance(start, str):
        needed |= {EventType.CHECKPOINT}
    started = start is None or isinstance(start, int)
    after = start if isinstance(start, int) else None
    async for page in log._iter_pages(run_id, types=needed):
        for event in page:
            items = stream.feed(event)
            if not started:
                started = _is_checkpoint(event, start)
                if not started:
                    continue
            if not items or (after is not None and event.position <= after):
                continue
            for mode, ns, chunk in items:
                if not subgraphs and of_subgraph(ns):
                    continue
                yield event, mode, ns, chunk
    if not started:
        raise ValueError(f"run {run_id} has no checkpoint {start!r}")


_OPENING = frozenset({EventType.RUN_STARTED, EventType.RESUME})
"""The event types a run stream looks at itself (the run's start, a subgraph resumed)."""

_FOLDED = frozenset(
    {
        EventType.CHECKPOINT,
        EventType.TASK_STARTED,
        EventType.TASK_ENDED,
        EventType.TASK_FAILED,
        EventType.INTERRUPT,
        EventType.RESUME,
    }
)
"""The event types a fold of checkpoints reads (:func:`~rewind.projections.state.fold_thread`)."""


def _is_checkpoint(event: StoredEvent, checkpoint_id: Any) -> bool:
    return event.type == EventType.CHECKPOINT and (event.payload or {}).get("id") == checkpoint_id


async def areplay_thread(log: EventLog, thread_id: str, **kwargs: Any) -> AsyncIterator[Any]:
    """Replay every run of a thread, oldest first, as :func:`areplay` replays one.

    Raises:
        UnknownThreadError: the log has no run on that thread.
    """
    runs = await log.list_runs(thread_id=thread_id, oldest_first=True)
    if not runs:
        raise UnknownThreadError(thread_id)
    for run in runs:
        async for chunk in areplay(log, run.run_id, **kwargs):
            yield chunk


def replay_thread(log: EventLog, thread_id: str, **kwargs: Any) -> Iterator[Any]:
    """The sync twin of :func:`areplay_thread` (chunks come as they are rebuilt)."""
    from rewind.runtime.streaming import iterate_sync

    return iterate_sync(areplay_thread(log, thread_id, **kwargs), on=None)


def replay(log: EventLog, run_id: str, **kwargs: Any) -> Iterator[Any]:
    """The sync twin of :func:`areplay` (for a log used from sync code; chunks come as
    they are rebuilt, so memory stays bounded)."""
    from rewind.runtime.streaming import iterate_sync

    return iterate_sync(areplay(log, run_id, **kwargs), on=None)
