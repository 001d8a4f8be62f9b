"""Hand finished spans to an exporter from a thread of its own, through a bounded queue.

The live mirror must never slow or fail a run, whatever the collector does: offering a span never
blocks (a full queue drops it and counts it), and the exporter, which may block for its whole
timeout against a stalled collector, only ever runs on the delivery thread. Spans an export fails
to deliver are counted too; a later post-hoc export of the run back-fills them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from rewind.telemetry.otel import to_readables
from rewind.telemetry.spans import SpanRecord

__all__ = ["Delivery", "send"]

_log = logging.getLogger("rewind.telemetry")


def send(exporter: SpanExporter, records: Sequence[SpanRecord], resource: Resource) -> bool:
    """Export ``records`` in one call; whether the exporter reports success (never raises)."""
    try:
        return exporter.export(to_readables(records, resource)) is SpanExportResult.SUCCESS
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
    """

    def __init__(
        self,
        exporter: SpanExporter,
        resource: Resource,
        *,
        max_queue: int = 2048,
        batch_size: int = 512,
        delay: float = 0.2,
    ) -> None:
        if max_queue < 1 or batch_size < 1:
            raise ValueError("max_queue and batch_size must be at least 1")
        self.exporter = exporter
        self.resource = resource
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.delay = delay
        self.exported = 0
        """Spans the exporter accepted."""
        self.failed = 0
        """Spans whose export failed (collector down, slow or rejecting)."""
        self.overflowed = 0
        """Spans dropped because the queue was full."""
        self._queue: deque[SpanRecord] = deque()
        self._cond = threading.Condition()
        self._busy = 0  # spans taken from the queue and not yet reported on
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
            self.overflowed += max(len(records) - room, 0)
            if was_empty or len(self._queue) >= self.batch_size:
                self._cond.notify_all()

    def flush(self, timeout: float) -> bool:
        """Block until every queued span is reported on (or ``timeout`` seconds pass)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._flushing += 1
            self._cond.notify_all()
            try:
                while self._queue or self._busy:
                    left = deadline - time.monotonic()
                    if left <= 0 or not self._thread.is_alive():
                        return False
                    self._cond.wait(left)
                return True
            finally:
                self._flushing -= 1

    def shutdown(self, timeout: float) -> None:
        """Flush, then stop the thread; what is still queued after ``timeout`` is dropped."""
        self.flush(timeout)
        with self._cond:
            self._stopping = True
            self.overflowed += len(self._queue)
            self._queue.clear()
            self._cond.notify_all()
        self._thread.join(timeout=max(timeout, 0.1))

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
                self._busy = len(batch)
            ok = send(self.exporter, batch, self.resource) if batch else True
            with self._cond:
                if ok:
                    self.exported += len(batch)
                else:
                    self.failed += len(batch)
                self._busy = 0
                self._cond.notify_all()
