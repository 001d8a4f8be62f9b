"""Post-hoc export: the spans of stored runs, rebuilt from the log and sent again.

The spans are the ones the live mirror sent (same fold, same ids, the events' own timestamps), so
a run can be exported twice, to a new backend, or after the collector was down, and its trace is
the same trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SpanExporter

from rewind.errors import UnknownRunError
from rewind.events import EventType, StoredEvent
from rewind.log import EventLog
from rewind.telemetry.content import ContentPolicy
from rewind.telemetry.delivery import send
from rewind.telemetry.genai import as_mapping
from rewind.telemetry.otel import exporter_from_env, resource_from_env
from rewind.telemetry.spans import (
    SPAN_EVENT_TYPES,
    Origin,
    SpanRecord,
    build_spans,
    origin_of,
    origin_run_id,
)
from rewind.thread_state import read_checkpoint

__all__ = ["ExportResult", "export_run", "export_runs", "run_spans"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True, kw_only=True, slots=True)
class ExportResult:
    """What an export sent."""

    runs: int
    """Runs exported."""
    spans_exported: int
    """Spans the exporter accepted."""
    spans_failed: int
    """Spans whose delivery failed (collector down, slow or rejecting): export again later."""


async def run_spans(
    log: EventLog,
    run_id: str,
    *,
    content: ContentPolicy | None = None,
    close_open: bool = False,
) -> list[SpanRecord]:
    """The span records of one stored run (the pure fold over its events).

    Args:
        log: The event log holding the run.
        run_id: The run.
        content: What content goes on spans; by default what
            ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` says.
        close_open: For a run still going (or one whose process died), close its open spans at
            its last event; by default they are left out until the run ends.

    Raises:
        UnknownRunError: the log has no such run.
    """
    events = await log.read(run_id, types=SPAN_EVENT_TYPES)
    origin = await origin_span(log, events[0]) if events else None
    policy = content or ContentPolicy.from_env()
    state = await start_state(log, events[0], policy) if events else None
    return build_spans(events, origin=origin, content=policy, close_open=close_open, state=state)


async def start_state(
    log: EventLog, start: StoredEvent, content: ContentPolicy
) -> Mapping[str, Any] | None:
    """The state a run started from, when content goes on spans (its chat calls' input names
    that state's messages by id); ``None`` otherwise, or for a run on a fresh thread."""
    origin = as_mapping(start.payload).get("origin")
    checkpoint_id = as_mapping(origin).get("checkpoint_id")
    if not content.enabled or not checkpoint_id:
        return None
    found = await read_checkpoint(
        log, str(checkpoint_id), thread_id=start.thread_id, before_position=start.position
    )
    return found.view.values if found is not None and found.view is not None else None


async def origin_span(log: EventLog, start: StoredEvent) -> Origin | None:
    """The span a run's ``run.started`` event links to: the root span of the run it continues
    or forks, when that run is still in the log."""
    origin = origin_run_id(start)
    if origin is None:
        return None
    try:
        first = await log.read(origin, until_seq=0)
    except UnknownRunError:  # pruned: nothing to link to
        return None
    return origin_of(first[0]) if first else None


async def export_run(
    log: EventLog,
    run_id: str,
    *,
    exporter: SpanExporter | None = None,
    content: ContentPolicy | None = None,
    close_open: bool = False,
) -> ExportResult:
    """Export one stored run's spans with their original ids and timestamps (see
    :func:`export_runs`)."""
    return await export_runs(
        log, [run_id], exporter=exporter, content=content, close_open=close_open
    )


async def export_runs(
    log: EventLog,
    run_ids: Iterable[str],
    *,
    exporter: SpanExporter | None = None,
    progress: Progress | None = None,
    content: ContentPolicy | None = None,
    close_open: bool = False,
    batch_size: int = 512,
) -> ExportResult:
    """Export the spans of stored runs, rebuilt from their logs.

    Exporting a run again gives the same spans (ids, parents, times, attributes), the ones the
    live mirror sent. Delivery failures do not raise: they are counted in ``spans_failed``.

    Args:
        log: The event log holding the runs.
        run_ids: The runs, exported in this order.
        exporter: An SDK span exporter; by default the OTLP exporter the ``OTEL_*`` variables
            describe (shut down when the export is done; one passed in is left open).
        progress: Called with (runs done, runs in all) after each run.
        content: What content goes on spans; by default what the environment says.
        close_open: Also export the open spans of runs that have not ended.
        batch_size: Most spans per export call.

    Raises:
        TypeError: ``log`` is not an event log, or a run id is not a string.
        UnknownRunError: a run is not in the log (checked before anything is sent).
    """
    if not isinstance(log, EventLog):
        raise TypeError(
            f"export_runs needs an EventLog (from `await open_log(...)`), not {type(log).__name__}"
        )
    ids = list(run_ids) if not isinstance(run_ids, str) else [run_ids]
    for run_id in ids:
        if not isinstance(run_id, str):
            raise TypeError(f"run ids are strings, not {type(run_id).__name__}: {run_id!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    starts = await log.read_runs(ids, types=[EventType.RUN_STARTED])
    for run_id in ids:  # an unknown run fails before anything is sent
        if run_id not in starts:
            raise UnknownRunError(run_id)
    origins = await _origins(log, [e for events in starts.values() for e in events])
    own = exporter is None
    sink = _Sender(exporter or exporter_from_env(), resource_from_env(), batch_size)
    policy = content or ContentPolicy.from_env()
    with _fewer_young_collections():
        try:
            done = 0
            for start in range(0, len(ids), _RUNS_PER_READ):
                chunk = ids[start : start + _RUNS_PER_READ]
                logs = await log.read_runs(chunk, types=SPAN_EVENT_TYPES)
                for run_id in chunk:
                    events = logs.pop(run_id, [])
                    origin = origins.get(origin_run_id(events[0]) or "") if events else None
                    state = await start_state(log, events[0], policy) if events else None
                    spans = build_spans(
                        events, origin=origin, content=policy, close_open=close_open, state=state
                    )
                    await sink.add(spans)
                    done += 1
                    if progress is not None:
                        progress(done, len(ids))
            await sink.finish()
        finally:
            if own:
                await asyncio.to_thread(sink.exporter.shutdown)
    return ExportResult(runs=len(ids), spans_exported=sink.exported, spans_failed=sink.failed)


async def _origins(log: EventLog, starts: list[StoredEvent]) -> dict[str, Origin]:
    """The spans the runs of these ``run.started`` events link to, by origin run id."""
    wanted = {o for o in map(origin_run_id, starts) if o is not None}
    if not wanted:
        return {}
    known = {e.run_id: e for e in starts if e.run_id in wanted}
    missing = wanted - set(known)
    if missing:
        found = await log.read_runs(sorted(missing), types=[EventType.RUN_STARTED])
        known.update({run_id: events[0] for run_id, events in found.items() if events})
    return {run_id: origin_of(start) for run_id, start in known.items()}


_RUNS_PER_READ = 50
"""Runs whose events one read brings (one query instead of one per run)."""
_YOUNG_THRESHOLD = 20_000
_gc_lock = threading.Lock()
_gc_users = 0
_gc_saved: tuple[int, int, int] = (0, 0, 0)


@contextlib.contextmanager
def _fewer_young_collections() -> Iterator[None]:
    """Raise the collector's young-generation threshold while an export runs (restored after).

    A bulk export makes hundreds of thousands of objects that live for a batch: at the default
    threshold they outlive young collections, get promoted, and make full collections of the
    whole heap frequent enough to take about half the export's time.
    """
    global _gc_users, _gc_saved
    with _gc_lock:
        if _gc_users == 0:
            _gc_saved = gc.get_threshold()
            if 0 < _gc_saved[0] < _YOUNG_THRESHOLD:
                gc.set_threshold(_YOUNG_THRESHOLD, *_gc_saved[1:])
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0:
                gc.set_threshold(*_gc_saved)


_GIVE_UP_AFTER = 3
"""Failed export calls in a row after which the rest of an export is counted as failed
unsent: a collector that is down would otherwise cost its timeout once per batch."""


class _Sender:
    """Exports batches on a worker thread, one in flight while the next batch is built."""

    def __init__(self, exporter: SpanExporter, resource: Resource, batch_size: int) -> None:
        self.exporter = exporter
        self.resource = resource
        self.batch_size = batch_size
        self.pending: list[SpanRecord] = []
        self.exported = 0
        self.failed = 0
        self._failures_in_a_row = 0
        self._inflight: asyncio.Future[None] | None = None

    async def add(self, records: list[SpanRecord]) -> None:
        """Queue spans; full batches go out (one in flight)."""
        self.pending += records
        while len(self.pending) >= self.batch_size:
            await self.send(self.pending[: self.batch_size])
            del self.pending[: self.batch_size]

    async def finish(self) -> None:
        """Send what is left and wait for it."""
        if self.pending:
            await self.send(self.pending)
            self.pending = []
        await self.wait()

    async def send(self, batch: list[SpanRecord]) -> None:
        """Export ``batch`` (a list no one changes afterwards) once the batch before is done."""
        await self.wait()

        def deliver() -> None:
            if self._failures_in_a_row < _GIVE_UP_AFTER and send(
                self.exporter, batch, self.resource
            ):
                self.exported += len(batch)
                self._failures_in_a_row = 0
            else:
                self.failed += len(batch)
                self._failures_in_a_row += 1

        self._inflight = asyncio.ensure_future(asyncio.to_thread(deliver))

    async def wait(self) -> None:
        if self._inflight is not None:
            inflight, self._inflight = self._inflight, None
            await inflight
