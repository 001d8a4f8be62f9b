"""Sweeping a store's expired items every few minutes: on a background thread
(:class:`ThreadSweeper`, and :class:`ThreadSweeping`, the methods a sync store gets from it) or
in an asyncio task (:class:`TaskSweeping`, the methods of an async store)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable
from contextlib import suppress
from types import TracebackType
from typing import Any, Self

__all__ = ["TaskSweeping", "ThreadSweeper", "ThreadSweeping"]

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


class ThreadSweeping:
    """``start_ttl_sweeper`` and ``stop_ttl_sweeper`` of a sync store with a ``sweep_ttl``, on a
    :class:`ThreadSweeper` (stopped when the store goes)."""

    __slots__ = ()  # (a slotted store stays slotted)

    ttl_config: Any
    _sweeper: ThreadSweeper

    def sweep_ttl(self) -> int:
        """Delete the items whose TTL has run out; returns how many."""
        raise NotImplementedError

    def start_ttl_sweeper(
        self, sweep_interval_minutes: int | None = None
    ) -> concurrent.futures.Future[None]:
        """Sweep expired items every ``sweep_interval_minutes`` (or the config's
        ``sweep_interval_minutes``, or 5) on a background thread.

        Returns:
            A future that ends when the sweeper stops; cancel it to stop the sweeper. Without a
            TTL config nothing starts and the future is already done.
        """
        return self._sweeper.start_for(self.ttl_config, self.sweep_ttl, sweep_interval_minutes)

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper thread; whether it stopped within ``timeout`` seconds (``True`` if
        it was not running)."""
        return self._sweeper.stop(timeout)

    def __del__(self) -> None:
        sweeper = getattr(self, "_sweeper", None)
        if sweeper is not None:
            sweeper.stop(timeout=0.1)


class TaskSweeping:
    """``start_ttl_sweeper`` and ``stop_ttl_sweeper`` of an async store with a ``sweep_ttl``, in
    a task of the running loop; leaving the store's ``async with`` stops it."""

    ttl_config: Any
    _ttl_sweeper_task: asyncio.Task[None] | None = None
    _ttl_stop_event: asyncio.Event | None = None

    def sweep_ttl(self) -> Awaitable[int]:
        """Delete the items whose TTL has run out; returns how many."""
        raise NotImplementedError

    async def start_ttl_sweeper(
        self, sweep_interval_minutes: int | None = None
    ) -> asyncio.Task[None]:
        """Sweep expired items every ``sweep_interval_minutes`` (or the config's
        ``sweep_interval_minutes``, or 5) in a task.

        Returns:
            The task (cancel it, or call :meth:`stop_ttl_sweeper`, to stop). Without a TTL
            config it does nothing.
        """
        if not self.ttl_config:
            return asyncio.create_task(asyncio.sleep(0))
        if self._ttl_sweeper_task is not None and not self._ttl_sweeper_task.done():
            return self._ttl_sweeper_task
        stop = self._ttl_stop_event = asyncio.Event()
        minutes = float(
            sweep_interval_minutes or self.ttl_config.get("sweep_interval_minutes") or 5
        )

        async def loop() -> None:
            while not stop.is_set():
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=minutes * 60)
                    break
                try:
                    swept = await self.sweep_ttl()
                except asyncio.CancelledError:
                    break
                except Exception:
                    logger.exception("Store TTL sweep iteration failed")
                else:
                    if swept:
                        logger.info("Store swept %d expired items", swept)

        task = asyncio.create_task(loop(), name="ttl_sweeper")
        self._ttl_sweeper_task = task
        return task

    async def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Stop the sweeper task; whether it stopped within ``timeout`` seconds (``True`` if it
        was not running)."""
        task = self._ttl_sweeper_task
        if task is None or task.done():
            return True
        if self._ttl_stop_event is not None:
            self._ttl_stop_event.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=timeout)
        except TimeoutError:
            logger.warning("Timed out waiting for TTL sweeper task to stop")
            return False
        self._ttl_sweeper_task = None
        return True

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        if self._ttl_sweeper_task is not None and self._ttl_stop_event is not None:
            self._ttl_stop_event.set()
