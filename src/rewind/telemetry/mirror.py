"""The live mirror: spans exported as runs go, from a subscription to the log.

The runtime does not know the mirror exists. The mirror subscribes to everything appended to the
log, folds each run's events into spans as they commit (the same fold a post-hoc export uses),
and hands each finished span to a delivery thread. Appends never wait for it: the subscription
falls back to reading the log when it lags, the delivery queue is bounded and drops (counting)
what does not fit, and nothing it does raises into the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time

from opentelemetry.sdk.trace.export import SpanExporter

from rewind.errors import RewindError
from rewind.events import EventType, StoredEvent
from rewind.log import EventLog
from rewind.telemetry.content import ContentPolicy
from rewind.telemetry.delivery import EXIT_TIMEOUT_VAR, Delivery
from rewind.telemetry.export import origin_span, start_state
from rewind.telemetry.genai import as_mapping
from rewind.telemetry.otel import exporter_from_env, resource_from_env
from rewind.telemetry.spans import RunSpans

__all__ = ["Mirror", "attach_mirror"]

_log = logging.getLogger("rewind.telemetry")
_HOST = socket.gethostname()


class Mirror:
    """Mirrors every run appended to a log as OpenTelemetry spans; see :func:`attach_mirror`."""

    def __init__(
        self,
        log: EventLog,
        exporter: SpanExporter,
        *,
        owns_exporter: bool,
        content: ContentPolicy,
        max_queue: int,
        batch_size: int,
        all_processes: bool = False,
    ) -> None:
        self.log = log
        self.content = content
        self.all_processes = all_processes
        """Mirror runs other processes append to the same database too."""
        self._owns_exporter = owns_exporter
        self._delivery = Delivery(
            exporter, resource_from_env(), max_queue=max_queue, batch_size=batch_size
        )
        self._runs: dict[str, RunSpans] = {}
        self._others: set[str] = set()  # running runs of other processes, not mirrored
        self._position = 0
        self._ready = asyncio.Event()
        self._closed = False
        self.errors = 0
        """Events the mirror could not fold (logged; the run is unaffected)."""
        self._task = asyncio.get_running_loop().create_task(self._follow(), name="rewind-mirror")

    @property
    def dropped_spans(self) -> int:
        """Spans that did not reach the collector (queue full, export failed or timed out)."""
        return self._delivery.dropped

    @property
    def exported_spans(self) -> int:
        """Spans the exporter accepted."""
        return self._delivery.exported

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    async def wait_ready(self) -> None:
        """Return once the mirror follows the log (runs appended from now on are mirrored
        from their first event; earlier events of a run it meets are read from the log)."""
        await self._ready.wait()  # set by the follower when it starts, and when it stops

    async def flush(self, within: float = 30.0) -> bool:
        """Fold everything appended so far and export it; whether that took under ``within`` s."""
        deadline = time.monotonic() + within
        await self._catch_up(deadline)
        left = max(deadline - time.monotonic(), 0.0)
        return await asyncio.to_thread(self._delivery.flush, left)

    async def aclose(self, within: float | None = None) -> None:
        """Deliver what is queued (within ``within`` seconds), stop following the log and
        release the exporter.

        The wait is bounded whatever the collector does, so that a dead, stalled or rejecting
        one costs an exiting process at most ``within`` seconds (by default what
        ``REWIND_OTEL_EXIT_TIMEOUT`` says, else 1). Spans still unsent then count as dropped,
        and when any span was dropped one warning says how many and how to export them again.
        """
        if self._closed:
            return
        self._closed = True
        told = within is not None
        within = self._delivery.exit_timeout if within is None else within
        deadline = time.monotonic() + within
        with contextlib.suppress(Exception):
            await self._catch_up(deadline)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        left = max(deadline - time.monotonic(), 0.0)
        delivered = await asyncio.to_thread(
            self._delivery.shutdown, left, close_exporter=self._owns_exporter
        )
        if self.dropped_spans:
            _log.warning(
                "live span mirror: %d spans were not delivered to the OTLP collector%s; %s "
                "back-fills them from the log",
                self.dropped_spans,
                _gave_up(within, told) if not delivered else "",
                _export_hint(self._delivery.incomplete_runs),
            )

    async def _catch_up(self, deadline: float) -> None:
        if self.log.closed or self._task.done():
            return
        await self.wait_ready()
        head = await self.log.head()
        while self._position < head and not self._task.done() and time.monotonic() < deadline:
            left = await self.log.read_all(after_position=self._position, limit=1)
            if not left or left[0].position > head:
                return  # the rest was deleted (a run kept only while it ran, a prune)
            await asyncio.sleep(0.005)

    async def _follow(self) -> None:
        try:
            after = await self.log.head()
            self._position = after
            self._ready.set()
            async for event in self.log.subscribe(after_position=after):
                try:
                    await self._fold(event)
                except Exception:
                    self.errors += 1
                    _log.warning(
                        "span mirror: cannot fold event %s of run %s",
                        event.seq,
                        event.run_id,
                        exc_info=True,
                    )
                self._position = event.position
        except RewindError:  # the log closed under the mirror: nothing more to follow
            return
        except Exception:  # never into the run: the log keeps everything for a later export
            _log.warning("span mirror stopped following the log", exc_info=True)
        finally:
            self._ready.set()

    async def _fold(self, event: StoredEvent) -> None:
        if event.run_id in self._others:
            if event.type == EventType.RUN_ENDED:
                self._others.discard(event.run_id)
            return
        fold = self._runs.get(event.run_id)
        if fold is None:
            earlier: list[StoredEvent] = []
            if event.seq > 0:  # a run that began before the mirror saw it: its start first
                earlier = await self.log.read(event.run_id, until_seq=event.seq - 1)
            if not self._mirrors((earlier or [event])[0]):
                if event.type != EventType.RUN_ENDED:
                    self._others.add(event.run_id)
                return
            start = (earlier or [event])[0]
            state = await start_state(self.log, start, self.content)
            fold = self._runs[event.run_id] = RunSpans(
                event.run_id, content=self.content, state=state
            )
            for before in earlier:
                await self._feed(fold, before)
        await self._feed(fold, event)
        if fold.ended:
            del self._runs[event.run_id]

    def _mirrors(self, start: StoredEvent) -> bool:
        """Whether to mirror the run ``start`` opens: this process's runs, unless told to
        mirror every process's (each process that mirrors its own sends each span once)."""
        if self.all_processes:
            return True
        process = as_mapping(start.payload).get("process")
        if not isinstance(process, dict):
            return True  # not recorded by a graph run: nothing says it is another's
        return process.get("pid") == os.getpid() and process.get("host") == _HOST

    async def _feed(self, fold: RunSpans, event: StoredEvent) -> None:
        origin = None
        if event.type == EventType.RUN_STARTED:
            origin = await origin_span(self.log, event)
        self._delivery.offer(fold.feed(event, origin=origin))


