"""Hand finished spans to an exporter from a thread of its own, through a bounded queue.

The live mirror must never slow or fail a run, whatever the collector does: offering a span never
blocks (a full queue drops it and counts it), and the exporter, which may block for its whole
timeout against a stalled collector, only ever runs on the delivery thread. Spans an export fails
to deliver are counted too; a later post-hoc export of the run back-fills them.

Exit is bounded the same way: :meth:`Delivery.shutdown` waits at most its timeout (by default
``REWIND_OTEL_EXIT_TIMEOUT`` seconds, 1 s) for what is queued, then gives up on the rest, counting
it. The OTLP exporters retry with backoff for up to their own timeout (10 s by default), so
waiting for them would let a dead collector hold up every exiting process; the delivery thread is
a daemon thread and is left behind rather than waited for.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from rewind.telemetry.otlp import export_records
from rewind.telemetry.spans import SpanRecord

__all__ = ["DEFAULT_EXIT_TIMEOUT", "EXIT_TIMEOUT_VAR", "Delivery", "read_exit_timeout", "send"]

_log = logging.getLogger("rewind.telemetry")

EXIT_TIMEOUT_VAR = "REWIND_OTEL_EXIT_TIMEOUT"
"""The variable that sets how long closing the live mirror waits for the collector, in seconds."""
DEFAULT_EXIT_TIMEOUT = 1.0
"""Seconds closing the live mirror waits for the collector when the variable is unset."""
_EXIT_SHARE = 0.25
"""Most seconds at the end of the deadline not spent waiting for the collector: they are for
shutting the exporter down and for the rest of the process's exit (a quarter second, so the
whole exit keeps within the deadline on a busy machine too)."""


def read_exit_timeout() -> float:
    """Seconds to wait for the collector at exit: ``REWIND_OTEL_EXIT_TIMEOUT``, else 1.

    Raises:
        ValueError: the variable is set to something other than a number of seconds >= 0.
    """
    text = os.environ.get(EXIT_TIMEOUT_VAR, "").strip()
    if not text:
        return DEFAULT_EXIT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0 or seconds == float("inf"):  # also refuses nan
        raise ValueError(
            f"{EXIT_TIMEOUT_VAR}={text!r} is not a number of seconds; set it to one such as 1 "
            "or 0.5 (how long exit waits for the OTLP collector), or unset it"
        )
    return seconds


def send(exporter: SpanExporter, records: Sequence[SpanRecord], resource: Resource) -> bool:
    """Export ``records`` in one call; whether the exporter reports success (never raises).

    Rewind's own OTLP exporters take the records pre-encoded; any other gets SDK spans."""
    try:
        return export_records(exporter, records, resource) is SpanExportResult.SUCCESS
    except Exception:  # an exporter that raises is an exporter that failed
        _log.warning("span export raised; %d spans not delivered", len(records), exc_info=True)
        return False


