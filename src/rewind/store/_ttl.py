"""A background thread that sweeps a store's expired items every few minutes."""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["ThreadSweeper"]

logger = logging.getLogger("rewind.store")


class ThreadSweeper:
    """Runs ``sweep`` every ``interval`` minutes on a daemon thread until stopped."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start_for(
        self, ttl_config: Any, sweep: Callable[[], int], minutes: int | None
    ) -> concurrent.futures.Future[None]:
        """A store's ``start_ttl_sweeper``: sweep every ``minutes`` (or the config's
        ``sweep_interval_minutes``, or 5); without a TTL config nothing starts and the future
        is already done."""
        if not ttl_config:
            done: concurrent.futures.Future[None] = concurrent.futures.Future()
            done.set_result(None)
            return done
        every = float(minutes or ttl_config.get("sweep_interval_minutes") or 5)
        return self.start(sweep, every)

    def start(self, sweep: Callable[[], int], minutes: float) -> concurrent.futures.Future[None]:
        """Start sweeping (if not already); the future ends when the sweeper stops, and
        cancelling it stops the sweeper."""
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        future.add_done_callback(lambda f: self._stop.set() if f.cancelled() else None)
        if self._thread is not None and self._thread.is_alive():
            logger.info("TTL sweeper thread is already running")
            return future
        self._stop.clear()
        stop = self._stop

        def loop() -> None:
            try:
                while not stop.wait(minutes * 60):
                    try:
                        swept = sweep()
                    except Exception:
                        logger.exception("Store TTL sweep iteration failed")
                    else:
                        if swept:
                            logger.info("Store swept %d expired items", swept)
                if not future.done():
                    future.set_result(None)
            except BaseException as exc:  # pragma: no cover - the loop itself does not fail
                if not future.done():
                    future.set_exception(exc)

        self._thread = threading.Thread(target=loop, daemon=True, name="ttl-sweeper")
        self._thread.start()
        return future

    def stop(self, timeout: float | None = None) -> bool:
        """Stop the sweeper; whether it stopped within ``timeout`` seconds (or was not
        running)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return True
        self._stop.set()
        thread.join(timeout)
        if thread.is_alive():
            logger.warning("Timed out waiting for TTL sweeper thread to stop")
            return False
        self._thread = None
        return True