def _gave_up(within: float, told: bool) -> str:
    """Why some spans were not reported on: the wait ran out (and what sets it)."""
    what = "" if told else f"; {EXIT_TIMEOUT_VAR} sets how long"
    return f" (gave up waiting after {within:g} s{what})"


def _export_hint(runs: set[str]) -> str:
    """The ``rewind export`` command that sends ``runs`` again (named when they are few)."""
    if len(runs) == 1:
        return f"`rewind export {next(iter(runs))}`"
    named = sorted(runs)
    if not named:
        return "`rewind export RUN`"
    more = f" and {len(named) - 3} more" if len(named) > 3 else ""
    return f"`rewind export RUN` (runs {', '.join(named[:3])}{more})"


def attach_mirror(
    log: EventLog,
    *,
    exporter: SpanExporter | None = None,
    content: ContentPolicy | None = None,
    max_queue: int = 2048,
    batch_size: int = 512,
    all_processes: bool = False,
) -> Mirror:
    """Start mirroring every run appended to ``log`` as spans, through ``exporter``.

    "Appended to ``log``": the runs this process runs on it; other processes appending to the
    same database mirror their own (or pass ``all_processes=True`` to a process that watches).

    Call it on the event loop the log is used from; close the mirror with
    ``await mirror.aclose()`` (it delivers what is queued first, waiting for the collector at most
    ``REWIND_OTEL_EXIT_TIMEOUT`` seconds, 1 by default). The runs are never slowed or failed by the
    mirror: see :attr:`Mirror.dropped_spans` for what did not reach the collector, and export
    those runs again later with :func:`rewind.telemetry.export_runs`.

    Args:
        log: The event log whose runs to mirror.
        exporter: An SDK span exporter; by default the OTLP exporter the ``OTEL_*`` variables
            describe (shut down with the mirror; one passed in is left open).
        content: What content goes on spans; by default what
            ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` says.
        max_queue: Most finished spans waiting for export; more are dropped and counted.
        batch_size: Most spans per export call.
        all_processes: Also mirror runs that other processes append to the same database (for
            a process that only watches); by default each process mirrors the runs it runs.

    Raises:
        TypeError: ``log`` is not an event log.
        RuntimeError: called with no running event loop.
        ValueError: ``REWIND_OTEL_EXIT_TIMEOUT`` or the OTLP protocol variable is not valid.
    """
    if not isinstance(log, EventLog):
        raise TypeError(
            f"attach_mirror needs an EventLog (from `await open_log(...)`), not "
            f"{type(log).__name__}"
        )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            "attach_mirror needs the running event loop the log is used from; call it in "
            "async code (e.g. right after `await open_log(...)`)"
        ) from None
    return Mirror(
        log,
        exporter or exporter_from_env(),
        owns_exporter=exporter is None,
        content=content or ContentPolicy.from_env(),
        max_queue=max_queue,
        batch_size=batch_size,
        all_processes=all_processes,
    )