class Delivery:
    """A bounded queue of finished spans, exported in batches by a daemon thread.

    Args:
        exporter: The SDK exporter spans go to.
        resource: The resource they are exported with.
        max_queue: Most spans waiting; more are dropped (and counted).
        batch_size: Most spans per export call.
        delay: Seconds a partial batch waits for more spans before it is sent.
        exit_timeout: Seconds :meth:`shutdown` waits by default; by default what
            ``REWIND_OTEL_EXIT_TIMEOUT`` says, else 1.

    Raises:
        ValueError: a size below 1, or a bad ``REWIND_OTEL_EXIT_TIMEOUT``.
    """

    def __init__(
        self,
        exporter: SpanExporter,
        resource: Resource,
        *,
        max_queue: int = 2048,
        batch_size: int = 512,
        delay: float = 0.2,
        exit_timeout: float | None = None,
    ) -> None:
        if max_queue < 1 or batch_size < 1:
            raise ValueError("max_queue and batch_size must be at least 1")
        self.exporter = exporter
        self.resource = resource
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.delay = delay
        self.exit_timeout = read_exit_timeout() if exit_timeout is None else exit_timeout
        """Seconds :meth:`shutdown` waits when given no timeout."""
        self.exported = 0
        """Spans the exporter accepted."""
        self.failed = 0
        """Spans whose export failed (collector down, slow or rejecting), or was still
        unanswered when :meth:`shutdown` gave up on it."""
        self.overflowed = 0
        """Spans never sent: the queue was full, or they were still queued at shutdown."""
        self.incomplete_runs: set[str] = set()
        """The runs some of whose spans are counted in :attr:`dropped`."""
        self._queue: deque[SpanRecord] = deque()
        self._cond = threading.Condition()
        self._sending: list[SpanRecord] = []  # taken from the queue, not yet reported on
        self._flushing = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._work, name="rewind-span-delivery", daemon=True)
        self._thread.start()

    @property
    def dropped(self) -> int:
        """Spans that did not reach the collector: queue overflow plus failed exports."""
        return self.overflowed + self.failed

    def offer(self, records: Sequence[SpanRecord]) -> None:
        """Queue spans for export; never blocks (what does not fit is dropped and counted)."""
        if not records:
            return
        with self._cond:
            was_empty = not self._queue
            room = 0 if self._stopping else max(self.max_queue - len(self._queue), 0)
            self._queue.extend(records[:room])
            if room < len(records):
                self.overflowed += len(records) - room
                self._note(records[room:])
            if was_empty or len(self._queue) >= self.batch_size:
                self._cond.notify_all()

    def flush(self, timeout: float) -> bool:
        """Block until every queued span is reported on (or ``timeout`` seconds pass)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._flushing += 1
            self._cond.notify_all()
            try:
                while self._queue or self._sending:
                    left = deadline - time.monotonic()
                    if left <= 0 or not self._thread.is_alive():
                        return False
                    self._cond.wait(left)
                return True
            finally:
                self._flushing -= 1

    def shutdown(self, timeout: float | None = None, *, close_exporter: bool = False) -> bool:
        """Deliver what is queued within ``timeout`` seconds, then stop, whatever the collector
        does; what was not delivered by then counts as dropped.

        The collector gets the timeout less a quarter second at most (the rest is left for
        what follows: the exporter's shutdown, the process's exit). The export in progress then
        is counted as failed and left to finish on the delivery thread, which the process does
        not wait for (an answer arriving later is not counted). ``close_exporter`` shuts the
        exporter down too, which stops its retries; it runs on a thread of its own, waited for
        briefly (the gRPC exporter closes at once; the HTTP one returns only when its request in
        progress does, which no share of a one-second deadline would cover).

        Args:
            timeout: Most seconds to wait, all included; by default :attr:`exit_timeout`.
            close_exporter: Shut the exporter down (the caller owns it).

        Returns:
            Whether every span was reported on (delivered or failed) before the deadline;
            ``False`` when it gave up on some.
        """
        timeout = self.exit_timeout if timeout is None else max(timeout, 0.0)
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._stopping:
                return True
        left_over = min(_EXIT_SHARE, timeout / 4)
        done = self.flush(timeout - left_over)
        with self._cond:
            self._stopping = True
            self.overflowed += len(self._queue)
            self._note(self._queue)
            self._queue.clear()
            if self._sending:  # in the exporter's hands, unanswered: given up on now
                self.failed += len(self._sending)
                self._note(self._sending)
                self._sending = []
            self._cond.notify_all()
        if close_exporter:
            _close(self.exporter, min(left_over / 2, max(deadline - time.monotonic(), 0.0)))
        if done:  # idle, so it ends at once (given up, it is in the exporter's hands)
            self._thread.join(timeout=max(deadline - time.monotonic(), 0.0))
        return done

    def _note(self, records: Iterable[SpanRecord]) -> None:
        self.incomplete_runs.update(r.run_id for r in records if r.run_id)

    def _work(self) -> None:
        while True:
            with self._cond:
                if not self._queue and not self._stopping:
                    self._cond.wait()  # woken by a full batch, a flush or stop
                if self._queue and len(self._queue) < self.batch_size and not self._flushing:
                    self._cond.wait(self.delay)  # let a partial batch fill a little
                if self._stopping and not self._queue:
                    return
                batch = [
                    self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))
                ]
                self._sending = batch
            ok = send(self.exporter, batch, self.resource) if batch else True
            with self._cond:
                if self._stopping:  # shutdown gave up on this batch and counted it
                    return
                if ok:
                    self.exported += len(batch)
                else:
                    self.failed += len(batch)
                    self._note(batch)
                self._sending = []
                self._cond.notify_all()


def _close(exporter: SpanExporter, timeout: float) -> None:
    """Shut ``exporter`` down, waiting at most ``timeout`` seconds for it to return.

    The OTLP exporters' ``shutdown`` interrupts a retry's backoff, but may itself wait (the HTTP
    one for its request in progress, up to the exporter's own timeout), so it runs on a daemon
    thread the process need not wait for.
    """

    def shut() -> None:
        try:
            exporter.shutdown()
        except Exception:  # closing is best effort: the spans are already counted
            _log.debug("span exporter shutdown raised", exc_info=True)

    closer = threading.Thread(target=shut, name="rewind-exporter-shutdown", daemon=True)
    closer.start()
    closer.join(timeout)
